// TIER_TEST_LABELS: concurrency
// The pool under many threads: never more than pool_size connections (counted
// by the server itself), waiters served as leases return, pool_wait honoured.
#include <QtTest>

#include <atomic>
#include <future>
#include <thread>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"

using tier::pg::PgOptions;
using tier::pg::PgPool;

class TestPgPoolConcurrency : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<tier::test::TestPostgres> server_;

  PgOptions opts(int size, const std::string& app) const {
    PgOptions o;
    o.conninfo = server_->conninfo();
    o.pool_size = size;
    o.application_name = app;
    return o;
  }

 private Q_SLOTS:
  void initTestCase() { server_ = std::make_unique<tier::test::TestPostgres>(); }
  void cleanupTestCase() { server_.reset(); }

  void boundedUnderContention() {
    constexpr int kSize = 3, kThreads = 8, kRounds = 25;
    PgPool pool(opts(kSize, "bounded-test"));
    std::atomic<int> holding{0}, maxHolding{0}, maxServerSide{0}, maxOpen{0}, failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kRounds; ++i) {
          try {
            auto c = pool.acquire();
            const int now = ++holding;
            int seen = maxHolding.load();
            while (now > seen && !maxHolding.compare_exchange_weak(seen, now)) {
            }
            const auto r = c->execPrepared("count_ours",
                                           "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                                           {std::string("bounded-test")});
            const int server = static_cast<int>(r.toInt(0, 0));
            int s = maxServerSide.load();
            while (server > s && !maxServerSide.compare_exchange_weak(s, server)) {
            }
            const int open = pool.stats().open;
            int o = maxOpen.load();
            while (open > o && !maxOpen.compare_exchange_weak(o, open)) {
            }
            c->exec("SELECT $1::int", {std::to_string(t * 1000 + i)});
            --holding;
          } catch (const std::exception&) {
            ++failures;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE_LE(maxHolding.load(), kSize);
    QCOMPARE_LE(maxServerSide.load(), kSize);
    QCOMPARE_LE(maxOpen.load(), kSize);
    QCOMPARE_GE(maxServerSide.load(), 1);
    const auto s = pool.stats();
    QCOMPARE_LE(s.open, kSize);
    QCOMPARE(s.in_use, 0);
    QCOMPARE_LE(s.connects, std::uint64_t(kSize));
    // Each new connection also ran its SET statement_timeout.
    QCOMPARE(s.queries, std::uint64_t(kThreads * kRounds * 2) + s.connects);
  }

  void poolWaitTimesOut() {
    PgOptions o = opts(1, "wait-test");
    o.pool_wait = std::chrono::milliseconds(100);
    PgPool pool(o);
    auto held = pool.acquire();
    auto other = std::async(std::launch::async, [&] {
      try {
        pool.acquire();
        return std::string("acquired");
      } catch (const tier::TimeoutError& e) {
        return std::string(e.what());
      }
    });
    const std::string outcome = other.get();
    QVERIFY2(outcome.find("pool exhausted") != std::string::npos, outcome.c_str());
    QCOMPARE(held->exec("SELECT 1").toInt(0, 0), 1LL);
  }

  void waiterServedWhenLeaseReturns() {
    PgOptions o = opts(1, "handoff-test");
    o.pool_wait = std::chrono::milliseconds(20000);
    PgPool pool(o);
    auto held = std::make_unique<PgPool::Lease>(pool.acquire());
    const int pid = (*held)->backendPid();
    std::promise<void> started;
    auto waiter = std::async(std::launch::async, [&] {
      started.set_value();
      auto c = pool.acquire();
      return c->backendPid();
    });
    started.get_future().wait();
    held.reset();
    QCOMPARE(waiter.get(), pid);  // the same connection, handed over
    QCOMPARE(pool.stats().connects, std::uint64_t(1));
  }

  void connectFailureFreesTheSlot() {
    PgOptions o = opts(1, "fail-test");
    o.conninfo = "host=127.0.0.1 port=" + std::to_string(tier::sandbox::findFreePort()) + " dbname=tier user=tier";
    PgPool pool(o);
    std::vector<std::future<int>> tries;
    for (int i = 0; i < 4; ++i)
      tries.push_back(std::async(std::launch::async, [&] {
        try {
          pool.acquire();
          return 0;
        } catch (const tier::ConnectionError&) {
          return 1;
        } catch (const tier::TimeoutError&) {
          return 2;
        }
      }));
    for (auto& f : tries) QCOMPARE(f.get(), 1);  // each a clear connection error, none stuck waiting
    QCOMPARE(pool.stats().open, 0);
  }
};

QTEST_GUILESS_MAIN(TestPgPoolConcurrency)
#include "tst_pg_pool_concurrency.moc"
