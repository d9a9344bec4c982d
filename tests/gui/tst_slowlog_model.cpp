// The server panel's SLOWLOG table: SlowlogModel under QAbstractItemModelTester,
// what the panel shows for a single node, a cluster (node column), a user
// without CONFIG ("unknown (CONFIG not permitted)"), and the Refresh button.
#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include "dashboard/server_panel.h"
#include "dashboard/slowlog_model.h"

using tier::ops::HealthReport;
using tier::ops::SlowlogEntry;
using tier::ui::ServerPanel;
using tier::ui::SlowlogModel;

namespace {

SlowlogEntry entry(long long id, long long at_ms, long long us, std::vector<std::string> argv,
                   const std::string& node = "127.0.0.1:6379", const std::string& name = {}) {
  SlowlogEntry e;
  e.id = id;
  e.at_ms = at_ms;
  e.duration_us = us;
  e.command = tier::ops::formatSlowlogCommand(argv);  // as the core fills it
  e.client = "127.0.0.1:50432";
  e.client_name = name;
  e.node = node;
  return e;
}

HealthReport report(const std::string& mode) {
  HealthReport r;
  r.redis.configured = true;
  r.redis.ok = true;
  r.redis.mode = mode;
  r.redis.slowlog_threshold_known = true;
  r.redis.slowlog_log_slower_than_us = 10000;
  const long long t = 1'765'000'000'000;
  r.redis.slowlog = {entry(7, t, 15'300, {"CONFIG", "SET", "requirepass", "hunter2-secret"}, "10.0.0.1:7000", "ops"),
                     entry(3, t - 1000, 850, {"SET", "k", std::string(300, 'x')}, "10.0.0.2:7001"),
                     entry(2, t - 2000, 2'500'000, {"AUTH", "app", "hunter2-secret"}, "10.0.0.1:7000")};
  r.redis.slowlog_len = 3;
  return r;
}

QString cell(const QAbstractItemModel& m, int row, int column, int role = Qt::DisplayRole) {
  return m.index(row, column).data(role).toString();
}

}  // namespace

class TestSlowlogModel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void modelUnderTester() {
    SlowlogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(SlowlogModel::kColumnCount));
    auto r = report("cluster");
    model.setEntries(r.redis.slowlog);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(cell(model, 0, SlowlogModel::Command), QStringLiteral("CONFIG SET requirepass ***"));
    QCOMPARE(cell(model, 0, SlowlogModel::Client), QStringLiteral("127.0.0.1:50432 (ops)"));
    QCOMPARE(cell(model, 0, SlowlogModel::Node), QStringLiteral("10.0.0.1:7000"));
    QCOMPARE(cell(model, 0, SlowlogModel::Duration), QStringLiteral("15.30 ms"));
    QCOMPARE(cell(model, 1, SlowlogModel::Duration), QStringLiteral("850 µs"));
    QCOMPARE(cell(model, 2, SlowlogModel::Duration), QStringLiteral("2.50 s"));
    QCOMPARE(cell(model, 2, SlowlogModel::Command), QStringLiteral("AUTH app ***"));
    QCOMPARE(cell(model, 1, SlowlogModel::Command),
             QStringLiteral("SET k ") + QString(64, QLatin1Char('x')) + QChar(0x2026));
    QCOMPARE(cell(model, 0, SlowlogModel::Time),
             QDateTime::fromMSecsSinceEpoch(1'765'000'000'000).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
    QCOMPARE(model.index(2, SlowlogModel::Duration).data(SlowlogModel::SortRole).toLongLong(), 2'500'000LL);
    QCOMPARE(model.index(1, SlowlogModel::Time).data(SlowlogModel::SortRole).toLongLong(), 1'765'000'000'000LL - 1000);
    QVERIFY(cell(model, 0, SlowlogModel::Command, Qt::ToolTipRole).contains(QStringLiteral("masked")));
    for (int row = 0; row < model.rowCount(); ++row)
      for (int c = 0; c < model.columnCount(); ++c)
        QVERIFY(!cell(model, row, c).contains(QStringLiteral("hunter2")));
    QCOMPARE(model.headerData(SlowlogModel::Command, Qt::Horizontal).toString(), QStringLiteral("Command"));
    QVERIFY(!model.headerData(99, Qt::Horizontal).isValid());
    QVERIFY(!model.index(5, 0).data().isValid());
    model.setEntries({});
    QCOMPARE(model.rowCount(), 0);
  }

  void panelSingleNode() {
    ServerPanel panel;
    auto r = report("single");
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(panel.slowlogModel()->rowCount(), 3);
    QVERIFY(panel.slowlogView()->isColumnHidden(SlowlogModel::Node));
    QCOMPARE(panel.field(QStringLiteral("redis.slowlog_threshold")), QStringLiteral("10,000 µs (10.00 ms)"));
    // The view sorts newest first through a proxy.
    auto* view = panel.slowlogView();
    QCOMPARE(view->model()->index(0, SlowlogModel::Command).data().toString(),
             QStringLiteral("CONFIG SET requirepass ***"));
    view->sortByColumn(SlowlogModel::Duration, Qt::DescendingOrder);
    QCOMPARE(view->model()->index(0, SlowlogModel::Command).data().toString(), QStringLiteral("AUTH app ***"));
  }

  // The full command of the selected entry is shown below the table, and the
  // selection survives the next report (every 5 s resets the model).
  void panelSelectionDetail() {
    ServerPanel panel;
    auto r = report("cluster");
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    auto* view = panel.slowlogView();
    auto* detail = panel.findChild<QLabel*>(QStringLiteral("slowlogDetail"));
    QVERIFY(detail);
    view->setCurrentIndex(view->model()->index(1, SlowlogModel::Command));  // newest first: the SET
    QVERIFY2(detail->text().contains(QString(64, QLatin1Char('x'))), qPrintable(detail->text()));
    QVERIFY(detail->text().contains(QStringLiteral("#3 on 10.0.0.2:7001")));
    // A newer entry arrives on top: the same entry (node + id) stays selected.
    r.redis.slowlog.insert(r.redis.slowlog.begin(), entry(8, 1'765'000'001'000, 100, {"PING"}, "10.0.0.2:7001"));
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(view->currentIndex().row(), 2);
    QCOMPARE(view->model()->index(view->currentIndex().row(), SlowlogModel::Node).data().toString(),
             QStringLiteral("10.0.0.2:7001"));
    QVERIFY(detail->text().contains(QStringLiteral("#3 on 10.0.0.2:7001")));
  }

  void panelCluster() {
    ServerPanel panel;
    panel.setReport(report("cluster"), QDateTime::currentMSecsSinceEpoch());
    QVERIFY(!panel.slowlogView()->isColumnHidden(SlowlogModel::Node));
  }

  void panelConfigRefused() {
    ServerPanel panel;
    auto r = report("single");
    r.redis.slowlog_threshold_known = false;
    r.redis.slowlog_threshold_error = "CONFIG not permitted";
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(panel.field(QStringLiteral("redis.slowlog_threshold")), QStringLiteral("unknown (CONFIG not permitted)"));
    r.redis.slowlog_threshold_known = true;
    r.redis.slowlog_log_slower_than_us = -1;
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QVERIFY(panel.field(QStringLiteral("redis.slowlog_threshold")).startsWith(QStringLiteral("off (-1)")));
    // No SLOWLOG permission: the reason is shown, not an empty table that looks like "nothing slow".
    r.redis.slowlog.clear();
    r.redis.slowlog_error = "SLOWLOG not permitted";
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    auto* status = panel.findChild<QLabel*>(QStringLiteral("slowlogStatus"));
    QVERIFY(status);
    QVERIFY2(status->text().contains(QStringLiteral("SLOWLOG not permitted")), qPrintable(status->text()));
    r.redis.slowlog_error.clear();
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(status->text(), QStringLiteral("No slow commands logged."));
  }

  void refreshButton() {
    ServerPanel panel;
    QSignalSpy spy(&panel, &ServerPanel::refreshRequested);
    auto* button = panel.slowlogRefreshButton();
    QVERIFY(button->isEnabled());
    button->click();
    QCOMPARE(spy.count(), 1);
    QVERIFY(!button->isEnabled());  // until the fresh report arrives
    panel.setReport(report("single"), QDateTime::currentMSecsSinceEpoch());
    QVERIFY(button->isEnabled());
    button->click();
    panel.refreshFailed(QStringLiteral("not connected"));
    QVERIFY(button->isEnabled());
    QCOMPARE(spy.count(), 2);
  }
};

QTEST_MAIN(TestSlowlogModel)
#include "tst_slowlog_model.moc"
