// TIER_TEST_LABELS: concurrency
// Schema migrations on a real PostgreSQL: ordered, idempotent, safe when two
// migrators race, and the schema behaves as documented (version trigger, mood_stats).
#include <QtTest>

#include <future>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"
#include "tier/schema/migrations.h"

using tier::pg::PgOptions;
using tier::pg::PgPool;

class TestMigrations : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<tier::test::TestPostgres> server_;
  int dbCounter_ = 0;

  // A fresh, empty database on the shared server.
  PgOptions freshDatabase() {
    const std::string db = "mig_" + std::to_string(++dbCounter_);
    server_->psql("CREATE DATABASE " + db);
    PgOptions o;
    o.conninfo = server_->conninfo() + " dbname=" + db;
    return o;
  }
  static int latestEmbedded() {
    int v = 0;
    for (const auto& m : tier::schema::embeddedMigrations()) v = std::max(v, m.version);
    return v;
  }

 private Q_SLOTS:
  void initTestCase() { server_ = std::make_unique<tier::test::TestPostgres>(); }
  void cleanupTestCase() { server_.reset(); }

  void embeddedMigrationsAreNumbered() {
    const auto& all = tier::schema::embeddedMigrations();
    QVERIFY(!all.empty());
    QCOMPARE(all.front().version, 1);
    for (std::size_t i = 0; i < all.size(); ++i) {
      char prefix[8];
      std::snprintf(prefix, sizeof prefix, "%03d_", all[i].version);
      QVERIFY2(std::string(all[i].name).rfind(prefix, 0) == 0, all[i].name);
      QVERIFY(std::string(all[i].sql).find("CREATE") != std::string::npos);
      if (i > 0) QCOMPARE_GT(all[i].version, all[i - 1].version);
    }
  }

  void freshDatabaseIsVersionZero() {
    PgPool pool(freshDatabase());
    QCOMPARE(tier::schema::currentVersion(pool), 0);
  }

  void migrateTwiceIsIdempotent() {
    PgPool pool(freshDatabase());
    const auto first = tier::schema::migrate(pool);
    QCOMPARE(first.from_version, 0);
    QCOMPARE(first.to_version, latestEmbedded());
    QCOMPARE(first.applied.size(), tier::schema::embeddedMigrations().size());
    QCOMPARE(first.applied.front(), std::string(tier::schema::embeddedMigrations().front().name));
    QCOMPARE(tier::schema::currentVersion(pool), latestEmbedded());

    const auto second = tier::schema::migrate(pool);
    QCOMPARE(second.from_version, latestEmbedded());
    QCOMPARE(second.to_version, latestEmbedded());
    QVERIFY(second.applied.empty());

    auto c = pool.acquire();
    const auto rows = c->exec("SELECT version, name FROM schema_migrations ORDER BY version");
    QCOMPARE(rows.rows(), int(tier::schema::embeddedMigrations().size()));
    for (int i = 0; i < rows.rows(); ++i) {
      QCOMPARE(rows.toInt(i, 0), (long long)tier::schema::embeddedMigrations()[std::size_t(i)].version);
      QCOMPARE(rows.value(i, 1), std::string_view(tier::schema::embeddedMigrations()[std::size_t(i)].name));
    }
    for (const char* table : {"users", "journal_entries", "chat_sessions", "chat_messages", "psychology_knowledge",
                              "cache_audit", "user_entry_changes", "tier_deployment", "tier_load_runs",
                              "alert_history"})
      QCOMPARE(c->exec("SELECT to_regclass($1) IS NOT NULL", {std::string(table)}).value(0, 0), std::string_view("t"));
  }

  void concurrentMigratorsAreSafe() {
    const PgOptions o = freshDatabase();
    PgPool a(o), b(o), d(o);
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto run = [&](PgPool& pool) {
      start.wait();
      return tier::schema::migrate(pool);
    };
    auto fa = std::async(std::launch::async, run, std::ref(a));
    auto fb = std::async(std::launch::async, run, std::ref(b));
    auto fd = std::async(std::launch::async, run, std::ref(d));
    go.set_value();
    tier::schema::MigrateResult ra, rb, rd;
    try {
      ra = fa.get();
      rb = fb.get();
      rd = fd.get();
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    // Every migration applied exactly once, by whichever migrator got there first.
    QCOMPARE(ra.applied.size() + rb.applied.size() + rd.applied.size(), tier::schema::embeddedMigrations().size());
    for (const auto* r : {&ra, &rb, &rd}) QCOMPARE(r->to_version, latestEmbedded());
    auto c = a.acquire();
    QCOMPARE(c->exec("SELECT count(*) FROM schema_migrations").toInt(0, 0),
             (long long)tier::schema::embeddedMigrations().size());
  }

  void updateBumpsVersion() {
    PgPool pool(freshDatabase());
    tier::schema::migrate(pool);
    auto c = pool.acquire();
    const auto id = c->exec("INSERT INTO users (email, display_name) VALUES ($1, $2) RETURNING id, version",
                            {std::string("a@example.com"), std::string("A")});
    QCOMPARE(id.toInt(0, 1), 1LL);
    const std::string uid(id.value(0, 0));
    QCOMPARE(c->exec("UPDATE users SET display_name = 'B' WHERE id = $1 RETURNING version", {uid}).toInt(0, 0), 2LL);
    // Writers that bump it themselves get the same single step.
    QCOMPARE(c->exec("UPDATE users SET version = version + 1 WHERE id = $1 RETURNING version", {uid}).toInt(0, 0),
             3LL);
  }

  void moodStatsAggregates() {
    PgPool pool(freshDatabase());
    tier::schema::migrate(pool);
    auto c = pool.acquire();
    const std::string uid(c->exec("INSERT INTO users (email, display_name) VALUES ('m@example.com', 'M') RETURNING id")
                              .value(0, 0));
    c->exec("INSERT INTO journal_entries (user_id, title, content, mood_score, created_at) VALUES "
            "($1, 't', 'c', 4, now() - interval '1 day'), ($1, 't', 'c', 8, now() - interval '2 days'),"
            "($1, 't', 'c', 1, now() - interval '40 days')",
            {uid});
    const auto week = c->exec("SELECT entries, avg_mood, min_mood, max_mood FROM mood_stats($1, $2)", {uid, std::string("7")});
    QCOMPARE(week.toInt(0, 0), 2LL);
    QCOMPARE(week.toDouble(0, 1), 6.0);
    QCOMPARE(week.toInt(0, 2), 4LL);
    QCOMPARE(week.toInt(0, 3), 8LL);
    QCOMPARE(c->exec("SELECT entries FROM mood_stats($1, 90)", {uid}).toInt(0, 0), 3LL);
    QCOMPARE(c->exec("SELECT entries FROM mood_stats(-1, 90)").toInt(0, 0), 0LL);
    // The statistic's version only goes up, also when an entry is deleted.
    const auto v1 = c->exec("SELECT version FROM mood_stats($1, 90)", {uid}).toInt(0, 0);
    QCOMPARE(v1, 3LL);
    c->exec("DELETE FROM journal_entries WHERE user_id = $1 AND mood_score = 1", {uid});
    const auto v2 = c->exec("SELECT version FROM mood_stats($1, 90)", {uid}).toInt(0, 0);
    QVERIFY(v2 > v1);
    c->exec("UPDATE journal_entries SET title = 'edited' WHERE user_id = $1", {uid});
    QVERIFY(c->exec("SELECT version FROM mood_stats($1, 90)", {uid}).toInt(0, 0) > v2);
    c->exec("INSERT INTO journal_entries (user_id, title, content, mood_score, created_at) VALUES "
            "($1, 't', 'c', 1, now() - interval '40 days')",
            {uid});
    // The full-text index column is maintained by the database.
    QCOMPARE(c->exec("SELECT count(*) FROM journal_entries WHERE content_tsv @@ plainto_tsquery('english', 'c')")
                 .toInt(0, 0),
             3LL);
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError,
                             c->exec("INSERT INTO journal_entries (user_id, title, content, mood_score) "
                                     "VALUES ($1, 't', 'c', 11)",
                                     {uid}));
  }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "tst_migrations.moc"
