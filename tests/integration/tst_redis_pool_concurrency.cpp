// RedisClient shared by many threads: the pool bound, waiting for a free
// connection, and the half-open breaker letting exactly one probe through.
// TIER_TEST_LABELS: concurrency
#include <QElapsedTimer>
#include <QtTest>

#include <signal.h>

#include <atomic>
#include <latch>
#include <thread>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/redis/redis_client.h"

using namespace std::chrono_literals;
using tier::redis::BreakerState;
using tier::redis::RedisClient;
using tier::redis::RedisOptions;
using tier::redis::RedisUrl;

namespace {

RedisOptions optionsFor(const std::string& url, std::string name) {
  RedisOptions o;
  o.url = RedisUrl::parse(url);
  o.client_name = std::move(name);
  return o;
}

// Connections the server sees with this client name.
int serverConnections(RedisClient& admin, const std::string& name) {
  const std::string list = admin.command({"CLIENT", "LIST", "TYPE", "normal"}).str;
  int n = 0;
  for (std::size_t pos = 0; (pos = list.find(" name=" + name + " ", pos)) != std::string::npos; ++pos) ++n;
  return n;
}

struct ContinueOnExit {
  tier::sandbox::RedisServerProcess& proc;
  ~ContinueOnExit() { proc.signal(SIGCONT); }
};

}  // namespace

class TestRedisPoolConcurrency : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void cleanupTestCase();
  void neverExceedsPoolSize();
  void exhaustedPoolTimesOut();
  void waiterGetsFreedConnection();
  void halfOpenLetsExactlyOneProbe();

 private:
  std::unique_ptr<tier::test::TestRedis> redis_;
  std::unique_ptr<RedisClient> admin_;
};

void TestRedisPoolConcurrency::initTestCase() {
  redis_ = std::make_unique<tier::test::TestRedis>();
  admin_ = std::make_unique<RedisClient>(optionsFor(redis_->url(), "pool-admin"));
  QVERIFY(admin_->isAvailable());
}

void TestRedisPoolConcurrency::cleanupTestCase() {
  admin_.reset();
  redis_.reset();
}

void TestRedisPoolConcurrency::neverExceedsPoolSize() {
  RedisOptions o = optionsFor(redis_->url(), "pool-bound");
  o.pool_size = 3;
  o.pool_wait = 5s;  // contention must wait, not fail
  RedisClient c(o);

  constexpr int kThreads = 8;
  constexpr int kOps = 300;
  std::atomic<int> maxOpen{0}, maxInUse{0}, wrongValues{0}, failures{0};
  std::atomic<int> running{kThreads};
  std::latch start(kThreads + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        for (int i = 0; i < kOps; ++i) {
          const std::string key = "conc:" + std::to_string(t) + ":" + std::to_string(i % 20);
          const std::string value = std::string("v\0", 2) + std::to_string(t * 100000 + i);
          if (i % 10 == 0) {
            c.pipeline({{"SET", key, value}, {"GET", key}});
          } else {
            c.set(key, value, 60s);
          }
          if (c.get(key) != value) ++wrongValues;
          const auto s = c.poolStats();
          for (auto [seen, now] : {std::pair{&maxOpen, s.open}, std::pair{&maxInUse, s.in_use}}) {
            int prev = seen->load();
            while (now > prev && !seen->compare_exchange_weak(prev, now)) {
            }
          }
        }
      } catch (const std::exception& e) {
        qWarning("worker failed: %s", e.what());
        ++failures;
      }
      --running;
    });
  }
  start.arrive_and_wait();
  // Meanwhile the server's own view of our connections stays within the bound.
  int maxServerSide = 0;
  while (running.load() > 0) maxServerSide = std::max(maxServerSide, serverConnections(*admin_, "pool-bound"));
  for (auto& th : threads) th.join();

  QCOMPARE(failures.load(), 0);
  QCOMPARE(wrongValues.load(), 0);
  QVERIFY2(maxOpen.load() <= 3, qPrintable(QString::number(maxOpen.load())));
  QVERIFY2(maxInUse.load() <= 3, qPrintable(QString::number(maxInUse.load())));
  QVERIFY2(maxServerSide <= 3, qPrintable(QString::number(maxServerSide)));
  QVERIFY2(maxInUse.load() >= 2, "the threads never overlapped: the test proves nothing");
  const auto s = c.poolStats();
  QCOMPARE(s.in_use, 0);
  QVERIFY(s.open <= 3);
  QCOMPARE(serverConnections(*admin_, "pool-bound"), s.open);
  QCOMPARE(s.connects, static_cast<std::uint64_t>(s.open));  // no connection was dropped and remade
  QCOMPARE(s.errors, 0ULL);
}

void TestRedisPoolConcurrency::exhaustedPoolTimesOut() {
  RedisOptions o = optionsFor(redis_->url(), "pool-exhaust");
  o.pool_size = 1;
  o.pool_wait = 100ms;
  o.command_timeout = 5s;
  RedisClient c(o);
  // WAIT for a replica that does not exist holds the only connection for 800 ms.
  std::thread holder([&c] { c.command({"WAIT", "1", "800"}); });
  QTRY_COMPARE(c.poolStats().in_use, 1);
  QElapsedTimer t;
  t.start();
  try {
    c.ping();
    QFAIL("got a connection from an exhausted pool");
  } catch (const tier::TimeoutError& e) {
    QVERIFY2(std::string(e.what()).starts_with("Redis pool exhausted"), e.what());
  }
  const auto waited = t.elapsed();
  holder.join();
  QVERIFY2(waited >= 90 && waited < 700, qPrintable(QString::number(waited)));
  QCOMPARE(c.breakerState(), BreakerState::Closed);  // local contention is not an outage
  QVERIFY(c.isAvailable());
}

void TestRedisPoolConcurrency::waiterGetsFreedConnection() {
  RedisOptions o = optionsFor(redis_->url(), "pool-waiter");
  o.pool_size = 1;
  o.pool_wait = 5s;
  o.command_timeout = 5s;
  RedisClient c(o);
  std::thread holder([&c] { c.command({"WAIT", "1", "300"}); });
  QTRY_COMPARE(c.poolStats().in_use, 1);
  QElapsedTimer t;
  t.start();
  QVERIFY(c.ping() > 0us);  // woken when the holder returns the connection
  holder.join();
  QVERIFY2(t.elapsed() < 3000, qPrintable(QString::number(t.elapsed())));
  QCOMPARE(c.poolStats().connects, 1ULL);
}

void TestRedisPoolConcurrency::halfOpenLetsExactlyOneProbe() {
  tier::test::TestRedis server;
  RedisOptions o = optionsFor(server.url(), "pool-probe");
  o.command_timeout = 300ms;
  o.breaker_failures = 1;
  o.breaker_open = 300ms;
  RedisClient c(o);
  QVERIFY(c.isAvailable());

  server.process().signal(SIGSTOP);
  ContinueOnExit resume{server.process()};
  QVERIFY_THROWS_EXCEPTION(tier::TimeoutError, c.ping());
  QCOMPARE(c.breakerState(), BreakerState::Open);
  QDeadlineTimer halfOpen(o.breaker_open + 50ms);
  QTest::qWait(static_cast<int>(halfOpen.remainingTime()));  // the duration under test, not a sync

  constexpr int kThreads = 8;
  std::atomic<int> probes{0}, refused{0}, other{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      try {
        c.ping();
        ++other;
      } catch (const tier::TimeoutError&) {
        ++probes;  // the probe met the stopped server
      } catch (const tier::ConnectionError& e) {
        if (std::string(e.what()).starts_with("Redis circuit open: "))
          ++refused;
        else
          ++other;
      } catch (...) {
        ++other;
      }
    });
  }
  for (auto& th : threads) th.join();
  QCOMPARE(probes.load(), 1);
  QCOMPARE(refused.load(), kThreads - 1);
  QCOMPARE(other.load(), 0);
  QCOMPARE(c.breakerState(), BreakerState::Open);

  server.process().signal(SIGCONT);
  QTRY_VERIFY_WITH_TIMEOUT(c.isAvailable(), 5000);
  QCOMPARE(c.breakerState(), BreakerState::Closed);
}

QTEST_GUILESS_MAIN(TestRedisPoolConcurrency)
#include "tst_redis_pool_concurrency.moc"
