// tierctl health --server-series (issue 14, item 4): the built binary, through
// QProcess, against the test servers while another client reads keys: the
// JSON's server_series measures that traffic at the server (keyspace hits,
// commands/s) over ~1 s, says pg_stat_statements is not installed, and is
// absent without the flag; the text form says "measured at the server".
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <thread>

#include "core_fixture.h"
#include "test_paths.h"
#include "tier/redis/redis_client.h"

namespace {

struct Run {
  int code = -1;
  QByteArray out;
  QByteArray err;
};

}  // namespace

class TestTierctlServerSeries : public QObject {
  Q_OBJECT

  QTemporaryDir config_;

  Run tierctl(QStringList args) const {
    args << QStringLiteral("--redis") << QString::fromStdString(tier::test::redisUrl()) << QStringLiteral("--pg")
         << QString::fromStdString(tier::test::seededServers().pgConninfo());
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"TIER_REDIS_URL", "TIER_PG_CONNINFO", "PGPASSWORD"}) env.remove(QLatin1String(name));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), config_.path());
    p.setProcessEnvironment(env);
    p.start(QString::fromStdString(tier::test::tierctlPath()), args);
    if (!p.waitForStarted(10000)) return {};
    p.closeWriteChannel();
    if (!p.waitForFinished(60000)) {
      p.kill();
      p.waitForFinished();
      return {};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(config_.isValid());
    tier::test::seededServers();
  }

  void jsonMeasuresOtherClientsTraffic() {
    tier::redis::RedisOptions o;
    o.url = tier::redis::RedisUrl::parse(tier::test::redisUrl());
    tier::redis::RedisClient other(o);
    other.command({"SET", "cli-series:k", "v"});
    std::atomic<bool> stop{false};
    std::atomic<long long> gets{0};
    std::thread reader([&] {
      const std::vector<tier::redis::Command> batch(200, tier::redis::Command{"GET", "cli-series:k"});
      while (!stop) {
        other.pipeline(batch);
        gets += 200;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    const Run r = tierctl({QStringLiteral("health"), QStringLiteral("--server-series"), QStringLiteral("--json")});
    stop = true;
    reader.join();
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject s = QJsonDocument::fromJson(r.out).object().value(QStringLiteral("server_series")).toObject();
    QVERIFY2(!s.isEmpty(), r.out.constData());
    QCOMPARE(s.value(QStringLiteral("measured_at")).toString(), QStringLiteral("server"));
    const double interval = s.value(QStringLiteral("interval_s")).toDouble();
    QVERIFY2(interval >= 0.9 && interval < 5, QByteArray::number(interval).constData());
    const QJsonObject redis = s.value(QStringLiteral("redis")).toObject();
    QVERIFY(redis.value(QStringLiteral("ok")).toBool());
    // Our reader ran the whole time: at least a few batches fell between the two polls.
    const double hits = redis.value(QStringLiteral("keyspace_hits")).toDouble();
    QVERIFY2(hits >= 400 && hits <= double(gets.load()) + 10, QByteArray::number(hits).constData());
    QVERIFY(redis.value(QStringLiteral("keyspace_hit_rate")).toDouble() > 0.9);
    QVERIFY(redis.value(QStringLiteral("commands_per_s")).toDouble() * interval >= hits);
    const QJsonObject get = redis.value(QStringLiteral("commands")).toObject().value(QStringLiteral("get")).toObject();
    QVERIFY(get.value(QStringLiteral("p99_us")).toDouble() > 0);
    QVERIFY(get.value(QStringLiteral("calls_per_s")).toDouble() * interval >= hits - 0.5);
    const QJsonObject pg = s.value(QStringLiteral("postgres")).toObject();
    QVERIFY(pg.value(QStringLiteral("ok")).toBool());
    QCOMPARE(pg.value(QStringLiteral("statements")).toString(), QStringLiteral("not_installed"));
    QCOMPARE(pg.value(QStringLiteral("statements_note")).toString(),
             QStringLiteral("pg_stat_statements not installed"));
    QVERIFY(pg.value(QStringLiteral("transactions_per_s")).isDouble());
  }

  void withoutTheFlagNothingChanges() {
    const Run r = tierctl({QStringLiteral("health"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(!QJsonDocument::fromJson(r.out).object().contains(QStringLiteral("server_series")));
  }

  void text() {
    const Run r = tierctl({QStringLiteral("health"), QStringLiteral("--server-series")});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.out.contains("measured at the server over"), r.out.constData());
    QVERIFY(r.out.contains("pg_stat_statements not installed"));
    QVERIFY(r.out.contains("p99 since server start: GET"));
  }
};

QTEST_MAIN(TestTierctlServerSeries)
#include "tst_tierctl_server_series.moc"
