// TIER_TEST_LABELS: concurrency
// Threads mixing get/put/erase on overlapping keys; afterwards the cache's bounds
// hold and its statistics add up to exactly what the threads did. The storm test
// races lock-free hits against replacement, eviction, expiry, erase and table
// growth, and checks each read against what the key's only writer last finished.
#include <QtTest>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tier/l1/l1_cache.h"

using namespace std::chrono_literals;
using tier::l1::L1Cache;
using tier::l1::L1Options;

namespace {
// Every namespace's counters added up (to check against the cache's totals and the test's own counts).
tier::l1::NamespaceStats sumOfNamespaces(const tier::l1::L1Stats& st) {
  tier::l1::NamespaceStats sum;
  for (const auto& n : st.namespaces) {
    sum.hits += n.hits;
    sum.misses += n.misses;
    sum.inserts += n.inserts;
    sum.evictions += n.evictions;
    sum.expirations += n.expirations;
    sum.invalidations += n.invalidations;
    sum.entries += n.entries;
    sum.bytes += n.bytes;
  }
  return sum;
}
}  // namespace

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

    const tier::l1::NamespaceStats sum = sumOfNamespaces(st);
    const std::uint64_t h = sum.hits, m = sum.misses, ins = sum.inserts, ev = sum.evictions, exp = sum.expirations,
                        inv = sum.invalidations;
    const std::size_t entries = sum.entries, bytes = sum.bytes;
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

  // Owners put and erase their own keys and publish each finished operation in
  // the key's state word (busy while one is under way); readers check every value
  // they get against it: a value always belongs to the key it was read under, a key
  // whose last finished operation was an erase (none started since) reads as a miss,
  // and one whose last was a put reads as that put's version or a miss (evicted,
  // expired, cleared). Shared keys take puts, erases and prefix erases from all.
  void hitEvictExpireEraseStorm_data() {
    QTest::addColumn<QString>("policy");
    QTest::addColumn<int>("shards");
    QTest::addColumn<int>("maxEntries");
    QTest::newRow("tinylfu, 4 shards, tight bound") << QStringLiteral("tinylfu") << 4 << 300;
    QTest::newRow("tinylfu, 1 shard, tables grow") << QStringLiteral("tinylfu") << 1 << 50'000;
    QTest::newRow("lru, 2 shards") << QStringLiteral("lru") << 2 << 300;
  }

  void hitEvictExpireEraseStorm() {
    QFETCH(QString, policy);
    QFETCH(int, shards);
    QFETCH(int, maxEntries);
    auto ticks = std::make_shared<std::atomic<std::int64_t>>(0);
    auto frozen = std::make_shared<std::atomic<bool>>(false);
    L1Options o;
    o.shards = static_cast<std::size_t>(shards);
    o.max_entries = static_cast<std::size_t>(maxEntries);
    o.max_bytes = static_cast<std::size_t>(maxEntries) * 400;
    o.policy = policy.toStdString();
    o.now_ns = [ticks, frozen] {
      return frozen->load() ? ticks->load() : ticks->fetch_add(2000, std::memory_order_relaxed);
    };
    L1Cache cache(o);

    constexpr int kOwners = 2;
    constexpr int kReaders = 2;
    constexpr int kOwnKeys = 400;
    constexpr int kSharedKeys = 600;
    constexpr int kOwnerOps = 12'000;
    constexpr int kReaderOps = 30'000;
    // state: version << 2 | erased << 1 | busy. Version 0 = never put.
    std::vector<std::unique_ptr<std::atomic<std::uint64_t>>> state;
    for (int i = 0; i < kOwners * kOwnKeys; ++i) state.push_back(std::make_unique<std::atomic<std::uint64_t>>(2));
    auto ownKey = [](int owner, int i) { return "own" + std::to_string(owner) + ":" + std::to_string(i); };
    auto sharedKey = [](int i) { return (i % 2 ? "shared:" : "other") + std::to_string(i); };
    // A value names its key and version: "<key>#<version>#" plus padding.
    auto valueOf = [](const std::string& key, std::uint64_t version, std::size_t pad) {
      return key + "#" + std::to_string(version) + "#" + std::string(pad, 'p');
    };
    auto versionIn = [](const std::string& key, const std::string& v) -> std::int64_t {
      if (v.size() < key.size() + 3 || v.compare(0, key.size(), key) != 0 || v[key.size()] != '#') return -1;
      const auto end = v.find('#', key.size() + 1);
      if (end == std::string::npos) return -1;
      return std::stoll(v.substr(key.size() + 1, end - key.size() - 1));
    };

    std::atomic<std::uint64_t> gets{0}, hits{0}, violations{0}, puts{0};
    std::atomic<int> ownersLeft{kOwners};
    auto violation = [&](const std::string& what) {
      if (violations.fetch_add(1) < 5) qWarning("%s", what.c_str());
    };
    auto check = [&](const std::string& key, const tier::l1::Value& v) {
      if (v && versionIn(key, *v) < 0) violation("value of another key under " + key + ": " + v->substr(0, 40));
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < kOwners; ++t) {
      pool.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t) + 11);
        std::uint64_t g = 0, h = 0, p = 0;
        for (int i = 0; i < kOwnerOps; ++i) {
          const unsigned dice = rng() % 100;
          if (dice < 55) {
            const int k = static_cast<int>(rng() % kOwnKeys);
            auto& st = *state[static_cast<std::size_t>(t * kOwnKeys + k)];
            const std::string key = ownKey(t, k);
            const std::uint64_t before = st.load();
            const std::uint64_t version = (before >> 2) + 1;
            st.store(before | 1);  // busy
            if (dice < 45) {
              const auto ttl = dice % 3 == 0 ? std::chrono::milliseconds(1) : 0ms;
              cache.put(key, valueOf(key, version, rng() % 200), ttl);
              ++p;
              st.store(version << 2);
              // Its own put just finished: a get sees it or nothing (evicted, expired).
              ++g;
              if (auto v = cache.get(key)) {
                ++h;
                if (versionIn(key, *v) != static_cast<std::int64_t>(version)) violation("stale read-your-write " + key);
              }
            } else {
              cache.erase(key);
              st.store((before >> 2) << 2 | 2);
              ++g;
              if (auto v = cache.get(key)) {
                ++h;
                violation("value after erase " + key + ": " + v->substr(0, 40));
              }
            }
          } else {
            const int k = static_cast<int>(rng() % kSharedKeys);
            const std::string key = sharedKey(k);
            if (dice < 90) {
              cache.put(key, valueOf(key, 1, rng() % 300), dice % 2 ? std::chrono::milliseconds(1) : 0ms);
              ++p;
            } else if (dice < 97) {
              cache.erase(key);
            } else if (dice < 99) {
              cache.erasePrefix("shared:" + std::to_string(k % 7));
            } else {
              cache.eraseIf([](std::string_view k) { return k.ends_with("3"); });
              if (cache.keys(50).size() > 50) violation("keys(50) over its limit");
            }
          }
        }
        gets += g;
        hits += h;
        puts += p;
        ownersLeft.fetch_sub(1);
      });
    }
    for (int t = 0; t < kReaders; ++t) {
      pool.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t) + 101);
        std::uint64_t g = 0, h = 0;
        for (int i = 0; i < kReaderOps || ownersLeft.load() > 0; ++i) {
          if (i >= 50 * kReaderOps) break;  // bounded even if the owners are starved
          if (rng() % 2) {
            const int owner = static_cast<int>(rng() % kOwners);
            const int k = static_cast<int>(rng() % kOwnKeys);
            auto& st = *state[static_cast<std::size_t>(owner * kOwnKeys + k)];
            const std::string key = ownKey(owner, k);
            const std::uint64_t s1 = st.load();
            auto v = cache.get(key);
            const std::uint64_t s2 = st.load();
            ++g;
            if (v) ++h;
            check(key, v);
            if (v && s1 == s2 && !(s1 & 1)) {
              // No operation on the key started or finished around this get.
              if (s1 & 2) violation("value after erase (reader) " + key);
              else if (versionIn(key, *v) != static_cast<std::int64_t>(s1 >> 2)) violation("wrong version " + key);
            }
          } else {
            const std::string key = sharedKey(static_cast<int>(rng() % kSharedKeys));
            auto v = cache.get(key);
            ++g;
            if (v) ++h;
            check(key, v);
          }
          if (i % 1000 == 0) {
            const auto st = cache.stats();
            if (st.entries > o.max_entries || st.bytes > o.max_bytes) violation("bounds");
          }
        }
        gets += g;
        hits += h;
      });
    }
    for (auto& th : pool) th.join();
    frozen->store(true);
    QCOMPARE(violations.load(), std::uint64_t{0});

    const auto st = cache.stats();
    QVERIFY(st.entries <= o.max_entries);
    QVERIFY(st.bytes <= o.max_bytes);
    QVERIFY(cache.keys().size() <= st.entries);
    const tier::l1::NamespaceStats sum = sumOfNamespaces(st);
    const std::uint64_t h = sum.hits, m = sum.misses, ins = sum.inserts, ev = sum.evictions, exp = sum.expirations,
                        inv = sum.invalidations;
    const std::size_t entries = sum.entries, bytes = sum.bytes;
    QCOMPARE(entries, st.entries);
    QCOMPARE(bytes, st.bytes);
    QCOMPARE(h, hits.load());
    QCOMPARE(h + m, gets.load());
    QCOMPARE(ins, puts.load());
    QVERIFY(ev + exp + inv + entries <= ins);
    QVERIFY(exp > 0);
    QVERIFY(inv > 0);
    if (maxEntries < 1000) QVERIFY(ev > 0);

    cache.clear();
    QCOMPARE(cache.stats().entries, std::size_t{0});
    QCOMPARE(cache.keys().size(), std::size_t{0});
  }
};

QTEST_APPLESS_MAIN(TestL1Concurrency)
#include "tst_l1_concurrency.moc"
