#pragma once
// The fleet protocol, version 1 (docs/fleet-protocol.md is the normative
// text; this is its C++ form): key names, the fields of an instance's info
// hash and of a sample (one stream entry), and their encoding. Every process
// that embeds the core publishes this way; a service in another language can
// too, from the document alone.
//
// Thread-safety: pure functions and plain values.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tier/metrics/metrics.h"

namespace tier::fleet {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::string_view kKeyPrefix = "tier:fleet:";
inline constexpr std::size_t kMaxInstanceIdBytes = 64;
// A field value longer than this, or an entry with more fields, is malformed.
inline constexpr std::size_t kMaxFieldBytes = 16 * 1024;
inline constexpr std::size_t kMaxFields = 256;
// One :hist entry sums this long (ms) of live samples.
inline constexpr std::int64_t kHistoryIntervalMs = 10'000;

// ZSET: instance id -> last seen (unix ms).
std::string registryKey();
// {id} is the hash tag: an instance's keys share one cluster slot.
std::string infoKey(std::string_view id);     // HASH, fields below
std::string liveKey(std::string_view id);     // STREAM of 1-interval samples (the last minute)
std::string historyKey(std::string_view id);  // STREAM of 10 s samples (the retention, default 1 h)

// [A-Za-z0-9._-], 1..64 bytes: no braces (the hash tag), no blanks, no colons.
bool validInstanceId(std::string_view id) noexcept;
bool isInstanceIdChar(char c) noexcept;  // one character of such an id

struct InstanceInfo {
  int version = 0;  // protocol version the instance speaks
  std::string id;
  std::string app;  // application name, e.g. "journal-api"
  std::string host;
  std::int64_t pid = 0;
  std::string core_version;  // or the foreign publisher's own version
  std::int64_t started_at_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::int64_t interval_ms = 0;  // live sample interval
};
// Field/value pairs for HSET (every field, in a fixed order).
std::vector<std::pair<std::string, std::string>> encodeInfo(const InstanceInfo& info);
// The fields HMGET asks for, in encodeInfo's order.
const std::vector<std::string>& infoFields();
// From HMGET's values (nullopt = field absent). Returns an error sentence for
// a missing or malformed required field or an unsupported version.
std::optional<InstanceInfo> decodeInfo(const std::vector<std::optional<std::string>>& values, std::string* error);

// Latency ops a sample may carry, by wire name (metrics::toString(Op)).
inline constexpr int kOps = static_cast<int>(metrics::Op::kCount);
inline constexpr int kCounters = static_cast<int>(metrics::Counter::kCount);

// One interval of one instance: deltas, except the gauges.
struct Sample {
  std::int64_t t_ms = 0;                            // end of the interval, unix ms (the publisher's clock)
  std::int64_t dt_ms = 0;                           // interval length
  std::array<std::uint64_t, kCounters> counters{};  // c:<counter name>
  std::uint64_t l1_evictions = 0;                   // c:l1_evictions
  std::uint64_t l1_bytes = 0, l1_entries = 0;       // g:l1_bytes, g:l1_entries (at t)
  std::array<metrics::OpHistogram, kOps> ops{};     // h:<op>, s:<op>, m:<op>

  // Later samples of the same instance: deltas and histograms add, dt adds,
  // the gauges are the newest sample's.
  void accumulate(const Sample& later);
  // Other instances' samples of the same span: deltas, histograms and gauges
  // add (a fleet's L1 bytes), dt is the longest.
  void combine(const Sample& other);
  // As a Snapshot over `window` (counters and latency summaries), for thresholds.
  metrics::Snapshot toSnapshot(std::chrono::seconds window, std::int64_t takenAtMs) const;
};

// Field/value pairs for XADD; zero counters and empty ops are left out.
std::vector<std::pair<std::string, std::string>> encodeSample(const Sample& s);
// A stream entry's field/value list; an error sentence if malformed (unknown
// fields are ignored, so a newer minor addition does not break readers).
std::optional<Sample> decodeSample(const std::vector<std::pair<std::string, std::string>>& fields, std::string* error);

// "b=c b=c …" for the non-empty buckets, ascending; parse rejects anything else.
std::string encodeBuckets(const metrics::OpHistogram& h);
bool decodeBuckets(std::string_view text, metrics::OpHistogram& out);

}  // namespace tier::fleet
