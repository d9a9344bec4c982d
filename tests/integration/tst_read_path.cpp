// The read and write paths through L1 -> L2 -> L3 against real servers.
// TIER_TEST_LABELS: concurrency
// TIER_TEST_ON_CLUSTER
#include <QTest>

#include <atomic>
#include <thread>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "tier/codec/envelope.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"

using namespace tier;
using metrics::Counter;

class TestReadPath : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> core;

  std::uint64_t counter(Counter c) { return core->metrics().snapshot(std::chrono::seconds(0)).counter(c); }

 private Q_SLOTS:
  void initTestCase() { test::seededServers(); }
  void init() {
    test::flushRedis();
    core = std::make_unique<TierCore>(test::coreConfig());
  }
  void cleanup() { core.reset(); }

  void missThenL1ThenL2() {
    auto a = core->entries().get(5);
    QVERIFY(a.value);
    QCOMPARE(a.source, cache::Source::L3);
    auto b = core->entries().get(5);
    QCOMPARE(b.source, cache::Source::L1);
    QCOMPARE(*b.value, *a.value);
    tier::internal::TierAccess::l1(*core).clear();
    auto c = core->entries().get(5);
    QCOMPARE(c.source, cache::Source::L2);
    QCOMPARE(*c.value, *a.value);
    // Another instance (own L1) sees the same L2 copy.
    TierCore other(test::coreConfig());
    QCOMPARE(other.entries().get(5).source, cache::Source::L2);
  }

  // The run this is (tst_read_path or tst_read_path_on_cluster) is the Redis the core uses.
  void runsOnTheRedisItSays() { QCOMPARE(tier::internal::TierAccess::redis(*core)->mode() == redis::RedisMode::Cluster, test::onCluster()); }

  void absentIsCleanMiss() {
    auto r = core->entries().get(999999999);
    QVERIFY(!r.value);
    QCOMPARE(r.source, cache::Source::L3);
  }

  void appendVisibleToNextRead() {
    const auto id = core->sessions().create(3, "Evening check-in").id;
    core->sessions().appendMessage(id, "assistant", "How was your day?");
    auto before = core->sessions().get(id);
    QVERIFY(before.value);
    auto msg = core->sessions().appendMessage(id, "user", "I slept better last night");
    auto after = core->sessions().get(id);
    QVERIFY(after.value);
    QCOMPARE(after.source, cache::Source::L1);
    QCOMPARE(after.value->message_count, before.value->message_count + 1);
    QCOMPARE(after.value->messages.back().content, std::string("I slept better last night"));
    QCOMPARE(after.value->messages.back().seq, msg.seq);
    QVERIFY(after.value->version > before.value->version);
    // And through L2, for another instance.
    TierCore other(test::coreConfig());
    auto viaL2 = other.sessions().get(id);
    QCOMPARE(viaL2.source, cache::Source::L2);
    QCOMPARE(viaL2.value->message_count, after.value->message_count);
  }

  void updateWritesThrough() {
    auto e = core->entries().get(7).value.value();
    repo::EntryDraft d{"Edited title", e.content, 9, {"edited"}};
    auto updated = core->entries().update(7, d);
    QVERIFY(updated.version > e.version);
    TierCore other(test::coreConfig());
    auto r = other.entries().get(7);
    QCOMPARE(r.source, cache::Source::L2);
    QCOMPARE(r.value->title, std::string("Edited title"));
    QCOMPARE(r.value->version, updated.version);
  }

  void failedWriteLeavesCacheUntouched() {
    auto e = core->entries().get(8).value.value();
    const auto key = codec::entryKey(8);
    auto l2Before = tier::internal::TierAccess::redis(*core)->get(key);
    QVERIFY(l2Before);
    // Invalid UTF-8 is rejected by PostgreSQL itself (SQLSTATE 22021).
    repo::EntryDraft bad{"title", std::string("bad \xff\xfe bytes"), 5, {}};
    QVERIFY_THROWS_EXCEPTION(BadInputError, core->entries().update(8, bad));
    QCOMPARE(tier::internal::TierAccess::redis(*core)->get(key), l2Before);
    QCOMPARE(core->entries().get(8).value->version, e.version);
    QCOMPARE(core->entries().loadFromDb(8)->version, e.version);
    QVERIFY_THROWS_EXCEPTION(NotFoundError, core->entries().update(99999999, repo::EntryDraft{"t", "c", 5, {}}));
  }

  void deleteLeavesTombstone() {
    auto created = core->entries().create(2, repo::EntryDraft{"to delete", "temporary", 4, {"tmp"}});
    QVERIFY(core->entries().get(created.id).value);
    core->entries().remove(created.id);
    auto r = core->entries().get(created.id);
    QVERIFY(!r.value);
    // A slow reader's fill of the old row cannot resurrect it over the tombstone.
    core->cache().writeThrough(codec::Namespace::Entry, codec::entryKey(created.id), created.toJson(), created.version);
    TierCore other(test::coreConfig());
    QVERIFY(!other.entries().get(created.id).value);
  }

  void olderFillNeverOverwritesNewer() {
    auto e = core->entries().get(9).value.value();
    auto newer = core->entries().update(9, repo::EntryDraft{"v-newer", e.content, 3, e.tags});
    // Simulate the stale-set race: a reader that loaded `e` fills after the write.
    tier::internal::TierAccess::l1(*core).clear();
    core->cache().writeThrough(codec::Namespace::Entry, codec::entryKey(9), e.toJson(), e.version);
    TierCore other(test::coreConfig());
    QCOMPARE(other.entries().get(9).value->version, newer.version);
  }

  void singleFlight() {
    const int kThreads = 32;
    auto before = counter(Counter::L3Read);
    std::atomic<int> ready{0};
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
      threads.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        if (core->sessions().get(4).value) ok.fetch_add(1);
      });
    for (auto& t : threads) t.join();
    QCOMPARE(ok.load(), kThreads);
    // Every thread missed at once; the loads that reached PostgreSQL are far
    // fewer than the threads (exactly 1 when all misses overlap).
    auto loads = counter(Counter::L3Read) - before;
    QVERIFY2(loads >= 1 && loads <= 2, qPrintable(QString::number(loads)));
  }

  void garbageInRedisIsACleanMiss_data() {
    QTest::addColumn<QByteArray>("planted");
    QTest::newRow("text") << QByteArray("hello");
    QTest::newRow("truncated envelope") << QByteArray::fromStdString(codec::encode({0, 1, 1, R"({"id":1})"}).substr(0, 20));
    QTest::newRow("bad checksum") << [] {
      auto b = codec::encode({0, 1, 1, R"({"id":1})"});
      b.back() = 'X';
      return QByteArray::fromStdString(b);
    }();
    QTest::newRow("valid envelope, wrong schema") << QByteArray::fromStdString(codec::encode({0, 999, 1, R"({"x":1})"}));
    QTest::newRow("binary") << QByteArray("\x00\xff\x00TC\x01", 7);
  }
  void garbageInRedisIsACleanMiss() {
    QFETCH(QByteArray, planted);
    const auto key = codec::entryKey(11);
    tier::internal::TierAccess::redis(*core)->set(key, std::string(planted.constData(), planted.size()), std::chrono::milliseconds(60000));
    auto rejectsBefore = counter(Counter::DecodeReject);
    auto r = core->entries().get(11);
    QVERIFY(r.value);
    QCOMPARE(r.value->id, 11);
    QCOMPARE(r.source, cache::Source::L3);
    QCOMPARE(counter(Counter::DecodeReject), rejectsBefore + 1);
    // The bad value was dropped and the fill repaired L2.
    auto fixed = codec::decode(tier::internal::TierAccess::redis(*core)->get(key).value());
    QVERIFY(fixed.envelope);
    QCOMPARE(fixed.envelope->entity_version, r.value->version);
  }

  void redisDownServesFromL3() {
    auto cfg = test::coreConfig();
    cfg.redis_url = "redis://127.0.0.1:1/0";  // nothing listens on port 1
    TierCore down(cfg);
    // Read for a bounded second: every read is served (from L3), none waits
    // for Redis, and the breaker opens so L2 is skipped without any I/O.
    QElapsedTimer t;
    t.start();
    int reads = 0;
    bool sawOpen = false;
    while (t.elapsed() < 1000) {
      tier::internal::TierAccess::l1(down).clear();  // force the L2 step on every read
      QVERIFY(down.entries().get(1 + reads % 50).value);
      ++reads;
      sawOpen = sawOpen || tier::internal::TierAccess::redis(down)->breakerState() == redis::BreakerState::Open;
    }
    auto snap = down.metrics().snapshot(std::chrono::seconds(0));
    QVERIFY2(sawOpen, "breaker never opened");
    QVERIFY(snap.counter(Counter::RedisError) >= 1);
    QVERIFY(snap.counter(Counter::BreakerOpenSkip) >= 1);
    QCOMPARE(snap.counter(Counter::Error), 0u);
    // Bounded: far below a connect timeout per read.
    QVERIFY2(snap.op(metrics::Op::EntryRead).p99_ms < 50, qPrintable(QString::number(snap.op(metrics::Op::EntryRead).p99_ms)));
    qInfo("reads=%d redis_errors=%llu breaker_skips=%llu entry_p99=%.3fms", reads,
          (unsigned long long)snap.counter(Counter::RedisError), (unsigned long long)snap.counter(Counter::BreakerOpenSkip),
          snap.op(metrics::Op::EntryRead).p99_ms);
  }

  void namespaceBumpRetiresCopies() {
    QVERIFY(core->knowledge().get("anxiety-1").value || true);
    auto slugs = core->knowledge().allSlugs();
    QVERIFY(!slugs.empty());
    QCOMPARE(core->knowledge().get(slugs[0]).source, cache::Source::L3);
    QCOMPARE(core->knowledge().get(slugs[0]).source, cache::Source::L1);
    core->cache().invalidateNamespace(codec::Namespace::Knowledge);
    tier::internal::TierAccess::l1(*core).erasePrefix("knowledge:");
    // The L2 copy is still there but from an older generation: a miss.
    QVERIFY(tier::internal::TierAccess::redis(*core)->get(codec::knowledgeKey(slugs[0])));
    QCOMPARE(core->knowledge().get(slugs[0]).source, cache::Source::L3);
    QCOMPARE(core->knowledge().get(slugs[0]).source, cache::Source::L1);
  }

  void hostileSearchTextIsJustText_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("quote") << QByteArray("'; DROP TABLE journal_entries; --");
    QTest::newRow("percent") << QByteArray("100%");
    QTest::newRow("underscore") << QByteArray("a_b");
    QTest::newRow("backslash") << QByteArray("\\");
    QTest::newRow("tsquery syntax") << QByteArray("!(&|:*");
  }
  void hostileSearchTextIsJustText() {
    QFETCH(QByteArray, text);
    auto rows = core->entries().search(text.toStdString());
    Q_UNUSED(rows);
    auto c = core->pg().acquire();
    QVERIFY(c->exec("SELECT count(*) FROM journal_entries").toInt(0, 0) > 0);
    auto found = core->sessions().find(text.toStdString());
    QVERIFY(found.empty());
  }

  void expireIdleSessions() {
    const auto fresh = core->sessions().create(6, "still talking").id;
    const auto idle = core->sessions().create(6, "went quiet").id;
    QVERIFY(core->sessions().get(idle).value);
    QVERIFY(tier::internal::TierAccess::redis(*core)->get(codec::sessionKey(idle)));
    {
      auto c = core->pg().acquire();
      c->exec("UPDATE chat_sessions SET last_active_at = now() - interval '3 days' WHERE id = $1",
              {std::to_string(idle)});
    }
    QVERIFY(core->sessions().expireIdle(48) >= 1);
    // Evicted from both tiers; the next read sees the expired state.
    QVERIFY(!tier::internal::TierAccess::redis(*core)->get(codec::sessionKey(idle)));
    auto r = core->sessions().get(idle);
    QCOMPARE(r.source, cache::Source::L3);
    QCOMPARE(r.value->status, std::string("expired"));
    QCOMPARE(core->sessions().get(fresh).value->status, std::string("active"));
    QVERIFY_THROWS_EXCEPTION(BadInputError, core->sessions().appendMessage(idle, "user", "hello?"));
    auto active = core->sessions().listActive(1);
    QVERIFY(std::any_of(active.begin(), active.end(), [&](const auto& s) { return s.id == fresh; }));
    QVERIFY(std::none_of(active.begin(), active.end(), [&](const auto& s) { return s.id == idle; }));
  }

  void sessionFind() {
    auto byId = core->sessions().find("3");
    QVERIFY(!byId.empty());
    QCOMPARE(byId.front().id, 3);
    auto user = core->users().get(byId.front().user_id).value.value();
    auto byEmail = core->sessions().find(user.email);
    QVERIFY(!byEmail.empty());
    for (const auto& s : byEmail) QCOMPARE(s.user_id, user.id);
  }

  void moodStatsInvalidatedByEntryChange() {
    auto s1 = core->analytics().moodStats(5, 90);
    QVERIFY(s1.value);
    QCOMPARE(core->analytics().moodStats(5, 90).source, cache::Source::L1);
    core->entries().create(5, repo::EntryDraft{"new", "a new entry today", 10, {}});
    auto s2 = core->analytics().moodStats(5, 90);
    QCOMPARE(s2.source, cache::Source::L3);
    QCOMPARE(s2.value->entries, s1.value->entries + 1);
  }
};

QTEST_GUILESS_MAIN(TestReadPath)
#include "tst_read_path.moc"
