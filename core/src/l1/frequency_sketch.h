#pragma once
// TinyLFU's popularity estimate: a 4-bit count-min sketch (depth 4) whose four
// counters for a key sit in one 64-byte block, behind a doorkeeper bloom filter
// that absorbs first occurrences, with periodic halving so old popularity fades.
// Modelled on Caffeine's FrequencySketch and the TinyLFU paper (Einziger,
// Friedman, Manes 2017). Private to core/src/l1. Not thread-safe (one per shard,
// used under the shard's lock).
#include <cstdint>
#include <memory>

namespace tier::l1::detail {

class FrequencySketch {
 public:
  // Sizes the sketch for `capacity` distinct entries; clears it. capacity >= 1.
  void ensureCapacity(std::uint64_t capacity);
  std::uint64_t capacity() const noexcept { return capacity_; }

  // Records one occurrence of the key with this hash.
  void increment(std::uint64_t hash) noexcept;
  // Increments between halvings, in multiples of the capacity.
  static constexpr std::uint64_t kSampleFactor = 64;

  // Estimated occurrences since roughly the last kSampleFactor x capacity increments (0..16).
  unsigned frequency(std::uint64_t hash) const noexcept;
  // How many halvings happened (for tests).
  std::uint64_t resets() const noexcept { return resets_; }
  std::uint64_t memoryBytes() const noexcept { return (tableWords_ + doorWords_) * sizeof(std::uint64_t); }

 private:
  void reset() noexcept;
  bool doorContains(std::uint64_t h) const noexcept;
  bool doorAdd(std::uint64_t h) noexcept;  // returns true if it was already present

  std::unique_ptr<std::uint64_t[]> table_;  // 16 x 4-bit counters per word, blocks of 8 words
  std::uint64_t tableWords_ = 0;
  std::uint64_t blockMask_ = 0;
  std::unique_ptr<std::uint64_t[]> door_;  // doorkeeper bloom filter bits
  std::uint64_t doorWords_ = 0;
  std::uint64_t capacity_ = 0;
  std::uint64_t sampleSize_ = 0;  // increments between halvings
  std::uint64_t size_ = 0;        // increments since the last halving
  std::uint64_t resets_ = 0;
};

}  // namespace tier::l1::detail
