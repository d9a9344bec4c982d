#pragma once
#include <cstdint>

#include "l1/frequency_sketch.h"
#include "l1/policy.h"

namespace tier::l1::detail {

// W-TinyLFU (Einziger, Friedman, Manes 2017; as Caffeine does it): a small LRU
// window (1 % of capacity) in front of a segmented LRU main space (80 % protected,
// the rest probation). An entry leaving the window competes with probation's LRU
// end; the one TinyLFU's frequency sketch deems more popular stays. So a burst of
// one-hit keys (a scan) passes through the window without flushing the hot set,
// and recency still wins within the window.
//
// Hits are lazy (eagerAccess() is false): Entry::touch() counts them in the entry,
// and the policy applies them — move to the head, promote probation to protected,
// add to the sketch — when the entry reaches the LRU end of its list. Each list
// thus behaves as a CLOCK (second chance) over LRU insertion order, which keeps
// the hit path free of list relinks and sketch writes.
class TinyLfuPolicy final : public EvictionPolicy {
 public:
  TinyLfuPolicy() : EvictionPolicy(/*eagerAccess=*/false) {}
  void setCapacity(std::size_t entries) override;
  void onInsert(Entry* e, std::uint64_t hash) override;
  void onUpdate(Entry* e) override { e->touch(); }
  void onAccess(Entry*) override {}
  void onErase(Entry* e) override;
  Entry* victim() override;
  Entry* coldest() const override {
    return lists_[kProbation].tail() ? lists_[kProbation].tail() : lists_[kWindow].tail();
  }

  // For tests: the sketch's estimate of a key's popularity, and its halvings.
  unsigned frequency(std::string_view key) const noexcept { return sketch_.frequency(keyHash(key)); }
  const FrequencySketch& sketch() const noexcept { return sketch_; }
  std::size_t windowSize() const noexcept { return lists_[kWindow].size(); }
  std::size_t protectedSize() const noexcept { return lists_[kProtected].size(); }

 private:
  enum Segment : unsigned { kWindow = 0, kProbation = 1, kProtected = 2 };

  std::size_t total() const noexcept { return lists_[0].size() + lists_[1].size() + lists_[2].size(); }
  std::size_t capacityNow() const noexcept;
  std::size_t windowMax() const noexcept;
  std::size_t protectedMax() const noexcept;
  void flushHits(Entry* e) noexcept;
  void move(Entry* e, Segment to) noexcept;
  Entry* probationVictim() noexcept;
  bool admit(unsigned candidateFreq, unsigned victimFreq) noexcept;

  EntryList lists_[3];
  FrequencySketch sketch_;
  std::size_t capacity_ = 0;      // 0 = sized from what the shard holds
  Entry* candidate_ = nullptr;    // last entry moved from the window to probation, not yet judged
  std::uint64_t rng_ = 0x9e3779b97f4a7c15ull;
};

}  // namespace tier::l1::detail
