#pragma once
// Log-linear latency buckets shared by the metrics cells and snapshots. Private.
#include <bit>
#include <cstdint>

#include "tier/metrics/metrics.h"

namespace tier::metrics::detail {

// 64 ns units; 16 linear buckets below 1024 ns, then 16 per power of two up to 2^30 units (~68.7 s).
inline constexpr int kUnitShift = 6;
inline constexpr int kSubBits = 4;
inline constexpr int kSub = 1 << kSubBits;
inline constexpr std::uint64_t kMaxUnits = (std::uint64_t{1} << 30) - 1;
static_assert(kSub + (30 - kSubBits) * kSub == kHistogramBuckets);

constexpr int bucketOf(std::uint64_t ns) noexcept {
  std::uint64_t u = ns >> kUnitShift;
  if (u > kMaxUnits) u = kMaxUnits;
  if (u < kSub) return static_cast<int>(u);
  const int e = std::bit_width(u) - 1;  // >= kSubBits
  const int sub = static_cast<int>(u >> (e - kSubBits)) - kSub;
  return kSub + (e - kSubBits) * kSub + sub;
}

// Exclusive upper bound of a bucket, in ns.
constexpr std::uint64_t bucketUpperNs(int b) noexcept {
  if (b < kSub) return static_cast<std::uint64_t>(b + 1) << kUnitShift;
  const int e = kSubBits + (b - kSub) / kSub;
  const std::uint64_t sub = static_cast<std::uint64_t>((b - kSub) % kSub);
  const std::uint64_t lower = (kSub + sub) << (e - kSubBits);
  return (lower + (std::uint64_t{1} << (e - kSubBits))) << kUnitShift;
}

static_assert(bucketOf(0) == 0 && bucketOf(63) == 0 && bucketOf(64) == 1);
static_assert(bucketOf(1023) == 15 && bucketOf(1024) == 16 && bucketUpperNs(15) == 1024);
static_assert(bucketUpperNs(16) == 1024 + 64);
static_assert(bucketOf(~std::uint64_t{0}) == kHistogramBuckets - 1);

}  // namespace tier::metrics::detail
