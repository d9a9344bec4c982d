#pragma once
#include <cstdint>

#include "l1/frequency_sketch.h"
#include "l1/policy.h"

namespace tier::l1::detail {

// W-TinyLFU (Einziger, Friedman, Manes 2017; as Caffeine does it): an LRU window
// in front of a segmented LRU main space (80 % protected, the rest probation). An
// entry leaving the window competes with probation's LRU end; the one TinyLFU's
// frequency sketch deems more popular stays. So a burst of
// one-hit keys (a scan) passes through the window without flushing the hot set,
// and recency still wins within the window.
//
// Hits are lazy (eagerAccess() is false): Entry::touch() counts them in the entry,
// and the policy applies them — back to the MRU end, promote probation to protected,
// add to the sketch — when the entry reaches the LRU end (the front) of its queue.
// Each queue thus behaves as a CLOCK (second chance) over insertion order, which
// keeps the hit path free of list relinks and sketch writes, and lets the queues
// be singly linked (EntryQueue: entries only leave at the front; a removal from
// the middle is a mark, released when the front or a sweep reaches it). A new
// value for a held key goes to the MRU end of the old one's segment.
//
// The window's share adapts by hill climbing (Caffeine's climber): the shard reports
// its hit and miss totals (onCounts); once the cache is full and the sketch has aged
// once, every sample of one sketch aging period (64 x capacity requests) the share
// moves by a step (3 %), kept in the same direction while the hit rate does not fall
// and reversed when it does; the step decays by 2 % a sample and is reset to full
// size when the hit rate jumps by 5 points (the workload changed). The share starts
// at 1 % and stays within [0, 80 %] (at least one entry). Recency-biased traffic
// grows the window, frequency-biased traffic shrinks it.
class TinyLfuPolicy final : public EvictionPolicy {
 public:
  TinyLfuPolicy();
  void setSlab(const Slab* slab, EntryReleaser* releaser) override {
    for (auto& l : lists_) l.setSlab(slab, releaser);
  }
  void setCapacity(std::size_t entries) override;
  void onInsert(Entry* e, std::uint64_t hash) override;
  void onUpdate(Entry* e) override { e->touch(); }
  // A new value for a held key keeps the key's segment (at its MRU end) and counts
  // as one use, as an in-place update did before entries became immutable.
  void onReplace(Entry* old, Entry* fresh, std::uint64_t hash) override;
  void onAccess(Entry*) override {}
  void onErase(Entry* e) override;
  void onCounts(std::uint64_t hits, std::uint64_t misses) override;
  Entry* victim() override;
  Entry* coldest() override {
    Entry* e = lists_[kProbation].front();
    return e ? e : lists_[kWindow].front();
  }
  void releaseErased() noexcept override {
    for (auto& l : lists_) l.sweep();
  }
  void holdSweeps(bool hold) noexcept override {
    for (auto& l : lists_) l.holdSweeps(hold);
    if (!hold) releaseErased();
  }

  // For tests: the sketch's estimate of a key's popularity, and its halvings.
  unsigned frequency(std::string_view key) const noexcept { return sketch_.frequency(keyHash(key)); }
  const FrequencySketch& sketch() const noexcept { return sketch_; }
  std::size_t windowSize() const noexcept { return lists_[kWindow].size(); }
  std::size_t probationSize() const noexcept { return lists_[kProbation].size(); }
  std::size_t protectedSize() const noexcept { return lists_[kProtected].size(); }
  // Erased entries still linked (not yet released), over the three queues.
  std::size_t erasedLinked() const noexcept { return lists_[0].removed() + lists_[1].removed() + lists_[2].removed(); }
  // The window's target share of the capacity (0..kMaxWindowShare) and its bound in entries.
  double windowShare() const noexcept { return share_; }
  std::size_t windowMax() const noexcept;
  std::uint64_t climbSamples() const noexcept { return samples_; }

  static constexpr double kInitialWindowShare = 0.01;
  static constexpr double kMaxWindowShare = 0.80;

 private:
  enum Segment : unsigned { kWindow = 0, kProbation = 1, kProtected = 2 };

  std::size_t total() const noexcept { return lists_[0].size() + lists_[1].size() + lists_[2].size(); }
  std::size_t capacityNow() const noexcept;
  std::size_t protectedMax() const noexcept;
  void setWindowShare(double share) noexcept;
  void flushHits(Entry* e) noexcept;
  // Takes the front (LRU end) of `from` to the back (MRU end) of `to`; returns it.
  Entry* moveFront(Segment from, Segment to) noexcept;
  Entry* probationVictim() noexcept;
  bool admit(unsigned candidateFreq, unsigned victimFreq) noexcept;

  EntryQueue lists_[3];
  FrequencySketch sketch_;
  std::size_t capacity_ = 0;      // 0 = sized from what the shard holds
  Entry* candidate_ = nullptr;    // last entry moved from the window to probation, not yet judged
  std::uint64_t rng_ = 0x9e3779b97f4a7c15ull;
  // The climber (see the class comment).
  double share_ = kInitialWindowShare;
  double step_;                       // signed, in shares; the first probe grows the window
  double previousRate_ = -1;          // < 0: no baseline sample yet
  std::uint64_t sampleHits_ = 0;      // the shard's totals when the current sample began
  std::uint64_t sampleMisses_ = 0;
  std::uint64_t samples_ = 0;
  bool warm_ = false;                 // filled once and the sketch aged once
};

}  // namespace tier::l1::detail
