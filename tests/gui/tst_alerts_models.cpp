// AlertsModel and AuditModel under QAbstractItemModelTester: raised rows on top,
// cleared rows completed with a duration, the row cap, audit snapshots, and
// the page's alerts filter (a QSortFilterProxyModel) matching literally.
#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>
#include <QtTest>

#include "alerts/alerts_models.h"

using namespace tier;
using tier::ui::AlertsModel;
using tier::ui::AuditModel;

namespace {
metrics::AlertEvent raised(const std::string& name, double value, double limit, std::int64_t at, const std::string& unit = "ms") {
  metrics::AlertEvent e;
  e.kind = metrics::AlertEvent::Kind::Raised;
  e.name = name;
  e.status = metrics::Status::Violation;
  e.value = value;
  e.limit = limit;
  e.unit = unit;
  e.at_ms = at;
  e.started_ms = at;
  e.worst = value;
  return e;
}

metrics::AlertEvent cleared(const std::string& name, double worst, double limit, std::int64_t started, std::int64_t at,
                            const std::string& unit = "ms") {
  metrics::AlertEvent e;
  e.kind = metrics::AlertEvent::Kind::Cleared;
  e.name = name;
  e.status = metrics::Status::Ok;
  e.previous = metrics::Status::Violation;
  e.value = limit / 2;
  e.limit = limit;
  e.unit = unit;
  e.at_ms = at;
  e.started_ms = started;
  e.worst = worst;
  return e;
}

QString cell(const QAbstractItemModel& m, int row, int col) { return m.index(row, col).data().toString(); }

ops::AuditRow auditRow(std::int64_t id, const std::string& action, const std::string& result, long long matched) {
  ops::AuditRow r;
  r.id = id;
  r.at_ms = 1'700'000'000'000 + id * 1000;
  r.os_user = "alice";
  r.pg_role = "tier";
  r.redis_user = "default";
  r.profile = "test";
  r.action = action;
  r.args_json = R"({"kind":"pattern","target":"entry:v1:1*","allow_any_namespace":true})";
  r.matched = matched;
  r.affected = matched;
  r.result = result;
  r.duration_ms = 12.5;
  return r;
}
}  // namespace

class TestAlertsModels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void raisedRowsGoOnTopAndClearGetsADuration() {
    AlertsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.columnCount(), int(AlertsModel::ColumnCount));

    model.addEvent(raised("redis_p99", 7.5, 5.0, 1'000'000));
    model.addEvent(raised("hit_rate", 0.62, 0.80, 1'002'000, "ratio"));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.activeCount(), 2);
    QCOMPARE(cell(model, 0, AlertsModel::Metric), QStringLiteral("Cache hit rate"));
    QCOMPARE(cell(model, 0, AlertsModel::Value), QStringLiteral("62.0 %"));
    QCOMPARE(cell(model, 1, AlertsModel::Value), QStringLiteral("7.50 ms"));
    QCOMPARE(cell(model, 1, AlertsModel::Duration), QStringLiteral("ongoing"));

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.addEvent(cleared("redis_p99", 9.25, 5.0, 1'000'000, 1'125'000));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.rowCount(), 2);  // completed in place, not a new row
    QCOMPARE(model.activeCount(), 1);
    QCOMPARE(cell(model, 1, AlertsModel::Duration), QStringLiteral("2 min 5 s"));
    QCOMPARE(cell(model, 1, AlertsModel::Worst), QStringLiteral("9.25 ms"));
    QCOMPARE(model.index(1, AlertsModel::Duration).data(ui::kSortRole).toLongLong(), 125'000LL);
  }

  void aClearWithoutItsRaiseStillShowsTheDuration() {
    AlertsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addEvent(cleared("db_query_p99", 80, 50, 10'000, 14'000));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.activeCount(), 0);
    QCOMPARE(cell(model, 0, AlertsModel::Duration), QStringLiteral("4 s"));
  }

  void theRowCapDropsTheOldest() {
    AlertsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMaxRows(3);
    for (int i = 0; i < 5; ++i) model.addEvent(raised("knowledge_p99", 3 + i, 2, 1000 * i));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.rows().front().value, 7.0);
    QCOMPARE(model.rows().back().value, 5.0);
    model.setMaxRows(1);
    QCOMPARE(model.rowCount(), 1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void theFilterProxyMatchesLiterally_data() {
    QTest::addColumn<QString>("filter");
    QTest::addColumn<int>("rows");
    QTest::newRow("metric") << QStringLiteral("redis") << 1;
    QTest::newRow("case") << QStringLiteral("HIT RATE") << 1;
    QTest::newRow("percent is literal") << QStringLiteral("%") << 1;  // only the hit-rate value shows "%"
    QTest::newRow("underscore is literal") << QStringLiteral("_") << 0;
    QTest::newRow("star is literal") << QStringLiteral("*") << 0;
    QTest::newRow("status") << QStringLiteral("violation") << 2;
  }
  void theFilterProxyMatchesLiterally() {
    QFETCH(QString, filter);
    QFETCH(int, rows);
    AlertsModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setFilterKeyColumn(-1);
    proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addEvent(raised("redis_p99", 7.5, 5.0, 1'000'000));
    model.addEvent(raised("hit_rate", 0.62, 0.80, 1'002'000, "ratio"));
    proxy.setFilterFixedString(filter);
    QCOMPARE(proxy.rowCount(), rows);
  }

  void auditSnapshotsReplaceTheRows() {
    AuditModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.resetData({auditRow(2, "invalidate.pattern", "ok", 42), auditRow(1, "warm.knowledge", "error: boom", 0)});
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.columnCount(), int(AuditModel::ColumnCount));
    QCOMPARE(cell(model, 0, AuditModel::Who), QStringLiteral("alice / tier / default"));
    QCOMPARE(cell(model, 0, AuditModel::Action), QStringLiteral("invalidate.pattern"));
    QCOMPARE(cell(model, 0, AuditModel::Arguments),
             QStringLiteral("allow_any_namespace=true, kind=pattern, target=entry:v1:1*"));
    QCOMPARE(cell(model, 0, AuditModel::Matched), QStringLiteral("42"));
    QCOMPARE(model.index(0, AuditModel::Matched).data(ui::kSortRole).toLongLong(), 42LL);
    QCOMPARE(cell(model, 1, AuditModel::Result), QStringLiteral("error: boom"));
    QVERIFY(model.index(1, AuditModel::Result).data(Qt::ForegroundRole).isValid());

    auto dry = auditRow(3, "invalidate.key", "ok", 1);
    dry.dry_run = true;
    dry.args_json = "not json";
    model.resetData({dry});
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(cell(model, 0, AuditModel::Action), QStringLiteral("invalidate.key (dry run)"));
    QCOMPARE(cell(model, 0, AuditModel::Arguments), QStringLiteral("not json"));
    model.resetData({});
    QCOMPARE(model.rowCount(), 0);
  }

  void formatting_data() {
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");
    QTest::newRow("zero") << qint64(0) << QStringLiteral("0 s");
    QTest::newRow("negative") << qint64(-5) << QStringLiteral("0 s");
    QTest::newRow("seconds") << qint64(59'999) << QStringLiteral("59 s");
    QTest::newRow("minutes") << qint64(61'000) << QStringLiteral("1 min 1 s");
    QTest::newRow("hours") << qint64(3'720'000) << QStringLiteral("1 h 2 min");
  }
  void formatting() {
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(ui::formatDuration(ms), text);
  }
};

QTEST_MAIN(TestAlertsModels)
#include "tst_alerts_models.moc"
