#pragma once
// The mutable tiers of a TierCore, for the few that must touch a tier below
// the cache's ordering rules: tests (white-box checks, planting bad values,
// emptying L1), the benchmark harness (on servers it starts itself) and the
// capability probe (commands built so that they cannot change data).
// Nothing an operator runs — no operation, no console view, no tierctl
// command — may use this: changes go through TierCore::cache().
#include "tier/core.h"

namespace tier::internal {

struct TierAccess {
  static l1::L1Cache& l1(TierCore& core) noexcept;
  static redis::RedisClient* redis(TierCore& core) noexcept;  // null without Redis
};

}  // namespace tier::internal
