#include "dashboard/metrics_history.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tier::ui {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double latencyOrNaN(const metrics::Snapshot& w, metrics::Op op, bool p99) {
  const auto& l = w.op(op);
  if (l.count == 0) return kNaN;
  return p99 ? l.p99_ms : l.p50_ms;
}
}  // namespace

QString seriesKey(MetricSeries s) {
  switch (s) {
    case MetricSeries::HitRate: return QStringLiteral("hit_rate_pct");
    case MetricSeries::L1HitRate: return QStringLiteral("l1_hit_rate_pct");
    case MetricSeries::L2HitRate: return QStringLiteral("l2_hit_rate_pct");
    case MetricSeries::RedisP50: return QStringLiteral("redis_p50_ms");
    case MetricSeries::RedisP99: return QStringLiteral("redis_p99_ms");
    case MetricSeries::SessionP50: return QStringLiteral("session_retrieval_p50_ms");
    case MetricSeries::SessionP99: return QStringLiteral("session_retrieval_p99_ms");
    case MetricSeries::DbP50: return QStringLiteral("db_query_p50_ms");
    case MetricSeries::DbP99: return QStringLiteral("db_query_p99_ms");
    case MetricSeries::KnowledgeP50: return QStringLiteral("knowledge_p50_ms");
    case MetricSeries::KnowledgeP99: return QStringLiteral("knowledge_p99_ms");
    case MetricSeries::OpsPerSecond: return QStringLiteral("ops_per_s");
    case MetricSeries::ErrorsPerSecond: return QStringLiteral("errors_per_s");
    case MetricSeries::kCount: break;
  }
  return {};
}

Aggregate defaultAggregate(MetricSeries s) {
  switch (s) {
    case MetricSeries::HitRate:
    case MetricSeries::L1HitRate:
    case MetricSeries::L2HitRate: return Aggregate::Min;
    case MetricSeries::OpsPerSecond: return Aggregate::Mean;
    default: return Aggregate::Max;
  }
}

MetricSample emptySample(qint64 at_ms) {
  MetricSample m;
  m.at_ms = at_ms;
  m.values.fill(kNaN);
  return m;
}

MetricSample sampleFrom(const metrics::Snapshot& w, qint64 at_ms) {
  using metrics::Counter;
  using metrics::Op;
  MetricSample m = emptySample(at_ms);
  if (w.counter(Counter::Read) > 0) {
    m.set(MetricSeries::HitRate, 100.0 * w.hitRate());
    m.set(MetricSeries::L1HitRate, 100.0 * w.l1HitRate());
    m.set(MetricSeries::L2HitRate, 100.0 * w.l2HitRate());
  }
  m.set(MetricSeries::RedisP50, latencyOrNaN(w, Op::RedisCommand, false));
  m.set(MetricSeries::RedisP99, latencyOrNaN(w, Op::RedisCommand, true));
  m.set(MetricSeries::SessionP50, latencyOrNaN(w, Op::SessionRetrieval, false));
  m.set(MetricSeries::SessionP99, latencyOrNaN(w, Op::SessionRetrieval, true));
  m.set(MetricSeries::DbP50, latencyOrNaN(w, Op::DbQuery, false));
  m.set(MetricSeries::DbP99, latencyOrNaN(w, Op::DbQuery, true));
  m.set(MetricSeries::KnowledgeP50, latencyOrNaN(w, Op::KnowledgeLookup, false));
  m.set(MetricSeries::KnowledgeP99, latencyOrNaN(w, Op::KnowledgeLookup, true));
  if (w.window.count() > 0) {
    m.set(MetricSeries::OpsPerSecond, w.perSecond(Counter::Read) + w.perSecond(Counter::Write));
    m.set(MetricSeries::ErrorsPerSecond, w.perSecond(Counter::Error));
  }
  return m;
}

MetricsHistory::MetricsHistory(std::size_t capacity) : ring_(std::max<std::size_t>(capacity, 1)) {}

void MetricsHistory::setCapacity(std::size_t capacity) {
  capacity = std::max<std::size_t>(capacity, 1);
  if (capacity == ring_.size()) return;
  const std::size_t keep = std::min(size_, capacity);
  std::vector<MetricSample> next(capacity);
  for (std::size_t i = 0; i < keep; ++i) next[i] = at(size_ - keep + i);
  ring_ = std::move(next);
  head_ = 0;
  size_ = keep;
}

void MetricsHistory::clear() {
  head_ = 0;
  size_ = 0;
}

bool MetricsHistory::add(const MetricSample& sample) {
  if (size_ > 0 && sample.at_ms <= latest().at_ms) return false;
  if (size_ < ring_.size()) {
    ring_[physical(size_)] = sample;
    ++size_;
  } else {
    ring_[head_] = sample;  // overwrite the oldest
    head_ = (head_ + 1) % ring_.size();
  }
  return true;
}

std::size_t MetricsHistory::fillGaps(const std::vector<MetricSample>& points, qint64 gap_ms) {
  std::vector<MetricSample> extra;
  for (const auto& p : points) {
    if (size_ == 0) {
      extra.push_back(p);
      continue;
    }
    // The own samples around p: [0, i) are at or before it, [i, size) after it.
    const std::size_t i = indexRange(std::numeric_limits<qint64>::min(), p.at_ms).second;
    if (i > 0 && at(i - 1).at_ms == p.at_ms) continue;  // already there
    const bool before = i == 0, after = i == size_;
    if (before || after || at(i).at_ms - at(i - 1).at_ms > gap_ms) extra.push_back(p);
  }
  if (extra.empty()) return 0;
  std::vector<MetricSample> all;
  all.reserve(size_ + extra.size());
  for (std::size_t i = 0; i < size_; ++i) all.push_back(at(i));
  all.insert(all.end(), extra.begin(), extra.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const MetricSample& a, const MetricSample& b) { return a.at_ms < b.at_ms; });
  ring_.assign(std::max(ring_.size(), all.size()), MetricSample{});
  head_ = 0;
  size_ = 0;
  const std::size_t own = all.size() - extra.size();
  std::size_t kept = 0;
  for (const auto& m : all) kept += add(m) ? 1 : 0;  // two read-back samples at one time: the first stays
  return kept - own;
}

const MetricSample& MetricsHistory::at(std::size_t i) const {
  return ring_[physical(i)];
}

std::pair<std::size_t, std::size_t> MetricsHistory::indexRange(qint64 from_ms, qint64 to_ms) const {
  // Samples are in time order: two binary searches over logical indices.
  auto firstAfter = [this](qint64 t) {
    std::size_t lo = 0, hi = size_;
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (at(mid).at_ms <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  };
  if (to_ms <= from_ms) return {0, 0};
  const std::size_t first = firstAfter(from_ms);
  const std::size_t last = firstAfter(to_ms);
  return {first, std::max(first, last)};
}

QList<QPointF> MetricsHistory::points(MetricSeries s, qint64 from_ms, qint64 to_ms, int max_points,
                                      Aggregate agg) const {
  QList<QPointF> out;
  const auto [first, last] = indexRange(from_ms, to_ms);
  const std::size_t n = last - first;
  if (n == 0) return out;
  if (max_points <= 0 || n <= static_cast<std::size_t>(max_points)) {
    out.reserve(static_cast<qsizetype>(n));
    for (std::size_t i = first; i < last; ++i) {
      const auto& m = at(i);
      const double v = m.value(s);
      if (!std::isnan(v)) out.append(QPointF(static_cast<double>(m.at_ms), v));
    }
    return out;
  }
  out.reserve(max_points);
  // Buckets are (from + b*w, from + (b+1)*w], in integer ms so equal spacing gives equal buckets.
  const qint64 span = to_ms - from_ms;
  qint64 bucket = -1;
  double best = 0, sum = 0, timeSum = 0, bestT = 0;
  int count = 0;
  auto flush = [&] {
    if (count == 0) return;
    if (agg == Aggregate::Mean)
      out.append(QPointF(timeSum / count, sum / count));
    else
      out.append(QPointF(bestT, best));
  };
  for (std::size_t i = first; i < last; ++i) {
    const auto& m = at(i);
    const double v = m.value(s);
    const qint64 b = std::clamp<qint64>((m.at_ms - from_ms - 1) * max_points / span, 0, max_points - 1);
    if (b != bucket) {
      flush();
      bucket = b;
      count = 0;
      sum = timeSum = 0;
    }
    if (std::isnan(v)) continue;
    const double t = static_cast<double>(m.at_ms);
    const bool better = count == 0 || (agg == Aggregate::Max && v > best) || (agg == Aggregate::Min && v < best);
    if (better) {
      best = v;
      bestT = t;
    }
    sum += v;
    timeSum += t;
    ++count;
  }
  flush();
  return out;
}

std::optional<double> MetricsHistory::compliance(MetricSeries s, qint64 from_ms, qint64 to_ms, double limit,
                                                 Bound bound) const {
  const auto [first, last] = indexRange(from_ms, to_ms);
  // Each sample weighs the time since the one before it (capped at a 10 s
  // point): the fleet's hour read back at 10 s and its live points at 1 s
  // then count by time, not by number. Evenly spaced samples weigh the same.
  static constexpr qint64 kMaxWeightMs = 10'000;
  auto weight = [this](std::size_t i) {
    const qint64 gap = i > 0 ? at(i).at_ms - at(i - 1).at_ms : (size_ > 1 ? at(1).at_ms - at(0).at_ms : 1);
    return static_cast<double>(std::clamp<qint64>(gap, 1, kMaxWeightMs));
  };
  double withData = 0, ok = 0;
  for (std::size_t i = first; i < last; ++i) {
    const double v = at(i).value(s);
    if (std::isnan(v)) continue;
    const double w = weight(i);
    withData += w;
    if (bound == Bound::AtLeast ? v > limit : v < limit) ok += w;  // Phase 0B: "> 80 %", "< 5 ms"
  }
  if (withData == 0) return std::nullopt;
  return ok / withData;
}

std::optional<std::pair<double, double>> MetricsHistory::valueRange(MetricSeries s, qint64 from_ms,
                                                                    qint64 to_ms) const {
  const auto [first, last] = indexRange(from_ms, to_ms);
  std::optional<std::pair<double, double>> r;
  for (std::size_t i = first; i < last; ++i) {
    const double v = at(i).value(s);
    if (std::isnan(v)) continue;
    if (!r) r = std::make_pair(v, v);
    r->first = std::min(r->first, v);
    r->second = std::max(r->second, v);
  }
  return r;
}

}  // namespace tier::ui
