#pragma once
// Counters and latency histograms for the Phase 0B thresholds.
//
// Thread-safety: record*/count* are lock-free, never block and never allocate (relaxed atomics on
// per-thread-striped cells) so they can sit on the L1 hit path; snapshot() may
// run concurrently with recording and sees a consistent-enough view (each
// counter is read atomically; a snapshot may straddle one in-flight record).
//
// Windows: counts are kept in one-second slots of a ring covering the longest
// window (5 min) plus a lifetime histogram; a snapshot aggregates the slots of
// the requested window (the current, partial second included).
//
// Histograms: log-linear buckets, 16 per power of two, from 64 ns up to ~68 s
// (kHistogramBuckets). A percentile is reported as the upper bound of the bucket
// holding its rank, clamped to the exact maximum seen: it never under-reports and
// over-reports by at most 1/16 (6.25 %) of the value, or 64 ns below 1 us. Max and
// mean are exact.
//
// Memory: ~4.5 MB per Metrics (301 slots x 7 ops x 432 buckets, plus 16 stripes).
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tier::metrics {

enum class Op : int {
  RedisCommand = 0,    // one Redis round trip (command or pipeline)
  SessionRetrieval,    // session + recent messages, through all tiers
  DbQuery,             // one PostgreSQL query
  KnowledgeLookup,     // one knowledge article, through all tiers
  EntryRead,           // one journal entry, through all tiers
  StatsRead,           // mood analytics, through all tiers
  UserRead,            // one user profile, through all tiers
  Write,               // any repository write (DB + cache update)
  kCount
};
const char* toString(Op op) noexcept;

enum class Tier : int { L1 = 0, L2, L3, kCount };

enum class Counter : int {
  L1Hit = 0,
  L1Miss,
  L2Hit,
  L2Miss,
  L3Read,        // reads served by the database (after L1+L2 misses)
  Read,          // every repository read (the hit-rate denominator)
  Write,
  Error,         // failed operations (any tier, surfaced to the caller)
  RedisError,    // L2 failures absorbed by falling through to L3
  DecodeReject,  // values in L2 rejected by the decoder (corrupt/oversized/version)
  BreakerOpenSkip,  // L2 skipped because the breaker was open
  SingleFlightShared,  // misses that waited on another caller's L3 load
  StaleServed,   // reads served stale because L3 was down
  BackplanePublishFailure,  // invalidation messages that could not be published (peers flush instead)
  BackplaneFlush,  // whole-L1 flushes by the invalidation backplane (link loss, resubscribe, gap)
  ReplicaRead,      // routed reads (inspection, analytics, warming) served by the PostgreSQL replica
  ReplicaFallback,  // routed reads the primary served because the replica was down, behind or failing
  kCount
};
const char* toString(Counter c) noexcept;

inline constexpr int kHistogramBuckets = 432;
inline constexpr double kHistogramRelativeError = 1.0 / 16;

struct LatencySummary {
  std::uint64_t count = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};

// The histogram layout, public because histograms are exported and merged
// (fleet/: other processes read them): bucket b holds samples in
// [lower(b), upper(b)) ns; 64 ns units, buckets 0..15 one unit wide, then 16
// per power of two; the last bucket also holds everything above ~68.7 s.
int histogramBucketOf(std::uint64_t ns) noexcept;
std::uint64_t histogramBucketUpperNs(int bucket) noexcept;  // REQUIRES: 0 <= bucket < kHistogramBuckets

// One op's raw histogram: mergeable by adding buckets and sums, max of maxes.
struct OpHistogram {
  std::array<std::uint64_t, kHistogramBuckets> buckets{};
  std::uint64_t sum_ns = 0;
  std::uint64_t max_ns = 0;
  std::uint64_t count() const noexcept;
  void merge(const OpHistogram& other) noexcept;
};
// Percentiles as Metrics reports them: the upper bound of the bucket holding
// the rank, clamped to max_ns (never under-reports; over by at most 1/16).
LatencySummary summarize(const OpHistogram& h);

// Lifetime totals of a Metrics, raw: what an exporter subtracts from the
// previous totals to get one interval's counters and histograms.
struct RawTotals {
  std::array<std::uint64_t, static_cast<int>(Counter::kCount)> counters{};
  std::array<OpHistogram, static_cast<int>(Op::kCount)> ops{};
};

struct Snapshot {
  std::chrono::seconds window{0};  // 0 = lifetime
  std::int64_t taken_at_unix_ms = 0;
  std::array<std::uint64_t, static_cast<int>(Counter::kCount)> counters{};
  std::array<LatencySummary, static_cast<int>(Op::kCount)> latency{};

  std::uint64_t counter(Counter c) const { return counters[static_cast<int>(c)]; }
  const LatencySummary& op(Op o) const { return latency[static_cast<int>(o)]; }
  // (L1 hits + L2 hits) / reads, clamped to [0, 1]; 1.0 when there were no reads.
  double hitRate() const;
  double l1HitRate() const;  // L1 hits / reads; 0 when there were no reads
  double l2HitRate() const;  // L2 hits / reads; 0 when there were no reads
  double perSecond(Counter c) const;  // counter / window seconds (lifetime: 0)
};

class Metrics {
 public:
  // Unix time in whole seconds: which one-second slot a sample belongs to.
  using SecondsClock = std::int64_t (*)() noexcept;

  Metrics();
  // Windows follow `clock` instead of the wall clock (tests, simulations).
  // REQUIRES: clock != nullptr and it never goes back.
  explicit Metrics(SecondsClock clock);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void record(Op op, std::chrono::nanoseconds latency) noexcept;
  void count(Counter c, std::uint64_t n = 1) noexcept;

  // window 0 = lifetime. Windows longer than 300 s are clamped to 300 s; a window
  // of N seconds covers the current second and the N-1 before it.
  Snapshot snapshot(std::chrono::seconds window) const;
  // Lifetime counters and raw histograms (~30 KB), from the stripes and what was
  // folded out of them: about a tenth of a lifetime snapshot's reading, for an
  // exporter that calls it every second (the fleet publisher).
  RawTotals totals() const;
  // Zeroes every counter and histogram. Samples recorded concurrently with
  // reset() may survive it.
  void reset() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RAII latency recorder.
class ScopedTimer {
 public:
  ScopedTimer(Metrics* m, Op op) noexcept : m_(m), op_(op), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() {
    if (m_) m_->record(op_, std::chrono::steady_clock::now() - start_);
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  Metrics* m_;
  Op op_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tier::metrics
