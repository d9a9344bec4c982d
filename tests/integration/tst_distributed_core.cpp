// The core on a Redis Cluster and behind Redis Sentinel (issue 6): TierCore's
// reads, warming (per-slot scripts), inspection, pattern invalidation (every
// master, per-node counts that add up) and namespace invalidation, health with
// every node; then `tierctl --redis 'redis+cluster://…'` and
// `tierctl --redis 'redis+sentinel://…'` run health, load, invalidate and
// inspect as a user would. PostgreSQL is the shared seeded test server.
// TIER_TEST_LABELS: distributed
// TIER_TEST_TIMEOUT: 900
// TIER_TEST_RUN_SERIAL
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "distributed.h"
#include "process_runner.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/health.h"
#include "tier/ops/inspect.h"
#include "tier/ops/invalidation.h"
#include "tier/ops/warming.h"
#include "tier/redis/redis_client.h"

using namespace tier::test;
using namespace std::chrono_literals;

namespace {

tier::CoreConfig distributedConfig(const std::string& url) {
  tier::CoreConfig c = coreConfig("distributed");
  c.redis_url = url;
  c.redis.command_timeout = 1000ms;
  return c;
}

long long countKeys(tier::redis::RedisClient& r, const std::string& pattern) {
  long long n = 0;
  for (const auto& m : r.masters()) {
    std::string cursor = "0";
    do {
      auto page = r.scanNode(m, cursor, pattern, 500);
      n += static_cast<long long>(page.keys.size());
      cursor = page.cursor;
    } while (cursor != "0");
  }
  return n;
}

// The core's own flow, whatever the deployment.
void exerciseCore(const std::string& url, std::size_t expectMasters, const char* mode) {
  tier::TierCore core(distributedConfig(url));
  auto& r = *tier::internal::TierAccess::redis(core);
  for (const auto& m : r.masters()) r.pipelineOn(m, {{"FLUSHALL"}});
  QCOMPARE(r.masters().size(), expectMasters);

  // Warming twice: the first run SET NXs, the second goes through the
  // version-guarded script (keys present), which on a cluster runs per slot.
  for (int round = 0; round < 2; ++round) {
    auto w = tier::ops::warm(core, tier::ops::WarmSet::Sessions, tier::ops::WarmOptions{24 * 365 * 10});
    QVERIFY(w.candidates > 0);
    QCOMPARE(w.failed, 0LL);
    QCOMPARE(w.warmed + w.already, w.candidates);
  }
  const long long sessions = countKeys(r, "session:*");
  QVERIFY(sessions > 0);
  // A warmed session's id.
  std::int64_t id = 0;
  for (const auto& m : r.masters()) {
    auto page = r.scanNode(m, "0", "session:v1:*", 1000);
    if (!page.keys.empty()) id = std::stoll(page.keys.front().substr(std::string("session:v1:").size()));
  }
  QVERIFY(id > 0);

  // Reads through the tiers: an inspection finds the warmed copy in L2, fresh.
  const auto insp = tier::ops::inspectSession(core, id);
  QVERIFY(insp.l3_present);
  QVERIFY(insp.l2.present);
  QVERIFY(!insp.stale);
  QVERIFY2(insp.l2_error.empty(), insp.l2_error.c_str());

  // Pattern invalidation: every master, per-node counts that sum to the totals.
  tier::ops::InvalidateRequest dry{tier::ops::InvalidateKind::Pattern, "session:*", true};
  auto preview = tier::ops::invalidate(core, dry);
  QCOMPARE(preview.matched, sessions);
  QCOMPARE(preview.nodes.size(), expectMasters);
  tier::ops::InvalidateRequest req{tier::ops::InvalidateKind::Pattern, "session:*"};
  req.unlink_batch = 7;  // several UNLINKs per page
  auto res = tier::ops::invalidate(core, req);
  QCOMPARE(res.matched, sessions);
  QCOMPARE(res.deleted, sessions);
  long long sumMatched = 0, sumDeleted = 0;
  int nodesWithKeys = 0;
  for (const auto& n : res.nodes) {
    sumMatched += n.matched;
    sumDeleted += n.deleted;
    nodesWithKeys += n.deleted > 0 ? 1 : 0;
  }
  QCOMPARE(sumMatched, res.matched);
  QCOMPARE(sumDeleted, res.deleted);
  QCOMPARE(static_cast<std::size_t>(nodesWithKeys), expectMasters);  // 30 sessions spread over every master
  QCOMPARE(countKeys(r, "session:*"), 0LL);

  // Reads refill L2 (through the cache), and a namespace bump retires them.
  tier::ops::refreshSession(core, id);
  QVERIFY(tier::ops::inspectSession(core, id).l2.present);
  tier::ops::InvalidateRequest ns{tier::ops::InvalidateKind::Namespace, "session"};
  auto bumped = tier::ops::invalidate(core, ns);
  QVERIFY(bumped.new_generation > 0);
  QVERIFY(!tier::ops::inspectSession(core, id).l2_generation_current);

  // Health: every node.
  const auto h = tier::ops::checkHealth(core);
  QVERIFY2(h.redis.ok, h.redis.error.c_str());
  QCOMPARE(h.redis.mode, std::string(mode));
  QCOMPARE(h.redis.nodes_down, 0);
  int masters = 0;
  for (const auto& n : h.redis.nodes) masters += n.role == "master" ? 1 : 0;
  QCOMPARE(static_cast<std::size_t>(masters), expectMasters);
}

struct Tierctl {
  QTemporaryDir home;
  QProcessEnvironment env = isolatedEnvironment(home.path());
  QStringList servers;
  Tierctl(const std::string& url) {
    servers = {QStringLiteral("--redis"), QString::fromStdString(url), QStringLiteral("--pg"),
               QString::fromStdString(seededServers().pgConninfo())};
  }
  ProcessRun run(const QStringList& args, int timeoutMs = 120000) {
    return runProcess(tierctlProgram(), servers + args, env, timeoutMs);
  }
};

void exerciseTierctl(const std::string& url, int expectNodes, const char* mode) {
  Tierctl t(url);
  auto run = t.run({QStringLiteral("health"), QStringLiteral("--json")});
  QVERIFY2(run.code == 0, run.err.constData());
  const auto redis = QJsonDocument::fromJson(run.out).object().value(QStringLiteral("redis")).toObject();
  QCOMPARE(redis.value(QStringLiteral("mode")).toString(), QString::fromLatin1(mode));
  QVERIFY(redis.value(QStringLiteral("ok")).toBool());
  const auto nodes = redis.value(QStringLiteral("nodes")).toArray();
  QCOMPARE(nodes.size(), expectNodes);
  for (const auto& n : nodes) QVERIFY2(n.toObject().value(QStringLiteral("up")).toBool(), run.out.constData());
  qInfo("tierctl health (%s):", mode);
  auto text = t.run({QStringLiteral("health")});
  QVERIFY2(text.code == 0, text.err.constData());
  qInfo("%s", text.out.constData());

  run = t.run({QStringLiteral("load"), QStringLiteral("--users"), QStringLiteral("50"), QStringLiteral("--duration"),
               QStringLiteral("4"), QStringLiteral("--threads"), QStringLiteral("2"), QStringLiteral("--json")});
  QVERIFY2(run.code == 0, run.err.constData());
  const auto load = QJsonDocument::fromJson(run.out).object();
  qInfo("tierctl load (%s): reads %.0f, failed %.0f, stale %.0f, hit rate %.3f", mode,
        load.value(QStringLiteral("reads")).toDouble(), load.value(QStringLiteral("failed_reads")).toDouble(),
        load.value(QStringLiteral("stale_reads")).toDouble(), load.value(QStringLiteral("hit_rate")).toDouble());
  QVERIFY(load.value(QStringLiteral("reads")).toDouble() > 0);
  QCOMPARE(load.value(QStringLiteral("failed_reads")).toDouble(), 0.0);
  QCOMPARE(load.value(QStringLiteral("stale_reads")).toDouble(), 0.0);
  QCOMPARE(load.value(QStringLiteral("failed_writes")).toDouble(), 0.0);

  run = t.run({QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:*"),
               QStringLiteral("--yes"), QStringLiteral("--json")});
  QVERIFY2(run.code == 0, run.err.constData());
  const auto inv = QJsonDocument::fromJson(run.out).object();
  const auto perNode = inv.value(QStringLiteral("nodes")).toArray();
  double deleted = 0;
  for (const auto& n : perNode) deleted += n.toObject().value(QStringLiteral("deleted")).toDouble();
  qInfo("tierctl invalidate --pattern entry:* (%s): %s", mode, run.out.constData());
  QVERIFY(perNode.size() >= 1);
  QCOMPARE(deleted, inv.value(QStringLiteral("deleted")).toDouble());
  QVERIFY(inv.value(QStringLiteral("deleted")).toDouble() > 0);  // the load filled entries

  run = t.run({QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:*"),
               QStringLiteral("--dry-run"), QStringLiteral("--json")});
  QVERIFY2(run.code == 0, run.err.constData());
  QCOMPARE(QJsonDocument::fromJson(run.out).object().value(QStringLiteral("matched")).toDouble(), 0.0);

  run = t.run({QStringLiteral("inspect"), QStringLiteral("session"), QStringLiteral("5"), QStringLiteral("--json")});
  QVERIFY2(run.code == 0, run.err.constData());
  QVERIFY(QJsonDocument::fromJson(run.out).isObject());
}

}  // namespace

class TestDistributedCore : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { seededServers(); }
  void cluster();
  void patternDuringReshard();
  void sentinel();
};

void TestDistributedCore::cluster() {
  TestRedisCluster cluster;
  exerciseCore(cluster.seedUrl(), 3, "cluster");
  if (QTest::currentTestFailed()) return;

  // A writer whose L2 SET failed has the backplane UNLINK (or fence) the key
  // before it publishes: on a cluster that must reach each key's own master,
  // not the one node the publisher's link is on (which answers MOVED, and the
  // batch was retried forever, flushing every peer's L1 each time).
  {
    tier::TierCore core(distributedConfig(cluster.seedUrl()));
    QVERIFY(core.backplane() != nullptr);
    auto& r = *tier::internal::TierAccess::redis(core);
    const std::string pattern = "tc:test:bpunlink:*";
    std::vector<tier::redis::Command> sets;
    for (int i = 0; i < 60; ++i) sets.push_back({"SET", "tc:test:bpunlink:" + std::to_string(i), "v"});
    (void)r.pipeline(sets);
    QCOMPARE(countKeys(r, pattern), 60LL);
    const auto before = core.backplane()->stats();
    for (int i = 0; i < 60; ++i) {
      tier::cache::Invalidation inv;
      inv.kind = tier::cache::Invalidation::Kind::Key;
      inv.target = "tc:test:bpunlink:" + std::to_string(i);
      inv.unlink_l2 = true;
      core.backplane()->publish(std::move(inv));
    }
    QTRY_VERIFY_WITH_TIMEOUT(core.backplane()->stats().queued == 0 && countKeys(r, pattern) == 0, 15000);
    const auto after = core.backplane()->stats();
    QCOMPARE(after.publish_errors, before.publish_errors);
    QVERIFY(after.sent >= before.sent + 60);
  }
  exerciseTierctl(cluster.seedUrl(), 6, "cluster");
  if (QTest::currentTestFailed()) return;

  // A replica down: health still exits 0 (the data is served) and names it.
  int replicaPort = 0;
  for (const auto& n : cluster.nodes())
    if (!n.master) replicaPort = n.port;
  QVERIFY(replicaPort != 0);
  cluster.kill(replicaPort);
  Tierctl t(cluster.seedUrl());
  auto run = t.run({QStringLiteral("health"), QStringLiteral("--json")});
  QVERIFY2(run.code == 0, run.err.constData());
  const auto redis = QJsonDocument::fromJson(run.out).object().value(QStringLiteral("redis")).toObject();
  QVERIFY(redis.value(QStringLiteral("ok")).toBool());
  QCOMPARE(redis.value(QStringLiteral("nodes_down")).toInt(), 1);
  bool named = false;
  for (const auto& v : redis.value(QStringLiteral("nodes")).toArray()) {
    const auto n = v.toObject();
    if (n.value(QStringLiteral("address")).toString().endsWith(QStringLiteral(":%1").arg(replicaPort))) {
      named = true;
      QVERIFY(!n.value(QStringLiteral("up")).toBool());
      QVERIFY(!n.value(QStringLiteral("error")).toString().isEmpty());
    }
  }
  QVERIFY2(named, run.out.constData());
  auto text = t.run({QStringLiteral("health")});
  qInfo("tierctl health with replica %d killed:\n%s", replicaPort, text.out.constData());
  QVERIFY(text.out.contains("DOWN"));
}

void TestDistributedCore::sentinel() {
  TestRedisSentinel group;
  exerciseCore(group.url(), 1, "sentinel");
  if (QTest::currentTestFailed()) return;
  exerciseTierctl(group.url(), 5, "sentinel");  // master, replica, 3 sentinels
  if (QTest::currentTestFailed()) return;
  // health names the master the sentinels name.
  Tierctl t(group.url());
  auto run = t.run({QStringLiteral("health"), QStringLiteral("--json")});
  QVERIFY2(run.code == 0, run.err.constData());
  const auto redis = QJsonDocument::fromJson(run.out).object().value(QStringLiteral("redis")).toObject();
  QCOMPARE(redis.value(QStringLiteral("master")).toString(),
           QStringLiteral("127.0.0.1:%1").arg(group.currentMasterPort()));
}

// Pattern invalidation while slots move: once the first master has been
// scanned, 500 slots move from the last master (not scanned yet) to it. A
// single walk would miss their keys (gone from the last master, arrived where
// the walk has passed); the slot map changed, so the walk runs again and every
// key goes, each counted once.
void TestDistributedCore::patternDuringReshard() {
  TestRedisCluster cluster;
  tier::TierCore core(distributedConfig(cluster.seedUrl()));
  auto& r = *tier::internal::TierAccess::redis(core);
  const int keys = 3000;
  std::vector<tier::redis::Command> sets;
  for (int i = 1; i <= keys; ++i) sets.push_back({"SET", "entry:v1:" + std::to_string(i), "x"});
  for (const auto& rep : r.pipeline(sets)) QVERIFY(!rep.isError());
  const auto walk = r.masters();  // the walk's order
  QCOMPARE(walk.size(), std::size_t(3));
  auto portOf = [](const std::string& a) { return std::stoi(a.substr(a.rfind(':') + 1)); };
  const long long onLast = [&] {
    long long n = 0;
    std::string c = "0";
    do {
      auto page = r.scanNode(walk.back(), c, "entry:v1:*", 1000);
      n += static_cast<long long>(page.keys.size());
      c = page.cursor;
    } while (c != "0");
    return n;
  }();
  QVERIFY(onLast > 0);

  bool moved = false;
  tier::ops::InvalidateRequest req{tier::ops::InvalidateKind::Pattern, "entry:*"};
  req.scan_count = 10000;  // the first master's keys in one page: the first progress report comes after its scan
  auto res = tier::ops::invalidate(core, req, [&](const tier::ops::InvalidateProgress&) {
    if (moved) return;
    moved = true;
    cluster.reshard(portOf(walk.back()), portOf(walk.front()), 500);
  });
  QVERIFY(moved);
  qInfo("pattern during a 500-slot reshard: matched %lld, deleted %lld, %d passes, settled %d, left %lld",
        res.matched, res.deleted, res.scan_passes, res.slot_map_settled ? 1 : 0, countKeys(r, "entry:v1:*"));
  QCOMPARE(countKeys(r, "entry:v1:*"), 0LL);
  QVERIFY(res.scan_passes >= 2);
  QVERIFY(res.slot_map_settled);
  QCOMPARE(res.matched, static_cast<long long>(keys));
  QCOMPARE(res.deleted, static_cast<long long>(keys));
  long long perNode = 0;
  for (const auto& n : res.nodes) perNode += n.deleted;
  QCOMPARE(perNode, res.deleted);
  QCOMPARE(res.nodes.size(), std::size_t(3));
}

QTEST_GUILESS_MAIN(TestDistributedCore)
#include "tst_distributed_core.moc"
