#include "test_paths.h"

#include <cstdlib>

namespace tier::test {
std::string binaryDir() {
  if (const char* d = std::getenv("TIER_TEST_BINARY_DIR"); d && *d) return d;
  return TIER_BINARY_DIR;
}
std::string tierctlPath() { return binaryDir() + "/app/tierctl"; }
}  // namespace tier::test
