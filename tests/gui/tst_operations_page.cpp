// The Operations page end to end against real Redis and PostgreSQL from the
// test harness: preview counts, typed confirmation, run, cancel, a read-only
// Redis ACL user, warming, the load controls; and its models under
// QAbstractItemModelTester.
// TIER_TEST_TIMEOUT: 600
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QComboBox>
#include <QSettings>
#include <QSpinBox>
#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

#include <memory>

#include "tier/internal/tier_access.h"
#include "common/core_service.h"
#include "core_fixture.h"
#include "operations/confirm_invalidate_dialog.h"
#include "operations/invalidate_panel.h"
#include "operations/load_panel.h"
#include "operations/operations_models.h"
#include "operations/operations_page.h"
#include "operations/warm_panel.h"
#include "settings/profile_store.h"
#include "tier/codec/keys.h"
#include "tier/ops/audit.h"
#include "tier/ops/deployment.h"
#include "tier/redis/redis_client.h"
#include "tier/workload/threads.h"

using namespace tier::ui;
using tier::test::TestServers;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

// Keys matching a glob, counted by the harness's own redis-cli --scan.
long long scanCount(const std::string& pattern) {
  const std::string out = TestServers::shared().redis().cli("--scan --pattern '" + pattern + "'");
  long long n = 0;
  for (char c : out) n += c == '\n' ? 1 : 0;
  return n;
}

template <typename T>
T* child(QObject* parent, const char* name) {
  return parent->findChild<T*>(QString::fromLatin1(name));
}

}  // namespace

class TestOperationsPage : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<tier::TierCore> core_;       // fills keys and reads the audit table
  std::unique_ptr<CoreService> service_;       // full-permission connection
  std::unique_ptr<OperationsPage> page_;

  void connectService(CoreService& svc, const std::string& redisUrl) {
    QSignalSpy ready(&svc, &CoreService::coreReady);
    ConnectionSettings s;
    s.profile = QStringLiteral("tst_operations_page");
    s.redis_url = qs(redisUrl);
    s.pg_conninfo = qs(TestServers::shared().pgConninfo());
    svc.connectTo(s);
    QVERIFY(ready.wait(30'000));
  }

  // Reads entries 1..n through a core whose L1 is emptied first, so each read fills Redis.
  void fillEntries(int n) {
    tier::internal::TierAccess::l1(*core_).clear();
    for (int i = 1; i <= n; ++i) (void)core_->entries().get(i);
  }

  // Selects "pattern" in namespace entry with the glob after the prefix.
  static void choosePattern(InvalidatePanel* panel, const QString& glob) {
    child<QRadioButton>(panel, "kind_pattern")->setChecked(true);
    auto* combo = child<QComboBox>(panel, "namespaceCombo");
    combo->setCurrentIndex(combo->findText(QStringLiteral("entry")));
    child<QLineEdit>(panel, "targetEdit")->setText(glob);
  }

  // The confirmation dialog once it is shown (null after 60 s: the caller's QVERIFY fails).
  static ConfirmInvalidateDialog* waitForDialog(InvalidatePanel* panel) {
    QDeadlineTimer deadline(60'000);
    while (!deadline.hasExpired()) {
      auto* dialog = panel->findChild<ConfirmInvalidateDialog*>();
      if (dialog && dialog->isVisible()) return dialog;
      QTest::qWait(20);
    }
    return nullptr;
  }

  tier::ops::AuditRow auditRow(std::int64_t id) {
    for (const auto& row : tier::ops::readAudit(*core_, 50))
      if (row.id == id) return row;
    return {};
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("tier-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_operations_page"));
    QSettings().clear();
    tier::test::seededServers();
    core_ = std::make_unique<tier::TierCore>(tier::test::coreConfig("tst_operations_page"));
    service_ = std::make_unique<CoreService>();
    connectService(*service_, TestServers::shared().redisUrl());
    page_ = std::make_unique<OperationsPage>(service_.get());
    page_->resize(1280, 820);
    page_->show();
    QSignalSpy probed(page_.get(), &OperationsPage::capabilitiesProbed);
    QVERIFY(page_->capabilitiesKnown() || probed.wait(20'000));
  }

  void cleanupTestCase() {
    page_.reset();
    service_.reset();
    core_.reset();
  }

  void sampleKeysModel() {
    SampleKeysModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setKeys({"entry:v1:42", "knowledge:v1:sleep-hygiene", std::string("foreign:\x01key", 12), "stats:v1:7:30d"});
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.columnCount(), 3);
    QCOMPARE(model.data(model.index(0, SampleKeysModel::NamespaceColumn)).toString(), QStringLiteral("entry"));
    QCOMPARE(model.data(model.index(0, SampleKeysModel::IdColumn)).toString(), QStringLiteral("42"));
    QCOMPARE(model.data(model.index(1, SampleKeysModel::IdColumn)).toString(), QStringLiteral("sleep-hygiene"));
    // A control byte is shown escaped, and a foreign key has no namespace.
    QCOMPARE(model.keyAt(2), QStringLiteral("foreign:\\x01key"));
    QCOMPARE(model.data(model.index(2, SampleKeysModel::NamespaceColumn)).toString(), QStringLiteral("—"));
    QCOMPARE(model.data(model.index(3, SampleKeysModel::IdColumn)).toString(), QStringLiteral("7:30d"));
    model.setKeys({"user:v1:1"});
    QCOMPARE(model.rowCount(), 1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void warmSummaryModel() {
    WarmSummaryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    using Row = WarmSummaryModel::Row;
    using State = WarmSummaryModel::State;
    model.setRows({Row{tier::ops::WarmSet::Knowledge, State::Waiting, std::nullopt, {}},
                   Row{tier::ops::WarmSet::Entries, State::Waiting, std::nullopt, {}}});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.columnCount(), int(WarmSummaryModel::ColumnCount));
    QCOMPARE(model.data(model.index(0, WarmSummaryModel::ResultColumn)).toString(), QStringLiteral("waiting"));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    tier::ops::WarmResult r;
    r.set = tier::ops::WarmSet::Knowledge;
    r.candidates = 1200;
    r.warmed = 1100;
    r.already = 100;
    r.duration_ms = 2500;
    r.audit_id = 7;
    model.updateRow(0, Row{tier::ops::WarmSet::Knowledge, State::Done, r, {}});
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.data(model.index(0, WarmSummaryModel::CandidatesColumn)).toString(), formatCount(1200));
    QCOMPARE(model.data(model.index(0, WarmSummaryModel::TimeColumn)).toString(), QStringLiteral("2.5 s"));
    QVERIFY(model.data(model.index(0, WarmSummaryModel::ResultColumn)).toString().contains(QStringLiteral("audit #7")));
    model.updateRow(1, Row{tier::ops::WarmSet::Entries, State::Failed, std::nullopt, QStringLiteral("Not allowed.")});
    QCOMPARE(model.data(model.index(1, WarmSummaryModel::ResultColumn)).toString(), QStringLiteral("Not allowed."));
    QCOMPARE(model.data(model.index(1, WarmSummaryModel::WarmedColumn)).toString(), QStringLiteral("—"));
    model.setRows({});
    QCOMPARE(model.rowCount(), 0);
  }

  void validationIsASentenceBeforeAnythingRuns_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reason");
    QTest::newRow("1 MB key") << QStringLiteral("key") << QStringLiteral("entry:v1:") + QString(1 << 20, QLatin1Char('x'))
                              << QStringLiteral("key too long (1048585 bytes");
    QTest::newRow("not our key") << QStringLiteral("key") << QStringLiteral("hello") << QStringLiteral("not a Tier Console key");
    QTest::newRow("control byte in key") << QStringLiteral("key") << QStringLiteral("entry:v1:4\x01") << QStringLiteral("not a Tier Console key");
    QTest::newRow("unbalanced bracket") << QStringLiteral("pattern") << QStringLiteral("v1:[12") << QStringLiteral("[");
    QTest::newRow("control byte in pattern") << QStringLiteral("pattern") << QStringLiteral("v1:\x02*") << QStringLiteral("control");
    QTest::newRow("user not numeric") << QStringLiteral("user") << QStringLiteral("42; DROP TABLE users")
                                      << QStringLiteral("positive numeric id");
  }

  void validationIsASentenceBeforeAnythingRuns() {
    QFETCH(QString, kind);
    QFETCH(QString, text);
    QFETCH(QString, reason);
    CoreService offline;  // never connected: a validation must not need a server
    OperationsPage page(&offline);
    auto* panel = page.invalidatePanel();
    panel->findChild<QRadioButton*>(QStringLiteral("kind_") + kind)->setChecked(true);
    child<QLineEdit>(panel, "targetEdit")->setText(text);
    auto* label = child<QLabel>(panel, "validationLabel");
    QVERIFY2(label->text().startsWith(QStringLiteral("That input cannot be used: ")), qPrintable(label->text()));
    QVERIFY2(label->text().contains(reason, Qt::CaseInsensitive), qPrintable(label->text()));
    QCOMPARE(panel->validationMessage(), label->text());
    QVERIFY(!child<QPushButton>(panel, "previewButton")->isEnabled());
    QVERIFY(!child<QPushButton>(panel, "runButton")->isEnabled());
    QVERIFY(!panel->previewAction()->isEnabled());
    // Fixing the input clears the sentence.
    child<QRadioButton>(panel, "kind_namespace")->setChecked(true);
    QVERIFY(panel->validationMessage().isEmpty());
    QVERIFY(child<QPushButton>(panel, "previewButton")->isEnabled());
  }

  void previewShowsTheExactCount() {
    tier::test::flushRedis();
    fillEntries(60);
    const long long expected = scanCount("entry:*");
    QVERIFY(expected >= 60);
    auto* panel = page_->invalidatePanel();
    choosePattern(panel, QStringLiteral("*"));
    QCOMPARE(child<QLabel>(panel, "patternPrefix")->text(), QStringLiteral("entry:"));
    QSignalSpy previewed(panel, &InvalidatePanel::previewFinished);
    QVERIFY(child<QPushButton>(panel, "previewButton")->isEnabled());
    QTest::mouseClick(child<QPushButton>(panel, "previewButton"), Qt::LeftButton);
    QVERIFY(!child<QPushButton>(panel, "runButton")->isEnabled());  // disabled while the scan runs
    QVERIFY(previewed.wait(30'000));
    QVERIFY(panel->lastPreview().has_value());
    QCOMPARE(panel->lastPreview()->matched, expected);
    QCOMPARE(panel->lastPreview()->target, std::string("entry:*"));
    QCOMPARE(child<QLabel>(panel, "matchedValue")->text(), formatCount(expected));
    QCOMPARE(panel->sampleModel()->rowCount(), int(std::min<long long>(expected, 100)));
    for (int i = 0; i < panel->sampleModel()->rowCount(); ++i)
      QVERIFY(panel->sampleModel()->keyAt(i).startsWith(QStringLiteral("entry:")));
    QCOMPARE(scanCount("entry:*"), expected);  // a preview deletes nothing
    QVERIFY(child<QPushButton>(panel, "runButton")->isEnabled());
  }

  void confirmationAboveThresholdRequiresTyping() {
    auto* panel = page_->invalidatePanel();
    const long long expected = scanCount("entry:*");
    QVERIFY(expected > 10);
    InvalidatePanel::setConfirmThreshold(10);
    QTest::mouseClick(child<QPushButton>(panel, "runButton"), Qt::LeftButton);
    ConfirmInvalidateDialog* dialog = waitForDialog(panel);
    QVERIFY(dialog);
    QVERIFY(dialog->requiresTyping());
    QVERIFY(!dialog->confirmButton()->isEnabled());
    QTest::keyClicks(dialog->confirmEdit(), QStringLiteral("entr"));
    QVERIFY(!dialog->confirmButton()->isEnabled());
    QTest::keyClicks(dialog->confirmEdit(), QStringLiteral("ies"));
    QVERIFY(!dialog->confirmButton()->isEnabled());
    dialog->confirmEdit()->setText(QStringLiteral("Entry"));
    QVERIFY(!dialog->confirmButton()->isEnabled());
    dialog->confirmEdit()->clear();
    QTest::keyClicks(dialog->confirmEdit(), QStringLiteral("entry"));
    QVERIFY(dialog->confirmButton()->isEnabled());

    QSignalSpy ran(panel, &InvalidatePanel::runFinished);
    QTest::mouseClick(dialog->confirmButton(), Qt::LeftButton);
    QVERIFY(ran.wait(30'000));
    QVERIFY(panel->lastRun().has_value());
    const auto& r = *panel->lastRun();
    QVERIFY(!r.cancelled);
    QCOMPARE(r.matched, expected);
    QCOMPARE(r.deleted, r.matched);
    QCOMPARE(scanCount("entry:*"), 0LL);
    QCOMPARE(child<QLabel>(panel, "matchedValue")->text(), formatCount(expected));
    QCOMPARE(child<QLabel>(panel, "deletedValue")->text(), formatCount(expected));
    QVERIFY(child<QLabel>(panel, "invalidateHeadline")->text().startsWith(QStringLiteral("Deleted %1 of %1").arg(formatCount(expected))));
    QVERIFY(r.audit_error.empty());
    QVERIFY(r.audit_id > 0);
    QCOMPARE(child<QLabel>(panel, "auditValue")->text(), QStringLiteral("row #%1").arg(r.audit_id));
    const auto row = auditRow(r.audit_id);
    QCOMPARE(row.action, std::string("invalidate.pattern"));
    QCOMPARE(row.result, std::string("ok"));
    QCOMPARE(row.affected, expected);
    QVERIFY(!row.dry_run);
  }

  void belowThresholdOneClickConfirms() {
    tier::test::flushRedis();
    fillEntries(5);
    InvalidatePanel::setConfirmThreshold(1000);
    auto* panel = page_->invalidatePanel();
    child<QRadioButton>(panel, "kind_key")->setChecked(true);
    child<QLineEdit>(panel, "targetEdit")->setText(qs(tier::codec::entryKey(3)));
    QCOMPARE(scanCount(tier::codec::entryKey(3)), 1LL);
    QSignalSpy ran(panel, &InvalidatePanel::runFinished);
    panel->runAction()->trigger();
    ConfirmInvalidateDialog* dialog = waitForDialog(panel);
    QVERIFY(dialog);
    QVERIFY(!dialog->requiresTyping());
    QVERIFY(dialog->confirmButton()->isEnabled());
    dialog->confirmButton()->click();
    QVERIFY(ran.wait(30'000));
    QCOMPARE(panel->lastRun()->deleted, 1LL);
    QCOMPARE(scanCount(tier::codec::entryKey(3)), 0LL);
    QCOMPARE(scanCount("entry:*"), 4LL);  // only that key
  }

  void cancelStopsABigRunMidway() {
    tier::test::flushRedis();
    constexpr long long kKeys = 200'000;
    {
      tier::redis::RedisOptions o;
      o.url = tier::redis::RedisUrl::parse(TestServers::shared().redisUrl());
      o.command_timeout = std::chrono::milliseconds(5000);
      tier::redis::RedisClient r(o);
      std::vector<tier::redis::Command> batch;
      for (long long i = 0; i < kKeys; ++i) {
        batch.push_back({"SET", "entry:v1:bulk" + std::to_string(i), "x"});
        if (batch.size() == 10'000 || i + 1 == kKeys) {
          for (const auto& rep : r.pipeline(batch)) QVERIFY(!rep.isError());
          batch.clear();
        }
      }
    }
    QCOMPARE(scanCount("entry:*"), kKeys);
    InvalidatePanel::setConfirmThreshold(10'000'000);
    auto* panel = page_->invalidatePanel();
    choosePattern(panel, QStringLiteral("*"));
    QSignalSpy ran(panel, &InvalidatePanel::runFinished);
    panel->runAction()->trigger();
    ConfirmInvalidateDialog* dialog = waitForDialog(panel);
    QVERIFY(dialog);
    QCOMPARE(panel->lastPreview()->matched, kKeys);
    dialog->confirmButton()->click();
    // Cancel as soon as the first batch reports (Esc on the page = the cancel action).
    auto* status = child<QLabel>(panel, "invalidateStatus");
    QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QStringLiteral("Scanned")), 30'000);
    QVERIFY(child<QPushButton>(panel, "cancelButton")->isEnabled());
    page_->cancelAction()->trigger();
    QVERIFY(ran.wait(60'000));
    const auto& r = *panel->lastRun();
    QVERIFY(r.cancelled);
    QVERIFY2(r.deleted < kKeys, qPrintable(QString::number(r.deleted)));
    QCOMPARE(scanCount("entry:*"), kKeys - r.deleted);
    QVERIFY(child<QLabel>(panel, "invalidateHeadline")->text().startsWith(QStringLiteral("Cancelled")));
    QCOMPARE(auditRow(r.audit_id).result, std::string("cancelled"));
    tier::test::flushRedis();
  }

  void warmKnowledgeFillsEveryKnowledgeKey() {
    tier::test::flushRedis();
    long long articles = 0;
    {
      auto c = core_->pg().acquire();
      articles = c->exec("SELECT count(*) FROM psychology_knowledge").toInt(0, 0);
    }
    QVERIFY(articles > 0);
    QCOMPARE(scanCount("knowledge:*"), 0LL);
    auto* warm = page_->warmPanel();
    warm->setSelected(tier::ops::WarmSet::Knowledge, true);
    warm->setSelected(tier::ops::WarmSet::Sessions, false);
    warm->setSelected(tier::ops::WarmSet::Entries, false);
    QSignalSpy done(warm, &WarmPanel::warmFinished);
    QVERIFY(child<QPushButton>(warm, "warmButton")->isEnabled());
    QTest::mouseClick(child<QPushButton>(warm, "warmButton"), Qt::LeftButton);
    QVERIFY(!child<QPushButton>(page_->invalidatePanel(), "previewButton")->isEnabled());  // one job at a time
    QVERIFY(done.wait(60'000));
    const auto& rows = warm->summaryModel()->rows();
    QCOMPARE(int(rows.size()), 1);
    QCOMPARE(rows[0].state, WarmSummaryModel::State::Done);
    QVERIFY(rows[0].result.has_value());
    QCOMPARE(rows[0].result->candidates, articles);
    QCOMPARE(rows[0].result->warmed + rows[0].result->already, articles);
    QCOMPARE(rows[0].result->failed, 0LL);
    QCOMPARE(scanCount("knowledge:*"), articles);
    QCOMPARE(child<QProgressBar>(warm, "warmProgress_knowledge")->value(), child<QProgressBar>(warm, "warmProgress_knowledge")->maximum());
    QVERIFY(child<QPushButton>(page_->invalidatePanel(), "previewButton")->isEnabled());
  }

  void namespaceInvalidationBumpsTheGeneration() {
    // The knowledge keys warmed above: a namespace preview counts them, the run retires them all at once.
    const long long cached = scanCount("knowledge:*");
    QVERIFY(cached > 0);
    auto* panel = page_->invalidatePanel();
    child<QRadioButton>(panel, "kind_namespace")->setChecked(true);
    auto* combo = child<QComboBox>(panel, "namespaceCombo");
    combo->setCurrentIndex(combo->findText(QStringLiteral("knowledge")));
    QVERIFY(!child<QLineEdit>(panel, "targetEdit")->isEnabled());
    InvalidatePanel::setConfirmThreshold(0);  // any count: type the namespace
    QSignalSpy ran(panel, &InvalidatePanel::runFinished);
    panel->runAction()->trigger();
    ConfirmInvalidateDialog* dialog = waitForDialog(panel);
    QVERIFY(dialog);
    QCOMPARE(panel->lastPreview()->matched, cached);
    QVERIFY(dialog->requiresTyping());
    QTest::keyClicks(dialog->confirmEdit(), QStringLiteral("knowledge"));
    QVERIFY(dialog->confirmButton()->isEnabled());
    QTest::keyClick(dialog->confirmEdit(), Qt::Key_Return);  // Enter confirms once the text matches
    QVERIFY(ran.wait(30'000));
    const auto& r = *panel->lastRun();
    QCOMPARE(r.kind, tier::ops::InvalidateKind::Namespace);
    QVERIFY(r.new_generation > 0);
    QCOMPARE(child<QLabel>(panel, "deletedValue")->text(), QStringLiteral("none: generation bumped to %1").arg(r.new_generation));
    QVERIFY(child<QLabel>(panel, "invalidateHeadline")->text().startsWith(QStringLiteral("Namespace knowledge invalidated")));
    const auto row = auditRow(r.audit_id);
    QCOMPARE(row.action, std::string("invalidate.namespace"));
    QCOMPARE(row.result, std::string("ok"));
    InvalidatePanel::setConfirmThreshold(1000);
  }

  void shortcutsWorkAndTooltipsNameThem() {
    auto* page = page_.get();
    const struct {
      QAction* action;
      const char* keys;
    } expected[] = {{page->invalidatePanel()->previewAction(), "Ctrl+P"},
                    {page->invalidatePanel()->runAction(), "Ctrl+Return"},
                    {page->cancelAction(), "Esc"},
                    {page->warmPanel()->warmAction(), "Ctrl+W"},
                    {page->loadPanel()->toggleAction(), "Ctrl+L"}};
    for (const auto& e : expected) {
      QCOMPARE(e.action->shortcut(), QKeySequence(QString::fromLatin1(e.keys)));
      QVERIFY2(e.action->toolTip().contains(e.action->shortcut().toString(QKeySequence::NativeText)),
               qPrintable(e.action->toolTip()));
      QVERIFY(page->actions().contains(e.action));
    }
    QVERIFY(child<QPushButton>(page->invalidatePanel(), "cancelButton")->toolTip().contains(QStringLiteral("Esc")));
    QVERIFY(child<QPushButton>(page->invalidatePanel(), "previewButton")->toolTip().contains(QStringLiteral("Ctrl+P")));
    QVERIFY(child<QPushButton>(page->warmPanel(), "warmButton")->toolTip().contains(QStringLiteral("Ctrl+W")));

    // A real key press anywhere on the page: Ctrl+P previews, Esc cancels nothing harmful when idle.
    page->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(page));
    auto* panel = page->invalidatePanel();
    choosePattern(panel, QStringLiteral("*"));
    child<QLineEdit>(panel, "targetEdit")->setFocus();
    QSignalSpy previewed(panel, &InvalidatePanel::previewFinished);
    QTest::keyClick(child<QLineEdit>(panel, "targetEdit"), Qt::Key_P, Qt::ControlModifier);
    QVERIFY(previewed.wait(30'000));
    QTest::keyClick(child<QLineEdit>(panel, "targetEdit"), Qt::Key_Escape);
    QVERIFY(!panel->busy());
  }

  void readOnlyRedisUserDeletesNothing() {
    auto& redis = TestServers::shared().redis();
    redis.cli("ACL SETUSER ro on '>ropass' '~*' '+@read' '+@connection' '+info' '+ping' '+eval' '-@write'");
    QVERIFY(redis.cli("ACL GETUSER ro").find("-@write") != std::string::npos ||
            redis.cli("ACL GETUSER ro").find("+@read") != std::string::npos);
    tier::test::flushRedis();
    fillEntries(30);
    const long long before = scanCount("entry:*");
    QVERIFY(before >= 30);

    CoreService ro;
    connectService(ro, "redis://ro:ropass@127.0.0.1:" + std::to_string(redis.port()) + "/0");
    OperationsPage page(&ro);
    page.show();
    QSignalSpy probed(&page, &OperationsPage::capabilitiesProbed);
    QVERIFY(page.capabilitiesKnown() || probed.wait(20'000));
    auto* panel = page.invalidatePanel();
    choosePattern(panel, QStringLiteral("*"));
    // The probe knows: Run is disabled and says why; Preview (read-only) still works.
    auto* run = child<QPushButton>(panel, "runButton");
    QVERIFY(!run->isEnabled());
    QVERIFY2(run->toolTip().startsWith(QStringLiteral("Not allowed with these credentials")), qPrintable(run->toolTip()));
    QVERIFY2(run->toolTip().contains(QStringLiteral("UNLINK")), qPrintable(run->toolTip()));
    QVERIFY(child<QPushButton>(panel, "previewButton")->isEnabled());
    QVERIFY(page.findChild<QLabel*>(QStringLiteral("credentialsLabel"))->text().contains(QStringLiteral("ro")));
    auto* warm = child<QPushButton>(page.warmPanel(), "warmButton");
    QVERIFY(!warm->isEnabled());  // warming writes to Redis
    QVERIFY2(warm->toolTip().startsWith(QStringLiteral("Not allowed with these credentials")), qPrintable(warm->toolTip()));

    // Even if the probe had let it through, the server's refusal is a sentence and nothing is deleted.
    panel->setPermitted(true, {});
    QSignalSpy failed(panel, &InvalidatePanel::failed);
    panel->runAction()->trigger();
    ConfirmInvalidateDialog* dialog = waitForDialog(panel);
    QVERIFY(dialog);
    QCOMPARE(panel->lastPreview()->matched, before);
    if (dialog->requiresTyping()) dialog->confirmEdit()->setText(QStringLiteral("entry"));
    dialog->confirmButton()->click();
    QVERIFY(failed.wait(30'000));
    const QString sentence = failed.at(0).at(0).toString();
    QVERIFY2(sentence.startsWith(QStringLiteral("Not allowed with these credentials: ")), qPrintable(sentence));
    QCOMPARE(child<QLabel>(panel, "invalidateHeadline")->text(), sentence);
    QCOMPARE(scanCount("entry:*"), before);
    QVERIFY(child<QPushButton>(panel, "previewButton")->isEnabled());  // idle again
  }

  void loadStartsAdjustsAndStops() {
    auto* load = page_->loadPanel();
    QVERIFY(!load->running());
    QSignalSpy shown(load, &LoadPanel::stateShown);
    auto* rate = child<QSpinBox>(load, "rate");
    rate->setValue(400);
    load->toggleAction()->trigger();
    QVERIFY(!child<QPushButton>(load, "loadButton")->isEnabled());  // starting
    QTRY_VERIFY_WITH_TIMEOUT(load->running(), 60'000);
    QCOMPARE(child<QPushButton>(load, "loadButton")->text(), QStringLiteral("Stop &load"));
    // The panel's load runs on tierctl load's default threads (workload/threads.h) and says why.
    {
      const auto& s = service_->settings();
      const auto rule = tier::workload::defaultThreads(
          tier::workload::usableCpus(), tier::workload::redisOnThisHost(s.redis_url.toStdString()),
          tier::workload::postgresOnThisHost(s.pg_conninfo.toStdString()));
      QCOMPARE(service_->workloadOptions()->threads, rule.threads);
      QCOMPARE(load->threadsText(), QString::number(rule.threads));
      QVERIFY2(load->threadsReason().contains(QString::fromStdString(rule.reason)), qPrintable(load->threadsReason()));
    }
    // Live counters arrive with the stats snapshots.
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(load, "reads")->text() != QStringLiteral("—") &&
                                 child<QLabel>(load, "opsPerSecond")->text() != QStringLiteral("—"),
                             20'000);
    child<QSpinBox>(load, "virtualUsers")->setValue(50);  // applied while running
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(load, "operations")->text() != QStringLiteral("0"), 20'000);
    QCOMPARE(child<QLabel>(load, "staleReads")->text(), QStringLiteral("0"));

    page_->resize(1320, 860);
    QTest::qWait(0);
    page_->grab().save(QStringLiteral("/tmp/g3-operations.png"));

    load->toggleAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!load->running(), 30'000);
    QCOMPARE(child<QPushButton>(load, "loadButton")->text(), QStringLiteral("Start &load"));
  }

  void loadStartedElsewhereIsShownNotOverridden() {
    // The sandbox's demo load is started by the service, not the panel: the
    // panel must show its settings and leave them as they are.
    auto* load = page_->loadPanel();
    child<QSpinBox>(load, "rate")->setValue(0);
    tier::workload::WorkloadOptions o;
    o.virtual_users = 37;
    o.rate = 250;
    service_->startWorkload(o);
    QTRY_VERIFY_WITH_TIMEOUT(load->running(), 60'000);
    QCOMPARE(child<QSpinBox>(load, "virtualUsers")->value(), 37);
    QCOMPARE(child<QSpinBox>(load, "rate")->value(), 250);
    QCOMPARE(service_->workloadOptions()->rate, 250.0);
    QCOMPARE(service_->workloadOptions()->virtual_users, 37);
    QCOMPARE(load->threadsText(), QString::number(o.threads));  // what it runs on, not the panel's default
    load->toggleAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!load->running(), 30'000);
  }

  void databaseLabelNamesHostAndDatabaseNeverAPassword() {
    QCOMPARE(databaseLabel(QStringLiteral("host=db.example.com port=5433 dbname=app user=ops password=s3cret")),
             QStringLiteral("db.example.com:5433/app"));
    QCOMPARE(databaseLabel(QStringLiteral("host = 'my db' dbname='a\\'b' password='x y'")),
             QStringLiteral("my db/a'b"));
    QCOMPARE(databaseLabel(QStringLiteral("postgresql://ops:s3cret@db.example.com:6432/app?sslmode=require")),
             QStringLiteral("db.example.com:6432/app"));
    QCOMPARE(databaseLabel(QStringLiteral("host=/run/postgresql")),
             QStringLiteral("socket /run/postgresql/(default database)"));
    QCOMPARE(databaseLabel(QString()), QStringLiteral("(default host)/(default database)"));
  }

  // Issue 13: on a database without the sandbox mark, Start load reads only and
  // says why; "Allow writes" asks first, naming the profile and the database.
  void loadOnANonSandboxDatabaseIsReadOnlyAndAsksBeforeWrites() {
    auto* load = page_->loadPanel();
    QVERIFY(!load->running());
    auto exec = [this](const std::string& sql) {
      auto c = core_->pg().acquire();
      return c->exec(sql);
    };
    exec("DELETE FROM tier_deployment");  // this binary's private servers: no longer a sandbox
    struct Remark {
      tier::TierCore& core;
      ~Remark() { tier::ops::markSandbox(core.pg()); }
    } remark{*core_};
    auto synthetic = [&] {
      return exec("SELECT count(*) FROM users WHERE email LIKE 'load-%@synthetic.invalid'").toInt(0, 0);
    };
    auto dataDigest = [&]() -> std::string {  // a copy: value() points into the result, gone at the return
      return std::string(exec("SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) FROM (SELECT j::text AS x FROM "
                  "journal_entries j UNION ALL SELECT m::text FROM chat_messages m UNION ALL SELECT s::text FROM "
                  "chat_sessions s UNION ALL SELECT u::text FROM users u) t")
          .value(0, 0));
    };
    // The previous test's demo load stops on a worker: start from data that has settled.
    std::string before;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
                               const std::string a(dataDigest());
                               QTest::qWait(300);
                               before = std::string(dataDigest());
                               return a == before;
                             }()),
                             20'000);
    const std::int64_t lastAudit = exec("SELECT coalesce(max(id), 0) FROM cache_audit").toInt(0, 0);
    auto* allow = child<QCheckBox>(load, "allowWrites");
    allow->setChecked(false);
    child<QSpinBox>(load, "virtualUsers")->setValue(30);
    child<QSpinBox>(load, "rate")->setValue(300);

    load->toggleAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(load->running(), 60'000);
    QTRY_VERIFY_WITH_TIMEOUT(load->writeModeText().contains(QStringLiteral("read-only: not a sandbox database")), 20'000);
    QVERIFY2(load->writeModeText().startsWith(QStringLiteral("Write share 0 %")), qPrintable(load->writeModeText()));
    QVERIFY(child<QLabel>(load, "writeMode")->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(load, "reads")->text() != QStringLiteral("0"), 20'000);
    QCOMPARE(child<QLabel>(load, "writes")->text(), QStringLiteral("0"));
    load->toggleAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!load->running(), 30'000);
    QCOMPARE(std::string(dataDigest()), before);

    // Writes requested: nothing starts before the answer; a refusal starts nothing.
    allow->setChecked(true);
    load->toggleAction()->trigger();
    auto* dialog = load->findChild<ConfirmInvalidateDialog*>(QStringLiteral("confirmWritingLoadDialog"));
    QVERIFY(dialog && dialog->isVisible());
    const QString question = dialog->findChild<QLabel*>(QStringLiteral("confirmQuestion"))->text();
    QVERIFY2(question.contains(QStringLiteral("tst_operations_page")), qPrintable(question));  // the profile
    QVERIFY2(question.contains(QStringLiteral("127.0.0.1:%1/").arg(TestServers::shared().postgres().port())),
             qPrintable(question));  // the database
    QVERIFY(!load->running());
    dialog->reject();
    QTest::qWait(300);
    QVERIFY(!load->running());
    QVERIFY(child<QLabel>(load, "loadLastError")->text().contains(QStringLiteral("not confirmed")));
    QCOMPARE(synthetic(), 0LL);

    // Confirmed: it writes, to its own synthetic rows only, and removes them when stopped.
    load->toggleAction()->trigger();
    dialog = load->findChild<ConfirmInvalidateDialog*>(QStringLiteral("confirmWritingLoadDialog"));
    QVERIFY(dialog && dialog->isVisible());
    dialog->confirmButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(load->running(), 60'000);
    QTRY_VERIFY_WITH_TIMEOUT(load->writeModeText().contains(QStringLiteral("writes: synthetic rows only (consented)")),
                             20'000);
    QCOMPARE(synthetic(), 8LL);
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(load, "writes")->text() != QStringLiteral("0"), 20'000);
    load->toggleAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!load->running(), 30'000);
    QTRY_COMPARE_WITH_TIMEOUT(synthetic(), 0LL, 30'000);  // stop() runs on a worker
    QTRY_COMPARE_WITH_TIMEOUT(std::string(dataDigest()), before, 10'000);
    allow->setChecked(false);

    // Both runs are on record, start and end.
    auto actions = [&] {
      QStringList out;
      for (const auto& row : tier::ops::readAudit(*core_, 50))
        if (row.id > lastAudit && row.action.rfind("load.", 0) == 0) out.prepend(QString::fromStdString(row.action));
      return out;
    };
    QTRY_COMPARE_WITH_TIMEOUT(actions(), (QStringList{QStringLiteral("load.start"), QStringLiteral("load.end"),
                                                      QStringLiteral("load.start"), QStringLiteral("load.end")}),
                              10'000);

    // A production-tagged profile: even the read-only load asks (one click), and writes need the name typed.
    Profile prod;
    prod.name = QStringLiteral("tst_operations_page");  // the profile the service connected with
    prod.production = true;
    ProfileStore().saveProfile(prod);
    struct Untag {
      ~Untag() { ProfileStore().removeProfile(QStringLiteral("tst_operations_page")); }
    } untag;
    load->toggleAction()->trigger();
    auto* ask = load->findChild<ConfirmInvalidateDialog*>(QStringLiteral("confirmLoadDialog"));
    QVERIFY(ask && ask->isVisible());
    QVERIFY(!ask->requiresTyping());
    QVERIFY(ask->findChild<QLabel*>(QStringLiteral("confirmQuestion"))->text().contains(QStringLiteral("production")));
    QVERIFY(!load->running());
    ask->reject();
    QTest::qWait(200);
    QVERIFY(!load->running());
    allow->setChecked(true);
    load->toggleAction()->trigger();
    dialog = load->findChild<ConfirmInvalidateDialog*>(QStringLiteral("confirmWritingLoadDialog"));
    QVERIFY(dialog && dialog->isVisible());
    QVERIFY(dialog->requiresTyping());
    QVERIFY(!dialog->confirmButton()->isEnabled());
    dialog->confirmEdit()->setText(QStringLiteral("tst_operations_page"));
    QVERIFY(dialog->confirmButton()->isEnabled());
    dialog->reject();
    QTest::qWait(200);
    QVERIFY(!load->running());
    QCOMPARE(synthetic(), 0LL);

    // A read-only profile refuses the writing load and says why; the checkbox greys out.
    prod.production = false;
    prod.read_only = true;
    ProfileStore().saveProfile(prod);
    load->toggleAction()->trigger();
    QVERIFY(!load->findChild<ConfirmInvalidateDialog*>(QStringLiteral("confirmWritingLoadDialog")));
    QVERIFY(!load->running() && !allow->isEnabled() && !allow->isChecked());
    QVERIFY2(child<QLabel>(load, "loadLastError")->text().contains(QStringLiteral("read-only")),
             qPrintable(child<QLabel>(load, "loadLastError")->text()));
  }
};

QTEST_MAIN(TestOperationsPage)
#include "tst_operations_page.moc"
