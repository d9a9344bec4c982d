// The distributed test harness (tests/support/distributed.h) brings up what it
// promises: a 3-master/3-replica Redis Cluster that routes, reshards and fails
// over; a Sentinel group that sees its master and fails over once; a PostgreSQL
// streaming replica that receives the primary's rows and refuses writes.
// TIER_TEST_LABELS: distributed
// TIER_TEST_TIMEOUT: 400
// TIER_TEST_RUN_SERIAL
#include <QElapsedTimer>
#include <QtTest>
#include <set>

#include "distributed.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"

using namespace tier::test;
using namespace std::chrono_literals;

namespace {

std::string firstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

tier::pg::PgOptions pgOptions(const std::string& conninfo) {
  tier::pg::PgOptions o;
  o.conninfo = conninfo;
  o.pool_size = 1;
  o.connect_timeout = 3s;
  return o;
}

}  // namespace

class TestDistributedHarness : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void redisCluster();
  void redisSentinel();
  void postgresReplica();
};

void TestDistributedHarness::redisCluster() {
  QElapsedTimer t;
  t.start();
  TestRedisCluster cluster;
  qInfo("cluster up in %lld ms: %s", static_cast<long long>(t.elapsed()), cluster.seedUrl().c_str());
  QVERIFY(cluster.healthy());
  for (int port : cluster.ports())
    QVERIFY2(cluster.cli(port, "CLUSTER INFO").find("cluster_state:ok") != std::string::npos,
             std::to_string(port).c_str());

  // 3 masters with all 16384 slots between them, each with one replica.
  auto nodes = cluster.nodes();
  QCOMPARE(nodes.size(), size_t(6));
  auto masters = cluster.masters();
  QCOMPARE(masters.size(), size_t(3));
  int slots = 0;
  for (const auto& m : masters) {
    slots += m.slots;
    int replicas = 0;
    for (const auto& n : nodes) replicas += (!n.master && n.master_id == m.id) ? 1 : 0;
    QCOMPARE(replicas, 1);
  }
  QCOMPARE(slots, 16384);

  // A key set through one node is read through another (redis-cli -c follows MOVED).
  const auto ports = cluster.ports();
  QCOMPARE(firstLine(cluster.cliCluster(ports[0], "SET harness:{k1} hello")), std::string("OK"));
  QCOMPARE(firstLine(cluster.cliCluster(ports[4], "GET harness:{k1}")), std::string("hello"));
  // ...and without -c a node that does not own the slot answers MOVED.
  int movedAnswers = 0;
  for (int port : ports)
    movedAnswers += cluster.cli(port, "GET harness:{k1}").find("MOVED") != std::string::npos ? 1 : 0;
  QVERIFY(movedAnswers >= 3);  // the two other masters and their replicas

  // Reshard 100 slots from one master to another.
  const ClusterNode from = masters[0], to = masters[1];
  cluster.reshard(from.port, to.port, 100);
  QVERIFY(cluster.waitHealthy(30s));
  int fromSlots = 0, toSlots = 0;
  for (const auto& m : cluster.masters()) {
    if (m.id == from.id) fromSlots = m.slots;
    if (m.id == to.id) toSlots = m.slots;
  }
  QCOMPARE(fromSlots, from.slots - 100);
  QCOMPARE(toSlots, to.slots + 100);
  QCOMPARE(firstLine(cluster.cliCluster(ports[2], "GET harness:{k1}")), std::string("hello"));

  // Kill a master: its replica takes over, the cluster is ok again, and the
  // killed node rejoins as a replica after restart().
  const ClusterNode victim = cluster.masters()[2];
  cluster.kill(victim.port);
  QElapsedTimer failover;
  failover.start();
  // Detection takes cluster-node-timeout (5 s); an election that fails (the
  // voters had not all flagged the master failed yet) is retried only after
  // 4x the node timeout, so a loaded machine can need well over 30 s.
  const bool failedOver = cluster.waitHealthy(120s);
  QVERIFY2(failedOver, cluster.describe().c_str());
  qInfo("cluster failover after a master SIGKILL: %lld ms", static_cast<long long>(failover.elapsed()));
  for (const auto& m : cluster.masters()) QVERIFY(m.port != victim.port);
  cluster.restart(victim.port);
  QTRY_VERIFY_WITH_TIMEOUT(
      [&] {
        for (const auto& n : cluster.nodes())
          if (n.port == victim.port) return !n.master && !n.failed;
        return false;
      }(),
      60000);
  QVERIFY2(cluster.waitHealthy(30s), cluster.describe().c_str());
  QVERIFY(t.elapsed() < 300000);
}

void TestDistributedHarness::redisSentinel() {
  TestRedisSentinel group;
  QVERIFY(group.ready());
  QCOMPARE(group.sentinelAddresses().size(), size_t(3));
  QCOMPARE(group.masterName(), std::string("tiermaster"));
  const int master = group.currentMasterPort();
  QCOMPARE(master, group.dataPorts()[0]);
  const int replica = group.dataPorts()[1];
  QVERIFY(group.cli(replica, "ROLE").rfind("slave", 0) == 0);

  QCOMPARE(firstLine(group.cli(master, "SET harness:sentinel before-failover")), std::string("OK"));
  QCOMPARE(firstLine(group.cli(master, "WAIT 1 5000")), std::string("1"));  // the replica has it

  QElapsedTimer t;
  t.start();
  QCOMPARE(group.killMaster(), master);
  const int promoted = group.waitForFailover(master, 30s);
  QCOMPARE(promoted, replica);
  qInfo("sentinel failover after a master SIGKILL: %lld ms", static_cast<long long>(t.elapsed()));
  QCOMPARE(group.currentMasterPort(), replica);
  QCOMPARE(firstLine(group.cli(promoted, "GET harness:sentinel")), std::string("before-failover"));
  QCOMPARE(firstLine(group.cli(promoted, "SET harness:sentinel after-failover")), std::string("OK"));

  // The old master comes back as a replica of the new one. Sentinel converts
  // it once it has reported "master" for 8 s (4 publish periods), and not at
  // all while in TILT mode (30 s after its timer ran late: a loaded 2-core
  // machine under ASan did that in CI, and 30 s of waiting were not enough).
  group.restart(master);
  auto sentinelsSay = [&] {
    std::string why = "ROLE " + firstLine(group.cli(master, "ROLE")) + "; sentinels:";
    for (int s : group.sentinelPorts()) {
      const auto info = group.cli(s, "INFO sentinel");
      const auto at = info.find("sentinel_tilt:");
      why += " " + std::to_string(s) + (at == std::string::npos ? std::string(" ?") : " " + firstLine(info.substr(at)));
    }
    return why;
  };
  QTRY_VERIFY2_WITH_TIMEOUT(group.cli(master, "ROLE").rfind("slave", 0) == 0, sentinelsSay().c_str(), 90000);
  QTRY_COMPARE_WITH_TIMEOUT(firstLine(group.cli(master, "GET harness:sentinel")), std::string("after-failover"), 30000);
}

void TestDistributedHarness::postgresReplica() {
  TestPostgres primary;
  primary.psql("CREATE TABLE harness (id int PRIMARY KEY, note text)");
  TestPostgresReplica replica(primary);
  QVERIFY(replica.port() != primary.port());
  QVERIFY(replica.waitCaughtUp(30s));

  tier::pg::PgPool p(pgOptions(primary.conninfo()));
  tier::pg::PgPool r(pgOptions(replica.conninfo()));
  QCOMPARE(std::string(r.acquire()->exec("SELECT pg_is_in_recovery()::text").value(0, 0)), std::string("true"));
  QCOMPARE(std::string(p.acquire()->exec("SELECT pg_is_in_recovery()::text").value(0, 0)), std::string("false"));
  QCOMPARE(p.acquire()->exec("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").toInt(0, 0), 1LL);

  // A row inserted on the primary reaches the replica within a few seconds.
  QElapsedTimer t;
  t.start();
  p.acquire()->exec("INSERT INTO harness VALUES (1, $1)", {std::string("first")});
  QTRY_COMPARE_WITH_TIMEOUT(r.acquire()->exec("SELECT count(*) FROM harness WHERE id = 1").toInt(0, 0), 1LL, 5000);
  qInfo("row visible on the replica after %lld ms", static_cast<long long>(t.elapsed()));
  QVERIFY(replica.waitCaughtUp(10s));
  QCOMPARE(replica.replayLagBytes(), 0LL);
  QVERIFY(replica.replayLagSeconds() >= 0);

  // The replica is read-only.
  bool refused = false;
  try {
    r.acquire()->exec("INSERT INTO harness VALUES (2, 'nope')");
  } catch (const tier::Error& e) {
    refused = std::string(e.what()).find("read-only") != std::string::npos;
  }
  QVERIFY(refused);

  // Stopped, it is unreachable and reports lag -1; started again, it catches up
  // with what the primary wrote meanwhile.
  replica.stop();
  QVERIFY(!replica.running());
  QCOMPARE(replica.replayLagBytes(), -1LL);
  p.acquire()->exec("INSERT INTO harness VALUES (3, 'while stopped')");
  replica.start();
  QVERIFY(replica.running());
  tier::pg::PgPool r2(pgOptions(replica.conninfo()));
  QTRY_COMPARE_WITH_TIMEOUT(r2.acquire()->exec("SELECT count(*) FROM harness").toInt(0, 0), 2LL, 10000);
}

QTEST_GUILESS_MAIN(TestDistributedHarness)
#include "tst_distributed_harness.moc"
