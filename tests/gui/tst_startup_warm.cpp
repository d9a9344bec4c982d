// Warm on start (issue 15 item 4) against real Redis and PostgreSQL: a
// profile's warm_on_start sets are warmed when the console connects, audited,
// with the outcome in the status-bar message; "none" and a read-only profile
// warm nothing; an unknown set name is a clear message; a reconnect to the same
// servers does not warm again. The connection dialog saves the choice.
// TIER_TEST_TIMEOUT: 300
#include <QCheckBox>
#include <QDir>
#include <QSignalSpy>
#include <QtTest>

#include <memory>

#include "common/core_service.h"
#include "core_fixture.h"
#include "gui_fixture.h"
#include "settings/profile_store.h"
#include "settings/startup_warmer.h"
#include "tier/ops/audit.h"

using namespace tier::ui;
using tier::test::TestServers;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

void saveProfile(const QString& name, const QString& warm, bool readOnly = false) {
  Profile p;
  p.name = name;
  p.redis_url = qs(TestServers::shared().redisUrl());
  p.pg_conninfo = qs(TestServers::shared().pgConninfo());
  p.read_only = readOnly;
  p.warm_on_start = warm;
  ProfileStore().saveProfile(p);
}

long long knowledgeKeys() {
  const std::string out = TestServers::shared().redis().cli("--scan --pattern 'knowledge:*'");
  long long n = 0;
  for (char c : out) n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace

class TestStartupWarm : public QObject {
  Q_OBJECT

 public:
  // Before QApplication: profiles go to a private folder, never the person's own.
  static void initMain() { tier::test::usePrivateConfig("tst_startup_warm"); }

 private:
  std::unique_ptr<tier::TierCore> core_;  // the test's own view, for the audit table

  int warmRows(const std::string& action, const std::string& profile) {
    int n = 0;
    for (const auto& r : tier::ops::readAudit(*core_, 500, action)) n += r.action == action && r.profile == profile;
    return n;
  }

  // Connects `service` as `profile`; returns the warmer's outcome, or "" if it said nothing within `quietMs`.
  QString connectAndWait(CoreService& service, StartupWarmer& warmer, const QString& profile, int quietMs = 3000) {
    QSignalSpy ready(&service, &CoreService::coreReady);
    QSignalSpy finished(&warmer, &StartupWarmer::finished);
    QSignalSpy message(&warmer, &StartupWarmer::message);
    ConnectionSettings s;
    s.profile = profile;
    s.redis_url = qs(TestServers::shared().redisUrl());
    s.pg_conninfo = qs(TestServers::shared().pgConninfo());
    service.connectTo(s);
    if (!ready.wait(30'000)) return QStringLiteral("<not connected>");
    if (finished.wait(quietMs) || !finished.isEmpty()) return finished.first().first().toString();
    return message.isEmpty() ? QString() : message.last().first().toString();
  }

 private Q_SLOTS:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("tier-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_startup_warm"));
    QVERIFY(ProfileStore().fileName().startsWith(tier::test::privateConfigDir("tst_startup_warm")));
    tier::test::seededServers();
    core_ = std::make_unique<tier::TierCore>(tier::test::coreConfig("tst_startup_warm"));
    saveProfile(QStringLiteral("warm-two"), QStringLiteral("knowledge,sessions"));
    saveProfile(QStringLiteral("warm-none"), QStringLiteral("none"));
    saveProfile(QStringLiteral("warm-ro"), QStringLiteral("knowledge"), true);
    saveProfile(QStringLiteral("warm-bad"), QStringLiteral("knowledge,bogus"));
  }

  void cleanupTestCase() {
    core_.reset();
    QDir(tier::test::privateConfigDir("tst_startup_warm")).removeRecursively();
  }

  void defaultIsKnowledge() {
    Profile p;
    QCOMPARE(p.warm_on_start, QStringLiteral("knowledge"));
    saveProfile(QStringLiteral("warm-default"), p.warm_on_start);
    QCOMPARE(ProfileStore().profile(QStringLiteral("warm-default"))->warm_on_start, QStringLiteral("knowledge"));
  }

  void profileSetsAreWarmedAndAudited() {
    tier::test::flushRedis();
    QCOMPARE(knowledgeKeys(), 0LL);
    const int k0 = warmRows("warm.knowledge", "warm-two"), s0 = warmRows("warm.sessions", "warm-two");
    CoreService service;
    StartupWarmer warmer(&service);
    const QString outcome = connectAndWait(service, warmer, QStringLiteral("warm-two"), 60'000);
    QVERIFY2(outcome.startsWith(QStringLiteral("Warmed on connect: ")), qPrintable(outcome));
    QVERIFY2(outcome.contains(QStringLiteral("knowledge articles")) && outcome.contains(QStringLiteral("active sessions")),
             qPrintable(outcome));
    QVERIFY(knowledgeKeys() > 0);
    QCOMPARE(warmRows("warm.knowledge", "warm-two"), k0 + 1);
    QCOMPARE(warmRows("warm.sessions", "warm-two"), s0 + 1);

    // The same profile and servers again (a reconnect): nothing warms twice.
    const QString again = connectAndWait(service, warmer, QStringLiteral("warm-two"));
    QVERIFY2(again.isEmpty(), qPrintable(again));
    QCOMPARE(warmRows("warm.knowledge", "warm-two"), k0 + 1);
  }

  void noneAndReadOnlyWarmNothing() {
    for (const QString& profile : {QStringLiteral("warm-none"), QStringLiteral("warm-ro")}) {
      tier::test::flushRedis();
      const int before = warmRows("warm.knowledge", profile.toStdString());
      CoreService service;
      StartupWarmer warmer(&service);
      const QString outcome = connectAndWait(service, warmer, profile);
      QVERIFY2(outcome.isEmpty(), qPrintable(profile + QStringLiteral(": ") + outcome));
      QCOMPARE(warmRows("warm.knowledge", profile.toStdString()), before);
      QCOMPARE(knowledgeKeys(), 0LL);
    }
  }

  void unknownSetIsAClearMessage() {
    tier::test::flushRedis();
    CoreService service;
    StartupWarmer warmer(&service);
    const QString outcome = connectAndWait(service, warmer, QStringLiteral("warm-bad"));
    QVERIFY2(outcome.contains(QStringLiteral("unknown warm set 'bogus'")), qPrintable(outcome));
    QCOMPARE(knowledgeKeys(), 0LL);  // nothing half-done
  }
};

QTEST_MAIN(TestStartupWarm)
#include "tst_startup_warm.moc"
