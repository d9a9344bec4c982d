// Unit tests of the L1 cache: values, TTL (with an injected clock), bounds, LRU
// order, invalidation and per-namespace statistics.
#include <QtTest>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "tier/common/error.h"
#include "tier/l1/l1_cache.h"

using namespace std::chrono_literals;
using tier::l1::kEntryOverheadBytes;
using tier::l1::L1Cache;
using tier::l1::L1Options;
using tier::l1::NamespaceStats;

namespace {

struct FakeClock {
  std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(1'000'000'000);
  std::function<std::int64_t()> fn() const {
    return [p = ns] { return p->load(); };
  }
  void advance(std::chrono::nanoseconds d) { ns->fetch_add(d.count()); }
};

L1Options oneShard(std::size_t max_entries = 0, std::size_t max_bytes = 0, const FakeClock* clock = nullptr,
                   const char* policy = "tinylfu") {
  L1Options o;
  o.shards = 1;
  o.policy = policy;
  o.max_entries = max_entries;
  o.max_bytes = max_bytes;
  if (clock) o.now_ns = clock->fn();
  return o;
}

NamespaceStats nsStats(const L1Cache& c, const std::string& ns) {
  for (const auto& s : c.stats().namespaces)
    if (s.ns == ns) return s;
  return NamespaceStats{};
}

std::size_t charge(const std::string& key, const std::string& value) {
  return key.size() + value.size() + kEntryOverheadBytes;
}

}  // namespace

class TestL1Cache : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void getPutReplace() {
    L1Cache c(oneShard());
    QVERIFY(!c.get("entry:1"));
    c.put("entry:1", std::string("one"), 0ms);
    auto v = c.get("entry:1");
    QVERIFY(v);
    QCOMPARE(*v, std::string("one"));
    c.put("entry:1", std::string("uno"), 0ms);
    QCOMPARE(*c.get("entry:1"), std::string("uno"));
    QCOMPARE(*v, std::string("one"));  // an earlier reader keeps its immutable value
    QCOMPARE(c.stats().entries, std::size_t{1});
    QCOMPARE(c.stats().bytes, charge("entry:1", "uno"));
  }

  void getSharesTheStoredValue() {
    L1Cache c;
    auto value = std::make_shared<const std::string>(1000, 'x');
    c.put("knowledge:a", value, 0ms);
    QCOMPARE(c.get("knowledge:a").get(), value.get());
  }

  void badInput_data() {
    QTest::addColumn<int>("which");
    QTest::newRow("null value") << 0;
    QTest::newRow("negative ttl") << 1;
    QTest::newRow("unknown policy") << 2;
  }
  void badInput() {
    QFETCH(int, which);
    auto attempt = [which] {
      if (which == 2) {
        L1Options o;
        o.policy = "clock-pro";
        L1Cache c(o);
        return;
      }
      L1Cache c(oneShard());
      if (which == 0) c.put("entry:1", tier::l1::Value{}, 0ms);
      if (which == 1) c.put("entry:1", std::string("v"), -1ms);
    };
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, attempt());
  }

  void ttlExpiry() {
    FakeClock clock;
    L1Cache c(oneShard(0, 0, &clock));
    c.put("session:1", std::string("s"), 100ms);
    c.put("session:2", std::string("forever"), 0ms);
    QVERIFY(c.get("session:1"));
    QCOMPARE(c.ttl("session:1"), 100ms);
    QCOMPARE(c.ttl("session:2"), 0ms);
    QCOMPARE(c.ttl("session:404"), -1ms);
    clock.advance(99ms + 500us);
    QCOMPARE(c.ttl("session:1"), 1ms);  // rounded up: a live entry never reads as "no expiry"
    QVERIFY(c.contains("session:1"));
    QVERIFY(c.get("session:1"));
    clock.advance(500us);
    QVERIFY(!c.contains("session:1"));
    QCOMPARE(c.ttl("session:1"), -1ms);
    QVERIFY(!c.get("session:1"));
    clock.advance(1h);
    QVERIFY(c.get("session:2"));
    const auto s = nsStats(c, "session");
    QCOMPARE(s.expirations, std::uint64_t{1});
    QCOMPARE(s.hits, std::uint64_t{3});
    QCOMPARE(s.misses, std::uint64_t{1});
    QCOMPARE(s.entries, std::size_t{1});
    QCOMPARE(c.stats().entries, std::size_t{1});
  }

  void replaceResetsTtl() {
    FakeClock clock;
    L1Cache c(oneShard(0, 0, &clock));
    c.put("entry:1", std::string("a"), 10ms);
    clock.advance(8ms);
    c.put("entry:1", std::string("b"), 10ms);
    clock.advance(8ms);
    QVERIFY(c.get("entry:1"));
    c.put("entry:1", std::string("c"), 0ms);
    clock.advance(1h);
    QCOMPARE(*c.get("entry:1"), std::string("c"));
  }

  void putDropsExpiredEntriesOpportunistically() {
    FakeClock clock;
    L1Cache c(oneShard(0, 0, &clock));
    c.put("entry:old", std::string("x"), 5ms);
    clock.advance(10ms);
    c.put("entry:new", std::string("y"), 0ms);
    QCOMPARE(c.stats().entries, std::size_t{1});
    QCOMPARE(nsStats(c, "entry").expirations, std::uint64_t{1});
  }

  void entryBound_data() {
    QTest::addColumn<int>("max");
    QTest::addColumn<int>("inserted");
    QTest::newRow("under") << 10 << 5;
    QTest::newRow("exact") << 10 << 10;
    QTest::newRow("over") << 10 << 25;
    QTest::newRow("one") << 1 << 3;
  }
  void entryBound() {
    QFETCH(int, max);
    QFETCH(int, inserted);
    L1Cache c(oneShard(static_cast<std::size_t>(max), 0, nullptr, "lru"));
    for (int i = 0; i < inserted; ++i) c.put("entry:" + std::to_string(i), std::to_string(i), 0ms);
    const int expect = std::min(max, inserted);
    QCOMPARE(c.stats().entries, static_cast<std::size_t>(expect));
    QCOMPARE(nsStats(c, "entry").evictions, static_cast<std::uint64_t>(inserted - expect));
    // The oldest ones went.
    for (int i = 0; i < inserted; ++i) QCOMPARE(c.contains("entry:" + std::to_string(i)), i >= inserted - expect);
  }

  void byteBound() {
    const std::string value(100, 'v');
    const std::size_t each = charge("entry:00", value);
    L1Cache c(oneShard(0, each * 10 + each / 2, nullptr, "lru"));
    for (int i = 0; i < 30; ++i) c.put("entry:" + QByteArray::number(i).rightJustified(2, '0').toStdString(), value, 0ms);
    const auto st = c.stats();
    QCOMPARE(st.entries, std::size_t{10});
    QCOMPARE(st.bytes, each * 10);
    QVERIFY(st.bytes <= st.max_bytes);
    QVERIFY(c.contains("entry:29") && c.contains("entry:20") && !c.contains("entry:19"));
    // Growing one value pushes out the least recently used one.
    c.put("entry:29", std::string(300, 'w'), 0ms);
    QVERIFY(c.stats().bytes <= st.max_bytes);
    QVERIFY(!c.contains("entry:20"));
  }

  void lruOrder() {
    L1Cache c(oneShard(3, 0, nullptr, "lru"));
    c.put("entry:a", std::string("a"), 0ms);
    c.put("entry:b", std::string("b"), 0ms);
    c.put("entry:c", std::string("c"), 0ms);
    QVERIFY(c.get("entry:a"));  // touching saves a
    c.put("entry:d", std::string("d"), 0ms);
    QVERIFY(c.contains("entry:a"));
    QVERIFY(!c.contains("entry:b"));
    // contains() does not touch recency: c is now the oldest.
    QVERIFY(c.contains("entry:c"));
    c.put("entry:e", std::string("e"), 0ms);
    QVERIFY(!c.contains("entry:c"));
    // A replacing put counts as a use.
    c.put("entry:a", std::string("a2"), 0ms);
    c.put("entry:f", std::string("f"), 0ms);
    QVERIFY(c.contains("entry:a"));
    QVERIFY(!c.contains("entry:d"));
  }

  void oversizeNotAdmitted() {
    L1Options o = oneShard(0, 4096);
    o.shards = 4;  // share per shard = 1024 bytes
    L1Cache c(o);
    QCOMPARE(c.options().shards, std::size_t{4});
    const std::string key = "entry:big";
    const std::string fits(1024 - kEntryOverheadBytes - key.size(), 'f');
    c.put(key, fits, 0ms);
    QVERIFY(c.contains(key));
    c.put(key, fits + "x", 0ms);  // one byte over the shard's share: refused, old copy dropped
    QVERIFY(!c.contains(key));
    QCOMPARE(c.stats().entries, std::size_t{0});
    QCOMPARE(c.stats().bytes, std::size_t{0});
    QCOMPARE(nsStats(c, "entry").inserts, std::uint64_t{1});
    QCOMPARE(nsStats(c, "entry").evictions, std::uint64_t{1});
  }

  void eraseFamily() {
    FakeClock clock;
    L1Cache c(oneShard(0, 0, &clock));
    for (int i = 0; i < 5; ++i) {
      c.put("entry:" + std::to_string(i), std::string("e"), 0ms);
      c.put("session:" + std::to_string(i), std::string("s"), 0ms);
      c.put("user:" + std::to_string(i), std::string("u"), 0ms);
    }
    c.put("entry:short", std::string("x"), 1ms);
    clock.advance(2ms);
    QVERIFY(c.erase("user:1"));
    QVERIFY(!c.erase("user:1"));
    QCOMPARE(c.erasePrefix("entry:"), std::size_t{5});  // the expired one is not counted
    QCOMPARE(nsStats(c, "entry").expirations, std::uint64_t{1});
    QCOMPARE(c.eraseIf([](std::string_view k) { return k.ends_with('3'); }), std::size_t{2});
    QVERIFY(!c.contains("session:3") && !c.contains("user:3") && c.contains("session:4"));
    QCOMPARE(c.stats().entries, std::size_t{7});
    c.clear();
    QCOMPARE(c.stats().entries, std::size_t{0});
    QCOMPARE(c.stats().bytes, std::size_t{0});
    QCOMPARE(nsStats(c, "session").invalidations, std::uint64_t{5});
    QCOMPARE(nsStats(c, "user").invalidations, std::uint64_t{5});  // erase + eraseIf + 3 by clear
    QCOMPARE(nsStats(c, "entry").invalidations, std::uint64_t{5});
    QVERIFY(c.keys().empty());
  }

  void namespaceStats() {
    L1Cache c(oneShard(5, 0, nullptr, "lru"));
    c.put("entry:1", std::string("a"), 0ms);
    c.put("entry:2", std::string("bb"), 0ms);
    c.put("entry:1", std::string("ccc"), 0ms);     // replace: an insert, not a new entry
    c.put("knowledge:x", std::string("k"), 0ms);
    c.put("weird", std::string("w"), 0ms);          // no ':' -> "other"
    c.put("custom:1", std::string("c"), 0ms);       // interned on first sight
    c.get("entry:1");
    c.get("entry:1");
    c.get("entry:404");
    c.get("custom:2");
    c.get("knowledge:x");
    c.erase("knowledge:x");
    c.put("entry:3", std::string("d"), 0ms);
    c.put("entry:4", std::string("e"), 0ms);        // 6th entry: evicts entry:2 (LRU)
    const auto st = c.stats();
    QCOMPARE(st.entries, std::size_t{5});
    QStringList names;
    for (const auto& n : st.namespaces) names << QString::fromStdString(n.ns);
    QCOMPARE(names, (QStringList{QStringLiteral("custom"), QStringLiteral("entry"), QStringLiteral("knowledge"),
                                 QStringLiteral("other")}));
    const auto e = nsStats(c, "entry");
    QCOMPARE(e.hits, std::uint64_t{2});
    QCOMPARE(e.misses, std::uint64_t{1});
    QCOMPARE(e.inserts, std::uint64_t{5});
    QCOMPARE(e.evictions, std::uint64_t{1});
    QCOMPARE(e.entries, std::size_t{3});
    QVERIFY(!c.contains("entry:2"));
    QCOMPARE(e.bytes, charge("entry:1", "ccc") + charge("entry:3", "d") + charge("entry:4", "e"));
    const auto k = nsStats(c, "knowledge");
    QCOMPARE(k.hits, std::uint64_t{1});
    QCOMPARE(k.invalidations, std::uint64_t{1});
    QCOMPARE(k.entries, std::size_t{0});
    const auto cu = nsStats(c, "custom");
    QCOMPARE(cu.inserts, std::uint64_t{1});
    QCOMPARE(cu.misses, std::uint64_t{1});
    QCOMPARE(nsStats(c, "other").entries, std::size_t{1});
    std::size_t bytes = 0;
    for (const auto& n : st.namespaces) bytes += n.bytes;
    QCOMPARE(bytes, st.bytes);
  }

  void keysListing() {
    FakeClock clock;
    L1Options o;
    o.now_ns = clock.fn();
    L1Cache c(o);
    for (int i = 0; i < 50; ++i) c.put("entry:" + std::to_string(i), std::string("v"), 0ms);
    c.put("entry:dying", std::string("v"), 1ms);
    clock.advance(1s);
    auto all = c.keys();
    QCOMPARE(all.size(), std::size_t{50});
    std::sort(all.begin(), all.end());
    QVERIFY(std::adjacent_find(all.begin(), all.end()) == all.end());
    QVERIFY(std::find(all.begin(), all.end(), "entry:dying") == all.end());
    QCOMPARE(c.keys(7).size(), std::size_t{7});
    QCOMPARE(c.keys(0).size(), std::size_t{0});
  }

  void shardResolution_data() {
    QTest::addColumn<int>("requested");
    QTest::addColumn<int>("maxEntries");
    QTest::addColumn<int>("expected");
    QTest::newRow("round up") << 5 << 1000 << 8;
    QTest::newRow("one") << 1 << 1000 << 1;
    QTest::newRow("tiny bound lowers") << 16 << 3 << 2;
    QTest::newRow("capped") << 100000 << 0 << 1024;
  }
  void shardResolution() {
    QFETCH(int, requested);
    QFETCH(int, maxEntries);
    QFETCH(int, expected);
    L1Options o;
    o.shards = static_cast<std::size_t>(requested);
    o.max_entries = static_cast<std::size_t>(maxEntries);
    L1Cache c(o);
    QCOMPARE(c.options().shards, static_cast<std::size_t>(expected));
  }

  void autoShardsArePowerOfTwo() {
    L1Cache c;
    const std::size_t n = c.options().shards;
    QVERIFY(n >= 8);
    QCOMPARE(n & (n - 1), std::size_t{0});
  }

  void globalBoundsHoldAcrossShards() {
    L1Options o;
    o.shards = 8;
    o.max_entries = 100;
    o.max_bytes = 64 * 1024;
    L1Cache c(o);
    for (int i = 0; i < 5000; ++i) c.put("stats:" + std::to_string(i), std::string(static_cast<std::size_t>(i % 300), 's'), 0ms);
    const auto st = c.stats();
    QVERIFY(st.entries <= 100);
    QVERIFY(st.bytes <= 64 * 1024);
    QVERIFY(st.entries > 0);
    QCOMPARE(c.keys().size(), st.entries);
  }

  // The shard's table grows (by 1.5x) and is rebuilt when erased slots pile up;
  // through all of it every held key is found, no erased one is, and a value handed
  // out before its key was replaced or erased stays intact.
  // A replaced or erased entry stays linked in its policy queue until the queue
  // releases it (policy.h), and keeps its value alive meanwhile: the shard has the
  // policy sweep once those values pass a bound, so re-putting one big hot key does
  // not hold dozens of its old values (the count bound alone allowed 32 per queue).
  void replacedValuesAreReleasedPromptly_data() {
    QTest::addColumn<int>("maxBytes");
    QTest::newRow("byte bound 4 MiB") << (4 << 20);
    QTest::newRow("no byte bound") << 0;
  }
  void replacedValuesAreReleasedPromptly() {
    QFETCH(int, maxBytes);
    L1Cache c(oneShard(1000, static_cast<std::size_t>(maxBytes)));
    c.put("k:a", std::make_shared<const std::string>("a"), 0ms);
    std::vector<std::weak_ptr<const std::string>> old;
    for (int i = 0; i < 40; ++i) {
      auto v = std::make_shared<const std::string>(std::size_t{1} << 20, static_cast<char>('a' + i % 26));
      old.push_back(v);
      c.put("k:b", std::move(v), 0ms);
    }
    c.erase("k:none");  // one more shard operation: the last release's grace period
    c.erase("k:none");
    std::size_t alive = 0;
    for (std::size_t i = 0; i + 1 < old.size(); ++i) alive += old[i].expired() ? 0 : 1;
    // Alive: the ones within the readers' grace period (two epochs), not dozens.
    QVERIFY2(alive <= 3, qPrintable(QStringLiteral("%1 old values of 39 still held").arg(alive)));
    QVERIFY(!old.back().expired());  // the current one
    QCOMPARE(c.stats().entries, std::size_t{2});
  }

  void tableGrowsAndReusesErasedSlots() {
    L1Cache c(oneShard());
    const auto key = [](int i) { return "entry:" + std::to_string(i); };
    const auto held = c.get("entry:none");
    QVERIFY(!held);
    for (int i = 0; i < 20'000; ++i) c.put(key(i), "v" + std::to_string(i), 0ms);
    const auto first = c.get(key(7));
    QVERIFY(first);
    for (int i = 0; i < 20'000; i += 2) QVERIFY(c.erase(key(i)));
    c.put(key(7), std::string("replaced"), 0ms);
    QCOMPARE(*first, std::string("v7"));  // the reader's copy outlives its entry
    QCOMPARE(*c.get(key(7)), std::string("replaced"));
    // Many rounds of erase and insert of new keys: tombstones force rebuilds at the same size.
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 4'000; ++i) c.put(key(100'000 * (round + 1) + i), std::string("n"), 0ms);
      for (int i = 0; i < 4'000; ++i) QVERIFY(c.erase(key(100'000 * (round + 1) + i)));
    }
    for (int i = 0; i < 20'000; ++i) {
      const auto v = c.get(key(i));
      if (i % 2 == 0) {
        QVERIFY2(!v, key(i).c_str());
      } else {
        QVERIFY2(v, key(i).c_str());
        QCOMPARE(*v, i == 7 ? std::string("replaced") : "v" + std::to_string(i));
      }
    }
    QCOMPARE(c.stats().entries, std::size_t{10'000});
    QCOMPARE(c.keys().size(), std::size_t{10'000});
    std::size_t withPrefix = 0;
    for (int i = 1; i < 20'000; i += 2) withPrefix += key(i).starts_with("entry:1") ? 1 : 0;
    QCOMPARE(c.erasePrefix("entry:1"), withPrefix);
    QCOMPARE(c.stats().entries, 10'000 - withPrefix);
    c.clear();
    QCOMPARE(c.keys().size(), std::size_t{0});
    QVERIFY(!c.get(key(7)));
  }
};

QTEST_APPLESS_MAIN(TestL1Cache)
#include "tst_l1_cache.moc"
