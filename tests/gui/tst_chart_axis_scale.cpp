// A latency chart's value axis fed a start-up spike through the Dashboard
// (synthetic snapshots via CoreService::statsAvailable, no servers): the linear
// axis follows the steady state and the threshold, not the spike; the spike is
// clipped and marked with its real value; the log scale still shows it whole.
// With TIER_SCREENSHOT_DIR set, the chart and the page are saved as PNGs.
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QValueAxis>
#include <QtTest>
#include <memory>

#include "common/core_service.h"
#include "dashboard/dashboard_page.h"
#include "dashboard/metric_chart.h"

using tier::metrics::Op;
using tier::ui::DashboardPage;
using tier::ui::MetricChart;
using tier::ui::MetricSeries;
using tier::ui::StatsSnapshot;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000;
constexpr int kSamples = 300;  // five minutes at one sample a second
constexpr int kSpikeAt = 3;    // the fourth second after start-up

void setLatency(tier::metrics::Snapshot& w, Op op, double p99) {
  auto& l = w.latency[int(op)];
  l.count = 100;
  l.p50_ms = p99 / 4;
  l.p95_ms = p99 / 2;
  l.p99_ms = p99;
  l.max_ms = p99 * 1.5;
  l.mean_ms = p99 / 3;
}

// Second i of a run whose Redis p99 is about 2 ms, with a 400 ms start-up spike at kSpikeAt.
StatsSnapshot sample(int i, const tier::Thresholds& t) {
  StatsSnapshot s;
  s.at_ms = kT0 + 1000 + qint64(i) * 1000;
  auto& w = s.window;
  w.window = std::chrono::seconds(10);
  w.taken_at_unix_ms = s.at_ms;
  w.counters[int(tier::metrics::Counter::Read)] = 1000;
  w.counters[int(tier::metrics::Counter::L1Hit)] = 900;
  const double wobble = 0.1 * ((i * 7) % 5);  // 0 .. 0.4 ms, deterministic
  setLatency(w, Op::RedisCommand, i == kSpikeAt ? 400.0 : 1.9 + wobble);
  setLatency(w, Op::SessionRetrieval, 4.0 + wobble);
  setLatency(w, Op::DbQuery, i == kSpikeAt ? 900.0 : 20.0 + 10 * wobble);
  setLatency(w, Op::KnowledgeLookup, 0.5);
  s.thresholds = tier::metrics::evaluate(w, t);
  return s;
}

double spikeX() {
  return double(kT0 + 1000 + qint64(kSpikeAt) * 1000);
}

}  // namespace

class TestChartAxisScale : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<tier::ui::CoreService> service_;
  std::unique_ptr<DashboardPage> page_;

  void feedRun() {
    for (int i = 0; i < kSamples; ++i) Q_EMIT service_->statsAvailable(sample(i, service_->settings().thresholds));
  }
  MetricChart* redis() const { return page_->chart(DashboardPage::RedisChart); }

  static void save(QWidget* w, const QString& name) {
    if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty())
      QVERIFY(w->grab().save(dir + QLatin1Char('/') + name));
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
  }

  void init() {
    service_ = std::make_unique<tier::ui::CoreService>();
    page_ = std::make_unique<DashboardPage>(service_.get());
    page_->setRangeMinutes(5);
    page_->setLogScale(false);
    page_->resize(1400, 900);
    redis()->resize(640, 360);
  }

  void cleanup() {
    page_.reset();
    service_.reset();
  }

  void linearAxisFollowsTheSteadyStateAndThreshold() {
    feedRun();
    QCOMPARE(redis()->series(MetricSeries::RedisP99)->count(), kSamples);
    save(redis(), QStringLiteral("chart-redis-linear.png"));
    save(page_.get(), QStringLiteral("dashboard-linear.png"));
    auto* y = qobject_cast<QValueAxis*>(redis()->valueAxis());
    QVERIFY(y);
    QCOMPARE(y->min(), 0.0);
    // The 5 ms limit with headroom, not the 400 ms spike.
    QVERIFY2(y->max() >= 5.0 * 1.2, qPrintable(QString::number(y->max())));
    QVERIFY2(y->max() <= 10.0, qPrintable(QString::number(y->max())));
    // The data itself is unchanged: the spike is still in the series (clipped by the plot area).
    const auto p99 = redis()->series(MetricSeries::RedisP99)->points();
    QCOMPARE(p99.at(kSpikeAt).y(), 400.0);

    // The database chart: a 900 ms spike over 20-24 ms with a 50 ms limit.
    auto* db = qobject_cast<QValueAxis*>(page_->chart(DashboardPage::DbChart)->valueAxis());
    QVERIFY(db);
    QVERIFY2(db->max() >= 60.0 && db->max() <= 100.0, qPrintable(QString::number(db->max())));
  }

  void clippedSpikeIsMarkedWithItsValue() {
    feedRun();
    QScatterSeries* marks = redis()->spikeSeries();
    QVERIFY(marks);
    QVERIFY(marks->isVisible());
    const double top = qobject_cast<QValueAxis*>(redis()->valueAxis())->max();
    // One marker at the spike's time, on the top edge (p50 and p99 spiked at the same second).
    QCOMPARE(marks->count(), 1);
    QCOMPARE(marks->at(0).x(), spikeX());
    QVERIFY(marks->at(0).y() <= top && marks->at(0).y() >= top * 0.9);
    QVERIFY(marks->attachedAxes().contains(redis()->valueAxis()));
    // The real value, in the legend and on hover.
    QVERIFY2(marks->name().contains(QStringLiteral("400 ms")), qPrintable(marks->name()));
    const QString hover = redis()->hoverText(marks, QPointF(spikeX() + 200, top));
    QVERIFY2(hover.contains(QStringLiteral("p99")) && hover.contains(QStringLiteral("400 ms")), qPrintable(hover));
    (void)redis()->grab();  // lays the chart out, as showing it would
    const auto legend = redis()->chart()->legend()->markers(marks);
    QCOMPARE(legend.size(), 1);
    QVERIFY(legend.first()->isVisible());
    QCOMPARE(legend.first()->label(), marks->name());
    // Laid out, the mark is still within the axis, below its top edge.
    QVERIFY(marks->at(0).y() < top && marks->at(0).y() >= top * 0.9);

    // A chart without a spike has no marker and no legend entry for one.
    QScatterSeries* none = page_->chart(DashboardPage::SessionChart)->spikeSeries();
    QCOMPARE(none->count(), 0);
    QVERIFY(!none->isVisible());
  }

  void darkThemeKeepsTheMark() {
    feedRun();
    redis()->setDark(true);  // the chart theme resets series colours and legend markers
    save(redis(), QStringLiteral("chart-redis-dark.png"));
    QScatterSeries* marks = redis()->spikeSeries();
    QCOMPARE(marks->count(), 1);
    QVERIFY(marks->isVisible());
    const auto legend = redis()->chart()->legend()->markers(marks);
    QCOMPARE(legend.size(), 1);
    QCOMPARE(legend.first()->shape(), QLegend::MarkerShapeFromSeries);
    QCOMPARE(marks->color(), QColor(0xff, 0x6b, 0x6b));  // the dark palette's limit colour
  }

  void spikeOutOfRangeLeavesNoMarker() {
    feedRun();
    page_->setRangeMinutes(1);  // the last 60 s: the spike at start-up is not in view
    QCOMPARE(redis()->spikeSeries()->count(), 0);
    QVERIFY(!redis()->spikeSeries()->isVisible());
    auto* y = qobject_cast<QValueAxis*>(redis()->valueAxis());
    QVERIFY(y->max() >= 6.0 && y->max() <= 10.0);
    page_->setRangeMinutes(5);
    QCOMPARE(redis()->spikeSeries()->count(), 1);
  }

  void logScaleShowsTheSpikeWhole() {
    feedRun();
    page_->setLogScale(true);
    save(redis(), QStringLiteral("chart-redis-log.png"));
    auto* log = qobject_cast<QLogValueAxis*>(redis()->valueAxis());
    QVERIFY(log);
    // In log scale the decades hold the spike: nothing is clipped, nothing marked.
    QVERIFY(log->max() >= 400.0);
    QVERIFY(log->min() <= 0.5);
    QCOMPARE(redis()->spikeSeries()->count(), 0);
    QVERIFY(!redis()->spikeSeries()->isVisible());
    QVERIFY(redis()->spikeSeries()->attachedAxes().contains(log));
    page_->setLogScale(false);
    auto* y = qobject_cast<QValueAxis*>(redis()->valueAxis());
    QVERIFY(y);
    QVERIFY(y->max() <= 10.0);
    QCOMPARE(redis()->spikeSeries()->count(), 1);
    QVERIFY(redis()->spikeSeries()->attachedAxes().contains(y));
    QCOMPARE(redis()->chart()->axes(Qt::Vertical).size(), 1);
  }

  void steadyDataIsNotClipped() {
    // No spike: a 2-6 ms sawtooth stays whole on the axis, with no marker.
    for (int i = 0; i < kSamples; ++i) {
      StatsSnapshot s = sample(i == kSpikeAt ? kSpikeAt + 1 : i, service_->settings().thresholds);
      s.at_ms = kT0 + 1000 + qint64(i) * 1000;
      setLatency(s.window, Op::RedisCommand, 2.0 + (i % 5));
      Q_EMIT service_->statsAvailable(s);
    }
    auto* y = qobject_cast<QValueAxis*>(redis()->valueAxis());
    QVERIFY2(y->max() >= 6.0, qPrintable(QString::number(y->max())));
    QCOMPARE(redis()->spikeSeries()->count(), 0);
  }
};

QTEST_MAIN(TestChartAxisScale)
#include "tst_chart_axis_scale.moc"
