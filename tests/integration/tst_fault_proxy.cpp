// The fault-injecting TCP proxy of the test support, in front of a real Redis:
// pass-through, added latency, dropped connections, refused and blackholed
// connects, and a clean stop.
#include <QElapsedTimer>
#include <QTest>

#include "fault_proxy.h"
#include "servers.h"
#include "tier/common/error.h"
#include "tier/redis/redis_client.h"

using namespace tier;
using test::FaultProxy;

namespace {

redis::RedisOptions through(const FaultProxy& proxy) {
  redis::RedisOptions o;
  o.url = redis::RedisUrl::parse("redis://127.0.0.1:" + std::to_string(proxy.port()) + "/0");
  o.connect_timeout = std::chrono::milliseconds(300);
  o.command_timeout = std::chrono::milliseconds(300);
  o.pool_size = 2;
  o.breaker_failures = 0;  // the proxy's own behaviour is under test, not the breaker
  o.reconnect_min = std::chrono::milliseconds(1);
  o.reconnect_max = std::chrono::milliseconds(1);
  return o;
}

}  // namespace

class TestFaultProxy : public QObject {
  Q_OBJECT
  std::unique_ptr<test::TestRedis> redis_;

 private Q_SLOTS:
  void initTestCase() { redis_ = std::make_unique<test::TestRedis>(); }
  void cleanupTestCase() { redis_.reset(); }

  void passesThrough() {
    FaultProxy proxy(redis_->port());
    redis::RedisClient c(through(proxy));
    c.set("proxy:a", "hello", std::chrono::milliseconds(0));
    QCOMPARE(c.get("proxy:a").value_or(""), std::string("hello"));
    // A value larger than one read chunk arrives whole.
    const std::string big(300 * 1024, 'x');
    c.set("proxy:big", big, std::chrono::milliseconds(0));
    QCOMPARE(c.get("proxy:big").value_or(""), big);
    QCOMPARE(proxy.openConnections(), 1);
  }

  void addsLatency() {
    FaultProxy proxy(redis_->port());
    redis::RedisClient c(through(proxy));
    c.ping();  // connect first
    proxy.setLatency(std::chrono::milliseconds(40));
    QElapsedTimer t;
    t.start();
    c.ping();
    // Request and reply are each delayed: at least 2 x 40 ms.
    QVERIFY2(t.elapsed() >= 78, qPrintable(QString::number(t.elapsed())));
    // Beyond the command timeout: the command times out.
    proxy.setLatency(std::chrono::milliseconds(200));
    QVERIFY_THROWS_EXCEPTION(TimeoutError, c.ping());
    proxy.passThrough();
    QVERIFY(c.isAvailable());
  }

  void dropsConnections() {
    FaultProxy proxy(redis_->port());
    redis::RedisClient c(through(proxy));
    c.ping();
    QCOMPARE(proxy.openConnections(), 1);
    proxy.dropAll();
    QCOMPARE(proxy.openConnections(), 0);
    // The pooled connection is dead; the client notices and reconnects (or
    // fails this one call): within a few calls it answers again.
    bool answered = false;
    for (int i = 0; i < 5 && !answered; ++i) {
      try {
        c.ping();
        answered = true;
      } catch (const Error&) {
      }
    }
    QVERIFY(answered);
    QVERIFY(proxy.acceptedConnections() >= 2);
  }

  void refusesAndBlackholes() {
    FaultProxy proxy(redis_->port());
    proxy.setMode(FaultProxy::Mode::Refuse);
    {
      redis::RedisClient c(through(proxy));
      QVERIFY(!c.isAvailable());
    }
    proxy.setMode(FaultProxy::Mode::Blackhole);
    {
      redis::RedisClient c(through(proxy));
      QElapsedTimer t;
      t.start();
      QVERIFY_THROWS_EXCEPTION(Error, c.ping());
      // Held, not refused: the client waited for its timeout.
      QVERIFY2(t.elapsed() >= 250, qPrintable(QString::number(t.elapsed())));
    }
    proxy.passThrough();
    redis::RedisClient c(through(proxy));
    QVERIFY(c.isAvailable());
  }

  void upstreamDownClosesClients() {
    test::TestRedis other;
    FaultProxy proxy(other.port());
    redis::RedisClient c(through(proxy));
    c.ping();
    other.kill();
    QVERIFY_THROWS_EXCEPTION(Error, c.ping());
    QTRY_COMPARE_WITH_TIMEOUT(proxy.openConnections(), 0, 5000);
    other.restart();
    QVERIFY(c.isAvailable());
  }

  void stopsPromptly() {
    QElapsedTimer t;
    t.start();
    {
      FaultProxy proxy(redis_->port());
      redis::RedisClient c(through(proxy));
      c.ping();
      proxy.setLatency(std::chrono::milliseconds(10'000));
    }  // destroyed with a connection open and bytes queued
    QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
  }
};

QTEST_GUILESS_MAIN(TestFaultProxy)
#include "tst_fault_proxy.moc"
