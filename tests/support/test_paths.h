#pragma once
#include <string>

namespace tier::test {
// The build tree (where tierctl lives), from TIER_TEST_BINARY_DIR or the compile-time default.
std::string binaryDir();
std::string tierctlPath();
}  // namespace tier::test
