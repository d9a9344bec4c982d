// Serve-stale in the read path (CachePolicies::max_stale) against real Redis:
// a copy past its TTL is served, marked and counted only when the loader (L3)
// is unreachable; other loader errors, an invalidated copy or max_stale 0 fail
// the read as before.
// TIER_TEST_ON_CLUSTER
#include <QTest>

#include <thread>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "tier/common/error.h"
#include "tier/l1/l1_cache.h"
#include "tier/metrics/metrics.h"
#include "tier/redis/redis_client.h"
#include "tier/cache/tiered_cache.h"

using namespace tier;
using namespace std::chrono_literals;
using codec::Namespace;
using cache::Loaded;
using cache::Source;

namespace {

CachePolicies shortTtl(std::chrono::seconds maxStale) {
  CachePolicies p;
  p.entry.ttl = 1s;
  p.entry.ttl_jitter = 0;
  p.l1_max_ttl = 1s;
  p.max_stale = maxStale;
  return p;
}

struct Rig {
  metrics::Metrics metrics;
  l1::L1Cache l1;
  redis::RedisClient redis;
  cache::TieredCache cache;
  explicit Rig(CachePolicies p) : redis(options(), &metrics), cache(&l1, &redis, &metrics, p) {}
  static redis::RedisOptions options() {
    redis::RedisOptions o;
    o.url = redis::RedisUrl::parse(test::redisUrl());
    return o;
  }
  std::uint64_t staleServed() { return metrics.snapshot(0s).counter(metrics::Counter::StaleServed); }
};

cache::TieredCache::Loader row(std::int64_t version) {
  return [version]() -> std::optional<Loaded> {
    return Loaded{"{\"v\":" + std::to_string(version) + "}", version};
  };
}
template <typename E>
cache::TieredCache::Loader failing() {
  return []() -> std::optional<Loaded> { throw E("database down"); };
}

void pastTtl() { std::this_thread::sleep_for(1300ms); }

}  // namespace

class TestServeStale : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() { test::flushRedis(); }

  void freshCopyNeedsNoDatabase() {
    Rig r(shortTtl(60s));
    QCOMPARE(r.cache.read(Namespace::Entry, "entry:1", row(3)).source, Source::L3);
    auto hit = r.cache.read(Namespace::Entry, "entry:1", failing<ConnectionError>());
    QCOMPARE(hit.source, Source::L1);
    QVERIFY(!hit.stale);
    QCOMPARE(r.staleServed(), 0u);
  }

  void expiredCopyServedWhenUnreachable() {
    Rig r(shortTtl(60s));
    r.cache.read(Namespace::Entry, "entry:2", row(5));
    pastTtl();
    auto s = r.cache.read(Namespace::Entry, "entry:2", failing<ConnectionError>());
    QVERIFY(s.stale);
    QVERIFY(s.value);
    QCOMPARE(s.value->entity_version, 5);
    QCOMPARE(s.source, Source::L1);  // L1 and L2 hold the same version: our own copy wins
    QCOMPARE(r.staleServed(), 1u);
    auto t = r.cache.read(Namespace::Entry, "entry:2", failing<TimeoutError>());
    QVERIFY(t.stale);
    QCOMPARE(r.staleServed(), 2u);
    // Another instance (no L1 copy) serves the L2 copy the same way.
    Rig other(shortTtl(60s));
    auto o = other.cache.read(Namespace::Entry, "entry:2", failing<ConnectionError>());
    QVERIFY(o.stale);
    QCOMPARE(o.source, Source::L2);
    // Once the database answers, the fresh row replaces the copy.
    auto f = r.cache.read(Namespace::Entry, "entry:2", row(6));
    QVERIFY(!f.stale);
    QCOMPARE(f.source, Source::L3);
    QCOMPARE(f.value->entity_version, 6);
  }

  void expiredL1CopyServedWithoutRedis() {
    Rig r(shortTtl(60s));
    r.cache.read(Namespace::Entry, "entry:3", row(7));
    r.redis.unlink({"entry:3"});  // only L1 still holds it
    pastTtl();
    auto s = r.cache.read(Namespace::Entry, "entry:3", failing<ConnectionError>());
    QVERIFY(s.stale);
    QCOMPARE(s.source, Source::L1);
    QCOMPARE(s.value->entity_version, 7);
  }

  void otherErrorsAreNotMasked() {
    Rig r(shortTtl(60s));
    r.cache.read(Namespace::Entry, "entry:4", row(1));
    pastTtl();
    QVERIFY_THROWS_EXCEPTION(DataError, r.cache.read(Namespace::Entry, "entry:4", failing<DataError>()));
    QVERIFY_THROWS_EXCEPTION(PermissionError, r.cache.read(Namespace::Entry, "entry:4", failing<PermissionError>()));
    QCOMPARE(r.staleServed(), 0u);
  }

  void invalidatedCopyIsNeverServed() {
    Rig r(shortTtl(60s));
    r.cache.read(Namespace::Entry, "entry:5", row(1));
    pastTtl();
    r.cache.invalidate("entry:5");
    QVERIFY_THROWS_EXCEPTION(ConnectionError, r.cache.read(Namespace::Entry, "entry:5", failing<ConnectionError>()));
    // A namespace invalidation retires stale copies too.
    r.cache.read(Namespace::Entry, "entry:6", row(1));
    pastTtl();
    r.cache.invalidateNamespace(Namespace::Entry);
    QVERIFY_THROWS_EXCEPTION(ConnectionError, r.cache.read(Namespace::Entry, "entry:6", failing<ConnectionError>()));
    QCOMPARE(r.staleServed(), 0u);
  }

  void writeThroughCopyIsTheStaleOne() {
    Rig r(shortTtl(60s));
    r.cache.read(Namespace::Entry, "entry:7", row(1));
    r.cache.writeThrough(Namespace::Entry, "entry:7", "{\"v\":2}", 2);
    pastTtl();
    auto s = r.cache.read(Namespace::Entry, "entry:7", failing<ConnectionError>());
    QVERIFY(s.stale);
    QCOMPARE(s.value->entity_version, 2);
  }

  void offWhenMaxStaleIsZero() {
    Rig r(shortTtl(0s));
    r.cache.read(Namespace::Entry, "entry:8", row(1));
    QCOMPARE(r.cache.read(Namespace::Entry, "entry:8", failing<ConnectionError>()).source, Source::L1);
    pastTtl();
    QVERIFY_THROWS_EXCEPTION(ConnectionError, r.cache.read(Namespace::Entry, "entry:8", failing<ConnectionError>()));
    QCOMPARE(r.staleServed(), 0u);
  }

  void l2HoldsCopyForTheStaleWindow() {
    Rig r(shortTtl(60s));
    r.cache.read(Namespace::Entry, "entry:9", row(1));
    const auto ttl = r.redis.ttlMillis("entry:9");
    // TTL 1 s + 60 s held for serve-stale.
    QVERIFY2(ttl > 58'000 && ttl <= 61'000, qPrintable(QString::number(ttl)));
  }

  void singleFlightWaitersServedStaleToo() {
    Rig r(shortTtl(60s));
    r.cache.read(Namespace::Entry, "entry:10", row(4));
    pastTtl();
    std::atomic<int> stale{0}, failed{0};
    auto slowDown = []() -> std::optional<Loaded> {
      std::this_thread::sleep_for(100ms);
      throw ConnectionError("database down");
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&] {
        try {
          if (r.cache.read(Namespace::Entry, "entry:10", slowDown).stale) ++stale;
        } catch (const Error&) {
          ++failed;
        }
      });
    for (auto& t : threads) t.join();
    QCOMPARE(failed.load(), 0);
    QCOMPARE(stale.load(), 8);
  }
};

QTEST_GUILESS_MAIN(TestServeStale)
#include "tst_serve_stale.moc"
