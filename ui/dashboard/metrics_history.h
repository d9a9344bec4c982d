#pragma once
// MetricsHistory: the dashboard's memory of past refreshes, as plain data.
//
// One MetricSample per refresh (the 10 s sliding-window values at that moment),
// kept in a fixed-capacity ring (oldest dropped first). The charts ask for the
// points of one series over a time range, downsampled to at most N points, and
// the tiles for the share of a range that stayed within a limit.
//
// Thread-safety: none; the dashboard uses it on the GUI thread only. No Qt
// widgets or charts here, so it is unit-testable on its own.
#include <QList>
#include <QPointF>
#include <QString>
#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "tier/metrics/metrics.h"

namespace tier::ui {

// The series the dashboard charts. Hit rates are in percent (0..100),
// latencies in milliseconds, rates per second.
enum class MetricSeries : int {
  HitRate = 0,  // L1+L2 hits over all reads
  L1HitRate,
  L2HitRate,
  RedisP50,
  RedisP99,
  SessionP50,
  SessionP99,
  DbP50,
  DbP99,
  KnowledgeP50,
  KnowledgeP99,
  OpsPerSecond,     // reads + writes
  ErrorsPerSecond,  // operations that failed for the caller
  kCount
};
inline constexpr int kMetricSeriesCount = static_cast<int>(MetricSeries::kCount);

// Column name for CSV, e.g. "redis_p99_ms".
QString seriesKey(MetricSeries s);

// How a bucket of samples becomes one chart point when downsampling.
enum class Aggregate { Max, Min, Mean };
// Latencies and errors keep the worst (max) of a bucket, hit rates the worst (min), throughput the mean.
Aggregate defaultAggregate(MetricSeries s);

// Which side of a limit complies: hit rate must stay above, latencies below (the limit itself does not).
enum class Bound { AtLeast, AtMost };

struct MetricSample {
  qint64 at_ms = 0;                                 // Unix time of the refresh
  std::array<double, kMetricSeriesCount> values{};  // NaN = no data in that window

  double value(MetricSeries s) const { return values[static_cast<std::size_t>(s)]; }
  void set(MetricSeries s, double v) { values[static_cast<std::size_t>(s)] = v; }
};

// A sample with every series set to NaN ("no data").
MetricSample emptySample(qint64 at_ms);

// The chartable values of one sliding-window snapshot. A hit rate without reads
// and a latency without recorded operations are NaN, never 0 or 100 %.
MetricSample sampleFrom(const metrics::Snapshot& window, qint64 at_ms);

class MetricsHistory {
 public:
  // REQUIRES: capacity > 0. 3600 = one hour at the default 1 s refresh.
  explicit MetricsHistory(std::size_t capacity = 3600);

  std::size_t capacity() const { return ring_.size(); }
  // Keeps the newest min(size, capacity) samples. REQUIRES: capacity > 0.
  void setCapacity(std::size_t capacity);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear();

  // Appends a sample. Returns false (and keeps nothing) unless it is newer than
  // the newest sample: refreshes arrive in order, a late one is stale.
  bool add(const MetricSample& sample);

  // Adds samples read back from elsewhere (the fleet's :hist streams) where this
  // history has none: before its oldest sample, after its newest, or inside a
  // gap of more than gap_ms between two of its samples (a reconnect, an outage).
  // A sample it already has is never replaced. `points` need not be sorted; the
  // capacity grows to hold them. Returns how many were added.
  std::size_t fillGaps(const std::vector<MetricSample>& points, qint64 gap_ms);

  // i = 0 is the oldest. REQUIRES: i < size().
  const MetricSample& at(std::size_t i) const;
  const MetricSample& latest() const { return at(size_ - 1); }
  // Unix ms of the newest sample; 0 when empty.
  qint64 latestMs() const { return empty() ? 0 : latest().at_ms; }

  // Index range [first, last) of the samples with from_ms < at_ms <= to_ms.
  std::pair<std::size_t, std::size_t> indexRange(qint64 from_ms, qint64 to_ms) const;

  // The points (x = Unix ms, y = value) of series `s` in (from_ms, to_ms],
  // skipping samples without data. With more than max_points samples, the range
  // is cut into max_points equal time buckets and each bucket with data gives one
  // point, aggregated by `agg` (Max/Min keep the extreme sample's time, Mean the
  // bucket's mean time). max_points <= 0 means no downsampling.
  QList<QPointF> points(MetricSeries s, qint64 from_ms, qint64 to_ms, int max_points, Aggregate agg) const;
  QList<QPointF> points(MetricSeries s, qint64 from_ms, qint64 to_ms, int max_points) const {
    return points(s, from_ms, to_ms, max_points, defaultAggregate(s));
  }

  // Share (0..1) of the samples with data in (from_ms, to_ms] whose value
  // complies with `limit` on side `bound` (equal to the limit complies, as a
  // threshold is only violated beyond it), each sample weighted by the time
  // since the previous one (at most 10 s). nullopt when no sample there has data.
  std::optional<double> compliance(MetricSeries s, qint64 from_ms, qint64 to_ms, double limit, Bound bound) const;

  // Smallest and largest value with data in (from_ms, to_ms]; nullopt without data.
  std::optional<std::pair<double, double>> valueRange(MetricSeries s, qint64 from_ms, qint64 to_ms) const;

 private:
  std::size_t physical(std::size_t i) const { return (head_ + i) % ring_.size(); }

  std::vector<MetricSample> ring_;
  std::size_t head_ = 0;  // physical index of the oldest sample
  std::size_t size_ = 0;
};

}  // namespace tier::ui
