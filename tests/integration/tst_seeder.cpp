// The demo-data seeder on a real PostgreSQL: exact counts, consistent foreign
// keys and message threads, determinism from the seed, throttled progress that
// reaches its total, and refusal to seed over existing data.
#include <QtTest>

#include <map>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"
#include "tier/sandbox/seeder.h"
#include "tier/schema/migrations.h"

using tier::pg::PgOptions;
using tier::pg::PgPool;
using tier::sandbox::SeedOptions;
using tier::sandbox::Seeder;
using tier::sandbox::SeedProgress;

namespace {
SeedOptions small(std::uint64_t seed = 42) {
  SeedOptions o;
  o.users = 20;
  o.entries = 200;
  o.sessions = 20;
  o.min_messages = 5;
  o.max_messages = 10;
  o.knowledge = 10;
  o.random_seed = seed;
  return o;
}

// A digest of everything the seed controls (timestamps move with the clock).
constexpr const char* kFingerprintSql =
    "SELECT (SELECT md5(string_agg(concat_ws('|', id, email, display_name, timezone), ',' ORDER BY id)) FROM users),"
    " (SELECT md5(string_agg(concat_ws('|', id, user_id, title, content, mood_score, tags::text), ',' ORDER BY id))"
    "    FROM journal_entries),"
    " (SELECT md5(string_agg(concat_ws('|', id, user_id, title, status, message_count), ',' ORDER BY id))"
    "    FROM chat_sessions),"
    " (SELECT md5(string_agg(concat_ws('|', id, session_id, seq, role, content), ',' ORDER BY id)) FROM chat_messages),"
    " (SELECT md5(string_agg(concat_ws('|', id, slug, topic, title, body), ',' ORDER BY id)) FROM psychology_knowledge)";

std::string fingerprint(PgPool& pool) {
  auto c = pool.acquire();
  const auto r = c->exec(kFingerprintSql);
  std::string out;
  for (int i = 0; i < r.columns(); ++i) out += std::string(r.value(0, i)) + ";";
  return out;
}
}  // namespace

class TestSeeder : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<tier::test::TestPostgres> server_;
  int dbCounter_ = 0;

  std::unique_ptr<PgPool> freshDatabase(bool migrated = true) {
    const std::string db = "seed_" + std::to_string(++dbCounter_);
    server_->psql("CREATE DATABASE " + db);
    PgOptions o;
    o.conninfo = server_->conninfo() + " dbname=" + db;
    auto pool = std::make_unique<PgPool>(o);
    if (migrated) tier::schema::migrate(*pool);
    return pool;
  }
  static long long count(PgPool& pool, const std::string& sql) {
    auto c = pool.acquire();
    return c->exec(sql).toInt(0, 0);
  }

 private Q_SLOTS:
  void initTestCase() { server_ = std::make_unique<tier::test::TestPostgres>(); }
  void cleanupTestCase() { server_.reset(); }

  void exactCountsAndConsistency() {
    auto pool = freshDatabase();
    Seeder seeder(*pool);
    QVERIFY(!seeder.isSeeded());
    const auto r = seeder.seed(small());
    QVERIFY(seeder.isSeeded());
    QCOMPARE(r.users, 20LL);
    QCOMPARE(r.entries, 200LL);
    QCOMPARE(r.sessions, 20LL);
    QCOMPARE(r.knowledge, 10LL);
    QCOMPARE_GE(r.messages, 20LL * 5);
    QCOMPARE_LE(r.messages, 20LL * 10);
    QCOMPARE_GT(r.seconds, 0.0);
    QCOMPARE(count(*pool, "SELECT count(*) FROM users"), 20LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM journal_entries"), 200LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_sessions"), 20LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_messages"), r.messages);
    QCOMPARE(count(*pool, "SELECT count(*) FROM psychology_knowledge"), 10LL);
    QCOMPARE(count(*pool, "SELECT count(DISTINCT email) FROM users"), 20LL);
    QCOMPARE(count(*pool, "SELECT count(DISTINCT slug) FROM psychology_knowledge"), 10LL);
    // Every reference points at a real row.
    QCOMPARE(count(*pool, "SELECT count(*) FROM journal_entries e LEFT JOIN users u ON u.id = e.user_id "
                          "WHERE u.id IS NULL"),
             0LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_messages m LEFT JOIN chat_sessions s ON s.id = m.session_id "
                          "WHERE s.id IS NULL"),
             0LL);
    // message_count matches the thread, seq runs 1..n, roles alternate starting with the user.
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_sessions s WHERE message_count <> "
                          "(SELECT count(*) FROM chat_messages m WHERE m.session_id = s.id)"),
             0LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_sessions s WHERE message_count < 5 OR message_count > 10"), 0LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_sessions s WHERE (SELECT max(seq) FROM chat_messages m "
                          "WHERE m.session_id = s.id) <> message_count"),
             0LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_messages WHERE role <> CASE WHEN seq % 2 = 1 THEN 'user' "
                          "ELSE 'assistant' END"),
             0LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id "
                          "WHERE m.created_at < s.created_at OR m.created_at > s.last_active_at"),
             0LL);
    // Plausible values.
    QCOMPARE(count(*pool, "SELECT count(*) FROM journal_entries WHERE created_at < now() - interval '366 days' "
                          "OR created_at > now()"),
             0LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM journal_entries WHERE length(content) < 40"), 0LL);
    QCOMPARE_GT(count(*pool, "SELECT count(DISTINCT mood_score) FROM journal_entries"), 5LL);
    QCOMPARE_GT(count(*pool, "SELECT count(*) FROM journal_entries WHERE cardinality(tags) > 0"), 0LL);
    QCOMPARE_GT(count(*pool, "SELECT count(*) FROM chat_sessions WHERE status = 'active' "
                             "AND last_active_at > now() - interval '48 hours'"),
                0LL);
    QCOMPARE_GT(count(*pool, "SELECT count(*) FROM chat_sessions WHERE status = 'closed'"), 0LL);
    QCOMPARE(count(*pool, "SELECT count(*) FROM psychology_knowledge WHERE slug !~ '^[a-z0-9-]+-[0-9]+$'"), 0LL);
    QCOMPARE_GT(count(*pool, "SELECT count(DISTINCT topic) FROM psychology_knowledge"), 3LL);
    QCOMPARE_GT(count(*pool, "SELECT count(*) FROM journal_entries WHERE content_tsv @@ plainto_tsquery('english', "
                             "'feel')"),
                0LL);
    // ANALYZE ran: the planner knows the row counts.
    QCOMPARE(count(*pool, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'journal_entries'"), 200LL);
  }

  void deterministicFromSeed() {
    auto a = freshDatabase();
    auto b = freshDatabase();
    auto other = freshDatabase();
    Seeder(*a).seed(small(7));
    Seeder(*b).seed(small(7));
    Seeder(*other).seed(small(8));
    const std::string fa = fingerprint(*a);
    QCOMPARE(fa, fingerprint(*b));
    QVERIFY(fa != fingerprint(*other));
  }

  void progressIsReportedAndReachesTotal() {
    auto pool = freshDatabase();
    SeedOptions o = small();
    o.entries = 5000;  // enough rows for the 1 % throttle to matter
    std::map<std::string, std::vector<SeedProgress>> seen;
    const auto r = Seeder(*pool).seed(o, [&](const SeedProgress& p) { seen[p.table].push_back(p); });
    const std::map<std::string, long long> totals{{"users", r.users},
                                                  {"journal_entries", r.entries},
                                                  {"chat_sessions", r.sessions},
                                                  {"chat_messages", r.messages},
                                                  {"psychology_knowledge", r.knowledge}};
    QCOMPARE(seen.size(), totals.size());
    for (const auto& [table, reports] : seen) {
      QVERIFY2(!reports.empty(), table.c_str());
      QCOMPARE(reports.back().done, totals.at(table));
      QCOMPARE(reports.back().total, totals.at(table));
      for (std::size_t i = 1; i < reports.size(); ++i) QCOMPARE_GT(reports[i].done, reports[i - 1].done);
      // Throttled to 1 % steps (plus rare 0.25 s ticks): small tables report each row, big ones ~100 times.
      const long long step = std::max(1LL, totals.at(table) / 100);
      QCOMPARE_LE((long long)reports.size(), totals.at(table) / step + 5);
    }
    QCOMPARE_GT(seen["journal_entries"].size(), std::size_t(50));
    QCOMPARE_LE(seen["journal_entries"].size(), std::size_t(105));
  }

  void refusesNonEmptyOrUnmigratedDatabase() {
    auto pool = freshDatabase();
    Seeder seeder(*pool);
    seeder.seed(small());
    const std::string before = fingerprint(*pool);
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, seeder.seed(small()));
    QCOMPARE(fingerprint(*pool), before);

    auto bare = freshDatabase(false);
    Seeder unmigrated(*bare);
    QVERIFY(!unmigrated.isSeeded());
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, unmigrated.seed(small()));
  }

  void rejectsNonsenseSizes() {
    auto pool = freshDatabase();
    SeedOptions o = small();
    o.min_messages = 10;
    o.max_messages = 5;
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, Seeder(*pool).seed(o));
    o = small();
    o.users = 0;
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, Seeder(*pool).seed(o));
    QVERIFY(!Seeder(*pool).isSeeded());
  }
};

QTEST_GUILESS_MAIN(TestSeeder)
#include "tst_seeder.moc"
