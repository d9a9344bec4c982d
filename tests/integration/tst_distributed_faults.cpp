// Faults on the distributed engines under the synthetic workload (issue 6):
// a Redis Cluster master killed (SIGKILL), 1000 slots resharded, a Sentinel
// master killed. The workload's reads must keep succeeding (L1/L3 answer while
// a node is gone) with no stale read, and the core must follow the new
// topology; the figures go to docs/reliability.md.
// TIER_TEST_LABELS: distributed;reliability
// TIER_TEST_TIMEOUT: 900
// TIER_TEST_RUN_SERIAL
#include <QElapsedTimer>
#include <QtTest>
#include <thread>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "distributed.h"
#include "reliability_report.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/redis/redis_client.h"
#include "tier/workload/workload.h"

using namespace tier::test;
using namespace std::chrono_literals;
using tier::redis::RedisClient;

namespace {

const QString kCommand = QStringLiteral("ctest -R tst_distributed_faults");

tier::CoreConfig config(const std::string& url) {
  tier::CoreConfig c = coreConfig("distributed-faults");
  c.redis_url = url;
  c.redis.connect_timeout = 100ms;
  c.redis.command_timeout = 200ms;
  c.pg.pool_size = 8;
  // A short L1 cap so that L2 carries real traffic while the fault hits it.
  c.policies.l1_max_ttl = 2s;
  c.policies.l1_max_ttl_linked = 2s;
  return c;
}

tier::workload::WorkloadOptions load() {
  tier::workload::WorkloadOptions o;
  o.virtual_users = 50;
  o.threads = 3;
  o.rate = 300;
  o.duration = 0s;  // until stop()
  return o;
}

int portOf(const std::string& address) {
  return std::stoi(address.substr(address.rfind(':') + 1));
}

void report(const QString& fault, const QString& measured, const QString& figure, const QString& target, bool met) {
  reportFigure({fault, measured, figure, target, met, kCommand});
}

// Seconds since t started until a SET of `probeKey` succeeds (the core writes
// to the slot's new master); -1 if not within 90 s.
double secondsUntilWritable(RedisClient& r, const std::string& probeKey, const QElapsedTimer& t,
                            std::chrono::milliseconds pause) {
  while (t.elapsed() < 90000) {
    try {
      r.set(probeKey, "x", 10s);
      return t.elapsed() / 1000.0;
    } catch (const tier::Error&) {
      std::this_thread::sleep_for(pause);
    }
  }
  return -1;
}

// The workload's failed and stale reads, both with target 0.
void reportReads(const QString& fault, const tier::workload::WorkloadCounters& c) {
  report(fault, QStringLiteral("failed reads (of %1)").arg(c.reads), QString::number(c.failed_reads),
         QStringLiteral("0"), c.failed_reads == 0);
  report(fault, QStringLiteral("stale reads"), QString::number(c.stale_reads), QStringLiteral("0"), c.stale_reads == 0);
}

void reportFollowed(const QString& fault, const QString& measured, double followedS) {
  report(fault, measured,
         followedS < 0 ? QStringLiteral("not within 90 s") : QStringLiteral("%1 s").arg(followedS, 0, 'f', 1),
         QStringLiteral("≤ 90 s"), followedS >= 0);
}

}  // namespace

class TestDistributedFaults : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { seededServers(); }
  void clusterMasterKilled();
  void clusterReshard();
  void sentinelFailover();
};

void TestDistributedFaults::clusterMasterKilled() {
  TestRedisCluster cluster;
  tier::TierCore core(config(cluster.seedUrl()));
  auto& r = *tier::internal::TierAccess::redis(core);
  tier::workload::Workload work(core, load());
  work.start();
  std::this_thread::sleep_for(3s);

  // The victim: the master owning session:v1:1's slot; a probe key there tells
  // when the core can write to that slot again (the promoted replica).
  const std::string probeKey = "tc:probe:{" + tier::codec::sessionKey(1) + "}";
  const std::string victim = slotOwner(r.topology(false), probeKey);
  QVERIFY(!victim.empty());
  QElapsedTimer t;
  t.start();
  cluster.kill(portOf(victim));
  const double followedS = secondsUntilWritable(r, probeKey, t, 100ms);
  std::this_thread::sleep_for(3s);  // the workload goes on against the new topology
  work.stop();
  const auto c = work.counters();
  qInfo(
      "cluster master %s killed under load: followed after %.1f s; reads %llu, failed %llu, stale %llu, "
      "writes %llu, failed writes %llu; last error: %s",
      victim.c_str(), followedS, static_cast<unsigned long long>(c.reads),
      static_cast<unsigned long long>(c.failed_reads), static_cast<unsigned long long>(c.stale_reads),
      static_cast<unsigned long long>(c.writes), static_cast<unsigned long long>(c.failed_writes),
      c.last_error.c_str());
  const QString fault = QStringLiteral("Redis Cluster: a master killed (SIGKILL) under load, node timeout 5 s");
  reportReads(fault, c);
  reportFollowed(fault, QStringLiteral("time until the core writes to the promoted replica"), followedS);
  QVERIFY2(followedS >= 0, cluster.describe().c_str());
  QVERIFY(c.reads > 0);
  QCOMPARE(c.failed_reads, std::uint64_t(0));
  QCOMPARE(c.stale_reads, std::uint64_t(0));
  bool victimStillMaster = false;
  for (const auto& m : r.masters()) victimStillMaster = victimStillMaster || m == victim;
  QVERIFY(!victimStillMaster);
}

void TestDistributedFaults::clusterReshard() {
  TestRedisCluster cluster;
  tier::TierCore core(config(cluster.seedUrl()));
  tier::workload::Workload work(core, load());
  work.start();
  std::this_thread::sleep_for(3s);
  const auto ms = cluster.masters();
  QElapsedTimer t;
  t.start();
  cluster.reshard(ms[0].port, ms[1].port, 1000);
  const auto took = t.elapsed();
  std::this_thread::sleep_for(1s);
  work.stop();
  const auto c = work.counters();
  const auto redisErrors = tier::internal::TierAccess::redis(core)->poolStats().errors;
  qInfo(
      "1000 slots resharded in %lld ms under load: reads %llu, failed %llu, stale %llu, failed writes %llu, "
      "redis errors %llu; last error: %s",
      static_cast<long long>(took), static_cast<unsigned long long>(c.reads),
      static_cast<unsigned long long>(c.failed_reads), static_cast<unsigned long long>(c.stale_reads),
      static_cast<unsigned long long>(c.failed_writes), static_cast<unsigned long long>(redisErrors),
      c.last_error.c_str());
  const QString fault = QStringLiteral("Redis Cluster: 1000 slots resharded under load (redis-cli --cluster reshard)");
  reportReads(fault, c);
  QVERIFY(c.reads > 0);
  QCOMPARE(c.failed_reads, std::uint64_t(0));
  QCOMPARE(c.stale_reads, std::uint64_t(0));
}

void TestDistributedFaults::sentinelFailover() {
  TestRedisSentinel group;
  tier::TierCore core(config(group.url()));
  auto& r = *tier::internal::TierAccess::redis(core);
  tier::workload::Workload work(core, load());
  work.start();
  std::this_thread::sleep_for(3s);
  QElapsedTimer t;
  t.start();
  const int old = group.killMaster();
  const double followedS = secondsUntilWritable(r, "tc:probe:sentinel", t, 50ms);
  const int now = group.waitForFailover(old, 60s);
  std::this_thread::sleep_for(3s);
  work.stop();
  const auto c = work.counters();
  qInfo(
      "sentinel master %d killed under load: core wrote to %s after %.1f s (sentinels name %d); reads %llu, "
      "failed %llu, stale %llu, failed writes %llu; last error: %s",
      old, r.currentMaster().c_str(), followedS, now, static_cast<unsigned long long>(c.reads),
      static_cast<unsigned long long>(c.failed_reads), static_cast<unsigned long long>(c.stale_reads),
      static_cast<unsigned long long>(c.failed_writes), c.last_error.c_str());
  const QString fault = QStringLiteral("Redis Sentinel: master killed (SIGKILL) under load, down-after 1 s");
  reportReads(fault, c);
  reportFollowed(fault, QStringLiteral("time until the core writes to the new master"), followedS);
  QVERIFY(now != 0);
  QVERIFY(followedS >= 0);
  QCOMPARE(portOf(r.currentMaster()), now);
  QVERIFY(c.reads > 0);
  QCOMPARE(c.failed_reads, std::uint64_t(0));
  QCOMPARE(c.stale_reads, std::uint64_t(0));
}

QTEST_GUILESS_MAIN(TestDistributedFaults)
#include "tst_distributed_faults.moc"
