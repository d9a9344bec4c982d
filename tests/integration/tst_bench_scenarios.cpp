// The bench scenarios (tier/bench/scenarios.h) run as a library, in their quick
// form, against the test servers: what tierctl bench reports comes from code a
// test can call. The figures themselves are not judged here (ratios on a shared
// machine belong to the bench), only that each scenario measures something real
// and reports its fields, its details and its baseline.
#include <QTest>
#include <cmath>
#include <set>

#include "core_fixture.h"
#include "tier/bench/scenarios.h"
#include "tier/common/error.h"

using namespace tier;

class TestBenchScenarios : public QObject {
  Q_OBJECT

  bench::Run quickRun() {
    bench::Run run;
    run.plan = bench::planFor(true);
    run.config = test::coreConfig("bench-test");
    run.redis.url = redis::RedisUrl::parse(run.config.redis_url);
    run.core = std::make_unique<TierCore>(run.config);
    return run;
  }

  static void verifyPositive(const QJsonObject& fields, const char* field) {
    QVERIFY2(fields.contains(QLatin1String(field)), field);
    const double v = fields.value(QLatin1String(field)).toDouble();
    QVERIFY2(std::isfinite(v) && v > 0, qPrintable(QStringLiteral("%1 = %2").arg(QLatin1String(field)).arg(v)));
  }

  static const bench::Scenario& scenario(const char* name) {
    for (const auto& s : bench::scenarios())
      if (std::string_view(s.name) == name) return s;
    qFatal("no scenario %s", name);
  }

 private Q_SLOTS:
  void initTestCase() { test::seededServers(); }
  void init() { test::flushRedis(); }

  // Every reported field belongs to a scenario that exists, and every
  // scenario reports at least one field with a target.
  void everyFieldHasItsScenario() {
    std::set<std::string> names;
    for (const auto& s : bench::scenarios()) QVERIFY2(names.insert(s.name).second, s.name);
    std::set<std::string> withTargets;
    for (const auto& t : bench::targets()) {
      QVERIFY2(names.count(t.group), t.field);
      withTargets.insert(t.group);
    }
    for (const auto& i : bench::infoFields()) QVERIFY2(names.count(i.group), i.field);
    QCOMPARE(withTargets, names);
  }

  void quickPlanIsSmaller() {
    const auto full = bench::planFor(false), quick = bench::planFor(true);
    QVERIFY(quick.quick && !full.quick);
    QVERIFY(quick.reps < full.reps && quick.get_ops < full.get_ops && quick.load_measure_s < full.load_measure_s);
  }

  // L2: the core's GET against a bare connection's GET on the same server.
  void l2AgainstHiredis() {
    auto run = quickRun();
    scenario("l2").run(run);
    verifyPositive(run.fields, "l2_get_vs_hiredis_p50");
    const auto d = run.details.value(QStringLiteral("l2_get")).toObject();
    QCOMPARE(d.value(QStringLiteral("ops_per_block")).toInt(), run.plan.get_ops);
    QCOMPARE(d.value(QStringLiteral("core")).toObject().value(QStringLiteral("samples")).toDouble(),
             double(run.plan.get_ops * run.plan.reps));
    QVERIFY(d.value(QStringLiteral("hiredis")).toObject().value(QStringLiteral("p50_us")).toDouble() > 0);
  }

  // Session: the core's cold session load against the same query on bare libpq.
  void sessionAgainstLibpq() {
    auto run = quickRun();
    scenario("session").run(run);
    verifyPositive(run.fields, "session_cold_vs_libpq_p99");
    QVERIFY(run.details.contains(QStringLiteral("session")));
  }

  // An interrupt ends a scenario between repetitions with a clear error, and
  // nothing is reported for it.
  void interruptStopsAScenario() {
    auto run = quickRun();
    run.interrupted = [] { return true; };
    try {
      scenario("l2").run(run);
      QFAIL("an interrupted scenario ran to its end");
    } catch (const Error& e) {
      QCOMPARE(std::string(e.what()), std::string("interrupted"));
    }
    QVERIFY(!run.fields.contains(QStringLiteral("l2_get_vs_hiredis_p50")));
  }
};

QTEST_GUILESS_MAIN(TestBenchScenarios)
#include "tst_bench_scenarios.moc"
