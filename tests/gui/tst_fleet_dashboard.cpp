// The console charts the fleet (issue 14, item 3), against real servers: the
// Fleet panel's model under QAbstractItemModelTester; three TierCores that
// publish (different applications, their own reads) show as three instances
// (+ this console) with their own figures; the source selector defaults to
// Fleet once another instance publishes; a click on an instance charts it
// alone and the tiles show its figures; an alert names the instances over the
// limit; a page built after a restart charts the last hour read back from the
// :hist streams; an instance that stops publishing shows as gone after 10 s.
// TIER_TEST_TIMEOUT: 240
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLineEdit>
#include <QLineSeries>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QtTest>
#include <memory>

#include "alerts/alerts_models.h"
#include "common/core_service.h"
#include "core_fixture.h"
#include "dashboard/dashboard_page.h"
#include "dashboard/fleet_model.h"
#include "dashboard/fleet_panel.h"
#include "dashboard/metric_chart.h"
#include "dashboard/threshold_tile.h"
#include "tier/fleet/wire.h"
#include "tier/redis/redis_client.h"

using namespace tier::ui;
using tier::metrics::Counter;
using tier::metrics::Status;

namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}
QString pct(double ratio) {
  return QStringLiteral("%1 %").arg(QString::number(100.0 * ratio, 'f', 1));
}

tier::fleet::InstanceView instance(const std::string& id, const std::string& app, bool gone, std::uint64_t reads,
                                   std::uint64_t hits, double sessionMs, std::int64_t now) {
  tier::fleet::InstanceView v;
  v.info.version = 1;
  v.info.id = id;
  v.info.app = app;
  v.info.host = "host-" + id;
  v.info.pid = 1000 + std::int64_t(id.size());
  v.info.core_version = "0.9.0";
  v.info.started_at_ms = now - 3'600'000;
  v.info.last_seen_ms = gone ? now - 30'000 : now - 400;
  v.info.interval_ms = 1000;
  v.gone = gone;
  v.sample_count = gone ? 0 : 10;
  v.ops_per_s = gone ? 0 : double(reads) / 10.0;
  v.snapshot.window = std::chrono::seconds(10);
  v.snapshot.counters[int(Counter::Read)] = reads;
  v.snapshot.counters[int(Counter::L1Hit)] = hits;
  auto& l = v.snapshot.latency[int(tier::metrics::Op::SessionRetrieval)];
  l.count = reads;
  l.p99_ms = sessionMs;
  return v;
}

struct Publisher {
  std::unique_ptr<tier::TierCore> core;
  std::string id;
};

}  // namespace

class TestFleetDashboard : public QObject {
  Q_OBJECT

  std::unique_ptr<CoreService> service_;
  std::unique_ptr<DashboardPage> page_;
  std::map<std::string, Publisher> pubs_;  // by app name
  tier::Thresholds thresholds_;

  ConnectionSettings settings() const {
    ConnectionSettings s;
    s.profile = QStringLiteral("tst_fleet_dashboard");
    s.redis_url = qs(tier::test::redisUrl());
    s.pg_conninfo = qs(tier::test::TestServers::shared().pgConninfo());
    s.refresh_ms = 250;
    s.thresholds = thresholds_;
    return s;
  }

  static const FleetModel::Row* row(const DashboardPage& page, const std::string& id) {
    const int r = page.fleetPanel()->model()->rowOf(id);
    return r < 0 ? nullptr : &page.fleetPanel()->model()->rows()[std::size_t(r)];
  }

  std::unique_ptr<tier::TierCore> publisher(const std::string& app) {
    auto c = tier::test::coreConfig("tst_fleet_dashboard");
    c.fleet.enabled = true;  // the fixture turns publishing off for the other tests
    c.fleet.interval = std::chrono::milliseconds(200);
    c.fleet.app_name = app;
    return std::make_unique<tier::TierCore>(c);
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("tier-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_fleet_dashboard"));
    tier::test::seededServers();
    tier::test::flushRedis();
    thresholds_.hit_rate_min = 0.9;
  }

  void modelUnderTester() {
    FleetModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const std::int64_t now = 1'700'000'000'000;
    tier::fleet::FleetView view;
    view.instances = {
        instance("a1", "billing", false, 1000, 990, 2.0, now), instance("c1", "tierconsole", false, 0, 0, 0, now),
        instance("j1", "journal-api", false, 200, 20, 40.0, now), instance("s1", "search", true, 0, 0, 0, now)};
    model.setFleet(view, "c1", thresholds_, now);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.columnCount(), int(FleetModel::ColumnCount));
    QCOMPARE(model.liveCount(), 3);
    QCOMPARE(model.othersCount(), 3);
    QVERIFY(model.othersLive());
    auto cell = [&](int r, int c, int role = Qt::DisplayRole) { return model.index(r, c).data(role); };
    QCOMPARE(cell(0, FleetModel::Application).toString(), QStringLiteral("billing"));
    QCOMPARE(cell(1, FleetModel::Application).toString(), QStringLiteral("tierconsole"));
    QVERIFY(cell(1, FleetModel::Application, Qt::FontRole).value<QFont>().bold());  // this console's own row
    QVERIFY(cell(1, FleetModel::Application, Qt::ToolTipRole).toString().contains(QStringLiteral("(this console)")));
    QCOMPARE(cell(0, FleetModel::HitRate).toString(), QStringLiteral("99.0 %"));
    QCOMPARE(cell(0, FleetModel::OpsPerSecond).toString(), QStringLiteral("100"));
    QCOMPARE(cell(0, FleetModel::Uptime).toString(), QStringLiteral("1 h 0 min"));
    QCOMPARE(cell(0, FleetModel::LastSeen).toString(), QStringLiteral("0 s ago"));
    // The tiles' colours: 99 % hit rate is green, 10 % red; 40 ms session p99 red (limit 10 ms by default).
    QCOMPARE(cell(0, FleetModel::HitRate, Qt::DecorationRole).value<QColor>(), statusColor(Status::Ok, QPalette()));
    QCOMPARE(cell(2, FleetModel::HitRate, Qt::DecorationRole).value<QColor>(),
             statusColor(Status::Violation, QPalette()));
    QCOMPARE(cell(2, FleetModel::SessionP99, FleetModel::StatusRole).toInt(), int(Status::Violation));
    QCOMPARE(cell(1, FleetModel::HitRate).toString(), QStringLiteral("—"));  // no reads: no figure, no colour
    QVERIFY(!cell(1, FleetModel::HitRate, Qt::DecorationRole).isValid());
    // Gone: greyed, says since when, no figures.
    QVERIFY(cell(3, FleetModel::LastSeen).toString().startsWith(QStringLiteral("gone since ")));
    QVERIFY(cell(3, 0, FleetModel::GoneRole).toBool());
    QVERIFY(cell(3, FleetModel::Host, Qt::ForegroundRole).isValid());
    QCOMPARE(cell(3, FleetModel::OpsPerSecond).toString(), QStringLiteral("—"));

    // The same instances again: rows stay (dataChanged); another set: a reset.
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    view.instances[0].snapshot.counters[int(Counter::L1Hit)] = 500;
    model.setFleet(view, "c1", thresholds_, now + 1000);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(cell(0, FleetModel::HitRate).toString(), QStringLiteral("50.0 %"));
    view.instances.pop_back();
    model.setFleet(view, "c1", thresholds_, now + 2000);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 3);

    // Sorted by number, not text; filtered on any column's text.
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(FleetModel::SortRole);
    proxy.setFilterKeyColumn(-1);
    proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
    proxy.sort(FleetModel::OpsPerSecond, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, FleetModel::Application).data().toString(), QStringLiteral("billing"));
    QCOMPARE(proxy.index(1, FleetModel::Application).data().toString(), QStringLiteral("journal-api"));
    proxy.setFilterFixedString(QStringLiteral("JOURNAL"));
    QCOMPARE(proxy.rowCount(), 1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void alertRowsNameWhoBrokeTheLimit() {
    AlertsModel model;
    tier::metrics::AlertEvent e;
    e.name = "hit_rate";
    e.status = Status::Violation;
    e.value = 0.5;
    e.limit = 0.9;
    e.unit = "ratio";
    e.at_ms = 1'000'000;
    model.addEvent(e, QStringLiteral("Fleet: billing · h · 1"));
    QCOMPARE(model.index(0, AlertsModel::Source).data().toString(), QStringLiteral("Fleet: billing · h · 1"));
    QVERIFY(model.index(0, AlertsModel::Source).data(Qt::ToolTipRole).toString().contains(QStringLiteral("billing")));
    // The clear completes the row and keeps who raised it.
    e.kind = tier::metrics::AlertEvent::Kind::Cleared;
    e.previous = Status::Violation;
    e.started_ms = e.at_ms;
    e.at_ms += 5000;
    model.addEvent(e, QString());
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, AlertsModel::Source).data().toString(), QStringLiteral("Fleet: billing · h · 1"));
    QCOMPARE(model.headerData(AlertsModel::Source, Qt::Horizontal).toString(), QStringLiteral("Source"));
  }

  void onlyThisConsolePublishes() {
    service_ = std::make_unique<CoreService>();
    page_ = std::make_unique<DashboardPage>(service_.get());
    page_->resize(1500, 900);
    page_->show();
    QSignalSpy ready(service_.get(), &CoreService::coreReady);
    service_->connectTo(settings());
    QVERIFY(ready.wait(30'000));
    // The console's own instance shows up once it has published.
    QTRY_VERIFY_WITH_TIMEOUT(page_->fleetPanel()->model()->rowCount() >= 1, 15'000);
    QCOMPARE(page_->fleetPanel()->model()->rowCount(), 1);
    QVERIFY(page_->fleetPanel()->model()->rows()[0].self);
    QCOMPARE(page_->fleetPanel()->summaryText(), FleetPanel::onlyThisConsoleText());
    QCOMPARE(page_->source().kind, MetricsSource::Kind::Console);
    QCOMPARE(page_->sourceCombo()->currentData().toString(), QStringLiteral("console"));
    QCOMPARE(page_->sideTabs()->tabText(page_->sideTabs()->indexOf(page_->fleetPanel())), QStringLiteral("Fleet"));
  }

  void threePublishersWithTheirOwnFigures() {
    QSignalSpy alerts(service_.get(), &CoreService::alertEvent);
    for (const char* app : {"journal-api", "billing", "search"}) {
      Publisher p;
      p.core = publisher(app);
      QVERIFY(p.core->publisher());
      p.id = p.core->publisher()->stats().instance_id;
      pubs_[app] = std::move(p);
    }
    // Different mixes: one entry over and over (all hits after the first),
    // 50 entries once each (misses), 40 entries twice (half hits).
    auto& journal = *pubs_["journal-api"].core;
    auto& billing = *pubs_["billing"].core;
    auto& search = *pubs_["search"].core;
    for (int i = 0; i < 200; ++i) (void)journal.entries().get(1);
    for (int i = 2; i <= 51; ++i) (void)billing.entries().get(i);
    for (int pass = 0; pass < 2; ++pass)
      for (int i = 101; i <= 140; ++i) (void)search.entries().get(i);

    // Each row carries that instance's own figures: the reads its core counted.
    auto matches = [&] {
      for (const auto& [app, p] : pubs_) {
        const auto* r = row(*page_, p.id);
        if (!r || r->gone) return false;
        const auto own = p.core->metrics().snapshot(std::chrono::seconds(0));
        if (r->snapshot.counter(Counter::Read) != own.counter(Counter::Read) ||
            r->snapshot.counter(Counter::L1Hit) + r->snapshot.counter(Counter::L2Hit) !=
                own.counter(Counter::L1Hit) + own.counter(Counter::L2Hit))
          return false;
      }
      return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(matches(), 8'000);
    auto* model = page_->fleetPanel()->model();
    QCOMPARE(model->rowCount(), 4);  // three + this console
    for (const auto& [app, p] : pubs_) {
      const int r = model->rowOf(p.id);
      QCOMPARE(model->index(r, FleetModel::Application).data().toString(), qs(app));
      QCOMPARE(model->index(r, FleetModel::HitRate).data().toString(),
               pct(p.core->metrics().snapshot(std::chrono::seconds(0)).hitRate()));
      QVERIFY(model->index(r, FleetModel::OpsPerSecond).data().toString() != QStringLiteral("—"));
    }
    QCOMPARE(journal.metrics().snapshot(std::chrono::seconds(0)).counter(Counter::Read), 200u);
    QCOMPARE(billing.metrics().snapshot(std::chrono::seconds(0)).hitRate(), 0.0);

    // Another instance publishes: the selector goes to Fleet, the Fleet tab comes forward.
    QTRY_COMPARE_WITH_TIMEOUT(page_->source().kind, MetricsSource::Kind::Fleet, 3'000);
    QCOMPARE(page_->sourceCombo()->currentData().toString(), QStringLiteral("fleet"));
    QCOMPARE(page_->sideTabs()->currentWidget(), static_cast<QWidget*>(page_->fleetPanel()));
    QCOMPARE(page_->sideTabs()->tabText(page_->sideTabs()->indexOf(page_->fleetPanel())), QStringLiteral("Fleet (4)"));
    QCOMPARE(page_->sourceCombo()->count(), 5);  // fleet, three instances, this console
    QVERIFY(page_->fleetPanel()->summaryText().startsWith(QStringLiteral("4 instances publish")));

    // The fleet tile: every instance's reads merged (the console reads no entries).
    std::uint64_t reads = 0, hits = 0;
    for (const auto& [app, p] : pubs_) {
      const auto own = p.core->metrics().snapshot(std::chrono::seconds(0));
      reads += own.counter(Counter::Read);
      hits += own.counter(Counter::L1Hit) + own.counter(Counter::L2Hit);
    }
    const QString fleetHit = pct(double(hits) / double(reads));
    QTRY_COMPARE_WITH_TIMEOUT(page_->tile(DashboardPage::HitRateTile)->valueText(), fleetHit, 3'000);
    QCOMPARE(page_->tile(DashboardPage::HitRateTile)->status(), Status::Violation);  // ~73 % < 90 %

    // The alert names the instances whose own hit rate broke the limit, not the one within it.
    // (It names those over the limit when it is raised: raised again now that all three have published.)
    service_->setThresholds(thresholds_);
    alerts.clear();
    QTRY_VERIFY_WITH_TIMEOUT(!alerts.isEmpty(), 3'000);
    QString source;
    for (const auto& a : alerts)
      if (a.at(0).value<tier::metrics::AlertEvent>().name == "hit_rate") source = a.at(1).toString();
    QVERIFY2(source.startsWith(QStringLiteral("Fleet: ")), qPrintable(source));
    QVERIFY2(source.contains(QStringLiteral("billing")) && source.contains(QStringLiteral("search")),
             qPrintable(source));
    QVERIFY2(!source.contains(QStringLiteral("journal-api")), qPrintable(source));
  }

  void clickChartsOneInstance() {
    auto* panel = page_->fleetPanel();
    page_->sideTabs()->setCurrentWidget(panel);
    const std::string billingId = pubs_["billing"].id;
    QModelIndex proxyIndex;
    for (int r = 0; r < panel->proxy()->rowCount(); ++r)
      if (panel->proxy()->index(r, 0).data(FleetModel::InstanceIdRole).toString() == qs(billingId))
        proxyIndex = panel->proxy()->index(r, FleetModel::Host);
    QVERIFY(proxyIndex.isValid());
    const QRect rect = panel->view()->visualRect(proxyIndex);
    QVERIFY(!rect.isEmpty());
    QTest::mouseClick(panel->view()->viewport(), Qt::LeftButton, {}, rect.center());
    QCOMPARE(page_->source().kind, MetricsSource::Kind::Instance);
    QCOMPARE(page_->source().instance_id, billingId);
    QCOMPARE(page_->sourceCombo()->currentData().toString(), QString(QStringLiteral("instance:") + qs(billingId)));
    QVERIFY(page_->sourceCombo()->currentText().startsWith(QStringLiteral("billing · ")));
    QCOMPARE(service_->alertSource().instance_id, billingId);
    // The tiles now show billing's own figures: 0 % hits and its own DB p99.
    QTRY_COMPARE_WITH_TIMEOUT(page_->tile(DashboardPage::HitRateTile)->valueText(), QStringLiteral("0.0 %"), 3'000);
    const int r = panel->model()->rowOf(billingId);
    QCOMPARE(page_->tile(DashboardPage::DbTile)->valueText(),
             panel->model()->index(r, FleetModel::DbP99).data().toString());

    // The filter narrows the list; the combo takes us back to the fleet.
    panel->filterEdit()->setText(QStringLiteral("journal"));
    QCOMPARE(panel->proxy()->rowCount(), 1);
    panel->filterEdit()->clear();
    QCOMPARE(panel->proxy()->rowCount(), 4);
    auto* combo = page_->sourceCombo();
    const int fleet = combo->findData(QStringLiteral("fleet"));
    combo->setCurrentIndex(fleet);
    Q_EMIT combo->activated(fleet);
    QCOMPARE(page_->source().kind, MetricsSource::Kind::Fleet);
  }

  void historyIsReadBackAfterARestart() {
    // A :hist point is written every 10 s per instance; with two, the oldest
    // 10 s slot holds only points written well before the restart below.
    tier::redis::RedisOptions o;
    o.url = tier::redis::RedisUrl::parse(tier::test::redisUrl());
    tier::redis::RedisClient redis(o);
    const std::string key = tier::fleet::historyKey(pubs_["journal-api"].id);
    QTRY_VERIFY_WITH_TIMEOUT(redis.command({"XLEN", key}).integer >= 2, 25'000);

    // A new console: a new service and page, nothing in memory.
    const qint64 startMs = QDateTime::currentMSecsSinceEpoch();
    CoreService service;
    DashboardPage page(&service);
    QSignalSpy applied(&page, &DashboardPage::historyApplied);
    QSignalSpy ready(&service, &CoreService::coreReady);
    service.connectTo(settings());
    QVERIFY(ready.wait(30'000));
    QVERIFY(applied.wait(15'000));
    QCOMPARE(page.source().kind, MetricsSource::Kind::Fleet);
    QVERIFY(page.historyPoints() >= 1);
    // The ops/s chart has points from before this page existed.
    const auto points = page.chart(DashboardPage::ThroughputChart)->series(MetricSeries::OpsPerSecond)->points();
    QVERIFY(!points.isEmpty());
    QVERIFY2(points.first().x() < double(startMs), qPrintable(QString::number(startMs - points.first().x())));
    QVERIFY(page.lastHistory() && page.lastHistory()->error.isEmpty());
  }

  void silentInstanceShowsAsGone() {
    const std::string id = pubs_["search"].id;
    QVERIFY(row(*page_, id) && !row(*page_, id)->gone);
    QElapsedTimer t;
    t.start();
    pubs_["search"].core.reset();  // its publisher stops: its keys stop updating
    QTRY_VERIFY_WITH_TIMEOUT(row(*page_, id) && row(*page_, id)->gone, 20'000);
    QVERIFY2(t.elapsed() >= 9'000, qPrintable(QString::number(t.elapsed())));  // 10 s after its last publish
    auto* model = page_->fleetPanel()->model();
    const int r = model->rowOf(id);
    QVERIFY(model->index(r, FleetModel::LastSeen).data().toString().startsWith(QStringLiteral("gone since ")));
    QVERIFY(model->index(r, FleetModel::Application).data(Qt::ForegroundRole).isValid());  // greyed
    QVERIFY(page_->fleetPanel()->summaryText().contains(QStringLiteral("1 gone")));
    QVERIFY(page_->sourceCombo()
                ->itemText(page_->sourceCombo()->findData(QString(QStringLiteral("instance:") + qs(id))))
                .endsWith(QStringLiteral("(gone)")));
  }

  void cleanupTestCase() {
    page_.reset();
    service_.reset();
    pubs_.clear();
  }
};

QTEST_MAIN(TestFleetDashboard)
#include "tst_fleet_dashboard.moc"
