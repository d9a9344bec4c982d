#pragma once
// How the tiered cache frames its values in L1: an 8-byte fresh-until before
// the envelope, so that one L1 entry serves fresh reads, serve-stale and the
// version floor. L1 itself (l1/) knows nothing of this.
#include <time.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace tier::cache::detail {

// CLOCK_MONOTONIC_COARSE: a few ns per call on the L1 hit path; its ~4 ms
// granularity is fine for TTLs.
inline std::int64_t coarseNowNs() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
// An L1 entry with this fresh-until is a floor, never served (not even stale):
// it records that a newer version exists, so no put of an older one lands.
inline constexpr std::int64_t kFloor = std::numeric_limits<std::int64_t>::min();

// L1 holds our own bytes: an 8-byte little-endian fresh-until (coarseNowNs()
// scale, kNever = no expiry) followed by the envelope. The entry itself lives
// max_stale longer, so a copy past its TTL is still there to serve stale.
inline constexpr std::size_t kL1Prefix = 8;

inline std::string l1Wrap(std::int64_t freshUntilNs, std::string_view envelope) {
  std::string out(kL1Prefix + envelope.size(), '\0');
  const auto u = static_cast<std::uint64_t>(freshUntilNs);
  for (std::size_t i = 0; i < kL1Prefix; ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xffu);
  std::memcpy(out.data() + kL1Prefix, envelope.data(), envelope.size());
  return out;
}

struct L1Value {
  std::int64_t fresh_until_ns = 0;
  std::string_view envelope;
};

inline std::optional<L1Value> l1Unwrap(const std::string& v) {
  if (v.size() < kL1Prefix) return std::nullopt;
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < kL1Prefix; ++i)
    u |= static_cast<std::uint64_t>(static_cast<unsigned char>(v[i])) << (8 * i);
  return L1Value{static_cast<std::int64_t>(u), std::string_view(v).substr(kL1Prefix)};
}

}  // namespace tier::cache::detail
