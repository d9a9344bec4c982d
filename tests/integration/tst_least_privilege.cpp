// TIER_TEST_LABELS: reliability
// TIER_TEST_TIMEOUT: 600
// Least privilege and audit against real servers. A read-only Redis ACL user
// and a read-only PostgreSQL role may inspect but every destructive or heavy
// action (invalidate by key, pattern, namespace and user; warm; evict; refresh)
// is refused with a reason, through the core API and through tierctl, and
// nothing changes: Redis keys and values (DUMP digest) and every table (row
// count + md5) are compared before and after. Every action writes an audit row
// whose every field is read back, for successes, dry runs, cancellations and
// failures; a failure to write that row is reported, never silent.
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <functional>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "data_digest.h"
#include "process_runner.h"
#include "reliability_report.h"
#include "tier/codec/keys.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/capabilities.h"
#include "tier/ops/health.h"
#include "tier/ops/inspect.h"
#include "tier/ops/invalidation.h"
#include "tier/ops/warming.h"

using namespace tier;

namespace {

const std::string kRoRedisUser = "console_ro";
const std::string kRoRedisPw = "RoRedis-pw-4471";
const std::string kRoPgRole = "console_ro";
const std::string kRoPgPw = "RoPg-pw-4471";
const std::string kProfile = "privtest";

// Which credentials are read-only.
enum class Creds { RoBoth, RoPgOnly, RoRedisOnly };

std::string roRedisUrl() {
  return "redis://" + kRoRedisUser + ":" + kRoRedisPw +
         "@127.0.0.1:" + std::to_string(test::seededServers().redis().port()) + "/0";
}
std::string roPgConninfo() {
  return "host=127.0.0.1 port=" + std::to_string(test::seededServers().postgres().port()) +
         " dbname=tier user=" + kRoPgRole + " password=" + kRoPgPw;
}

CoreConfig configFor(Creds c) {
  auto cfg = test::coreConfig(kProfile);
  if (c != Creds::RoPgOnly) cfg.redis_url = roRedisUrl();
  if (c != Creds::RoRedisOnly) cfg.pg_conninfo = roPgConninfo();
  return cfg;
}

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

std::map<std::string, std::string> dataTables(std::map<std::string, std::string> d) {
  d.erase("cache_audit");
  return d;
}

long long auditCount(TierCore& core) {
  auto c = core.pg().acquire();
  return c->exec("SELECT count(*) FROM cache_audit").toInt(0, 0);
}

// Removes the audit-refusing trigger even when a QVERIFY returns early.
struct AuditTriggerGuard {
  ~AuditTriggerGuard() {
    test::seededServers().postgres().psql(
        "DROP TRIGGER IF EXISTS tst_refuse_audit ON cache_audit; DROP FUNCTION IF EXISTS tst_refuse_audit()");
  }
};

}  // namespace

class TestLeastPrivilege : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> full_;
  QTemporaryDir config_;
  std::int64_t sessionId_ = 0;
  int refusedCore_ = 0, refusedCli_ = 0, changedAfterRefusal_ = 0;
  int rowsVerified_ = 0;

  void fillSomeKeys() {
    tier::internal::TierAccess::l1(*full_).clear();  // Redis was flushed: reads must go through to refill it
    for (int i = 1; i <= 25; ++i) full_->entries().get(i);
    full_->sessions().get(sessionId_);
    full_->users().get(4);
    full_->knowledge().get(full_->knowledge().allSlugs().front());
  }

  test::ProcessRun tierctl(Creds creds, QStringList args) {
    const auto cfg = configFor(creds);
    args << QStringLiteral("--redis") << qs(cfg.redis_url) << QStringLiteral("--pg") << qs(cfg.pg_conninfo);
    return test::runProcess(test::tierctlProgram(), args, test::isolatedEnvironment(config_.path()));
  }

  std::optional<ops::AuditRow> auditRowById(std::int64_t id) {
    for (const auto& row : ops::readAudit(*full_, 500))
      if (row.id == id) return row;
    return std::nullopt;
  }

  // Checks every field the issue names: OS user, PostgreSQL role, Redis user,
  // profile, arguments, matched/affected counts, result, duration.
  void verifyRow(const ops::AuditRow& row, const std::string& action, const std::string& argKey,
                 const QString& argValue, bool dryRun, long long matched, long long affected,
                 const std::string& resultPrefix, const std::string& redisUser = "default",
                 const std::string& pgRole = "tier") {
    QCOMPARE(row.action, action);
    QVERIFY(!row.os_user.empty());
    QCOMPARE(row.os_user, ops::osUserName());
    QCOMPARE(row.pg_role, pgRole);
    QCOMPARE(row.redis_user, redisUser);
    QCOMPARE(row.profile, kProfile);
    const QJsonObject args = QJsonDocument::fromJson(QByteArray::fromStdString(row.args_json)).object();
    QVERIFY2(args.contains(QString::fromStdString(argKey)), row.args_json.c_str());
    QCOMPARE(args.value(QString::fromStdString(argKey)).toVariant().toString(), argValue);
    QCOMPARE(row.dry_run, dryRun);
    QCOMPARE(row.matched, matched);
    QCOMPARE(row.affected, affected);
    QVERIFY2(row.result.rfind(resultPrefix, 0) == 0, row.result.c_str());
    QVERIFY2(row.duration_ms > 0, std::to_string(row.duration_ms).c_str());
    QVERIFY(row.at_ms > 0);
    ++rowsVerified_;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(config_.isValid());
    auto& servers = test::seededServers();
    // A console user for people who may look but not touch: reads, INFO for
    // health, the invalidation channel; nothing that writes.
    servers.redis().cli("ACL SETUSER " + kRoRedisUser + " reset on '>" + kRoRedisPw +
                        "' '~*' '&*' +@read +@connection +info +subscribe +psubscribe +unsubscribe +punsubscribe "
                        "-@write");
    QVERIFY(servers.redis().cli("ACL LIST").find("user " + kRoRedisUser + " on") != std::string::npos);
    servers.postgres().psql("CREATE ROLE " + kRoPgRole + " LOGIN PASSWORD '" + kRoPgPw +
                            "'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + kRoPgRole);
    full_ = std::make_unique<TierCore>(test::coreConfig(kProfile));
    auto c = full_->pg().acquire();
    sessionId_ = c->exec("SELECT min(id) FROM chat_sessions").toInt(0, 0);
    QVERIFY(sessionId_ > 0);
  }

  void cleanupTestCase() {
    if (refusedCore_ + refusedCli_ > 0)
      test::reportFigure({QStringLiteral("Read-only Redis ACL user / PostgreSQL role: %1 destructive actions "
                                         "(invalidate key/pattern/namespace/user, warm x3, evict, refresh; core %2, "
                                         "tierctl %3)")
                              .arg(refusedCore_ + refusedCli_)
                              .arg(refusedCore_)
                              .arg(refusedCli_),
                          QStringLiteral("actions not refused, or keys/rows changed"),
                          QString::number(changedAfterRefusal_), QStringLiteral("0"), changedAfterRefusal_ == 0,
                          QStringLiteral("ctest -R tst_least_privilege")});
    full_.reset();
  }

  void capabilitiesAreProbedAndSayWhy() {
    TierCore ro(configFor(Creds::RoBoth));
    const auto caps = ops::probeCapabilities(ro);
    QCOMPARE(caps.redis_user, kRoRedisUser);
    QCOMPARE(caps.pg_role, kRoPgRole);
    for (const auto* c : {&caps.invalidate, &caps.warm, &caps.evict, &caps.write_audit}) {
      QVERIFY(!c->allowed);
      QVERIFY(!c->reason.empty());
    }
    QVERIFY2(caps.inspect.allowed, caps.inspect.reason.c_str());
    QVERIFY2(caps.read_audit.allowed, caps.read_audit.reason.c_str());
  }

  void inspectionWorksReadOnly() {
    test::flushRedis();
    fillSomeKeys();
    TierCore ro(configFor(Creds::RoBoth));
    const auto before = test::redisDigest(*full_);
    const auto rowsBefore = test::pgDigest(*full_);
    const auto i = ops::inspectSession(ro, sessionId_);
    QVERIFY(i.l3_present);
    QVERIFY2(i.l2.present, i.l2_error.c_str());
    QVERIFY(i.l2_error.empty());
    const auto h = ops::checkHealth(ro);
    QVERIFY2(h.redis.ok, h.redis.error.c_str());
    QVERIFY2(h.postgres.ok, h.postgres.error.c_str());
    ops::readAudit(ro, 5);                 // SELECT on cache_audit is enough
    QVERIFY(ro.entries().get(3).value);    // a cached read
    QVERIFY(ro.entries().get(300).value);  // a miss: served from L3; the fill is refused, not an error
    QCOMPARE(ro.metrics().snapshot(std::chrono::seconds(0)).counter(metrics::Counter::Error), 0u);
    QVERIFY(test::redisDigest(*full_) == before);
    QVERIFY(test::pgDigest(*full_) == rowsBefore);
  }

  void destructiveActionsAreRefused_data() {
    QTest::addColumn<int>("creds");
    QTest::addColumn<QString>("action");
    QTest::addColumn<QString>("reason");  // a fragment of the one-line reason
    const struct {
      Creds c;
      const char* name;
      const char* reason;
    } creds[] = {{Creds::RoBoth, "ro redis + ro pg", "may not INSERT into cache_audit"},
                 {Creds::RoPgOnly, "full redis + ro pg", "may not INSERT into cache_audit"},
                 {Creds::RoRedisOnly, "ro redis + full pg", "NOPERM"}};
    for (const auto& c : creds)
      for (const char* a : {"key", "pattern", "namespace", "user", "warm.knowledge", "warm.sessions", "warm.entries",
                            "evict", "refresh"})
        QTest::newRow((std::string(c.name) + ": " + a).c_str())
            << int(c.c) << QString::fromLatin1(a) << QString::fromLatin1(c.reason);
  }
  void destructiveActionsAreRefused() {
    QFETCH(int, creds);
    QFETCH(QString, action);
    QFETCH(QString, reason);
    test::flushRedis();
    fillSomeKeys();
    TierCore ro(configFor(static_cast<Creds>(creds)));
    const auto keysBefore = test::redisDigest(*full_);
    const auto rowsBefore = test::pgDigest(*full_);
    const long long auditBefore = auditCount(*full_);
    QVERIFY(keysBefore.keys >= 28);

    std::string message;
    bool refused = false;
    try {
      const std::string a = action.toStdString();
      if (a == "key") ops::invalidate(ro, {ops::InvalidateKind::Key, codec::entryKey(1), false});
      if (a == "pattern") ops::invalidate(ro, {ops::InvalidateKind::Pattern, "entry:*", false});
      if (a == "namespace") ops::invalidate(ro, {ops::InvalidateKind::Namespace, "entry", false});
      if (a == "user") ops::invalidate(ro, {ops::InvalidateKind::User, "4", false});
      ops::WarmSet set{};
      if (a.rfind("warm.", 0) == 0 && ops::parseWarmSet(a.substr(5), set)) {
        ops::WarmOptions o;
        o.session_hours = 24 * 365 * 10;
        ops::warm(ro, set, o);
      }
      if (a == "evict") ops::evictSession(ro, sessionId_);
      if (a == "refresh") ops::refreshSession(ro, sessionId_);
    } catch (const PermissionError& e) {
      refused = true;
      message = e.what();
    } catch (const Error& e) {
      message = std::string("wrong kind (") + toString(e.kind()) + "): " + e.what();
    }
    ++refusedCore_;
    const bool unchanged =
        test::redisDigest(*full_) == keysBefore && dataTables(test::pgDigest(*full_)) == dataTables(rowsBefore);
    if (!refused || !unchanged) ++changedAfterRefusal_;
    QVERIFY2(refused, message.c_str());
    QVERIFY2(message.find(reason.toStdString()) != std::string::npos, message.c_str());
    QVERIFY(message.find('\n') == std::string::npos);
    QVERIFY(message.find(kRoRedisPw) == std::string::npos && message.find(kRoPgPw) == std::string::npos);
    QVERIFY2(unchanged, "a refused action changed keys or rows");

    if (static_cast<Creds>(creds) == Creds::RoRedisOnly) {
      // The refusal itself is audited, with who tried.
      QCOMPARE(auditCount(*full_), auditBefore + 1);
      const auto row = ops::readAudit(*full_, 1).front();
      QVERIFY2(row.result.rfind("error: ", 0) == 0 && row.result.find("NOPERM") != std::string::npos,
               row.result.c_str());
      QCOMPARE(row.redis_user, kRoRedisUser);
      QCOMPARE(row.profile, kProfile);
      QCOMPARE(row.os_user, ops::osUserName());
    } else {
      QCOMPARE(auditCount(*full_), auditBefore);  // refused before anything ran
    }
  }

  void dryRunByReadOnlyReportsItsAuditFailure() {
    test::flushRedis();
    fillSomeKeys();
    TierCore ro(configFor(Creds::RoBoth));
    const auto before = test::redisDigest(*full_);
    auto r = ops::invalidate(ro, {ops::InvalidateKind::Pattern, "entry:*", true});
    QCOMPARE(r.matched, 25);
    QCOMPARE(r.audit_id, 0);
    QVERIFY2(r.audit_error.find("permission denied") != std::string::npos, r.audit_error.c_str());
    QVERIFY(test::redisDigest(*full_) == before);
  }

  void tierctlRefusesReadOnly_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    const QString inv = QStringLiteral("invalidate"), yes = QStringLiteral("--yes");
    QTest::newRow("invalidate key") << QStringList{inv, QStringLiteral("--key"), qs(codec::entryKey(1)), yes} << 4;
    QTest::newRow("invalidate pattern") << QStringList{inv, QStringLiteral("--pattern"), QStringLiteral("entry:*"), yes}
                                        << 4;
    QTest::newRow("invalidate namespace")
        << QStringList{inv, QStringLiteral("--namespace"), QStringLiteral("entry"), yes} << 4;
    QTest::newRow("invalidate user") << QStringList{inv, QStringLiteral("--user"), QStringLiteral("4"), yes} << 4;
    QTest::newRow("evict a session key") << QStringList{inv, QStringLiteral("--key"), QStringLiteral("session:v1:1"),
                                                        yes}
                                         << 4;
    QTest::newRow("warm knowledge") << QStringList{QStringLiteral("warm"), QStringLiteral("knowledge")} << 4;
    QTest::newRow("warm sessions") << QStringList{QStringLiteral("warm"), QStringLiteral("sessions")} << 4;
    QTest::newRow("warm entries") << QStringList{QStringLiteral("warm"), QStringLiteral("entries")} << 4;
    QTest::newRow("inspect session") << QStringList{QStringLiteral("inspect"), QStringLiteral("session"),
                                                    QStringLiteral("1")}
                                     << 0;
    QTest::newRow("health") << QStringList{QStringLiteral("health")} << 0;
    QTest::newRow("stats") << QStringList{QStringLiteral("stats"), QStringLiteral("--duration"), QStringLiteral("1")}
                           << 0;
    QTest::newRow("audit") << QStringList{QStringLiteral("audit"), QStringLiteral("--limit"), QStringLiteral("3")} << 0;
  }
  void tierctlRefusesReadOnly() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    test::flushRedis();
    fillSomeKeys();
    const auto keysBefore = test::redisDigest(*full_);
    const auto rowsBefore = test::pgDigest(*full_);
    const auto r = tierctl(Creds::RoBoth, args);
    if (exitCode != 0) ++refusedCli_;
    const bool unchanged = test::redisDigest(*full_) == keysBefore && test::pgDigest(*full_) == rowsBefore;
    if (exitCode != 0 && (r.code != exitCode || !unchanged)) ++changedAfterRefusal_;
    QVERIFY2(r.code == exitCode, QByteArray(QByteArray::number(r.code) + " " + r.err).constData());
    if (exitCode != 0) {
      QVERIFY2(test::isOneLineError(r.err), r.err.constData());
      QVERIFY2(r.err.contains("may not") || r.err.contains("permission"), r.err.constData());
    }
    for (const std::string& pw : {kRoRedisPw, kRoPgPw}) {
      QVERIFY(!r.err.contains(QByteArray::fromStdString(pw)));
      QVERIFY(!r.out.contains(QByteArray::fromStdString(pw)));
    }
    QVERIFY2(unchanged, "tierctl changed keys or rows");
  }

  void everyActionIsAuditedWithEveryField() {
    test::flushRedis();
    fillSomeKeys();
    const auto t0 = unixMillisNow();
    auto& core = *full_;
    // key
    auto k = ops::invalidate(core, {ops::InvalidateKind::Key, codec::entryKey(2), false});
    verifyRow(*auditRowById(k.audit_id), "invalidate.key", "target", qs(codec::entryKey(2)), false, 1, 1, "ok");
    // pattern, dry run then real
    auto pd = ops::invalidate(core, {ops::InvalidateKind::Pattern, "entry:*", true});
    verifyRow(*auditRowById(pd.audit_id), "invalidate.pattern", "target", QStringLiteral("entry:*"), true, 24, 0, "ok");
    auto p = ops::invalidate(core, {ops::InvalidateKind::Pattern, "entry:*", false});
    verifyRow(*auditRowById(p.audit_id), "invalidate.pattern", "target", QStringLiteral("entry:*"), false, 24, 24,
              "ok");
    QVERIFY(auditRowById(p.audit_id)->at_ms >= t0 - 1000);
    // cancelled
    fillSomeKeys();
    std::atomic<bool> cancel{true};
    auto c = ops::invalidate(core, {ops::InvalidateKind::Pattern, "entry:*", false}, {}, &cancel);
    QVERIFY(c.cancelled);
    verifyRow(*auditRowById(c.audit_id), "invalidate.pattern", "target", QStringLiteral("entry:*"), false, 0, 0,
              "cancelled");
    // namespace
    auto n = ops::invalidate(core, {ops::InvalidateKind::Namespace, "entry", false});
    verifyRow(*auditRowById(n.audit_id), "invalidate.namespace", "target", QStringLiteral("entry"), false, 0, 0, "ok");
    // user, and a failed one
    auto u = ops::invalidate(core, {ops::InvalidateKind::User, "4", false});
    QVERIFY(u.matched >= 1);
    verifyRow(*auditRowById(u.audit_id), "invalidate.user", "target", QStringLiteral("4"), false, u.matched, u.deleted,
              "ok");
    QVERIFY_THROWS_EXCEPTION(NotFoundError, ops::invalidate(core, {ops::InvalidateKind::User, "987654321", false}));
    verifyRow(ops::readAudit(core, 1).front(), "invalidate.user", "target", QStringLiteral("987654321"), false, 0, 0,
              "error: user 987654321 not found");
    // warm, each set
    auto w = ops::warm(core, ops::WarmSet::Knowledge);
    verifyRow(*auditRowById(w.audit_id), "warm.knowledge", "set", QStringLiteral("knowledge"), false, w.candidates,
              w.warmed, "ok");
    ops::WarmOptions o;
    o.session_hours = 24 * 365 * 10;
    auto ws = ops::warm(core, ops::WarmSet::Sessions, o);
    verifyRow(*auditRowById(ws.audit_id), "warm.sessions", "hours", QString::number(o.session_hours), false,
              ws.candidates, ws.warmed, "ok");
    auto we = ops::warm(core, ops::WarmSet::Entries);
    verifyRow(*auditRowById(we.audit_id), "warm.entries", "top_users", QStringLiteral("100"), false, we.candidates,
              we.warmed, "ok");
    std::atomic<bool> cancelWarm{true};
    auto wc = ops::warm(core, ops::WarmSet::Knowledge, {}, {}, &cancelWarm);
    verifyRow(*auditRowById(wc.audit_id), "warm.knowledge", "set", QStringLiteral("knowledge"), false, wc.candidates, 0,
              "cancelled");
    // evict and refresh
    QVERIFY(ops::evictSession(core, sessionId_));
    verifyRow(ops::readAudit(core, 1).front(), "evict.session", "session_id", QString::number(sessionId_), false, 1, 1,
              "ok");
    ops::refreshSession(core, sessionId_);
    verifyRow(ops::readAudit(core, 1).front(), "refresh.session", "session_id", QString::number(sessionId_), false, 1,
              1, "ok");
    QVERIFY_THROWS_EXCEPTION(NotFoundError, ops::refreshSession(core, 987654321));
    verifyRow(ops::readAudit(core, 1).front(), "refresh.session", "session_id", QStringLiteral("987654321"), false, 0,
              0, "error: ");

    // The same through tierctl: the row names tierctl's profile-less run and its Redis user.
    const auto r =
        tierctl(Creds::RoRedisOnly, {QStringLiteral("invalidate"), QStringLiteral("--key"), qs(codec::entryKey(5)),
                                     QStringLiteral("--dry-run"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const auto id =
        static_cast<std::int64_t>(QJsonDocument::fromJson(r.out).object().value(QStringLiteral("audit_id")).toDouble());
    const auto row = auditRowById(id);
    QVERIFY(row);
    QCOMPARE(row->redis_user, kRoRedisUser);
    QCOMPARE(row->pg_role, std::string("tier"));
    QCOMPARE(row->os_user, ops::osUserName());
    QVERIFY(row->dry_run);
    QVERIFY(row->duration_ms > 0);
    // Reached only if every row above had every field (each check aborts the test otherwise).
    test::reportFigure(
        {QStringLiteral("Audit rows read back (%1 actions: invalidate x4 kinds, dry run, cancelled, failed, "
                        "warm x3 + cancelled, evict, refresh + failed, tierctl)")
             .arg(rowsVerified_ + 1),
         QStringLiteral("rows missing OS user, role, Redis user, profile, args, counts, result or duration"),
         QStringLiteral("0"), QStringLiteral("0"), true, QStringLiteral("ctest -R tst_least_privilege")});
  }

  void auditWriteFailureIsReported() {
    test::flushRedis();
    fillSomeKeys();
    AuditTriggerGuard guard;
    test::seededServers().postgres().psql(
        "CREATE FUNCTION tst_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'audit store is read-only today'; END$$; "
        "CREATE TRIGGER tst_refuse_audit BEFORE INSERT ON cache_audit FOR EACH ROW EXECUTE FUNCTION "
        "tst_refuse_audit()");
    int reported = 0, total = 0;
    auto& core = *full_;
    auto expectReported = [&](const std::string& what, const std::string& auditError) {
      ++total;
      if (auditError.find("audit store is read-only today") != std::string::npos)
        ++reported;
      else
        qWarning("%s: audit failure not reported: '%s'", what.c_str(), auditError.c_str());
    };
    for (auto kind : {ops::InvalidateKind::Key, ops::InvalidateKind::Pattern, ops::InvalidateKind::Namespace,
                      ops::InvalidateKind::User}) {
      const std::string target = kind == ops::InvalidateKind::Key       ? codec::entryKey(3)
                                 : kind == ops::InvalidateKind::Pattern ? "entry:*"
                                 : kind == ops::InvalidateKind::User    ? "4"
                                                                        : "entry";
      for (bool dry : {true, false}) {
        auto r = ops::invalidate(core, {kind, target, dry});
        QCOMPARE(r.audit_id, 0);
        expectReported(std::string("invalidate ") + ops::toString(kind), r.audit_error);
      }
    }
    auto w = ops::warm(core, ops::WarmSet::Knowledge);
    QCOMPARE(w.audit_id, 0);
    expectReported("warm", w.audit_error);
    try {
      ops::evictSession(core, sessionId_);
      expectReported("evict", "");
    } catch (const Error& e) {
      expectReported("evict", e.what());
      QVERIFY(std::string(e.what()).find("audit row could not be written") != std::string::npos);
    }
    // tierctl: a non-zero exit and one line saying so.
    for (const QStringList& args : {QStringList{QStringLiteral("invalidate"), QStringLiteral("--key"),
                                                qs(codec::entryKey(6)), QStringLiteral("--yes")},
                                    QStringList{QStringLiteral("invalidate"), QStringLiteral("--pattern"),
                                                QStringLiteral("entry:*"), QStringLiteral("--dry-run")},
                                    QStringList{QStringLiteral("warm"), QStringLiteral("knowledge")}}) {
      auto env = test::isolatedEnvironment(config_.path());
      QStringList full = args;
      full << QStringLiteral("--redis") << qs(test::seededServers().redisUrl()) << QStringLiteral("--pg")
           << qs(test::seededServers().pgConninfo());
      const auto run = test::runProcess(test::tierctlProgram(), full, env);
      ++total;
      if (run.code == 5 && run.err.contains("audit row was not written") && run.err.contains("read-only today"))
        ++reported;
      QVERIFY2(run.code == 5, QByteArray(QByteArray::number(run.code) + run.err).constData());
      QVERIFY2(run.err.contains("audit row was not written") && run.err.endsWith('\n'), run.err.constData());
      QVERIFY2(run.err.count('\n') == 1, run.err.constData());
    }
    test::reportFigure(
        {QStringLiteral("Audit table refuses inserts (trigger raises): %1 actions, core + tierctl").arg(total),
         QStringLiteral("audit failures not reported to the caller"), QString::number(total - reported),
         QStringLiteral("0"), reported == total, QStringLiteral("ctest -R tst_least_privilege")});
    QCOMPARE(reported, total);
  }
};

QTEST_GUILESS_MAIN(TestLeastPrivilege)
#include "tst_least_privilege.moc"
