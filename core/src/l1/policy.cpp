#include "l1/policy.h"

#include <string>

#include "l1/lru_policy.h"
#include "l1/tinylfu_policy.h"
#include "tier/common/error.h"

namespace tier::l1::detail {

std::unique_ptr<EvictionPolicy> makePolicy(std::string_view name) {
  if (name == "tinylfu" || name == "wtinylfu") return std::make_unique<TinyLfuPolicy>();
  if (name == "lru") return std::make_unique<LruPolicy>();
  throw BadInputError("unknown L1 eviction policy '" + std::string(name.substr(0, 64)) + "' (known: tinylfu, lru)");
}

bool isKnownPolicy(std::string_view name) noexcept { return name == "tinylfu" || name == "wtinylfu" || name == "lru"; }

}  // namespace tier::l1::detail
