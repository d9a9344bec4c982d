#pragma once
// The eviction-policy seam of L1. One instance per shard, always called with the
// shard's lock held, so implementations need no synchronisation of their own.
//
// Contract: every entry the shard holds has had onInsert() and, when it leaves
// (eviction, expiry, erase, clear), onErase() before it is freed. A hit calls
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

class EvictionPolicy {
 public:
  explicit EvictionPolicy(bool eagerAccess) : eager_(eagerAccess) {}
  virtual ~EvictionPolicy() = default;
  EvictionPolicy(const EvictionPolicy&) = delete;
  EvictionPolicy& operator=(const EvictionPolicy&) = delete;

  // The slab the shard builds its entries in (list links are its handles). Called once, before any entry.
  virtual void setSlab(const Slab* slab) = 0;
  // The shard's bound in entries; 0 = bounded by bytes only (the policy sizes
  // its segments from what it holds). Called once, before any entry.
  virtual void setCapacity(std::size_t entries) = 0;
  // hash == keyHash(e->key()).
  virtual void onInsert(Entry* e, std::uint64_t hash) = 0;
  // A put that replaced e's value.
  virtual void onUpdate(Entry* e) = 0;
  // A put of a held key: entries are immutable once readers can see them, so the
  // shard publishes `fresh` in old's place and frees old later. Default: old leaves,
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
  // An entry at the cold end, for opportunistic expiry cleanup; no side effects.
  virtual Entry* coldest() const = 0;

  bool eagerAccess() const noexcept { return eager_; }

 private:
  const bool eager_;
};

// REQUIRES: isKnownPolicy(name); otherwise throws BadInputError.
std::unique_ptr<EvictionPolicy> makePolicy(std::string_view name);
bool isKnownPolicy(std::string_view name) noexcept;

// An intrusive doubly linked list through Entry::prev/next, most recent at the
// head. The links are slab handles (4 bytes each instead of 8), so the list needs
// its shard's slab to follow and make them (setSlab before the first entry).
class EntryList {
 public:
  void setSlab(const Slab* slab) noexcept { slab_ = slab; }
  Entry* head() const noexcept { return head_; }
  Entry* tail() const noexcept { return tail_; }
  std::size_t size() const noexcept { return size_; }
  Entry* prevOf(const Entry* e) const noexcept { return entryAt(e->prev); }
  Entry* nextOf(const Entry* e) const noexcept { return entryAt(e->next); }
  void pushFront(Entry* e) noexcept {
    const Handle h = slab_->handleOf(e);
    e->prev = 0;
    e->next = head_ ? head_h_ : 0;
    if (head_) head_->prev = h; else tail_ = e;
    head_ = e;
    head_h_ = h;
    ++size_;
  }
  void unlink(Entry* e) noexcept {
    Entry* p = entryAt(e->prev);
    Entry* n = entryAt(e->next);
    if (p) p->next = e->next; else { head_ = n; head_h_ = e->next; }
    if (n) n->prev = e->prev; else tail_ = p;
    e->prev = e->next = 0;
    --size_;
  }
  // fresh takes old's place in the list; old leaves it.
  void replace(Entry* old, Entry* fresh) noexcept {
    const Handle h = slab_->handleOf(fresh);
    fresh->prev = old->prev;
    fresh->next = old->next;
    if (Entry* p = entryAt(fresh->prev)) p->next = h; else { head_ = fresh; head_h_ = h; }
    if (Entry* n = entryAt(fresh->next)) n->prev = h; else tail_ = fresh;
    old->prev = old->next = 0;
  }
  void moveToFront(Entry* e) noexcept {
    if (head_ == e) return;
    unlink(e);
    pushFront(e);
  }

 private:
  Entry* entryAt(Handle h) const noexcept { return h ? static_cast<Entry*>(slab_->at(h)) : nullptr; }

  const Slab* slab_ = nullptr;
  Entry* head_ = nullptr;
  Entry* tail_ = nullptr;
  Handle head_h_ = 0;  // head_'s handle
  std::size_t size_ = 0;
};

}  // namespace tier::l1::detail
