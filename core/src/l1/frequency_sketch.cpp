#include "l1/frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace tier::l1::detail {
namespace {

constexpr std::uint64_t kOneMask = 0x1111'1111'1111'1111ull;
constexpr std::uint64_t kResetMask = 0x7777'7777'7777'7777ull;

// The shard picks by the hash's top bits, so every key of a shard shares them: remix.
std::uint64_t spread(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}
std::uint64_t rehash(std::uint64_t h) noexcept {
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  return h;
}

}  // namespace

void FrequencySketch::ensureCapacity(std::uint64_t capacity) {
  capacity = std::clamp<std::uint64_t>(capacity, 1, std::uint64_t{1} << 30);
  if (capacity == capacity_) return;
  capacity_ = capacity;
  // One word (16 counters) per entry, as Caffeine, and a 16-bit-per-entry doorkeeper:
  // with half of that, tail keys' collisions drowned the 1-3 counts that separate keys
  // near the admission boundary (simulated, Zipf 0.9, cache 1 % of keys: policy /
  // static top-k 0.958 -> 0.973; the window share alone moved it < 0.1 %).
  tableWords_ = std::max<std::uint64_t>(8, std::bit_ceil(capacity));
  blockMask_ = (tableWords_ >> 3) - 1;
  table_ = std::make_unique<std::uint64_t[]>(tableWords_);
  doorWords_ = std::max<std::uint64_t>(1, std::bit_ceil(capacity) / 4);
  door_ = std::make_unique<std::uint64_t[]>(doorWords_);
  // Caffeine halves every 10 x capacity; 64 x lets a key near the boundary collect a
  // few occurrences between halvings, which its rank needs to show (same simulation,
  // with the window climber: 40 x -> 64 x, 0.971 -> 0.978).
  sampleSize_ = kSampleFactor * capacity;
  size_ = 0;
}

bool FrequencySketch::doorContains(std::uint64_t h) const noexcept {
  const std::uint64_t w = door_[(h >> 12) & (doorWords_ - 1)];
  const std::uint64_t bits = (std::uint64_t{1} << (h & 63)) | (std::uint64_t{1} << ((h >> 6) & 63));
  return (w & bits) == bits;
}

bool FrequencySketch::doorAdd(std::uint64_t h) noexcept {
  std::uint64_t& w = door_[(h >> 12) & (doorWords_ - 1)];
  const std::uint64_t bits = (std::uint64_t{1} << (h & 63)) | (std::uint64_t{1} << ((h >> 6) & 63));
  const bool had = (w & bits) == bits;
  w |= bits;
  return had;
}

void FrequencySketch::increment(std::uint64_t hash) noexcept {
  if (!table_) return;
  const std::uint64_t blockHash = spread(hash);
  if (++size_ >= sampleSize_) reset();
  if (!doorAdd(rehash(blockHash ^ 0x5bd1e995))) return;  // a first occurrence only passes the doorkeeper
  const std::uint64_t counterHash = rehash(blockHash);
  const std::uint64_t block = (blockHash & blockMask_) << 3;
  // Conservative update: only the counters at the key's current minimum grow, so a
  // collision inflates another key's estimate less.
  std::uint64_t* words[4];
  unsigned shifts[4];
  unsigned lo = 15;
  for (unsigned i = 0; i < 4; ++i) {
    const std::uint64_t x = counterHash >> (i << 3);
    shifts[i] = static_cast<unsigned>((x >> 1) & 15) << 2;
    words[i] = &table_[block + (x & 1) + (i << 1)];
    lo = std::min(lo, static_cast<unsigned>((*words[i] >> shifts[i]) & 15));
  }
  if (lo == 15) return;
  for (unsigned i = 0; i < 4; ++i)
    if (((*words[i] >> shifts[i]) & 15) == lo) *words[i] += std::uint64_t{1} << shifts[i];
}

unsigned FrequencySketch::frequency(std::uint64_t hash) const noexcept {
  if (!table_) return 0;
  const std::uint64_t blockHash = spread(hash);
  const unsigned door = doorContains(rehash(blockHash ^ 0x5bd1e995)) ? 1 : 0;
  const std::uint64_t counterHash = rehash(blockHash);
  const std::uint64_t block = (blockHash & blockMask_) << 3;
  unsigned f = 15;
  for (unsigned i = 0; i < 4; ++i) {
    const std::uint64_t x = counterHash >> (i << 3);
    const unsigned shift = static_cast<unsigned>((x >> 1) & 15) << 2;
    f = std::min(f, static_cast<unsigned>((table_[block + (x & 1) + (i << 1)] >> shift) & 15));
  }
  return f + door;
}

void FrequencySketch::reset() noexcept {
  std::uint64_t odd = 0;
  for (std::uint64_t i = 0; i < tableWords_; ++i) {
    odd += static_cast<std::uint64_t>(std::popcount(table_[i] & kOneMask));
    table_[i] = (table_[i] >> 1) & kResetMask;
  }
  std::fill_n(door_.get(), doorWords_, 0);
  size_ = (size_ - std::min(size_, odd >> 2)) >> 1;
  ++resets_;
}

}  // namespace tier::l1::detail
