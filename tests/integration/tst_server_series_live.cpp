// Server-side series (issue 14, item 4) against real servers: two polls around
// a burst of GETs made by another client (traffic the core never sees) give
// commands/s > 0, a keyspace hit/miss delta equal to the GETs done and a
// latencystats p99 for GET; PostgreSQL transactions/s follow queries made
// between polls; pg_stat_statements absent is a state ("not installed"), not
// an error; present (a private server with shared_preload_libraries), the
// busiest statement shows with its calls/s and mean time.
// TIER_TEST_ON_CLUSTER
// TIER_TEST_LABELS: slow
#include <QtTest>
#include <chrono>
#include <cmath>
#include <thread>

#include "core_fixture.h"
#include "tier/core.h"
#include "tier/ops/server_series.h"
#include "tier/redis/redis_client.h"

using namespace tier;
using namespace std::chrono_literals;

namespace {

// The test's own client: the traffic the poller must see without the core doing it.
std::unique_ptr<redis::RedisClient> otherClient() {
  redis::RedisOptions o;
  o.url = redis::RedisUrl::parse(test::redisUrl());
  o.command_timeout = 2s;
  return std::make_unique<redis::RedisClient>(o);
}

}  // namespace

class TestServerSeriesIntegration : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { test::seededServers(); }

  void redisBurstOfGets() {
    TierCore core(test::coreConfig("tst_server_series"));
    auto other = otherClient();
    constexpr int kKeys = 20, kHitsPerKey = 25, kMisses = 150;
    std::vector<redis::Command> sets, gets, misses;
    for (int i = 0; i < kKeys; ++i) sets.push_back({"SET", "series:k" + std::to_string(i), "v"});
    for (int n = 0; n < kHitsPerKey; ++n)
      for (int i = 0; i < kKeys; ++i) gets.push_back({"GET", "series:k" + std::to_string(i)});
    for (int i = 0; i < kMisses; ++i) misses.push_back({"GET", "series:absent" + std::to_string(i)});
    other->pipeline(sets);

    ops::ServerSeriesPoller poller;
    const auto first = poller.poll(core);
    QVERIFY2(first.redis_ok, first.redis_error.c_str());
    QVERIFY(std::isnan(first.commands_per_s));  // one poll: no delta yet
    QVERIFY(first.connected_clients >= 1);
    QVERIFY(first.used_memory > 0);
    QCOMPARE(first.redis_scope, std::string(test::onCluster() ? "sum over 3 masters" : "1 server"));

    std::this_thread::sleep_for(200ms);
    other->pipeline(gets);
    other->pipeline(misses);
    std::this_thread::sleep_for(200ms);
    const auto p = poller.poll(core);
    QVERIFY2(p.redis_ok, p.redis_error.c_str());
    QVERIFY(!p.redis_reset);
    QVERIFY(p.interval_s > 0.3);
    const long long hits = kKeys * kHitsPerKey;
    // Only this test reads keys here (the fixture's core does not publish): the deltas are our GETs.
    QVERIFY2(p.keyspace_hits_delta >= hits && p.keyspace_hits_delta <= hits + 10,
             std::to_string(p.keyspace_hits_delta).c_str());
    QVERIFY2(p.keyspace_misses_delta >= kMisses && p.keyspace_misses_delta <= kMisses + 10,
             std::to_string(p.keyspace_misses_delta).c_str());
    QVERIFY(std::abs(p.keyspace_hit_rate - double(hits) / double(hits + kMisses)) < 0.02);
    QVERIFY2(p.commands_per_s * p.interval_s >= hits + kMisses, std::to_string(p.commands_per_s).c_str());
    QVERIFY(p.command_calls_per_s.count("get"));
    QVERIFY(p.command_calls_per_s.at("get") * p.interval_s >= hits + kMisses - 0.5);
    QVERIFY2(p.command_latency.count("get"), p.latency_note.c_str());
    const auto& get = p.command_latency.at("get");
    QVERIFY(get.p99_us > 0);
    QVERIFY(get.p50_us <= get.p99_us && get.p99_us <= get.p999_us);
    QCOMPARE(p.malformed, 0);
  }

  void pgTransactions() {
    TierCore core(test::coreConfig("tst_server_series"));
    ops::ServerSeriesPoller poller;
    auto p = poller.poll(core);
    QVERIFY2(p.pg_ok, p.pg_error.c_str());
    QVERIFY(!p.pg_database.empty());
    // PostgreSQL publishes a backend's counts at most once a second (and an
    // idle backend's within ~10 s): sum the deltas until our queries show up.
    constexpr int kQueries = 300;
    {
      auto conn = core.pg().acquire();
      for (int i = 0; i < kQueries; ++i) conn->exec("SELECT $1::int", {std::to_string(i)});
    }
    double transactions = 0;
    bool sawBlocks = false;
    const auto deadline = std::chrono::steady_clock::now() + 25s;
    while (transactions < kQueries && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1100ms);
      p = poller.poll(core);
      QVERIFY2(p.pg_ok, p.pg_error.c_str());
      QVERIFY(!p.pg_reset);
      if (!std::isnan(p.transactions_per_s)) transactions += p.transactions_per_s * p.interval_s;
      if (!std::isnan(p.block_hit_ratio)) {
        sawBlocks = true;
        QVERIFY(p.block_hit_ratio >= 0 && p.block_hit_ratio <= 1);
      }
    }
    QVERIFY2(transactions >= kQueries, std::to_string(transactions).c_str());
    QVERIFY(p.transactions_per_s >= 0);
    Q_UNUSED(sawBlocks);  // an all-cached interval may read no block at all: no ratio, not an error
  }

  void statementsNotInstalled() {
    TierCore core(test::coreConfig("tst_server_series"));
    ops::ServerSeriesPoller poller;
    poller.poll(core);
    const auto p = poller.poll(core);
    QVERIFY2(p.pg_ok, p.pg_error.c_str());
    QCOMPARE(p.statements_state, ops::StatementsState::NotInstalled);
    QCOMPARE(p.statements_note, std::string("pg_stat_statements not installed"));
    QVERIFY(p.top_statements.empty());
  }

  // A private PostgreSQL: the extension first created without the library
  // preloaded (unreadable, said why), then preloaded (the top statements).
  void statementsPresent() {
    if (test::onCluster()) QSKIP("PostgreSQL only: the single-node run covers it");
    test::TestPostgres pg;
    pg.psql("CREATE EXTENSION pg_stat_statements");
    CoreConfig cfg = test::coreConfig("tst_server_series");
    cfg.pg_conninfo = pg.conninfo();
    {
      TierCore core(cfg);
      ops::ServerSeriesPoller poller;
      const auto p = poller.poll(core);
      QVERIFY2(p.pg_ok, p.pg_error.c_str());
      QCOMPARE(p.statements_state, ops::StatementsState::Unreadable);
      QVERIFY2(p.statements_note.find("shared_preload_libraries") != std::string::npos, p.statements_note.c_str());
    }
    pg.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    pg.stop();
    pg.start();
    cfg.pg_conninfo = pg.conninfo();
    TierCore core(cfg);
    ops::ServerSeriesPoller poller;
    auto p = poller.poll(core);
    QVERIFY2(p.pg_ok, p.pg_error.c_str());
    QCOMPARE(p.statements_state, ops::StatementsState::Available);
    // A statement new to pg_stat_statements shows from the poll after it first appears.
    auto run = [&](int n) {
      auto conn = core.pg().acquire();
      for (int i = 0; i < n; ++i) conn->exec("SELECT pg_sleep(0.002), $1::int AS series_probe", {std::to_string(i)});
    };
    run(5);
    p = poller.poll(core);
    run(100);
    p = poller.poll(core);
    QCOMPARE(p.statements_state, ops::StatementsState::Available);
    QVERIFY(!p.top_statements.empty());
    QVERIFY(p.top_statements.size() <= 5);
    const auto& top = p.top_statements.front();
    QVERIFY2(top.query.find("series_probe") != std::string::npos, top.query.c_str());
    QVERIFY2(top.calls_per_s * p.interval_s > 99 && top.calls_per_s * p.interval_s < 101,
             std::to_string(top.calls_per_s).c_str());
    QVERIFY2(top.mean_ms >= 2.0 && top.mean_ms < 200, std::to_string(top.mean_ms).c_str());
    QVERIFY(top.query.find("'") == std::string::npos);  // normalized: constants are $n, never values

    // A utility statement keeps its literals in pg_stat_statements: masked before anything shows it.
    {
      auto conn = core.pg().acquire();
      for (int i = 0; i < 3; ++i) conn->exec("SET application_name = 'series-secret-xyz'");
    }
    const auto raw = ops::readServerCounters(core);
    bool seen = false;
    for (const auto& st : raw.pg.statements) {
      QVERIFY2(st.query.find("series-secret") == std::string::npos, st.query.c_str());
      // PostgreSQL 15 keeps this literal as run (no $1): the mask, not normalization, hid it.
      if (st.query.find("application_name") != std::string::npos) seen = st.query.find("'***'") != std::string::npos;
    }
    QVERIFY(seen);
  }
};

QTEST_MAIN(TestServerSeriesIntegration)
#include "tst_server_series_live.moc"
