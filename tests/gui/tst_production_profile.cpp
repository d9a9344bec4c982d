// Production and read-only profile tags against real Redis and PostgreSQL:
// on a production profile an invalidation of more than a handful of keys, a
// namespace bump and an evict need the typed confirmation (a non-production
// profile asks with one click below the threshold); a read-only profile greys
// out invalidate, warm, evict and refresh with the reason, while preview and
// inspect stay; the window says PRODUCTION in its title and a coloured band.
// TIER_TEST_TIMEOUT: 300
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDeadlineTimer>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QtTest>

#include <memory>

#include "common/core_service.h"
#include "core_fixture.h"
#include "main_window.h"
#include "operations/confirm_invalidate_dialog.h"
#include "operations/invalidate_panel.h"
#include "operations/operations_page.h"
#include "operations/warm_panel.h"
#include "sessions/sessions_page.h"
#include "settings/profile_store.h"
#include "tier/pg/pg_pool.h"

using namespace tier::ui;
using tier::test::TestServers;

namespace {

QString configDir() {
  return QDir::tempPath() + QStringLiteral("/tst_production_profile-%1").arg(QCoreApplication::applicationPid());
}

QString qs(const std::string& s) { return QString::fromStdString(s); }

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

void saveTagged(const QString& name, bool production, bool readOnly, const QString& colour = {}) {
  Profile p;
  p.name = name;
  p.production = production;
  p.read_only = readOnly;
  p.colour = colour;
  ProfileStore().saveProfile(p);
}

}  // namespace

class TestProductionProfile : public QObject {
  Q_OBJECT

 public:
  // Before QApplication: profiles and page settings go to a private folder, never the person's own.
  static void initMain() {
    QDir(configDir()).removeRecursively();
    qputenv("XDG_CONFIG_HOME", configDir().toLocal8Bit());
  }

 private:
  std::unique_ptr<CoreService> service_;
  std::unique_ptr<OperationsPage> page_;
  OperationsPage* ops_ = nullptr;  // page_, also once the window owns it
  std::int64_t sessionId_ = 0;

  // Connects as `profile` (its tags come from the store) and waits for the capability probe.
  void connectAs(const QString& profile) {
    QSignalSpy ready(service_.get(), &CoreService::coreReady);
    QSignalSpy probed(ops_, &OperationsPage::capabilitiesProbed);
    ConnectionSettings s;
    s.profile = profile;
    s.redis_url = qs(TestServers::shared().redisUrl());
    s.pg_conninfo = qs(TestServers::shared().pgConninfo());
    service_->connectTo(s);
    QVERIFY(ready.wait(30'000));
    QVERIFY(ops_->capabilitiesKnown() || probed.wait(20'000));
  }

  // Entries read through a fresh core (empty L1), so each read fills Redis.
  static void fillEntries(int first, int last) {
    tier::TierCore core(tier::test::coreConfig("tst_production_profile_fill"));
    for (int i = first; i <= last; ++i) (void)core.entries().get(i);
  }

  static ConfirmInvalidateDialog* waitForDialog(QObject* parent) {
    QDeadlineTimer deadline(60'000);
    while (!deadline.hasExpired()) {
      for (auto* dialog : parent->findChildren<ConfirmInvalidateDialog*>())
        if (dialog->isVisible()) return dialog;
      QTest::qWait(20);
    }
    return nullptr;
  }

  void choosePattern(const QString& glob) {
    auto* panel = page_->invalidatePanel();
    child<QRadioButton>(panel, "kind_pattern")->setChecked(true);
    auto* combo = child<QComboBox>(panel, "namespaceCombo");
    combo->setCurrentIndex(combo->findText(QStringLiteral("entry")));
    child<QLineEdit>(panel, "targetEdit")->setText(glob);
  }

  void chooseNamespace(const QString& ns) {
    auto* panel = page_->invalidatePanel();
    child<QRadioButton>(panel, "kind_namespace")->setChecked(true);
    auto* combo = child<QComboBox>(panel, "namespaceCombo");
    combo->setCurrentIndex(combo->findText(ns));
  }

 private Q_SLOTS:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("tier-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_production_profile"));
    QVERIFY(ProfileStore().fileName().startsWith(configDir()));
    tier::test::seededServers();
    {
      tier::TierCore core(tier::test::coreConfig("tst_production_profile"));
      auto c = core.pg().acquire();
      sessionId_ = c->exec("SELECT min(id) FROM chat_sessions").toInt(0, 0);
    }
    QVERIFY(sessionId_ > 0);
    saveTagged(QStringLiteral("prod"), true, false, QStringLiteral("#c05621"));
    saveTagged(QStringLiteral("ro"), false, true);
    saveTagged(QStringLiteral("plain"), false, false);
    InvalidatePanel::setConfirmThreshold(1000);  // the default: well above six keys
    service_ = std::make_unique<CoreService>();
    page_ = std::make_unique<OperationsPage>(service_.get());
    ops_ = page_.get();
    page_->resize(1280, 820);
    page_->show();
  }

  void cleanupTestCase() {
    page_.reset();
    service_.reset();
    QDir(configDir()).removeRecursively();
  }

  void profileTagsAreReadForTheConnectedProfile() {
    ConnectionSettings s;
    s.profile = QStringLiteral("prod");
    ProfileTags t = profileTags(s);
    QVERIFY(t.production);
    QVERIFY(!t.read_only);
    QCOMPARE(t.colour.name(), QStringLiteral("#c05621"));
    s.profile = QStringLiteral("ro");
    QVERIFY(profileTags(s).read_only);
    s.sandbox = true;  // the sandbox is never production
    QVERIFY(!profileTags(s).any());
  }

  void nonProductionAsksWithOneClickBelowTheThreshold() {
    connectAs(QStringLiteral("plain"));
    fillEntries(11, 16);
    QCOMPARE(scanCount("entry:v1:1[1-6]"), 6LL);
    choosePattern(QStringLiteral("v1:1[1-6]"));
    page_->invalidatePanel()->runAction()->trigger();
    auto* dialog = waitForDialog(page_->invalidatePanel());
    QVERIFY(dialog);
    QVERIFY(!dialog->requiresTyping());
    dialog->reject();
    QCOMPARE(scanCount("entry:v1:1[1-6]"), 6LL);
  }

  void productionInvalidateOfSixKeysNeedsTheTypedConfirmation() {
    connectAs(QStringLiteral("prod"));
    QCOMPARE(InvalidatePanel::kProductionConfirmAbove, 5);
    fillEntries(11, 16);
    QCOMPARE(scanCount("entry:v1:1[1-6]"), 6LL);
    choosePattern(QStringLiteral("v1:1[1-6]"));
    auto* panel = page_->invalidatePanel();
    QVERIFY(panel->runAction()->isEnabled());
    // The threshold's own tooltip says production overrides it.
    QVERIFY(child<QWidget>(panel, "thresholdSpin")->toolTip().contains(QStringLiteral("production profile \u2018prod\u2019")));
    QSignalSpy ran(panel, &InvalidatePanel::runFinished);
    panel->runAction()->trigger();
    auto* dialog = waitForDialog(panel);
    QVERIFY(dialog);
    QVERIFY(dialog->requiresTyping());
    QVERIFY(!dialog->confirmButton()->isEnabled());
    QString shown;
    for (auto* l : dialog->findChildren<QLabel*>()) shown += l->text() + QLatin1Char('\n');
    QVERIFY2(shown.contains(QStringLiteral("production profile \u2018prod\u2019")), qPrintable(shown));
    dialog->confirmEdit()->setText(QStringLiteral("entr"));
    QVERIFY(!dialog->confirmButton()->isEnabled());
    dialog->confirmEdit()->setText(QStringLiteral("entry"));
    QVERIFY(dialog->confirmButton()->isEnabled());
    dialog->confirmButton()->click();
    QVERIFY(ran.wait(30'000));
    QCOMPARE(panel->lastRun()->deleted, 6LL);
    QCOMPARE(scanCount("entry:v1:1[1-6]"), 0LL);
  }

  void productionFiveKeysIsStillOneClick() {
    connectAs(QStringLiteral("prod"));
    fillEntries(11, 15);
    QCOMPARE(scanCount("entry:v1:1[1-5]"), 5LL);
    choosePattern(QStringLiteral("v1:1[1-5]"));
    page_->invalidatePanel()->runAction()->trigger();
    auto* dialog = waitForDialog(page_->invalidatePanel());
    QVERIFY(dialog);
    QVERIFY(!dialog->requiresTyping());
    dialog->reject();
    QCOMPARE(scanCount("entry:v1:1[1-5]"), 5LL);
  }

  void productionNamespaceBumpIsAlwaysTyped() {
    // "stats" holds no key here: the size is not what asks for typing.
    QCOMPARE(scanCount("stats:*"), 0LL);
    connectAs(QStringLiteral("plain"));
    chooseNamespace(QStringLiteral("stats"));
    page_->invalidatePanel()->runAction()->trigger();
    auto* dialog = waitForDialog(page_->invalidatePanel());
    QVERIFY(dialog);
    QVERIFY(!dialog->requiresTyping());
    dialog->reject();
    QTRY_VERIFY(waitForDialogQuick(page_->invalidatePanel()) == nullptr);

    connectAs(QStringLiteral("prod"));
    chooseNamespace(QStringLiteral("stats"));
    page_->invalidatePanel()->runAction()->trigger();
    dialog = waitForDialog(page_->invalidatePanel());
    QVERIFY(dialog);
    QVERIFY(dialog->requiresTyping());
    dialog->reject();
  }

  void readOnlyGreysOutEveryDestructiveActionWithTheReason() {
    connectAs(QStringLiteral("ro"));
    fillEntries(11, 16);
    choosePattern(QStringLiteral("v1:1[1-6]"));
    auto* panel = page_->invalidatePanel();
    const QString reason = QStringLiteral("Profile \u2018ro\u2019 is marked read-only");
    QVERIFY(panel->previewAction()->isEnabled());  // a dry run changes nothing
    QVERIFY(!panel->runAction()->isEnabled());
    QVERIFY2(panel->runAction()->toolTip().contains(reason), qPrintable(panel->runAction()->toolTip()));
    QVERIFY(!child<QPushButton>(panel, "runButton")->isEnabled());
    QVERIFY(child<QPushButton>(panel, "runButton")->toolTip().contains(reason));
    auto* warm = page_->findChild<WarmPanel*>();
    QVERIFY(warm);
    QVERIFY(!warm->warmAction()->isEnabled());
    QVERIFY2(warm->warmAction()->toolTip().contains(reason), qPrintable(warm->warmAction()->toolTip()));
    // The load's writes are greyed out the same way (a read-only load stays allowed).
    auto* allowWrites = child<QCheckBox>(page_.get(), "allowWrites");
    QVERIFY(allowWrites);
    QTRY_VERIFY(!allowWrites->isEnabled());
    QVERIFY(!allowWrites->isChecked());
    QVERIFY2(allowWrites->toolTip().contains(reason), qPrintable(allowWrites->toolTip()));
    // Said on the page too, beside what the credentials may do.
    const QString said = child<QLabel>(page_.get(), "credentialsLabel")->text();
    QVERIFY2(said.contains(reason), qPrintable(said));
    // A shortcut on a disabled action does nothing; the slot itself refuses too.
    panel->onRunTriggered();
    QTest::qWait(300);
    QVERIFY(waitForDialogQuick(panel) == nullptr);
    QCOMPARE(scanCount("entry:v1:1[1-6]"), 6LL);

    SessionsPage sessions(service_.get());
    sessions.resize(1200, 700);
    sessions.show();
    QSignalSpy shown(&sessions, &SessionsPage::inspectionShown);
    sessions.selectSession(sessionId_);
    QVERIFY(shown.wait(20'000));
    QVERIFY(sessions.inspectAction()->isEnabled());
    QVERIFY(!sessions.evictAction()->isEnabled());
    QVERIFY(!sessions.refreshAction()->isEnabled());
    QVERIFY2(sessions.evictAction()->toolTip().contains(reason.toHtmlEscaped()), qPrintable(sessions.evictAction()->toolTip()));
    QVERIFY2(sessions.permissionText().contains(QStringLiteral("Evict: ") + reason), qPrintable(sessions.permissionText()));
    if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty()) {
      QVERIFY(page_->grab().save(dir + QStringLiteral("/operations-read-only.png")));
      QVERIFY(sessions.grab().save(dir + QStringLiteral("/sessions-read-only.png")));
    }
  }

  void productionEvictNeedsTheTypedId() {
    connectAs(QStringLiteral("prod"));
    SessionsPage sessions(service_.get());
    sessions.resize(1200, 700);
    sessions.show();
    QSignalSpy shown(&sessions, &SessionsPage::inspectionShown);
    sessions.selectSession(sessionId_);
    QVERIFY(shown.wait(20'000));
    QTRY_VERIFY(sessions.evictAction()->isEnabled());
    sessions.evictAction()->trigger();
    auto* dialog = waitForDialog(&sessions);
    QVERIFY(dialog);
    QCOMPARE(dialog->objectName(), QStringLiteral("evictConfirmation"));
    QVERIFY(dialog->requiresTyping());
    QVERIFY(!dialog->confirmButton()->isEnabled());
    QSignalSpy finished(&sessions, &SessionsPage::actionFinished);
    dialog->confirmEdit()->setText(QString::number(sessionId_));
    QVERIFY(dialog->confirmButton()->isEnabled());
    dialog->confirmButton()->click();
    QVERIFY(finished.count() == 1 || finished.wait(15'000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
  }

  void theWindowSaysProductionPlainly() {
    connectAs(QStringLiteral("prod"));
    MainWindow window(service_.get());
    window.resize(1280, 820);
    // The page moves into the window (one page per service: its capability probe has one slot), so a
    // screenshot shows the band with the actions under it. This is the last test that uses it.
    window.addPage(page_.release(), QStringLiteral("Operations"), QKeySequence(QStringLiteral("Ctrl+3")));
    window.show();
    const QString shots = qEnvironmentVariable("TIER_SCREENSHOT_DIR");
    QCOMPARE(window.windowTitle(), QStringLiteral("Tier Console \u2014 PRODUCTION \u00b7 prod"));
    QVERIFY(window.profileBand()->isVisible());
    QVERIFY(window.profileBand()->text().startsWith(QStringLiteral("PRODUCTION")));
    QVERIFY(window.profileBand()->text().contains(QStringLiteral("prod")));
    QVERIFY2(window.profileBand()->styleSheet().contains(QStringLiteral("#c05621")), qPrintable(window.profileBand()->styleSheet()));
    QVERIFY(window.profileChip()->isVisible());
    QCOMPARE(window.profileChip()->text(), QStringLiteral("PRODUCTION"));
    if (!shots.isEmpty()) {
      QTest::qWait(1500);  // the capability probe and first paints
      QVERIFY(window.grab().save(shots + QStringLiteral("/window-production.png")));
    }

    connectAs(QStringLiteral("ro"));
    QCOMPARE(window.windowTitle(), QStringLiteral("Tier Console \u2014 READ-ONLY \u00b7 ro"));
    QVERIFY(window.profileBand()->text().startsWith(QStringLiteral("READ-ONLY")));
    if (!shots.isEmpty()) {
      QTest::qWait(1500);
      QVERIFY(window.grab().save(shots + QStringLiteral("/window-read-only.png")));
    }

    connectAs(QStringLiteral("plain"));
    QCOMPARE(window.windowTitle(), QStringLiteral("Tier Console"));
    QVERIFY(!window.profileBand()->isVisible());
    QVERIFY(!window.profileChip()->isVisible());
  }

 private:
  static ConfirmInvalidateDialog* waitForDialogQuick(QObject* parent) {
    for (auto* dialog : parent->findChildren<ConfirmInvalidateDialog*>())
      if (dialog->isVisible()) return dialog;
    return nullptr;
  }
};

QTEST_MAIN(TestProductionProfile)
#include "tst_production_profile.moc"
