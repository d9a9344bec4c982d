// The core's promise of no stale read after an acknowledged write from this
// instance, under the interleavings and faults that used to break it.
// TIER_TEST_LABELS: concurrency;reliability
#include <QTest>

#include <csignal>
#include <condition_variable>
#include <thread>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "reliability_report.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/l1/l1_cache.h"
#include "tier/redis/redis_client.h"
#include "tier/cache/tiered_cache.h"

using namespace tier;
using namespace std::chrono_literals;

namespace {

// A gate a loader waits at until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, open = false;
  void enterAndWait() {
    std::unique_lock lk(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lk, [&] { return open; });
  }
  void waitEntered() {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return entered; });
  }
  void release() {
    std::lock_guard lk(mu);
    open = true;
    cv.notify_all();
  }
};

// SIGSTOPs a server for its lifetime: whatever happens, it continues after.
struct Paused {
  sandbox::RedisServerProcess& p;
  explicit Paused(sandbox::RedisServerProcess& proc) : p(proc) { p.signal(SIGSTOP); }
  ~Paused() { p.signal(SIGCONT); }
};

// A TieredCache of its own (no backplane) on the test's Redis.
struct Rig {
  l1::L1Cache l1;
  redis::RedisClient rc;
  cache::TieredCache cache;
  explicit Rig(const redis::RedisOptions& ro, metrics::Metrics* m = nullptr)
      : rc(ro), cache(&l1, &rc, m, CachePolicies{}) {}
};

std::string payloadOf(const cache::CacheRead& r) { return r.value ? r.value->payload : std::string("<none>"); }

}  // namespace

class TestConsistency : public QObject {
  Q_OBJECT
  std::unique_ptr<test::TestRedis> redis;  // our own: these tests stop and start it

  redis::RedisOptions redisOptions() const {
    redis::RedisOptions ro;
    ro.url = redis::RedisUrl::parse(redis->url());
    return ro;
  }

  CoreConfig config() {
    auto c = test::coreConfig("consistency");
    c.redis_url = redis->url();
    c.redis.command_timeout = 100ms;
    c.redis.breaker_open = 300ms;
    return c;
  }

 private Q_SLOTS:
  void initTestCase() {
    test::seededServers();
    redis = std::make_unique<test::TestRedis>();
  }
  void init() { redis->cli("FLUSHALL"); }
  void cleanupTestCase() { redis.reset(); }

  void readerArrivingAfterAnInvalidationDoesNotJoinAnOlderLoad() {
    Rig rig(redisOptions());
    auto& [l1, rc, cache] = rig;
    const std::string key = codec::entryKey(424242);
    Gate gate;
    cache::CacheRead first;
    std::thread slow([&] {
      first = cache.read(codec::Namespace::Entry, key, [&]() -> std::optional<cache::Loaded> {
        gate.enterAndWait();
        return cache::Loaded{R"({"v":1})", 1};
      });
    });
    gate.waitEntered();
    // The row changes (v2) and the key is invalidated while the v1 load is in flight.
    cache.invalidate(key);
    auto second = cache.read(codec::Namespace::Entry, key,
                             []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":2})", 2}; });
    QCOMPARE(payloadOf(second), std::string(R"({"v":2})"));
    gate.release();
    slow.join();
    QCOMPARE(payloadOf(first), std::string(R"({"v":1})"));  // it started before: fine
    // ...but its v1 must not have been stored over v2, in L1 or L2.
    auto third = cache.read(codec::Namespace::Entry, key,
                            []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":3})", 3}; });
    QCOMPARE(payloadOf(third), std::string(R"({"v":2})"));
    l1.clear();
    auto fourth = cache.read(codec::Namespace::Entry, key,
                             []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":3})", 3}; });
    QCOMPARE(fourth.source, cache::Source::L2);
    QCOMPARE(payloadOf(fourth), std::string(R"({"v":2})"));
  }

  // The stale-set race, forced 20 times: a reader loads v1 from L3, the row
  // changes to v2 and is written through, then the reader's fill runs. The
  // cache must end with v2 (L1 and L2) and the next read return v2.
  void staleSetRaceForced() {
    Rig rig(redisOptions());
    auto& [l1, rc, cache] = rig;
    const int kRounds = 20;
    int stale = 0;
    for (int i = 0; i < kRounds; ++i) {
      const std::string key = codec::entryKey(440000 + i);
      Gate gate;
      cache::CacheRead first;
      std::thread reader([&] {
        first = cache.read(codec::Namespace::Entry, key, [&]() -> std::optional<cache::Loaded> {
          gate.enterAndWait();  // v1 is loaded; the fill has not run yet
          return cache::Loaded{R"({"v":1})", 1};
        });
      });
      gate.waitEntered();
      cache.writeThrough(codec::Namespace::Entry, key, R"({"v":2})", 2);  // the writer's commit, acknowledged
      gate.release();
      reader.join();
      QCOMPARE(payloadOf(first), std::string(R"({"v":1})"));  // it asked before the write
      auto none = []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":3})", 3}; };
      const auto inL1 = cache.peekL1(key);
      const auto inL2 = cache.peekL2(codec::Namespace::Entry, key);
      const auto next = cache.read(codec::Namespace::Entry, key, none);
      l1.clear();
      const auto viaL2 = cache.read(codec::Namespace::Entry, key, none);
      const bool ok = (!inL1 || inL1->entity_version == 2) && inL2.value && inL2.value->entity_version == 2 &&
                      payloadOf(next) == R"({"v":2})" && payloadOf(viaL2) == R"({"v":2})" &&
                      viaL2.source == cache::Source::L2;
      if (!ok) ++stale;
    }
    test::reportFigure({QStringLiteral("Stale-set race forced (reader loads v1, writer commits v2 and writes through, "
                                       "then the fill; %1 rounds)").arg(kRounds),
                        QStringLiteral("stale values cached (L1 or L2 left at v1, or a later read returning v1)"),
                        QString::number(stale), QStringLiteral("0"), stale == 0,
                        QStringLiteral("ctest --test-dir build -R tst_consistency")});
    QCOMPARE(stale, 0);
  }

  // The writer's own L2 window: its L2 SET is on the wire (held here by
  // CLIENT PAUSE WRITE; reads still run), a peer's invalidation drops the L1
  // copy and a reader fills L1 again from L2, which still holds v1. Once the
  // write is acknowledged, a read must not return v1 (it used to, from L1,
  // until the copy expired: seen on a cluster under ASan).
  void fillFromOldL2DuringTheWritersSet() {
    auto ro = redisOptions();
    ro.command_timeout = 5000ms;  // outlasts the CLIENT PAUSE below
    Rig rig(ro);
    auto& [l1, rc, cache] = rig;
    const std::string key = codec::entryKey(460001);
    auto l3 = []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":2})", 2}; };
    cache.writeThrough(codec::Namespace::Entry, key, R"({"v":1})", 1);
    QCOMPARE(payloadOf(cache.read(codec::Namespace::Entry, key, l3)), std::string(R"({"v":1})"));
    QCOMPARE(redis->cli("CLIENT PAUSE 700 WRITE").substr(0, 2), std::string("OK"));
    std::thread writer([&] { cache.writeThrough(codec::Namespace::Entry, key, R"({"v":2})", 2); });
    std::this_thread::sleep_for(100ms);  // the writer is in its SET (or the pause ended: QSKIP below)
    cache.invalidateLocal(key);  // e.g. a peer's message about its own, older write
    const auto during = cache.read(codec::Namespace::Entry, key, l3);
    writer.join();  // acknowledged once the pause is over
    const bool interleaved = during.source == cache::Source::L2 && payloadOf(during) == R"({"v":1})";
    if (!interleaved) QSKIP("the reader did not meet the old L2 copy (the pause ended first): nothing to check");
    const auto after = cache.read(codec::Namespace::Entry, key, l3);
    qInfo("after the acknowledged write: %s from %s", payloadOf(after).c_str(), cache::toString(after.source));
    QCOMPARE(payloadOf(after), std::string(R"({"v":2})"));
  }

  // invalidate()'s own L2 window: its UNLINK is held (CLIENT PAUSE WRITE), and a
  // reader meanwhile fills L1 from the L2 copy the UNLINK is about to remove,
  // with an epoch taken after the invalidation began. Once invalidate()
  // returns, no read may be served that copy (settleWrite drops it).
  void fillDuringTheInvalidatorsUnlinkIsDropped() {
    auto ro = redisOptions();
    ro.command_timeout = 5000ms;  // outlasts the CLIENT PAUSE below
    Rig rig(ro);
    auto& [l1, rc, cache] = rig;
    const std::string key = codec::entryKey(460004);
    auto l3 = []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":2})", 2}; };
    cache.writeThrough(codec::Namespace::Entry, key, R"({"v":1})", 1);
    QCOMPARE(redis->cli("CLIENT PAUSE 700 WRITE").substr(0, 2), std::string("OK"));
    std::thread invalidator([&] { cache.invalidate(key); });
    std::this_thread::sleep_for(100ms);  // invalidate() has dropped L1 and waits on its UNLINK
    const auto during = cache.read(codec::Namespace::Entry, key, l3);
    const auto inL1During = cache.peekL1(key);
    invalidator.join();
    if (during.source != cache::Source::L2 || !inL1During)
      QSKIP("the reader did not refill L1 from the old L2 copy (the pause ended first): nothing to check");
    QVERIFY(!cache.peekL1(key));
    const auto after = cache.read(codec::Namespace::Entry, key, l3);
    qInfo("during the UNLINK: %s from %s; after invalidate(): %s from %s", payloadOf(during).c_str(),
          cache::toString(during.source), payloadOf(after).c_str(), cache::toString(after.source));
    QCOMPARE(payloadOf(after), std::string(R"({"v":2})"));
    QCOMPARE(after.source, cache::Source::L3);
  }

  // Monotonic reads while the writer's L2 SET is on the wire (held by CLIENT
  // PAUSE WRITE): peers' invalidations keep dropping L1 and reads keep going
  // to L2, which still holds v1. The instance's reads must never return v2 and
  // then v1 again. They did when the writer put v2 in L1 before its SET: a read
  // met v2 there, the next one (after the drop) v1 in L2. Seen on a Redis
  // Cluster under ASan (tst_distributed_coherence).
  void readsNeverGoBackDuringTheWritersSet() {
    auto ro = redisOptions();
    ro.command_timeout = 5000ms;  // outlasts the CLIENT PAUSE below
    Rig rig(ro);
    auto& [l1, rc, cache] = rig;
    const std::string key = codec::entryKey(460002);
    auto l3 = []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":2})", 2}; };
    cache.writeThrough(codec::Namespace::Entry, key, R"({"v":1})", 1);
    QCOMPARE(redis->cli("CLIENT PAUSE 700 WRITE").substr(0, 2), std::string("OK"));
    std::thread writer([&] { cache.writeThrough(codec::Namespace::Entry, key, R"({"v":2})", 2); });
    std::vector<std::string> seen;
    const auto until = std::chrono::steady_clock::now() + 400ms;
    while (std::chrono::steady_clock::now() < until) {
      seen.push_back(payloadOf(cache.read(codec::Namespace::Entry, key, l3)));
      cache.invalidateLocal(key);  // a peer's message about its own, older write
      seen.push_back(payloadOf(cache.read(codec::Namespace::Entry, key, l3)));
      std::this_thread::sleep_for(2ms);
    }
    writer.join();
    seen.push_back(payloadOf(cache.read(codec::Namespace::Entry, key, l3)));
    int wentBack = 0;
    for (std::size_t i = 1; i < seen.size(); ++i)
      if (seen[i] < seen[i - 1]) ++wentBack;  // {"v":1} < {"v":2}
    qInfo("%zu reads during and after the SET, %d went back", seen.size(), wentBack);
    QVERIFY(seen.size() > 20);
    QCOMPARE(wentBack, 0);
    QCOMPARE(seen.back(), std::string(R"({"v":2})"));
  }

  // A fill made moot by an invalidation still returned v3 to its caller; a
  // late write-through of the older v2 (committed before v3, its thread slow)
  // must not put v2 where the next read finds it, in L1 or as a trusted L2 copy.
  void lateOlderWriteAfterANewerReadIsNotServed() {
    Rig rig(redisOptions());
    auto& [l1, rc, cache] = rig;
    const std::string key = codec::entryKey(460003);
    Gate gate;
    cache::CacheRead first;
    std::thread reader([&] {
      first = cache.read(codec::Namespace::Entry, key, [&]() -> std::optional<cache::Loaded> {
        gate.enterAndWait();
        return cache::Loaded{R"({"v":3})", 3};
      });
    });
    gate.waitEntered();
    cache.invalidateLocal(key);  // a peer's message: the load's fill is moot
    gate.release();
    reader.join();
    QCOMPARE(payloadOf(first), std::string(R"({"v":3})"));
    cache.writeThrough(codec::Namespace::Entry, key, R"({"v":2})", 2);
    QVERIFY(!cache.peekL1(key) || cache.peekL1(key)->entity_version >= 3);
    const auto next = cache.read(codec::Namespace::Entry, key, []() -> std::optional<cache::Loaded> {
      return cache::Loaded{R"({"v":3})", 3};
    });
    qInfo("after v3 was returned and v2 written through: %s from %s", payloadOf(next).c_str(),
          cache::toString(next.source));
    QCOMPARE(payloadOf(next), std::string(R"({"v":3})"));
  }

  // 100 concurrent misses on one key: the loader (the L3 query) runs once.
  // The loader holds until the 99 others have joined its flight, so every miss
  // overlaps; without single-flight each would run its own load.
  void hundredConcurrentMissesOneQuery() {
    auto ro = redisOptions();
    ro.pool_size = 16;
    metrics::Metrics m;
    Rig rig(ro, &m);
    auto& [l1, rc, cache] = rig;
    const std::string key = codec::entryKey(450001);
    const int kThreads = 100;
    std::atomic<int> loads{0}, ready{0}, ok{0};
    auto loader = [&]() -> std::optional<cache::Loaded> {
      loads.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (m.snapshot(0s).counter(metrics::Counter::SingleFlightShared) < kThreads - 1 &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
      return cache::Loaded{R"({"v":1})", 1};
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
      threads.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        if (payloadOf(cache.read(codec::Namespace::Entry, key, loader)) == R"({"v":1})") ok.fetch_add(1);
      });
    for (auto& t : threads) t.join();
    QCOMPARE(ok.load(), kThreads);
    test::reportFigure({QStringLiteral("100 concurrent misses on one key"), QStringLiteral("L3 queries (loader calls)"),
                        QString::number(loads.load()), QStringLiteral("1"), loads.load() == 1,
                        QStringLiteral("ctest --test-dir build -R tst_consistency")});
    QCOMPARE(loads.load(), 1);
  }

  void writeThroughThatMissedRedisIsRepaired() {
    TierCore core(config());
    auto e = core.entries().get(12).value.value();  // v_n in L1 and L2
    const auto key = codec::entryKey(12);
    QVERIFY(tier::internal::TierAccess::redis(core)->get(key));
    repo::Fetched<repo::JournalEntry> during;
    repo::JournalEntry updated;
    {
      Paused paused(redis->process());
      // Redis hangs: the write is acknowledged by PostgreSQL, L2 cannot be updated.
      updated = core.entries().update(12, repo::EntryDraft{"written during the outage", e.content, 2, e.tags});
      QVERIFY(core.cache().pendingRepairs() >= 1);
      tier::internal::TierAccess::l1(core).clear();
      during = core.entries().get(12);
    }
    QCOMPARE(during.value->version, updated.version);
    // Redis is back with the old copy still in it; L1 is empty: the old copy
    // must never be served, and the repair must remove it.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          tier::internal::TierAccess::l1(core).clear();
          auto r = core.entries().get(12);
          if (r.value->version != updated.version) qFatal("stale read after an acknowledged write");
          return core.cache().pendingRepairs() == 0;
        }(),
        5000);
    tier::internal::TierAccess::l1(core).clear();
    auto after = core.entries().get(12);
    QCOMPARE(after.value->title, std::string("written during the outage"));
  }

  // The repair is the cache's repairer thread's: once Redis answers, time alone
  // repairs the key (before, only a later read or write ran the repair).
  void repairNeedsNoRead() {
    TierCore core(config());
    auto e = core.entries().get(14).value.value();  // in L2 at its version
    const auto key = codec::entryKey(14);
    QCOMPARE(core.cache().peekL2(codec::Namespace::Entry, key).value->entity_version, e.version);
    repo::JournalEntry updated;
    {
      Paused paused(redis->process());
      updated = core.entries().update(14, repo::EntryDraft{"repaired without a read", e.content, 2, e.tags});
      QVERIFY(core.cache().pendingRepairs() >= 1);
    }
    // No read or write of the core from here on.
    QTRY_COMPARE_WITH_TIMEOUT(core.cache().pendingRepairs(), std::size_t{0}, 5000);
    // L2 no longer holds the old copy: a fence at the new version (or nothing).
    const auto peek = core.cache().peekL2(codec::Namespace::Entry, key);
    if (peek.present) {
      QVERIFY(peek.value);
      QCOMPARE(peek.value->entity_version, updated.version);
      QCOMPARE(peek.value->payload, std::string(codec::kFencePayload));
    }
  }

  // One key Redis refuses to repair (it holds a list: the fence's GETRANGE is
  // WRONGTYPE) stays remembered; the other keys of the same repair batch are
  // repaired all the same.
  void aRefusedRepairDoesNotHoldBackTheOthers() {
    TierCore core(config());
    auto e15 = core.entries().get(15).value.value();
    auto e16 = core.entries().get(16).value.value();
    const auto key15 = codec::entryKey(15), key16 = codec::entryKey(16);
    redis->cli("DEL " + key15);
    redis->cli("RPUSH " + key15 + " not-an-envelope");
    repo::JournalEntry updated16;
    {
      Paused paused(redis->process());
      core.entries().update(15, repo::EntryDraft{"refused repair", e15.content, 2, e15.tags});
      updated16 = core.entries().update(16, repo::EntryDraft{"repaired beside it", e16.content, 2, e16.tags});
      QVERIFY(core.cache().pendingRepairs() >= 2);
    }
    QTRY_COMPARE_WITH_TIMEOUT(core.cache().pendingRepairs(), std::size_t{1}, 5000);
    const auto peek = core.cache().peekL2(codec::Namespace::Entry, key16);
    if (peek.present) QCOMPARE(peek.value->entity_version, updated16.version);
    // Entry 15 is still served, from PostgreSQL, and its key stays remembered.
    tier::internal::TierAccess::l1(core).clear();
    QCOMPARE(core.entries().get(15).value->title, std::string("refused repair"));
    QTest::qWait(500);
    QCOMPARE(core.cache().pendingRepairs(), std::size_t{1});
    redis->cli("DEL " + key15);
  }

  void breakerClosesAgainWithoutHelp() {
    TierCore core(config());
    core.entries().get(13);
    {
      Paused paused(redis->process());
      // Reads keep being served (from L3); reconnect attempts back off and,
      // after a few timeouts, the breaker opens.
      QTRY_VERIFY_WITH_TIMEOUT(
          [&] {
            tier::internal::TierAccess::l1(core).clear();
            if (!core.entries().get(13).value) qFatal("read failed while Redis hung");
            return tier::internal::TierAccess::redis(core)->breakerState() != redis::BreakerState::Closed;
          }(),
          3000);
    }
    // Only reads — no ping, no health check — bring L2 back.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          tier::internal::TierAccess::l1(core).clear();
          return core.entries().get(13).source == cache::Source::L2;
        }(),
        5000);
    QCOMPARE(tier::internal::TierAccess::redis(core)->breakerState(), redis::BreakerState::Closed);
  }

  void lostGenerationCounterNeverRevivesOldCopies() {
    TierCore a(config());
    const auto slug = a.knowledge().allSlugs().front();
    QCOMPARE(a.knowledge().get(slug).source, cache::Source::L3);  // filled under generation g0
    a.cache().invalidateNamespace(codec::Namespace::Knowledge);      // g1: the copy is retired
    // The counter is lost (eviction, a careless DEL) and a new process starts.
    redis->cli("DEL tc:nsgen:knowledge");
    TierCore b(config());
    QVERIFY(b.knowledge().get(slug).source != cache::Source::L2);  // never the retired copy
    // A pattern never deletes the counters, even when any namespace is allowed.
    b.knowledge().get(slug);
    QVERIFY(!redis->cli("GET tc:nsgen:knowledge").empty());
  }
};

QTEST_GUILESS_MAIN(TestConsistency)
#include "tst_consistency.moc"
