// Issue 13, item 1: the synthetic load changes no real data. Against real
// servers: a seeded database WITHOUT the sandbox mark (a stand-in for
// production) is read-only for the load, byte for byte; with consent the load
// writes only rows it created and removes them (also after a SIGKILL, by
// `tierctl load --cleanup`); credentials that may not write give a read-only
// load, not an error; the sandbox mark is bound to its cluster and database;
// every run leaves load.start and load.end audit rows.
// TIER_TEST_LABELS: concurrency
// TIER_TEST_TIMEOUT: 300
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <map>

#include "core_fixture.h"
#include "process_runner.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/deployment.h"
#include "tier/pg/pg_pool.h"
#include "tier/sandbox/seeder.h"
#include "tier/schema/migrations.h"
#include "tier/workload/workload.h"

using namespace tier;
using namespace std::chrono_literals;
using workload::Workload;
using workload::WorkloadCounters;
using workload::WorkloadOptions;

namespace {

constexpr const char* kProdDb = "load_prod";
constexpr const char* kProfile = "production-like";
const std::string kRoRole = "load_ro";
const std::string kRoRedisUser = "load_ro";
const std::string kRoSecret = "LoadRo-pw-9931";

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

// The shared server's PostgreSQL, database `db` (empty: the shared, marked one).
std::string conninfoFor(const std::string& db, const std::string& user = {}) {
  std::string c = test::seededServers().pgConninfo();
  if (!db.empty()) c += " dbname=" + db;  // a later key wins
  if (!user.empty()) c += " user=" + user + " password=" + kRoSecret;
  return c;
}

CoreConfig prodConfig() {
  CoreConfig c = test::coreConfig(kProfile);
  c.pg_conninfo = conninfoFor(kProdDb);
  c.pg.pool_size = 8;
  return c;
}

// Every table of the public schema (names from the catalog), row count + md5 of
// its rows in a fixed order, and every sequence's position but cache_audit's.
// `where` filters per table (keyed by table name), for "the rows that were
// there before".
std::map<std::string, std::string> digest(TierCore& core, const std::map<std::string, std::string>& where = {},
                                          bool sequences = true) {
  std::map<std::string, std::string> out;
  auto c = core.pg().acquire();
  auto tables = c->exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  for (int i = 0; i < tables.rows(); ++i) {
    const std::string t(tables.value(i, 0));
    const auto w = where.find(t);
    auto r = c->exec("SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM public.\"" +
                     t + "\" x" + (w == where.end() ? std::string() : " WHERE " + w->second));
    out[t] = std::string(r.value(0, 0)) + ":" + std::string(r.value(0, 1));
  }
  if (!sequences) return out;  // inserts of synthetic rows move them
  auto seqs = c->exec(
      "SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences WHERE schemaname = 'public' "
      "AND sequencename NOT LIKE 'cache_audit%'");
  for (int i = 0; i < seqs.rows(); ++i) out["seq " + std::string(seqs.value(i, 0))] = std::string(seqs.value(i, 1));
  return out;
}

// The rows that are not synthetic (what was there before a run).
const std::map<std::string, std::string>& realRows() {
  static const std::string synthUsers = "(SELECT id FROM users WHERE email LIKE 'load-%@synthetic.invalid')";
  static const std::map<std::string, std::string> w = {
      {"users", "x.email NOT LIKE 'load-%@synthetic.invalid'"},
      {"journal_entries", "x.user_id NOT IN " + synthUsers},
      {"chat_sessions", "x.user_id NOT IN " + synthUsers},
      {"chat_messages", "x.session_id NOT IN (SELECT id FROM chat_sessions WHERE user_id IN " + synthUsers + ")"},
      {"user_entry_changes", "x.user_id NOT IN " + synthUsers},
      {"tier_load_runs", "false"},  // the run registry is the load's own bookkeeping
      {"cache_audit", "false"},     // the audit rows are checked on their own
  };
  return w;
}

std::map<std::string, std::string> without(std::map<std::string, std::string> d,
                                           std::initializer_list<const char*> keys) {
  for (const char* k : keys) d.erase(k);
  return d;
}

QString diff(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  QStringList out;
  for (const auto& [k, v] : a)
    if (auto it = b.find(k); it == b.end() || it->second != v) out << qs(k);
  for (const auto& [k, v] : b)
    if (!a.count(k)) out << qs(k);
  return out.join(QStringLiteral(", "));
}

long long scalar(TierCore& core, const std::string& sql) {
  auto c = core.pg().acquire();
  return c->exec(sql).toInt(0, 0);
}

long long syntheticUsers(TierCore& core) {
  return scalar(core, "SELECT count(*) FROM users WHERE email LIKE 'load-%@synthetic.invalid'");
}

std::vector<ops::AuditRow> auditSince(TierCore& core, std::int64_t afterId) {
  std::vector<ops::AuditRow> out;
  for (auto& r : ops::readAudit(core, 200))
    if (r.id > afterId) out.push_back(r);
  std::reverse(out.begin(), out.end());  // oldest first
  return out;
}

QString describe(const WorkloadCounters& c) {
  return QStringLiteral(
             "ops=%1 reads=%2 searches=%3 writes=%4 failed_reads=%5 failed_writes=%6 stale=%7 mode=%8 (%9) "
             "created=%10 removed=%11 last_error=%12 cleanup_error=%13 audit_error=%14")
      .arg(c.operations)
      .arg(c.reads)
      .arg(c.searches)
      .arg(c.writes)
      .arg(c.failed_reads)
      .arg(c.failed_writes)
      .arg(c.stale_reads)
      .arg(qs(c.write_mode), qs(c.write_mode_detail))
      .arg(c.synthetic_rows_created)
      .arg(c.synthetic_rows_removed)
      .arg(qs(c.last_error), qs(c.cleanup_error), qs(c.audit_error));
}

WorkloadOptions options(int seconds) {
  WorkloadOptions o;
  o.virtual_users = 100;
  o.threads = 4;
  o.rate = 1500;  // bounded: the suite runs two tests at once on two cores
  o.duration = std::chrono::seconds(seconds);
  o.seed = 13;
  return o;
}

}  // namespace

class TestLoadSafety : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> prod_;
  QTemporaryDir config_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(config_.isValid());
    auto& servers = test::seededServers();  // the shared database: marked as a sandbox
    servers.postgres().psql(std::string("DROP DATABASE IF EXISTS ") + kProdDb);
    servers.postgres().psql(std::string("CREATE DATABASE ") + kProdDb);
    {
      pg::PgOptions o;
      o.conninfo = conninfoFor(kProdDb);
      o.statement_timeout = 0ms;
      pg::PgPool pool(o);
      schema::migrate(pool);
      sandbox::Seeder(pool).seed(test::smallSeed());  // seeded as production would be: no mark
    }
    // A role that may read everything and write nothing, and a Redis user that may not write.
    servers.postgres().psql("DROP ROLE IF EXISTS " + kRoRole + "; CREATE ROLE " + kRoRole + " LOGIN PASSWORD '" +
                            kRoSecret + "'");
    servers.redis().cli("ACL SETUSER " + kRoRedisUser + " reset on '>" + kRoSecret +
                        "' '~*' '&*' +@read +@connection +info +subscribe +psubscribe +unsubscribe +punsubscribe "
                        "-@write");
    prod_ = std::make_unique<TierCore>(prodConfig());
  }

  void cleanupTestCase() { prod_.reset(); }

  void init() { test::flushRedis(); }

  // The mark is bound to this cluster and this database: a copy (as a dump
  // restored elsewhere carries it) is no mark.
  void sandboxMarkIsBoundToClusterAndDatabase() {
    TierCore shared(test::coreConfig());
    QVERIFY(ops::isSandboxDatabase(shared.pg()));
    const ops::SandboxMark none = ops::checkSandbox(prod_->pg());
    QVERIFY(!none.sandbox);
    QVERIFY2(none.reason.find("no sandbox mark") != std::string::npos, none.reason.c_str());

    std::string sysid, oid, name;
    {
      auto c = shared.pg().acquire();
      auto r = c->exec("SELECT system_identifier, database_oid, database_name FROM tier_deployment");
      QCOMPARE(r.rows(), 1);
      sysid = r.value(0, 0), oid = r.value(0, 1), name = r.value(0, 2);
    }
    auto copyMark = [&](const std::string& s, const std::string& o, const std::string& n) {
      auto c = prod_->pg().acquire();
      c->exec("DELETE FROM tier_deployment");
      c->exec(
          "INSERT INTO tier_deployment (kind, system_identifier, database_oid, database_name) "
          "VALUES ('sandbox', $1, $2::bigint, $3)",
          {s, o, n});
    };
    // The sandbox's row as a dump of it carries it, restored into another database of the cluster.
    copyMark(sysid, oid, name);
    ops::SandboxMark m = ops::checkSandbox(prod_->pg());
    QVERIFY(!m.sandbox);
    QVERIFY2(m.reason.find("another database") != std::string::npos, m.reason.c_str());
    // ... restored into another cluster: the database's oid and name happen to match there, the cluster does not.
    {
      auto c = prod_->pg().acquire();
      auto r =
          c->exec("SELECT oid::bigint::text, current_database() FROM pg_database WHERE datname = current_database()");
      copyMark("6999999999999999999", std::string(r.value(0, 0)), std::string(r.value(0, 1)));
    }
    m = ops::checkSandbox(prod_->pg());
    QVERIFY(!m.sandbox);
    QVERIFY2(m.reason.find("another PostgreSQL cluster") != std::string::npos, m.reason.c_str());
    // With the copied mark the load is still read-only.
    {
      Workload w(*prod_, options(1));
      w.start();
      w.stop();
      QCOMPARE(qs(w.counters().write_mode), QStringLiteral("read-only"));
    }
    auto c = prod_->pg().acquire();
    c->exec("DELETE FROM tier_deployment");
  }

  // The acceptance test of the issue: 10 s of load, every table unchanged.
  void readOnlyLoadLeavesEveryTableUnchanged() {
    const auto before = digest(*prod_);
    const std::int64_t lastAudit = scalar(*prod_, "SELECT coalesce(max(id), 0) FROM cache_audit");
    Workload w(*prod_, options(10));  // the default mix: edits and appends have weights
    w.start();
    const WorkloadCounters early = w.counters();
    QCOMPARE(qs(early.write_mode), QStringLiteral("read-only"));
    QCOMPARE(qs(early.write_mode_reason), QStringLiteral("read-only: not a sandbox database"));
    QCOMPARE(early.write_share, 0.0);
    w.wait();
    w.stop();
    const WorkloadCounters c = w.counters();
    qInfo("%s", qPrintable(describe(c)));
    QVERIFY2(c.reads > 1000, qPrintable(describe(c)));
    QVERIFY2(c.searches > 0, qPrintable(describe(c)));
    QCOMPARE(c.writes, 0u);
    QCOMPARE(c.failed_reads, 0u);
    QCOMPARE(c.synthetic_rows_created, 0u);
    QVERIFY2(c.audit_error.empty(), c.audit_error.c_str());

    const auto after = digest(*prod_);
    QVERIFY2(without(after, {"cache_audit"}) == without(before, {"cache_audit"}),
             qPrintable(QStringLiteral("changed: ") +
                        diff(without(before, {"cache_audit"}), without(after, {"cache_audit"}))));

    const auto rows = auditSince(*prod_, lastAudit);
    QCOMPARE(rows.size(), std::size_t(2));
    QCOMPARE(qs(rows[0].action), QStringLiteral("load.start"));
    QCOMPARE(qs(rows[1].action), QStringLiteral("load.end"));
    QCOMPARE(rows[0].id, c.audit_start_id);
    QCOMPARE(rows[1].id, c.audit_end_id);
    for (const auto& r : rows) {
      QCOMPARE(qs(r.profile), QString::fromLatin1(kProfile));
      QVERIFY(!r.os_user.empty());
      const QJsonObject args = QJsonDocument::fromJson(QByteArray::fromStdString(r.args_json)).object();
      QCOMPARE(args.value(QStringLiteral("users")).toInt(), 100);
      QCOMPARE(args.value(QStringLiteral("rate")).toDouble(), 1500.0);
      QCOMPARE(args.value(QStringLiteral("write_mode")).toString(), QStringLiteral("read-only"));
    }
    const QJsonObject end = QJsonDocument::fromJson(QByteArray::fromStdString(rows[1].args_json)).object();
    QCOMPARE(end.value(QStringLiteral("reads")).toDouble(), static_cast<double>(c.reads));
    QCOMPARE(end.value(QStringLiteral("writes")).toDouble(), 0.0);
    QCOMPARE(rows[1].affected, 0LL);
    QCOMPARE(qs(rows[1].result), QStringLiteral("ok"));
    QVERIFY(rows[1].duration_ms > 9000);
  }

  // With consent: writes, but only to the run's own rows, and none is left after.
  void consentedLoadWritesOnlyItsOwnRowsAndRemovesThem() {
    const auto before = digest(*prod_);
    const auto realBefore = digest(*prod_, realRows(), false);
    WorkloadOptions o = options(0);
    o.allow_writes = true;
    o.mix.entry_edit = 20;
    o.mix.message_append = 20;
    Workload w(*prod_, o);
    w.start();
    const WorkloadCounters started = w.counters();
    QCOMPARE(qs(started.write_mode), QStringLiteral("synthetic"));
    QCOMPARE(qs(started.write_mode_reason), QStringLiteral("writes: synthetic rows only (consented)"));
    QVERIFY(started.write_share > 0.2);
    QCOMPARE(syntheticUsers(*prod_), 8LL);
    QCOMPARE(scalar(*prod_, "SELECT count(*) FROM tier_load_runs WHERE run_id = '" + started.run_id +
                                "' AND finished_at IS NULL"),
             1LL);
    QTest::qWait(3000);
    // Mid-run: the real rows are as they were; the synthetic ones took the writes.
    QVERIFY2(digest(*prod_, realRows(), false) == realBefore,
             qPrintable(QStringLiteral("real rows changed: ") + diff(realBefore, digest(*prod_, realRows(), false))));
    std::vector<std::string> keys;
    {
      auto c = prod_->pg().acquire();
      auto r = c->exec(
          "SELECT 'e', id FROM journal_entries WHERE user_id IN (SELECT id FROM users WHERE email LIKE "
          "'load-%@synthetic.invalid') UNION ALL SELECT 's', id FROM chat_sessions WHERE user_id IN (SELECT id FROM "
          "users WHERE email LIKE 'load-%@synthetic.invalid') UNION ALL SELECT 'u', id FROM users WHERE email LIKE "
          "'load-%@synthetic.invalid'");
      for (int i = 0; i < r.rows(); ++i) {
        const auto id = r.toInt(i, 1);
        keys.push_back(r.value(i, 0) == "e"   ? codec::entryKey(id)
                       : r.value(i, 0) == "s" ? codec::sessionKey(id)
                                              : codec::userKey(id));
      }
      QVERIFY(c->exec("SELECT count(*) FROM journal_entries WHERE version > 1 AND user_id IN (SELECT id FROM users "
                      "WHERE email LIKE 'load-%@synthetic.invalid')")
                  .toInt(0, 0) > 0);
    }
    QCOMPARE(keys.size(), std::size_t(8 + 8 * 6 + 8 * 2));
    // Read every synthetic row once through the cache, so there are copies to remove.
    for (const auto& k : keys) {
      const auto key = codec::parseKey(k);
      QVERIFY(key.has_value());
      const std::int64_t id = std::stoll(key->id);
      if (key->ns == codec::Namespace::Entry) QVERIFY(prod_->entries().get(id).value.has_value());
      if (key->ns == codec::Namespace::Session) QVERIFY(prod_->sessions().get(id).value.has_value());
      if (key->ns == codec::Namespace::User) QVERIFY(prod_->users().get(id).value.has_value());
    }
    w.stop();
    const WorkloadCounters c = w.counters();
    qInfo("%s", qPrintable(describe(c)));
    QVERIFY2(c.writes > 0, qPrintable(describe(c)));
    QCOMPARE(c.failed_writes, 0u);
    QCOMPARE(c.failed_reads, 0u);
    QCOMPARE(c.stale_reads, 0u);
    QVERIFY2(c.cleanup_error.empty(), c.cleanup_error.c_str());
    QVERIFY(c.synthetic_rows_created >= 72);
    QCOMPARE(c.synthetic_rows_removed, c.synthetic_rows_created);
    QCOMPARE(syntheticUsers(*prod_), 0LL);
    // Byte for byte as before, apart from the bookkeeping: the audit, the run registry and the id sequences.
    auto stable = [](std::map<std::string, std::string> d) {
      for (auto it = d.begin(); it != d.end();) it = it->first.rfind("seq ", 0) == 0 ? d.erase(it) : std::next(it);
      return without(d, {"cache_audit", "tier_load_runs"});
    };
    QVERIFY2(stable(digest(*prod_)) == stable(before),
             qPrintable(QStringLiteral("changed: ") + diff(stable(before), stable(digest(*prod_)))));
    QCOMPARE(scalar(*prod_, "SELECT count(*) FROM tier_load_runs WHERE run_id = '" + c.run_id +
                                "' AND finished_at IS NOT NULL"),
             1LL);
    // No cached copy of a deleted row, in L1 or L2.
    for (const auto& k : keys) {
      const auto ns = codec::parseKey(k)->ns;
      QVERIFY2(!prod_->cache().peekL1(k).has_value(), k.c_str());
      const auto l2 = prod_->cache().peekL2(ns, k);
      QVERIFY2(!l2.present || !l2.value || l2.value->payload == "null", k.c_str());
    }
    const auto rows = auditSince(*prod_, c.audit_start_id - 1);
    QVERIFY(rows.size() >= 2);
    QCOMPARE(qs(rows.back().action), QStringLiteral("load.end"));
    QCOMPARE(rows.back().affected, static_cast<long long>(c.writes));
    const QJsonObject end = QJsonDocument::fromJson(QByteArray::fromStdString(rows.back().args_json)).object();
    QCOMPARE(end.value(QStringLiteral("write_mode")).toString(), QStringLiteral("synthetic"));
    QCOMPARE(end.value(QStringLiteral("run_id")).toString(), qs(c.run_id));
    QCOMPARE(end.value(QStringLiteral("synthetic_rows_removed")).toDouble(),
             static_cast<double>(c.synthetic_rows_removed));
  }

  // The run's liveness lock has a connection of its own: a one-connection pool still works.
  void consentedLoadRunsOnAOneConnectionPool() {
    CoreConfig cfg = prodConfig();
    cfg.pg.pool_size = 1;
    TierCore core(cfg);
    WorkloadOptions o = options(2);
    o.allow_writes = true;
    o.threads = 2;
    Workload w(core, o);
    w.start();
    w.wait();
    w.stop();
    const WorkloadCounters c = w.counters();
    QCOMPARE(qs(c.write_mode), QStringLiteral("synthetic"));
    QVERIFY2(c.writes > 0, qPrintable(describe(c)));
    QCOMPARE(c.failed_writes + c.failed_reads, 0u);
    QCOMPARE(c.synthetic_rows_removed, c.synthetic_rows_created);
    QCOMPARE(syntheticUsers(core), 0LL);
  }

  // A live run's rows are not cleanup's; a SIGKILLed tierctl's rows are.
  void cleanupRemovesWhatAKilledRunLeftAndSparesLiveRuns() {
    const auto realBefore = digest(*prod_, realRows(), false);
    // A live run in this process: cleanup must leave it alone.
    WorkloadOptions o = options(0);
    o.allow_writes = true;
    Workload live(*prod_, o);
    live.start();
    const std::string liveRun = live.counters().run_id;

    const QProcessEnvironment env = test::isolatedEnvironment(config_.path());
    const QStringList servers{QStringLiteral("--redis"), qs(test::redisUrl()), QStringLiteral("--pg"),
                              qs(conninfoFor(kProdDb))};
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(test::tierctlProgram(),
            servers + QStringList{QStringLiteral("load"), QStringLiteral("--allow-writes"),
                                  QStringLiteral("--duration"), QStringLiteral("0"), QStringLiteral("--users"),
                                  QStringLiteral("20"), QStringLiteral("--rate"), QStringLiteral("300"),
                                  QStringLiteral("--threads"), QStringLiteral("2"), QStringLiteral("--no-warm")});
    QVERIFY(p.waitForStarted(10000));
    p.closeWriteChannel();
    // Its rows exist once it prints its first line.
    QTRY_VERIFY2_WITH_TIMEOUT(syntheticUsers(*prod_) == 16,
                              qPrintable(QStringLiteral("tierctl: ") + QString::fromUtf8(p.readAllStandardError())),
                              30000);
    QTest::qWait(1500);  // a few of its writes
    p.kill();            // SIGKILL: no stop(), no cleanup of its own
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitStatus(), QProcess::CrashExit);
    QCOMPARE(syntheticUsers(*prod_), 16LL);  // left behind

    // The server notices the dead client's connection closing; then its lock is free.
    test::ProcessRun r;
    QElapsedTimer t;
    t.start();
    QJsonObject out;
    do {
      r = test::runProcess(
          test::tierctlProgram(),
          servers + QStringList{QStringLiteral("load"), QStringLiteral("--cleanup"), QStringLiteral("--json")}, env,
          60000);
      QCOMPARE(r.code, 0);
      out = QJsonDocument::fromJson(r.out).object();
    } while (out.value(QStringLiteral("runs_cleaned")).toInt() == 0 && t.elapsed() < 10000 &&
             (QTest::qWait(200), true));
    QVERIFY2(out.value(QStringLiteral("runs_cleaned")).toInt() == 1, r.out.constData());
    QCOMPARE(out.value(QStringLiteral("runs_alive")).toInt(), 1);  // ours, still running
    QVERIFY(out.value(QStringLiteral("synthetic_rows_removed")).toDouble() >= 72);
    QVERIFY(!out.value(QStringLiteral("run_ids")).toArray().contains(qs(liveRun)));
    QCOMPARE(syntheticUsers(*prod_), 8LL);  // the live run's own
    QCOMPARE(scalar(*prod_, "SELECT count(*) FROM users WHERE email LIKE 'load-" + liveRun + "-%'"), 8LL);
    QVERIFY(live.running());

    live.stop();
    QVERIFY(live.counters().cleanup_error.empty());
    QCOMPARE(syntheticUsers(*prod_), 0LL);
    QCOMPARE(scalar(*prod_, "SELECT count(*) FROM tier_load_runs WHERE finished_at IS NULL"), 0LL);
    QVERIFY2(digest(*prod_, realRows(), false) == realBefore,
             qPrintable(QStringLiteral("real rows changed: ") + diff(realBefore, digest(*prod_, realRows(), false))));
    // The cleanup is on record.
    bool audited = false;
    for (const auto& row : ops::readAudit(*prod_, 20))
      audited = audited || (row.action == "load.cleanup" && row.matched == 1);
    QVERIFY(audited);
    // Nothing left: a second cleanup finds nothing.
    r = test::runProcess(test::tierctlProgram(),
                         servers + QStringList{QStringLiteral("load"), QStringLiteral("--cleanup")}, env, 60000);
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith("removed 0 synthetic rows"), r.out.constData());
  }

  // tierctl reports the mode; --cleanup with --allow-writes is a usage error.
  void tierctlReportsTheWriteMode() {
    const QProcessEnvironment env = test::isolatedEnvironment(config_.path());
    const QStringList servers{QStringLiteral("--redis"), qs(test::redisUrl()), QStringLiteral("--pg"),
                              qs(conninfoFor(kProdDb))};
    const auto before = without(digest(*prod_), {"cache_audit"});
    auto r = test::runProcess(
        test::tierctlProgram(),
        servers + QStringList{QStringLiteral("load"), QStringLiteral("--duration"), QStringLiteral("2"),
                              QStringLiteral("--users"), QStringLiteral("20"), QStringLiteral("--rate"),
                              QStringLiteral("500"), QStringLiteral("--no-warm"), QStringLiteral("--json")},
        env, 60000);
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    QVERIFY2(o.contains(QStringLiteral("write_mode")), r.out.constData());
    QCOMPARE(o.value(QStringLiteral("write_mode")).toString(), QStringLiteral("read-only"));
    QCOMPARE(o.value(QStringLiteral("write_mode_reason")).toString(),
             QStringLiteral("read-only: not a sandbox database"));
    QCOMPARE(o.value(QStringLiteral("write_share")).toDouble(), 0.0);
    QCOMPARE(o.value(QStringLiteral("writes")).toDouble(), 0.0);
    QCOMPARE(o.value(QStringLiteral("synthetic_rows_created")).toDouble(), 0.0);
    QVERIFY(o.value(QStringLiteral("audit_end_id")).toDouble() > o.value(QStringLiteral("audit_start_id")).toDouble());
    QVERIFY(r.err.contains("write mode: read-only: not a sandbox database"));
    QCOMPARE(without(digest(*prod_), {"cache_audit"}), before);

    r = test::runProcess(
        test::tierctlProgram(),
        servers + QStringList{QStringLiteral("load"), QStringLiteral("--cleanup"), QStringLiteral("--allow-writes")},
        env, 60000);
    QCOMPARE(r.code, 2);
    QVERIFY2(test::isOneLineError(r.err), r.err.constData());
  }

  // Credentials that may not write: a read-only load, not an error; even on the sandbox, even with consent.
  void credentialsWithoutWriteRightsGetAReadOnlyLoad_data() {
    QTest::addColumn<bool>("onSandbox");
    QTest::addColumn<bool>("roPostgres");
    QTest::addColumn<QString>("reason");
    QTest::newRow("pg role, sandbox") << true << true << QStringLiteral("read-only: PostgreSQL role may not write");
    QTest::newRow("pg role, consent") << false << true << QStringLiteral("read-only: PostgreSQL role may not write");
    QTest::newRow("redis user, sandbox") << true << false << QStringLiteral("read-only: Redis user may not write");
  }
  void credentialsWithoutWriteRightsGetAReadOnlyLoad() {
    QFETCH(bool, onSandbox);
    QFETCH(bool, roPostgres);
    QFETCH(QString, reason);
    if (test::onCluster()) QSKIP("the read-only Redis user is made on the single node");
    const std::string db = onSandbox ? std::string() : std::string(kProdDb);
    auto& servers = test::seededServers();
    // SELECT on every table (and the audit), nothing else.
    {
      TierCore admin([&] {
        CoreConfig c = test::coreConfig();
        c.pg_conninfo = conninfoFor(db);
        return c;
      }());
      auto c = admin.pg().acquire();
      c->exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + kRoRole);
    }
    CoreConfig cfg = test::coreConfig(kProfile);
    cfg.pg_conninfo = roPostgres ? conninfoFor(db, kRoRole) : conninfoFor(db);
    if (!roPostgres)
      cfg.redis_url =
          "redis://" + kRoRedisUser + ":" + kRoSecret + "@127.0.0.1:" + std::to_string(servers.redis().port()) + "/0";
    TierCore core(cfg);
    const auto before = without(digest(core), {"cache_audit"});
    WorkloadOptions o = options(2);
    o.allow_writes = !onSandbox;
    Workload w(core, o);
    w.start();  // no exception: a read-only load
    w.wait();
    w.stop();
    const WorkloadCounters c = w.counters();
    qInfo("%s", qPrintable(describe(c)));
    QCOMPARE(qs(c.write_mode), QStringLiteral("read-only"));
    QCOMPARE(qs(c.write_mode_reason), reason);
    QVERIFY2(!c.write_mode_detail.empty(), qPrintable(describe(c)));
    QVERIFY2(c.write_mode_detail.find(kRoSecret) == std::string::npos, c.write_mode_detail.c_str());
    QCOMPARE(c.write_share, 0.0);
    QCOMPARE(c.writes, 0u);
    QVERIFY2(c.reads > 0, qPrintable(describe(c)));
    QCOMPARE(c.failed_reads, 0u);
    QCOMPARE(without(digest(core), {"cache_audit"}), before);
  }

  // The sandbox (the shared, marked database) keeps the writing demo load.
  void sandboxStillGetsTheWritingLoad() {
    TierCore core(test::coreConfig());
    Workload w(core, options(2));
    w.start();
    QCOMPARE(qs(w.counters().write_mode_reason), QStringLiteral("writes: sandbox"));
    w.wait();
    w.stop();
    const WorkloadCounters c = w.counters();
    QVERIFY2(c.writes > 0, qPrintable(describe(c)));
    QCOMPARE(c.synthetic_rows_created, 0u);
    QVERIFY(c.run_id.empty());
  }
};

QTEST_GUILESS_MAIN(TestLoadSafety)
#include "tst_load_safety.moc"
