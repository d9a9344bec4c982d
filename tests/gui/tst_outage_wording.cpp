// Issue 19, items 2 and 6, in the console's window against real servers:
// - An outage (Redis killed, PostgreSQL stopped) turns the server's tile red
//   with the reason, raises an alert row like a broken threshold does, and
//   clears it when the server answers again; the chip, the server panel, the
//   tile and the alert say it in the same words ("Redis down: …").
// - Client-side and server-side latencies are named apart; the threshold
//   operators are the Phase 0B ones (> 80 %, < 5 ms) in tiles and alerts.
// - The View menu holds the Dashboard's own Pause, Range, Log scale and
//   Export actions (the same objects), live only while the Dashboard is in
//   front; Help ▸ Keyboard shortcuts lists every shortcut the window has.
// TIER_TEST_TIMEOUT: 400
#include <QAction>
#include <QDir>
#include <QGroupBox>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QShortcut>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest>
#include <memory>

#include "alerts/alerts_models.h"
#include "alerts/alerts_page.h"
#include "common/core_service.h"
#include "common/link_wording.h"
#include "core_fixture.h"
#include "dashboard/dashboard_page.h"
#include "dashboard/metric_chart.h"
#include "dashboard/server_panel.h"
#include "dashboard/threshold_tile.h"
#include "main_window.h"
#include "pages.h"
#include "settings/profile_store.h"

using namespace tier;
using namespace tier::ui;
using tier::metrics::Status;

namespace {

QString configDir() {
  return QDir::tempPath() + QStringLiteral("/tst_outage_wording-%1").arg(QCoreApplication::applicationPid());
}

// TIER_SCREENSHOT_DIR set: the widget as the user sees it, saved as NAME.
void screenshot(QWidget* w, const QString& name) {
  const QByteArray dir = qgetenv("TIER_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  QTest::qWait(300);  // after the layout settled
  w->grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + name);
}

// The red sentence the server panel shows above a server's fields.
QString panelError(ServerPanel* panel, const QString& server) {
  for (auto* l : panel->findChildren<QLabel*>())
    if (l->isVisibleTo(panel) && l->text().startsWith(server + QLatin1Char(' '))) return l->text();
  return {};
}

// The model row of a server's newest outage, or -1 (threshold rows may come before it).
int outageIndex(const AlertsModel* m, const std::string& server) {
  for (std::size_t i = 0; i < m->rows().size(); ++i)
    if (m->rows()[i].outage && m->rows()[i].name == server) return int(i);
  return -1;
}

// The open (or newest) outage row of a server, or null.
const AlertsModel::Row* outageRow(const AlertsModel* m, const std::string& server) {
  for (const auto& r : m->rows())
    if (r.outage && r.name == server) return &r;
  return nullptr;
}

}  // namespace

class TestOutageWording : public QObject {
  Q_OBJECT

 public:
  static void initMain() {
    QDir(configDir()).removeRecursively();
    qputenv("XDG_CONFIG_HOME", configDir().toLocal8Bit());
    qunsetenv("PGPASSWORD");
    qunsetenv("TIER_REDIS_URL");
  }

 private:
  std::unique_ptr<CoreService> service_;
  std::unique_ptr<MainWindow> window_;
  DashboardPage* dashboard_ = nullptr;
  AlertsPage* alerts_ = nullptr;

  QLabel* chip(const char* name) const { return window_->findChild<QLabel*>(QLatin1String(name)); }
  QTabWidget* tabs() const { return window_->tabs(); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(ProfileStore().fileName().startsWith(configDir()));
    auto& servers = test::seededServers();
    service_ = std::make_unique<CoreService>();
    window_ = std::make_unique<MainWindow>(service_.get());
    addAllPages(window_.get(), service_.get());
    dashboard_ = window_->findChild<DashboardPage*>();
    alerts_ = window_->findChild<AlertsPage*>();
    QVERIFY(dashboard_ && alerts_);
    window_->resize(1500, 950);
    window_->show();
    ConnectionSettings s = ProfileStore().loadSettings();
    s.profile = QStringLiteral("outage");
    s.redis_url = QString::fromStdString(servers.redisUrl());
    s.pg_conninfo = QString::fromStdString(servers.pgConninfo());
    QSignalSpy connected(service_.get(), &CoreService::connected);
    service_->connectTo(s);
    QVERIFY(connected.wait(30'000));
    QTRY_VERIFY_WITH_TIMEOUT(dashboard_->statusText().startsWith(QStringLiteral("Live")), 15'000);
    // A small load, so the charts have lines and the tiles figures.
    workload::WorkloadOptions load;
    load.virtual_users = 4;
    load.rate = 60;
    load.threads = 1;
    service_->startWorkload(load);
    QTRY_VERIFY_WITH_TIMEOUT(service_->workloadRunning(), 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(chip("redisChip")->text().contains(QStringLiteral(" ms")), 15'000);
    if (!qEnvironmentVariableIsEmpty("TIER_SCREENSHOT_DIR")) QTest::qWait(20'000);  // lines worth looking at
  }
  void cleanupTestCase() {
    if (service_) service_->stopWorkload();
    window_.reset();
    service_.reset();
    QDir(configDir()).removeRecursively();
  }

  // Phase 0B operators in the tiles and the Alerts page; client vs server latencies named apart.
  void thresholdsAndLatenciesReadTheSameEverywhere() {
    auto* hit = dashboard_->tile(DashboardPage::HitRateTile);
    auto* redis = dashboard_->tile(DashboardPage::RedisTile);
    QVERIFY2(hit->limitText().contains(QStringLiteral("> 80 %")), qPrintable(hit->limitText()));
    QVERIFY2(redis->limitText().contains(QStringLiteral("< 5 ms")), qPrintable(redis->limitText()));
    QVERIFY(!hit->limitText().contains(QStringLiteral("≥")));
    QCOMPARE(limitText(0.8, "ratio"), QStringLiteral("> 80 %"));
    QCOMPARE(limitText(5.0, "ms"), QStringLiteral("< 5 ms"));
    QCOMPARE(limitText(0.5, "ms"), QStringLiteral("< 0.5 ms"));

    QVERIFY2(redis->title().contains(QStringLiteral("(client)")), qPrintable(redis->title()));
    QCOMPARE(dashboard_->chart(DashboardPage::RedisChart)->title(), QStringLiteral("Redis round trip (client)"));
    bool serverBox = false;
    for (auto* g : dashboard_->serverPanel()->findChildren<QGroupBox*>())
      serverBox = serverBox || g->title() == QStringLiteral("INFO latencystats (server)");
    QVERIFY(serverBox);
    QVERIFY2(chip("redisChip")->toolTip().startsWith(QStringLiteral("Redis round trip (client): PING")),
             qPrintable(chip("redisChip")->toolTip()));
  }

  // Redis killed: chip, panel, tile and alert row say "Redis down" with the
  // reason; Redis back: the tile has its figures again and the row is cleared.
  void redisOutageIsRedWithTheReasonAndRaisesAnAlert() {
    auto& redis = test::TestServers::shared().redis();
    auto* tile = dashboard_->tile(DashboardPage::RedisTile);
    QVERIFY(!tile->outage());
    QVERIFY(!outageRow(alerts_->alertsModel(), "Redis"));
    redis.kill();
    QTRY_COMPARE_WITH_TIMEOUT(chip("redisChip")->text(), QStringLiteral("Redis down"), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(tile->outage(), 5000);
    QCOMPARE(tile->status(), Status::Violation);
    QCOMPARE(tile->statusColor(), statusColor(Status::Violation, tile->palette()));
    QCOMPARE(tile->statusLabelText(), QStringLiteral("Down"));
    QVERIFY2(tile->complianceText().startsWith(QStringLiteral("Redis down: ")), qPrintable(tile->complianceText()));
    const QString reason = tile->outageReason().mid(int(qstrlen("Redis down: ")));
    QVERIFY(!reason.isEmpty());
    QVERIFY2(!reason.contains(QStringLiteral("circuit open")), qPrintable(reason));  // said once, by the state words
    QCOMPARE(chip("redisChip")->toolTip(), tile->outageReason());                    // one sentence, one wording
    QVERIFY(tile->toolTip().contains(tile->outageReason().toHtmlEscaped()));
    QTRY_COMPARE_WITH_TIMEOUT(panelError(dashboard_->serverPanel(), QStringLiteral("Redis")), tile->outageReason(),
                              10'000);
    // The other tiles are not blamed.
    QVERIFY(!dashboard_->tile(DashboardPage::DbTile)->outage());

    const AlertsModel::Row* row = outageRow(alerts_->alertsModel(), "Redis");
    QVERIFY(row);
    QCOMPARE(row->cleared_ms, std::int64_t(0));
    QCOMPARE(row->state, QStringLiteral("down"));
    QCOMPARE(QStringLiteral("Redis down: ") + row->reason, tile->outageReason());
    QCOMPARE(row->status, Status::Violation);
    QVERIFY(alerts_->alertsModel()->activeCount() >= 1);
    const QModelIndex statusCell =
        alerts_->alertsModel()->index(outageIndex(alerts_->alertsModel(), "Redis"), AlertsModel::Status);
    QCOMPARE(statusCell.data().toString(), QStringLiteral("down"));
    QCOMPARE(alerts_->alertsModel()
                 ->index(outageIndex(alerts_->alertsModel(), "Redis"), AlertsModel::Metric)
                 .data()
                 .toString(),
             QStringLiteral("Redis server"));
    QCOMPARE(alerts_->alertsModel()
                 ->index(outageIndex(alerts_->alertsModel(), "Redis"), AlertsModel::Duration)
                 .data()
                 .toString(),
             QStringLiteral("ongoing"));

    tabs()->setCurrentWidget(dashboard_);
    screenshot(window_.get(), QStringLiteral("h2_dashboard_redis_down.png"));
    tabs()->setCurrentWidget(alerts_);
    screenshot(window_.get(), QStringLiteral("h2_alerts_redis_down.png"));
    tabs()->setCurrentWidget(dashboard_);

    redis.restart();
    QTRY_VERIFY_WITH_TIMEOUT(outageRow(alerts_->alertsModel(), "Redis")->cleared_ms != 0, 60'000);
    QVERIFY(!chip("redisChip")->text().contains(QStringLiteral("down")));
    QTRY_VERIFY_WITH_TIMEOUT(!tile->outage(), 5000);
    QCOMPARE(alerts_->alertsModel()
                 ->index(outageIndex(alerts_->alertsModel(), "Redis"), AlertsModel::Status)
                 .data()
                 .toString(),
             QStringLiteral("down, cleared"));
    QVERIFY(alerts_->alertsModel()
                ->index(outageIndex(alerts_->alertsModel(), "Redis"), AlertsModel::Duration)
                .data()
                .toString() != QStringLiteral("ongoing"));
    QTRY_VERIFY_WITH_TIMEOUT(panelError(dashboard_->serverPanel(), QStringLiteral("Redis")).isEmpty(), 10'000);
    tabs()->setCurrentWidget(alerts_);
    screenshot(window_.get(), QStringLiteral("h2_alerts_redis_back.png"));
    tabs()->setCurrentWidget(dashboard_);
  }

  // PostgreSQL stopped: the database tile and an alert row; back: cleared.
  void postgresOutageIsRedWithTheReasonAndRaisesAnAlert() {
    auto& pg = test::TestServers::shared().postgres();
    auto* tile = dashboard_->tile(DashboardPage::DbTile);
    pg.stop();
    QTRY_COMPARE_WITH_TIMEOUT(chip("postgresChip")->text(), QStringLiteral("PostgreSQL down"), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(tile->outage(), 5000);
    QCOMPARE(tile->statusLabelText(), QStringLiteral("Down"));
    QVERIFY2(tile->complianceText().startsWith(QStringLiteral("PostgreSQL down: ")),
             qPrintable(tile->complianceText()));
    QCOMPARE(chip("postgresChip")->toolTip(), tile->outageReason());
    QVERIFY(!tile->outageReason().contains(QLatin1Char('\n')));
    QTRY_COMPARE_WITH_TIMEOUT(panelError(dashboard_->serverPanel(), QStringLiteral("PostgreSQL")), tile->outageReason(),
                              10'000);
    const AlertsModel::Row* row = outageRow(alerts_->alertsModel(), "PostgreSQL");
    QVERIFY(row);
    QCOMPARE(row->cleared_ms, std::int64_t(0));
    QCOMPARE(row->state, QStringLiteral("down"));
    screenshot(window_.get(), QStringLiteral("h2_dashboard_postgres_down.png"));

    pg.start();
    QTRY_VERIFY_WITH_TIMEOUT(outageRow(alerts_->alertsModel(), "PostgreSQL")->cleared_ms != 0, 60'000);
    QTRY_VERIFY_WITH_TIMEOUT(!tile->outage(), 5000);
  }

  // Degraded (Redis answers, its circuit breaker is not closed) in the same
  // words on the chip and the alert row; down outranks degraded in one outage row.
  void degradedIsWordedTheSameAndDownOutranksIt() {
    LinkStatus s;
    s.state = LinkState::Degraded;
    s.detail = QStringLiteral("circuit open: Redis connection to 127.0.0.1:1 failed: timeout");
    QCOMPARE(chipText(QStringLiteral("Redis"), s), QStringLiteral("Redis degraded (circuit open)"));
    QCOMPARE(linkSentence(QStringLiteral("Redis"), s),
             QStringLiteral("Redis degraded (circuit open): Redis connection to 127.0.0.1:1 failed: timeout"));
    s.detail = QStringLiteral("circuit half-open: probing");
    QCOMPARE(chipText(QStringLiteral("Redis"), s), QStringLiteral("Redis degraded (circuit half-open)"));
    LinkStatus down;
    down.state = LinkState::Down;
    down.detail = QStringLiteral("Redis circuit open: Redis connection to 127.0.0.1:1 failed: Connection refused");
    QCOMPARE(linkSentence(QStringLiteral("Redis"), down),
             QStringLiteral("Redis down: Redis connection to 127.0.0.1:1 failed: Connection refused"));

    AlertsModel m;
    m.setServerState(QStringLiteral("Redis"), true, false, QStringLiteral("degraded (circuit open)"),
                     QStringLiteral("timeout"), 1000);
    QCOMPARE(m.rowCount(), 1);
    QCOMPARE(m.rows()[0].status, Status::Warn);
    QCOMPARE(m.index(0, AlertsModel::Status).data().toString(), QStringLiteral("degraded (circuit open)"));
    m.setServerState(QStringLiteral("Redis"), true, true, QStringLiteral("down"), QStringLiteral("refused"), 2000);
    m.setServerState(QStringLiteral("Redis"), true, false, QStringLiteral("degraded (circuit half-open)"), QString(),
                     3000);
    QCOMPARE(m.rowCount(), 1);  // one outage, one row
    QCOMPARE(m.rows()[0].status, Status::Violation);
    QCOMPARE(m.rows()[0].state, QStringLiteral("down"));
    QCOMPARE(m.rows()[0].reason, QStringLiteral("refused"));
    QCOMPARE(m.activeCount(), 1);
    m.setServerState(QStringLiteral("Redis"), false, false, QStringLiteral("connected"), QString(), 9000);
    QCOMPARE(m.activeCount(), 0);
    QCOMPARE(m.index(0, AlertsModel::Duration).data().toString(), QStringLiteral("8 s"));
    m.setServerState(QStringLiteral("Redis"), false, false, QStringLiteral("connected"), QString(), 9500);
    QCOMPARE(m.rowCount(), 1);  // reachable again raises nothing
  }

  // The View menu holds the very QActions of the Dashboard's toolbar.
  void viewMenuHoldsTheDashboardActions() {
    QMenu* view = window_->viewMenu();
    QVERIFY(view);
    const QList<QAction*> actions = view->actions();
    for (QAction* a : {dashboard_->pauseAction(), dashboard_->logScaleAction(), dashboard_->exportPngAction(),
                       dashboard_->exportCsvAction(), dashboard_->exportChartAction()})
      QVERIFY2(actions.contains(a), qPrintable(a->text()));
    auto* range = view->findChild<QMenu*>(QStringLiteral("viewRangeMenu"));
    QVERIFY(range);
    for (int m : {1, 5, 15, 60}) QVERIFY(range->actions().contains(dashboard_->rangeAction(m)));

    // One state: the menu's Pause is the toolbar's.
    tabs()->setCurrentWidget(dashboard_);
    QVERIFY(dashboard_->pauseAction()->isEnabled());
    QVERIFY(!dashboard_->paused());
    dashboard_->pauseAction()->trigger();
    QVERIFY(dashboard_->paused());
    QVERIFY(dashboard_->pauseAction()->isChecked());
    dashboard_->pauseAction()->trigger();
    QVERIFY(!dashboard_->paused());
    dashboard_->rangeAction(15)->trigger();
    QCOMPARE(dashboard_->rangeMinutes(), 15);
    dashboard_->rangeAction(5)->trigger();

    // Another page in front: the Dashboard's keys do not act there (Space
    // would pause the charts from a button on Operations, Ctrl+L toggle both).
    tabs()->setCurrentWidget(alerts_);
    QVERIFY(!dashboard_->pauseAction()->isEnabled());
    QVERIFY(!dashboard_->logScaleAction()->isEnabled());
    QTest::keyClick(window_.get(), Qt::Key_Space);
    QVERIFY(!dashboard_->paused());
    tabs()->setCurrentWidget(dashboard_);
    QVERIFY(dashboard_->pauseAction()->isEnabled());

    if (!qEnvironmentVariableIsEmpty("TIER_SCREENSHOT_DIR")) {
      view->popup(window_->mapToGlobal(QPoint(60, 30)));
      QTest::qWait(300);
      view->grab().save(QString::fromLocal8Bit(qgetenv("TIER_SCREENSHOT_DIR")) + QStringLiteral("/h2_view_menu.png"));
      view->hide();
    }
  }

  // Help ▸ Keyboard shortcuts: every QAction and QShortcut of the window with a key.
  void shortcutsDialogListsEveryShortcut() {
    auto* action = window_->findChild<QAction*>(QStringLiteral("shortcutsAction"));
    QVERIFY(action);
    QCOMPARE(action->shortcut(), QKeySequence(QKeySequence::HelpContents));
    action->trigger();
    auto* dialog = window_->findChild<QWidget*>(QStringLiteral("shortcutsDialog"));
    QVERIFY(dialog);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->isVisible(), 5000);
    auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("shortcutsTable"));
    QVERIFY(table);
    QSet<QString> listed;
    for (int r = 0; r < table->rowCount(); ++r) listed.insert(table->item(r, 0)->text());

    // Every key the window answers to, found here independently of the dialog.
    int keys = 0;
    for (QAction* a : window_->findChildren<QAction*>())
      for (const QKeySequence& k : a->shortcuts()) {
        ++keys;
        bool found = false;
        for (const QString& l : listed)
          found = found || l.split(QStringLiteral(", ")).contains(k.toString(QKeySequence::NativeText));
        QVERIFY2(found, qPrintable(k.toString() + QStringLiteral(" of ") + a->text()));
      }
    for (QShortcut* sc : window_->findChildren<QShortcut*>()) {
      ++keys;
      QVERIFY2(listed.contains(sc->key().toString(QKeySequence::NativeText)), qPrintable(sc->key().toString()));
    }
    QVERIFY(keys >= 20);  // pages, File, Help, the Dashboard's, Sessions', Operations', Alerts'
    for (const char* k : {"Space", "Alt+1", "Ctrl+L", "Ctrl+E", "Ctrl+Shift+E", "Ctrl+1", "Ctrl+4", "F1", "Ctrl+O"})
      QVERIFY2(listed.contains(QKeySequence(QLatin1String(k)).toString(QKeySequence::NativeText)), k);
    // The same key on two pages is listed twice, each with its page.
    int ctrlL = 0;
    for (int r = 0; r < table->rowCount(); ++r)
      if (table->item(r, 0)->text() == QKeySequence(QStringLiteral("Ctrl+L")).toString(QKeySequence::NativeText)) {
        ++ctrlL;
        QVERIFY(table->item(r, 2)->text().startsWith(QStringLiteral("Dashboard")) ||
                table->item(r, 2)->text().startsWith(QStringLiteral("Operations")));
      }
    QCOMPARE(ctrlL, 2);
    screenshot(dialog, QStringLiteral("h2_shortcuts_dialog.png"));
    dialog->close();
  }
};

QTEST_MAIN(TestOutageWording)
#include "tst_outage_wording.moc"
