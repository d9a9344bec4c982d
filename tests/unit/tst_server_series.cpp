// Server-side series (issue 14, item 4): parsing of INFO, INFO latencystats and
// INFO commandstats text (malformed lines skipped and counted, never thrown),
// and the point between two polls: rates from deltas, counter resets skipped.
#include <QTest>
#include <cmath>

#include "tier/common/error.h"
#include "tier/ops/server_series.h"

using namespace tier::ops;

Q_DECLARE_METATYPE(std::string)

namespace {

ServerCounters counters(long long at_ms, long long hits, long long misses, long long commands) {
  ServerCounters c;
  c.at_ms = at_ms;
  c.redis_configured = true;
  c.redis.ok = true;
  c.redis.scope = "1 server";
  c.redis.nodes = {"127.0.0.1:6379/run-a"};
  c.redis.keyspace_hits = hits;
  c.redis.keyspace_misses = misses;
  c.redis.total_commands = commands;
  c.redis.connected_clients = 7;
  c.redis.used_memory = 1 << 20;
  c.pg.ok = true;
  c.pg.database = "tier";
  return c;
}

}  // namespace

class TestServerSeries : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void latencyStats_data() {
    QTest::addColumn<std::string>("text");
    QTest::addColumn<int>("parsed");
    QTest::addColumn<int>("malformed");
    QTest::addColumn<double>("getP99");  // NaN: get not parsed
    const double none = std::nan("");
    QTest::newRow("redis 7") << std::string(
                                    "# Latencystats\r\n"
                                    "latency_percentiles_usec_set:p50=8.031,p99=8.031,p99.9=8.031\r\n"
                                    "latency_percentiles_usec_get:p50=5.023,p99=12.5,p99.9=40.1\r\n")
                             << 2 << 0 << 12.5;
    QTest::newRow("subcommand") << std::string("latency_percentiles_usec_client|list:p50=1,p99=2,p99.9=3\n") << 1 << 0
                                << none;
    QTest::newRow("empty section (redis 6)") << std::string("# Latencystats\r\n") << 0 << 0 << none;
    QTest::newRow("no colon") << std::string("latency_percentiles_usec_get p99=1\n") << 0 << 1 << none;
    QTest::newRow("not a number") << std::string("latency_percentiles_usec_get:p50=1,p99=abc,p99.9=3\n") << 0 << 1
                                  << none;
    QTest::newRow("negative") << std::string("latency_percentiles_usec_get:p50=1,p99=-4,p99.9=3\n") << 0 << 1 << none;
    QTest::newRow("no p99") << std::string("latency_percentiles_usec_get:p50=1,p99.9=3\n") << 0 << 1 << none;
    QTest::newRow("item without =") << std::string("latency_percentiles_usec_get:p50=1,p99\n") << 0 << 1 << none;
    QTest::newRow("empty value") << std::string("latency_percentiles_usec_get:\n") << 0 << 1 << none;
    QTest::newRow("other field") << std::string("used_memory:12\nlatency_percentiles_usec_get:p99=7\n") << 1 << 1
                                 << 7.0;
    QTest::newRow("no command name") << std::string("latency_percentiles_usec_:p99=7\n") << 0 << 1 << none;
    QTest::newRow("huge") << std::string("latency_percentiles_usec_get:p99=1e400\n") << 0 << 1 << none;
    QTest::newRow("good beside bad") << std::string(
                                            "latency_percentiles_usec_get:p50=1,p99=3.5,p99.9=4\n"
                                            "garbage\n"
                                            "latency_percentiles_usec_set:p99=x\n")
                                     << 1 << 2 << 3.5;
  }
  void latencyStats() {
    QFETCH(std::string, text);
    QFETCH(int, parsed);
    QFETCH(int, malformed);
    QFETCH(double, getP99);
    int bad = 0;
    const auto m = parseLatencyStats(text, &bad);
    QCOMPARE(int(m.size()), parsed);
    QCOMPARE(bad, malformed);
    const auto it = m.find("get");
    if (std::isnan(getP99)) {
      QVERIFY(it == m.end());
    } else {
      QVERIFY(it != m.end());
      QCOMPARE(it->second.p99_us, getP99);
    }
  }

  void latencyStatsAllPercentiles() {
    const auto m = parseLatencyStats("latency_percentiles_usec_eval:p50=10.5,p99=99.1,p99.9=150\r\n");
    QCOMPARE(m.at("eval").p50_us, 10.5);
    QCOMPARE(m.at("eval").p99_us, 99.1);
    QCOMPARE(m.at("eval").p999_us, 150.0);
  }

  void info_data() {
    QTest::addColumn<std::string>("text");
    QTest::addColumn<int>("fields");
    QTest::addColumn<int>("malformed");
    QTest::newRow("sections") << std::string("# Server\r\nredis_version:7.0.15\r\n\r\n# Stats\r\nkeyspace_hits:5\r\n")
                              << 2 << 0;
    QTest::newRow("value with colons") << std::string("executable:/usr/bin/redis-server\nmaster:a:b:c\n") << 2 << 0;
    QTest::newRow("no colon") << std::string("keyspace_hits 5\nkeyspace_misses:1\n") << 1 << 1;
    QTest::newRow("empty key") << std::string(":5\n") << 0 << 1;
    QTest::newRow("empty") << std::string() << 0 << 0;
    QTest::newRow("no final newline") << std::string("a:1\nb:2") << 2 << 0;
  }
  void info() {
    QFETCH(std::string, text);
    QFETCH(int, fields);
    QFETCH(int, malformed);
    int bad = 0;
    QCOMPARE(int(parseInfo(text, &bad).size()), fields);
    QCOMPARE(bad, malformed);
  }

  void commandStats_data() {
    QTest::addColumn<std::string>("text");
    QTest::addColumn<int>("parsed");
    QTest::addColumn<int>("malformed");
    QTest::newRow("redis 7") << std::string(
                                    "# Commandstats\r\n"
                                    "cmdstat_get:calls=3,usec=15,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n"
                                    "cmdstat_set:calls=1,usec=8,usec_per_call=8.00\r\n")
                             << 2 << 0;
    QTest::newRow("no calls") << std::string("cmdstat_get:usec=15\n") << 0 << 1;
    QTest::newRow("calls not a number") << std::string("cmdstat_get:calls=x,usec=1\n") << 0 << 1;
    QTest::newRow("negative") << std::string("cmdstat_get:calls=-1,usec=1\n") << 0 << 1;
    QTest::newRow("other field") << std::string("total_commands_processed:9\n") << 0 << 1;
  }
  void commandStats() {
    QFETCH(std::string, text);
    QFETCH(int, parsed);
    QFETCH(int, malformed);
    int bad = 0;
    const auto m = parseCommandStats(text, &bad);
    QCOMPARE(int(m.size()), parsed);
    QCOMPARE(bad, malformed);
  }

  // A cluster: counters summed over the masters, each command's p99 the worst master's.
  void nodesSumAndWorstPercentile() {
    using tier::redis::Reply;
    auto str = [](std::string t) {
      Reply r;
      r.type = Reply::Type::String;
      r.str = std::move(t);
      return r;
    };
    auto err = [](std::string t) {
      Reply r;
      r.type = Reply::Type::Error;
      r.str = std::move(t);
      return r;
    };
    RedisCounters c;
    accumulateRedisNode("a:1",
                        {str("# Stats\r\nkeyspace_hits:10\r\nkeyspace_misses:2\r\ntotal_commands_processed:100\r\n"
                             "evicted_keys:1\r\nconnected_clients:3\r\nused_memory:1000\r\nrun_id:r1\r\n"),
                         str("cmdstat_get:calls=7,usec=70,usec_per_call=10.00\r\n"),
                         str("latency_percentiles_usec_get:p50=1,p99=20,p99.9=30\r\n")},
                        c);
    accumulateRedisNode(
        "b:2",
        {str("keyspace_hits:5\r\nkeyspace_misses:1\r\ntotal_commands_processed:50\r\nevicted_keys:0\r\n"
             "connected_clients:4\r\nused_memory:500\r\nrun_id:r2\r\n"),
         str("cmdstat_get:calls=3,usec=30\r\n"), str("latency_percentiles_usec_get:p50=2,p99=8,p99.9=40\r\n")},
        c);
    QCOMPARE(c.keyspace_hits, 15LL);
    QCOMPARE(c.keyspace_misses, 3LL);
    QCOMPARE(c.total_commands, 150LL);
    QCOMPARE(c.connected_clients, 7LL);
    QCOMPARE(c.used_memory, 1500LL);
    QCOMPARE(c.commands.at("get").calls, 10LL);
    QCOMPARE(c.latency.at("get").p99_us, 20.0);
    QCOMPARE(c.latency.at("get").p999_us, 40.0);
    QCOMPARE(c.nodes, (std::vector<std::string>{"a:1/r1", "b:2/r2"}));
    QCOMPARE(c.malformed, 0);

    // Redis 6: an empty latencystats section; an ACL refusal: said, not thrown.
    RedisCounters old;
    accumulateRedisNode("c:3", {str("keyspace_hits:1\r\n"), str(""), str("")}, old);
    QVERIFY(old.latency.empty());
    QVERIFY(old.latency_note.find("latencystats") != std::string::npos);
    QVERIFY(old.malformed > 0);  // the fields missing from that INFO
    RedisCounters refused;
    accumulateRedisNode("d:4", {str("keyspace_hits:1\r\n"), err("NOPERM"), err("NOPERM no permission")}, refused);
    QVERIFY(refused.latency_note.find("refused") != std::string::npos);
    // No INFO at all is an error for the whole read.
    RedisCounters none;
    QVERIFY_THROWS_EXCEPTION(tier::DataError, accumulateRedisNode("e:5", {err("NOPERM")}, none));
    QVERIFY_THROWS_EXCEPTION(tier::DataError, accumulateRedisNode("e:5", {}, none));
  }

  void statementTextMasked_data() {
    QTest::addColumn<std::string>("sql");
    QTest::addColumn<std::string>("shown");
    QTest::newRow("normalized") << std::string("SELECT * FROM users WHERE id = $1")
                                << std::string("SELECT * FROM users WHERE id = $1");
    QTest::newRow("password literal") << std::string("ALTER ROLE app PASSWORD 'hunter2'")
                                      << std::string("ALTER ROLE app PASSWORD '***'");
    QTest::newRow("doubled quote") << std::string("SELECT 'it''s secret', 1") << std::string("SELECT '***', 1");
    QTest::newRow("E string") << std::string("SELECT E'a\\'b', 2") << std::string("SELECT E'***', 2");
    QTest::newRow("cut literal") << std::string("CREATE USER u PASSWORD 'abc")
                                 << std::string("CREATE USER u PASSWORD '***'");
    QTest::newRow("dollar body") << std::string("DO $$BEGIN PERFORM 'x'; END$$; SELECT 1")
                                 << std::string("DO $$***$$; SELECT 1");
    QTest::newRow("tagged dollar") << std::string("DO $fn$ secret $fn$") << std::string("DO $fn$***$fn$");
    QTest::newRow("params stay") << std::string("SELECT $1, $2::int") << std::string("SELECT $1, $2::int");
    QTest::newRow("conninfo") << std::string("SELECT dblink_connect($1) -- password=hunter2")
                              << std::string("SELECT dblink_connect($1) -- password=***");
  }
  void statementTextMasked() {
    QFETCH(std::string, sql);
    QFETCH(std::string, shown);
    QCOMPARE(maskStatementText(sql), shown);
  }

  void firstPollHasNoRates() {
    const auto p = derivePoint(nullptr, counters(1000, 10, 5, 100));
    QCOMPARE(p.interval_s, 0.0);
    QVERIFY(std::isnan(p.keyspace_hit_rate));
    QVERIFY(std::isnan(p.commands_per_s));
    QVERIFY(std::isnan(p.transactions_per_s));
    QCOMPARE(p.connected_clients, 7.0);  // a gauge needs one poll only
    QCOMPARE(p.used_memory, double(1 << 20));
  }

  void ratesFromDeltas() {
    auto a = counters(1000, 100, 50, 1000);
    auto b = counters(3000, 190, 60, 1400);  // 90 hits, 10 misses, 400 commands in 2 s
    a.redis.evicted_keys = 3;
    b.redis.evicted_keys = 7;
    a.redis.commands["get"] = {500, 2500};
    b.redis.commands["get"] = {700, 3500};
    a.pg.xact_commit = 10;
    b.pg.xact_commit = 40;
    b.pg.xact_rollback = 2;
    a.pg.blks_hit = 100;
    b.pg.blks_hit = 190;
    b.pg.blks_read = 10;
    const auto p = derivePoint(&a, b);
    QCOMPARE(p.interval_s, 2.0);
    QCOMPARE(p.keyspace_hits_delta, 90LL);
    QCOMPARE(p.keyspace_misses_delta, 10LL);
    QCOMPARE(p.keyspace_hit_rate, 0.9);
    QCOMPARE(p.commands_per_s, 200.0);
    QCOMPARE(p.evicted_per_s, 2.0);
    QCOMPARE(p.command_calls_per_s.at("get"), 100.0);
    QCOMPARE(p.transactions_per_s, 16.0);
    QCOMPARE(p.block_hit_ratio, 0.9);
    QVERIFY(!p.redis_reset);
    QVERIFY(!p.pg_reset);
  }

  void noReadsIsNoHitRate() {
    const auto a = counters(0, 10, 5, 100);
    const auto p = derivePoint(&a, counters(1000, 10, 5, 101));
    QVERIFY(std::isnan(p.keyspace_hit_rate));  // not 0 %, not 100 %: nothing was read
    QCOMPARE(p.commands_per_s, 1.0);
    QVERIFY(std::isnan(p.block_hit_ratio));
  }

  void counterResetSkipsThePoint_data() {
    QTest::addColumn<int>("what");
    QTest::newRow("hits went down") << 0;
    QTest::newRow("commands went down") << 1;
    QTest::newRow("server restarted (run id)") << 2;
    QTest::newRow("masters changed") << 3;
  }
  void counterResetSkipsThePoint() {
    QFETCH(int, what);
    const auto a = counters(1000, 1000, 100, 5000);
    auto b = counters(2000, 1010, 101, 5050);
    if (what == 0) b.redis.keyspace_hits = 3;
    if (what == 1) b.redis.total_commands = 20;
    if (what == 2) b.redis.nodes = {"127.0.0.1:6379/run-b"};
    if (what == 3) b.redis.nodes.push_back("127.0.0.1:6380/run-c");
    const auto p = derivePoint(&a, b);
    QVERIFY(p.redis_reset);
    QVERIFY(std::isnan(p.keyspace_hit_rate));
    QVERIFY(std::isnan(p.commands_per_s));
    QVERIFY(std::isnan(p.evicted_per_s));
    QCOMPARE(p.connected_clients, 7.0);
    // The next poll measures from the reset one again.
    auto c = b;
    c.at_ms = 3000;
    c.redis.keyspace_hits += 5;
    c.redis.total_commands += 10;
    const auto q = derivePoint(&b, c);
    QVERIFY(!q.redis_reset);
    QCOMPARE(q.commands_per_s, 10.0);
  }

  void pgStatsResetSkipsThePoint() {
    auto a = counters(1000, 0, 0, 0);
    auto b = counters(2000, 0, 0, 0);
    a.pg.xact_commit = 500;
    b.pg.xact_commit = 520;
    b.pg.stats_reset_ms = 1500;  // pg_stat_reset() between the polls
    auto p = derivePoint(&a, b);
    QVERIFY(p.pg_reset);
    QVERIFY(std::isnan(p.transactions_per_s));
    b.pg.stats_reset_ms = 0;
    b.pg.xact_commit = 7;  // went down
    p = derivePoint(&a, b);
    QVERIFY(p.pg_reset);
    QVERIFY(std::isnan(p.transactions_per_s));
  }

  void failedReadHasNoRates() {
    const auto a = counters(1000, 1, 1, 1);
    auto b = counters(2000, 5, 5, 50);
    b.redis = RedisCounters{};
    b.redis.error = "connection refused";
    const auto p = derivePoint(&a, b);
    QVERIFY(!p.redis_ok);
    QCOMPARE(p.redis_error, std::string("connection refused"));
    QVERIFY(std::isnan(p.commands_per_s));
    QVERIFY(std::isnan(p.connected_clients));
  }

  void topStatements() {
    auto a = counters(1000, 0, 0, 0);
    auto b = counters(3000, 0, 0, 0);
    a.pg.statements_state = b.pg.statements_state = StatementsState::Available;
    for (int i = 0; i < 8; ++i) {
      const std::string k = "10:" + std::to_string(i);
      a.pg.statements.push_back({k, "SELECT " + std::to_string(i), 100, 1000.0});
      // Statement i ran 2*i times for 10*i ms in the 2 s.
      b.pg.statements.push_back({k, "SELECT " + std::to_string(i), 100 + 2 * i, 1000.0 + 10.0 * i});
    }
    b.pg.statements.push_back({"10:new", "SELECT new", 1'000'000, 1e9});  // not in the previous poll: waits
    const auto p = derivePoint(&a, b, 5);
    QCOMPARE(int(p.top_statements.size()), 5);
    QCOMPARE(p.top_statements[0].query, std::string("SELECT 7"));
    QCOMPARE(p.top_statements[0].calls_per_s, 7.0);
    QCOMPARE(p.top_statements[0].mean_ms, 5.0);
    QCOMPARE(p.top_statements[4].query, std::string("SELECT 3"));
    for (const auto& s : p.top_statements) QVERIFY(s.query != "SELECT 0" && s.query != "SELECT new");
  }

  void statementsNotInstalledIsAState() {
    auto a = counters(1000, 0, 0, 0);
    auto b = counters(2000, 0, 0, 0);
    b.pg.statements_state = StatementsState::NotInstalled;
    b.pg.statements_note = "pg_stat_statements not installed";
    const auto p = derivePoint(&a, b);
    QVERIFY(p.pg_ok);
    QCOMPARE(p.statements_state, StatementsState::NotInstalled);
    QCOMPARE(p.statements_note, std::string("pg_stat_statements not installed"));
    QVERIFY(p.top_statements.empty());
    QCOMPARE(std::string(toString(StatementsState::NotInstalled)), std::string("not_installed"));
  }
};

QTEST_APPLESS_MAIN(TestServerSeries)
#include "tst_server_series.moc"
