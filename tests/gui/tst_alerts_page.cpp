// The Alerts & audit page end to end against the harness servers: an audit row
// written by an invalidation dry run shows up, the filter goes to PostgreSQL
// with % and _ as plain characters, the page refreshes itself only while shown,
// and alert events from the service land in the alerts table.
// TIER_TEST_LABELS: concurrency
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QtTest>

#include "alerts/alerts_models.h"
#include "alerts/alerts_page.h"
#include "common/core_service.h"
#include "core_fixture.h"
#include "tier/ops/audit.h"
#include "tier/ops/invalidation.h"

using namespace tier;
using tier::ui::AlertsPage;

namespace {
bool hasRow(const ui::AuditModel& m, const std::function<bool(const ops::AuditRow&)>& pred) {
  for (const auto& r : m.rows())
    if (pred(r)) return true;
  return false;
}
}  // namespace

class TestAlertsPage : public QObject {
  Q_OBJECT
  std::unique_ptr<ui::CoreService> service_;
  std::unique_ptr<TierCore> core_;  // writes rows the way another console would

 private Q_SLOTS:
  void initTestCase() {
    auto& servers = test::seededServers();
    core_ = std::make_unique<TierCore>(test::coreConfig("tst_alerts_page"));
    service_ = std::make_unique<ui::CoreService>();
    QSignalSpy ready(service_.get(), &ui::CoreService::coreReady);
    ui::ConnectionSettings s;
    s.profile = QStringLiteral("tst_alerts_page");
    s.redis_url = QString::fromStdString(servers.redisUrl());
    s.pg_conninfo = QString::fromStdString(servers.pgConninfo());
    service_->connectTo(s);
    QVERIFY(ready.wait(20'000));
  }

  void cleanupTestCase() {
    service_.reset();
    core_.reset();
  }

  void aDryRunInvalidationShowsUpInTheAudit() {
    ops::InvalidateRequest req;
    req.kind = ops::InvalidateKind::Pattern;
    req.target = "entry:v1:424242*";
    req.dry_run = true;
    const auto res = ops::invalidate(*core_, req);
    QVERIFY(res.audit_id > 0);

    AlertsPage page(service_.get());
    QSignalSpy refreshed(&page, &AlertsPage::auditRefreshed);
    page.resize(1200, 700);
    page.show();  // showing reads the audit
    QTRY_VERIFY_WITH_TIMEOUT(hasRow(*page.auditModel(), [&](const ops::AuditRow& r) { return r.id == res.audit_id; }), 10'000);
    const auto& rows = page.auditModel()->rows();
    const auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.id == res.audit_id; });
    QCOMPARE(it->action, std::string("invalidate.pattern"));
    QVERIFY(it->dry_run);
    QCOMPARE(it->os_user, ops::osUserName());
    QCOMPARE(it->redis_user, std::string("default"));
    QVERIFY(!it->pg_role.empty());
    QVERIFY(QString::fromStdString(it->args_json).contains(QStringLiteral("entry:v1:424242*")));
    QVERIFY(page.findChild<QLabel*>(QStringLiteral("auditStatus"))->text().contains(QStringLiteral(" read at ")));

    if (const QByteArray dir = qgetenv("TIER_SCREENSHOT_DIR"); !dir.isEmpty()) {
      metrics::AlertEvent e;
      e.name = "redis_p99";
      e.value = 7.2;
      e.limit = 5;
      e.unit = "ms";
      e.at_ms = e.started_ms = QDateTime::currentMSecsSinceEpoch() - 95'000;
      Q_EMIT service_->alertEvent(e);
      e.name = "hit_rate";
      e.value = 0.71;
      e.limit = 0.8;
      e.unit = "ratio";
      e.at_ms = e.started_ms = QDateTime::currentMSecsSinceEpoch() - 30'000;
      Q_EMIT service_->alertEvent(e);
      e.kind = metrics::AlertEvent::Kind::Cleared;
      e.name = "redis_p99";
      e.worst = 9.8;
      e.unit = "ms";
      e.limit = 5;
      e.started_ms = QDateTime::currentMSecsSinceEpoch() - 95'000;
      e.at_ms = QDateTime::currentMSecsSinceEpoch() - 12'000;
      Q_EMIT service_->alertEvent(e);
      QVERIFY(page.grab().save(QString::fromLocal8Bit(dir) + QStringLiteral("/alerts_page.png")));
    }
  }

  void theFilterIsLiteral_data() {
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QStringList>("expected");  // results of the rows that must be all there is
    QTest::newRow("percent") << QStringLiteral("%") << QStringList{QStringLiteral("ok 50% done_x")};
    QTest::newRow("underscore") << QStringLiteral("_") << QStringList{QStringLiteral("ok 50% done_x")};
    QTest::newRow("both") << QStringLiteral("0%_") << QStringList{};
    QTest::newRow("substring") << QStringLiteral("50% DONE") << QStringList{QStringLiteral("ok 50% done_x")};
    QTest::newRow("backslash") << QStringLiteral("a\\b") << QStringList{QStringLiteral("a\\b literal")};
  }
  void theFilterIsLiteral() {
    QFETCH(QString, filter);
    QFETCH(QStringList, expected);
    static const bool written = [this] {
      ops::writeAudit(*core_, {"test.literal", "{}", false, 1, 1, "ok 50% done_x", 1.0});
      ops::writeAudit(*core_, {"test.literal", "{}", false, 1, 1, "a\\b literal", 1.0});
      ops::writeAudit(*core_, {"test.literal", "{}", false, 1, 1, "ok", 1.0});
      return true;
    }();
    QVERIFY(written);

    AlertsPage page(service_.get());
    page.show();
    QSignalSpy refreshed(&page, &AlertsPage::auditRefreshed);
    page.findChild<QLineEdit*>(QStringLiteral("alertsFilter"))->setText(filter);
    // The debounced read for this text (earlier reads in the slot are dropped).
    QTRY_VERIFY_WITH_TIMEOUT(!refreshed.isEmpty() &&
                                 page.findChild<QLabel*>(QStringLiteral("auditStatus"))->text().contains(filter),
                             10'000);
    QStringList results;
    for (const auto& r : page.auditModel()->rows()) results << QString::fromStdString(r.result);
    QCOMPARE(results, expected);
  }

  void refreshesItselfOnlyWhileShown() {
    AlertsPage page(service_.get());
    page.setAutoRefreshInterval(100);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(page.auditModel()->rowCount() > 0, 10'000);
    const auto id = ops::writeAudit(*core_, {"test.auto", "{}", false, 0, 0, "ok", 0.5});
    // No F5, no filter edit: the timer reads it.
    QTRY_VERIFY_WITH_TIMEOUT(hasRow(*page.auditModel(), [&](const ops::AuditRow& r) { return r.id == id; }), 10'000);

    page.hide();
    QSignalSpy refreshed(&page, &AlertsPage::auditRefreshed);
    QTest::qWait(600);  // six ticks of a hidden page: no reads
    QCOMPARE(refreshed.count(), 0);
  }

  void alertEventsFillTheAlertsTableAndTheFilterAppliesInMemory() {
    AlertsPage page(service_.get());
    metrics::AlertEvent e;
    e.name = "session_retrieval_p99";
    e.value = 14;
    e.limit = 10;
    e.unit = "ms";
    e.at_ms = e.started_ms = 5'000;
    Q_EMIT service_->alertEvent(e);
    e.name = "knowledge_p99";
    e.value = 3;
    e.limit = 2;
    Q_EMIT service_->alertEvent(e);
    QCOMPARE(page.alertsModel()->rowCount(), 2);
    e.kind = metrics::AlertEvent::Kind::Cleared;
    e.at_ms = 9'000;
    e.worst = 4;
    Q_EMIT service_->alertEvent(e);
    QCOMPARE(page.alertsModel()->rowCount(), 2);
    QCOMPARE(page.alertsModel()->activeCount(), 1);
    QVERIFY(page.findChild<QLabel*>(QStringLiteral("alertsSummary"))->text().startsWith(QStringLiteral("1 raised now")));

    page.findChild<QLineEdit*>(QStringLiteral("alertsFilter"))->setText(QStringLiteral("knowledge"));
    QCOMPARE(page.alertsProxy()->rowCount(), 1);
    QCOMPARE(page.alertsProxy()->index(0, ui::AlertsModel::Duration).data().toString(), QStringLiteral("4 s"));
  }
};

QTEST_MAIN(TestAlertsPage)
#include "tst_alerts_page.moc"
