// TIER_TEST_LABELS: concurrency
// Threads recording while the (injected) clock races ahead, so stripes are folded
// and ring slots retired under load; afterwards lifetime totals are exact.
#include <QtTest>

#include <atomic>
#include <thread>
#include <vector>

#include "tier/metrics/metrics.h"

using namespace std::chrono_literals;
using tier::metrics::Counter;
using tier::metrics::Metrics;
using tier::metrics::Op;

namespace {
std::atomic<std::int64_t> g_now{1'000'000};
std::int64_t fakeNow() noexcept { return g_now.load(std::memory_order_relaxed); }
}  // namespace

class TestMetricsConcurrency : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void totalsExact_data() {
    QTest::addColumn<int>("threads");
    QTest::addColumn<bool>("clockRuns");
    QTest::newRow("4 threads, still clock") << 4 << false;
    QTest::newRow("4 threads, running clock") << 4 << true;
    QTest::newRow("20 threads (shared stripes), running clock") << 20 << true;
  }

  void totalsExact() {
    QFETCH(int, threads);
    QFETCH(bool, clockRuns);
    Metrics m(&fakeNow);
    constexpr int kPerThread = 50'000;
    std::atomic<int> done{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          // Latency depends on thread and step so the sum and max are known in closed form.
          m.record(static_cast<Op>(i % 3), std::chrono::microseconds(1 + (i % 1000) + t));
          m.count(Counter::Read);
          m.count(i % 4 == 0 ? Counter::L2Hit : Counter::L1Hit, 2);
        }
        done.fetch_add(1);
      });
    }
    // Advances the clock a second at a time until the writers finish (and at least
    // past the ring once), so folds and retirements race with recording.
    std::int64_t advanced = 0;
    if (clockRuns) {
      while (done.load() < threads || advanced < 400) {
        g_now.fetch_add(1);
        ++advanced;
        std::this_thread::yield();
      }
    }
    for (auto& th : pool) th.join();

    const auto s = m.snapshot(0s);
    const std::uint64_t n = static_cast<std::uint64_t>(threads) * kPerThread;
    QCOMPARE(s.counter(Counter::Read), n);
    QCOMPARE(s.counter(Counter::L1Hit) + s.counter(Counter::L2Hit), 2 * n);
    QCOMPARE(s.counter(Counter::L2Hit), 2 * static_cast<std::uint64_t>(threads) * (kPerThread / 4));
    std::uint64_t count = 0;
    double sumMs = 0, expectedSumUs = 0;
    for (int op = 0; op < 3; ++op) {
      count += s.op(static_cast<Op>(op)).count;
      sumMs += s.op(static_cast<Op>(op)).mean_ms * static_cast<double>(s.op(static_cast<Op>(op)).count);
    }
    for (int t = 0; t < threads; ++t)
      for (int i = 0; i < kPerThread; ++i) expectedSumUs += 1 + (i % 1000) + t;
    QCOMPARE(count, n);
    QVERIFY(std::abs(sumMs * 1000 - expectedSumUs) < 1e-6 * expectedSumUs);
    QCOMPARE(s.op(Op::RedisCommand).max_ms, (1 + 999 + threads - 1) / 1000.0);
    // Windows hold no more than the lifetime.
    const auto w = m.snapshot(300s);
    QVERIFY(w.counter(Counter::Read) <= n);
    if (!clockRuns) QCOMPARE(w.counter(Counter::Read), n);
  }
};

QTEST_APPLESS_MAIN(TestMetricsConcurrency)
#include "tst_metrics_concurrency.moc"
