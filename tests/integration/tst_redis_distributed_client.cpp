// RedisClient as a Redis Cluster and Redis Sentinel client (issue 6), against
// the harness's real 3+3 cluster and 1+1+3 Sentinel group: hash slots agree
// with CLUSTER KEYSLOT, every key lands on the node owning its slot, pipelines
// spanning nodes come back in order, multi-slot UNLINK is split and counted,
// scripts run on their key's node, SCAN walks every master, MOVED/ASK are
// followed through a live reshard with no failed call, and the client follows
// a cluster failover and a Sentinel failover (times reported).
// TIER_TEST_LABELS: distributed;reliability
// TIER_TEST_TIMEOUT: 900
// TIER_TEST_RUN_SERIAL
#include <QElapsedTimer>
#include <QtTest>
#include <atomic>
#include <set>
#include <thread>

#include "distributed.h"
#include "reliability_report.h"
#include "tier/common/error.h"
#include "tier/redis/redis_client.h"
#include "tier/cache/backplane.h"

using namespace tier::test;
using namespace std::chrono_literals;
using tier::redis::Command;
using tier::redis::RedisClient;
using tier::redis::RedisMode;
using tier::redis::Reply;

namespace {

tier::redis::RedisOptions options(const std::string& url) {
  tier::redis::RedisOptions o;
  o.url = tier::redis::RedisUrl::parse(url);
  o.connect_timeout = 250ms;
  o.command_timeout = 1000ms;
  o.pool_size = 4;
  return o;
}

std::string key(int i) {
  return "entry:v1:" + std::to_string(i);
}

// How client.get(key) failed: its error kind and message (Internal and
// "did not fail" if it answered).
std::pair<tier::ErrorKind, std::string> getFailure(RedisClient& client, const std::string& key) {
  try {
    client.get(key);
  } catch (const tier::Error& e) {
    return {e.kind(), e.what()};
  }
  return {tier::ErrorKind::Internal, "did not fail"};
}

int portOf(const std::string& address) {
  return std::stoi(address.substr(address.rfind(':') + 1));
}

}  // namespace

class TestRedisDistributedClient : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void clusterRouting();
  void clusterAskDuringMigration();
  void clusterReshardUnderLoad();
  void clusterFailover();
  void sentinel();
};

void TestRedisDistributedClient::clusterRouting() {
  TestRedisCluster cluster;
  RedisClient client(options(cluster.seedUrl()));
  QCOMPARE(client.mode(), RedisMode::Cluster);

  const auto masters = client.masters();
  QCOMPARE(masters.size(), std::size_t(3));

  // Our CRC16 agrees with the server's CLUSTER KEYSLOT.
  std::vector<Command> keyslots;
  std::vector<std::string> samples{"", "{", "{}", "a{b}c", "{user1000}.following", "foo{{bar}}zap", "tc:nsgen:{entry}"};
  for (int i = 0; i < 300; ++i) samples.push_back(key(i) + (i % 7 == 0 ? "{t" + std::to_string(i % 3) + "}" : ""));
  for (const auto& s : samples) keyslots.push_back({"CLUSTER", "KEYSLOT", s});
  const auto slots = client.pipelineOn(masters[0], keyslots);
  for (std::size_t i = 0; i < samples.size(); ++i)
    QVERIFY2(slots[i].integer == RedisClient::keySlot(samples[i]), samples[i].c_str());

  // 500 keys through the client; each is on the master that owns its slot (GET
  // without redirection on that node finds it).
  std::vector<Command> sets;
  for (int i = 0; i < 500; ++i) sets.push_back({"SET", key(i), "v" + std::to_string(i)});
  for (const auto& r : client.pipeline(sets)) QCOMPARE(r.str, std::string("OK"));
  const auto topo = client.topology(true);
  QCOMPARE(topo.size(), std::size_t(6));
  int slotTotal = 0, up = 0;
  long long keysOnMasters = 0;
  for (const auto& n : topo) {
    up += n.up ? 1 : 0;
    if (n.role == "master") {
      slotTotal += n.slot_count;
      keysOnMasters += n.keys;
    } else {
      QVERIFY(!n.master.empty());
    }
  }
  QCOMPARE(slotTotal, 16384);
  QCOMPARE(up, 6);
  QCOMPARE(keysOnMasters, 500LL);
  for (int i = 0; i < 500; i += 37) {
    const int slot = RedisClient::keySlot(key(i));
    std::string owner;
    for (const auto& n : topo)
      for (auto [a, b] : n.slots)
        if (slot >= a && slot <= b) owner = n.address;
    QVERIFY(!owner.empty());
    const auto direct = client.pipelineOn(owner, {{"GET", key(i)}});
    QCOMPARE(direct[0].str, "v" + std::to_string(i));
  }

  // A pipeline over all three masters comes back in order.
  std::vector<Command> gets;
  for (int i = 499; i >= 0; --i) gets.push_back({"GET", key(i)});
  gets.push_back({"PING"});
  const auto got = client.pipeline(gets);
  for (int i = 0; i < 500; ++i) QCOMPARE(got[static_cast<std::size_t>(i)].str, "v" + std::to_string(499 - i));
  QCOMPARE(got.back().str, std::string("PONG"));

  // One command's keys over many slots: split, counts summed.
  Command exists{"EXISTS"};
  for (int i = 0; i < 100; ++i) exists.push_back(key(i));
  exists.push_back("absent:v1:1");
  QCOMPARE(client.command(exists).integer, 100LL);
  std::vector<std::string> doomed;
  for (int i = 0; i < 100; ++i) doomed.push_back(key(i));
  QCOMPARE(client.unlink(doomed), 100LL);
  QCOMPARE(client.unlink(doomed), 0LL);

  // Scripts run on their key's node (EVAL, then EVALSHA from each node's cache).
  for (int round = 0; round < 2; ++round)
    for (int i = 100; i < 130; ++i) {
      const auto r = client.command({"EVAL", "return redis.call('GET', KEYS[1])", "1", key(i)});
      QCOMPARE(r.str, "v" + std::to_string(i));
    }

  // SCAN over every master: the composite cursor and per node.
  std::set<std::string> seen;
  std::string cursor = "0";
  do {
    auto page = client.scan(cursor, "entry:v1:*", 100);
    for (auto& k : page.keys) seen.insert(k);
    cursor = page.cursor;
  } while (cursor != "0");
  QCOMPARE(seen.size(), std::size_t(400));
  // The composite cursor names its node: garbage is bad input, a node that is
  // not (or no longer) a master says so instead of walking another node's keys.
  QVERIFY_THROWS_EXCEPTION(tier::BadInputError, client.scan("17", "*", 10));
  try {
    client.scan("42@127.0.0.1:1", "*", 10);
    QFAIL("a cursor of a node that is not a master must be refused");
  } catch (const tier::Error& e) {
    QVERIFY(e.kind() == tier::ErrorKind::Connection);
    QVERIFY2(std::string(e.what()).find("no longer a master") != std::string::npos, e.what());
  }
  std::size_t perNode = 0;
  for (const auto& m : masters) {
    std::string c = "0";
    do {
      auto page = client.scanNode(m, c, "entry:v1:*", 100);
      perNode += page.keys.size();
      c = page.cursor;
    } while (c != "0");
  }
  QCOMPARE(perNode, std::size_t(400));

  // replica_reads=1: inspection reads (ReadFrom::Replica) are served by
  // replicas (READONLY), with the same values; every other read (the cache's
  // own GETs, whose copies fill L1) still goes to the masters.
  for (const auto& m : masters) client.pipelineOn(m, {{"WAIT", "1", "2000"}});
  auto replicaGets = [&] {
    long long n = 0;
    for (const auto& node : client.topology(false))
      if (node.role == "replica") {
        const auto info = client.pipelineOn(node.address, {{"INFO", "commandstats"}})[0].str;
        const auto at = info.find("cmdstat_get:calls=");
        if (at != std::string::npos) n += std::stoll(info.substr(at + 18));
      }
    return n;
  };
  const long long replicaGetsBefore = replicaGets();
  {
    RedisClient readers(options(cluster.seedUrl() + "?replica_reads=1"));
    for (int i = 100; i < 400; ++i) QCOMPARE(*readers.get(key(i)), "v" + std::to_string(i));
    QCOMPARE(replicaGets() - replicaGetsBefore, 0LL);
    for (int i = 100; i < 400; ++i)
      QCOMPARE(*readers.get(key(i), tier::redis::ReadFrom::Replica), "v" + std::to_string(i));
    std::vector<Command> peeks;
    for (int i = 100; i < 150; ++i) peeks.push_back({"GET", key(i)});
    const auto peeked = readers.pipeline(peeks, tier::redis::ReadFrom::Replica);
    for (int i = 100; i < 150; ++i) QCOMPARE(peeked[static_cast<std::size_t>(i - 100)].str, "v" + std::to_string(i));
  }
  QCOMPARE(replicaGets() - replicaGetsBefore, 350LL);

  // A stale map: MOVED is followed. A second client learns the map, then 200
  // slots move; its GETs still answer (map updated on the redirect).
  RedisClient stale(options(cluster.seedUrl()));
  RedisClient stalePipeline(options(cluster.seedUrl()));
  QVERIFY(stale.get(key(200)).has_value());
  QVERIFY(stalePipeline.get(key(200)).has_value());
  const auto before = stale.topology(false);
  const auto ms = cluster.masters();
  cluster.reshard(ms[0].port, ms[1].port, 200);
  RedisClient fresh(options(cluster.seedUrl()));
  const auto after = fresh.topology(false);
  int movedKeys = 0;
  for (int i = 100; i < 500; ++i) movedKeys += slotOwner(before, key(i)) != slotOwner(after, key(i)) ? 1 : 0;
  QVERIFY(movedKeys > 0);  // the stale clients meet MOVED for these
  for (int i = 100; i < 500; ++i) QCOMPARE(*stale.get(key(i)), "v" + std::to_string(i));
  // ...and inside a pipeline: the redirected commands are retried, the order kept.
  std::vector<Command> again;
  for (int i = 100; i < 500; ++i) again.push_back({"GET", key(i)});
  const auto replies = stalePipeline.pipeline(again);
  for (int i = 100; i < 500; ++i) QCOMPARE(replies[static_cast<std::size_t>(i - 100)].str, "v" + std::to_string(i));
}

// A slot half-way through a migration (MIGRATING on its owner, IMPORTING on
// the target): keys not on the owner answer ASK, which the client follows with
// ASKING on the target, for single commands and inside a pipeline.
void TestRedisDistributedClient::clusterAskDuringMigration() {
  TestRedisCluster cluster;
  RedisClient client(options(cluster.seedUrl()));
  const std::string k1 = "ask:{migrating}:1", k2 = "ask:{migrating}:2";
  const int slot = RedisClient::keySlot(k1);
  QCOMPARE(RedisClient::keySlot(k2), slot);
  std::string ownerAddr, ownerId, targetAddr, targetId;
  for (const auto& n : client.topology(false)) {
    if (n.role != "master") continue;
    bool owns = false;
    for (auto [a, b] : n.slots) owns = owns || (slot >= a && slot <= b);
    if (owns) {
      ownerAddr = n.address;
      ownerId = n.id;
    } else if (targetId.empty()) {
      targetAddr = n.address;
      targetId = n.id;
    }
  }
  QVERIFY(!ownerId.empty() && !targetId.empty());
  const std::string slotText = std::to_string(slot);
  QCOMPARE(client.pipelineOn(targetAddr, {{"CLUSTER", "SETSLOT", slotText, "IMPORTING", ownerId}})[0].str,
           std::string("OK"));
  QCOMPARE(client.pipelineOn(ownerAddr, {{"CLUSTER", "SETSLOT", slotText, "MIGRATING", targetId}})[0].str,
           std::string("OK"));
  // The owner does not hold these keys: it answers ASK; the writes land on the target.
  QCOMPARE(client.pipelineOn(ownerAddr, {{"GET", k1}})[0].str.substr(0, 4), std::string("ASK "));
  client.set(k1, "one", 0ms);
  const auto replies = client.pipeline({{"SET", k2, "two"}, {"GET", k1}, {"GET", k2}, {"PING"}});
  QCOMPARE(replies[0].str, std::string("OK"));
  QCOMPARE(replies[1].str, std::string("one"));
  QCOMPARE(replies[2].str, std::string("two"));
  QCOMPARE(*client.get(k1), std::string("one"));
  // They are on the target only (ASKING + GET there; nothing on the owner).
  const auto onTarget = client.pipelineOn(targetAddr, {{"ASKING"}, {"GET", k1}});
  QCOMPARE(onTarget[1].str, std::string("one"));
  QCOMPARE(client.pipelineOn(ownerAddr, {{"EXISTS", k1}})[0].str.substr(0, 4), std::string("ASK "));
  // A script the target forgot (SCRIPT FLUSH): the client's EVALSHA after
  // ASKING answers NOSCRIPT, and its EVAL retry carries ASKING too, so the
  // target runs it at once (a bare EVAL would be refused with MOVED there).
  const tier::redis::Command script{"EVAL", "return redis.call('GET', KEYS[1])", "1", k1};
  QCOMPARE(client.command(script).str, std::string("one"));  // cached: EVALSHA from now on
  client.pipelineOn(targetAddr, {{"SCRIPT", "FLUSH"}, {"CONFIG", "RESETSTAT"}});
  QCOMPARE(client.command(script).str, std::string("one"));
  const auto stats = client.pipelineOn(targetAddr, {{"INFO", "commandstats"}})[0].str;
  const auto evalAt = stats.find("cmdstat_eval:");
  QVERIFY2(evalAt != std::string::npos, stats.c_str());
  const std::string evalLine = stats.substr(evalAt, stats.find('\n', evalAt) - evalAt);
  qInfo("target after the NOSCRIPT retry: %s", evalLine.c_str());
  QVERIFY2(evalLine.find("rejected_calls=0") != std::string::npos, evalLine.c_str());
  // Finish the migration: the slot is the target's; the client follows MOVED.
  for (const auto& m : client.masters())
    QCOMPARE(client.pipelineOn(m, {{"CLUSTER", "SETSLOT", slotText, "NODE", targetId}})[0].str, std::string("OK"));
  QCOMPARE(*client.get(k2), std::string("two"));
  QCOMPARE(client.unlink({k1, k2}), 2LL);
}

void TestRedisDistributedClient::clusterReshardUnderLoad() {
  TestRedisCluster cluster;
  RedisClient client(options(cluster.seedUrl()));
  std::vector<Command> sets;
  for (int i = 0; i < 2000; ++i) sets.push_back({"SET", key(i), "v" + std::to_string(i)});
  client.pipeline(sets);

  std::atomic<bool> stop{false};
  std::atomic<long long> reads{0}, failed{0}, wrong{0};
  std::thread reader([&] {
    int i = 0;
    while (!stop.load()) {
      const int k = i++ % 2000;
      try {
        auto v = client.get(key(k));
        if (!v || *v != "v" + std::to_string(k)) ++wrong;
      } catch (const tier::Error& e) {
        qWarning("read failed during reshard: %s", e.what());
        ++failed;
      }
      ++reads;
    }
  });
  const auto ms = cluster.masters();
  QElapsedTimer t;
  t.start();
  cluster.reshard(ms[0].port, ms[2].port, 1000);
  const auto reshardMs = t.elapsed();
  stop = true;
  reader.join();
  qInfo("reshard of 1000 slots took %lld ms; %lld reads, %lld failed, %lld wrong", static_cast<long long>(reshardMs),
        reads.load(), failed.load(), wrong.load());
  QVERIFY(reads.load() > 100);
  reportFigure({QStringLiteral("Redis Cluster: 1000 slots resharded under reads (redis-cli --cluster reshard)"),
                QStringLiteral("failed reads (of %1)").arg(reads.load()), QString::number(failed.load() + wrong.load()),
                QStringLiteral("0"), failed.load() + wrong.load() == 0,
                QStringLiteral("ctest -R tst_redis_distributed_client")});
  QCOMPARE(failed.load(), 0LL);
  QCOMPARE(wrong.load(), 0LL);
}

void TestRedisDistributedClient::clusterFailover() {
  TestRedisCluster cluster;
  RedisClient client(options(cluster.seedUrl()));
  std::vector<Command> sets;
  for (int i = 0; i < 300; ++i) sets.push_back({"SET", key(i), "v" + std::to_string(i)});
  client.pipeline(sets);
  // Replicas have the keys before the kill (WAIT on each master).
  for (const auto& m : client.masters()) client.pipelineOn(m, {{"WAIT", "1", "2000"}});

  // Kill the master that owns key(0)'s slot.
  const std::string victim = slotOwner(client.topology(false), key(0));
  QVERIFY(!victim.empty());
  QElapsedTimer t;
  t.start();
  cluster.kill(portOf(victim));
  // Keys on the other masters keep answering at once; key(0) answers again once
  // a replica is promoted and the client has followed.
  long long failedOthers = 0, otherReads = 0;
  qint64 followedMs = -1;
  while (t.elapsed() < 90000) {
    for (int i = 1; i < 300; i += 7) {
      if (RedisClient::keySlot(key(i)) >= 0) {
        std::string owner;
        try {
          auto v = client.get(key(i));
          ++otherReads;
          if (!v || *v != "v" + std::to_string(i)) ++failedOthers;
        } catch (const tier::Error&) {
          // keys of the killed master's slots fail until the promotion: counted below
        }
      }
    }
    try {
      auto v = client.get(key(0));
      if (v && *v == "v0") {
        followedMs = t.elapsed();
        break;
      }
    } catch (const tier::Error&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  qInfo("cluster master %s killed: key(0) readable again after %lld ms; %s", victim.c_str(),
        static_cast<long long>(followedMs), cluster.describe().c_str());
  QVERIFY2(followedMs >= 0, cluster.describe().c_str());
  // No stale or wrong value from anyone, and every key is readable after the promotion.
  QCOMPARE(failedOthers, 0LL);
  for (int i = 0; i < 300; ++i) QCOMPARE(*client.get(key(i)), "v" + std::to_string(i));
  bool victimIsMaster = false;
  for (const auto& m : client.masters()) victimIsMaster = victimIsMaster || m == victim;
  QVERIFY(!victimIsMaster);
  reportFigure({QStringLiteral("Redis Cluster: a master killed (SIGKILL), cluster-node-timeout 5 s"),
                QStringLiteral("time until the client reads the killed master's keys from the promoted replica"),
                QStringLiteral("%1 s").arg(followedMs / 1000.0, 0, 'f', 1), QStringLiteral("≤ 90 s"),
                followedMs <= 90000, QStringLiteral("ctest -R tst_redis_distributed_client")});
}

void TestRedisDistributedClient::sentinel() {
  TestRedisSentinel group;
  RedisClient client(options(group.url()));
  QCOMPARE(client.mode(), RedisMode::Sentinel);
  const int firstMaster = group.currentMasterPort();
  QCOMPARE(portOf(client.currentMaster()), firstMaster);
  client.set("entry:v1:1", "one", 0ms);
  QCOMPARE(*client.get("entry:v1:1"), std::string("one"));

  const auto topo = client.topology(true);
  int sentinels = 0, replicas = 0, masters = 0;
  for (const auto& n : topo) {
    sentinels += n.role == "sentinel" && n.up ? 1 : 0;
    replicas += n.role == "replica" ? 1 : 0;
    masters += n.role == "master" && n.up ? 1 : 0;
  }
  QCOMPARE(masters, 1);
  QCOMPARE(replicas, 1);
  QCOMPARE(sentinels, 3);
  client.pipelineOn(client.currentMaster(), {{"WAIT", "1", "2000"}});

  // Sentinel credentials go to the sentinels only; a refusal is one line
  // without the password, and no master is guessed.
  {
    RedisClient wrong(options(group.url() + "?sentinel_password=not-the-s3cret"));
    const auto [kind, msg] = getFailure(wrong, "entry:v1:1");
    qInfo("wrong sentinel password: %s", msg.c_str());
    QVERIFY2(kind == tier::ErrorKind::Permission, msg.c_str());
    QVERIFY(msg.find("not-the-s3cret") == std::string::npos);
    QVERIFY(msg.find("Sentinel") != std::string::npos);
    QVERIFY(msg.find('\n') == std::string::npos);
  }

  // A sentinel's answer can be out of date (here: the sentinels monitor the
  // replica under a second name, as they would name a demoted master for a
  // moment). ROLE on every new connection refuses it: reads must not be served
  // by a replica and writes must not go there; the backplane does not
  // subscribe or PUBLISH there either.
  {
    const int replicaPort = group.dataPorts()[0] == firstMaster ? group.dataPorts()[1] : group.dataPorts()[0];
    for (int sp : group.sentinelPorts()) {
      const auto said = group.cli(sp, "SENTINEL MONITOR tierwrong 127.0.0.1 " + std::to_string(replicaPort) + " 2");
      QVERIFY2(said.rfind("OK", 0) == 0, said.c_str());
    }
    std::string url = group.url();
    url.replace(url.rfind("/tiermaster"), std::string("/tiermaster").size(), "/tierwrong");
    {
      RedisClient misled(options(url));
      QCOMPARE(portOf(misled.currentMaster()), replicaPort);
      for (int attempt = 0; attempt < 2; ++attempt) {
        // A node answering ROLE as a replica must not serve the master's reads.
        const auto [kind, msg] = getFailure(misled, "entry:v1:1");
        qInfo("out-of-date sentinel answer: %s", msg.c_str());
        QVERIFY2(kind == tier::ErrorKind::Connection, msg.c_str());
        QVERIFY2(msg.find("is not a master (ROLE: slave)") != std::string::npos ||
                     msg.find("circuit open") != std::string::npos,
                 msg.c_str());
      }
      tier::cache::BackplaneOptions bo;
      bo.enabled = true;
      tier::cache::Backplane bp(&misled, bo, {[](const tier::cache::Invalidation&) {}, [] {}});
      QVERIFY(!bp.l1Usable());
      QVERIFY(!bp.linked());
      const auto st = bp.stats();
      QVERIFY2(st.last_error.find("is not a master (ROLE: slave)") != std::string::npos, st.last_error.c_str());
    }
    for (int sp : group.sentinelPorts()) {
      const auto said = group.cli(sp, "SENTINEL REMOVE tierwrong");
      QVERIFY2(said.rfind("OK", 0) == 0, said.c_str());
    }
  }

  // Failover under writes: the client follows the new master.
  std::atomic<bool> stop{false};
  std::atomic<long long> ok{0}, failed{0};
  QElapsedTimer t;
  std::atomic<bool> killed{false};
  std::atomic<long long> firstOkAfterKillMs{-1};
  std::thread writer([&] {
    int i = 0;
    while (!stop.load()) {
      try {
        client.set("entry:v1:w", std::to_string(i++), 0ms);
        ++ok;
        if (killed.load() && firstOkAfterKillMs.load() < 0) firstOkAfterKillMs = t.elapsed();
      } catch (const tier::Error&) {
        ++failed;
        std::this_thread::sleep_for(20ms);
      }
    }
  });
  std::this_thread::sleep_for(300ms);
  t.start();
  const int old = group.killMaster();  // returns once the process is gone: later writes can only reach a new master
  killed = true;
  const int now = group.waitForFailover(old, 60s);
  const auto failoverMs = t.elapsed();
  QVERIFY(now != 0);
  while (firstOkAfterKillMs.load() < 0 && t.elapsed() < 90000) std::this_thread::sleep_for(20ms);
  stop = true;
  writer.join();
  qInfo(
      "sentinel failover %d -> %d: sentinels agreed after %lld ms, client wrote again after %lld ms (%lld ok, %lld "
      "failed)",
      old, now, static_cast<long long>(failoverMs), firstOkAfterKillMs.load(), ok.load(), failed.load());
  QVERIFY(firstOkAfterKillMs.load() >= 0);
  QCOMPARE(portOf(client.currentMaster()), now);
  QCOMPARE(*client.get("entry:v1:1"), std::string("one"));
  reportFigure({QStringLiteral("Redis Sentinel: master killed (SIGKILL) under writes, down-after 1 s"),
                QStringLiteral("time until the client writes to the new master"),
                QStringLiteral("%1 s").arg(firstOkAfterKillMs.load() / 1000.0, 0, 'f', 1), QStringLiteral("≤ 90 s"),
                true, QStringLiteral("ctest -R tst_redis_distributed_client")});
}

QTEST_GUILESS_MAIN(TestRedisDistributedClient)
#include "tst_redis_distributed_client.moc"
