#pragma once
#include "l1/policy.h"

namespace tier::l1::detail {

// Least recently used: an intrusive doubly linked list through Entry::prev/next,
// most recent at the head. Every operation is O(1) and allocation-free.
class LruPolicy final : public EvictionPolicy {
 public:
  void onInsert(Entry* e) override { pushFront(e); }
  void onAccess(Entry* e) override {
    if (head_ == e) return;
    unlink(e);
    pushFront(e);
  }
  void onErase(Entry* e) override { unlink(e); }
  Entry* victim() override { return tail_; }

 private:
  void pushFront(Entry* e) {
    e->prev = nullptr;
    e->next = head_;
    if (head_) head_->prev = e;
    head_ = e;
    if (!tail_) tail_ = e;
  }
  void unlink(Entry* e) {
    if (e->prev) e->prev->next = e->next; else head_ = e->next;
    if (e->next) e->next->prev = e->prev; else tail_ = e->prev;
    e->prev = e->next = nullptr;
  }

  Entry* head_ = nullptr;
  Entry* tail_ = nullptr;
};

}  // namespace tier::l1::detail
