// The synthetic workload against real Redis and PostgreSQL: verified mixed
// load, rate limiting, live rate and population changes, prompt stop.
// TIER_TEST_LABELS: concurrency
// TIER_TEST_ON_CLUSTER
#include <QElapsedTimer>
#include <QTest>

#include "core_fixture.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/schema/migrations.h"
#include "tier/workload/workload.h"

using namespace tier;
using workload::Workload;
using workload::WorkloadCounters;
using workload::WorkloadOptions;

namespace {

WorkloadOptions baseOptions() {
  WorkloadOptions o;
  o.virtual_users = 50;
  o.threads = 4;
  o.seed = 7;
  return o;
}

QString describe(const WorkloadCounters& c) {
  return QStringLiteral("ops=%1 reads=%2 misses=%3 writes=%4 skipped=%5 failed_reads=%6 failed_writes=%7 "
                        "stale=%8 elapsed=%9s last_error=%10")
      .arg(c.operations).arg(c.reads).arg(c.misses).arg(c.writes).arg(c.skipped_writes).arg(c.failed_reads)
      .arg(c.failed_writes).arg(c.stale_reads).arg(c.elapsed_s, 0, 'f', 2)
      .arg(QString::fromStdString(c.last_error));
}

// A database on the shared server that is empty, optionally migrated.
CoreConfig emptyDatabase(const char* name, bool migrated) {
  auto& servers = test::seededServers();
  const std::string db(name);
  servers.postgres().psql("DROP DATABASE IF EXISTS " + db);
  servers.postgres().psql("CREATE DATABASE " + db);
  CoreConfig c = test::coreConfig();
  c.pg_conninfo += " dbname=" + db;  // a later conninfo key wins
  if (migrated) {
    TierCore core(c);
    schema::migrate(core.pg());
  }
  return c;
}

}  // namespace

class TestWorkload : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> core;

 private Q_SLOTS:
  void initTestCase() { test::seededServers(); }
  void init() {
    test::flushRedis();
    core = std::make_unique<TierCore>(test::coreConfig());
  }
  void cleanup() { core.reset(); }

  void verifiedMixedLoad() {
    WorkloadOptions o = baseOptions();
    o.duration = std::chrono::seconds(3);
    Workload w(*core, o);
    w.start();
    QVERIFY(w.running());
    w.wait();
    QVERIFY(!w.running());
    const auto c = w.counters();
    const auto snap = core->metrics().snapshot(std::chrono::seconds(0));
    qInfo("%s hit_rate=%.3f (l1 %.3f, l2 %.3f) ops/s=%.0f", qPrintable(describe(c)), snap.hitRate(),
          snap.l1HitRate(), snap.l2HitRate(), c.operations / c.elapsed_s);
    QVERIFY2(c.reads > 0, qPrintable(describe(c)));
    QVERIFY2(c.writes > 0, qPrintable(describe(c)));
    QCOMPARE(QString::fromStdString(c.write_mode), QStringLiteral("sandbox"));  // the fixture's database is marked
    QVERIFY(c.searches > 0);
    QCOMPARE(c.failed_reads, 0u);
    QCOMPARE(c.failed_writes, 0u);
    QCOMPARE(c.errors, 0u);
    QCOMPARE(c.stale_reads, 0u);
    QVERIFY2(snap.hitRate() > 0.5, qPrintable(QString::number(snap.hitRate())));
    QVERIFY2(c.elapsed_s > 2.9 && c.elapsed_s < 4.5, qPrintable(QString::number(c.elapsed_s)));
    // The repositories counted the same reads the workload did (no double counting by the workload).
    QCOMPARE(snap.counter(metrics::Counter::Read), c.reads);
  }

  // Many writers and readers on a few hot items: the no-stale-read promise under contention.
  void hotItemsUnderContention_data() {
    QTest::addColumn<int>("appendWeight");
    QTest::addColumn<int>("editWeight");
    QTest::newRow("sessions") << 1 << 0;
    QTest::newRow("entries") << 0 << 1;
  }
  void hotItemsUnderContention() {
    QFETCH(int, appendWeight);
    QFETCH(int, editWeight);
    WorkloadOptions o = baseOptions();
    o.threads = 8;
    o.zipf_s = 1.6;  // most operations hit a handful of items
    o.mix = workload::Mix{editWeight ? 2 : 0, appendWeight ? 2 : 0, appendWeight, 0, 0, editWeight, 0};
    o.duration = std::chrono::seconds(2);
    Workload w(*core, o);
    w.start();
    w.wait();
    const auto c = w.counters();
    qInfo("%s", qPrintable(describe(c)));
    QVERIFY(c.writes > 0);
    QCOMPARE(c.errors, 0u);
    QVERIFY2(c.stale_reads == 0, qPrintable(describe(c)));
  }

  void rateIsHeld() {
    WorkloadOptions o = baseOptions();
    o.rate = 200;
    o.duration = std::chrono::seconds(2);
    Workload w(*core, o);
    w.start();
    w.wait();
    const auto c = w.counters();
    qInfo("rate 200/s for 2 s: %s", qPrintable(describe(c)));
    QVERIFY2(c.operations >= 300 && c.operations <= 500, qPrintable(describe(c)));
    QCOMPARE(c.failed_reads, 0u);
  }

  void setRateTakesEffectWhileRunning() {
    WorkloadOptions o = baseOptions();
    o.rate = 20;
    o.duration = std::chrono::seconds(0);
    Workload w(*core, o);
    w.start();
    QTRY_VERIFY_WITH_TIMEOUT(w.counters().operations >= 10, 3000);

    // At 20/s another 200 operations would take 10 s.
    w.setRate(400);
    QCOMPARE(w.options().rate, 400.0);
    const auto before = w.counters().operations;
    QElapsedTimer t;
    t.start();
    QTRY_VERIFY_WITH_TIMEOUT(w.counters().operations >= before + 200, 3000);
    const double fastRate = (w.counters().operations - before) / (t.elapsed() / 1000.0);
    qInfo("after setRate(400): %.0f ops/s", fastRate);

    w.setRate(10);
    const auto slowStart = w.counters().operations;
    t.restart();
    QTest::qWait(1500);  // measuring a rate takes time; nothing is synchronised by this wait
    const auto slowOps = w.counters().operations - slowStart;
    const double allowed = 10 * (t.elapsed() / 1000.0) * 1.25 + o.threads;  // plus operations in flight
    qInfo("after setRate(10): %llu ops in %lld ms", static_cast<unsigned long long>(slowOps),
          static_cast<long long>(t.elapsed()));
    QVERIFY2(slowOps >= 5 && slowOps <= allowed, qPrintable(QString::number(slowOps)));
    w.stop();
    QCOMPARE(w.counters().failed_reads, 0u);
  }

  void setVirtualUsersTakesEffectWhileRunning() {
    WorkloadOptions o = baseOptions();
    o.virtual_users = 4;
    o.think_time = std::chrono::milliseconds(500);  // ~2 operations/s per virtual user
    o.duration = std::chrono::seconds(0);
    Workload w(*core, o);
    w.start();
    QTRY_VERIFY_WITH_TIMEOUT(w.counters().operations >= 4, 3000);

    // 4 users make ~8 operations/s: 150 more would take ~19 s; 200 users make ~400/s.
    w.setVirtualUsers(200);
    QCOMPARE(w.options().virtual_users, 200);
    const auto before = w.counters().operations;
    QTRY_VERIFY_WITH_TIMEOUT(w.counters().operations >= before + 150, 4000);

    // No one left: at most the operations in flight complete.
    w.setVirtualUsers(0);
    const auto paused = w.counters().operations;
    QTest::qWait(700);  // measuring that nothing happens takes time
    QVERIFY(w.counters().operations <= paused + std::uint64_t(o.threads));
    QVERIFY(w.running());
    w.stop();
    QVERIFY(!w.running());
  }

  void stopIsPrompt_data() {
    QTest::addColumn<double>("rate");
    QTest::addColumn<int>("thinkMs");
    QTest::newRow("unlimited") << 0.0 << 0;
    QTest::newRow("one operation per 5 s") << 0.2 << 0;
    QTest::newRow("users thinking 10 s") << 0.0 << 10000;
  }
  void stopIsPrompt() {
    QFETCH(double, rate);
    QFETCH(int, thinkMs);
    WorkloadOptions o = baseOptions();
    o.rate = rate;
    o.think_time = std::chrono::milliseconds(thinkMs);
    o.duration = std::chrono::seconds(0);
    Workload w(*core, o);
    w.start();
    QTRY_VERIFY_WITH_TIMEOUT(w.counters().operations >= 1, 3000);
    QElapsedTimer t;
    t.start();
    w.stop();
    qInfo("stop() took %lld ms", static_cast<long long>(t.elapsed()));
    QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
    QVERIFY(!w.running());
    const auto after = w.counters();
    QCOMPARE(w.counters().operations, after.operations);  // nothing runs after stop()
    w.wait();  // returns at once once stopped
  }

  void durationEndsTheRunAndItCanRestart() {
    WorkloadOptions o = baseOptions();
    o.duration = std::chrono::seconds(1);
    Workload w(*core, o);
    w.start();
    QVERIFY_THROWS_EXCEPTION(BadInputError, w.start());  // already running
    QElapsedTimer t;
    t.start();
    w.wait();
    QVERIFY2(t.elapsed() < 2500, qPrintable(QString::number(t.elapsed())));
    QVERIFY(!w.running());
    const auto first = w.counters();
    QVERIFY(first.operations > 0);
    QVERIFY(first.elapsed_s >= 0.9 && first.elapsed_s < 2.5);
    w.start();
    w.wait();
    QVERIFY(w.counters().operations > 0);
    QCOMPARE(w.counters().stale_reads, 0u);
  }

  void runsOnAOneConnectionPool() {
    CoreConfig c = test::coreConfig();
    c.pg.pool_size = 1;  // start() must not hold one connection while asking for another
    TierCore small(c);
    WorkloadOptions o = baseOptions();
    o.threads = 2;
    o.duration = std::chrono::seconds(1);
    Workload w(small, o);
    w.start();
    w.wait();
    const auto c2 = w.counters();
    QVERIFY2(c2.reads > 0 && c2.errors == 0 && c2.stale_reads == 0, qPrintable(describe(c2)));
  }

  void refusesBadOptions_data() {
    QTest::addColumn<int>("which");
    QTest::newRow("no threads") << 0;
    QTest::newRow("negative weight") << 1;
    QTest::newRow("empty mix") << 2;
    QTest::newRow("negative skew") << 3;
  }
  void refusesBadOptions() {
    QFETCH(int, which);
    WorkloadOptions o = baseOptions();
    switch (which) {
      case 0: o.threads = 0; break;
      case 1: o.mix.entry_edit = -1; break;
      case 2: o.mix = workload::Mix{0, 0, 0, 0, 0, 0, 0}; break;
      default: o.zipf_s = -0.5; break;
    }
    Workload w(*core, o);
    QVERIFY_THROWS_EXCEPTION(BadInputError, w.start());
    QVERIFY(!w.running());
  }

  void refusesEmptyDatabase_data() {
    QTest::addColumn<bool>("migrated");
    QTest::addColumn<QString>("hint");
    QTest::newRow("migrated, no rows") << true << QStringLiteral("tierctl seed");
    QTest::newRow("no schema") << false << QStringLiteral("tierctl migrate");
  }
  void refusesEmptyDatabase() {
    QFETCH(bool, migrated);
    QFETCH(QString, hint);
    TierCore empty(emptyDatabase(migrated ? "tier_wl_empty" : "tier_wl_bare", migrated));
    Workload w(empty, baseOptions());
    try {
      w.start();
      QFAIL("start() on an empty database did not throw");
    } catch (const NotFoundError& e) {
      QVERIFY2(QString::fromUtf8(e.what()).contains(hint), e.what());
    }
    QVERIFY(!w.running());
  }
};

QTEST_GUILESS_MAIN(TestWorkload)
#include "tst_workload.moc"
