// TIER_TEST_LABELS: bench
// TIER_TEST_TIMEOUT: 300
// `tierctl bench --quick --json` as a user runs it: the command starts its own
// servers, runs every measurement once at small sizes, prints every field of
// issue 5 with its target, stops its servers, and exits 0. The quick form
// proves that each measurement runs; its figures are not judged here (the full
// form, scripts/bench, is what docs/BENCHMARKS.md reports).
#include <QtTest>

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include "test_paths.h"

namespace {

const char* const kFields[] = {
    "l1_hit_vs_hashmap",         "l1_scaling_2t",
    "l2_get_vs_hiredis_p50",     "warm_vs_redis_benchmark",
    "session_cold_vs_libpq_p99", "hit_ratio_vs_top_k",
    "hit_ratio_vs_lru_scan",     "invalidate_1m_vs_recipe",
    "invalidate_concurrent_get_p99_ms", "namespace_invalidate_ms",
    "load_1000_hit_rate",        "load_1000_session_p99_ms",
    "load_1000_knowledge_p99_ms", "l1_bytes_per_entry_overhead",
};

// Reported beside the targets for comparison, without a target of their own:
// the 1,000-user load on 8 worker threads (the fields above: default threads),
// and the L1 policy against Belady-OPT (its ceiling is the row's static top-k).
const char* const kInfoFields[] = {
    "hit_ratio_vs_opt_zipf",
    "load_1000_8t_hit_rate",
    "load_1000_8t_session_p99_ms",
    "load_1000_8t_knowledge_p99_ms",
};

// Processes whose command line names this folder (the bench's own servers).
int processesUsing(const QString& dir) {
  QProcess ps;
  ps.start(QStringLiteral("pgrep"), {QStringLiteral("-f"), dir});
  ps.waitForFinished(10000);
  return QString::fromUtf8(ps.readAllStandardOutput()).split(QLatin1Char('\n'), Qt::SkipEmptyParts).size();
}

}  // namespace

class TestBench : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void quickRunsEveryMeasurement() {
    QTemporaryDir config;
    QVERIFY(config.isValid());
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"TIER_REDIS_URL", "TIER_PG_CONNINFO", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"})
      env.remove(QLatin1String(name));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), config.path());
    p.setProcessEnvironment(env);
    QElapsedTimer timer;
    timer.start();
    p.start(QString::fromStdString(tier::test::tierctlPath()),
            {QStringLiteral("bench"), QStringLiteral("--quick"), QStringLiteral("--json")});
    QVERIFY(p.waitForStarted(10000));
    p.closeWriteChannel();
    QVERIFY2(p.waitForFinished(280'000), "tierctl bench --quick did not finish");
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, err.constData());
    qInfo("bench --quick took %.1f s", timer.elapsed() / 1000.0);

    QJsonParseError pe{};
    const QJsonObject doc = QJsonDocument::fromJson(p.readAllStandardOutput(), &pe).object();
    QCOMPARE(pe.error, QJsonParseError::NoError);
    QVERIFY(doc.value(QStringLiteral("errors")).toObject().isEmpty());
    QCOMPARE(doc.value(QStringLiteral("interrupted")).toBool(true), false);
    QVERIFY(doc.value(QStringLiteral("method")).toObject().value(QStringLiteral("quick")).toBool());
    const QJsonObject targets = doc.value(QStringLiteral("targets")).toObject();
    for (const char* f : kFields) {
      const QString field = QLatin1String(f);
      QVERIFY2(doc.value(field).isDouble(), f);
      const double v = doc.value(field).toDouble();
      QVERIFY2(std::isfinite(v) && v >= 0, f);
      const QJsonObject t = targets.value(field).toObject();
      QVERIFY2(t.value(QStringLiteral("target")).isDouble() && t.value(QStringLiteral("met")).isBool(), f);
      QCOMPARE(t.value(QStringLiteral("value")).toDouble(), v);
    }
    for (const char* f : kInfoFields) {
      const QString field = QLatin1String(f);
      QVERIFY2(doc.value(field).isDouble(), f);
      const double v = doc.value(field).toDouble();
      QVERIFY2(std::isfinite(v) && v >= 0, f);
      QVERIFY2(!targets.contains(field), f);
    }
    // Each ratio compares two measurements that both ran.
    const QJsonObject details = doc.value(QStringLiteral("details")).toObject();
    for (const char* g : {"l1", "l2_get", "warm", "session", "invalidate", "load"})
      QVERIFY2(!details.value(QLatin1String(g)).toObject().isEmpty(), g);
    QVERIFY(doc.value(QStringLiteral("l2_get_vs_hiredis_p50")).toDouble() > 0);
    QVERIFY(doc.value(QStringLiteral("load_1000_hit_rate")).toDouble() > 0);
    QVERIFY(doc.value(QStringLiteral("load_1000_8t_hit_rate")).toDouble() > 0);
    // The policy never beats the IID ceiling by much (a finite trace may let it, a little).
    QVERIFY(doc.value(QStringLiteral("hit_ratio_vs_top_k")).toDouble() > 0.5);
    QVERIFY(doc.value(QStringLiteral("hit_ratio_vs_top_k")).toDouble() < 1.1);
    const QJsonObject ratios = details.value(QStringLiteral("l1")).toObject().value(QStringLiteral("hit_ratio")).toObject();
    QVERIFY(ratios.value(QStringLiteral("hit_ratio_vs_opt_zipf_ceiling")).toDouble() > 0);
    // The load's default threads and why, and the 8-thread block beside it.
    const QJsonObject load = details.value(QStringLiteral("load")).toObject();
    QVERIFY(load.value(QStringLiteral("threads")).toInt() >= 1);
    QVERIFY(load.value(QStringLiteral("threads_reason")).toString().startsWith(QStringLiteral("default: ")));
    QCOMPARE(load.value(QStringLiteral("at_8_threads")).toObject().value(QStringLiteral("threads")).toInt(), 8);
    const QJsonObject machine = doc.value(QStringLiteral("machine")).toObject();
    QVERIFY(!machine.value(QStringLiteral("redis_version")).toString().isEmpty());
    QVERIFY(!machine.value(QStringLiteral("postgres_version")).toString().isEmpty());
    // Its private servers are gone, and their folder with them.
    const QString dir = doc.value(QStringLiteral("method")).toObject().value(QStringLiteral("servers_dir")).toString();
    QVERIFY(dir.startsWith(QLatin1String("/tmp/tierctl-bench-")));
    QTRY_COMPARE_WITH_TIMEOUT(processesUsing(dir), 0, 20000);
    QVERIFY(!QFileInfo::exists(dir));
  }
};

QTEST_GUILESS_MAIN(TestBench)
#include "tst_bench.moc"
