// Unit tests of threshold evaluation: every status boundary of every metric.
#include <QtTest>

#include "tier/metrics/thresholds.h"

using namespace std::chrono_literals;
using tier::Thresholds;
using tier::metrics::Counter;
using tier::metrics::Op;
using tier::metrics::Snapshot;
using tier::metrics::Status;

Q_DECLARE_METATYPE(Status)

namespace {

Snapshot withHitRate(std::uint64_t hits, std::uint64_t reads) {
  Snapshot s;
  s.counters[static_cast<int>(Counter::Read)] = reads;
  s.counters[static_cast<int>(Counter::L1Hit)] = hits / 2;
  s.counters[static_cast<int>(Counter::L2Hit)] = hits - hits / 2;
  return s;
}

const tier::metrics::ThresholdResult& find(const std::vector<tier::metrics::ThresholdResult>& rs, const QString& name) {
  for (const auto& r : rs)
    if (QString::fromStdString(r.name) == name) return r;
  qFatal("no threshold result named %s", qPrintable(name));
}

}  // namespace

class TestThresholds : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void hitRate_data() {
    QTest::addColumn<int>("hits");  // out of 100000 reads
    QTest::addColumn<double>("warnRatio");
    QTest::addColumn<Status>("expected");
    // Defaults: limit 0.80, warn band [0.80, 0.84).
    QTest::newRow("far below") << 10'000 << 0.8 << Status::Violation;
    QTest::newRow("just below limit") << 79'999 << 0.8 << Status::Violation;
    QTest::newRow("at limit") << 80'000 << 0.8 << Status::Violation;  // "> 80 %": 80.0 % is not above
    QTest::newRow("just above limit") << 80'001 << 0.8 << Status::Warn;
    QTest::newRow("inside warn band") << 83'990 << 0.8 << Status::Warn;
    QTest::newRow("just above warn band") << 84'010 << 0.8 << Status::Ok;
    QTest::newRow("perfect") << 100'000 << 0.8 << Status::Ok;
    // warn_ratio 0.5 widens the band to [0.80, 0.90).
    QTest::newRow("wider band, warn") << 89'990 << 0.5 << Status::Warn;
    QTest::newRow("wider band, ok") << 90'010 << 0.5 << Status::Ok;
    // warn_ratio 1 removes the band.
    QTest::newRow("no band") << 80'001 << 1.0 << Status::Ok;
  }
  void hitRate() {
    QFETCH(int, hits);
    QFETCH(double, warnRatio);
    QFETCH(Status, expected);
    Thresholds t;
    t.warn_ratio = warnRatio;
    const auto rs = tier::metrics::evaluate(withHitRate(static_cast<std::uint64_t>(hits), 100'000), t);
    const auto& r = find(rs, QStringLiteral("hit_rate"));
    QCOMPARE(r.status, expected);
    QCOMPARE(r.value, hits / 100'000.0);
    QCOMPARE(r.limit, 0.80);
    QCOMPARE(QString::fromStdString(r.unit), QStringLiteral("ratio"));
  }

  void latency_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("op");
    QTest::addColumn<double>("p99");
    QTest::addColumn<double>("limit");
    QTest::addColumn<Status>("expected");
    struct M {
      const char* name;
      Op op;
      double limit;
    };
    const M metrics[] = {{"redis_p99", Op::RedisCommand, 5.0},
                         {"session_retrieval_p99", Op::SessionRetrieval, 10.0},
                         {"db_query_p99", Op::DbQuery, 50.0},
                         {"knowledge_p99", Op::KnowledgeLookup, 2.0}};
    for (const M& m : metrics) {
      const auto row = [&](const char* what, double p99, Status st) {
        QTest::addRow("%s %s", m.name, what) << QString::fromLatin1(m.name) << static_cast<int>(m.op) << p99
                                            << m.limit << st;
      };
      row("zero", 0.0, Status::Ok);
      row("below warn", 0.79 * m.limit, Status::Ok);
      row("above warn", 0.81 * m.limit, Status::Warn);
      row("at limit", m.limit, Status::Violation);  // "< 5 ms": 5.00 ms is not below
      row("just below limit", 0.999 * m.limit, Status::Warn);
      row("above limit", 1.01 * m.limit, Status::Violation);
      row("far above", 100 * m.limit, Status::Violation);
    }
  }
  void latency() {
    QFETCH(QString, name);
    QFETCH(int, op);
    QFETCH(double, p99);
    QFETCH(double, limit);
    QFETCH(Status, expected);
    Snapshot s;
    s.latency[op].count = 1000;
    s.latency[op].p99_ms = p99;
    const auto rs = tier::metrics::evaluate(s, Thresholds{});
    const auto& r = find(rs, name);
    QCOMPARE(r.status, expected);
    QCOMPARE(r.value, p99);
    QCOMPARE(r.limit, limit);
    QCOMPARE(QString::fromStdString(r.unit), QStringLiteral("ms"));
  }

  void noData() {
    const auto rs = tier::metrics::evaluate(Snapshot{}, Thresholds{});
    QCOMPARE(rs.size(), std::size_t{5});
    for (const auto& r : rs) {
      QCOMPARE(r.status, Status::NoData);
      QCOMPARE(r.value, 0.0);
    }
  }

  void orderNamesAndConfiguredLimits() {
    Thresholds t;
    t.redis_p99_ms = 7;
    t.session_p99_ms = 11;
    t.db_query_p99_ms = 40;
    t.knowledge_p99_ms = 3;
    t.hit_rate_min = 0.9;
    const auto rs = tier::metrics::evaluate(Snapshot{}, t);
    QStringList names;
    QList<double> limits;
    for (const auto& r : rs) {
      names << QString::fromStdString(r.name);
      limits << r.limit;
    }
    QCOMPARE(names, (QStringList{QStringLiteral("hit_rate"), QStringLiteral("redis_p99"),
                                 QStringLiteral("session_retrieval_p99"), QStringLiteral("db_query_p99"),
                                 QStringLiteral("knowledge_p99")}));
    QCOMPARE(limits, (QList<double>{0.9, 7, 11, 40, 3}));
  }

  void fromRecordedMetrics() {
    tier::metrics::Metrics m;
    for (int i = 0; i < 100; ++i) {
      m.record(Op::RedisCommand, 300us);
      m.record(Op::DbQuery, i < 98 ? 1ms : 80ms);  // p99 = 80 ms: violation
      m.count(Counter::Read);
      m.count(i < 82 ? Counter::L1Hit : Counter::L3Read);
    }
    const auto rs = tier::metrics::evaluate(m.snapshot(10s), Thresholds{});
    QCOMPARE(find(rs, QStringLiteral("hit_rate")).status, Status::Warn);
    QCOMPARE(find(rs, QStringLiteral("redis_p99")).status, Status::Ok);
    QCOMPARE(find(rs, QStringLiteral("db_query_p99")).status, Status::Violation);
    QCOMPARE(find(rs, QStringLiteral("session_retrieval_p99")).status, Status::NoData);
  }

  void statusNames() {
    QCOMPARE(QLatin1String(tier::metrics::toString(Status::Ok)), QLatin1String("ok"));
    QCOMPARE(QLatin1String(tier::metrics::toString(Status::Warn)), QLatin1String("warn"));
    QCOMPARE(QLatin1String(tier::metrics::toString(Status::Violation)), QLatin1String("violation"));
    QCOMPARE(QLatin1String(tier::metrics::toString(Status::NoData)), QLatin1String("no_data"));
  }
};

QTEST_APPLESS_MAIN(TestThresholds)
#include "tst_thresholds.moc"
