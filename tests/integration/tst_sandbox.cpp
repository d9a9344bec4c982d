// The sandbox lifecycle on real servers: up starts, migrates and seeds; a
// second up reuses the same servers and URLs without seeding again; down stops
// both and keeps the data; up after down comes back on the same ports.
// TIER_TEST_TIMEOUT: 600
#include <signal.h>
#include <unistd.h>

#include <QtTest>
#include <filesystem>
#include <set>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/deployment.h"
#include "tier/pg/pg_pool.h"
#include "tier/sandbox/sandbox.h"
#include "tier/sandbox/server_process.h"
#include "tier/workload/workload.h"

using tier::sandbox::processAlive;

namespace {

tier::sandbox::SandboxOptions smallSandbox(const std::string& dir) {
  tier::sandbox::SandboxOptions o;
  o.dir = dir;
  o.seed.users = 20;
  o.seed.entries = 100;
  o.seed.sessions = 10;
  o.seed.min_messages = 2;
  o.seed.max_messages = 5;
  o.seed.knowledge = 5;
  return o;
}

long long countRows(const std::string& conninfo, const char* table) {
  tier::pg::PgOptions o;
  o.conninfo = conninfo;
  o.pool_size = 1;
  tier::pg::PgPool pool(o);
  auto c = pool.acquire();
  // The table name comes from this test's fixed list, not from input.
  return c->exec(std::string("SELECT count(*) FROM ") + table).toInt(0, 0);
}

}  // namespace

class TestSandbox : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    dir_ = tier::test::makeTempDir() + "/sandbox";
    // If this test dies, the watchdog stops whatever the sandbox started.
    tier::sandbox::PostgresServerOptions pgOpt;
    pgOpt.dir = dir_ + "/pg";
    tier::sandbox::PostgresServerProcess pg(pgOpt);
    const std::string parent = std::filesystem::path(dir_).parent_path().string();
    const std::string killRedis = "p=$(cat '" + dir_ + "/redis/redis.pid' 2>/dev/null) && kill -9 $p";
    watchdog_ = tier::test::spawnWatchdog(::getpid(), {{"sh", "-c", killRedis}, pg.stopImmediateCommand()}, parent);
  }

  void cleanupTestCase() {
    try {
      tier::sandbox::Sandbox(smallSandbox(dir_)).down();
    } catch (...) {
    }
    ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
    tier::test::removeTree(std::filesystem::path(dir_).parent_path().string());
  }

  void statusBeforeUpIsEmpty() {
    const auto s = tier::sandbox::Sandbox(smallSandbox(dir_)).status();
    QCOMPARE(s.dir, dir_);
    QVERIFY(!s.redis_running && !s.postgres_running);
    QCOMPARE(s.redis_port, 0);
    QVERIFY(s.redis_url.empty() && s.pg_conninfo.empty());
  }

  void upStartsMigratesAndSeeds() {
    tier::sandbox::Sandbox sandbox(smallSandbox(dir_));
    std::set<std::string> stages;
    long long usersDone = 0;
    const auto r = sandbox.up([&](const tier::sandbox::SandboxProgress& p) {
      stages.insert(p.stage);
      QVERIFY(p.message.find('\n') == std::string::npos);
      if (p.table == "users") usersDone = p.done;
    });
    QCOMPARE(stages, (std::set<std::string>{"redis", "postgres", "migrate", "seed"}));
    QVERIFY(!r.redis_reused && !r.postgres_reused);
    QVERIFY(!r.migrations_applied.empty());
    QVERIFY(r.seeded.has_value());
    QCOMPARE(r.seeded->users, 20LL);
    QCOMPARE(usersDone, 20LL);
    QVERIFY(r.status.redis_running && r.status.postgres_running);
    QVERIFY(processAlive(r.status.redis_pid) && processAlive(r.status.postgres_pid));
    QCOMPARE(r.status.redis_url, "redis://127.0.0.1:" + std::to_string(r.status.redis_port) + "/0");
    QCOMPARE(countRows(r.status.pg_conninfo, "users"), 20LL);
    QCOMPARE(countRows(r.status.pg_uri, "psychology_knowledge"), 5LL);
    first_ = r.status;
  }

  void secondUpReusesWithoutReseeding() {
    tier::sandbox::SandboxOptions o = smallSandbox(dir_);
    o.seed.users = 999;  // would show if it seeded again
    const auto r = tier::sandbox::Sandbox(o).up();
    QVERIFY(r.redis_reused && r.postgres_reused);
    QVERIFY(r.migrations_applied.empty());
    QVERIFY(!r.seeded.has_value());
    QCOMPARE(r.status.redis_pid, first_.redis_pid);
    QCOMPARE(r.status.postgres_pid, first_.postgres_pid);
    QCOMPARE(r.status.redis_url, first_.redis_url);
    QCOMPARE(r.status.pg_conninfo, first_.pg_conninfo);
    QCOMPARE(countRows(r.status.pg_conninfo, "users"), 20LL);
  }

  // up() marks its database (ops/deployment.h), so the synthetic load writes there as the demo.
  void sandboxIsMarkedAndGetsTheWritingLoad() {
    tier::pg::PgOptions po;
    po.conninfo = first_.pg_conninfo;
    tier::pg::PgPool pool(po);
    const tier::ops::SandboxMark mark = tier::ops::checkSandbox(pool);
    QVERIFY2(mark.sandbox, mark.reason.c_str());
    tier::CoreConfig cfg;
    cfg.profile = "tst_sandbox";
    cfg.redis_url = first_.redis_url;
    cfg.pg_conninfo = first_.pg_conninfo;
    tier::TierCore core(cfg);
    tier::workload::WorkloadOptions o;
    o.virtual_users = 20;
    o.threads = 2;
    o.rate = 500;
    o.duration = std::chrono::seconds(2);
    tier::workload::Workload w(core, o);
    w.start();
    w.wait();
    w.stop();
    const auto c = w.counters();
    QCOMPARE(QString::fromStdString(c.write_mode_reason), QStringLiteral("writes: sandbox"));
    QVERIFY(c.write_share > 0);
    QVERIFY2(c.writes > 0, c.last_error.c_str());
    QCOMPARE(c.failed_writes, 0u);
    QCOMPARE(c.synthetic_rows_created, 0u);
  }

  void downStopsAndKeepsData() {
    tier::sandbox::Sandbox sandbox(smallSandbox(dir_));
    sandbox.down();
    const auto s = sandbox.status();
    QVERIFY(!s.redis_running && !s.postgres_running);
    QVERIFY(!processAlive(first_.redis_pid));
    QVERIFY(!processAlive(first_.postgres_pid));
    QCOMPARE(s.redis_url, first_.redis_url);  // remembered for the next up
    sandbox.down();                           // idempotent

    const auto r = sandbox.up();
    QVERIFY(!r.redis_reused && !r.postgres_reused);
    QVERIFY(!r.seeded.has_value());
    QCOMPARE(r.status.redis_url, first_.redis_url);
    QCOMPARE(r.status.pg_conninfo, first_.pg_conninfo);
    QCOMPARE(countRows(r.status.pg_conninfo, "users"), 20LL);
    sandbox.down();
  }

  void defaultDirIsUsable() {
    const std::string d = tier::sandbox::defaultSandboxDir();
    QVERIFY(!d.empty() && d.front() == '/');
    QVERIFY(d.find("tierconsole") != std::string::npos);
    if (::geteuid() == 0) QVERIFY(d.rfind("/root", 0) != 0);  // postgres cannot enter /root
  }

 private:
  std::string dir_;
  long watchdog_ = 0;
  tier::sandbox::SandboxStatus first_;
};

QTEST_GUILESS_MAIN(TestSandbox)
#include "tst_sandbox.moc"
