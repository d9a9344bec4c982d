// RedisClient against real redis-server instances started by the harness.
#include <QElapsedTimer>
#include <QSet>
#include <QtTest>

#include <signal.h>

#include <random>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/metrics/metrics.h"
#include "tier/redis/redis_client.h"
#include "tier/redis/redis_view.h"
#include "tier/sandbox/server_process.h"

using namespace std::chrono_literals;
using tier::redis::BreakerState;
using tier::redis::RedisClient;
using tier::redis::RedisOptions;
using tier::redis::RedisUrl;
using tier::redis::Reply;

namespace {

RedisOptions optionsFor(const std::string& url) {
  RedisOptions o;
  o.url = RedisUrl::parse(url);
  o.client_name = "tst-redis-client";
  return o;
}

std::string withDb(const std::string& url, int db) {
  // The harness URL ends in /0.
  return url.substr(0, url.rfind('/')) + "/" + std::to_string(db);
}

// Resumes a SIGSTOPped server even when a check fails half-way.
struct ContinueOnExit {
  tier::sandbox::RedisServerProcess& proc;
  ~ContinueOnExit() { proc.signal(SIGCONT); }
};

}  // namespace

class TestRedisClient : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void cleanupTestCase();
  void basicCommands();
  void scanFindsEveryKey();
  void pipelineOfThousand();
  void binarySafe_data();
  void binarySafe();
  void errorRepliesAreValues();
  void unixSocket();
  void databasesAreIsolated();
  void missingDatabaseIsBadInput();
  void aclUserAuth();
  void wrongPasswordIsPermissionError();
  void legacyPasswordAuth();
  void commandNotAllowedIsPermissionError();
  void unreachableFailsFastAndOpensBreaker();
  void breakerOpensAndClosesAroundStoppedServer();
  void closedIdleConnectionIsReplaced();
  void scriptsGoOutAsEvalshaAndSurviveAFlush();
  void readViewRefusesEveryChange_data();
  void readViewRefusesEveryChange();
  void readViewReads();

 private:
  std::unique_ptr<tier::test::TestRedis> redis_;
  std::unique_ptr<RedisClient> admin_;  // default user, db 0
};

void TestRedisClient::initTestCase() {
  redis_ = std::make_unique<tier::test::TestRedis>();
  admin_ = std::make_unique<RedisClient>(optionsFor(redis_->url()));
  QVERIFY(admin_->isAvailable());
}

void TestRedisClient::cleanupTestCase() {
  admin_.reset();
  redis_.reset();
}

void TestRedisClient::basicCommands() {
  tier::metrics::Metrics metrics;
  RedisClient c(optionsFor(redis_->url()), &metrics);

  QVERIFY(c.ping() > 0us);
  QCOMPARE(c.get("basic:absent"), std::optional<std::string>());
  QCOMPARE(c.ttlMillis("basic:absent"), -2LL);

  c.set("basic:a", "alpha", 0ms);
  QCOMPARE(c.get("basic:a"), std::optional<std::string>("alpha"));
  QCOMPARE(c.ttlMillis("basic:a"), -1LL);
  QCOMPARE(c.strlen("basic:a"), 5LL);

  c.set("basic:b", "bravo!", 10s);
  const long long ttl = c.ttlMillis("basic:b");
  QVERIFY2(ttl > 5000 && ttl <= 10000, qPrintable(QString::number(ttl)));
  c.set("basic:b", "again", 0ms);  // SET without PX clears the TTL
  QCOMPARE(c.ttlMillis("basic:b"), -1LL);

  QCOMPARE(c.unlink({"basic:a", "basic:b", "basic:never"}), 2LL);
  QCOMPARE(c.get("basic:a"), std::optional<std::string>());
  QCOMPARE(c.unlink({}), 0LL);

  const std::string server = c.info("server");
  QVERIFY(server.find("redis_version:") != std::string::npos);
  QVERIFY(c.info().find("# Keyspace") != std::string::npos);
  QCOMPARE(c.command({"CLIENT", "GETNAME"}).str, std::string("tst-redis-client"));

  const auto stats = c.poolStats();
  QCOMPARE(stats.size, c.options().pool_size);
  QCOMPARE(stats.open, 1);  // sequential calls share one connection
  QCOMPARE(stats.in_use, 0);
  QCOMPARE(stats.connects, 1ULL);
  QCOMPARE(stats.errors, 0ULL);
  QCOMPARE(stats.breaker, BreakerState::Closed);

  // One latency record per round trip.
  const auto snap = metrics.snapshot(0s);
  QCOMPARE(snap.op(tier::metrics::Op::RedisCommand).count, stats.commands);
  QVERIFY(snap.op(tier::metrics::Op::RedisCommand).max_ms > 0);
}

void TestRedisClient::scanFindsEveryKey() {
  std::vector<tier::redis::Command> sets;
  for (int i = 0; i < 250; ++i) sets.push_back({"SET", "scan:t:" + std::to_string(i), "v"});
  for (int i = 0; i < 30; ++i) sets.push_back({"SET", "other:t:" + std::to_string(i), "v"});
  admin_->pipeline(sets);

  QSet<QString> seen;
  std::string cursor = "0";
  int pages = 0;
  do {
    const auto page = admin_->scan(cursor, "scan:t:*", 50);
    for (const auto& k : page.keys) {
      QVERIFY2(k.starts_with("scan:t:"), k.c_str());
      seen.insert(QString::fromStdString(k));  // SCAN may repeat a key
    }
    cursor = page.cursor;
    QVERIFY(++pages < 1000);
  } while (cursor != "0");
  QCOMPARE(seen.size(), 250);
}

void TestRedisClient::pipelineOfThousand() {
  tier::metrics::Metrics metrics;
  RedisClient c(optionsFor(redis_->url()), &metrics);
  std::vector<tier::redis::Command> sets, gets;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "pipe:" + std::to_string(i);
    sets.push_back({"SET", key, "value-" + std::to_string(i * 7)});
    gets.push_back({"GET", key});
  }
  const auto setReplies = c.pipeline(sets);
  QCOMPARE(setReplies.size(), std::size_t(1000));
  for (const auto& r : setReplies) {
    QCOMPARE(r.type, Reply::Type::Status);
    QCOMPARE(r.str, std::string("OK"));
  }
  const auto getReplies = c.pipeline(gets);
  QCOMPARE(getReplies.size(), std::size_t(1000));
  for (int i = 0; i < 1000; ++i) QCOMPARE(getReplies[i].str, "value-" + std::to_string(i * 7));

  QCOMPARE(c.poolStats().commands, 2000ULL);
  QCOMPARE(metrics.snapshot(0s).op(tier::metrics::Op::RedisCommand).count, 2ULL);  // two round trips
  QVERIFY(c.pipeline({}).empty());
}

void TestRedisClient::binarySafe_data() {
  QTest::addColumn<QByteArray>("key");
  QTest::addColumn<QByteArray>("value");
  QTest::newRow("nul inside") << QByteArray("bin:\0key", 8) << QByteArray("a\0b\0c", 5);
  QTest::newRow("only nuls") << QByteArray("bin:\0\0", 6) << QByteArray(16, '\0');
  QTest::newRow("crlf and resp markers") << QByteArray("bin:\r\n*1\r\n") << QByteArray("$3\r\nfoo\r\n-ERR x\r\n");
  QTest::newRow("high bytes") << QByteArray("bin:\xff\xfe") << QByteArray("\x80\x81\xc3\x28\xff");
  QTest::newRow("empty value") << QByteArray("bin:empty") << QByteArray();
  QByteArray big(1 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& ch : big) ch = static_cast<char>(rng() & 0xff);
  QTest::newRow("1 MiB random") << QByteArray("bin:big") << big;
}

void TestRedisClient::binarySafe() {
  QFETCH(QByteArray, key);
  QFETCH(QByteArray, value);
  const std::string k(key.constData(), static_cast<std::size_t>(key.size()));
  const std::string v(value.constData(), static_cast<std::size_t>(value.size()));
  admin_->set(k, v, 60s);
  const auto got = admin_->get(k);
  QVERIFY(got.has_value());
  QCOMPARE(got->size(), v.size());
  QVERIFY(*got == v);
  QCOMPARE(admin_->strlen(k), static_cast<long long>(v.size()));
  // The same bytes through command() and pipeline().
  const auto replies = admin_->pipeline({{"GET", k}, {"STRLEN", k}});
  QVERIFY(replies[0].str == v);
  QCOMPARE(replies[1].integer, static_cast<long long>(v.size()));
  QCOMPARE(admin_->unlink({k}), 1LL);
}

void TestRedisClient::errorRepliesAreValues() {
  admin_->set("err:str", "not a number", 0ms);
  const Reply r = admin_->command({"INCR", "err:str"});
  QCOMPARE(r.type, Reply::Type::Error);
  QVERIFY(r.str.starts_with("ERR"));
  const auto replies = admin_->pipeline({{"INCR", "err:str"}, {"GET", "err:str"}});
  QVERIFY(replies[0].isError());
  QCOMPARE(replies[1].str, std::string("not a number"));

  admin_->command({"HSET", "err:hash", "f", "v"});
  QVERIFY_THROWS_EXCEPTION(tier::DataError, admin_->get("err:hash"));  // WRONGTYPE
  try {
    admin_->strlen("err:hash");
    QFAIL("no DataError");
  } catch (const tier::DataError& e) {
    QVERIFY2(std::string(e.what()).find("WRONGTYPE") != std::string::npos, e.what());
  }
  QVERIFY(admin_->isAvailable());  // an error reply leaves the connection in sync
  QCOMPARE(admin_->poolStats().breaker, BreakerState::Closed);
  QVERIFY_THROWS_EXCEPTION(tier::BadInputError, admin_->command({}));
}

void TestRedisClient::unixSocket() {
  const std::string sock = redis_->socketPath();
  QVERIFY(!sock.empty());
  RedisClient viaUnix(optionsFor("unix://" + sock + "?db=3"));
  RedisClient viaTcp(optionsFor(withDb(redis_->url(), 3)));
  viaUnix.set("unix:k", std::string("over\0unix", 9), 0ms);
  QCOMPARE(viaTcp.get("unix:k"), std::optional<std::string>(std::string("over\0unix", 9)));
  QVERIFY(viaUnix.info("clients").find("connected_clients:") != std::string::npos);
  QCOMPARE(admin_->get("unix:k"), std::optional<std::string>());  // db 0 does not see db 3
}

void TestRedisClient::databasesAreIsolated() {
  RedisClient db1(optionsFor(withDb(redis_->url(), 1)));
  RedisClient db2(optionsFor(withDb(redis_->url(), 2)));
  db1.set("iso:k", "one", 0ms);
  db2.set("iso:k", "two", 0ms);
  QCOMPARE(db1.get("iso:k"), std::optional<std::string>("one"));
  QCOMPARE(db2.get("iso:k"), std::optional<std::string>("two"));
  QCOMPARE(admin_->get("iso:k"), std::optional<std::string>());
  QCOMPARE(db2.unlink({"iso:k"}), 1LL);
  QCOMPARE(db1.get("iso:k"), std::optional<std::string>("one"));
}

void TestRedisClient::missingDatabaseIsBadInput() {
  RedisClient c(optionsFor(withDb(redis_->url(), 999)));  // the server has 16
  try {
    c.ping();
    QFAIL("SELECT 999 succeeded");
  } catch (const tier::BadInputError& e) {
    QVERIFY2(std::string(e.what()).find("database 999") != std::string::npos, e.what());
  }
  QCOMPARE(c.breakerState(), BreakerState::Closed);  // the server answered
}

void TestRedisClient::aclUserAuth() {
  // A password that needs percent-encoding in a URL.
  const std::string password = "p@ss:w/rd#%&+ ok";
  QCOMPARE(admin_->command({"ACL", "SETUSER", "h2user", "reset", "on", ">" + password, "~*", "+@all"}).str,
           std::string("OK"));
  const QByteArray enc = QUrl::toPercentEncoding(QString::fromStdString(password));
  const std::string url = "redis://h2user:" + enc.toStdString() + "@127.0.0.1:" + std::to_string(redis_->port()) + "/0";
  RedisClient c(optionsFor(url));
  QCOMPARE(c.command({"ACL", "WHOAMI"}).str, std::string("h2user"));
  c.set("acl:k", "v", 0ms);
  QCOMPARE(c.get("acl:k"), std::optional<std::string>("v"));
  QVERIFY(c.options().url.redacted().find(password) == std::string::npos);
}

void TestRedisClient::wrongPasswordIsPermissionError() {
  const std::string password = "right-horse-battery";
  admin_->command({"ACL", "SETUSER", "h2wrong", "reset", "on", ">" + password, "~*", "+@all"});
  const std::string wrong = "wrong-staple-9876";
  RedisOptions o = optionsFor("redis://h2wrong:" + wrong + "@127.0.0.1:" + std::to_string(redis_->port()) + "/0");
  RedisClient c(o);
  for (int attempt = 0; attempt < 2; ++attempt) {  // the second is replayed by the reconnect backoff
    try {
      c.ping();
      QFAIL("wrong password accepted");
    } catch (const tier::PermissionError& e) {
      const std::string msg = e.what();
      const std::string expected =
          "Redis authentication failed for user h2wrong at 127.0.0.1:" + std::to_string(redis_->port());
      QVERIFY2(msg.starts_with(expected), msg.c_str());
      QVERIFY2(msg.find(wrong) == std::string::npos, msg.c_str());
      QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
    }
  }
  const auto stats = c.poolStats();
  QVERIFY(stats.last_error.find(wrong) == std::string::npos);
  QVERIFY(stats.last_error.find("authentication failed") != std::string::npos);
  QCOMPARE(stats.open, 0);
  QCOMPARE(stats.breaker, BreakerState::Closed);  // the server is up; it said no
}

void TestRedisClient::legacyPasswordAuth() {
  tier::test::TestRedis secured("legacy-pass-42");
  const std::string base = "127.0.0.1:" + std::to_string(secured.port()) + "/0";
  RedisClient ok(optionsFor("redis://:legacy-pass-42@" + base));
  QCOMPARE(ok.command({"ACL", "WHOAMI"}).str, std::string("default"));

  RedisClient bad(optionsFor("redis://:not-the-pass-77@" + base));
  try {
    bad.ping();
    QFAIL("wrong legacy password accepted");
  } catch (const tier::PermissionError& e) {
    QVERIFY2(std::string(e.what()).find("authentication failed for user default") != std::string::npos, e.what());
    QVERIFY(std::string(e.what()).find("not-the-pass-77") == std::string::npos);
  }
  RedisClient none(optionsFor("redis://" + base));  // connects, then every command says NOAUTH
  QVERIFY_THROWS_EXCEPTION(tier::PermissionError, none.get("k"));
}

void TestRedisClient::commandNotAllowedIsPermissionError() {
  // May GET and PING only: no +set, and no +client (CLIENT SETNAME is skipped quietly).
  admin_->command({"ACL", "SETUSER", "h2ro", "reset", "on", ">ro-pass-31", "~*", "+get", "+ping"});
  admin_->set("ro:k", "visible", 0ms);
  RedisClient ro(optionsFor("redis://h2ro:ro-pass-31@127.0.0.1:" + std::to_string(redis_->port()) + "/0"));
  QCOMPARE(ro.get("ro:k"), std::optional<std::string>("visible"));
  try {
    ro.set("ro:k", "changed", 0ms);
    QFAIL("SET allowed");
  } catch (const tier::PermissionError& e) {
    QVERIFY2(std::string(e.what()).find("NOPERM") != std::string::npos, e.what());
    QVERIFY(std::string(e.what()).find("ro-pass-31") == std::string::npos);
  }
  QVERIFY_THROWS_EXCEPTION(tier::PermissionError, ro.command({"DEL", "ro:k"}));
  QVERIFY_THROWS_EXCEPTION(tier::PermissionError, ro.pipeline({{"GET", "ro:k"}, {"SET", "ro:k", "x"}}));
  // The replies were read in full: the same connection goes on working.
  QCOMPARE(ro.get("ro:k"), std::optional<std::string>("visible"));
  const auto stats = ro.poolStats();
  QCOMPARE(stats.open, 1);
  QCOMPARE(stats.connects, 1ULL);
  QCOMPARE(stats.breaker, BreakerState::Closed);
  QCOMPARE(admin_->get("ro:k"), std::optional<std::string>("visible"));
}

void TestRedisClient::unreachableFailsFastAndOpensBreaker() {
  const int port = tier::sandbox::findFreePort();  // nothing listens there
  tier::metrics::Metrics metrics;
  RedisOptions o = optionsFor("redis://u:unreach-secret-5@127.0.0.1:" + std::to_string(port) + "/0");
  o.connect_timeout = 200ms;
  o.breaker_failures = 3;
  o.breaker_open = 10s;  // stays open for the rest of this test
  RedisClient c(o, &metrics);

  QElapsedTimer t;
  t.start();
  try {
    c.get("k");
    QFAIL("connected to a closed port");
  } catch (const tier::ConnectionError& e) {
    QVERIFY2(std::string(e.what()).find("unreach-secret-5") == std::string::npos, e.what());
    QVERIFY2(std::string(e.what()).find(std::to_string(port)) != std::string::npos, e.what());
  }
  QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));

  // Keep calling: reconnect backoff and then the breaker refuse without waiting.
  QTRY_VERIFY_WITH_TIMEOUT((c.isAvailable(), c.breakerState() == BreakerState::Open), 5000);
  const auto stats = c.poolStats();
  QVERIFY(stats.connect_failures >= 3);
  QCOMPARE(stats.open, 0);
  QVERIFY(stats.last_error.find("unreach-secret-5") == std::string::npos);

  const auto skipsBefore = metrics.snapshot(0s).counter(tier::metrics::Counter::BreakerOpenSkip);
  QElapsedTimer fast;
  fast.start();
  for (int i = 0; i < 100; ++i) {
    try {
      c.ping();
      QFAIL("breaker let a call through");
    } catch (const tier::ConnectionError& e) {
      QVERIFY2(std::string(e.what()).starts_with("Redis circuit open: "), e.what());
    }
  }
  // 100 refused calls in well under a millisecond each (generous for sanitizers).
  QVERIFY2(fast.nsecsElapsed() < 100 * 1'000'000LL, qPrintable(QString::number(fast.nsecsElapsed())));
  QCOMPARE(c.poolStats().connect_failures, stats.connect_failures);  // no network touched
  QCOMPARE(metrics.snapshot(0s).counter(tier::metrics::Counter::BreakerOpenSkip), skipsBefore + 100);
  QVERIFY(metrics.snapshot(0s).counter(tier::metrics::Counter::RedisError) >= 3);
}

void TestRedisClient::breakerOpensAndClosesAroundStoppedServer() {
  tier::test::TestRedis server;
  RedisOptions o = optionsFor(server.url());
  o.command_timeout = 150ms;
  o.breaker_failures = 3;
  o.breaker_open = 400ms;
  tier::metrics::Metrics metrics;
  RedisClient c(o, &metrics);
  QVERIFY(c.isAvailable());

  server.process().signal(SIGSTOP);
  ContinueOnExit resume{server.process()};

  // Each call now times out (the kernel still accepts connections for a stopped
  // server); calls during the reconnect backoff replay the last timeout at once.
  QDeadlineTimer deadline(10s);
  while (c.breakerState() != BreakerState::Open && !deadline.hasExpired()) {
    QElapsedTimer t;
    t.start();
    QVERIFY_THROWS_EXCEPTION(tier::TimeoutError, c.get("k"));
    QVERIFY2(t.elapsed() < 1500, qPrintable(QString::number(t.elapsed())));
  }
  QCOMPARE(c.breakerState(), BreakerState::Open);
  // Opened after exactly breaker_failures real failures.
  QCOMPARE(metrics.snapshot(0s).counter(tier::metrics::Counter::RedisError),
           static_cast<std::uint64_t>(o.breaker_failures));

  // Open: refused at once, with the last reason.
  QElapsedTimer t;
  t.start();
  try {
    c.get("k");
    QFAIL("breaker let a call through");
  } catch (const tier::ConnectionError& e) {
    QVERIFY2(std::string(e.what()).starts_with("Redis circuit open: Redis "), e.what());
    QVERIFY2(std::string(e.what()).find("timed out") != std::string::npos, e.what());
  }
  QVERIFY(t.elapsed() < 50);

  // After breaker_open, one probe goes through; the server is still stopped, so it
  // times out and the breaker opens again.
  QDeadlineTimer reopen(o.breaker_open + 50ms);
  QTest::qWait(static_cast<int>(reopen.remainingTime()));  // the duration under test, not a sync
  QVERIFY_THROWS_EXCEPTION(tier::TimeoutError, c.ping());
  QCOMPARE(c.breakerState(), BreakerState::Open);
  QVERIFY_THROWS_EXCEPTION(tier::ConnectionError, c.ping());

  server.process().signal(SIGCONT);
  // Closes within breaker_open + one probe.
  QElapsedTimer healed;
  healed.start();
  QTRY_VERIFY_WITH_TIMEOUT(c.isAvailable(), 5000);
  QVERIFY2(healed.elapsed() < o.breaker_open.count() + 1000, qPrintable(QString::number(healed.elapsed())));
  QCOMPARE(c.breakerState(), BreakerState::Closed);
  c.set("after", "ok", 0ms);
  QCOMPARE(c.get("after"), std::optional<std::string>("ok"));
  QCOMPARE(c.poolStats().in_use, 0);
}

void TestRedisClient::closedIdleConnectionIsReplaced() {
  RedisClient c(optionsFor(redis_->url()));
  const Reply id = c.command({"CLIENT", "ID"});
  QCOMPARE(id.type, Reply::Type::Integer);
  QCOMPARE(c.poolStats().connects, 1ULL);
  // The server drops our idle connection (as on restart or idle timeout).
  QCOMPARE(admin_->command({"CLIENT", "KILL", "ID", std::to_string(id.integer)}).integer, 1LL);
  // Detected before use: no error surfaces, a new connection is made.
  QVERIFY(c.ping() > 0us);
  QCOMPARE(c.poolStats().connects, 2ULL);
  QCOMPARE(c.poolStats().errors, 0ULL);
  QVERIFY(c.command({"CLIENT", "ID"}).integer != id.integer);
}


// EVAL of a known body travels as EVALSHA; after SCRIPT FLUSH the client
// falls back to EVAL transparently (and the replies stay in order).
void TestRedisClient::scriptsGoOutAsEvalshaAndSurviveAFlush() {
  RedisClient c(optionsFor(redis_->url()));
  const std::string body = "return tonumber(ARGV[1]) + 1";
  auto evalOf = [&](int n) { return tier::redis::Command{"EVAL", body, "0", std::to_string(n)}; };
  QCOMPARE(c.command(evalOf(1)).integer, 2LL);  // EVAL + SCRIPT LOAD
  const auto before = c.command({"INFO", "commandstats"}).str;
  QCOMPARE(c.command(evalOf(2)).integer, 3LL);  // EVALSHA
  const auto after = c.command({"INFO", "commandstats"}).str;
  QVERIFY2(after.find("cmdstat_evalsha:") != std::string::npos, after.c_str());
  QVERIFY(before.find("cmdstat_evalsha:") == std::string::npos || before != after);
  QCOMPARE(c.command({"SCRIPT", "FLUSH"}).str, std::string("OK"));
  auto replies = c.pipeline({evalOf(10), {"PING"}, evalOf(20)});  // NOSCRIPT -> re-run as EVAL
  QCOMPARE(replies.size(), std::size_t(3));
  QCOMPARE(replies[0].integer, 11LL);
  QCOMPARE(replies[1].str, std::string("PONG"));
  QCOMPARE(replies[2].integer, 21LL);
  QCOMPARE(c.command(evalOf(5)).integer, 6LL);
}

QTEST_GUILESS_MAIN(TestRedisClient)
#include "tst_redis_client.moc"

// The view TierCore hands out: a command that could change a key or the
// server is refused (PermissionError) and the key is left as it was.
void TestRedisClient::readViewRefusesEveryChange_data() {
  QTest::addColumn<QStringList>("argv");
  auto argvOf = [](const char* joined) { return QString::fromLatin1(joined).split(QLatin1Char('|')); };
  QTest::newRow("SET") << argvOf("SET|view:k|x");
  QTest::newRow("set lower case") << argvOf("set|view:k|x");
  QTest::newRow("UNLINK") << argvOf("UNLINK|view:k");
  QTest::newRow("DEL") << argvOf("DEL|view:k");
  QTest::newRow("EVAL") << argvOf("EVAL|return redis.call('DEL', KEYS[1])|1|view:k");
  QTest::newRow("FLUSHALL") << argvOf("FLUSHALL");
  QTest::newRow("CONFIG SET") << argvOf("CONFIG|SET|maxmemory|1");
  QTest::newRow("CONFIG without subcommand") << argvOf("CONFIG");
  QTest::newRow("SLOWLOG RESET") << argvOf("SLOWLOG|RESET");
  QTest::newRow("ACL SETUSER") << argvOf("ACL|SETUSER|x|on");
  QTest::newRow("CLIENT KILL") << argvOf("CLIENT|KILL|TYPE|normal");
  QTest::newRow("EXPIRE") << argvOf("EXPIRE|view:k|1");
  QTest::newRow("empty argv") << QStringList{};
}

void TestRedisClient::readViewRefusesEveryChange() {
  QFETCH(QStringList, argv);
  admin_->set("view:k", "kept", 0ms);
  tier::redis::RedisReadView view(admin_.get());
  tier::redis::Command cmd;
  for (const auto& a : argv) cmd.push_back(a.toStdString());
  QVERIFY(!tier::redis::isReadOnlyCommand(cmd));
  QVERIFY_THROWS_EXCEPTION(tier::PermissionError, view.command(cmd));
  QVERIFY_THROWS_EXCEPTION(tier::PermissionError, view.pipeline({{"GET", "view:k"}, cmd}));
  QCOMPARE(admin_->get("view:k"), std::optional<std::string>("kept"));
  QCOMPARE(admin_->ttlMillis("view:k"), -1LL);
}

void TestRedisClient::readViewReads() {
  admin_->set("view:r", "value", 0ms);
  tier::redis::RedisReadView view(admin_.get());
  QVERIFY(view.configured());
  QCOMPARE(view.get("view:r"), std::optional<std::string>("value"));
  QCOMPARE(view.command({"get", "view:r"}).str, std::string("value"));
  const auto replies = view.pipeline({{"EXISTS", "view:r"}, {"PTTL", "view:r"}, {"SLOWLOG", "GET", "1"},
                                      {"CONFIG", "GET", "slowlog-log-slower-than"}, {"INFO", "server"}});
  QCOMPARE(replies.size(), std::size_t(5));
  for (const auto& r : replies) QVERIFY2(!r.isError(), r.str.c_str());
  QCOMPARE(replies[0].integer, 1LL);
  tier::redis::RedisReadView none;
  QVERIFY(!none.configured());
  QVERIFY_THROWS_EXCEPTION(tier::BadInputError, none.ping());
}
