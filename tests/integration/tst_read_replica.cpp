// The PostgreSQL read replica (pg/read_router.h) against a real streaming
// replica: inspection, analytics and warming reads are served by the replica
// (proved on the serving connection with pg_is_in_recovery()), writes and audit
// land on the primary, a routed read never misses a write acknowledged before
// it, a stopped or paused replica makes those reads fall back to the primary
// with no failed read, and health reports the replica and its lag.
// TIER_TEST_LABELS: distributed;reliability
// TIER_TEST_TIMEOUT: 300
#include <QElapsedTimer>
#include <QtTest>

#include "core_fixture.h"
#include "distributed.h"
#include "process_runner.h"
#include "reliability_report.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/health.h"
#include "tier/ops/inspect.h"
#include "tier/ops/warming.h"
#include "tier/pg/read_router.h"
#include "tier/schema/migrations.h"

using namespace tier::test;
using namespace std::chrono_literals;

class TestReadReplica : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void cleanupTestCase();
  void noReplicaMeansPrimary();
  void readsServedByReplica();
  void writesAndAuditOnPrimary();
  void routedReadsSeeAcknowledgedWrites();
  void pausedReplayFallsBackOnLag();
  void stoppedReplicaFallsBackToPrimary();
  void tierctlHealthAndInspectWithReplica();

 private:
  tier::CoreConfig config(bool withReplica) const;
  std::unique_ptr<TestPostgres> primary_;
  std::unique_ptr<TestPostgresReplica> replica_;
  std::unique_ptr<TestRedis> redis_;
};

tier::CoreConfig TestReadReplica::config(bool withReplica) const {
  tier::CoreConfig c;
  c.profile = "replica-test";
  c.redis_url = redis_->url();
  c.pg_conninfo = primary_->conninfo();
  if (withReplica) c.pg_replica_conninfo = replica_->conninfo();
  c.redis.connect_timeout = 200ms;
  c.redis.command_timeout = 500ms;
  c.pg.pool_size = 4;
  c.pg.connect_timeout = 2000ms;
  // The test primary runs with synchronous_commit off: its WAL reaches the
  // replica after the WAL writer's 200 ms delay at worst.
  c.pg_replica.max_lag = 1000ms;
  c.pg_replica.retry_after = 500ms;
  c.backplane.enabled = false;
  return c;
}

void TestReadReplica::initTestCase() {
  redis_ = std::make_unique<TestRedis>();
  primary_ = std::make_unique<TestPostgres>();
  {
    tier::pg::PgOptions o;
    o.conninfo = primary_->conninfo();
    o.pool_size = 1;
    tier::pg::PgPool pool(o);
    tier::schema::migrate(pool);
    tier::sandbox::Seeder(pool).seed(smallSeed());
  }
  replica_ = std::make_unique<TestPostgresReplica>(*primary_);
  QVERIFY(replica_->waitCaughtUp(30s));
}

void TestReadReplica::cleanupTestCase() {
  replica_.reset();
  primary_.reset();
  redis_.reset();
}

void TestReadReplica::noReplicaMeansPrimary() {
  tier::TierCore core(config(false));
  QVERIFY(!core.reads().hasReplica());
  std::string inRecovery;
  auto served = core.reads().read([&](tier::pg::Connection& c) {
    inRecovery = std::string(c.exec("SELECT pg_is_in_recovery()::text").value(0, 0));
  });
  QVERIFY(served == tier::pg::ReadRouter::Served::Primary);
  QCOMPARE(inRecovery, std::string("false"));
  const auto h = tier::ops::checkHealth(core);
  QVERIFY(!h.replica.configured);
  QCOMPARE(h.replica.routing.primary_reads, std::uint64_t(1));
}

void TestReadReplica::readsServedByReplica() {
  tier::TierCore core(config(true));
  QVERIFY(core.reads().hasReplica());

  // The connection that served a routed read is the standby's.
  std::string inRecovery;
  auto served = core.reads().read([&](tier::pg::Connection& c) {
    inRecovery = std::string(c.exec("SELECT pg_is_in_recovery()::text").value(0, 0));
  });
  QVERIFY(served == tier::pg::ReadRouter::Served::Replica);
  QCOMPARE(inRecovery, std::string("true"));

  // Inspection, analytics and warming go through it.
  auto before = core.reads().stats();
  auto inspection = tier::ops::inspectSession(core, 1);
  QVERIFY(inspection.l3_present);
  auto after = core.reads().stats();
  QCOMPARE(after.replica_reads, before.replica_reads + 1);

  before = after;
  auto stats = core.analytics().moodStats(1, 30);  // a miss: the aggregate is computed
  QVERIFY(stats.value.has_value());
  after = core.reads().stats();
  QCOMPARE(after.replica_reads, before.replica_reads + 1);
  QCOMPARE(core.analytics().loadFromDb(1, 30)->entries, stats.value->entries);

  before = after;
  auto warmed = tier::ops::warm(core, tier::ops::WarmSet::Knowledge);
  QVERIFY(warmed.warmed > 0);
  QCOMPARE(warmed.failed, 0LL);
  after = core.reads().stats();
  QVERIFY(after.replica_reads >= before.replica_reads + 2);  // the slug list and at least one batch
  QCOMPARE(after.fallback_down + after.fallback_error, std::uint64_t(0));
  QCOMPARE(core.metrics().snapshot(0s).counter(tier::metrics::Counter::ReplicaRead), after.replica_reads);

  // Health: reachable, a standby, lag known.
  QVERIFY(replica_->waitCaughtUp(10s));
  const auto h = tier::ops::checkHealth(core);
  QVERIFY(h.replica.configured);
  QVERIFY2(h.replica.ok, h.replica.error.c_str());
  QVERIFY(h.replica.lag_bytes >= 0);
  QVERIFY(h.replica.lag_seconds >= 0);
  QVERIFY(h.replica.endpoint.find(std::to_string(replica_->port())) != std::string::npos);
  qInfo("replica lag: %lld bytes, %.3f s", h.replica.lag_bytes, h.replica.lag_seconds);
}

void TestReadReplica::writesAndAuditOnPrimary() {
  tier::TierCore core(config(true));
  // The replica refuses writes, so these succeeding means the primary took them.
  tier::repo::EntryDraft d;
  d.title = "replica test";
  d.content = "written on the primary";
  d.mood_score = 7;
  auto e = core.entries().create(2, d);
  QVERIFY(e.id > 0);
  tier::ops::evictSession(core, 2);  // audited as evict.session
  const auto rows = tier::ops::readAudit(core, 5, "evict.session");
  QVERIFY(!rows.empty());
  QCOMPARE(rows.front().action, std::string("evict.session"));
  // ...and the row is there on the primary itself, before any replication.
  tier::pg::PgOptions o;
  o.conninfo = primary_->conninfo();
  o.pool_size = 1;
  tier::pg::PgPool p(o);
  QCOMPARE(p.acquire()
               ->exec("SELECT count(*) FROM cache_audit WHERE id = $1", {std::to_string(rows.front().id)})
               .toInt(0, 0),
           1LL);
  QCOMPARE(p.acquire()->exec("SELECT count(*) FROM journal_entries WHERE id = $1", {std::to_string(e.id)}).toInt(0, 0),
           1LL);
}

void TestReadReplica::routedReadsSeeAcknowledgedWrites() {
  // Write, then at once compute the aggregate through the router: it must
  // count the new entry every time, whichever server serves it.
  tier::TierCore core(config(true));
  const std::int64_t user = 3;
  long long expected = core.analytics().loadFromDb(user, 30)->entries;
  const auto before = core.reads().stats();
  int stale = 0;
  for (int i = 0; i < 20; ++i) {
    tier::repo::EntryDraft d;
    d.title = "ryw " + std::to_string(i);
    d.content = "read your writes";
    d.mood_score = 1 + i % 10;
    core.entries().create(user, d);
    ++expected;
    auto m = core.analytics().moodStats(user, 30);
    QVERIFY(m.value.has_value());
    if (m.value->entries != expected) ++stale;
  }
  const auto after = core.reads().stats();
  qInfo("20 write-then-read rounds: replica served %llu, primary %llu (behind %llu)",
        static_cast<unsigned long long>(after.replica_reads - before.replica_reads),
        static_cast<unsigned long long>(after.primary_reads - before.primary_reads),
        static_cast<unsigned long long>(after.fallback_lag - before.fallback_lag));
  QCOMPARE(stale, 0);
  QVERIFY(after.replica_reads > before.replica_reads);  // the replica did serve some of them
}

void TestReadReplica::pausedReplayFallsBackOnLag() {
  auto cfg = config(true);
  cfg.pg_replica.max_lag = 100ms;
  tier::TierCore core(cfg);
  tier::pg::PgOptions o;
  o.conninfo = replica_->conninfo();
  o.pool_size = 1;
  tier::pg::PgPool r(o);
  r.acquire()->exec("SELECT pg_wal_replay_pause()");
  auto resume = qScopeGuard([&] { r.acquire()->exec("SELECT pg_wal_replay_resume()"); });

  tier::repo::EntryDraft d;
  d.title = "while replay is paused";
  d.content = "lag";
  auto e = core.entries().create(4, d);
  const auto before = core.reads().stats();
  auto m = core.analytics().moodStats(4, 30);
  QVERIFY(m.value.has_value());
  QCOMPARE(m.value->entries, core.analytics().loadFromDb(4, 30)->entries);
  const auto after = core.reads().stats();
  QVERIFY(after.fallback_lag > before.fallback_lag);
  QCOMPARE(after.replica_reads, before.replica_reads + 0);
  // Health shows the replica behind; once replay resumes it catches up.
  const auto h = tier::ops::checkHealth(core);
  QVERIFY(h.replica.ok);
  QVERIFY2(h.replica.lag_bytes > 0, std::to_string(h.replica.lag_bytes).c_str());
  qInfo("paused replay: lag %lld bytes, %.3f s", h.replica.lag_bytes, h.replica.lag_seconds);
  resume.dismiss();
  r.acquire()->exec("SELECT pg_wal_replay_resume()");
  QVERIFY(replica_->waitCaughtUp(10s));
  QVERIFY(e.id > 0);
}

void TestReadReplica::stoppedReplicaFallsBackToPrimary() {
  tier::TierCore core(config(true));
  QVERIFY(core.reads().read([](tier::pg::Connection&) {}) == tier::pg::ReadRouter::Served::Replica);

  replica_->stop();
  auto restart = qScopeGuard([&] { replica_->start(); });
  const auto before = core.reads().stats();
  const int kInspections = 60;
  int failed = 0;
  double slowestMs = 0;
  for (int i = 0; i < kInspections; ++i) {
    QElapsedTimer t;
    t.start();
    try {
      auto s = tier::ops::inspectSession(core, 1 + i % 30);
      if (!s.l3_present) ++failed;
      core.analytics().moodStats(1 + i % 40, 7);
    } catch (const tier::Error& e) {
      ++failed;
      qWarning("read failed: %s", e.what());
    }
    slowestMs = std::max(slowestMs, t.nsecsElapsed() / 1e6);
  }
  auto warmed = tier::ops::warm(core, tier::ops::WarmSet::Knowledge);
  QCOMPARE(warmed.failed, 0LL);
  const auto after = core.reads().stats();
  QCOMPARE(after.replica_reads, before.replica_reads);
  QVERIFY(after.fallback_down > before.fallback_down);
  QVERIFY(!after.last_error.empty());
  QVERIFY(core.metrics().snapshot(0s).counter(tier::metrics::Counter::ReplicaFallback) >= after.fallback_down);
  const auto h = tier::ops::checkHealth(core);
  QVERIFY(h.replica.configured);
  QVERIFY(!h.replica.ok);
  QVERIFY(!h.replica.error.empty());
  QVERIFY(h.postgres.ok);

  reportFigure({QStringLiteral("PostgreSQL replica stopped"),
                QStringLiteral("failed inspections / falls back to primary"),
                QStringLiteral("%1 of %2 (slowest %3 ms)").arg(failed).arg(kInspections).arg(slowestMs, 0, 'f', 1),
                QStringLiteral("0"), failed == 0, QStringLiteral("ctest -R tst_read_replica")});
  QCOMPARE(failed, 0);

  // Back: after retry_after the replica serves again.
  restart.dismiss();
  replica_->start();
  QVERIFY(replica_->waitCaughtUp(30s));
  QTRY_VERIFY_WITH_TIMEOUT(core.reads().read([](tier::pg::Connection&) {}) == tier::pg::ReadRouter::Served::Replica,
                           10000);
}

void TestReadReplica::tierctlHealthAndInspectWithReplica() {
  QTemporaryDir home;
  const auto env = isolatedEnvironment(home.path());
  const QStringList servers{QStringLiteral("--redis"),      QString::fromStdString(redis_->url()),
                            QStringLiteral("--pg"),         QString::fromStdString(primary_->conninfo()),
                            QStringLiteral("--pg-replica"), QString::fromStdString(replica_->conninfo())};
  QVERIFY(replica_->waitCaughtUp(30s));
  auto run =
      runProcess(tierctlProgram(), servers + QStringList{QStringLiteral("health"), QStringLiteral("--json")}, env);
  QVERIFY2(run.code == 0, run.err.constData());
  auto replica = QJsonDocument::fromJson(run.out).object().value(QStringLiteral("replica")).toObject();
  qInfo("tierctl health --json, replica: %s", QJsonDocument(replica).toJson().constData());
  QVERIFY(replica.value(QStringLiteral("configured")).toBool());
  QVERIFY(replica.value(QStringLiteral("ok")).toBool());
  QVERIFY(replica.value(QStringLiteral("lag_bytes")).toDouble() >= 0);
  QVERIFY(replica.value(QStringLiteral("lag_seconds")).toDouble() >= 0);
  QVERIFY(replica.value(QStringLiteral("endpoint")).toString().contains(QString::number(replica_->port())));

  run = runProcess(tierctlProgram(),
                   servers + QStringList{QStringLiteral("inspect"), QStringLiteral("session"), QStringLiteral("5"),
                                         QStringLiteral("--json")},
                   env);
  QVERIFY2(run.code == 0, run.err.constData());

  // Replica stopped: health still exits 0 (the core works) and says DOWN; inspect still answers.
  replica_->stop();
  auto restart = qScopeGuard([&] { replica_->start(); });
  run = runProcess(tierctlProgram(), servers + QStringList{QStringLiteral("health")}, env);
  QVERIFY2(run.code == 0, run.err.constData());
  QVERIFY2(run.out.contains("replica   DOWN"), run.out.constData());
  qInfo("tierctl health, replica stopped:\n%s", run.out.constData());
  run = runProcess(tierctlProgram(),
                   servers + QStringList{QStringLiteral("inspect"), QStringLiteral("session"), QStringLiteral("5"),
                                         QStringLiteral("--json")},
                   env);
  QVERIFY2(run.code == 0, run.err.constData());
  QVERIFY(QJsonDocument::fromJson(run.out).isObject());
}

QTEST_GUILESS_MAIN(TestReadReplica)
#include "tst_read_replica.moc"
