// The Zipf sampler and rank permutation of tier/common/random.h (the workload and the trace simulator draw with them): shape, range, determinism.
#include <QTest>

#include <cmath>
#include <vector>

#include "tier/common/random.h"

using tier::random::Permutation;
using tier::random::Rng;
using tier::random::ZipfSampler;

class TestZipf : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void frequenciesMatchTheDistribution_data() {
    QTest::addColumn<quint64>("n");
    QTest::addColumn<double>("s");
    QTest::newRow("n=1000 s=0.99 (workload default)") << quint64(1000) << 0.99;
    QTest::newRow("n=100 s=1 (harmonic)") << quint64(100) << 1.0;
    QTest::newRow("n=10000 s=1.2") << quint64(10000) << 1.2;
    QTest::newRow("n=100000 s=0.5") << quint64(100000) << 0.5;
    QTest::newRow("n=50 s=0 (uniform)") << quint64(50) << 0.0;
    QTest::newRow("n=2 s=2") << quint64(2) << 2.0;
  }

  void frequenciesMatchTheDistribution() {
    QFETCH(quint64, n);
    QFETCH(double, s);
    constexpr int kSamples = 100000;
    const ZipfSampler zipf(n, s);
    Rng rng(20240611);
    std::vector<int> counts(11, 0);
    for (int i = 0; i < kSamples; ++i) {
      const auto k = zipf.sample(rng);
      QVERIFY2(k >= 1 && k <= n, "sample out of range");
      if (k <= 10) ++counts[k];
    }
    for (quint64 k : {1ULL, 2ULL, 10ULL}) {
      if (k > n) continue;
      const double p = ZipfSampler::probability(n, s, k);
      const double observed = counts[k] / double(kSamples);
      // 5 standard deviations of a binomial proportion: fails on a wrong shape, not on noise.
      const double tolerance = 5 * std::sqrt(p * (1 - p) / kSamples) + 1e-4;
      QVERIFY2(std::abs(observed - p) <= tolerance,
               qPrintable(QStringLiteral("rank %1: observed %2, expected %3 +- %4")
                              .arg(k).arg(observed).arg(p).arg(tolerance)));
    }
  }

  void rankOneHasTheExpectedShareForTheDefaultSkew() {
    // Pinned number: with n=1000, s=0.99 rank 1 carries ~12.9 % of the picks (1 / H(1000, 0.99)).
    const double p = ZipfSampler::probability(1000, 0.99, 1);
    QVERIFY(p > 0.1290 && p < 0.1298);
  }

  void singleItem() {
    const ZipfSampler zipf(1, 0.99);
    Rng rng(1);
    for (int i = 0; i < 100; ++i) QCOMPARE(zipf.sample(rng), std::uint64_t(1));
  }

  void sameSeedSameSequence() {
    const ZipfSampler zipf(5000, 0.99);
    Rng a(77), b(77), c(78);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
      const auto x = zipf.sample(a);
      QCOMPARE(zipf.sample(b), x);
      differs |= zipf.sample(c) != x;
    }
    QVERIFY(differs);
  }

  void permutationIsABijection_data() {
    QTest::addColumn<quint64>("n");
    for (quint64 n : {1ULL, 2ULL, 3ULL, 10ULL, 97ULL, 1000ULL, 1024ULL, 65536ULL, 100003ULL})
      QTest::newRow(qPrintable(QString::number(n))) << n;
  }

  void permutationIsABijection() {
    QFETCH(quint64, n);
    for (std::uint64_t seed : {1ULL, 2ULL, 0xdeadbeefULL}) {
      const Permutation perm(n, seed);
      std::vector<bool> seen(n, false);
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto j = perm(i);
        QVERIFY(j < n);
        QVERIFY2(!seen[j], "two ranks map to one item");
        seen[j] = true;
      }
    }
  }

  void permutationSpreadsTheHotRanks() {
    // The 10 hottest ranks of 100,000 ids must not sit in one small corner.
    const Permutation perm(100000, 1);
    std::uint64_t lo = perm(0), hi = perm(0);
    for (std::uint64_t i = 1; i < 10; ++i) {
      lo = std::min(lo, perm(i));
      hi = std::max(hi, perm(i));
    }
    QVERIFY2(hi - lo > 10000, "hot ranks are clustered");
  }

  void permutationOfHugeRangeDoesNotOverflow() {
    const std::uint64_t n = (1ULL << 62) + 7;
    const Permutation perm(n, 3);
    for (std::uint64_t i : {std::uint64_t(0), std::uint64_t(1), n / 2, n - 1}) QVERIFY(perm(i) < n);
    QVERIFY(perm(n - 1) != perm(n - 2));
  }
};

QTEST_APPLESS_MAIN(TestZipf)
#include "tst_zipf.moc"
