// TIER_TEST_TIMEOUT: 240
// tierctl as a user runs it: the built binary, through QProcess, against the
// harness's real Redis and PostgreSQL. Checks the contract of docs/cli.md:
// exit codes, JSON fields, one-line errors that never quote a password.
#include <sched.h>

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>

#include "servers.h"
#include "test_paths.h"
#include "tier/codec/keys.h"
#include "tier/core.h"
#include "tier/sandbox/seeder.h"
#include "tier/sandbox/server_process.h"

namespace {

struct Run {
  int code = -1;
  QByteArray out;
  QByteArray err;
  QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

const QString kRedisSecret = QStringLiteral("Redis-S3cret-pw");
const QString kPgSecret = QStringLiteral("Pg-S3cret-pw");
const QString kWrongSecret = QStringLiteral("Wrong-S3cret-pw");

QString qs(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

class TestTierctl : public QObject {
  Q_OBJECT

 private:
  QString redisUrl_, pgConninfo_;
  int redisPort_ = 0, pgPort_ = 0, closedPort_ = 0;
  QTemporaryDir config_;  // XDG_CONFIG_HOME of the child: profiles live here
  std::unique_ptr<tier::TierCore> core_;
  std::int64_t sessionId_ = 0;

  QProcessEnvironment environment(const QMap<QString, QString>& extra = {}) const {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"TIER_REDIS_URL", "TIER_PG_CONNINFO", "PGPASSWORD", "PGHOST", "PGPORT", "PGUSER",
                             "PGDATABASE", "PGSERVICE"})
      env.remove(QLatin1String(name));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), config_.path());
    for (auto it = extra.begin(); it != extra.end(); ++it) env.insert(it.key(), it.value());
    return env;
  }

  Run runProgram(const QString& program, const QStringList& args, const QMap<QString, QString>& env = {},
                 int timeoutMs = 60000) const {
    QProcess p;
    p.setProcessEnvironment(environment(env));
    p.start(program, args);
    if (!p.waitForStarted(10000)) return {};
    p.closeWriteChannel();  // stdin is a closed pipe: never a terminal
    if (!p.waitForFinished(timeoutMs)) {
      p.kill();
      p.waitForFinished();
      return {};
    }
    Run r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
  }

  // tierctl with the given args; the test servers unless the args name their own.
  Run tierctl(QStringList args, const QMap<QString, QString>& env = {}, bool withServers = true) const {
    if (withServers) {
      if (!args.contains(QStringLiteral("--redis"))) args << QStringLiteral("--redis") << redisUrl_;
      if (!args.contains(QStringLiteral("--pg"))) args << QStringLiteral("--pg") << pgConninfo_;
    }
    return runProgram(qs(tier::test::tierctlPath()), args, env);
  }

  long long redisScanCount(const std::string& pattern) const {
    const QString out = qs(tier::test::TestServers::shared().redis().cli("--scan --pattern '" + pattern + "'"));
    return out.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size();
  }

  // What "nothing changed" compares: every key by name, and Redis's count of
  // writes (the test server never saves, so it never resets).
  QString redisState() const {
    const auto& redis = tier::test::TestServers::shared().redis();
    QStringList keys = qs(redis.cli("--scan")).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    keys.sort();
    QString writes;
    for (const QString& line : qs(redis.cli("INFO persistence")).split(QLatin1Char('\n')))
      if (line.startsWith(QStringLiteral("rdb_changes_since_last_save:"))) writes = line.trimmed();
    return writes + QStringLiteral("; keys: ") + keys.join(QLatin1Char(' '));
  }

  static bool isOneLineError(const QByteArray& err) {
    return err.startsWith("tierctl: ") && err.endsWith('\n') && err.count('\n') == 1;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(config_.isValid());
    QVERIFY2(QFileInfo::exists(qs(tier::test::tierctlPath())), tier::test::tierctlPath().c_str());
    auto& servers = tier::test::TestServers::shared();
    redisUrl_ = qs(servers.redisUrl());
    pgConninfo_ = qs(servers.pgConninfo());
    redisPort_ = servers.redis().port();
    pgPort_ = servers.postgres().port();
    closedPort_ = tier::sandbox::findFreePort();

    tier::CoreConfig config;
    config.redis_url = servers.redisUrl();
    config.pg_conninfo = servers.pgConninfo();
    config.profile = "tst_tierctl";
    // The fixture's own fleet publisher would write to Redis every second and
    // make "nothing changed" (badInput) depend on timing; tierctl is under test here.
    config.fleet.enabled = false;
    core_ = std::make_unique<tier::TierCore>(config);
    tier::sandbox::SeedOptions seed;
    seed.users = 40;
    seed.entries = 400;
    seed.sessions = 30;
    seed.min_messages = 3;
    seed.max_messages = 12;
    seed.knowledge = 20;
    tier::sandbox::Seeder seeder(core_->pg());
    if (!seeder.isSeeded()) seeder.seed(seed);
    {
      auto c = core_->pg().acquire();
      sessionId_ = c->exec("SELECT min(id) FROM chat_sessions").toInt(0, 0);
    }
    QVERIFY(sessionId_ > 0);

    // A role with a password and no privileges, and a Redis user that may not delete.
    servers.postgres().psql("CREATE ROLE tierctl_pw LOGIN PASSWORD '" + kPgSecret.toStdString() + "'");
    servers.redis().cli("ACL SETUSER tierctl_noperm on '>" + kRedisSecret.toStdString() +
                        "' '~*' '+@all' '-unlink' '-del'");
    QVERIFY(servers.redis().cli("ACL GETUSER tierctl_noperm").find("-unlink") != std::string::npos);
  }

  void cleanupTestCase() { core_.reset(); }

  void version() {
    const Run r = tierctl({QStringLiteral("--version")}, {}, false);
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QByteArray("tierctl " TIER_VERSION "\n"));
    QVERIFY(r.err.isEmpty());
  }

  void helpListsEveryCommand() {
    const Run r = tierctl({QStringLiteral("--help")}, {}, false);
    QCOMPARE(r.code, 0);
    for (const char* cmd : {"sandbox", "migrate", "seed", "health", "inspect", "invalidate", "warm", "load", "stats",
                            "audit"})
      QVERIFY2(r.out.contains(QByteArray(QByteArray("  ") + cmd + ' ')), cmd);
  }

  void healthJson() {
    const Run r = tierctl({QStringLiteral("health"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const QJsonObject o = r.json();
    const QJsonObject redis = o.value(QStringLiteral("redis")).toObject();
    const QJsonObject pg = o.value(QStringLiteral("postgres")).toObject();
    QCOMPARE(redis.value(QStringLiteral("ok")).toBool(), true);
    QVERIFY(redis.value(QStringLiteral("version")).toString().startsWith(QLatin1Char('7')));
    QVERIFY(redis.value(QStringLiteral("latency_ms")).isDouble());
    QVERIFY(redis.value(QStringLiteral("latency_ms")).toDouble() >= 0);
    QCOMPARE(pg.value(QStringLiteral("ok")).toBool(), true);
    QVERIFY(pg.value(QStringLiteral("version")).toString().startsWith(QStringLiteral("15")));
    QVERIFY(pg.value(QStringLiteral("latency_ms")).isDouble());
    QCOMPARE(pg.value(QStringLiteral("schema_version")).toInt() >= 1, true);
  }

  void globalOptionsBeforeCommand() {
    const Run r = tierctl({QStringLiteral("--json"), QStringLiteral("--redis"), redisUrl_, QStringLiteral("--pg"),
                           pgConninfo_, QStringLiteral("health")},
                          {}, false);
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("redis")).toObject().value(QStringLiteral("ok")).toBool(), true);
  }

  void healthOfUnreachableServerFailsFast() {
    QElapsedTimer t;
    t.start();
    const Run r = tierctl({QStringLiteral("health"), QStringLiteral("--json"), QStringLiteral("--redis"),
                           QStringLiteral("redis://:%1@127.0.0.1:%2/0").arg(kRedisSecret).arg(closedPort_)});
    QCOMPARE(r.code, 3);
    QVERIFY2(isOneLineError(r.err), r.err.constData());
    QCOMPARE(r.json().value(QStringLiteral("redis")).toObject().value(QStringLiteral("ok")).toBool(), false);
    QCOMPARE(r.json().value(QStringLiteral("postgres")).toObject().value(QStringLiteral("ok")).toBool(), true);
    QVERIFY(!r.out.contains(kRedisSecret.toUtf8()));
    QVERIFY(!r.err.contains(kRedisSecret.toUtf8()));
    QVERIFY2(t.elapsed() < 10000, "an unreachable Redis must fail within the core's timeouts");
  }

  void profilesEnvironmentAndFlags() {
    {
      QSettings settings(config_.path() + QStringLiteral("/TierConsole/tierconsole.conf"), QSettings::IniFormat);
      settings.setValue(QStringLiteral("profiles/local/redis_url"), redisUrl_);
      settings.setValue(QStringLiteral("profiles/local/pg_conninfo"), pgConninfo_);
      settings.sync();
      QCOMPARE(settings.status(), QSettings::NoError);
    }
    const QStringList health{QStringLiteral("health"), QStringLiteral("--json")};
    Run r = tierctl(health + QStringList{QStringLiteral("--profile"), QStringLiteral("local")}, {}, false);
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("redis")).toObject().value(QStringLiteral("configured")).toBool(), true);

    r = tierctl(health + QStringList{QStringLiteral("--profile"), QStringLiteral("nosuch")}, {}, false);
    QCOMPARE(r.code, 6);
    QVERIFY(isOneLineError(r.err));

    // The environment overrides the profile...
    const QMap<QString, QString> badEnv{{QStringLiteral("TIER_PG_CONNINFO"),
                                         QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tier").arg(closedPort_)}};
    r = tierctl(health + QStringList{QStringLiteral("--profile"), QStringLiteral("local")}, badEnv, false);
    QCOMPARE(r.code, 3);
    // ...and a flag overrides the environment.
    r = tierctl(health + QStringList{QStringLiteral("--profile"), QStringLiteral("local"), QStringLiteral("--pg"),
                                     pgConninfo_},
                badEnv, false);
    QCOMPARE(r.code, 0);
    // The environment alone is enough.
    r = tierctl(health, {{QStringLiteral("TIER_REDIS_URL"), redisUrl_}, {QStringLiteral("TIER_PG_CONNINFO"), pgConninfo_}},
                false);
    QCOMPARE(r.code, 0);
  }

  void migrateIsIdempotent() {
    const Run r = tierctl({QStringLiteral("migrate"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("applied")).toArray().size(), 0);
    QVERIFY(r.json().value(QStringLiteral("to_version")).toInt() >= 1);
  }

  void seedRefusesANonEmptyDatabase() {
    const Run r = tierctl({QStringLiteral("seed"), QStringLiteral("--users"), QStringLiteral("5")});
    QCOMPARE(r.code, 2);
    QVERIFY2(isOneLineError(r.err), r.err.constData());
  }

  void invalidatePatternDryRunCountsWhatDeleteRemoves() {
    Run r = tierctl({QStringLiteral("warm"), QStringLiteral("entries"), QStringLiteral("--top-users"),
                     QStringLiteral("40"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.json().value(QStringLiteral("warmed")).toInt() + r.json().value(QStringLiteral("already")).toInt() > 0);

    const long long before = redisScanCount("entry:*");
    QVERIFY(before > 20);

    r = tierctl({QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:*"),
                 QStringLiteral("--dry-run"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("dry_run")).toBool(), true);
    QCOMPARE(o.value(QStringLiteral("matched")).toDouble(), static_cast<double>(before));
    QCOMPARE(o.value(QStringLiteral("deleted")).toDouble(), 0.0);
    QCOMPARE(o.value(QStringLiteral("sample")).toArray().size(), 20);
    for (const auto& k : o.value(QStringLiteral("sample")).toArray())
      QVERIFY(k.toString().startsWith(QStringLiteral("entry:v1:")));
    QCOMPARE(redisScanCount("entry:*"), before);  // a dry run deletes nothing

    r = tierctl({QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:*"),
                 QStringLiteral("--yes"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    o = r.json();
    QCOMPARE(o.value(QStringLiteral("dry_run")).toBool(), false);
    QCOMPARE(o.value(QStringLiteral("matched")).toDouble(), static_cast<double>(before));
    QCOMPARE(o.value(QStringLiteral("deleted")).toDouble(), static_cast<double>(before));
    QVERIFY(o.value(QStringLiteral("audit_id")).toDouble() > 0);
    QCOMPARE(redisScanCount("entry:*"), 0LL);
  }

  void inspectSessionLeavesL2AfterInvalidate() {
    const QString id = QString::number(sessionId_);
    QVERIFY(core_->sessions().get(sessionId_).value.has_value());  // a read fills L2

    Run r = tierctl({QStringLiteral("inspect"), QStringLiteral("session"), id, QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("l1")).toObject().value(QStringLiteral("present")).toBool(), false);  // another process
    QCOMPARE(o.value(QStringLiteral("l2")).toObject().value(QStringLiteral("present")).toBool(), true);
    QVERIFY(o.value(QStringLiteral("l2")).toObject().value(QStringLiteral("ttl_s")).toDouble() > 0);
    QCOMPARE(o.value(QStringLiteral("l3")).toObject().value(QStringLiteral("present")).toBool(), true);
    QCOMPARE(o.value(QStringLiteral("stale")).toBool(), false);
    QVERIFY(o.value(QStringLiteral("diff")).isArray());

    r = tierctl({QStringLiteral("invalidate"), QStringLiteral("--key"), QStringLiteral("session:v1:") + id,
                 QStringLiteral("--yes"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("deleted")).toDouble(), 1.0);

    r = tierctl({QStringLiteral("inspect"), QStringLiteral("session"), id, QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    o = r.json();
    QCOMPARE(o.value(QStringLiteral("l2")).toObject().value(QStringLiteral("present")).toBool(), false);
    QCOMPARE(o.value(QStringLiteral("l2")).toObject().value(QStringLiteral("ttl_s")).toDouble(), -2.0);
    QCOMPARE(o.value(QStringLiteral("l3")).toObject().value(QStringLiteral("present")).toBool(), true);
  }

  // inspect user / entry / stats: the same shape as a session's; a title
  // changed behind the cache shows both values; the journal text only its size.
  void inspectUserEntryAndStats() {
    auto c = core_->pg().acquire();
    const std::int64_t entryId = c->exec("SELECT min(id) FROM journal_entries").toInt(0, 0);
    const std::int64_t userId = c->exec("SELECT user_id FROM journal_entries WHERE id = $1", {std::to_string(entryId)})
                                    .toInt(0, 0);
    QVERIFY(core_->entries().get(entryId).value.has_value());  // fills L2
    QVERIFY(core_->users().get(userId).value.has_value());
    QVERIFY(core_->analytics().moodStats(userId, 30).value.has_value());

    Run r = tierctl({QStringLiteral("inspect"), QStringLiteral("user"), QString::number(userId), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("user_id")).toDouble(), static_cast<double>(userId));
    QCOMPARE(o.value(QStringLiteral("key")).toString(), QStringLiteral("user:v1:%1").arg(userId));
    QCOMPARE(o.value(QStringLiteral("l2")).toObject().value(QStringLiteral("present")).toBool(), true);
    QCOMPARE(o.value(QStringLiteral("stale")).toBool(), false);
    QVERIFY(o.value(QStringLiteral("user")).toObject().value(QStringLiteral("email")).toString().contains(QLatin1Char('@')));

    r = tierctl({QStringLiteral("inspect"), QStringLiteral("stats"), QString::number(userId), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    o = r.json();
    QCOMPARE(o.value(QStringLiteral("period_days")).toInt(), 30);
    QCOMPARE(o.value(QStringLiteral("l2")).toObject().value(QStringLiteral("present")).toBool(), true);
    QCOMPARE(o.value(QStringLiteral("stats")).toObject().value(QStringLiteral("user_id")).toDouble(),
             static_cast<double>(userId));

    // A DBA edits the row behind the cache: stale, with both values of the title.
    c->exec("UPDATE journal_entries SET title = 'edited behind the cache', content = content || ' (more)' "
            "WHERE id = $1",  // the trigger raises the version
            {std::to_string(entryId)});
    r = tierctl({QStringLiteral("inspect"), QStringLiteral("entry"), QString::number(entryId), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    o = r.json();
    QCOMPARE(o.value(QStringLiteral("stale")).toBool(), true);
    QCOMPARE(o.value(QStringLiteral("l2")).toObject().value(QStringLiteral("stale")).toBool(), true);
    bool sawTitle = false, sawContent = false;
    for (const auto& v : o.value(QStringLiteral("diff_values")).toArray()) {
      const QJsonObject d = v.toObject();
      if (d.value(QStringLiteral("field")).toString() == QLatin1String("title")) {
        sawTitle = true;
        QCOMPARE(d.value(QStringLiteral("database")).toString(), QStringLiteral("\"edited behind the cache\""));
        QVERIFY(!d.value(QStringLiteral("cached")).toString().isEmpty());
      }
      if (d.value(QStringLiteral("field")).toString() == QLatin1String("content")) {
        sawContent = true;
        QVERIFY2(d.value(QStringLiteral("database")).toString().endsWith(QLatin1String(" characters>")),
                 qPrintable(d.value(QStringLiteral("database")).toString()));
      }
    }
    QVERIFY(sawTitle);
    QVERIFY(sawContent);
    QVERIFY(!o.value(QStringLiteral("entry")).toObject().contains(QStringLiteral("content")));  // its size only
    r = tierctl({QStringLiteral("inspect"), QStringLiteral("entry"), QString::number(entryId)});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("stale: yes") && r.out.contains("edited behind the cache"), r.out.constData());
    // Inspecting filled no tier and wrote nothing: the stale copy is still there.
    core_->cache().invalidate(tier::codec::entryKey(entryId));
  }

  void inspectCorruptedValueIsACleanReport() {
    const std::string key = "session:v1:" + std::to_string(sessionId_);
    tier::test::TestServers::shared().redis().cli("SET " + key + " 'not-an-envelope'");
    const Run r = tierctl({QStringLiteral("inspect"), QStringLiteral("session"), QString::number(sessionId_),
                           QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const QJsonObject l2 = r.json().value(QStringLiteral("l2")).toObject();
    QCOMPARE(l2.value(QStringLiteral("present")).toBool(), true);
    QVERIFY(!l2.value(QStringLiteral("error")).toString().isEmpty());
    QCOMPARE(r.json().value(QStringLiteral("l3")).toObject().value(QStringLiteral("present")).toBool(), true);
    tier::test::TestServers::shared().redis().cli("DEL " + key);
  }

  void badInput_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("stderrContains");

    const QString closedRedis = QStringLiteral("redis://:%1@127.0.0.1:%2/0").arg(kRedisSecret).arg(closedPort_);
    const QString closedPg =
        QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tier password=%2").arg(closedPort_).arg(kPgSecret);
    const QString inv = QStringLiteral("invalidate");
    const QString yes = QStringLiteral("--yes");
    const QString dry = QStringLiteral("--dry-run");

    QTest::newRow("no command") << QStringList{} << 2 << QStringLiteral("missing command");
    QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << 2 << QStringLiteral("unknown command");
    QTest::newRow("unknown option") << QStringList{QStringLiteral("health"), QStringLiteral("--bogus")} << 2
                                    << QStringLiteral("bogus");
    QTest::newRow("unknown threshold") << QStringList{QStringLiteral("--threshold"), QStringLiteral("latency=5"),
                                                      QStringLiteral("health")}
                                       << 2 << QStringLiteral("--threshold");
    QTest::newRow("hit rate above 1") << QStringList{QStringLiteral("--threshold"), QStringLiteral("hit_rate=80"),
                                                     QStringLiteral("health")}
                                      << 2 << QStringLiteral("--threshold");
    QTest::newRow("inspect without id") << QStringList{QStringLiteral("inspect"), QStringLiteral("session")} << 2
                                        << QStringLiteral("usage");
    QTest::newRow("inspect what") << QStringList{QStringLiteral("inspect"), QStringLiteral("mood"), QStringLiteral("1")}
                                  << 2 << QStringLiteral("cannot inspect");
    QTest::newRow("unknown user id") << QStringList{QStringLiteral("inspect"), QStringLiteral("user"),
                                                    QStringLiteral("999999999")}
                                     << 6 << QStringLiteral("user 999999999 not found");
    QTest::newRow("stats of an unknown user")
        << QStringList{QStringLiteral("inspect"), QStringLiteral("stats"), QStringLiteral("999999999")} << 6
        << QStringLiteral("not found");
    QTest::newRow("entry id zero") << QStringList{QStringLiteral("inspect"), QStringLiteral("entry"), QStringLiteral("0")}
                                   << 2 << QStringLiteral("invalid entry id");
    QTest::newRow("stats period not offered")
        << QStringList{QStringLiteral("inspect"), QStringLiteral("stats"), QStringLiteral("1"), QStringLiteral("--period"),
                       QStringLiteral("14")}
        << 2 << QStringLiteral("7, 30 or 90");
    QTest::newRow("period on a user")
        << QStringList{QStringLiteral("inspect"), QStringLiteral("user"), QStringLiteral("1"), QStringLiteral("--period"),
                       QStringLiteral("7")}
        << 2 << QStringLiteral("--period");
    QTest::newRow("non-numeric session id")
        << QStringList{QStringLiteral("inspect"), QStringLiteral("session"), QStringLiteral("12abc")} << 2
        << QStringLiteral("invalid session id");
    QTest::newRow("unknown session id")
        << QStringList{QStringLiteral("inspect"), QStringLiteral("session"), QStringLiteral("999999999")} << 6
        << QStringLiteral("session 999999999 not found");
    QTest::newRow("no invalidate target") << QStringList{inv, dry} << 2 << QStringLiteral("exactly one");
    QTest::newRow("two invalidate targets") << QStringList{inv, QStringLiteral("--key"), QStringLiteral("entry:v1:1"),
                                                           QStringLiteral("--pattern"), QStringLiteral("entry:*")}
                                            << 2 << QStringLiteral("exactly one");
    QTest::newRow("pattern without namespace") << QStringList{inv, QStringLiteral("--pattern"), QStringLiteral("*"), dry}
                                               << 2 << QStringLiteral("namespace");
    QTest::newRow("unknown namespace") << QStringList{inv, QStringLiteral("--namespace"), QStringLiteral("bogus"), dry}
                                       << 2 << QStringLiteral("unknown namespace");
    QTest::newRow("key outside our schema") << QStringList{inv, QStringLiteral("--key"), QStringLiteral("foo"), dry} << 2
                                            << QStringLiteral("key");
    // One argv string is capped at 128 KiB by the kernel; this is as large as a key gets to us.
    QTest::newRow("oversized key") << QStringList{inv, QStringLiteral("--key"),
                                                  QStringLiteral("entry:v1:") + QString(120000, QLatin1Char('9')), yes}
                                   << 2 << QStringLiteral("too long");
    QTest::newRow("non-numeric user") << QStringList{inv, QStringLiteral("--user"), QStringLiteral("1; DROP TABLE users"),
                                                     dry}
                                      << 2 << QStringLiteral("user");
    QTest::newRow("unknown user") << QStringList{inv, QStringLiteral("--user"), QStringLiteral("99999999"), dry} << 6
                                  << QStringLiteral("not found");
    QTest::newRow("delete without --yes") << QStringList{inv, QStringLiteral("--pattern"), QStringLiteral("entry:*")} << 2
                                          << QStringLiteral("--yes");
    QTest::newRow("bad number") << QStringList{QStringLiteral("load"), QStringLiteral("--users"), QStringLiteral("many")}
                                << 2 << QStringLiteral("--users");
    QTest::newRow("zero threads") << QStringList{QStringLiteral("load"), QStringLiteral("--threads"), QStringLiteral("0")}
                                  << 2 << QStringLiteral("--threads must be an integer from 1 to 256");
    QTest::newRow("junk threads") << QStringList{QStringLiteral("load"), QStringLiteral("--threads"), QStringLiteral("8x")}
                                  << 2 << QStringLiteral("--threads must be an integer from 1 to 256");
    QTest::newRow("unknown warm set") << QStringList{QStringLiteral("warm"), QStringLiteral("everything")} << 2
                                      << QStringLiteral("unknown set");
    QTest::newRow("malformed redis url")
        << QStringList{QStringLiteral("health"), QStringLiteral("--redis"),
                       QStringLiteral("redis://:%1@127.0.0.1:notaport/0").arg(kRedisSecret)}
        << 2 << QString();
    QTest::newRow("rediss refused") << QStringList{QStringLiteral("health"), QStringLiteral("--redis"),
                                                   QStringLiteral("rediss://:%1@127.0.0.1:6379/0").arg(kRedisSecret)}
                                    << 2 << QStringLiteral("TLS");
    QTest::newRow("malformed conninfo")
        << QStringList{QStringLiteral("migrate"), QStringLiteral("--pg"),
                       QStringLiteral("host=127.0.0.1 password=%1 port").arg(kPgSecret)}
        << 2 << QString();
    QTest::newRow("unreachable redis")
        << QStringList{inv, QStringLiteral("--key"), QStringLiteral("entry:v1:1"), yes, QStringLiteral("--redis"), closedRedis}
        << 3 << QString();
    QTest::newRow("unreachable postgres") << QStringList{QStringLiteral("migrate"), QStringLiteral("--pg"), closedPg} << 3
                                          << QString();
    QTest::newRow("wrong postgres password")
        << QStringList{QStringLiteral("migrate"), QStringLiteral("--pg"),
                       QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tierctl_pw password=%2")
                           .arg(pgPort_)
                           .arg(kWrongSecret)}
        << 4 << QString();
    QTest::newRow("postgres role without privilege")
        << QStringList{QStringLiteral("audit"), QStringLiteral("--pg"),
                       QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tierctl_pw password=%2")
                           .arg(pgPort_)
                           .arg(kPgSecret)}
        << 4 << QStringLiteral("permission");
    QTest::newRow("wrong redis password")
        << QStringList{inv, QStringLiteral("--key"), QStringLiteral("entry:v1:1"), yes, QStringLiteral("--redis"),
                       QStringLiteral("redis://tierctl_noperm:%1@127.0.0.1:%2/0").arg(kWrongSecret).arg(redisPort_)}
        << 4 << QString();
    QTest::newRow("redis user without permission")
        << QStringList{inv, QStringLiteral("--key"), QStringLiteral("entry:v1:1"), yes, QStringLiteral("--redis"),
                       QStringLiteral("redis://tierctl_noperm:%1@127.0.0.1:%2/0").arg(kRedisSecret).arg(redisPort_)}
        << 4 << QString();
  }

  void badInput() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, stderrContains);
    const QString redisBefore = redisState();
    QVERIFY(redisBefore.startsWith(QStringLiteral("rdb_changes_since_last_save:")));
    QElapsedTimer t;
    t.start();
    const Run r = tierctl(args);
    QCOMPARE(r.code, exitCode);
    QVERIFY2(isOneLineError(r.err), r.err.constData());
    if (!stderrContains.isEmpty()) QVERIFY2(r.err.contains(stderrContains.toUtf8()), r.err.constData());
    for (const QString& secret : {kRedisSecret, kPgSecret, kWrongSecret}) {
      QVERIFY2(!r.err.contains(secret.toUtf8()), r.err.constData());
      QVERIFY(!r.out.contains(secret.toUtf8()));
    }
    QCOMPARE(redisState(), redisBefore);  // nothing changed: no key written, created or removed
    QVERIFY2(t.elapsed() < 15000, "bad input must fail fast");
  }

  void nonUtf8ArgumentIsRefused() {
    // QProcess can only pass valid text; the shell passes the raw bytes.
    const Run r = runProgram(QStringLiteral("/bin/sh"),
                             {QStringLiteral("-c"), QStringLiteral("exec \"$0\" inspect session \"$(printf '\\377\\376')\""),
                              qs(tier::test::tierctlPath())});
    QCOMPARE(r.code, 2);
    QVERIFY2(isOneLineError(r.err), r.err.constData());
    QVERIFY(r.err.contains("UTF-8"));
  }

  void auditFilterIsLiteralText() {
    Run r = tierctl({QStringLiteral("audit"), QStringLiteral("--json"), QStringLiteral("--filter"),
                     QStringLiteral("invalidate.pattern")});
    QCOMPARE(r.code, 0);
    const QJsonArray rows = r.json().value(QStringLiteral("rows")).toArray();
    QVERIFY(rows.size() >= 2);  // the dry run and the delete above
    for (const auto& row : rows)
      QCOMPARE(row.toObject().value(QStringLiteral("action")).toString(), QStringLiteral("invalidate.pattern"));
    QCOMPARE(rows.first().toObject().value(QStringLiteral("args")).toObject().value(QStringLiteral("target")).toString(),
             QStringLiteral("entry:*"));

    // As LIKE wildcards '_' and '%' would match "invalidate.pattern"; as text they match nothing.
    for (const QString& filter : {QStringLiteral("invalidate_pattern"), QStringLiteral("invalidate%pattern"),
                                  QStringLiteral("'; DROP TABLE cache_audit; --")}) {
      r = tierctl({QStringLiteral("audit"), QStringLiteral("--json"), QStringLiteral("--filter"), filter});
      QCOMPARE(r.code, 0);
      QVERIFY2(r.json().value(QStringLiteral("rows")).toArray().isEmpty(), r.out.constData());
    }
    r = tierctl({QStringLiteral("audit"), QStringLiteral("--json"), QStringLiteral("--limit"), QStringLiteral("1")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("rows")).toArray().size(), 1);
  }

  // Warm on start: a load warms its profile's warm_on_start sets (default
  // knowledge), audited; "none" warms nothing; an unknown set is exit 2.
  void loadWarmsTheProfilesSets() {
    {
      QSettings settings(config_.path() + QStringLiteral("/TierConsole/tierconsole.conf"), QSettings::IniFormat);
      for (const QString& name : {QStringLiteral("w-sessions"), QStringLiteral("w-none"), QStringLiteral("w-bad")}) {
        settings.setValue(QStringLiteral("profiles/%1/redis_url").arg(name), redisUrl_);
        settings.setValue(QStringLiteral("profiles/%1/pg_conninfo").arg(name), pgConninfo_);
      }
      settings.setValue(QStringLiteral("profiles/w-sessions/warm_on_start"), QStringLiteral("knowledge, sessions"));
      settings.setValue(QStringLiteral("profiles/w-none/warm_on_start"), QStringLiteral("none"));
      settings.setValue(QStringLiteral("profiles/w-bad/warm_on_start"), QStringLiteral("sessions,everything"));
      settings.sync();
      QCOMPARE(settings.status(), QSettings::NoError);
    }
    const QStringList load{QStringLiteral("load"), QStringLiteral("--duration"), QStringLiteral("1"),
                           QStringLiteral("--users"), QStringLiteral("5"), QStringLiteral("--json"),
                           QStringLiteral("--profile")};
    Run r = tierctl(load + QStringList{QStringLiteral("w-sessions")}, {}, false);
    QCOMPARE(r.code, 0);
    QVERIFY2(r.err.contains("knowledge in") && r.err.contains("sessions in"), r.err.constData());
    r = tierctl(load + QStringList{QStringLiteral("w-none")}, {}, false);
    QCOMPARE(r.code, 0);
    QVERIFY2(!r.err.contains("warmed"), r.err.constData());
    r = tierctl(load + QStringList{QStringLiteral("w-bad")}, {}, false);
    QCOMPARE(r.code, 2);
    QVERIFY2(isOneLineError(r.err) && r.err.contains("unknown warm set 'everything'"), r.err.constData());
  }

  void loadReportsTheDocumentedShape() {
    const Run r = tierctl({QStringLiteral("load"), QStringLiteral("--duration"), QStringLiteral("3"),
                           QStringLiteral("--users"), QStringLiteral("50"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonParseError error{};
    const QJsonObject o = QJsonDocument::fromJson(r.out, &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);  // stdout holds only the document
    for (const char* field : {"reads", "writes", "failed_reads", "stale_reads", "stale_served", "errors", "hit_rate",
                              "duration_s", "ops_per_s", "virtual_users"})
      QVERIFY2(o.value(QLatin1String(field)).isDouble(), field);
    QVERIFY(o.value(QStringLiteral("reads")).toDouble() > 0);
    QCOMPARE(o.value(QStringLiteral("failed_reads")).toDouble(), 0.0);
    QCOMPARE(o.value(QStringLiteral("stale_reads")).toDouble(), 0.0);
    QCOMPARE(o.value(QStringLiteral("virtual_users")).toInt(), 50);
    const double hit = o.value(QStringLiteral("hit_rate")).toDouble();
    QVERIFY(hit >= 0 && hit <= 1);
    const QJsonArray thresholds = o.value(QStringLiteral("thresholds")).toArray();
    const QStringList names{QStringLiteral("hit_rate"), QStringLiteral("redis_p99"), QStringLiteral("session_retrieval_p99"),
                            QStringLiteral("db_query_p99"), QStringLiteral("knowledge_p99")};
    QCOMPARE(thresholds.size(), names.size());
    for (int i = 0; i < names.size(); ++i) {
      const QJsonObject t = thresholds.at(i).toObject();
      QCOMPARE(t.value(QStringLiteral("name")).toString(), names.at(i));
      QVERIFY(t.value(QStringLiteral("value")).isDouble());
      QVERIFY(t.value(QStringLiteral("limit")).toDouble() > 0);
      QCOMPARE(t.value(QStringLiteral("unit")).toString(), i == 0 ? QStringLiteral("ratio") : QStringLiteral("ms"));
      QVERIFY2(QStringList({QStringLiteral("ok"), QStringLiteral("warn"), QStringLiteral("violation"),
                            QStringLiteral("no_data")})
                   .contains(t.value(QStringLiteral("status")).toString()),
               qPrintable(t.value(QStringLiteral("status")).toString()));
    }
    QCOMPARE(thresholds.at(0).toObject().value(QStringLiteral("value")).toDouble(), hit);
    // The live lines went to stderr, one per second.
    QVERIFY2(r.err.contains("ops/s  hit "), r.err.constData());
    QVERIFY(r.err.contains("redis p99 "));
  }

  // The default worker threads follow workload/threads.h: the CPUs this process
  // may use minus one per server on this host (the test's servers are both on
  // loopback), at least 1; --threads N overrides it; both say so.
  void loadThreadsFollowTheRule() {
    cpu_set_t set;
    CPU_ZERO(&set);
    QCOMPARE(::sched_getaffinity(0, sizeof set, &set), 0);
    const int expected = std::max(1, CPU_COUNT(&set) - 2);
    const QStringList load{QStringLiteral("load"), QStringLiteral("--duration"), QStringLiteral("1"),
                           QStringLiteral("--users"), QStringLiteral("20"), QStringLiteral("--no-warm")};
    Run r = tierctl(load + QStringList{QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("threads")).toInt(), expected);
    const QString reason = o.value(QStringLiteral("threads_reason")).toString();
    QVERIFY2(reason.startsWith(QStringLiteral("default: %1 CPU").arg(CPU_COUNT(&set))), qPrintable(reason));
    QVERIFY2(reason.contains(QStringLiteral("minus 1 each for the Redis and PostgreSQL servers on this host")),
             qPrintable(reason));
    QVERIFY2(r.err.contains(QStringLiteral("threads: %1 (default: ").arg(expected).toUtf8()), r.err.constData());
    QVERIFY(o.value(QStringLiteral("reads")).toDouble() > 0);

    r = tierctl(load + QStringList{QStringLiteral("--threads"), QStringLiteral("3"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    o = r.json();
    QCOMPARE(o.value(QStringLiteral("threads")).toInt(), 3);
    QCOMPARE(o.value(QStringLiteral("threads_reason")).toString(), QStringLiteral("--threads 3"));
    QVERIFY(o.value(QStringLiteral("reads")).toDouble() > 0);

    // The text summary names them too; so does tierctl stats, same rule.
    r = tierctl(load + QStringList{QStringLiteral("--threads"), QStringLiteral("2")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("threads: 2 (--threads 2)"), r.out.constData());
    r = tierctl({QStringLiteral("stats"), QStringLiteral("--duration"), QStringLiteral("1"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("threads")).toInt(), expected);
  }

  void thresholdOverrideRaisesAnAlert() {
    // A limit nobody can meet: after the 10 s warm-up window the violation is
    // raised once, in the live output and in the JSON.
    const Run r = tierctl({QStringLiteral("--threshold"), QStringLiteral("db_query_p99=0.000001"), QStringLiteral("load"),
                           QStringLiteral("--duration"), QStringLiteral("11"), QStringLiteral("--users"),
                           QStringLiteral("20"), QStringLiteral("--rate"), QStringLiteral("300"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    const QJsonArray thresholds = o.value(QStringLiteral("thresholds")).toArray();
    QCOMPARE(thresholds.at(3).toObject().value(QStringLiteral("limit")).toDouble(), 0.000001);
    QCOMPARE(thresholds.at(3).toObject().value(QStringLiteral("status")).toString(), QStringLiteral("violation"));
    // Only the overridden limit's alerts: on a slow build (ASan) the default
    // limits may be crossed too, which is those alerts doing their job.
    QJsonArray alerts;
    for (const auto& v : o.value(QStringLiteral("alerts")).toArray())
      if (v.toObject().value(QStringLiteral("name")).toString() == QStringLiteral("db_query_p99")) alerts.append(v);
    QVERIFY2(alerts.size() == 1, QJsonDocument(o.value(QStringLiteral("alerts")).toArray()).toJson().constData());
    const QJsonObject a = alerts.at(0).toObject();
    QCOMPARE(a.value(QStringLiteral("event")).toString(), QStringLiteral("raised"));
    QVERIFY(r.err.contains("ALERT raised db_query_p99 violation"));
  }

  void statsIsReadOnly() {
    const Run r = tierctl({QStringLiteral("stats"), QStringLiteral("--duration"), QStringLiteral("1"),
                           QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const QJsonObject o = r.json();
    QVERIFY(o.value(QStringLiteral("reads")).toDouble() > 0);
    QCOMPARE(o.value(QStringLiteral("writes")).toDouble(), 0.0);
    QCOMPARE(o.value(QStringLiteral("thresholds")).toArray().size(), 5);
  }

  void loadUntilInterruptedPrintsTheSummary() {
    QProcess p;
    p.setProcessEnvironment(environment());
    p.start(qs(tier::test::tierctlPath()),
            {QStringLiteral("load"), QStringLiteral("--duration"), QStringLiteral("0"), QStringLiteral("--users"),
             QStringLiteral("10"), QStringLiteral("--threads"), QStringLiteral("2"), QStringLiteral("--json"),
             QStringLiteral("--redis"), redisUrl_, QStringLiteral("--pg"), pgConninfo_});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    // Wait for the first per-second line: the workload is running.
    QTRY_VERIFY_WITH_TIMEOUT((err += p.readAllStandardError()).contains("ops/s"), 15000);
    p.terminate();  // SIGTERM, as Ctrl-C's SIGINT
    QVERIFY(p.waitForFinished(15000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
    const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    QCOMPARE(o.value(QStringLiteral("interrupted")).toBool(), true);
    QVERIFY(o.value(QStringLiteral("reads")).toDouble() > 0);
    QCOMPARE(o.value(QStringLiteral("failed_reads")).toDouble(), 0.0);
  }

  // Profiles tagged read-only refuse every destructive command (exit 4, one line
  // naming the profile) and delete nothing; tagged production, they need --yes
  // whatever the size. The tags are the keys the console writes.
  void profileTagsGuardDestructiveCommands() {
    {
      QSettings settings(config_.path() + QStringLiteral("/TierConsole/tierconsole.conf"), QSettings::IniFormat);
      for (const QString& name : {QStringLiteral("ro"), QStringLiteral("prod")}) {
        settings.setValue(QStringLiteral("profiles/%1/redis_url").arg(name), redisUrl_);
        settings.setValue(QStringLiteral("profiles/%1/pg_conninfo").arg(name), pgConninfo_);
      }
      settings.setValue(QStringLiteral("profiles/ro/read_only"), true);
      settings.setValue(QStringLiteral("profiles/prod/production"), true);
      settings.setValue(QStringLiteral("profiles/prod/colour"), QStringLiteral("#c05621"));
      settings.sync();
      QCOMPARE(settings.status(), QSettings::NoError);
    }
    auto on = [](const QString& profile, QStringList args) {
      return args << QStringLiteral("--profile") << profile;
    };
    Run r = tierctl({QStringLiteral("warm"), QStringLiteral("entries"), QStringLiteral("--top-users"),
                     QStringLiteral("10"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const long long before = redisScanCount("entry:*");
    QVERIFY(before > 5);

    const QList<QStringList> destructive{
        {QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:*"), QStringLiteral("--yes")},
        {QStringLiteral("invalidate"), QStringLiteral("--namespace"), QStringLiteral("entry"), QStringLiteral("--yes")},
        {QStringLiteral("invalidate"), QStringLiteral("--user"), QStringLiteral("1"), QStringLiteral("--yes")},
        {QStringLiteral("warm"), QStringLiteral("entries"), QStringLiteral("--yes")},
        {QStringLiteral("seed"), QStringLiteral("--users"), QStringLiteral("5"), QStringLiteral("--yes")},
        {QStringLiteral("migrate"), QStringLiteral("--yes")},
        {QStringLiteral("load"), QStringLiteral("--allow-writes"), QStringLiteral("--yes"), QStringLiteral("--duration"),
         QStringLiteral("1")},
        {QStringLiteral("load"), QStringLiteral("--cleanup")},
    };
    for (const QStringList& args : destructive) {
      r = tierctl(on(QStringLiteral("ro"), args), {}, false);
      QVERIFY2(r.code == 4 /* permission denied */, qPrintable(args.join(QLatin1Char(' ')) + QStringLiteral(": ") + QString::fromUtf8(r.err)));
      QVERIFY2(isOneLineError(r.err), r.err.constData());
      QVERIFY2(r.err.contains("profile 'ro' is marked read-only"), r.err.constData());
    }
    QCOMPARE(redisScanCount("entry:*"), before);  // nothing deleted
    // The same refusal from the flag, with any connection.
    r = tierctl({QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:*"),
                 QStringLiteral("--yes"), QStringLiteral("--read-only")});
    QCOMPARE(r.code, 4);
    QVERIFY2(r.err.contains("--read-only"), r.err.constData());
    QCOMPARE(redisScanCount("entry:*"), before);
    // What changes nothing stays allowed on a read-only profile.
    r = tierctl(on(QStringLiteral("ro"), {QStringLiteral("invalidate"), QStringLiteral("--pattern"),
                                           QStringLiteral("entry:*"), QStringLiteral("--dry-run"), QStringLiteral("--json")}),
                {}, false);
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("matched")).toDouble(), static_cast<double>(before));
    QCOMPARE(tierctl(on(QStringLiteral("ro"), {QStringLiteral("health")}), {}, false).code, 0);

    // Production: even one key needs --yes, and the refusal says why.
    const QStringList oneKey{QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:v1:1*")};
    r = tierctl(on(QStringLiteral("prod"), oneKey), {}, false);
    QCOMPARE(r.code, 2);
    QVERIFY2(isOneLineError(r.err), r.err.constData());
    QVERIFY2(r.err.contains("profile 'prod' is tagged production") && r.err.contains("--yes"), r.err.constData());
    r = tierctl(on(QStringLiteral("prod"), {QStringLiteral("warm"), QStringLiteral("entries")}), {}, false);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("tagged production"), r.err.constData());
    r = tierctl(on(QStringLiteral("prod"), {QStringLiteral("load"), QStringLiteral("--allow-writes"),
                                             QStringLiteral("--duration"), QStringLiteral("1")}),
                {}, false);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("tagged production") && r.err.contains("--allow-writes"), r.err.constData());
    QCOMPARE(redisScanCount("entry:*"), before);
    const long long ones = redisScanCount("entry:v1:1*");
    QVERIFY(ones > 0);
    r = tierctl(on(QStringLiteral("prod"), oneKey + QStringList{QStringLiteral("--yes"), QStringLiteral("--json")}), {},
                false);
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("deleted")).toDouble(), static_cast<double>(ones));
    QCOMPARE(redisScanCount("entry:*"), before - ones);
  }
};

QTEST_GUILESS_MAIN(TestTierctl)
#include "tst_tierctl.moc"
