// TIER_TEST_LABELS: concurrency
// Threads mixing get/put/erase on overlapping keys; afterwards the cache's bounds
// hold and its statistics add up to exactly what the threads did.
#include <QtTest>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "tier/l1/l1_cache.h"

using namespace std::chrono_literals;
using tier::l1::L1Cache;
using tier::l1::L1Options;

class TestL1Concurrency : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void mixedOperations_data() {
    QTest::addColumn<int>("shards");
    QTest::addColumn<int>("threads");
    QTest::addColumn<bool>("withTtl");
    QTest::newRow("1 shard, 4 threads") << 1 << 4 << false;
    QTest::newRow("8 shards, 4 threads") << 8 << 4 << false;
    QTest::newRow("8 shards, 8 threads, ttl") << 8 << 8 << true;
  }

  void mixedOperations() {
    QFETCH(int, shards);
    QFETCH(int, threads);
    QFETCH(bool, withTtl);
    // A clock that moves 1 us per read, so TTLs of a few hundred us expire mid-run.
    auto ticks = std::make_shared<std::atomic<std::int64_t>>(0);
    auto frozen = std::make_shared<std::atomic<bool>>(false);  // stop time for the final checks
    L1Options o;
    o.shards = static_cast<std::size_t>(shards);
    o.max_entries = 256;
    o.max_bytes = 96 * 1024;
    o.now_ns = [ticks, frozen] {
      return frozen->load() ? ticks->load() : ticks->fetch_add(1000, std::memory_order_relaxed);
    };
    L1Cache cache(o);

    constexpr int kOpsPerThread = 40'000;
    constexpr int kKeys = 1'000;
    std::atomic<std::uint64_t> gets{0}, hits{0}, puts{0}, erased{0}, prefixErased{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
        std::uint64_t g = 0, h = 0, p = 0, e = 0, pe = 0;
        for (int i = 0; i < kOpsPerThread; ++i) {
          const int k = static_cast<int>(rng() % kKeys);
          const char* ns = (k % 3 == 0) ? "entry:" : (k % 3 == 1) ? "session:" : "x";
          const std::string key = ns + std::to_string(k);
          const unsigned dice = rng() % 100;
          if (dice < 60) {
            ++g;
            if (auto v = cache.get(key)) {
              ++h;
              if (v->empty() || (*v)[0] != 'v') qFatal("corrupt value");
            }
          } else if (dice < 90) {
            ++p;
            const auto ttl = withTtl && dice % 2 ? std::chrono::milliseconds(1 + rng() % 2) : 0ms;
            cache.put(key, "v" + std::string(rng() % 400, 'x'), ttl);
          } else if (dice < 99) {
            if (cache.erase(key)) ++e;
          } else {
            pe += cache.erasePrefix("session:" + std::to_string(k % 10));
          }
        }
        gets += g;
        hits += h;
        puts += p;
        erased += e;
        prefixErased += pe;
      });
    }
    for (auto& th : pool) th.join();
    // Otherwise every read below moves the clock and entries expire between
    // stats() and keys().
    frozen->store(true);

    const auto st = cache.stats();
    QVERIFY(st.entries <= o.max_entries);
    QVERIFY(st.bytes <= o.max_bytes);
    // keys() lists live entries; stats count what is held, which includes
    // entries that expired but were not met since (expiry is lazy).
    if (withTtl)
      QVERIFY(cache.keys().size() <= st.entries);
    else
      QCOMPARE(cache.keys().size(), st.entries);

    std::uint64_t h = 0, m = 0, ins = 0, ev = 0, exp = 0, inv = 0;
    std::size_t entries = 0, bytes = 0;
    for (const auto& n : st.namespaces) {
      h += n.hits;
      m += n.misses;
      ins += n.inserts;
      ev += n.evictions;
      exp += n.expirations;
      inv += n.invalidations;
      entries += n.entries;
      bytes += n.bytes;
    }
    QCOMPARE(entries, st.entries);
    QCOMPARE(bytes, st.bytes);
    QCOMPARE(h, hits.load());
    QCOMPARE(h + m, gets.load());
    QCOMPARE(ins, puts.load());  // every value fits a shard's share, so every put is admitted
    QCOMPARE(inv, erased.load() + prefixErased.load());
    // Every entry that ever left was inserted first; replacements are inserts that add none.
    QVERIFY(ev + exp + inv + entries <= ins);
    QVERIFY(ev > 0);
    if (withTtl) QVERIFY(exp > 0);

    cache.clear();
    QCOMPARE(cache.stats().entries, std::size_t{0});
    QCOMPARE(cache.stats().bytes, std::size_t{0});
  }
};

QTEST_APPLESS_MAIN(TestL1Concurrency)
#include "tst_l1_concurrency.moc"
