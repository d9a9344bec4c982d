// Unit tests of Metrics: percentiles against known distributions, sliding windows
// (with an injected seconds clock, no sleeping), counters, hit rate, reset.
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "tier/metrics/metrics.h"

using namespace std::chrono_literals;
using tier::metrics::Counter;
using tier::metrics::Metrics;
using tier::metrics::Op;

namespace {

std::atomic<std::int64_t> g_now{1'700'000'000};
std::int64_t fakeNow() noexcept { return g_now.load(); }

using Samples = std::vector<std::int64_t>;  // ns

// The exact quantile under the definition Metrics uses: the ceil(q*n)-th smallest sample.
double trueQuantileMs(Samples s, double q) {
  std::sort(s.begin(), s.end());
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(s.size()))));
  return static_cast<double>(s[rank - 1]) / 1e6;
}

void verifyQuantile(double reportedMs, double trueMs, double maxMs) {
  // Never under-reports; over-reports by at most one bucket (1/16 relative, 64 ns absolute below 1 us).
  const double slack = std::max(trueMs * tier::metrics::kHistogramRelativeError, 64e-6);
  QVERIFY2(reportedMs >= trueMs * (1 - 1e-12), qPrintable(QStringLiteral("%1 < %2").arg(reportedMs).arg(trueMs)));
  QVERIFY2(reportedMs <= trueMs + slack + 1e-12, qPrintable(QStringLiteral("%1 >> %2").arg(reportedMs).arg(trueMs)));
  QVERIFY(reportedMs <= maxMs);
}

}  // namespace

Q_DECLARE_METATYPE(Samples)

class TestMetrics : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void percentiles_data() {
    QTest::addColumn<Samples>("samples");
    Samples uniform;
    for (int i = 1; i <= 1000; ++i) uniform.push_back(i * 1000LL);
    QTest::newRow("uniform 1us..1ms") << uniform;

    QTest::newRow("constant 5ms") << Samples(1000, 5'000'000);

    Samples bimodal(970, 100'000);
    bimodal.insert(bimodal.end(), 30, 40'000'000);
    QTest::newRow("97% 100us + 3% 40ms") << bimodal;

    Samples tail(990, 200'000);
    tail.insert(tail.end(), 10, 30'000'000);
    QTest::newRow("p99 right at the step") << tail;

    std::mt19937_64 rng(42);
    std::exponential_distribution<double> exp(1.0 / 2e6);
    Samples expo;
    for (int i = 0; i < 20'000; ++i) expo.push_back(static_cast<std::int64_t>(exp(rng)));
    QTest::newRow("exponential mean 2ms") << expo;

    std::lognormal_distribution<double> logn(std::log(3e6), 1.0);
    Samples ln;
    for (int i = 0; i < 20'000; ++i) ln.push_back(static_cast<std::int64_t>(logn(rng)));
    QTest::newRow("lognormal median 3ms") << ln;

    Samples sub;
    for (int i = 0; i < 500; ++i) sub.push_back(50 + i);
    QTest::newRow("sub-microsecond") << sub;

    Samples huge{1'000, 2'000, 90'000'000'000LL};
    QTest::newRow("beyond range (90 s)") << huge;

    QTest::newRow("single sample") << Samples{1'234'567};
  }

  void percentiles() {
    QFETCH(Samples, samples);
    Metrics m(&fakeNow);
    for (auto ns : samples) m.record(Op::DbQuery, std::chrono::nanoseconds(ns));
    for (auto window : {0s, 10s}) {
      const auto s = m.snapshot(window).op(Op::DbQuery);
      QCOMPARE(s.count, static_cast<std::uint64_t>(samples.size()));
      const double maxMs = static_cast<double>(*std::max_element(samples.begin(), samples.end())) / 1e6;
      QCOMPARE(s.max_ms, maxMs);
      double sum = 0;
      for (auto ns : samples) sum += static_cast<double>(ns);
      QVERIFY(std::abs(s.mean_ms - sum / 1e6 / static_cast<double>(samples.size())) <= 1e-9 * s.mean_ms + 1e-12);
      verifyQuantile(s.p50_ms, trueQuantileMs(samples, 0.50), maxMs);
      verifyQuantile(s.p95_ms, trueQuantileMs(samples, 0.95), maxMs);
      verifyQuantile(s.p99_ms, trueQuantileMs(samples, 0.99), maxMs);
    }
    // Other ops are untouched.
    QCOMPARE(m.snapshot(0s).op(Op::RedisCommand).count, std::uint64_t{0});
  }

  void negativeLatencyCountsAsZero() {
    Metrics m(&fakeNow);
    m.record(Op::Write, -5ms);
    const auto s = m.snapshot(0s).op(Op::Write);
    QCOMPARE(s.count, std::uint64_t{1});
    QCOMPARE(s.max_ms, 0.0);
    QVERIFY(s.p99_ms <= 64e-6);
  }

  void slidingWindows() {
    g_now = 2'000'000;
    Metrics m(&fakeNow);
    // Seconds 0..399: one 1 ms sample and one read per second; the last 10 seconds 10 ms.
    for (int i = 0; i < 400; ++i) {
      m.record(Op::SessionRetrieval, i >= 390 ? 10ms : 1ms);
      m.count(Counter::Read);
      if (i < 399) ++g_now;
    }
    auto w10 = m.snapshot(10s);
    QCOMPARE(w10.window, 10s);
    QCOMPARE(w10.op(Op::SessionRetrieval).count, std::uint64_t{10});
    QCOMPARE(w10.counter(Counter::Read), std::uint64_t{10});
    QCOMPARE(w10.perSecond(Counter::Read), 1.0);
    QCOMPARE(w10.op(Op::SessionRetrieval).p50_ms, 10.0);
    QCOMPARE(w10.taken_at_unix_ms, g_now.load() * 1000);

    const auto w300 = m.snapshot(300s);
    QCOMPARE(w300.op(Op::SessionRetrieval).count, std::uint64_t{300});
    verifyQuantile(w300.op(Op::SessionRetrieval).p50_ms, 1.0, 10.0);
    QCOMPARE(w300.op(Op::SessionRetrieval).max_ms, 10.0);
    QCOMPARE(m.snapshot(1h).window, 300s);  // clamped
    QCOMPARE(m.snapshot(1h).op(Op::SessionRetrieval).count, std::uint64_t{300});
    QCOMPARE(m.snapshot(1s).op(Op::SessionRetrieval).count, std::uint64_t{1});

    const auto life = m.snapshot(0s);
    QCOMPARE(life.window, 0s);
    QCOMPARE(life.op(Op::SessionRetrieval).count, std::uint64_t{400});
    QCOMPARE(life.counter(Counter::Read), std::uint64_t{400});
    QCOMPARE(life.perSecond(Counter::Read), 0.0);

    // Quiet seconds slide the window on without any writer.
    g_now += 5;
    QCOMPARE(m.snapshot(10s).op(Op::SessionRetrieval).count, std::uint64_t{5});
    g_now += 1000;
    QCOMPARE(m.snapshot(300s).op(Op::SessionRetrieval).count, std::uint64_t{0});
    QCOMPARE(m.snapshot(300s).counter(Counter::Read), std::uint64_t{0});
    QCOMPARE(m.snapshot(0s).op(Op::SessionRetrieval).count, std::uint64_t{400});

    // Recording again after a long gap reuses the ring without mixing in old seconds.
    m.record(Op::SessionRetrieval, 3ms);
    QCOMPARE(m.snapshot(300s).op(Op::SessionRetrieval).count, std::uint64_t{1});
    QCOMPARE(m.snapshot(300s).op(Op::SessionRetrieval).max_ms, 3.0);
    QCOMPARE(m.snapshot(0s).op(Op::SessionRetrieval).count, std::uint64_t{401});
    QCOMPARE(m.snapshot(0s).op(Op::SessionRetrieval).max_ms, 10.0);
  }

  void windowsAcrossThreads() {
    // Samples of one second from several threads (stripes) land in the same window.
    g_now = 3'000'000;
    Metrics m(&fakeNow);
    for (int sec = 0; sec < 20; ++sec) {
      std::vector<std::thread> pool;
      for (int t = 0; t < 3; ++t)
        pool.emplace_back([&] {
          for (int i = 0; i < 10; ++i) m.count(Counter::L1Hit);
        });
      for (auto& th : pool) th.join();
      ++g_now;
    }
    --g_now;
    QCOMPARE(m.snapshot(5s).counter(Counter::L1Hit), std::uint64_t{150});
    QCOMPARE(m.snapshot(0s).counter(Counter::L1Hit), std::uint64_t{600});
  }

  // totals() (what the fleet publisher subtracts) equals the lifetime snapshot
  // across the ring's wrap, from several threads' stripes, and after reset.
  void totalsMatchTheLifetimeSnapshot() {
    g_now = 3'000'000;
    Metrics m(&fakeNow);
    for (int i = 0; i < 700; ++i) {  // more than twice the 301-second ring
      std::thread t([&] { m.record(Op::DbQuery, std::chrono::microseconds(100 + i)); });
      t.join();
      m.record(Op::DbQuery, 2ms);
      m.count(Counter::Read, 3);
      if (i % 7 != 0) ++g_now;  // some seconds hold two rounds
    }
    const auto check = [&](std::uint64_t rounds) {
      const auto t = m.totals();
      const auto life = m.snapshot(0s);
      QCOMPARE(t.counters[static_cast<int>(Counter::Read)], life.counter(Counter::Read));
      QCOMPARE(t.counters[static_cast<int>(Counter::Read)], 3 * rounds);
      tier::metrics::OpHistogram h = t.ops[static_cast<int>(Op::DbQuery)];
      QCOMPARE(h.count(), life.op(Op::DbQuery).count);
      QCOMPARE(h.count(), 2 * rounds);
      QCOMPARE(tier::metrics::summarize(h).p99_ms, life.op(Op::DbQuery).p99_ms);
    };
    check(700);
    ++g_now;  // the stripes fold on the next record: totals stay the same before and after
    m.record(Op::DbQuery, 2ms);
    m.count(Counter::Read, 3);
    m.record(Op::DbQuery, 1ms);  // (the other thread's stripe is folded later: counted all the same)
    check(701);
    m.reset();
    QCOMPARE(m.totals().counters[static_cast<int>(Counter::Read)], std::uint64_t{0});
  }

  void countersAndHitRate() {
    Metrics m(&fakeNow);
    auto empty = m.snapshot(10s);
    QCOMPARE(empty.hitRate(), 1.0);
    QCOMPARE(empty.l1HitRate(), 0.0);
    m.count(Counter::Read, 200);
    m.count(Counter::L1Hit, 140);
    m.count(Counter::L2Hit, 30);
    m.count(Counter::L2Miss, 30);
    m.count(Counter::L3Read, 30);
    m.count(Counter::Error);
    m.count(Counter::Error, 0);
    const auto s = m.snapshot(10s);
    QCOMPARE(s.counter(Counter::Read), std::uint64_t{200});
    QCOMPARE(s.counter(Counter::Error), std::uint64_t{1});
    QCOMPARE(s.counter(Counter::L1Miss), std::uint64_t{0});
    QCOMPARE(s.hitRate(), 0.85);
    QCOMPARE(s.l1HitRate(), 0.7);
    QCOMPARE(s.l2HitRate(), 0.15);
    QCOMPARE(s.perSecond(Counter::Read), 20.0);
  }

  void resetClearsEverything() {
    g_now = 4'000'000;
    Metrics m(&fakeNow);
    for (int i = 0; i < 50; ++i) {
      m.record(Op::KnowledgeLookup, 1ms);
      m.count(Counter::Read);
      ++g_now;
    }
    m.reset();
    QCOMPARE(m.snapshot(0s).op(Op::KnowledgeLookup).count, std::uint64_t{0});
    QCOMPARE(m.snapshot(0s).counter(Counter::Read), std::uint64_t{0});
    QCOMPARE(m.snapshot(300s).op(Op::KnowledgeLookup).max_ms, 0.0);
    m.record(Op::KnowledgeLookup, 2ms);
    QCOMPARE(m.snapshot(10s).op(Op::KnowledgeLookup).count, std::uint64_t{1});
    QCOMPARE(m.snapshot(0s).op(Op::KnowledgeLookup).max_ms, 2.0);
  }

  void scopedTimerRecords() {
    Metrics m(&fakeNow);
    { tier::metrics::ScopedTimer t(&m, Op::EntryRead); }
    { tier::metrics::ScopedTimer t(nullptr, Op::EntryRead); }
    QCOMPARE(m.snapshot(0s).op(Op::EntryRead).count, std::uint64_t{1});
  }

  void wallClockDefault() {
    Metrics m;
    m.record(Op::Write, 1ms);
    const auto s = m.snapshot(10s);
    QCOMPARE(s.op(Op::Write).count, std::uint64_t{1});
    QVERIFY(std::abs(s.taken_at_unix_ms - QDateTime::currentMSecsSinceEpoch()) < 60'000);
  }

  void names() {
    QCOMPARE(QLatin1String(tier::metrics::toString(Op::SessionRetrieval)), QLatin1String("session_retrieval"));
    QCOMPARE(QLatin1String(tier::metrics::toString(Op::Write)), QLatin1String("write"));
    QCOMPARE(QLatin1String(tier::metrics::toString(Counter::L1Hit)), QLatin1String("l1_hit"));
    QCOMPARE(QLatin1String(tier::metrics::toString(Counter::StaleServed)), QLatin1String("stale_served"));
    QCOMPARE(QLatin1String(tier::metrics::toString(Op::kCount)), QLatin1String("unknown"));
  }
};

QTEST_APPLESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
