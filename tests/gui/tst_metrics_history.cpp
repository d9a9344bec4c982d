// MetricsHistory, the dashboard's ring of refreshes: pure data, no widgets.
// Windows (which samples a range holds), the ring's capacity, downsampling
// (bounded points, extremes kept), and the share of a range within a limit.
#include <QtTest>
#include <cmath>
#include <limits>

#include "dashboard/metrics_history.h"

using tier::ui::Aggregate;
using tier::ui::Bound;
using tier::ui::MetricSample;
using tier::ui::MetricSeries;
using tier::ui::MetricsHistory;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000;  // a fixed Unix ms origin
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

MetricSample sample(qint64 at_ms, double redisP99, double hitRate = kNaN, double ops = kNaN) {
  MetricSample m = tier::ui::emptySample(at_ms);
  m.set(MetricSeries::RedisP99, redisP99);
  m.set(MetricSeries::HitRate, hitRate);
  m.set(MetricSeries::OpsPerSecond, ops);
  return m;
}

// n samples one second apart from kT0 + 1 s; redis p99 = i (0-based).
MetricsHistory ramp(std::size_t n, std::size_t capacity = 3600) {
  MetricsHistory h(capacity);
  for (std::size_t i = 0; i < n; ++i)
    h.add(sample(kT0 + 1000 * qint64(i + 1), double(i), 50.0 + double(i % 10), 100.0));
  return h;
}

}  // namespace

class TestMetricsHistory : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void sampleFromSnapshot() {
    tier::metrics::Snapshot w;
    w.window = std::chrono::seconds(10);
    auto& c = w.counters;
    c[int(tier::metrics::Counter::Read)] = 200;
    c[int(tier::metrics::Counter::L1Hit)] = 120;
    c[int(tier::metrics::Counter::L2Hit)] = 50;
    c[int(tier::metrics::Counter::Write)] = 100;
    c[int(tier::metrics::Counter::Error)] = 5;
    auto& redis = w.latency[int(tier::metrics::Op::RedisCommand)];
    redis.count = 10;
    redis.p50_ms = 0.4;
    redis.p99_ms = 3.5;
    const MetricSample m = tier::ui::sampleFrom(w, kT0);
    QCOMPARE(m.at_ms, kT0);
    QCOMPARE(m.value(MetricSeries::HitRate), 85.0);
    QCOMPARE(m.value(MetricSeries::L1HitRate), 60.0);
    QCOMPARE(m.value(MetricSeries::L2HitRate), 25.0);
    QCOMPARE(m.value(MetricSeries::RedisP50), 0.4);
    QCOMPARE(m.value(MetricSeries::RedisP99), 3.5);
    QCOMPARE(m.value(MetricSeries::OpsPerSecond), 30.0);  // (200 reads + 100 writes) / 10 s
    QCOMPARE(m.value(MetricSeries::ErrorsPerSecond), 0.5);
    // Nothing recorded is "no data", not a 0 ms latency.
    QVERIFY(std::isnan(m.value(MetricSeries::DbP99)));
    QVERIFY(std::isnan(m.value(MetricSeries::SessionP50)));
  }

  void noReadsIsNoHitRate() {
    tier::metrics::Snapshot w;
    w.window = std::chrono::seconds(10);
    const MetricSample m = tier::ui::sampleFrom(w, kT0);
    // Snapshot::hitRate() says 1.0 without reads; the chart must not draw a 100 % that never happened.
    QVERIFY(std::isnan(m.value(MetricSeries::HitRate)));
    QVERIFY(std::isnan(m.value(MetricSeries::L1HitRate)));
    QCOMPARE(m.value(MetricSeries::OpsPerSecond), 0.0);
  }

  void seriesKeysAreUnique() {
    QSet<QString> keys;
    for (int i = 0; i < tier::ui::kMetricSeriesCount; ++i) {
      const QString k = tier::ui::seriesKey(static_cast<MetricSeries>(i));
      QVERIFY(!k.isEmpty());
      QVERIFY(!k.contains(QLatin1Char(',')));
      keys.insert(k);
    }
    QCOMPARE(keys.size(), tier::ui::kMetricSeriesCount);
  }

  void addKeepsTimeOrder() {
    MetricsHistory h(10);
    QVERIFY(h.add(sample(kT0 + 1000, 1)));
    QVERIFY(!h.add(sample(kT0 + 1000, 2)));  // same time: a duplicate refresh
    QVERIFY(!h.add(sample(kT0 + 500, 3)));   // older: stale
    QVERIFY(h.add(sample(kT0 + 2000, 4)));
    QCOMPARE(h.size(), std::size_t(2));
    QCOMPARE(h.latest().value(MetricSeries::RedisP99), 4.0);
    QCOMPARE(h.latestMs(), kT0 + 2000);
    h.clear();
    QVERIFY(h.empty());
    QCOMPARE(h.latestMs(), qint64(0));
    QVERIFY(h.add(sample(kT0, 5)));  // after clear, any time is accepted
  }

  void ringDropsOldest() {
    MetricsHistory h = ramp(8, 5);
    QCOMPARE(h.size(), std::size_t(5));
    QCOMPARE(h.capacity(), std::size_t(5));
    for (std::size_t i = 0; i < 5; ++i) QCOMPARE(h.at(i).value(MetricSeries::RedisP99), double(i + 3));
    // Binary search still works across the wrap-around.
    const auto [first, last] = h.indexRange(kT0 + 5000, kT0 + 7000);
    QCOMPARE(h.at(0).at_ms, kT0 + 4000);
    QCOMPARE(first, std::size_t(2));  // the sample at 6 s
    QCOMPARE(last, std::size_t(4));   // up to and including 7 s
  }

  void setCapacityKeepsNewest() {
    MetricsHistory h = ramp(8, 6);  // holds 2..7
    h.setCapacity(3);
    QCOMPARE(h.size(), std::size_t(3));
    QCOMPARE(h.at(0).value(MetricSeries::RedisP99), 5.0);
    QCOMPARE(h.latest().value(MetricSeries::RedisP99), 7.0);
    h.setCapacity(10);
    QCOMPARE(h.size(), std::size_t(3));
    QVERIFY(h.add(sample(kT0 + 100'000, 42)));
    QCOMPARE(h.size(), std::size_t(4));
    QCOMPARE(h.at(0).value(MetricSeries::RedisP99), 5.0);
  }

  void indexRange_data() {
    QTest::addColumn<qint64>("from");
    QTest::addColumn<qint64>("to");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("last");
    // ramp(10): samples at 1..10 s.
    QTest::newRow("all") << kT0 << kT0 + 10'000 << 0 << 10;
    QTest::newRow("from is exclusive") << kT0 + 1000 << kT0 + 10'000 << 1 << 10;
    QTest::newRow("to is inclusive") << kT0 << kT0 + 3000 << 0 << 3;
    QTest::newRow("between samples") << kT0 + 2500 << kT0 + 4500 << 2 << 4;
    QTest::newRow("before all") << kT0 - 5000 << kT0 << 0 << 0;
    QTest::newRow("after all") << kT0 + 10'000 << kT0 + 20'000 << 10 << 10;
    QTest::newRow("empty range") << kT0 + 5000 << kT0 + 5000 << 0 << 0;
    QTest::newRow("last minute of ten seconds") << kT0 + 10'000 - 60'000 << kT0 + 10'000 << 0 << 10;
  }
  void indexRange() {
    QFETCH(qint64, from);
    QFETCH(qint64, to);
    QFETCH(int, first);
    QFETCH(int, last);
    const MetricsHistory h = ramp(10);
    const auto r = h.indexRange(from, to);
    QCOMPARE(int(r.first), first);
    QCOMPARE(int(r.second), last);
  }

  void pointsSkipNoData() {
    MetricsHistory h;
    h.add(sample(kT0 + 1000, 1.0));
    h.add(sample(kT0 + 2000, kNaN));
    h.add(sample(kT0 + 3000, 3.0));
    const QList<QPointF> pts = h.points(MetricSeries::RedisP99, kT0, kT0 + 3000, 600);
    QCOMPARE(pts.size(), 2);
    QCOMPARE(pts[0], QPointF(double(kT0 + 1000), 1.0));
    QCOMPARE(pts[1], QPointF(double(kT0 + 3000), 3.0));
    QVERIFY(h.points(MetricSeries::DbP99, kT0, kT0 + 3000, 600).isEmpty());
  }

  void pointsWithinBudgetAreRaw() {
    const MetricsHistory h = ramp(600);
    const QList<QPointF> pts = h.points(MetricSeries::RedisP99, kT0, kT0 + 600'000, 600);
    QCOMPARE(pts.size(), 600);
    for (int i = 0; i < pts.size(); ++i) QCOMPARE(pts[i].y(), double(i));
  }

  void downsampleKeepsMaxPerBucket() {
    MetricsHistory h = ramp(3599);
    h.add(sample(kT0 + 3600 * 1000, 10'000));  // a spike in the very last sample
    const qint64 to = h.latestMs(), from = to - 3'600'000;
    const QList<QPointF> pts = h.points(MetricSeries::RedisP99, from, to, 600, Aggregate::Max);
    QCOMPARE(pts.size(), 600);  // 3600 samples in 600 buckets of 6 s
    // Each bucket's max is its last sample of the ramp (values rise), reported at that sample's time.
    QCOMPARE(pts[0], QPointF(double(kT0 + 6000), 5.0));
    QCOMPARE(pts[1], QPointF(double(kT0 + 12'000), 11.0));
    QCOMPARE(pts.last().y(), 10'000.0);  // the spike is not averaged away
    for (int i = 1; i < pts.size(); ++i) QVERIFY(pts[i].x() > pts[i - 1].x());
  }

  void downsampleMinAndMean() {
    const MetricsHistory h = ramp(3600);
    const qint64 to = h.latestMs(), from = to - 3'600'000;
    // Hit rate cycles 50..59 every 10 samples; buckets hold 6 samples.
    const QList<QPointF> mins = h.points(MetricSeries::HitRate, from, to, 600, Aggregate::Min);
    QCOMPARE(mins.size(), 600);
    QCOMPARE(mins[0].y(), 50.0);  // samples 0..5 -> 50..55
    QCOMPARE(mins[1].y(), 50.0);  // samples 6..11 -> 56..59, 50, 51: the dip at sample 10
    QCOMPARE(mins[1].x(), double(kT0 + 11'000));
    QCOMPARE(mins[2].y(), 52.0);  // samples 12..17 -> 52..57
    const QList<QPointF> means = h.points(MetricSeries::RedisP99, from, to, 600, Aggregate::Mean);
    QCOMPARE(means.size(), 600);
    QCOMPARE(means[0].y(), 2.5);                 // mean of 0..5
    QCOMPARE(means[0].x(), double(kT0 + 3500));  // mean time of 1..6 s
    QCOMPARE(tier::ui::defaultAggregate(MetricSeries::RedisP99), Aggregate::Max);
    QCOMPARE(tier::ui::defaultAggregate(MetricSeries::HitRate), Aggregate::Min);
    QCOMPARE(tier::ui::defaultAggregate(MetricSeries::OpsPerSecond), Aggregate::Mean);
  }

  void downsampleNeverExceedsBudget_data() {
    QTest::addColumn<int>("samples");
    QTest::addColumn<int>("budget");
    QTest::newRow("1 h at 1 s into 600") << 3600 << 600;
    QTest::newRow("uneven") << 3599 << 7;
    QTest::newRow("budget 1") << 100 << 1;
    QTest::newRow("just over") << 601 << 600;
  }
  void downsampleNeverExceedsBudget() {
    QFETCH(int, samples);
    QFETCH(int, budget);
    const MetricsHistory h = ramp(std::size_t(samples));
    const QList<QPointF> pts = h.points(MetricSeries::RedisP99, kT0, h.latestMs(), budget);
    QVERIFY(pts.size() <= budget);
    QVERIFY(pts.size() >= 1);
    QCOMPARE(pts.last().y(), double(samples - 1));  // the newest peak survives
  }

  void downsampleWithGaps() {
    MetricsHistory h;
    for (int i = 1; i <= 1200; ++i) h.add(sample(kT0 + 1000 * i, i <= 600 ? kNaN : double(i)));
    const QList<QPointF> pts = h.points(MetricSeries::RedisP99, kT0, kT0 + 1'200'000, 100);
    QCOMPARE(pts.size(), 50);  // buckets without data give no point
    QCOMPARE(pts[0].y(), 612.0);
  }

  void compliance_data() {
    QTest::addColumn<double>("limit");
    QTest::addColumn<int>("bound");
    QTest::addColumn<double>("expected");
    // ramp(10): redis p99 = 0..9.
    QTest::newRow("at most 4.5") << 4.5 << int(Bound::AtMost) << 0.5;
    QTest::newRow("equal violates") << 4.0 << int(Bound::AtMost) << 0.4;  // "< 4 ms": 4 is out
    QTest::newRow("all") << 100.0 << int(Bound::AtMost) << 1.0;
    QTest::newRow("none") << -1.0 << int(Bound::AtMost) << 0.0;
    QTest::newRow("above 7") << 7.0 << int(Bound::AtLeast) << 0.2;  // "> 7": 7 is out
  }
  void compliance() {
    QFETCH(double, limit);
    QFETCH(int, bound);
    QFETCH(double, expected);
    const MetricsHistory h = ramp(10);
    const auto share = h.compliance(MetricSeries::RedisP99, kT0, kT0 + 10'000, limit, Bound(bound));
    QVERIFY(share.has_value());
    QCOMPARE(*share, expected);
  }

  void complianceOfVisibleWindowOnly() {
    const MetricsHistory h = ramp(10);
    // Last 4 s: values 6..9; 1 of them < 7.
    QCOMPARE(*h.compliance(MetricSeries::RedisP99, kT0 + 6000, kT0 + 10'000, 7.0, Bound::AtMost), 0.25);
    QVERIFY(!h.compliance(MetricSeries::DbP99, kT0, kT0 + 10'000, 50, Bound::AtMost).has_value());
    QVERIFY(!h.compliance(MetricSeries::RedisP99, kT0 + 20'000, kT0 + 30'000, 5, Bound::AtMost).has_value());
  }

  void complianceIgnoresNoData() {
    MetricsHistory h;
    h.add(sample(kT0 + 1000, 1.0));
    h.add(sample(kT0 + 2000, kNaN));
    h.add(sample(kT0 + 3000, 9.0));
    QCOMPARE(*h.compliance(MetricSeries::RedisP99, kT0, kT0 + 3000, 5.0, Bound::AtMost), 0.5);
  }

  void complianceWeighsSamplesByTime() {
    // Ten 10 s points read back (in limit), then ten live 1 s points (over it):
    // 100 s in limit against 10 s over, not 10 samples against 10.
    MetricsHistory h;
    for (int i = 1; i <= 10; ++i) h.add(sample(kT0 + i * 10'000, 1.0));
    for (int i = 1; i <= 10; ++i) h.add(sample(kT0 + 100'000 + i * 1000, 9.0));
    QCOMPARE(*h.compliance(MetricSeries::RedisP99, kT0, kT0 + 110'000, 5.0, Bound::AtMost), 100.0 / 110.0);
  }

  void valueRange() {
    const MetricsHistory h = ramp(10);
    const auto r = h.valueRange(MetricSeries::RedisP99, kT0 + 2000, kT0 + 6000);
    QVERIFY(r.has_value());
    QCOMPARE(r->first, 2.0);
    QCOMPARE(r->second, 5.0);
    QVERIFY(!h.valueRange(MetricSeries::DbP50, kT0, kT0 + 10'000).has_value());
  }
};

QTEST_APPLESS_MAIN(TestMetricsHistory)
#include "tst_metrics_history.moc"
