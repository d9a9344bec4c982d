// Alert history (issue 15 item 5) against the harness servers: an alert raised
// and ended through the service is in alert_history with its worst value and
// duration, and a new service and page (a console restart) read it back; the
// panel's metric, source and text filters go to PostgreSQL; the CSV export is
// RFC 4180 with a formula guard, hostile text included; a role that may not
// write is said once and the page keeps reading; the tray decision and its setting;
// end to end, a breach the service's own monitor raises under load is recorded
// with both ends, and an escalation (amber to red) stays one row.
// TIER_TEST_LABELS: concurrency
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSystemTrayIcon>
#include <QTemporaryDir>
#include <QtTest>
#include <optional>

#include "alerts/alert_history_model.h"
#include "alerts/alert_notify.h"
#include "alerts/alerts_models.h"
#include "alerts/alerts_page.h"
#include "common/core_service.h"
#include "core_fixture.h"
#include "settings/settings_dialog.h"
#include "tier/ops/alert_history.h"
#include "tier/ops/audit.h"

using namespace tier;
using tier::ui::AlertHistoryPanel;
using tier::ui::AlertsPage;

namespace {
std::unique_ptr<ui::CoreService> connectService(const QString& profile, const QString& pg) {
  auto service = std::make_unique<ui::CoreService>();
  QSignalSpy ready(service.get(), &ui::CoreService::coreReady);
  ui::ConnectionSettings s;
  s.profile = profile;
  s.redis_url = QString::fromStdString(test::seededServers().redisUrl());
  s.pg_conninfo = pg;
  service->connectTo(s);
  if (!ready.wait(20'000)) return nullptr;
  return service;
}

// A minimal RFC 4180 reader: the test's own view of the file, not the writer's.
std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> out(1);
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out.back().push_back(field);
      field.clear();
      out.emplace_back();
      ++i;
    } else {
      field += c;
    }
    any = true;
  }
  if (any && out.back().empty()) out.pop_back();
  return out;
}

const ops::AlertHistoryRow* findStarted(const ui::AlertHistoryModel& m, std::int64_t started) {
  for (const auto& r : m.rows())
    if (r.started_ms == started) return &r;
  return nullptr;
}
}  // namespace

class TestAlertHistory : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> core_;  // writes rows as another console would
  std::int64_t base_ = 0;           // start times unique to this run

 private Q_SLOTS:
  void initTestCase() {
    test::seededServers();
    core_ = std::make_unique<TierCore>(test::coreConfig("tst_alert_history"));
    base_ = QDateTime::currentMSecsSinceEpoch() - 3'600'000;
  }
  void cleanupTestCase() { core_.reset(); }

  void csvFieldsAreQuotedAndGuarded_data() {
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    QTest::newRow("plain") << "hit_rate"
                           << "hit_rate";
    QTest::newRow("comma") << "a,b"
                           << "\"a,b\"";
    QTest::newRow("quote") << "say \"hi\""
                           << "\"say \"\"hi\"\"\"";
    QTest::newRow("newline") << "a\nb"
                             << "\"a\nb\"";
    QTest::newRow("formula") << "=1+2"
                             << "'=1+2";
    QTest::newRow("plus") << "+1"
                          << "'+1";
    QTest::newRow("minus") << "-1"
                           << "'-1";
    QTest::newRow("at") << "@SUM(A1)"
                        << "'@SUM(A1)";
    QTest::newRow("formula and comma") << "=A1,B1"
                                       << "\"'=A1,B1\"";
    QTest::newRow("empty") << ""
                           << "";
  }
  void csvFieldsAreQuotedAndGuarded() {
    QFETCH(QString, in);
    QFETCH(QString, out);
    QCOMPARE(QString::fromStdString(ops::csvField(in.toStdString())), out);
  }

  // A console restart: the first service and page are gone, a new pair reads the row back.
  void aRaisedAndEndedAlertOutlivesTheConsole() {
    const std::int64_t started = base_ + 1'000;
    {
      auto service = connectService(QStringLiteral("tst_alert_history"),
                                    QString::fromStdString(test::seededServers().pgConninfo()));
      QVERIFY(service);
      AlertsPage page(service.get());
      auto* panel = page.findChild<AlertHistoryPanel*>();
      QVERIFY(panel);
      QSignalSpy written(panel->recorder(), &ui::AlertHistoryRecorder::written);
      metrics::AlertEvent e;
      e.name = "redis_p99";
      e.value = 7.25;
      e.limit = 5;
      e.unit = "ms";
      e.at_ms = e.started_ms = started;
      Q_EMIT service->alertEvent(e, QStringLiteral("This console"));
      e.kind = metrics::AlertEvent::Kind::Cleared;
      e.status = metrics::Status::NoData;
      e.previous = metrics::Status::Violation;
      e.value = 3;
      e.worst = 9.5;
      e.at_ms = started + 42'000;
      Q_EMIT service->alertEvent(e, QString());  // as resetAlerts sends it: no source
      QTRY_COMPARE_WITH_TIMEOUT(written.size(), 2, 10'000);
      QVERIFY(!panel->recorder()->failing());
    }
    auto service =
        connectService(QStringLiteral("tst_alert_history"), QString::fromStdString(test::seededServers().pgConninfo()));
    QVERIFY(service);
    AlertsPage page(service.get());
    auto* panel = page.findChild<AlertHistoryPanel*>();
    QSignalSpy refreshed(panel, &AlertHistoryPanel::refreshed);
    page.resize(1300, 900);
    page.show();  // opening reads the history
    QTRY_VERIFY_WITH_TIMEOUT(findStarted(*panel->model(), started), 10'000);
    const auto* r = findStarted(*panel->model(), started);
    QCOMPARE(r->metric, std::string("redis_p99"));
    QCOMPARE(r->value, 7.25);
    QCOMPARE(r->worst, 9.5);
    QCOMPARE(r->limit, 5.0);
    QVERIFY(r->ended_ms.has_value());
    QCOMPARE(*r->ended_ms, started + 42'000);
    QVERIFY(r->duration_ms.has_value());
    QCOMPARE(*r->duration_ms, std::int64_t(42'000));
    QCOMPARE(r->source_kind, std::string("console"));
    QCOMPARE(r->source, std::string("This console"));
    QCOMPARE(r->profile, std::string("tst_alert_history"));
    QCOMPARE(r->os_user, ops::osUserName());
    // Shown as a person reads it.
    const int row = int(r - panel->model()->rows().data());
    QCOMPARE(panel->model()->index(row, ui::AlertHistoryModel::Duration).data().toString(), QStringLiteral("42 s"));
    QCOMPARE(panel->model()->index(row, ui::AlertHistoryModel::Worst).data().toString(), QStringLiteral("9.50 ms"));
    // Newest first.
    const auto& rows = panel->model()->rows();
    for (std::size_t i = 1; i < rows.size(); ++i) QVERIFY(rows[i - 1].started_ms >= rows[i].started_ms);

    if (const QByteArray dir = qgetenv("TIER_SCREENSHOT_DIR"); !dir.isEmpty())
      QVERIFY(page.grab().save(QString::fromLocal8Bit(dir) + QStringLiteral("/alert_history.png")));
  }

  // End to end, no event made by hand: a Redis p99 limit no real server meets, a little load, the
  // service's own monitor raises it; new limits end it; the row has both ends.
  void aRealBreachFromTheServiceIsRecorded() {
    auto service = std::make_unique<ui::CoreService>();
    QSignalSpy ready(service.get(), &ui::CoreService::coreReady);
    ui::ConnectionSettings s;
    s.profile = QStringLiteral("tst_alert_history");
    s.redis_url = QString::fromStdString(test::seededServers().redisUrl());
    s.pg_conninfo = QString::fromStdString(test::seededServers().pgConninfo());
    s.thresholds.redis_p99_ms = 0.000001;
    s.refresh_ms = 250;
    service->connectTo(s);
    QVERIFY(ready.wait(20'000));
    AlertsPage page(service.get());
    auto* panel = page.findChild<AlertHistoryPanel*>();
    QSignalSpy written(panel->recorder(), &ui::AlertHistoryRecorder::written);
    QSignalSpy events(service.get(), &ui::CoreService::alertEvent);
    workload::WorkloadOptions load;
    load.virtual_users = 2;
    load.rate = 30;
    load.threads = 1;
    service->startWorkload(load);
    auto raised = [&]() -> std::int64_t {
      for (const auto& args : events) {
        const auto e = args.at(0).value<metrics::AlertEvent>();
        if (e.name == "redis_p99" && e.kind == metrics::AlertEvent::Kind::Raised) return e.started_ms;
      }
      return 0;
    };
    // The service raises nothing in its first 10 s on a connection: the wait is that, not a timing claim.
    QTRY_VERIFY_WITH_TIMEOUT(raised() > 0, 90'000);
    const std::int64_t started = raised();
    service->stopWorkload();
    Thresholds relaxed;
    relaxed.redis_p99_ms = 100'000;
    service->setThresholds(relaxed);  // ends every raised alert
    std::optional<ops::AlertHistoryRow> row;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          ops::AlertHistoryFilter f;
          f.metric = "redis_p99";
          f.since_ms = started;
          for (const auto& r : ops::listAlertHistory(*core_, f))
            if (r.started_ms == started && r.ended_ms) row = r;
          return row.has_value();
        }(),
        30'000);
    QCOMPARE(row->source_kind, std::string("console"));
    QCOMPARE(row->source, std::string("This console"));
    QCOMPARE(row->status, std::string("violation"));
    QVERIFY(row->value > 0.000001);
    QVERIFY(row->worst >= row->value);
    QCOMPARE(row->limit, 0.000001);
    QCOMPARE(row->unit, std::string("ms"));
    QVERIFY(*row->ended_ms >= started);
    QCOMPARE(*row->duration_ms, *row->ended_ms - started);
    QVERIFY(!panel->recorder()->failing());
  }

  // Amber, then red, then clear: one row, red, with the end's worst; the tray would have fired on the red.
  void anEscalationIsOneRow() {
    auto service =
        connectService(QStringLiteral("tst_alert_history"), QString::fromStdString(test::seededServers().pgConninfo()));
    QVERIFY(service);
    AlertsPage page(service.get());
    auto* panel = page.findChild<AlertHistoryPanel*>();
    QSignalSpy written(panel->recorder(), &ui::AlertHistoryRecorder::written);
    const std::int64_t started = base_ + 3'000;
    metrics::AlertEvent e;
    e.name = "knowledge_p99";
    e.unit = "ms";
    e.limit = 10;
    e.status = metrics::Status::Warn;
    e.value = e.worst = 8.5;
    e.at_ms = e.started_ms = started;
    Q_EMIT service->alertEvent(e, QStringLiteral("This console"));
    e.previous = metrics::Status::Warn;
    e.status = metrics::Status::Violation;
    e.value = e.worst = 12;
    e.at_ms = started + 5'000;
    QVERIFY(ui::shouldNotifyAlert(e, true, true, true));
    Q_EMIT service->alertEvent(e, QStringLiteral("This console"));
    e.kind = metrics::AlertEvent::Kind::Cleared;
    e.previous = metrics::Status::Violation;
    e.status = metrics::Status::Ok;
    e.value = 4;
    e.worst = 15;
    e.at_ms = started + 10'000;
    Q_EMIT service->alertEvent(e, QStringLiteral("This console"));
    QTRY_COMPARE_WITH_TIMEOUT(written.size(), 3, 10'000);
    ops::AlertHistoryFilter f;
    f.metric = "knowledge_p99";
    f.since_ms = started;
    std::vector<ops::AlertHistoryRow> mine;
    for (const auto& r : ops::listAlertHistory(*core_, f))
      if (r.started_ms == started) mine.push_back(r);
    QCOMPARE(int(mine.size()), 1);
    QCOMPARE(mine[0].status, std::string("violation"));
    QCOMPARE(mine[0].value, 8.5);
    QCOMPARE(mine[0].worst, 15.0);
    QCOMPARE(mine[0].duration_ms.value_or(-1), std::int64_t(10'000));
  }

  // The end may reach PostgreSQL before the raise: one row either way, the end's figures kept.
  void theEndMayArriveFirst() {
    ops::AlertRecord r;
    r.recorder = ops::alertRecorderId();
    r.metric = "db_query_p99";
    r.value = 30;
    r.worst = 80;
    r.limit = 20;
    r.unit = "ms";
    r.source = "This console";
    r.started_ms = base_ + 2'000;
    r.ended_ms = base_ + 9'000;
    ops::recordAlertEnded(*core_, r);
    r.worst = 30;
    r.ended_ms = 0;
    ops::recordAlertRaised(*core_, r);
    ops::AlertHistoryFilter f;
    f.metric = "db_query_p99";
    f.since_ms = base_ + 2'000;
    const auto rows = ops::listAlertHistory(*core_, f);
    const auto n =
        std::count_if(rows.begin(), rows.end(), [&](const auto& x) { return x.started_ms == base_ + 2'000; });
    QCOMPARE(int(n), 1);
    const auto it =
        std::find_if(rows.begin(), rows.end(), [&](const auto& x) { return x.started_ms == base_ + 2'000; });
    QCOMPARE(it->worst, 80.0);
    QCOMPARE(it->duration_ms.value_or(-1), std::int64_t(7'000));
  }

  void theFiltersGoToPostgres() {
    auto write = [&](const std::string& metric, const std::string& kind, const std::string& source, std::int64_t at) {
      ops::AlertRecord r;
      r.recorder = ops::alertRecorderId();
      r.metric = metric;
      r.source_kind = kind;
      r.source = source;
      r.value = r.worst = 1;
      r.limit = 2;
      r.started_ms = at;
      ops::recordAlertRaised(*core_, r);
    };
    write("hit_rate", "fleet", "Fleet: flt-api-1, flt-api-2", base_ + 10'000);
    write("knowledge_p99", "instance", "flt-api-1 · host · 42", base_ + 11'000);
    write("knowledge_p99", "console", "This console 50%_x", base_ + 12'000);

    auto service =
        connectService(QStringLiteral("tst_alert_history"), QString::fromStdString(test::seededServers().pgConninfo()));
    QVERIFY(service);
    AlertsPage page(service.get());
    auto* panel = page.findChild<AlertHistoryPanel*>();
    page.show();
    auto* metric = panel->findChild<QComboBox*>(QStringLiteral("alertHistoryMetric"));
    auto* source = panel->findChild<QLineEdit*>(QStringLiteral("alertHistorySource"));
    auto* text = panel->findChild<QLineEdit*>(QStringLiteral("alertHistoryText"));
    auto starts = [&] {
      QList<qint64> s;
      for (const auto& r : panel->model()->rows())
        if (r.started_ms >= base_ + 10'000 && r.started_ms < base_ + 20'000) s << r.started_ms - base_;
      return s;
    };
    source->setText(QStringLiteral("flt-api-1"));
    QTRY_COMPARE_WITH_TIMEOUT(starts(), (QList<qint64>{11'000, 10'000}), 10'000);
    metric->setCurrentIndex(metric->findData(QStringLiteral("knowledge_p99")));
    QTRY_COMPARE_WITH_TIMEOUT(starts(), (QList<qint64>{11'000}), 10'000);
    source->clear();
    text->setText(QStringLiteral("50%_"));  // literal, not LIKE wildcards
    QTRY_COMPARE_WITH_TIMEOUT(starts(), (QList<qint64>{12'000}), 10'000);
    text->setText(QStringLiteral("0%x"));
    QTRY_COMPARE_WITH_TIMEOUT(starts(), QList<qint64>{}, 10'000);
    // The source box also matches the kind of source, as the Dashboard's selector names them.
    text->clear();
    metric->setCurrentIndex(0);
    source->setText(QStringLiteral("instance"));
    QTRY_COMPARE_WITH_TIMEOUT(starts(), (QList<qint64>{11'000}), 10'000);
    source->setText(QStringLiteral("CONSOLE"));
    QTRY_COMPARE_WITH_TIMEOUT(starts(), (QList<qint64>{12'000}), 10'000);
    QVERIFY(
        panel->findChild<QLabel*>(QStringLiteral("alertHistoryStatus"))->text().contains(QStringLiteral("read at")));
  }

  void theCsvExportHoldsHostileTextSafely() {
    const std::string hostileSource = "=HYPERLINK(\"http://x\",\"y\"), \"quoted\"\nsecond line";
    const std::string hostileMetric = "@metric,with \"quote\"";
    ops::AlertRecord r;
    r.recorder = ops::alertRecorderId();
    r.metric = hostileMetric;
    r.source_kind = "instance";
    r.source = hostileSource;
    r.value = 0.5;
    r.worst = 0.25;
    r.limit = 0.8;
    r.unit = "ratio";
    r.started_ms = base_ + 30'000;
    r.ended_ms = base_ + 33'500;
    ops::recordAlertEnded(*core_, r);

    auto service =
        connectService(QStringLiteral("tst_alert_history"), QString::fromStdString(test::seededServers().pgConninfo()));
    QVERIFY(service);
    AlertsPage page(service.get());
    auto* panel = page.findChild<AlertHistoryPanel*>();
    panel->findChild<QLineEdit*>(QStringLiteral("alertHistoryText"))->setText(QStringLiteral("HYPERLINK"));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("history.csv"));
    QSignalSpy exported(panel, &AlertHistoryPanel::exported);
    panel->exportCsv(path);
    QVERIFY(exported.wait(10'000));
    QCOMPARE(exported.at(0).at(1).toInt(), 1);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const std::string text = f.readAll().toStdString();
    // The raw bytes: the guard inside the quotes, quotes doubled, the newline kept inside the field.
    QVERIFY2(text.find("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\"), \"\"quoted\"\"\nsecond line\"") != std::string::npos,
             text.c_str());
    QVERIFY(text.find("\"'@metric,with \"\"quote\"\"\"") != std::string::npos);
    const auto records = parseCsv(text);
    QCOMPARE(int(records.size()), 2);
    QCOMPARE(records[0].front(), std::string("started"));
    QCOMPARE(records[0].size(), records[1].size());
    const auto col = [&](const std::string& name) {
      return std::size_t(std::find(records[0].begin(), records[0].end(), name) - records[0].begin());
    };
    QCOMPARE(records[1][col("source")], "'" + hostileSource);
    QCOMPARE(records[1][col("metric")], "'" + hostileMetric);
    QCOMPARE(records[1][col("source_kind")], std::string("instance"));
    QCOMPARE(records[1][col("worst")], std::string("0.25"));
    QCOMPARE(records[1][col("duration_ms")], std::string("3500"));
    QCOMPARE(records[1][col("profile")], std::string("tst_alert_history"));

    // A file that cannot be written is a message, not a crash; the button works again.
    QSignalSpy failed(panel, &AlertHistoryPanel::exportFailed);
    panel->exportCsv(dir.filePath(QStringLiteral("no/such/folder/x.csv")));
    QVERIFY(failed.wait(10'000));
    QVERIFY(panel->findChild<QPushButton*>(QStringLiteral("alertHistoryExport"))->isEnabled());
  }

  // A role that may only read: the failure is said once, nothing is written, the history still reads.
  void aReadOnlyRoleIsToldOnceAndThePageKeepsWorking() {
    test::TestServers::shared().postgres().psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tst_alert_ro') THEN "
        "CREATE ROLE tst_alert_ro LOGIN PASSWORD 'Ah7-ro-pw'; END IF; END $$; "
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO tst_alert_ro;");
    const QString pg = QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tst_alert_ro password=Ah7-ro-pw")
                           .arg(test::TestServers::shared().postgres().port());
    ops::AlertRecord seen;  // written by a console that may write: the read-only one reads it
    seen.recorder = ops::alertRecorderId();
    seen.metric = "hit_rate";
    seen.value = seen.worst = 0.5;
    seen.limit = 0.8;
    seen.unit = "ratio";
    seen.source = "This console";
    seen.started_ms = base_ + 39'000;
    ops::recordAlertRaised(*core_, seen);
    auto service = connectService(QStringLiteral("tst_alert_ro"), pg);
    QVERIFY(service);
    AlertsPage page(service.get());
    auto* panel = page.findChild<AlertHistoryPanel*>();
    QSignalSpy failed(panel->recorder(), &ui::AlertHistoryRecorder::writeFailed);
    QSignalSpy refreshed(panel, &AlertHistoryPanel::refreshed);
    page.show();
    metrics::AlertEvent e;
    e.name = "session_retrieval_p99";
    e.value = 12;
    e.limit = 10;
    e.unit = "ms";
    for (int i = 0; i < 3; ++i) {
      e.at_ms = e.started_ms = base_ + 40'000 + i;
      e.name = i == 1 ? "redis_p99" : "session_retrieval_p99";
      Q_EMIT service->alertEvent(e, QStringLiteral("This console"));
    }
    QVERIFY(failed.wait(10'000));
    auto* label = panel->findChild<QLabel*>(QStringLiteral("alertHistoryWriteStatus"));
    QTRY_VERIFY(label->isVisible());
    QVERIFY2(label->text().contains(QStringLiteral("alert_history")) &&
                 label->text().contains(QStringLiteral("not being saved")),
             qPrintable(label->text()));
    QVERIFY(!label->text().contains(QStringLiteral("Ah7-ro-pw")));
    if (const QByteArray dir = qgetenv("TIER_SCREENSHOT_DIR"); !dir.isEmpty()) {
      page.resize(1300, 900);
      QVERIFY(page.grab().save(QString::fromLocal8Bit(dir) + QStringLiteral("/alert_history_read_only.png")));
    }
    // The other writes fail too, quietly: still one message.
    QTest::qWait(500);
    QCOMPARE(failed.size(), 1);
    // The alerts themselves still show, and the history still reads.
    QCOMPARE(page.alertsModel()->rowCount(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(!refreshed.isEmpty(), 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(findStarted(*panel->model(), base_ + 39'000), 10'000);
    ops::AlertHistoryFilter f;
    f.since_ms = base_ + 40'000;
    f.text = "tst_alert_ro";
    QCOMPARE(int(ops::listAlertHistory(*core_, f).size()), 0);
  }

  void theTrayDecision_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("enabled");
    QTest::addColumn<bool>("outOfSight");
    QTest::addColumn<bool>("tray");
    QTest::addColumn<bool>("notify");
    const int raised = int(metrics::AlertEvent::Kind::Raised), cleared = int(metrics::AlertEvent::Kind::Cleared);
    const int red = int(metrics::Status::Violation), amber = int(metrics::Status::Warn);
    QTest::newRow("red, hidden") << raised << red << true << true << true << true;
    QTest::newRow("red, in sight") << raised << red << true << false << true << false;
    QTest::newRow("red, setting off") << raised << red << false << true << true << false;
    QTest::newRow("red, no tray") << raised << red << true << true << false << false;
    QTest::newRow("amber") << raised << amber << true << true << true << false;
    QTest::newRow("cleared") << cleared << int(metrics::Status::Ok) << true << true << true << false;
  }
  void theTrayDecision() {
    QFETCH(int, kind);
    QFETCH(int, status);
    QFETCH(bool, enabled);
    QFETCH(bool, outOfSight);
    QFETCH(bool, tray);
    QFETCH(bool, notify);
    metrics::AlertEvent e;
    e.kind = metrics::AlertEvent::Kind(kind);
    e.status = metrics::Status(status);
    QCOMPARE(ui::shouldNotifyAlert(e, enabled, outOfSight, tray), notify);
  }

  // Headless there is no tray: a hidden window's red alert shows nothing and warns nothing.
  void noTrayNoNotificationNoWarning() {
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    QWidget window;
    ui::AlertNotifier notifier(&window);  // the window is never shown: out of sight
    metrics::AlertEvent e;
    e.name = "hit_rate";
    e.unit = "ratio";
    QCOMPARE(notifier.onAlert(e, QStringLiteral("This console")), QSystemTrayIcon::isSystemTrayAvailable());
  }

  void theSettingDefaultsOnAndTheDialogSavesIt() {
    QSettings(QStringLiteral("TierConsole"), QStringLiteral("tierconsole")).remove(QStringLiteral("notify_alerts"));
    QVERIFY(ui::notifyAlertsSetting());
    auto service =
        connectService(QStringLiteral("tst_alert_history"), QString::fromStdString(test::seededServers().pgConninfo()));
    QVERIFY(service);
    {
      ui::SettingsDialog d(service.get());
      auto* box = d.findChild<QCheckBox*>(QStringLiteral("notifyAlerts"));
      QVERIFY(box);
      QVERIFY(box->isChecked());
      box->setChecked(false);
      d.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Apply)->click();
    }
    QVERIFY(!ui::notifyAlertsSetting());
    {
      ui::SettingsDialog d(service.get());
      QVERIFY(!d.findChild<QCheckBox*>(QStringLiteral("notifyAlerts"))->isChecked());
    }
    // Off: a red alert with the window out of sight shows nothing, tray or not.
    QWidget window;
    ui::AlertNotifier notifier(&window);
    metrics::AlertEvent e;
    e.name = "hit_rate";
    QVERIFY(!notifier.onAlert(e, QString()));
    ui::setNotifyAlertsSetting(true);
  }
};

QTEST_MAIN(TestAlertHistory)
#include "tst_alert_history.moc"
