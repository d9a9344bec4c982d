// The Dashboard page fed synthetic sliding-window snapshots through
// CoreService::statsAvailable (no servers): series contents and point budgets,
// threshold lines that follow the settings, tile texts and status colours,
// pause, range, log scale, hover text, CSV/PNG export, the server panel, the
// latencystats model under QAbstractItemModelTester, and the refresh cost with
// every chart on 60 minutes of data.
#include <QAbstractItemModelTester>
#include <QCategoryAxis>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QtTest>
#include <algorithm>
#include <memory>

#include "common/core_service.h"
#include "dashboard/dashboard_page.h"
#include "dashboard/latency_stats_model.h"
#include "dashboard/metric_chart.h"
#include "dashboard/server_panel.h"
#include "dashboard/threshold_tile.h"
#include "pages.h"

using tier::metrics::Counter;
using tier::metrics::Op;
using tier::metrics::Status;
using tier::ui::DashboardPage;
using tier::ui::MetricSeries;
using tier::ui::StatsSnapshot;
using tier::ui::ThresholdTile;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000;

struct Values {
  double hit = 0.9;        // fraction of reads served by L1+L2 (0 reads if < 0)
  double redis_p99 = 2.0;  // ms
  double session_p99 = 4.0;
  double db_p99 = 20.0;
  double knowledge_p99 = 0.5;
  std::uint64_t errors = 0;
};

void setLatency(tier::metrics::Snapshot& w, Op op, double p99) {
  auto& l = w.latency[int(op)];
  l.count = 100;
  l.p50_ms = p99 / 4;
  l.p95_ms = p99 / 2;
  l.p99_ms = p99;
  l.max_ms = p99 * 1.5;
  l.mean_ms = p99 / 3;
}

// A refresh as CoreService builds it: a 10 s window and its evaluated thresholds.
StatsSnapshot snapshot(qint64 at_ms, const Values& v, const tier::Thresholds& t = {}) {
  StatsSnapshot s;
  s.at_ms = at_ms;
  auto& w = s.window;
  w.window = std::chrono::seconds(10);
  w.taken_at_unix_ms = at_ms;
  if (v.hit >= 0) {
    w.counters[int(Counter::Read)] = 1000;
    w.counters[int(Counter::L1Hit)] = std::uint64_t(v.hit * 700);
    w.counters[int(Counter::L2Hit)] = std::uint64_t(v.hit * 1000) - std::uint64_t(v.hit * 700);
  }
  w.counters[int(Counter::Write)] = 200;
  w.counters[int(Counter::Error)] = v.errors;
  setLatency(w, Op::RedisCommand, v.redis_p99);
  setLatency(w, Op::SessionRetrieval, v.session_p99);
  setLatency(w, Op::DbQuery, v.db_p99);
  setLatency(w, Op::KnowledgeLookup, v.knowledge_p99);
  s.thresholds = tier::metrics::evaluate(w, t);
  return s;
}

QList<QPointF> points(DashboardPage& page, DashboardPage::ChartId chart, MetricSeries series) {
  return page.chart(chart)->series(series)->points();
}

}  // namespace

class TestDashboard : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<tier::ui::CoreService> service_;
  std::unique_ptr<DashboardPage> page_;

  void feed(int count, qint64 start_ms, const Values& v, int step_ms = 1000) {
    for (int i = 0; i < count; ++i)
      Q_EMIT service_->statsAvailable(snapshot(start_ms + qint64(i) * step_ms, v, service_->settings().thresholds));
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings of the page go to a test location
    QSettings().clear();
  }

  void init() {
    service_ = std::make_unique<tier::ui::CoreService>();
    page_ = std::make_unique<DashboardPage>(service_.get());
    page_->setRangeMinutes(5);
    page_->setLogScale(false);
    page_->resize(1400, 900);
  }

  void cleanup() {
    page_.reset();
    service_.reset();
  }

  void factoryBuildsThePage() {
    std::unique_ptr<QWidget> w(tier::ui::createDashboardPage(service_.get(), nullptr));
    QVERIFY(qobject_cast<DashboardPage*>(w.get()));
  }

  void emptyBeforeData() {
    QVERIFY(page_->history().empty());
    QVERIFY(page_->statusText().contains(QStringLiteral("Not connected")));
    for (int i = 0; i < DashboardPage::kTileCount; ++i) {
      auto* tile = page_->tile(DashboardPage::TileId(i));
      QCOMPARE(tile->status(), Status::NoData);
      QCOMPARE(tile->valueText(), QStringLiteral("—"));
    }
    QVERIFY(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99).isEmpty());
  }

  void seriesFollowSnapshots() {
    feed(30, kT0 + 1000, Values{});
    QCOMPARE(page_->history().size(), std::size_t(30));
    const auto p99 = points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99);
    QCOMPARE(p99.size(), 30);
    QCOMPARE(p99.first(), QPointF(double(kT0 + 1000), 2.0));
    QCOMPARE(p99.last(), QPointF(double(kT0 + 30'000), 2.0));
    QCOMPARE(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP50).last().y(), 0.5);
    QCOMPARE(points(*page_, DashboardPage::DbChart, MetricSeries::DbP99).last().y(), 20.0);
    QCOMPARE(points(*page_, DashboardPage::SessionChart, MetricSeries::SessionP99).last().y(), 4.0);
    QCOMPARE(points(*page_, DashboardPage::KnowledgeChart, MetricSeries::KnowledgeP99).last().y(), 0.5);
    QCOMPARE(points(*page_, DashboardPage::HitRateChart, MetricSeries::HitRate).last().y(), 90.0);
    QCOMPARE(points(*page_, DashboardPage::HitRateChart, MetricSeries::L1HitRate).last().y(), 63.0);
    QCOMPARE(points(*page_, DashboardPage::HitRateChart, MetricSeries::L2HitRate).last().y(), 27.0);
    QCOMPARE(points(*page_, DashboardPage::ThroughputChart, MetricSeries::OpsPerSecond).last().y(), 120.0);
    QVERIFY(page_->statusText().startsWith(QStringLiteral("Live")));

    // The time axis shows exactly the visible range, ending at the newest sample.
    auto* x = page_->chart(DashboardPage::RedisChart)->timeAxis();
    QCOMPARE(x->max(), double(kT0 + 30'000));
    QCOMPARE(x->min(), double(kT0 + 30'000 - 5 * 60'000));
    QVERIFY(x->count() >= 5);  // one label per minute
  }

  void thresholdLinesFollowSettings() {
    feed(5, kT0 + 1000, Values{});
    auto* line = page_->chart(DashboardPage::RedisChart)->thresholdSeries();
    const auto [from, to] = page_->visibleRange();
    QCOMPARE(line->points(), (QList<QPointF>{{double(from), 5.0}, {double(to), 5.0}}));
    QCOMPARE(page_->chart(DashboardPage::HitRateChart)->thresholdValue().value(), 80.0);
    QCOMPARE(page_->chart(DashboardPage::SessionChart)->thresholdValue().value(), 10.0);
    QCOMPARE(page_->chart(DashboardPage::DbChart)->thresholdValue().value(), 50.0);
    QCOMPARE(page_->chart(DashboardPage::KnowledgeChart)->thresholdValue().value(), 2.0);
    QVERIFY(!page_->chart(DashboardPage::ThroughputChart)->thresholdSeries());
    QVERIFY(line->name().contains(QStringLiteral("5 ms")));

    // Thresholds are configuration: a change shows on the next refresh.
    tier::Thresholds t;
    t.redis_p99_ms = 8;
    t.hit_rate_min = 0.95;
    service_->setThresholds(t);
    feed(1, kT0 + 6000, Values{});
    QCOMPARE(line->points().first().y(), 8.0);
    QCOMPARE(page_->chart(DashboardPage::HitRateChart)->thresholdSeries()->points().last().y(), 95.0);
    QVERIFY(page_->tile(DashboardPage::RedisTile)->limitText().contains(QStringLiteral("8 ms")));
    QCOMPARE(page_->tile(DashboardPage::HitRateTile)->status(), Status::Violation);  // 90 % < 95 %
    // The value axis always reaches the limit, so the line is on the chart.
    auto* y = qobject_cast<QValueAxis*>(page_->chart(DashboardPage::DbChart)->valueAxis());
    QVERIFY(y);
    QVERIFY(y->max() >= 50.0);
  }

  void tilesShowValueLimitStatusAndCompliance() {
    Values ok;
    feed(10, kT0 + 1000, ok);
    Values bad = ok;
    bad.redis_p99 = 7.5;    // limit 5: violation
    bad.session_p99 = 9.0;  // limit 10, amber from 8
    bad.hit = -1;           // no reads in the window: no data
    feed(20, kT0 + 11'000, bad);

    auto* redis = page_->tile(DashboardPage::RedisTile);
    QCOMPARE(redis->valueText(), QStringLiteral("7.50 ms"));
    QCOMPARE(redis->status(), Status::Violation);
    QCOMPARE(redis->statusLabelText(), QStringLiteral("Violation"));
    QCOMPARE(redis->statusColor(), tier::ui::statusColor(Status::Violation, redis->palette()));
    QCOMPARE(redis->statusColor(), QColor(0xd3, 0x2f, 0x2f));
    QVERIFY2(redis->limitText().contains(QStringLiteral("< 5 ms")), qPrintable(redis->limitText()));
    // 10 of the 30 samples shown were within the limit.
    QVERIFY2(redis->complianceText().startsWith(QStringLiteral("33.3 % in limit")),
             qPrintable(redis->complianceText()));
    QVERIFY2(redis->complianceText().contains(QStringLiteral("last 30 s")), qPrintable(redis->complianceText()));

    auto* session = page_->tile(DashboardPage::SessionTile);
    QCOMPARE(session->status(), Status::Warn);
    QCOMPARE(session->statusColor(), QColor(0xe0, 0x8e, 0x0b));
    QVERIFY(session->complianceText().startsWith(QStringLiteral("100.0 % in limit")));

    auto* db = page_->tile(DashboardPage::DbTile);
    QCOMPARE(db->status(), Status::Ok);
    QCOMPARE(db->valueText(), QStringLiteral("20.0 ms"));
    QCOMPARE(db->statusColor(), QColor(0x2e, 0x9d, 0x4f));

    auto* knowledge = page_->tile(DashboardPage::KnowledgeTile);
    QCOMPARE(knowledge->valueText(), QStringLiteral("500 µs"));

    auto* hit = page_->tile(DashboardPage::HitRateTile);
    QCOMPARE(hit->status(), Status::NoData);
    QCOMPARE(hit->valueText(), QStringLiteral("—"));
    QCOMPARE(hit->statusColor(), hit->palette().color(QPalette::Mid));
    // The 10 samples with reads were all at 90 %, above 80 %.
    QVERIFY2(hit->complianceText().startsWith(QStringLiteral("100.0 % in limit")), qPrintable(hit->complianceText()));
    // Windows without reads leave a gap, not a fake 100 %.
    QCOMPARE(points(*page_, DashboardPage::HitRateChart, MetricSeries::HitRate).size(), 10);
  }

  // A narrow tile wraps its title and grows: no line is drawn over another
  // (the tiles once kept a one-line title's height, so at 1280 px "Redis p99
  // (client)" ran into its value and the compliance line was cut).
  void aNarrowTileGrowsForItsWrappedTitle() {
    // As on the dashboard: a row of tiles above a part that takes the rest of the height.
    QWidget window;
    auto* column = new QVBoxLayout(&window);
    auto* row = new QWidget(&window);
    auto* lay = new QHBoxLayout(row);
    lay->setContentsMargins(0, 0, 0, 0);
    auto* tile = new ThresholdTile(QStringLiteral("Redis p99 (client)"), row);
    lay->addWidget(tile);
    column->addWidget(row);
    column->addStretch(1);
    window.resize(170, 400);  // a tile narrower than its title on one line
    tile->setState(Status::Ok, QStringLiteral("410 µs"), QStringLiteral("limit < 5 ms"),
                   QStringLiteral("100.0 % in limit · last 14 s"));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* title = tile->findChild<QLabel*>(QStringLiteral("title"));
    auto* value = tile->findChild<QLabel*>(QStringLiteral("value"));
    auto* compliance = tile->findChild<QLabel*>(QStringLiteral("compliance"));
    QVERIFY(title && value && compliance);
    QVERIFY2(title->height() >= title->heightForWidth(title->width()),
             qPrintable(QStringLiteral("title %1 px for %2").arg(title->height()).arg(title->heightForWidth(title->width()))));
    QVERIFY(title->geometry().bottom() < value->geometry().top());
    QVERIFY(compliance->height() >= compliance->heightForWidth(compliance->width()));
    QVERIFY(compliance->geometry().bottom() <= tile->contentsRect().bottom());
    QVERIFY(tile->height() >= tile->heightForWidth(tile->width()));
  }

  void complianceCoversTheVisibleRangeOnly() {
    Values bad;
    bad.redis_p99 = 9;
    feed(120, kT0 + 1000, bad);         // two bad minutes
    feed(60, kT0 + 121'000, Values{});  // one good minute
    page_->setRangeMinutes(1);
    QVERIFY2(page_->tile(DashboardPage::RedisTile)
                 ->complianceText()
                 .startsWith(QStringLiteral("100.0 % in limit · last 1 min")),
             qPrintable(page_->tile(DashboardPage::RedisTile)->complianceText()));
    page_->setRangeMinutes(5);
    QVERIFY2(page_->tile(DashboardPage::RedisTile)
                 ->complianceText()
                 .startsWith(QStringLiteral("33.3 % in limit · last 3 min")),
             qPrintable(page_->tile(DashboardPage::RedisTile)->complianceText()));
  }

  void rangeSelectsTheVisibleSamples() {
    feed(600, kT0 + 1000, Values{});
    page_->setRangeMinutes(1);
    QCOMPARE(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99).size(), 60);
    QVERIFY(page_->rangeAction(1)->isChecked());
    page_->setRangeMinutes(5);
    QCOMPARE(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99).size(), 300);
    // The range actions drive the same state, with shortcuts.
    page_->rangeAction(15)->trigger();
    QCOMPARE(page_->rangeMinutes(), 15);
    QCOMPARE(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99).size(), 600);
    QCOMPARE(page_->rangeAction(1)->shortcut(), QKeySequence(QStringLiteral("Alt+1")));
    QCOMPARE(page_->rangeAction(60)->shortcut(), QKeySequence(QStringLiteral("Alt+4")));
    page_->setRangeMinutes(7);  // not offered: ignored
    QCOMPARE(page_->rangeMinutes(), 15);
  }

  void sixtyMinutesAreDownsampledKeepingPeaks() {
    page_->setPaused(true);  // record silently, as when an operator pauses for an hour
    Values v;
    for (int i = 0; i < 3600; ++i) {
      v.redis_p99 = (i == 1234) ? 40.0 : 2.0;
      Q_EMIT service_->statsAvailable(snapshot(kT0 + 1000 + qint64(i) * 1000, v));
    }
    QCOMPARE(page_->history().size(), std::size_t(3600));
    page_->setRangeMinutes(60);
    page_->setPaused(false);
    for (int c = 0; c < DashboardPage::kChartCount; ++c)
      for (auto* s : page_->chart(DashboardPage::ChartId(c))->chart()->series()) {
        auto* line = qobject_cast<QXYSeries*>(s);  // lines, and a latency chart's spike marks
        QVERIFY(line->count() <= DashboardPage::kMaxPointsPerSeries);
      }
    const auto p99 = points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99);
    QCOMPARE(p99.size(), DashboardPage::kMaxPointsPerSeries);
    const auto peak = std::max_element(p99.begin(), p99.end(), [](auto& a, auto& b) { return a.y() < b.y(); });
    QCOMPARE(peak->y(), 40.0);  // one bad second in an hour is still visible
    QCOMPARE(peak->x(), double(kT0 + 1000 + 1234 * 1000));
  }

  void pauseFreezesTheView() {
    feed(10, kT0 + 1000, Values{});
    page_->pauseAction()->trigger();
    QVERIFY(page_->paused());
    QCOMPARE(page_->pauseAction()->shortcut(), QKeySequence(Qt::Key_Space));
    Values bad;
    bad.redis_p99 = 9;
    feed(10, kT0 + 11'000, bad);
    QCOMPARE(page_->history().size(), std::size_t(20));  // still recorded
    QCOMPARE(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99).size(), 10);
    QCOMPARE(page_->tile(DashboardPage::RedisTile)->status(), Status::Ok);
    QVERIFY(page_->statusText().startsWith(QStringLiteral("Paused")));
    // A range change while paused keeps the pause point.
    page_->setRangeMinutes(1);
    QCOMPARE(page_->visibleRange().second, kT0 + 10'000);
    page_->pauseAction()->trigger();
    QVERIFY(!page_->paused());
    QCOMPARE(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99).size(), 20);
    QCOMPARE(page_->tile(DashboardPage::RedisTile)->status(), Status::Violation);  // caught up at once
  }

  void logScaleSwapsTheLatencyAxis() {
    Values v;
    v.knowledge_p99 = 0.002;
    feed(10, kT0 + 1000, v);
    auto* chart = page_->chart(DashboardPage::KnowledgeChart);
    QVERIFY(qobject_cast<QValueAxis*>(chart->valueAxis()));
    page_->logScaleAction()->trigger();
    QVERIFY(page_->logScale());
    auto* log = qobject_cast<QLogValueAxis*>(chart->valueAxis());
    QVERIFY(log);
    QVERIFY(chart->thresholdSeries()->attachedAxes().contains(log));
    QVERIFY(chart->series(MetricSeries::KnowledgeP99)->attachedAxes().contains(log));
    QVERIFY(log->min() <= 0.0005);  // the p50 (0.5 µs) is on the chart
    QVERIFY(log->max() >= 2.0);     // and so is the 2 ms limit
    // Rates and percentages keep a linear axis.
    QVERIFY(qobject_cast<QValueAxis*>(page_->chart(DashboardPage::HitRateChart)->valueAxis()));
    page_->setLogScale(false);
    QVERIFY(qobject_cast<QValueAxis*>(chart->valueAxis()));
    QCOMPARE(chart->chart()->axes(Qt::Vertical).size(), 1);
  }

  void hoverShowsTheValue() {
    Values v;
    v.redis_p99 = 3.25;
    feed(5, kT0 + 1000, v);
    auto* chart = page_->chart(DashboardPage::RedisChart);
    const QString text = chart->hoverText(chart->series(MetricSeries::RedisP99), QPointF(double(kT0 + 3400), 3.0));
    QVERIFY2(text.contains(QStringLiteral("p99")) && text.contains(QStringLiteral("3.25 ms")), qPrintable(text));
    QVERIFY2(text.startsWith(QDateTime::fromMSecsSinceEpoch(kT0 + 3000).toString(QStringLiteral("HH:mm:ss"))),
             qPrintable(text));
    QVERIFY(
        chart->hoverText(chart->thresholdSeries(), QPointF(double(kT0 + 2000), 5.0)).contains(QStringLiteral("5 ms")));
  }

  void csvHasEveryVisibleSample() {
    Values v;
    v.errors = 20;
    feed(90, kT0 + 1000, v);
    page_->setRangeMinutes(1);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("series.csv"));
    QCOMPARE(page_->writeCsv(path), QString());
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + 60);
    const QStringList header = lines[0].split(QLatin1Char(','));
    QCOMPARE(header.size(), 2 + tier::ui::kMetricSeriesCount);
    QCOMPARE(header[0], QStringLiteral("timestamp"));
    QVERIFY(header.contains(QStringLiteral("redis_p99_ms")));
    const QStringList last = lines.last().split(QLatin1Char(','));
    QCOMPARE(last.size(), header.size());
    QCOMPARE(last[1], QString::number(kT0 + 90'000));
    QVERIFY(last[0].endsWith(QLatin1Char('Z')));
    QCOMPARE(last[header.indexOf(QStringLiteral("redis_p99_ms"))].toDouble(), 2.0);
    QCOMPARE(last[header.indexOf(QStringLiteral("errors_per_s"))].toDouble(), 2.0);
    QCOMPARE(last[header.indexOf(QStringLiteral("hit_rate_pct"))].toDouble(), 90.0);
    QVERIFY(!page_->writeCsv(dir.filePath(QStringLiteral("no/such/dir/x.csv"))).isEmpty());
  }

  void pngOfTheWholeDashboard() {
    feed(20, kT0 + 1000, Values{});
    page_->show();
    QVERIFY(QTest::qWaitForWindowExposed(page_.get()));
    const QPixmap png = page_->renderDashboard();
    QVERIFY(!png.isNull());
    // Every chart, even those scrolled out of view, and the server panel are in it.
    QVERIFY(png.deviceIndependentSize().width() >= page_->serverPanel()->width() + 2 * 300);
    QVERIFY(png.deviceIndependentSize().height() >= 3 * 190);
    QVERIFY(page_->exportPngAction()->shortcut() == QKeySequence(QStringLiteral("Ctrl+E")));
    QVERIFY(page_->exportCsvAction()->shortcut() == QKeySequence(QStringLiteral("Ctrl+Shift+E")));
    QVERIFY(page_->exportPngAction()->toolTip().contains(QStringLiteral("Ctrl+E")));
  }

  void serverPanelFromHealth() {
    tier::ops::HealthReport r;
    r.redis.configured = r.redis.ok = true;
    r.redis.version = "7.0.15";
    r.redis.endpoint = "redis://127.0.0.1:6379/0";
    r.redis.used_memory = 65'683'864;
    r.redis.keyspace_hits = 750;
    r.redis.keyspace_misses = 250;
    r.redis.slowlog_len = 3;
    r.redis.latencystats =
        "# Latencystats\r\nlatency_percentiles_usec_get:p50=2.007,p99=6.015,p99.9=44.031\r\n"
        "latency_percentiles_usec_client|setname:p50=3.007,p99=5.023,p99.9=9.023\r\n"
        "latency_percentiles_usec_scan:p50=8.031,p99=1514.047,p99.9=1782.335\r\n";
    r.redis.latency_latest = "command: latest 12 ms, max 40 ms\n";
    r.redis.pool.size = 12;
    r.redis.pool.open = 3;
    r.redis.pool.in_use = 1;
    r.redis.pool.breaker = tier::redis::BreakerState::Open;
    r.postgres.ok = true;
    r.postgres.version = "15.18";
    r.postgres.connections = 8;
    r.postgres.max_connections = 100;
    r.postgres.cache_hit_ratio = 0.988;
    r.postgres.schema_version = 2;
    Q_EMIT service_->healthAvailable(r);

    auto* panel = page_->serverPanel();
    QCOMPARE(panel->field(QStringLiteral("redis.version")), QStringLiteral("7.0.15"));
    QVERIFY(panel->field(QStringLiteral("redis.hits")).contains(QStringLiteral("75.0 % hits")));
    QVERIFY(panel->field(QStringLiteral("redis.slowlog")).startsWith(QStringLiteral("3")));
    QCOMPARE(panel->field(QStringLiteral("pg.connections")), QStringLiteral("8 / 100"));
    QCOMPARE(panel->field(QStringLiteral("pg.cache")), QStringLiteral("98.8 %"));
    QCOMPARE(panel->field(QStringLiteral("pg.schema")), QStringLiteral("v2"));
    QVERIFY(panel->field(QStringLiteral("pool.redis")).startsWith(QStringLiteral("3 / 12 open · 1 in use")));
    QVERIFY(panel->field(QStringLiteral("pool.breaker")).contains(QStringLiteral("open")));
    QCOMPARE(panel->latencyModel()->rowCount(), 3);
    // The view sorts by p99, worst first.
    auto* view = panel->latencyView();
    QCOMPARE(view->model()->index(0, tier::ui::LatencyStatsModel::Command).data().toString(), QStringLiteral("scan"));
    QCOMPARE(view->model()->index(0, tier::ui::LatencyStatsModel::P99).data().toString(), QStringLiteral("1.51 ms"));

    // Redis down: the panel says so and the table empties.
    r.redis.ok = false;
    r.redis.error = "connection refused";
    Q_EMIT service_->healthAvailable(r);
    QCOMPARE(panel->field(QStringLiteral("redis.version")), QStringLiteral("—"));
    QCOMPARE(panel->latencyModel()->rowCount(), 0);

    // The PostgreSQL read replica: none, then its lag, then down.
    QCOMPARE(panel->field(QStringLiteral("pg.replica")), QStringLiteral("none (every read on the primary)"));
    r.replica.configured = true;
    r.replica.ok = true;
    r.replica.endpoint = "host=replica port=5433";
    r.replica.lag_bytes = 4096;
    r.replica.lag_seconds = 0.25;
    r.replica.routing.replica_reads = 12;
    r.replica.routing.primary_reads = 3;
    r.replica.routing.fallback_lag = 3;
    Q_EMIT service_->healthAvailable(r);
    QVERIFY(panel->field(QStringLiteral("pg.replica")).startsWith(QStringLiteral("ok · host=replica port=5433")));
    QVERIFY2(panel->field(QStringLiteral("pg.replica_lag")).endsWith(QStringLiteral(" bytes · 0.250 s")),
             qPrintable(panel->field(QStringLiteral("pg.replica_lag"))));
    QVERIFY(panel->field(QStringLiteral("pg.replica_reads")).startsWith(QStringLiteral("replica 12 · primary 3")));
    r.replica.ok = false;
    r.replica.error = "connection refused";
    Q_EMIT service_->healthAvailable(r);
    QVERIFY(panel->field(QStringLiteral("pg.replica")).startsWith(QStringLiteral("DOWN")));
    QCOMPARE(panel->field(QStringLiteral("pg.replica_lag")), QStringLiteral("—"));
  }

  void parseLatencyStats() {
    const auto rows = tier::ui::parseLatencyStats(
        "# Latencystats\r\nlatency_percentiles_usec_get:p50=2.007,p99=6.015,p99.9=44.031\r\n"
        "garbage line\nlatency_percentiles_usec_config|get:p50=1,p99=2\n"
        "latency_percentiles_usec_bad:p50=x,p99=-3\n");
    QCOMPARE(rows.size(), std::size_t(3));
    QCOMPARE(rows[0].command, QStringLiteral("get"));
    QCOMPARE(rows[0].p50_us, 2.007);
    QCOMPARE(rows[0].p999_us, 44.031);
    QCOMPARE(rows[1].command, QStringLiteral("config get"));
    QCOMPARE(rows[1].p999_us, -1.0);  // not reported
    QCOMPARE(rows[2].p50_us, -1.0);   // unparsable values are not reported as 0
    QCOMPARE(rows[2].p99_us, -1.0);
    QVERIFY(tier::ui::parseLatencyStats("").empty());
    QCOMPARE(tier::ui::formatMicros(-1), QStringLiteral("—"));
    QCOMPARE(tier::ui::formatMicros(6.015), QStringLiteral("6.0 µs"));
    QCOMPARE(tier::ui::formatMicros(1514.0), QStringLiteral("1.51 ms"));
  }

  void latencyStatsModelUnderTester() {
    tier::ui::LatencyStatsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(tier::ui::LatencyStatsModel::SortRole);
    proxy.sort(tier::ui::LatencyStatsModel::P99, Qt::DescendingOrder);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.columnCount(), 4);
    model.setRows(
        tier::ui::parseLatencyStats("latency_percentiles_usec_get:p50=2,p99=6,p99.9=44\n"
                                    "latency_percentiles_usec_set:p50=3,p99=9\n"));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(proxy.index(0, 0).data().toString(), QStringLiteral("set"));
    QCOMPARE(model.index(1, tier::ui::LatencyStatsModel::P999).data().toString(), QStringLiteral("—"));
    QCOMPARE(model.index(0, tier::ui::LatencyStatsModel::P99).data(tier::ui::LatencyStatsModel::SortRole).toDouble(),
             6.0);
    QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QStringLiteral("p50"));
    model.setRows({});
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(proxy.rowCount(), 0);
  }

  void newConnectionStartsAFreshHistory() {
    feed(10, kT0 + 1000, Values{});
    Q_EMIT service_->coreReady();
    QVERIFY(page_->history().empty());
    QVERIFY(points(*page_, DashboardPage::RedisChart, MetricSeries::RedisP99).isEmpty());
    QCOMPARE(page_->tile(DashboardPage::RedisTile)->status(), Status::NoData);
  }

  // Chart refresh at 1 s with every chart on 60 minutes must cost < 5 % of a
  // core: under 50 ms per refresh, painting included.
  void refreshCostOnAnHourOfData() {
    page_->show();
    QVERIFY(QTest::qWaitForWindowExposed(page_.get()));
    page_->setPaused(true);
    Values v;
    for (int i = 0; i < 3600; ++i) {
      v.redis_p99 = 2.0 + (i % 37) * 0.1;
      v.db_p99 = 10.0 + (i % 53);
      v.hit = 0.8 + (i % 17) * 0.01;
      Q_EMIT service_->statsAvailable(snapshot(kT0 + 1000 + qint64(i) * 1000, v));
    }
    page_->setRangeMinutes(60);
    page_->setPaused(false);
    QCoreApplication::processEvents();
    const int ticks = 10;
    QElapsedTimer timer;
    timer.start();
    qint64 update_ns = 0, paint_ns = 0;
    for (int i = 0; i < ticks; ++i) {
      QElapsedTimer step;
      step.start();
      Q_EMIT service_->statsAvailable(snapshot(kT0 + 3'601'000 + qint64(i) * 1000, v));
      update_ns += step.nsecsElapsed();
      step.restart();
      for (int c = 0; c < DashboardPage::kChartCount; ++c)
        page_->chart(DashboardPage::ChartId(c))->viewport()->repaint();
      page_->repaint();
      paint_ns += step.nsecsElapsed();
    }
    qInfo("per refresh: series update %.1f ms, painting %.1f ms", update_ns / 1e6 / ticks, paint_ns / 1e6 / ticks);
    const double perTick = double(timer.elapsed()) / ticks;
    qInfo("one refresh with 6 charts on 60 minutes (3600 samples, <= 600 points per series): %.1f ms", perTick);
    // A measurement, not a timed assertion (machines are shared and noisy):
    // scripts/measure-gui reports it against the 5 %-of-a-core target.
    QVERIFY(perTick > 0);
  }
};

QTEST_MAIN(TestDashboard)
#include "tst_dashboard.moc"
