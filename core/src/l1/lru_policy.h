#pragma once
#include <unordered_map>

#include "l1/policy.h"

namespace tier::l1::detail {

// Least recently used, exactly: every hit relinks the entry at the head (eager),
// so a hit takes the shard's lock. Kept for comparison with TinyLFU. An entry has
// one queue link only (entry.h), so exact LRU keeps its doubly linked list in a
// map of its own (entry -> neighbours): more memory per entry than TinyLFU's
// queues, which the byte budget is not built on. An erased entry is released at once.
class LruPolicy final : public EvictionPolicy {
 public:
  LruPolicy() : EvictionPolicy(/*eagerAccess=*/true) {}
  void setSlab(const Slab*, EntryReleaser* releaser) override { releaser_ = releaser; }
  void setCapacity(std::size_t) override {}
  void onInsert(Entry* e, std::uint64_t) override {
    links_.try_emplace(e);  // may throw: before anything changed
    pushFront(e);
  }
  void onUpdate(Entry* e) override { moveToFront(e); }
  // fresh takes old's place, reusing old's map node (no allocation, so no throw).
  void onReplace(Entry* old, Entry* fresh, std::uint64_t) override {
    auto node = links_.extract(old);
    const Links l = node.mapped();
    node.key() = fresh;
    links_.insert(std::move(node));
    if (l.prev) links_.at(l.prev).next = fresh; else head_ = fresh;
    if (l.next) links_.at(l.next).prev = fresh; else tail_ = fresh;
    moveToFront(fresh);
    releaser_->release(old);
  }
  void onAccess(Entry* e) override { moveToFront(e); }
  void onErase(Entry* e) override {
    unlink(e);
    links_.erase(e);
    releaser_->release(e);
  }
  Entry* victim() override { return tail_; }
  Entry* coldest() override { return tail_; }
  void releaseErased() noexcept override {}

 private:
  struct Links {
    Entry* prev = nullptr;
    Entry* next = nullptr;
  };
  void pushFront(Entry* e) {
    Links& l = links_.at(e);
    l.prev = nullptr;
    l.next = head_;
    if (head_) links_.at(head_).prev = e; else tail_ = e;
    head_ = e;
  }
  void unlink(Entry* e) {
    Links& l = links_.at(e);
    if (l.prev) links_.at(l.prev).next = l.next; else head_ = l.next;
    if (l.next) links_.at(l.next).prev = l.prev; else tail_ = l.prev;
    l.prev = l.next = nullptr;
  }
  void moveToFront(Entry* e) {
    if (head_ == e) return;
    unlink(e);
    pushFront(e);
  }

  EntryReleaser* releaser_ = nullptr;
  std::unordered_map<const Entry*, Links> links_;
  Entry* head_ = nullptr;
  Entry* tail_ = nullptr;
};

}  // namespace tier::l1::detail
