#include "tier/metrics/metrics.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <ctime>

#include "metrics/histogram.h"
#include "tier/common/clock.h"

// Layout and the one race we accept.
//
// A sample goes to the calling thread's stripe (thread_local index, 16 stripes,
// each on its own cache lines), so recording threads never share a line. A stripe
// holds the samples of ONE second, named by its atomic `second` tag. The first
// writer that sees a newer second claims the stripe (CAS tag -> kFolding), moves
// its cells into the shared ring slot of the old second (exchange(0) + fetch_add,
// so nothing is ever lost), and publishes the new second; writers that meet the
// stripe mid-fold just add to it. The ring has 301 one-second slots; the writer that advances
// `current_second` retires the slots the clock passed over (their cells move into
// the lifetime totals) and re-tags them. A snapshot sums the ring slots and stripes
// whose tags fall in the window; lifetime sums everything.
//
// The benign race: a sample added while another thread folds its stripe or
// retires its slot can be attributed to the following second (never lost), and a
// snapshot taken during a fold may see the moving cells twice or not at all. With
// no recording in flight every total is exact.

namespace tier::metrics {
namespace {

constexpr int kOps = static_cast<int>(Op::kCount);
constexpr int kCounters = static_cast<int>(Counter::kCount);
constexpr int kStripes = 16;
constexpr std::int64_t kRing = 301;
constexpr std::int64_t kMaxWindow = 300;
constexpr std::int64_t kFolding = -1;


std::int64_t wallSeconds() noexcept { return static_cast<std::int64_t>(std::time(nullptr)); }

template <typename T>
void atomicMax(std::atomic<T>& cell, T v) noexcept {
  T cur = cell.load(std::memory_order_relaxed);
  while (v > cur && !cell.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

template <typename Bucket>
struct alignas(64) OpCells {
  std::atomic<std::uint64_t> sum_ns{0};
  std::atomic<std::uint64_t> max_ns{0};
  std::array<std::atomic<Bucket>, kHistogramBuckets> buckets{};
};

// Per-second ring slots use 32-bit buckets (4e9 samples of one op in one second is
// out of reach) to halve the ring; stripes and lifetime use 64-bit.
template <typename Bucket>
struct Cells {
  alignas(64) std::array<std::atomic<std::uint64_t>, kCounters> counters{};
  std::array<OpCells<Bucket>, kOps> ops{};

  void addCount(int c, std::uint64_t n) noexcept { counters[c].fetch_add(n, std::memory_order_relaxed); }
  void addLatency(int op, int bucket, std::uint64_t ns) noexcept {
    OpCells<Bucket>& o = ops[op];
    o.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    o.sum_ns.fetch_add(ns, std::memory_order_relaxed);
    atomicMax(o.max_ns, ns);
  }

  // Moves every cell into dst (and adds it to `also`, if given), leaving this
  // zeroed; concurrent adds are never lost.
  template <typename Dst>
  void moveInto(Cells<Dst>& dst, Cells<std::uint64_t>* also = nullptr) noexcept {
    for (int c = 0; c < kCounters; ++c)
      if (counters[c].load(std::memory_order_relaxed) != 0) {
        const std::uint64_t v = counters[c].exchange(0, std::memory_order_relaxed);
        dst.counters[c].fetch_add(v, std::memory_order_relaxed);
        if (also) also->counters[c].fetch_add(v, std::memory_order_relaxed);
      }
    for (int op = 0; op < kOps; ++op) {
      OpCells<Bucket>& s = ops[op];
      OpCells<Dst>& d = dst.ops[op];
      if (s.max_ns.load(std::memory_order_relaxed) == 0 && s.sum_ns.load(std::memory_order_relaxed) == 0 &&
          s.buckets[0].load(std::memory_order_relaxed) == 0)
        continue;  // nothing recorded (a 0 ns sample lands in bucket 0)
      const std::uint64_t sum = s.sum_ns.exchange(0, std::memory_order_relaxed);
      const std::uint64_t max = s.max_ns.exchange(0, std::memory_order_relaxed);
      d.sum_ns.fetch_add(sum, std::memory_order_relaxed);
      atomicMax(d.max_ns, max);
      if (also) {
        also->ops[op].sum_ns.fetch_add(sum, std::memory_order_relaxed);
        atomicMax(also->ops[op].max_ns, max);
      }
      for (int b = 0; b < kHistogramBuckets; ++b)
        if (s.buckets[b].load(std::memory_order_relaxed) != 0) {
          const auto v = s.buckets[b].exchange(0, std::memory_order_relaxed);
          d.buckets[b].fetch_add(static_cast<Dst>(v), std::memory_order_relaxed);
          if (also) also->ops[op].buckets[b].fetch_add(static_cast<std::uint64_t>(v), std::memory_order_relaxed);
        }
    }
  }

  void zero() noexcept {
    for (auto& c : counters) c.store(0, std::memory_order_relaxed);
    for (auto& o : ops) {
      o.sum_ns.store(0, std::memory_order_relaxed);
      o.max_ns.store(0, std::memory_order_relaxed);
      for (auto& b : o.buckets) b.store(0, std::memory_order_relaxed);
    }
  }
};

struct alignas(64) Stripe {
  std::atomic<std::int64_t> second{0};  // 0 = never used; kFolding while being moved
  Cells<std::uint64_t> cells;
};

struct Slot {
  std::atomic<std::int64_t> second{0};
  Cells<std::uint32_t> cells;
};

// Plain (non-atomic) accumulation for a snapshot.
struct Sum {
  std::array<std::uint64_t, kCounters> counters{};
  struct Op {
    std::uint64_t sum_ns = 0, max_ns = 0;
    std::array<std::uint64_t, kHistogramBuckets> buckets{};
  };
  std::array<Op, kOps> ops{};

  template <typename Bucket>
  void add(const Cells<Bucket>& c) noexcept {
    for (int i = 0; i < kCounters; ++i) counters[i] += c.counters[i].load(std::memory_order_relaxed);
    for (int op = 0; op < kOps; ++op) {
      const OpCells<Bucket>& s = c.ops[op];
      Op& d = ops[op];
      d.sum_ns += s.sum_ns.load(std::memory_order_relaxed);
      d.max_ns = std::max(d.max_ns, s.max_ns.load(std::memory_order_relaxed));
      for (int b = 0; b < kHistogramBuckets; ++b) d.buckets[b] += s.buckets[b].load(std::memory_order_relaxed);
    }
  }
};

unsigned stripeIndex() noexcept {
  static std::atomic<unsigned> next{0};
  thread_local const unsigned index = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return index;
}

double toMs(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

LatencySummary summarizeSum(const Sum::Op& o) {
  LatencySummary out;
  for (std::uint64_t b : o.buckets) out.count += b;
  if (out.count == 0) return out;
  out.max_ms = toMs(o.max_ns);
  out.mean_ms = toMs(o.sum_ns) / static_cast<double>(out.count);
  auto percentile = [&](double q) {
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(out.count))));
    std::uint64_t seen = 0;
    for (int b = 0; b < kHistogramBuckets; ++b) {
      seen += o.buckets[b];
      if (seen >= rank) {
        // The last bucket also holds everything beyond the range: only the max bounds it.
        if (b == kHistogramBuckets - 1) return out.max_ms;
        return toMs(std::min(detail::bucketUpperNs(b), o.max_ns));
      }
    }
    return out.max_ms;
  };
  out.p50_ms = percentile(0.50);
  out.p95_ms = percentile(0.95);
  out.p99_ms = percentile(0.99);
  return out;
}

}  // namespace

struct Metrics::Impl {
  explicit Impl(SecondsClock c) : clock(c) {}

  Cells<std::uint64_t>& sinkFor(std::int64_t now) noexcept;
  void advance(std::int64_t now) noexcept;

  const SecondsClock clock;
  std::atomic<std::int64_t> current_second{0};
  std::array<Stripe, kStripes> stripes;
  std::array<Slot, kRing> ring;
  Cells<std::uint64_t> retired;  // lifetime totals of everything that left the ring
  // Everything ever folded out of a stripe (into a slot or into retired): with
  // the stripes, the lifetime totals, without summing the 301-slot ring (about
  // 4 MB) on every fleet publish.
  Cells<std::uint64_t> folded;
};

void Metrics::Impl::advance(std::int64_t now) noexcept {
  std::int64_t cur = current_second.load(std::memory_order_acquire);
  while (cur < now) {
    if (!current_second.compare_exchange_weak(cur, now, std::memory_order_acq_rel)) continue;
    // Only this writer moves from cur to now: retire the slots the clock passed over.
    for (std::int64_t s = std::max(cur + 1, now - kRing + 1); s <= now; ++s) {
      Slot& slot = ring[static_cast<std::size_t>(s % kRing)];
      slot.cells.moveInto(retired);
      slot.second.store(s, std::memory_order_release);
    }
    return;
  }
}

// Slow path of a record: the calling thread's stripe belongs to an older second.
// Folds it (unless another writer already is) and returns its cells.
Cells<std::uint64_t>& Metrics::Impl::sinkFor(std::int64_t now) noexcept {
  advance(now);
  Stripe& st = stripes[stripeIndex()];
  std::int64_t tag = st.second.load(std::memory_order_acquire);
  if (tag >= now) return st.cells;
  if (tag == kFolding || !st.second.compare_exchange_strong(tag, kFolding, std::memory_order_acq_rel)) {
    // Another writer of this stripe is folding it; its cells are still valid to add to
    // (they will be attributed to `now`), which is the benign race described above.
    return st.cells;
  }
  if (tag > 0) {
    Slot& slot = ring[static_cast<std::size_t>(tag % kRing)];
    if (slot.second.load(std::memory_order_acquire) == tag)
      st.cells.moveInto(slot.cells, &folded);
    else
      st.cells.moveInto(retired, &folded);  // older than the ring: only the lifetime totals want it
  }
  st.second.store(now, std::memory_order_release);
  return st.cells;
}

Metrics::Metrics() : Metrics(&wallSeconds) {}
Metrics::Metrics(SecondsClock clock) : impl_(std::make_unique<Impl>(clock)) {}
Metrics::~Metrics() = default;

void Metrics::record(Op op, std::chrono::nanoseconds latency) noexcept {
  const int o = static_cast<int>(op);
  if (o < 0 || o >= kOps) return;
  const std::uint64_t ns = latency.count() < 0 ? 0 : static_cast<std::uint64_t>(latency.count());
  const int bucket = detail::bucketOf(ns);
  Impl& m = *impl_;
  const std::int64_t now = m.clock();
  Stripe& st = m.stripes[stripeIndex()];
  if (st.second.load(std::memory_order_acquire) >= now)
    st.cells.addLatency(o, bucket, ns);
  else
    m.sinkFor(now).addLatency(o, bucket, ns);
}

void Metrics::count(Counter c, std::uint64_t n) noexcept {
  const int i = static_cast<int>(c);
  if (i < 0 || i >= kCounters || n == 0) return;
  Impl& m = *impl_;
  const std::int64_t now = m.clock();
  Stripe& st = m.stripes[stripeIndex()];
  if (st.second.load(std::memory_order_acquire) >= now)
    st.cells.addCount(i, n);
  else
    m.sinkFor(now).addCount(i, n);
}

Snapshot Metrics::snapshot(std::chrono::seconds window) const {
  const Impl& m = *impl_;
  const std::int64_t w = std::clamp<std::int64_t>(window.count(), 0, kMaxWindow);
  const std::int64_t now = m.clock();
  const std::int64_t first = now - w + 1;
  auto inWindow = [&](std::int64_t tag) { return w == 0 || (tag >= first && tag <= now); };

  auto sum = std::make_unique<Sum>();  // ~30 KB: keep it off the caller's stack
  for (const Slot& slot : m.ring)
    if (inWindow(slot.second.load(std::memory_order_acquire))) sum->add(slot.cells);
  for (const Stripe& st : m.stripes) {
    const std::int64_t tag = st.second.load(std::memory_order_acquire);
    if (tag != kFolding && inWindow(tag)) sum->add(st.cells);
  }
  if (w == 0) sum->add(m.retired);

  Snapshot out;
  out.window = std::chrono::seconds(w);
  out.taken_at_unix_ms = m.clock == &wallSeconds ? unixMillisNow() : now * 1000;
  out.counters = sum->counters;
  for (int op = 0; op < kOps; ++op) out.latency[op] = summarizeSum(sum->ops[op]);
  return out;
}

RawTotals Metrics::totals() const {
  const Impl& m = *impl_;
  auto sum = std::make_unique<Sum>();
  // What was folded first, then the stripes: a fold in between is missed now
  // and counted by the next call (never counted twice, which an exporter's
  // interval deltas could not take back).
  sum->add(m.folded);
  for (const Stripe& st : m.stripes)
    if (st.second.load(std::memory_order_acquire) != kFolding) sum->add(st.cells);
  RawTotals out;
  out.counters = sum->counters;
  for (int op = 0; op < kOps; ++op) {
    out.ops[op].buckets = sum->ops[op].buckets;
    out.ops[op].sum_ns = sum->ops[op].sum_ns;
    out.ops[op].max_ns = sum->ops[op].max_ns;
  }
  return out;
}

int histogramBucketOf(std::uint64_t ns) noexcept { return detail::bucketOf(ns); }
std::uint64_t histogramBucketUpperNs(int bucket) noexcept { return detail::bucketUpperNs(bucket); }

std::uint64_t OpHistogram::count() const noexcept {
  std::uint64_t n = 0;
  for (std::uint64_t b : buckets) n += b;
  return n;
}

void OpHistogram::merge(const OpHistogram& o) noexcept {
  for (int b = 0; b < kHistogramBuckets; ++b) buckets[b] += o.buckets[b];
  sum_ns += o.sum_ns;
  max_ns = std::max(max_ns, o.max_ns);
}

LatencySummary summarize(const OpHistogram& h) {
  Sum::Op o;
  o.buckets = h.buckets;
  o.sum_ns = h.sum_ns;
  o.max_ns = h.max_ns;
  return summarizeSum(o);
}

void Metrics::reset() noexcept {
  Impl& m = *impl_;
  for (Stripe& st : m.stripes) st.cells.zero();
  for (Slot& slot : m.ring) slot.cells.zero();
  m.retired.zero();
  m.folded.zero();
}

double Snapshot::hitRate() const {
  const std::uint64_t reads = counter(Counter::Read);
  if (reads == 0) return 1.0;
  const double r = static_cast<double>(counter(Counter::L1Hit) + counter(Counter::L2Hit)) / static_cast<double>(reads);
  return std::clamp(r, 0.0, 1.0);
}

double Snapshot::l1HitRate() const {
  const std::uint64_t reads = counter(Counter::Read);
  return reads == 0 ? 0.0 : std::min(1.0, static_cast<double>(counter(Counter::L1Hit)) / static_cast<double>(reads));
}

double Snapshot::l2HitRate() const {
  const std::uint64_t reads = counter(Counter::Read);
  return reads == 0 ? 0.0 : std::min(1.0, static_cast<double>(counter(Counter::L2Hit)) / static_cast<double>(reads));
}

double Snapshot::perSecond(Counter c) const {
  if (window.count() <= 0) return 0.0;
  return static_cast<double>(counter(c)) / static_cast<double>(window.count());
}

const char* toString(Op op) noexcept {
  switch (op) {
    case Op::RedisCommand: return "redis_command";
    case Op::SessionRetrieval: return "session_retrieval";
    case Op::DbQuery: return "db_query";
    case Op::KnowledgeLookup: return "knowledge_lookup";
    case Op::EntryRead: return "entry_read";
    case Op::StatsRead: return "stats_read";
    case Op::UserRead: return "user_read";
    case Op::Write: return "write";
    case Op::kCount: break;
  }
  return "unknown";
}

const char* toString(Counter c) noexcept {
  switch (c) {
    case Counter::L1Hit: return "l1_hit";
    case Counter::L1Miss: return "l1_miss";
    case Counter::L2Hit: return "l2_hit";
    case Counter::L2Miss: return "l2_miss";
    case Counter::L3Read: return "l3_read";
    case Counter::Read: return "read";
    case Counter::Write: return "write";
    case Counter::Error: return "error";
    case Counter::RedisError: return "redis_error";
    case Counter::DecodeReject: return "decode_reject";
    case Counter::BreakerOpenSkip: return "breaker_open_skip";
    case Counter::SingleFlightShared: return "single_flight_shared";
    case Counter::StaleServed: return "stale_served";
    case Counter::BackplanePublishFailure: return "backplane_publish_failure";
    case Counter::BackplaneFlush: return "backplane_flush";
    case Counter::ReplicaRead: return "replica_read";
    case Counter::ReplicaFallback: return "replica_fallback";
    case Counter::kCount: break;
  }
  return "unknown";
}

}  // namespace tier::metrics
