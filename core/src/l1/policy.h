#pragma once
// The eviction-policy seam of L1. One instance per shard, always called with the
// shard's lock held, so implementations need no synchronisation of their own.
//
// Contract: every entry the shard holds has had onInsert() and, when it leaves
// (eviction, expiry, erase, clear), onErase() before it is freed. victim() names
// the entry the shard should remove next to respect its bounds; it may name the
// entry just inserted (an admission policy rejecting it) and returns nullptr only
// when the shard is empty.
#include <memory>
#include <string_view>

#include "l1/entry.h"

namespace tier::l1::detail {

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  virtual void onInsert(Entry* e) = 0;
  // A hit, or a put that replaced e's value.
  virtual void onAccess(Entry* e) = 0;
  virtual void onErase(Entry* e) = 0;
  virtual Entry* victim() = 0;
};

// REQUIRES: isKnownPolicy(name); otherwise throws BadInputError.
std::unique_ptr<EvictionPolicy> makePolicy(std::string_view name);
bool isKnownPolicy(std::string_view name) noexcept;

}  // namespace tier::l1::detail
