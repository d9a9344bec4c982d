// The fleet protocol's encoding (docs/fleet-protocol.md): round trips, what a
// reader refuses, and the promise that a fleet p99 from merged buckets lies
// within the layout's stated error of the exact p99 of every sample.
#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "tier/fleet/wire.h"
#include "tier/metrics/metrics.h"

using namespace tier;
using Fields = std::vector<std::pair<std::string, std::string>>;
Q_DECLARE_METATYPE(Fields)

namespace {

// A Metrics whose clock never moves: totals() holds exactly what was recorded.
std::int64_t fixedSecond() noexcept { return 1'800'000'000; }

fleet::Sample sampleOf(const metrics::RawTotals& t) {
  fleet::Sample s;
  s.t_ms = 1'800'000'000'000;
  s.dt_ms = 1000;
  s.counters = t.counters;
  s.ops = t.ops;
  return s;
}

Fields validFields() {
  return {{"v", "1"}, {"t", "1800000000000"}, {"dt", "1000"}, {"c:read", "10"}, {"h:db_query", "3=2 40=1"},
          {"s:db_query", "2500"}, {"m:db_query", "1200"}};
}

}  // namespace

class TestFleetWire : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void keysShareOneHashTagPerInstance() {
    QCOMPARE(fleet::infoKey("a-1"), std::string("tier:fleet:{a-1}:info"));
    QCOMPARE(fleet::liveKey("a-1"), std::string("tier:fleet:{a-1}:live"));
    QCOMPARE(fleet::historyKey("a-1"), std::string("tier:fleet:{a-1}:hist"));
    QVERIFY(fleet::validInstanceId("vm-123-0a1b2c3d"));
    for (const char* bad : {"", "a b", "a{b}", "a:b", "é", "x\n"}) QVERIFY2(!fleet::validInstanceId(bad), bad);
    QVERIFY(!fleet::validInstanceId(std::string(65, 'a')));
  }

  void sampleRoundTrip() {
    metrics::Metrics m(&fixedSecond);
    m.count(metrics::Counter::Read, 120);
    m.count(metrics::Counter::L1Hit, 90);
    m.count(metrics::Counter::L2Hit, 20);
    m.count(metrics::Counter::StaleServed, 3);
    for (int i = 1; i <= 500; ++i) m.record(metrics::Op::SessionRetrieval, std::chrono::microseconds(i * 13));
    m.record(metrics::Op::RedisCommand, std::chrono::nanoseconds(0));
    fleet::Sample s = sampleOf(m.totals());
    s.l1_bytes = 4096;
    s.l1_entries = 12;
    s.l1_evictions = 7;
    std::string why;
    const auto back = fleet::decodeSample(fleet::encodeSample(s), &why);
    QVERIFY2(back, why.c_str());
    QCOMPARE(back->t_ms, s.t_ms);
    QCOMPARE(back->dt_ms, s.dt_ms);
    QVERIFY(back->counters == s.counters);
    QCOMPARE(back->l1_bytes, std::uint64_t(4096));
    QCOMPARE(back->l1_entries, std::uint64_t(12));
    QCOMPARE(back->l1_evictions, std::uint64_t(7));
    for (int o = 0; o < fleet::kOps; ++o) {
      QVERIFY(back->ops[o].buckets == s.ops[o].buckets);
      QCOMPARE(back->ops[o].sum_ns, s.ops[o].sum_ns);
      QCOMPARE(back->ops[o].max_ns, s.ops[o].max_ns);
    }
    const auto snap = back->toSnapshot(std::chrono::seconds(10), s.t_ms);
    QCOMPARE(snap.hitRate(), 110.0 / 120.0);
    QCOMPARE(snap.op(metrics::Op::SessionRetrieval).count, std::uint64_t(500));
    QCOMPARE(snap.op(metrics::Op::RedisCommand).count, std::uint64_t(1));  // a 0 ns sample is a sample
  }

  void infoRoundTrip() {
    fleet::InstanceInfo i{1, "host-1-abc", "journal-api", "host", 4242, "0.1.0", 1000, 2000, 1000};
    std::vector<std::optional<std::string>> values;
    const auto enc = fleet::encodeInfo(i);
    QCOMPARE(enc.size(), fleet::infoFields().size());
    for (std::size_t k = 0; k < enc.size(); ++k) {
      QCOMPARE(enc[k].first, fleet::infoFields()[k]);
      values.push_back(enc[k].second);
    }
    std::string why;
    const auto back = fleet::decodeInfo(values, &why);
    QVERIFY2(back, why.c_str());
    QCOMPARE(back->app, std::string("journal-api"));
    QCOMPARE(back->pid, std::int64_t(4242));
    values[0] = "2";
    QVERIFY(!fleet::decodeInfo(values, &why));
    QVERIFY2(why.find("version 2 is not supported") != std::string::npos, why.c_str());
    values[0] = "1";
    values[7] = std::nullopt;  // last_seen_ms is required
    QVERIFY(!fleet::decodeInfo(values, &why));
  }

  void malformedSamplesAreRefused_data() {
    QTest::addColumn<Fields>("fields");
    QTest::addColumn<QString>("reason");
    auto with = [](const std::string& k, const std::string& v) {
      Fields f = validFields();
      for (auto& p : f)
        if (p.first == k) {
          p.second = v;
          return f;
        }
      f.emplace_back(k, v);
      return f;
    };
    auto without = [](const std::string& k) {
      Fields f = validFields();
      f.erase(std::remove_if(f.begin(), f.end(), [&](const auto& p) { return p.first == k; }), f.end());
      return f;
    };
    QTest::newRow("future version") << with("v", "2") << QStringLiteral("not supported");
    QTest::newRow("no version") << without("v") << QStringLiteral("no protocol version");
    QTest::newRow("no time") << without("t") << QStringLiteral("no time");
    QTest::newRow("no interval") << without("dt") << QStringLiteral("no interval");
    QTest::newRow("negative time") << with("t", "-5") << QStringLiteral("t is not a time");
    QTest::newRow("interval of a year") << with("dt", "31536000000") << QStringLiteral("dt out of range");
    QTest::newRow("counter not a number") << with("c:read", "ten") << QStringLiteral("not a count");
    QTest::newRow("counter negative") << with("c:read", "-1") << QStringLiteral("not a count");
    QTest::newRow("counter beyond 2^53") << with("c:read", "18446744073709551615") << QStringLiteral("not a count");
    QTest::newRow("bucket out of range") << with("h:db_query", "432=1") << QStringLiteral("malformed");
    QTest::newRow("buckets out of order") << with("h:db_query", "40=1 3=2") << QStringLiteral("malformed");
    QTest::newRow("bucket twice") << with("h:db_query", "3=1 3=2") << QStringLiteral("malformed");
    QTest::newRow("bucket garbage") << with("h:db_query", "3:1") << QStringLiteral("malformed");
    QTest::newRow("two blanks") << with("h:db_query", "3=1  4=1") << QStringLiteral("malformed");
    QTest::newRow("huge value") << with("h:db_query", std::string(20000, '1')) << QStringLiteral("too long");
    Fields many = validFields();
    for (int i = 0; i < 300; ++i) many.emplace_back("x:" + std::to_string(i), "1");
    QTest::newRow("too many fields") << many << QStringLiteral("more than 256 fields");
  }

  void malformedSamplesAreRefused() {
    QFETCH(Fields, fields);
    QFETCH(QString, reason);
    std::string why;
    QVERIFY(!fleet::decodeSample(fields, &why));
    QVERIFY2(why.find(reason.toStdString()) != std::string::npos, why.c_str());
  }

  void unknownFieldsAndOpsAreIgnored() {
    Fields f = validFields();
    f.emplace_back("c:some_future_counter", "5");
    f.emplace_back("h:some_future_op", "1=1");
    f.emplace_back("x:vendor", "whatever");
    std::string why;
    const auto s = fleet::decodeSample(f, &why);
    QVERIFY2(s, why.c_str());
    QCOMPARE(s->counters[static_cast<int>(metrics::Counter::Read)], std::uint64_t(10));
  }

  // Three instances with different latency mixes; the fleet p99 from merged
  // buckets against the exact p99 of all samples, and against what averaging
  // the instances' p99s would have said.
  void fleetP99WithinTheLayoutsError() {
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> all;
    fleet::Sample merged;
    std::vector<double> perInstanceP99;
    const std::array<std::pair<double, double>, 3> mixes = {{{200'000, 0.3}, {900'000, 0.8}, {4'000'000, 0.5}}};
    bool first = true;
    for (const auto& [median, sigma] : mixes) {
      metrics::Metrics m(&fixedSecond);
      std::lognormal_distribution<double> d(std::log(median), sigma);
      for (int i = 0; i < 20'000; ++i) {
        const auto ns = static_cast<std::uint64_t>(d(rng));
        all.push_back(ns);
        m.record(metrics::Op::SessionRetrieval, std::chrono::nanoseconds(ns));
      }
      std::string why;
      auto s = fleet::decodeSample(fleet::encodeSample(sampleOf(m.totals())), &why);  // through the wire
      QVERIFY2(s, why.c_str());
      perInstanceP99.push_back(metrics::summarize(s->ops[static_cast<int>(metrics::Op::SessionRetrieval)]).p99_ms);
      if (first)
        merged = *s;
      else
        merged.combine(*s);
      first = false;
    }
    std::sort(all.begin(), all.end());
    const auto rank = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(all.size())));
    const double exactMs = static_cast<double>(all[rank - 1]) / 1e6;
    const double fleetMs = metrics::summarize(merged.ops[static_cast<int>(metrics::Op::SessionRetrieval)]).p99_ms;
    const double averaged = (perInstanceP99[0] + perInstanceP99[1] + perInstanceP99[2]) / 3;
    qInfo("exact p99 %.4f ms, fleet p99 from merged buckets %.4f ms (error %+.2f %%), average of p99s %.4f ms",
          exactMs, fleetMs, 100 * (fleetMs - exactMs) / exactMs, averaged);
    QVERIFY(fleetMs >= exactMs);
    QVERIFY(fleetMs <= exactMs * (1 + metrics::kHistogramRelativeError) + 64e-6);
    QVERIFY2(std::abs(averaged - exactMs) > exactMs * metrics::kHistogramRelativeError,
             "the mixes should make averaging visibly wrong, or this test proves nothing");
  }

  void bucketLayoutMatchesTheDocument() {
    // docs/fleet-protocol.md, in the document's own words.
    auto documented = [](std::uint64_t ns) {
      std::uint64_t u = std::min<std::uint64_t>(ns >> 6, (std::uint64_t{1} << 30) - 1);
      if (u < 16) return static_cast<int>(u);
      int e = 63 - __builtin_clzll(u);
      return 16 + (e - 4) * 16 + static_cast<int>((u >> (e - 4)) - 16);
    };
    std::mt19937_64 rng(3);
    for (int i = 0; i < 100'000; ++i) {
      const std::uint64_t ns = rng() >> (rng() % 64);
      QCOMPARE(metrics::histogramBucketOf(ns), documented(ns));
      const int b = documented(ns);
      if (b < metrics::kHistogramBuckets - 1) QVERIFY(ns < metrics::histogramBucketUpperNs(b));
    }
  }
};

QTEST_GUILESS_MAIN(TestFleetWire)
#include "tst_fleet_wire.moc"
