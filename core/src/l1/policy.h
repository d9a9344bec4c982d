#pragma once
// The eviction-policy seam of L1. One instance per shard, always called with the
// shard's lock held, so implementations need no synchronisation of their own.
//
// Contract: every entry the shard holds has had onInsert() and, when it leaves
// (eviction, expiry, erase, clear), onErase(), after the shard unpublished it. The
// policy may still link an erased entry: it hands it back through the shard's
// EntryReleaser once it no longer does (at once, or when its queue reaches it), and
// only then may the shard free it (after the readers' grace period). A hit calls
// Entry::touch() only, without the shard's lock (a lossy count in a cache line the
// lookup already loaded), or, if eagerAccess(), takes the lock and calls
// onAccess() too; lazy policies fold the pending hits into recency
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
#include "l1/slab.h"

namespace tier::l1::detail {

// The one hash of a key: the shard, the map and the policies all use it.
inline std::uint64_t keyHash(std::string_view key) noexcept { return absl::Hash<std::string_view>{}(key); }

// The shard's side of releasing: takes an erased entry the policy no longer links.
class EntryReleaser {
 public:
  virtual void release(Entry* e) noexcept = 0;

 protected:
  ~EntryReleaser() = default;
};

class EvictionPolicy {
 public:
  explicit EvictionPolicy(bool eagerAccess) : eager_(eagerAccess) {}
  virtual ~EvictionPolicy() = default;
  EvictionPolicy(const EvictionPolicy&) = delete;
  EvictionPolicy& operator=(const EvictionPolicy&) = delete;

  // The slab the shard builds its entries in (queue links are its handles) and where
  // erased entries go once unlinked. Called once, before any entry.
  virtual void setSlab(const Slab* slab, EntryReleaser* releaser) = 0;
  // The shard's bound in entries; 0 = bounded by bytes only (the policy sizes
  // its segments from what it holds). Called once, before any entry.
  virtual void setCapacity(std::size_t entries) = 0;
  // hash == keyHash(e->key()).
  virtual void onInsert(Entry* e, std::uint64_t hash) = 0;
  // A put that replaced e's value.
  virtual void onUpdate(Entry* e) = 0;
  // A put of a held key: entries are immutable once readers can see them, so the
  // shard publishes `fresh` in old's place; old is erased (and released as onErase's
  // are). Default: old leaves,
  // fresh arrives and counts as updated (a policy may override to keep old's place).
  virtual void onReplace(Entry* old, Entry* fresh, std::uint64_t hash) {
    onErase(old);
    onInsert(fresh, hash);
    onUpdate(fresh);
  }
  // A hit; called only if eagerAccess() (after Entry::touch()).
  virtual void onAccess(Entry* e) = 0;
  virtual void onErase(Entry* e) = 0;
  // The shard's cumulative hit and miss totals, now and then (every few dozen puts):
  // hits are lazy, so this is how a policy learns its hit rate (W-TinyLFU's window climber).
  virtual void onCounts(std::uint64_t /*hits*/, std::uint64_t /*misses*/) {}
  virtual Entry* victim() = 0;
  // An entry at the cold end, for opportunistic expiry cleanup; changes no order
  // (it may release erased entries it passes).
  virtual Entry* coldest() = 0;
  // Releases every erased entry it still links (the shard's teardown, a byte bound).
  virtual void releaseErased() noexcept = 0;
  // Bulk removal (clear, a prefix, a predicate over the whole shard): while held,
  // erasing sweeps nothing; releasing the hold sweeps once. Removing most of a queue
  // one sweep at a time would visit it about five times.
  virtual void holdSweeps(bool hold) noexcept { if (!hold) releaseErased(); }

  bool eagerAccess() const noexcept { return eager_; }

 private:
  const bool eager_;
};

// REQUIRES: isKnownPolicy(name); otherwise throws BadInputError.
std::unique_ptr<EvictionPolicy> makePolicy(std::string_view name);
bool isKnownPolicy(std::string_view name) noexcept;

// An intrusive FIFO queue through Entry::next, oldest at the front. The link is a
// slab handle (4 bytes instead of 8), and there is one link, not two: an entry is
// only ever taken from the front or appended at the back. Removing one from the
// middle (erase, expiry, a replaced or rejected entry) marks it (segment
// kRemovedSegment) and leaves it linked: the front skips and releases marked
// entries, and once there are more than 32 and more than a quarter of the live
// ones, one pass over the queue unlinks and releases them all, so removal stays
// O(1) amortised and a queue holds at most max(32, live / 4) marked entries
// (the shard also has the policy sweep when their values pass a byte bound:
// L1Cache's reclaim, releaseErased).
class EntryQueue {
 public:
  static constexpr unsigned kRemovedSegment = 3;

  void setSlab(const Slab* slab, EntryReleaser* releaser) noexcept {
    slab_ = slab;
    releaser_ = releaser;
  }
  // Live entries (marked ones not counted).
  std::size_t size() const noexcept { return size_; }
  std::size_t removed() const noexcept { return removed_; }

  // The oldest live entry, or nullptr; releases the marked entries ahead of it.
  Entry* front() noexcept {
    while (head_ && head_->segment() == kRemovedSegment) {
      Entry* e = unlinkFront();
      --removed_;
      releaser_->release(e);
    }
    return head_;
  }
  void pushBack(Entry* e) noexcept {
    const Handle h = slab_->handleOf(e);
    e->next = 0;
    if (tail_) tail_->next = h; else head_ = e;
    tail_ = e;
    ++size_;
  }
  // Takes the oldest live entry off the queue (nullptr if none).
  Entry* popFront() noexcept {
    if (!front()) return nullptr;
    --size_;
    return unlinkFront();
  }
  // e (live, on this queue) leaves it: marked now, released later (see the class comment).
  void remove(Entry* e) noexcept {
    e->setSegment(kRemovedSegment);
    --size_;
    ++removed_;
    if (!held_ && removed_ > kSweepAfter && removed_ > size_ / 4) sweep();
  }
  // While held, remove() does not sweep (EvictionPolicy::holdSweeps).
  void holdSweeps(bool hold) noexcept { held_ = hold; }
  // Unlinks and releases every marked entry (one pass; none if there is none).
  void sweep() noexcept {
    if (removed_ == 0) return;
    Entry* prev = nullptr;
    Entry* cur = head_;
    while (cur) {
      Entry* after = entryAt(cur->next);
      if (cur->segment() == kRemovedSegment) {
        if (prev) prev->next = cur->next; else head_ = after;
        if (cur == tail_) tail_ = prev;
        cur->next = 0;
        releaser_->release(cur);
      } else {
        prev = cur;
      }
      cur = after;
    }
    removed_ = 0;
  }

 private:
  static constexpr std::size_t kSweepAfter = 32;

  Entry* unlinkFront() noexcept {
    Entry* e = head_;
    head_ = entryAt(e->next);
    if (!head_) tail_ = nullptr;
    e->next = 0;
    return e;
  }
  Entry* entryAt(Handle h) const noexcept { return h ? static_cast<Entry*>(slab_->at(h)) : nullptr; }

  const Slab* slab_ = nullptr;
  EntryReleaser* releaser_ = nullptr;
  Entry* head_ = nullptr;  // oldest
  Entry* tail_ = nullptr;  // newest
  std::size_t size_ = 0;
  std::size_t removed_ = 0;
  bool held_ = false;
};

}  // namespace tier::l1::detail
