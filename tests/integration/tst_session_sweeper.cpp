// TIER_TEST_TIMEOUT: 300
// TIER_TEST_ON_CLUSTER
// The session sweeper (issue 15, item 3) against the real servers: idle
// sessions are marked expired in batches and their L1/L2 copies dropped on
// every instance, active ones untouched; a dry run changes nothing; two cores
// with the sweeper on elect one holder through the advisory lock and the other
// takes over when it stops; `tierctl sessions expire` refuses bad input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "core_fixture.h"
#include "process_runner.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/session_sweeper.h"

using namespace tier;
using std::chrono::seconds;

namespace {

constexpr auto kDay = seconds(86400);

// A session of a seeded user, read through `cores` so every one holds it in L1 (and L2).
std::int64_t newSession(TierCore& writer, const std::string& title) {
  return writer.sessions().create(3, title).id;
}

void backdate(TierCore& core, std::int64_t id, const char* interval) {
  auto c = core.pg().acquire();
  c->exec(std::string("UPDATE chat_sessions SET last_active_at = now() - interval '") + interval + "' WHERE id = $1",
          {std::to_string(id)});
}

std::string status(TierCore& core, std::int64_t id) {
  auto c = core.pg().acquire();
  auto r = c->exec("SELECT status FROM chat_sessions WHERE id = $1", {std::to_string(id)});
  return r.rows() ? std::string(r.value(0, 0)) : std::string("absent");
}

long long auditCount(TierCore& core, const std::string& action) {
  auto c = core.pg().acquire();
  return c->exec("SELECT count(*) FROM cache_audit WHERE action = $1", {action}).toInt(0, 0);
}

bool inL1(TierCore& core, std::int64_t id) {
  return core.cache().peekL1(codec::sessionKey(id)).has_value();
}
bool inL2(TierCore& core, std::int64_t id) {
  return core.cache().peekL2(codec::Namespace::Session, codec::sessionKey(id)).present;
}

// Reads until the copy is in this core's L1 (the first read may be the one that links the backplane).
// L1 serves only while the backplane is linked, which under load may take a while.
bool warm(TierCore& core, std::int64_t id) {
  return QTest::qWaitFor(
      [&] {
        core.sessions().get(id);
        return inL1(core, id) && inL2(core, id);
      },
      30000);
}

CoreConfig sweeperConfig(const std::string& profile) {
  CoreConfig c = test::coreConfig(profile);
  c.session_sweeper.enabled = true;
  c.session_sweeper.idle_limit = kDay;
  c.session_sweeper.interval = std::chrono::milliseconds(200);
  c.session_sweeper.batch = 2;  // several batches from a handful of rows
  return c;
}

}  // namespace

class TestSessionSweeper : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir config_;

  test::ProcessRun tierctl(QStringList args, bool withServers = true) const {
    if (withServers) {
      args << QStringLiteral("--redis") << QString::fromStdString(test::redisUrl()) << QStringLiteral("--pg")
           << QString::fromStdString(test::seededServers().pgConninfo());
    }
    return test::runProcess(test::tierctlProgram(), args, test::isolatedEnvironment(config_.path()));
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(config_.isValid());
    test::seededServers();
    test::flushRedis();
    // The core's default: off, so no tierctl command or test sweeps by surprise.
    QVERIFY(!CoreConfig{}.session_sweeper.enabled);
    TierCore core(test::coreConfig());
    QVERIFY(core.sessionSweeper() == nullptr);
  }

  void durations() {
    using ops::parseDuration;
    QCOMPARE(parseDuration("90m"), seconds(5400));
    QCOMPARE(parseDuration("2h"), seconds(7200));
    QCOMPARE(parseDuration("1d"), kDay);
    QCOMPARE(parseDuration("1h30m"), seconds(5400));
    QCOMPARE(parseDuration("45s"), seconds(45));
    QCOMPARE(parseDuration("3600"), seconds(3600));
    for (const std::string& bad : std::vector<std::string>{
             "", "0", "0h", "2x", "h", "-5m", "1.5h", "2h ", " 2h", "1h30", "2H", "1e3", "3651d",
             "99999999999999999999d", "2h;DROP TABLE chat_sessions", "\xff\xfe", std::string(100 * 1024, '9')})
      QVERIFY_THROWS_EXCEPTION(BadInputError, parseDuration(bad));
    QCOMPARE(ops::formatDuration(seconds(7200)), std::string("2h"));
    QCOMPARE(ops::formatDuration(seconds(5400)), std::string("1h30m"));
    QCOMPARE(ops::formatDuration(kDay), std::string("1d"));

    ops::ExpireIdleRequest r;
    r.idle = seconds(0);
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::validate(r));
    r.idle = seconds(60);
    r.batch = 0;
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::validate(r));
  }

  // A dry run counts and lists, and changes neither the rows nor the caches.
  void dryRunChangesNothing() {
    TierCore core(test::coreConfig());
    const auto idle = newSession(core, "dry run: idle");
    const auto fresh = newSession(core, "dry run: fresh");
    backdate(core, idle, "3 days");
    QVERIFY(warm(core, idle));
    QVERIFY(warm(core, fresh));
    const long long audits = auditCount(core, "expire.sessions");
    const auto rowVersion = core.sessions().loadFromDb(idle)->version;

    ops::ExpireIdleRequest req;
    req.idle = kDay;
    req.dry_run = true;
    req.sample_size = 1000;
    const auto r = ops::expireIdleSessions(core, req);
    QVERIFY(r.matched >= 1);
    QCOMPARE(r.expired, 0LL);
    QVERIFY(std::find(r.sample.begin(), r.sample.end(), idle) != r.sample.end());
    QVERIFY(std::find(r.sample.begin(), r.sample.end(), fresh) == r.sample.end());
    QCOMPARE(status(core, idle), std::string("active"));
    QCOMPARE(core.sessions().loadFromDb(idle)->version, rowVersion);  // the row did not change
    QVERIFY(inL2(core, idle));
    QVERIFY(r.audit_id > 0);  // a dry run is recorded as one
    QCOMPARE(auditCount(core, "expire.sessions"), audits + 1);
  }

  // One pass in batches: the idle rows expire and their copies go from L2 and
  // from the L1 of both instances (the other through the backplane); the
  // active session keeps its row and its copies.
  void passExpiresIdleAndDropsCopiesEverywhere() {
    TierCore a(test::coreConfig("a"));
    TierCore b(test::coreConfig("b"));
    std::vector<std::int64_t> idle;
    for (int i = 0; i < 5; ++i) idle.push_back(newSession(a, "pass: idle " + std::to_string(i)));
    const auto fresh = newSession(a, "pass: fresh");
    for (auto id : idle) backdate(a, id, "2 days");
    for (auto id : idle) {
      QVERIFY(warm(a, id));
      QVERIFY(warm(b, id));
    }
    QVERIFY(warm(a, fresh));
    QVERIFY(warm(b, fresh));

    ops::ExpireIdleRequest req;
    req.idle = kDay;
    req.batch = 2;
    const auto r = ops::expireIdleSessions(a, req);
    QVERIFY2(r.expired >= 5, qPrintable(QString::number(r.expired)));
    QVERIFY(r.batches >= 3);  // 5 rows at 2 a transaction
    QVERIFY(r.l2_deleted >= 5);
    QVERIFY(r.l1_dropped <= r.expired);  // this instance's L1 (a backplane flush may have emptied it already)
    QVERIFY(r.audit_id > 0);
    QVERIFY(r.cache_error.empty());
    for (auto id : idle) {
      QCOMPARE(status(a, id), std::string("expired"));
      QVERIFY(!inL1(a, id));
      QVERIFY(!inL2(a, id));
      QTRY_VERIFY_WITH_TIMEOUT(!inL1(b, id), 15000);  // the backplane's message
      // The next read on either instance sees the expired row.
      QCOMPARE(b.sessions().get(id).value->status, std::string("expired"));
    }
    // The active session keeps its row and its L2 copy (L1 copies may go for other reasons: a backplane flush).
    QCOMPARE(status(a, fresh), std::string("active"));
    QVERIFY(inL2(a, fresh));
    QVERIFY_THROWS_EXCEPTION(BadInputError, a.sessions().appendMessage(idle.front(), "user", "still there?"));

    // Nothing left to do: a second pass changes nothing.
    const auto again = ops::expireIdleSessions(a, req);
    QCOMPARE(again.expired, 0LL);
  }

  // The console's Expire on one session.
  void expireOneSession() {
    TierCore core(test::coreConfig());
    const auto id = newSession(core, "expire one");
    QVERIFY(warm(core, id));
    const auto r = ops::expireSession(core, id);
    QVERIFY(r.audit_id > 0);
    QCOMPARE(status(core, id), std::string("expired"));
    QVERIFY(!inL1(core, id));
    QVERIFY(!inL2(core, id));
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::expireSession(core, id));  // not active any more
    QVERIFY_THROWS_EXCEPTION(NotFoundError, ops::expireSession(core, 987654321012));
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::expireSession(core, 0));
  }

  // Two instances with the sweeper on: exactly one holds the lock and sweeps;
  // when it stops, the other takes over and sweeps in its turn.
  void oneSweeperPerDatabase() {
    auto first = std::make_unique<TierCore>(sweeperConfig("sweeper-1"));
    QTRY_VERIFY_WITH_TIMEOUT(first->sessionSweeper()->stats().holder, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(first->sessionSweeper()->stats().runs >= 1, 20000);
    auto second = std::make_unique<TierCore>(sweeperConfig("sweeper-2"));
    QTRY_VERIFY_WITH_TIMEOUT(second->sessionSweeper()->stats().backend_pid > 0, 20000);

    // The holder's lock is the one pg_locks shows; the second one sees it as another instance's.
    const auto s1 = ops::sessionSweeperStatus(*first);
    QCOMPARE(s1.lock_holder, std::string("this instance"));
    QCOMPARE(s1.lock_holder_pid, first->sessionSweeper()->stats().backend_pid);
    const auto s2 = ops::sessionSweeperStatus(*second);
    QCOMPARE(s2.lock_holder, std::string("another instance"));
    QVERIFY(!s2.stats.holder);
    QCOMPARE(s2.stats.runs, 0LL);  // a standby never sweeps

    // The holder sweeps what goes idle; both instances' copies go.
    const auto idle = newSession(*first, "sweeper: idle");
    const auto fresh = newSession(*first, "sweeper: fresh");
    QVERIFY(warm(*first, fresh));
    QVERIFY(warm(*second, fresh));
    QVERIFY(warm(*first, idle));
    QVERIFY(warm(*second, idle));
    const long long before = first->sessionSweeper()->stats().total_expired;
    backdate(*first, idle, "3 days");
    first->sessionSweeper()->wake();
    QTRY_COMPARE_WITH_TIMEOUT(status(*first, idle), std::string("expired"), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(first->sessionSweeper()->stats().total_expired >= before + 1, 20000);
    QVERIFY(!inL2(*first, idle));
    QTRY_VERIFY_WITH_TIMEOUT(!inL1(*first, idle), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!inL1(*second, idle), 15000);
    QCOMPARE(status(*first, fresh), std::string("active"));
    QVERIFY(inL2(*first, fresh));
    QVERIFY(second->sessionSweeper()->stats().total_expired == 0);
    QVERIFY(auditCount(*first, "sweep.sessions") >= 1);

    // The holder stops (its lock is released): the standby takes over.
    first.reset();
    QTRY_VERIFY_WITH_TIMEOUT(second->sessionSweeper()->stats().holder, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(second->sessionSweeper()->stats().runs >= 1, 20000);
    const auto next = newSession(*second, "sweeper: idle after take-over");
    QVERIFY(warm(*second, next));
    backdate(*second, next, "5 days");
    second->sessionSweeper()->wake();
    QTRY_COMPARE_WITH_TIMEOUT(status(*second, next), std::string("expired"), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(!inL1(*second, next), 15000);
    QVERIFY(!inL2(*second, next));
    QCOMPARE(status(*second, fresh), std::string("active"));
    // The pass's counts land after its rows and copies: wait for them.
    QTRY_VERIFY_WITH_TIMEOUT(second->sessionSweeper()->stats().total_expired >= 1, 20000);
    const auto st = ops::sessionSweeperStatus(*second);
    QCOMPARE(st.lock_holder, std::string("this instance"));
    QVERIFY(st.stats.last_run_ms > 0);
    second.reset();
    TierCore probe(test::coreConfig());
    QCOMPARE(ops::sessionSweeperStatus(probe).lock_holder, std::string("none"));  // released on stop
  }

  // A role that may not UPDATE chat_sessions never takes the lock (it would
  // keep an instance that may from sweeping) and says why; nothing changes.
  void readOnlyRoleNeverHoldsTheLock() {
    auto& servers = test::seededServers();
    servers.postgres().psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sweeper_ro') THEN "
        "CREATE ROLE sweeper_ro LOGIN PASSWORD 'Sweep-ro-pw-3301'; END IF; END $$; "
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO sweeper_ro");
    CoreConfig cfg = sweeperConfig("sweeper-ro");
    cfg.pg_conninfo = "host=127.0.0.1 port=" + std::to_string(servers.postgres().port()) +
                      " dbname=tier user=sweeper_ro password=Sweep-ro-pw-3301";
    TierCore full(test::coreConfig());
    const auto idle = newSession(full, "idle under a read-only sweeper");
    backdate(full, idle, "3 days");
    TierCore ro(cfg);
    ro.sessionSweeper()->wake();
    QTRY_VERIFY_WITH_TIMEOUT(
        ro.sessionSweeper()->stats().last_error.find("may not UPDATE chat_sessions") != std::string::npos, 20000);
    const auto st = ops::sessionSweeperStatus(ro);
    QVERIFY(!st.stats.holder);
    QCOMPARE(st.stats.runs, 0LL);
    QCOMPARE(st.lock_holder, std::string("none"));
    QVERIFY(st.stats.last_error.find("Sweep-ro-pw") == std::string::npos);
    QCOMPARE(status(full, idle), std::string("active"));
  }

  void cliBadInput() {
    const QList<QStringList> usage{
        {QStringLiteral("sessions")},
        {QStringLiteral("sessions"), QStringLiteral("purge"), QStringLiteral("--idle"), QStringLiteral("2h")},
        {QStringLiteral("sessions"), QStringLiteral("expire")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"), QStringLiteral("2h"),
         QStringLiteral("--id"), QStringLiteral("5")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"), QStringLiteral("2x")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"), QStringLiteral("0")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"), QStringLiteral("-5m")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"), QString()},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"),
         QStringLiteral("2h'; DROP TABLE chat_sessions; --")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"),
         QString(100 * 1024, QLatin1Char('7'))},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"), QStringLiteral("2h"),
         QStringLiteral("--batch"), QStringLiteral("0")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--id"), QStringLiteral("abc")},
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--id"), QStringLiteral("-1")},
        // Not a terminal and no --yes: refused before anything changes.
        {QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"), QStringLiteral("1d")},
    };
    for (const QStringList& args : usage) {
      const auto r = tierctl(args);
      QVERIFY2(r.code == 2, qPrintable(args.join(QLatin1Char(' ')).left(80) + QStringLiteral(": ") +
                                       QString::number(r.code) + QStringLiteral(" ") + QString::fromUtf8(r.err)));
      QVERIFY2(test::isOneLineError(r.err), r.err.constData());
      QVERIFY(r.err.size() < 600);  // a 100 kB argument is not echoed back
    }
    const auto r = tierctl({QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--id"),
                            QStringLiteral("987654321012"), QStringLiteral("--yes")});
    QCOMPARE(r.code, 6);
    QVERIFY2(test::isOneLineError(r.err), r.err.constData());
  }

  // Dry run, the profile tags, the real pass and health, through the binary.
  void cliRuns() {
    TierCore core(test::coreConfig());
    const auto idle = newSession(core, "cli: idle");
    backdate(core, idle, "3 days");
    QVERIFY(warm(core, idle));

    auto r = tierctl({QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"),
                      QStringLiteral("1d"), QStringLiteral("--dry-run"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    QJsonObject o = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(o.value(QStringLiteral("dry_run")).toBool(), true);
    QCOMPARE(o.value(QStringLiteral("idle_s")).toDouble(), 86400.0);
    QVERIFY(o.value(QStringLiteral("matched")).toDouble() >= 1);
    QCOMPARE(o.value(QStringLiteral("expired")).toDouble(), 0.0);
    QVERIFY(o.value(QStringLiteral("sample")).toArray().contains(QJsonValue(static_cast<double>(idle))));
    QVERIFY(o.value(QStringLiteral("audit_id")).toDouble() > 0);
    QCOMPARE(status(core, idle), std::string("active"));
    QVERIFY(inL2(core, idle));

    {
      QSettings settings(config_.path() + QStringLiteral("/TierConsole/tierconsole.conf"), QSettings::IniFormat);
      for (const QString& name : {QStringLiteral("ro"), QStringLiteral("prod")}) {
        settings.setValue(QStringLiteral("profiles/%1/redis_url").arg(name), QString::fromStdString(test::redisUrl()));
        settings.setValue(QStringLiteral("profiles/%1/pg_conninfo").arg(name),
                          QString::fromStdString(test::seededServers().pgConninfo()));
      }
      settings.setValue(QStringLiteral("profiles/ro/read_only"), true);
      settings.setValue(QStringLiteral("profiles/prod/production"), true);
      settings.sync();
      QCOMPARE(settings.status(), QSettings::NoError);
    }
    const QStringList expire{QStringLiteral("sessions"), QStringLiteral("expire"), QStringLiteral("--idle"),
                             QStringLiteral("1d")};
    r = tierctl(QStringList(expire) << QStringLiteral("--yes") << QStringLiteral("--profile") << QStringLiteral("ro"),
                false);
    QCOMPARE(r.code, 4);
    QVERIFY2(r.err.contains("read-only"), r.err.constData());
    r = tierctl(QStringList(expire) << QStringLiteral("--yes") << QStringLiteral("--read-only"));
    QCOMPARE(r.code, 4);
    r = tierctl(QStringList(expire) << QStringLiteral("--profile") << QStringLiteral("prod"), false);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("tagged production") && r.err.contains("--yes"), r.err.constData());
    QCOMPARE(status(core, idle), std::string("active"));  // every refusal changed nothing
    QVERIFY(inL2(core, idle));
    r = tierctl(
        QStringList(expire) << QStringLiteral("--dry-run") << QStringLiteral("--profile") << QStringLiteral("prod"),
        false);
    QVERIFY2(r.code == 0, r.err.constData());  // a dry run needs no --yes
    QCOMPARE(status(core, idle), std::string("active"));

    r = tierctl(QStringList(expire) << QStringLiteral("--yes") << QStringLiteral("--profile") << QStringLiteral("prod")
                                    << QStringLiteral("--json"),
                false);
    QVERIFY2(r.code == 0, r.err.constData());
    o = QJsonDocument::fromJson(r.out).object();
    QVERIFY(o.value(QStringLiteral("expired")).toDouble() >= 1);
    QVERIFY(o.value(QStringLiteral("l2_deleted")).toDouble() >= 1);
    QVERIFY(o.value(QStringLiteral("audit_id")).toDouble() > 0);
    QCOMPARE(status(core, idle), std::string("expired"));
    QVERIFY(!inL2(core, idle));
    QTRY_VERIFY_WITH_TIMEOUT(!inL1(core, idle), 15000);  // this test's core is another instance

    r = tierctl({QStringLiteral("health"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject sw = QJsonDocument::fromJson(r.out).object().value(QStringLiteral("session_sweeper")).toObject();
    QVERIFY(!sw.isEmpty());
    QCOMPARE(sw.value(QStringLiteral("enabled")).toBool(), false);  // tierctl runs none
    QCOMPARE(sw.value(QStringLiteral("holder")).toBool(), false);
    QCOMPARE(sw.value(QStringLiteral("lock_holder")).toString(), QStringLiteral("none"));
    QCOMPARE(sw.value(QStringLiteral("idle_limit_s")).toDouble(), 7200.0);  // the session TTL
    for (const char* k : {"last_run_ms", "last_expired", "total_expired", "last_error"})
      QVERIFY2(sw.contains(QLatin1String(k)), k);
    r = tierctl({QStringLiteral("health")});
    QVERIFY2(r.out.contains("sweeper   off in this process"), r.out.constData());
  }
};

QTEST_GUILESS_MAIN(TestSessionSweeper)
#include "tst_session_sweeper.moc"
