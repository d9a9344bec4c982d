#pragma once
#include "l1/policy.h"

namespace tier::l1::detail {

// Least recently used, exactly: every hit relinks the entry at the head (eager),
// so a hit touches its list neighbours too. Kept for comparison with TinyLFU.
class LruPolicy final : public EvictionPolicy {
 public:
  LruPolicy() : EvictionPolicy(/*eagerAccess=*/true) {}
  void setSlab(const Slab* slab) override { list_.setSlab(slab); }
  void setCapacity(std::size_t) override {}
  void onInsert(Entry* e, std::uint64_t) override { list_.pushFront(e); }
  void onUpdate(Entry* e) override { list_.moveToFront(e); }
  void onAccess(Entry* e) override { list_.moveToFront(e); }
  void onErase(Entry* e) override { list_.unlink(e); }
  Entry* victim() override { return list_.tail(); }
  Entry* coldest() const override { return list_.tail(); }

 private:
  EntryList list_;
};

}  // namespace tier::l1::detail
