// Invalidate, warm, inspect and health against real servers; every run audited.
// TIER_TEST_ON_CLUSTER
#include <QTest>
#include <future>
#include <thread>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/health.h"
#include "tier/ops/inspect.h"
#include "tier/ops/invalidation.h"
#include "tier/ops/warming.h"
#include "tier/schema/migrations.h"

using namespace tier;

class TestOperations : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> core;

  long long redisCount(const std::string& pattern) { return static_cast<long long>(test::scanKeys(pattern).size()); }
  void readSome(int n) {
    for (int i = 1; i <= n; ++i) core->entries().get(i);
  }

 private Q_SLOTS:
  void initTestCase() { test::seededServers(); }
  void init() {
    test::flushRedis();
    core = std::make_unique<TierCore>(test::coreConfig());
  }
  void cleanup() { core.reset(); }

  // A read that fetched the old L2 copy is held just before its L1 fill while
  // an invalidation runs; once invalidate() has returned, L1 must not serve
  // that copy. ops::invalidate used to UNLINK and erase L1 itself, around the
  // cache's write epochs, and the held read then put the old copy back.
  void invalidationBeatsAHeldFill_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("target");
    QTest::newRow("pattern") << int(ops::InvalidateKind::Pattern) << QStringLiteral("entry:v1:4700*");
    QTest::newRow("key") << int(ops::InvalidateKind::Key) << QStringLiteral("entry:v1:470001");
  }
  void invalidationBeatsAHeldFill() {
    QFETCH(int, kind);
    QFETCH(QString, target);
    const std::string key = codec::entryKey(470001);
    auto l3 = []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":2})", 2}; };
    core->cache().writeThrough(codec::Namespace::Entry, key, R"({"v":1})", 1);
    internal::TierAccess::l1(*core).clear();  // the next read goes to L2 and fills L1 from it
    std::promise<void> entered, release;
    auto released = release.get_future().share();
    std::thread reader([&] {
      core->cache().read(codec::Namespace::Entry, key, l3, [&](std::string_view) {
        entered.set_value();  // the L2 copy is fetched and decoded; its L1 fill comes next
        released.wait();
        return true;
      });
    });
    entered.get_future().wait();
    ops::InvalidateRequest req{static_cast<ops::InvalidateKind>(kind), target.toStdString(), false};
    const auto res = ops::invalidate(*core, req);
    release.set_value();
    reader.join();
    QCOMPARE(res.deleted, 1);
    const auto inL1 = core->cache().peekL1(key);
    QVERIFY2(!inL1, inL1 ? inL1->payload.c_str() : "");
    const auto after = core->cache().read(codec::Namespace::Entry, key, l3);
    QVERIFY(after.value);
    QCOMPARE(after.value->payload, std::string(R"({"v":2})"));
    QCOMPARE(after.source, cache::Source::L3);
  }

  void patternDryRunCountsWhatDeleteRemoves() {
    readSome(120);
    core->sessions().get(1);
    const long long before = redisCount("entry:*");
    QCOMPARE(before, 120);
    ops::InvalidateRequest req{ops::InvalidateKind::Pattern, "entry:*", true};
    req.scan_count = 7;  // many small batches
    int progressCalls = 0;
    auto dry = ops::invalidate(*core, req, [&](const ops::InvalidateProgress&) { ++progressCalls; });
    QCOMPARE(dry.matched, before);
    QCOMPARE(dry.deleted, 0);
    QCOMPARE(int(dry.sample.size()), 20);
    QVERIFY(progressCalls >= 1);
    QCOMPARE(redisCount("entry:*"), before);  // a dry run changes nothing
    req.dry_run = false;
    auto real = ops::invalidate(*core, req);
    QCOMPARE(real.matched, before);
    QCOMPARE(real.deleted, before);
    QCOMPARE(real.l1_dropped, 120);
    QCOMPARE(redisCount("entry:*"), 0);
    QCOMPARE(redisCount("session:*"), 1);  // other namespaces untouched
    QVERIFY(real.audit_id > 0);
    QVERIFY(real.audit_error.empty());
    auto rows = ops::readAudit(*core, 5, "invalidate.pattern");
    QVERIFY(!rows.empty());
    QCOMPARE(rows.front().id, real.audit_id);
    QCOMPARE(rows.front().affected, before);
    QCOMPARE(rows.front().result, std::string("ok"));
  }

  void cancelStopsBetweenBatches() {
    readSome(100);
    std::atomic<bool> cancel{true};
    ops::InvalidateRequest req{ops::InvalidateKind::Pattern, "entry:*", false};
    auto r = ops::invalidate(*core, req, {}, &cancel);
    QVERIFY(r.cancelled);
    QCOMPARE(r.deleted, 0);
    QCOMPARE(redisCount("entry:*"), 100);
  }

  void keyInvalidation() {
    core->sessions().get(2);
    auto r = ops::invalidate(*core, {ops::InvalidateKind::Key, codec::sessionKey(2), false});
    QCOMPARE(r.matched, 1);
    QCOMPARE(r.deleted, 1);
    QVERIFY(!tier::internal::TierAccess::l1(*core).contains(codec::sessionKey(2)));
    QCOMPARE(core->sessions().get(2).source, cache::Source::L3);
  }

  void userInvalidation() {
    auto entries = core->entries().listByUser(4, 1000);
    QVERIFY(!entries.empty());
    for (const auto& e : entries) core->entries().get(e.id);
    core->users().get(4);
    core->analytics().moodStats(4, 30);
    readSome(3);  // other users' keys must survive (unless they belong to user 4)
    ops::InvalidateRequest req{ops::InvalidateKind::User, "4", true};
    auto dry = ops::invalidate(*core, req);
    QCOMPARE(dry.matched, static_cast<long long>(entries.size()) + 2);
    req.dry_run = false;
    auto real = ops::invalidate(*core, req);
    QCOMPARE(real.deleted, dry.matched);
    QCOMPARE(core->users().get(4).source, cache::Source::L3);
  }

  void namespaceInvalidationIsAGenerationBump() {
    readSome(30);
    auto dry = ops::invalidate(*core, {ops::InvalidateKind::Namespace, "entry", true});
    QCOMPARE(dry.matched, 30);
    auto real = ops::invalidate(*core, {ops::InvalidateKind::Namespace, "entry", false});
    QVERIFY(real.new_generation >= 1);
    QCOMPARE(real.l1_dropped, 30);
    QCOMPARE(redisCount("entry:*"), 30);  // keys stay until they expire...
    TierCore other(test::coreConfig());
    QCOMPARE(other.entries().get(1).source, cache::Source::L3);  // ...but are misses everywhere
  }

  void badRequestsChangeNothing_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("pattern without namespace") << int(ops::InvalidateKind::Pattern) << QByteArray("*");
    QTest::newRow("pattern unknown namespace") << int(ops::InvalidateKind::Pattern) << QByteArray("secrets:*");
    QTest::newRow("unknown namespace") << int(ops::InvalidateKind::Namespace) << QByteArray("sessions");
    QTest::newRow("1 MB key") << int(ops::InvalidateKind::Key) << QByteArray(1 << 20, 'k');
    QTest::newRow("non-UTF-8 key") << int(ops::InvalidateKind::Key) << QByteArray("entry:v1:\xff\xfe");
    QTest::newRow("foreign key") << int(ops::InvalidateKind::Key) << QByteArray("tc:nsgen:entry");
    QTest::newRow("user not numeric") << int(ops::InvalidateKind::User) << QByteArray("1; DROP TABLE users");
  }
  void badRequestsChangeNothing() {
    QFETCH(int, kind);
    QFETCH(QByteArray, target);
    readSome(10);
    ops::InvalidateRequest req{static_cast<ops::InvalidateKind>(kind), target.toStdString(), false};
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::invalidate(*core, req));
    QCOMPARE(redisCount("entry:*"), 10);
  }

  void unknownUserIsNotFound() {
    QVERIFY_THROWS_EXCEPTION(NotFoundError, ops::invalidate(*core, {ops::InvalidateKind::User, "987654321", true}));
  }

  void warmKnowledge() {
    auto r = ops::warm(*core, ops::WarmSet::Knowledge);
    QCOMPARE(r.candidates, test::smallSeed().knowledge);
    QCOMPARE(r.warmed, r.candidates);
    QCOMPARE(r.failed, 0);
    QCOMPARE(redisCount("knowledge:*"), r.candidates);
    QVERIFY(r.audit_id > 0);
    auto slugs = core->knowledge().allSlugs();
    QCOMPARE(core->knowledge().get(slugs.back()).source, cache::Source::L1);
  }

  void warmSessionsAndEntries() {
    auto s = ops::warm(*core, ops::WarmSet::Sessions, ops::WarmOptions{24 * 365 * 5});
    QVERIFY(s.candidates > 0);
    QCOMPARE(s.warmed, s.candidates);
    ops::WarmOptions o;
    o.top_users = 3;
    o.entries_per_user = 4;
    auto e = ops::warm(*core, ops::WarmSet::Entries, o);
    QCOMPARE(e.candidates, 12);
    QCOMPARE(redisCount("entry:*"), 12);
  }

  void inspectSessionAcrossTiers() {
    auto i0 = ops::inspectSession(*core, 6);
    QVERIFY(!i0.l1.present);
    QVERIFY(!i0.l2.present);
    QVERIFY(i0.l3_present);
    QVERIFY(!i0.stale);
    core->sessions().get(6);
    auto i1 = ops::inspectSession(*core, 6);
    QVERIFY(i1.l1.present);
    QVERIFY(i1.l2.present);
    QVERIFY(i1.l2_ttl_s > 0 && i1.l2_ttl_s <= 2 * 7200);
    QVERIFY(i1.l2.bytes > codec::kEnvelopeHeaderBytes);
    QVERIFY(!i1.stale);
    // Change the row behind the cache's back: the inspector says stale, and why.
    auto c = core->pg().acquire();
    c->exec("UPDATE chat_sessions SET title = 'changed by a DBA' WHERE id = 6");
    auto i2 = ops::inspectSession(*core, 6);
    QVERIFY(i2.stale);
    QVERIFY(std::find(i2.diff.begin(), i2.diff.end(), "title") != i2.diff.end());
    QVERIFY(std::find(i2.diff.begin(), i2.diff.end(), "version") != i2.diff.end());
    // Evict: leaves L1 and L2, audited.
    QVERIFY(ops::evictSession(*core, 6));
    auto i3 = ops::inspectSession(*core, 6);
    QVERIFY(!i3.l1.present);
    QVERIFY(!i3.l2.present);
    QCOMPARE(ops::readAudit(*core, 1).front().action, std::string("evict.session"));
    // Refresh: back in both tiers, fresh.
    ops::refreshSession(*core, 6);
    auto i4 = ops::inspectSession(*core, 6);
    QVERIFY(i4.l2.present);
    QVERIFY(!i4.stale);
  }

  // Users, entries and mood statistics: inspected, evicted and refreshed
  // through the cache like sessions, each action audited under its own name.
  void inspectEvictRefreshUserEntryStats() {
    const std::int64_t entryId = 7;
    const auto entry = core->entries().get(entryId).value;
    QVERIFY(entry);
    const std::int64_t userId = entry->user_id;
    core->users().get(userId);
    core->analytics().moodStats(userId, 7);
    auto u = ops::inspectUser(*core, userId);
    QVERIFY(u.l1.present && u.l2.present && u.l3_present && !u.stale);
    QCOMPARE(u.key, codec::userKey(userId));
    auto st = ops::inspectStats(*core, userId, 7);
    QVERIFY(st.l2.present && !st.stale);
    QCOMPARE(st.l3->entries, st.cached->entries);
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::inspectStats(*core, userId, 14));

    auto c = core->pg().acquire();
    c->exec("UPDATE journal_entries SET mood_score = CASE WHEN mood_score = 1 THEN 2 ELSE 1 END WHERE id = 7");
    auto e = ops::inspectEntry(*core, entryId);
    QVERIFY(e.stale && e.l1_stale && e.l2_stale);
    auto mood = std::find_if(e.field_values.begin(), e.field_values.end(), [](const auto& f) { return f.field == "mood_score"; });
    QVERIFY(mood != e.field_values.end());
    QCOMPARE(mood->cached, std::to_string(entry->mood_score));
    QVERIFY(mood->database != mood->cached);

    QVERIFY(ops::evictEntity(*core, ops::Entity::Entry, entryId));
    QCOMPARE(ops::readAudit(*core, 1).front().action, std::string("evict.entry"));
    auto e2 = ops::inspectEntry(*core, entryId);
    QVERIFY(!e2.l1.present && !e2.l2.present && !e2.stale);
    ops::refreshEntity(*core, ops::Entity::Entry, entryId);
    QCOMPARE(ops::readAudit(*core, 1).front().action, std::string("refresh.entry"));
    auto e3 = ops::inspectEntry(*core, entryId);
    QVERIFY(e3.l2.present && !e3.stale);
    QCOMPARE(e3.l2.version, e3.l3_version);

    QVERIFY(ops::evictEntity(*core, ops::Entity::Stats, userId));  // every period of the user
    QVERIFY(!ops::inspectStats(*core, userId, 7).l2.present);
    ops::refreshEntity(*core, ops::Entity::Stats, userId);
    QVERIFY(ops::inspectStats(*core, userId, 30).l2.present);
    QVERIFY_THROWS_EXCEPTION(NotFoundError, ops::refreshEntity(*core, ops::Entity::User, 999999999));
    QVERIFY_THROWS_EXCEPTION(NotFoundError, ops::inspectUser(*core, 999999999));
  }

  void inspectUnknownSession() {
    QVERIFY_THROWS_EXCEPTION(NotFoundError, ops::inspectSession(*core, 999999999));
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::inspectSession(*core, -1));
  }

  void health() {
    auto h = ops::checkHealth(*core);
    QVERIFY2(h.redis.ok, h.redis.error.c_str());
    QVERIFY(!h.redis.version.empty());
    QVERIFY(h.redis.latency_ms > 0);
    // The run this is (tst_operations or tst_operations_on_cluster) is the one the health reports.
    QCOMPARE(QString::fromStdString(h.redis.mode),
             test::onCluster() ? QStringLiteral("cluster") : QStringLiteral("single"));
    if (test::onCluster()) {
      QCOMPARE(int(h.redis.nodes.size()), 6);  // 3 masters + 3 replicas, every one shown
      QCOMPARE(h.redis.nodes_down, 0);
    }
    QVERIFY2(h.postgres.ok, h.postgres.error.c_str());
    QVERIFY(QString::fromStdString(h.postgres.version).startsWith(QLatin1String("15")));
    QVERIFY(h.postgres.latency_ms > 0);
    QVERIFY(h.postgres.connections >= 1);
    QCOMPARE(h.postgres.schema_version, tier::schema::embeddedMigrations().back().version);
  }

  void healthWithServersDown() {
    auto cfg = test::coreConfig();
    cfg.redis_url = "redis://127.0.0.1:1/0";
    cfg.pg_conninfo = "host=127.0.0.1 port=1 dbname=x user=x password=hunter2 connect_timeout=1";
    TierCore down(cfg);
    auto h = ops::checkHealth(down);
    QVERIFY(!h.redis.ok);
    QVERIFY(!h.redis.error.empty());
    QVERIFY(!h.postgres.ok);
    QVERIFY(!h.postgres.error.empty());
    QVERIFY(h.postgres.error.find("hunter2") == std::string::npos);
    QVERIFY(h.postgres.endpoint.find("hunter2") == std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestOperations)
#include "tst_operations.moc"
