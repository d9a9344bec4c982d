// The "Server series" panel (issue 14, item 4): fed points by hand, every
// chart is titled "(server)", carries the Phase 0B line where one applies and
// plots the point's figures in its unit; the top-statements table and the
// "not installed" note; a counter reset is said. Against real servers, through
// CoreService on a worker: traffic made by another client shows in the
// server's commands/s and keyspace hit rate, and the Dashboard has the tab.
// TIER_TEST_TIMEOUT: 120
#include <QLabel>
#include <QLineSeries>
#include <QScrollArea>
#include <QSignalSpy>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest>
#include <cmath>
#include <memory>

#include "common/core_service.h"
#include "core_fixture.h"
#include "dashboard/dashboard_page.h"
#include "dashboard/metric_chart.h"
#include "dashboard/server_series_panel.h"
#include "tier/redis/redis_client.h"

using namespace tier::ui;
using tier::ops::ServerSeriesPoint;
using tier::ops::StatementsState;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000;

ServerSeriesPoint point(qint64 at_ms, double hit, double cmds) {
  ServerSeriesPoint p;
  p.at_ms = at_ms;
  p.interval_s = 5;
  p.redis_configured = p.redis_ok = p.pg_ok = true;
  p.redis_scope = "1 server";
  p.pg_database = "tier";
  p.keyspace_hit_rate = hit;
  p.commands_per_s = cmds;
  p.connected_clients = 12;
  p.used_memory = 64.0 * 1024 * 1024;
  p.evicted_per_s = 0;
  p.transactions_per_s = 250;
  p.block_hit_ratio = 0.99;
  p.command_latency["get"] = {20, 3500, 9000};  // µs
  p.command_latency["evalsha"] = {50, 7000, 9000};
  p.statements_state = StatementsState::NotInstalled;
  p.statements_note = "pg_stat_statements not installed";
  return p;
}

QLineSeries* series(ServerSeriesPanel& panel, ServerSeriesPanel::ChartId id, const char* name) {
  for (QAbstractSeries* s : panel.chart(id)->chart()->series())
    if (s->objectName() == QLatin1String(name)) return qobject_cast<QLineSeries*>(s);
  return nullptr;
}

int count(QLineSeries* s) {
  return s ? int(s->count()) : -1;
}

double lastY(QLineSeries* s) {
  return s && s->count() > 0 ? s->at(s->count() - 1).y() : std::nan("");
}

}  // namespace

class TestServerSeriesPanel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void chartsFromPoints() {
    ServerSeriesPanel panel(nullptr);
    panel.resize(420, 900);
    for (int i = 0; i < kChartCount(); ++i) {
      const QString title = panel.chart(ServerSeriesPanel::ChartId(i))->title();
      QVERIFY2(title.endsWith(QStringLiteral("(server)")), qPrintable(title));
    }
    panel.addPoint(point(kT0, 0.9, 1200));
    panel.addPoint(point(kT0 + 5000, 0.6, 1800));
    QCOMPARE(panel.pointsReceived(), 2);

    QCOMPARE(lastY(series(panel, ServerSeriesPanel::HitRateChart, "server_keyspace_hit_rate")), 60.0);
    QCOMPARE(panel.chart(ServerSeriesPanel::HitRateChart)->thresholdValue(), std::optional<double>(80.0));
    QCOMPARE(lastY(series(panel, ServerSeriesPanel::CommandsChart, "server_commands_per_s")), 1800.0);
    QCOMPARE(lastY(series(panel, ServerSeriesPanel::LatencyChart, "server_get_p99_ms")), 3.5);
    QCOMPARE(lastY(series(panel, ServerSeriesPanel::LatencyChart, "server_eval_p99_ms")),
             7.0);  // EVALSHA counts as EVAL
    QCOMPARE(count(series(panel, ServerSeriesPanel::LatencyChart, "server_unlink_p99_ms")), 0);  // none: no point
    QCOMPARE(panel.chart(ServerSeriesPanel::LatencyChart)->thresholdValue(), std::optional<double>(5.0));
    QCOMPARE(lastY(series(panel, ServerSeriesPanel::ClientsChart, "server_connected_clients")), 12.0);
    QCOMPARE(lastY(series(panel, ServerSeriesPanel::MemoryChart, "server_used_memory_mb")), 64.0);
    QCOMPARE(lastY(series(panel, ServerSeriesPanel::PgTransactionsChart, "server_pg_transactions_per_s")), 250.0);
    QCOMPARE(lastY(series(panel, ServerSeriesPanel::PgBlockHitChart, "server_pg_block_hit_ratio")), 99.0);
    QVERIFY(!panel.chart(ServerSeriesPanel::PgBlockHitChart)->thresholdValue());  // no Phase 0B line there

    // Units: the memory chart says MB, the clients chart clients, never "/s".
    auto* mem = series(panel, ServerSeriesPanel::MemoryChart, "server_used_memory_mb");
    const QString hover = panel.chart(ServerSeriesPanel::MemoryChart)->hoverText(mem, mem->at(mem->count() - 1));
    QVERIFY2(hover.endsWith(QStringLiteral("64 MB")), qPrintable(hover));
    QCOMPARE(panel.chart(ServerSeriesPanel::MemoryChart)->valueAxis()->titleText(), QStringLiteral("MB"));

    QVERIFY(panel.statusText().startsWith(QStringLiteral("Measured at the server")));
    QCOMPARE(panel.statementsNote(), QStringLiteral("pg_stat_statements not installed"));
    QCOMPARE(panel.statementsTable()->rowCount(), 0);
  }

  void historyCoversAnHour() {
    ServerSeriesPanel panel(nullptr);
    QCOMPARE(panel.pollInterval(), ServerSeriesPanel::kDefaultPollMs);
    QCOMPARE(panel.history().capacity(), std::size_t(722));  // 60 min at 5 s, and the ends
    for (int i = 0; i < 800; ++i) panel.addPoint(point(kT0 + i * 5000LL, 0.9, 100));
    QCOMPARE(panel.history().size(), std::size_t(722));
    panel.setRangeMinutes(60);
    QCOMPARE(panel.rangeMinutes(), 60);
    // The whole hour is charted, downsampled to the 600 points a series may hold.
    const int n = count(series(panel, ServerSeriesPanel::CommandsChart, "server_commands_per_s"));
    QVERIFY2(n >= 590 && n <= 600, QByteArray::number(n).constData());
    panel.setPollInterval(1000);
    QCOMPARE(panel.history().capacity(), std::size_t(3602));
  }

  void unknownRatesAreGaps() {
    ServerSeriesPanel panel(nullptr);
    auto p = point(kT0, std::nan(""), std::nan(""));  // the first poll: no delta yet
    panel.addPoint(p);
    QCOMPARE(count(series(panel, ServerSeriesPanel::HitRateChart, "server_keyspace_hit_rate")), 0);
    QCOMPARE(count(series(panel, ServerSeriesPanel::CommandsChart, "server_commands_per_s")), 0);
    QCOMPARE(count(series(panel, ServerSeriesPanel::ClientsChart, "server_connected_clients")), 1);  // a gauge
    p = point(kT0 + 5000, std::nan(""), std::nan(""));
    p.redis_reset = true;
    panel.addPoint(p);
    const auto* notes = panel.findChild<QLabel*>(QStringLiteral("serverSeriesNotes"));
    QVERIFY(notes && notes->text().contains(QStringLiteral("restarted")));
  }

  void topStatementsTable() {
    ServerSeriesPanel panel(nullptr);
    auto p = point(kT0, 0.9, 100);
    p.statements_state = StatementsState::Available;
    p.statements_note.clear();
    p.top_statements = {{"SELECT * FROM users WHERE id = $1", 120.4, 0.8, 482},
                        {"UPDATE chat_sessions SET state = $1", 3, 12.5, 187}};
    panel.addPoint(p);
    QCOMPARE(panel.statementsTable()->rowCount(), 2);
    QVERIFY(panel.statementsTable()->isVisibleTo(&panel));
    QCOMPARE(panel.statementsTable()->item(0, 0)->text(), QStringLiteral("SELECT * FROM users WHERE id = $1"));
    QCOMPARE(panel.statementsTable()->item(0, 1)->text(), QStringLiteral("120"));
    QCOMPARE(panel.statementsTable()->item(1, 2)->text(), formatMillis(12.5));
    QVERIFY(panel.statementsNote().isEmpty());
    p.statements_state = StatementsState::Unreadable;
    p.statements_note = "pg_stat_statements unreadable: must be loaded via shared_preload_libraries";
    p.top_statements.clear();
    panel.addPoint(p);
    QVERIFY(panel.statementsNote().contains(QStringLiteral("shared_preload_libraries")));
    QCOMPARE(panel.statementsTable()->rowCount(), 0);
    QVERIFY(!panel.statementsTable()->isVisibleTo(&panel));  // the note says why, no empty table
  }

  void realServersThroughCoreService() {
    CoreService service;
    DashboardPage page(&service);
    auto* tabs = page.sideTabs();
    ServerSeriesPanel* panel = nullptr;
    for (int i = 0; i < tabs->count(); ++i)
      if (tabs->tabText(i) == QStringLiteral("Server series"))
        panel = qobject_cast<ServerSeriesPanel*>(tabs->widget(i));
    QVERIFY(panel);
    panel->setPollInterval(400);
    ConnectionSettings s;
    s.profile = QStringLiteral("tst_server_series_panel");
    s.redis_url = QString::fromStdString(tier::test::redisUrl());
    s.pg_conninfo = QString::fromStdString(tier::test::seededServers().pgConninfo());
    s.metrics_publish = false;
    QSignalSpy ready(&service, &CoreService::coreReady);
    service.connectTo(s);
    QVERIFY(ready.wait(30'000));
    QTRY_VERIFY_WITH_TIMEOUT(panel->pointsReceived() >= 1, 10'000);

    // Another client's reads: nothing of the console's core sees them.
    tier::redis::RedisOptions o;
    o.url = tier::redis::RedisUrl::parse(tier::test::redisUrl());
    tier::redis::RedisClient other(o);
    other.command({"SET", "panel:k", "v"});
    std::vector<tier::redis::Command> gets(2000, tier::redis::Command{"GET", "panel:k"});
    auto* cmds = series(*panel, ServerSeriesPanel::CommandsChart, "server_commands_per_s");
    auto* hits = series(*panel, ServerSeriesPanel::HitRateChart, "server_keyspace_hit_rate");
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          other.pipeline(gets);
          return lastY(cmds) >= 1000 && lastY(hits) > 90;
        }(),
        15'000);
    QVERIFY(panel->statusText().startsWith(QStringLiteral("Measured at the server")));
    QVERIFY2(panel->statusText().contains(QStringLiteral("Redis INFO")), qPrintable(panel->statusText()));
    QCOMPARE(panel->statementsNote(), QStringLiteral("pg_stat_statements not installed"));
    QVERIFY(count(series(*panel, ServerSeriesPanel::LatencyChart, "server_get_p99_ms")) > 0);
    QVERIFY(count(series(*panel, ServerSeriesPanel::ClientsChart, "server_connected_clients")) > 0);
  }

  // A documentation aid, skipped unless TIER_SERVER_SERIES_SCREENSHOTS names a
  // folder: the Dashboard with the Server series tab on the sandbox (run a load
  // beside it: tierctl --sandbox load --users 100 --duration 60 &), and the
  // whole panel at full height.
  void screenshotOnSandbox() {
    const QString dir = qEnvironmentVariable("TIER_SERVER_SERIES_SCREENSHOTS");
    if (dir.isEmpty()) QSKIP("set TIER_SERVER_SERIES_SCREENSHOTS=DIR to take the screenshots");
    CoreService service;
    DashboardPage page(&service);
    page.resize(1600, 1000);
    auto* tabs = page.sideTabs();
    for (int i = 0; i < tabs->count(); ++i)
      if (tabs->tabText(i) == QStringLiteral("Server series")) tabs->setCurrentIndex(i);
    auto* panel = qobject_cast<ServerSeriesPanel*>(tabs->currentWidget());
    QVERIFY(panel);
    page.show();
    ConnectionSettings s;
    s.profile = QStringLiteral("sandbox");
    s.sandbox = true;
    QSignalSpy ready(&service, &CoreService::coreReady);
    service.connectTo(s);
    QVERIFY(ready.wait(60'000));
    const int seconds = qEnvironmentVariableIntValue("TIER_SERVER_SERIES_SCREENSHOT_SECONDS");
    QTest::qWait((seconds > 0 ? seconds : 40) * 1000);
    QVERIFY(panel->pointsReceived() >= 2);
    // The Dashboard brings the Fleet tab forward once when others publish: show ours, wider.
    tabs->setCurrentWidget(panel);
    if (auto* split = qobject_cast<QSplitter*>(tabs->parentWidget())) split->setSizes({900, 700});
    QTest::qWait(300);
    QVERIFY(page.grab().save(dir + QStringLiteral("/dashboard-server-series.png")));
    auto* box = panel->findChild<QScrollArea*>()->widget();
    box->resize(box->width(), box->sizeHint().height());
    QVERIFY(box->grab().save(dir + QStringLiteral("/server-series-panel.png")));
  }

 private:
  static int kChartCount() { return ServerSeriesPanel::kChartCount; }
};

QTEST_MAIN(TestServerSeriesPanel)
#include "tst_server_series_panel.moc"
