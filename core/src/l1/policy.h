#pragma once
// The eviction-policy seam of L1. One instance per shard, always called with the
// shard's lock held, so implementations need no synchronisation of their own.
//
// Contract: every entry the shard holds has had onInsert() and, when it leaves
// (eviction, expiry, erase, clear), onErase() before it is freed. A hit calls
// Entry::touch() only (a bit in a cache line the lookup already loaded), plus
// onAccess() if eagerAccess(); lazy policies fold the pending hits into recency
// and frequency when the entry reaches the end of one of their lists. victim()
// names the entry the shard should remove next to respect its bounds; it may
// name a recently inserted entry (an admission policy rejecting it) and returns
// nullptr only when the shard is empty.
#include <absl/hash/hash.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "l1/entry.h"

namespace tier::l1::detail {

// The one hash of a key: the shard, the map and the policies all use it.
inline std::uint64_t keyHash(std::string_view key) noexcept { return absl::Hash<std::string_view>{}(key); }

class EvictionPolicy {
 public:
  explicit EvictionPolicy(bool eagerAccess) : eager_(eagerAccess) {}
  virtual ~EvictionPolicy() = default;
  EvictionPolicy(const EvictionPolicy&) = delete;
  EvictionPolicy& operator=(const EvictionPolicy&) = delete;

  // The shard's bound in entries; 0 = bounded by bytes only (the policy sizes
  // its segments from what it holds). Called once, before any entry.
  virtual void setCapacity(std::size_t entries) = 0;
  // hash == keyHash(e->key()).
  virtual void onInsert(Entry* e, std::uint64_t hash) = 0;
  // A put that replaced e's value.
  virtual void onUpdate(Entry* e) = 0;
  // A hit; called only if eagerAccess() (after Entry::touch()).
  virtual void onAccess(Entry* e) = 0;
  virtual void onErase(Entry* e) = 0;
  virtual Entry* victim() = 0;
  // An entry at the cold end, for opportunistic expiry cleanup; no side effects.
  virtual Entry* coldest() const = 0;

  bool eagerAccess() const noexcept { return eager_; }

 private:
  const bool eager_;
};

// REQUIRES: isKnownPolicy(name); otherwise throws BadInputError.
std::unique_ptr<EvictionPolicy> makePolicy(std::string_view name);
bool isKnownPolicy(std::string_view name) noexcept;

// An intrusive doubly linked list through Entry::prev/next, most recent at the head.
class EntryList {
 public:
  Entry* head() const noexcept { return head_; }
  Entry* tail() const noexcept { return tail_; }
  std::size_t size() const noexcept { return size_; }
  void pushFront(Entry* e) noexcept {
    e->prev = nullptr;
    e->next = head_;
    if (head_) head_->prev = e;
    head_ = e;
    if (!tail_) tail_ = e;
    ++size_;
  }
  void unlink(Entry* e) noexcept {
    if (e->prev) e->prev->next = e->next; else head_ = e->next;
    if (e->next) e->next->prev = e->prev; else tail_ = e->prev;
    e->prev = e->next = nullptr;
    --size_;
  }
  void moveToFront(Entry* e) noexcept {
    if (head_ == e) return;
    unlink(e);
    pushFront(e);
  }

 private:
  Entry* head_ = nullptr;
  Entry* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tier::l1::detail
