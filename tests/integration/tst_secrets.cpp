// TIER_TEST_LABELS: reliability
// TIER_TEST_TIMEOUT: 600
// Secrets never leak. tierctl and the tierconsole GUI (headless) run with
// distinctive passwords in Redis URLs, PostgreSQL conninfo strings and URIs,
// the environment (TIER_*, PGPASSWORD) and a saved profile - successes and
// failures: wrong passwords, unreachable ports, malformed URLs and conninfo,
// ACL and privilege refusals. Afterwards no password may appear in any
// stdout or stderr, in any file under the runs' config/data/cache/state/home
// folders (settings, logs), in the servers' logs, or anywhere in cache_audit.
#include <QDirIterator>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include "core_fixture.h"
#include "process_runner.h"
#include "reliability_report.h"
#include "tier/core.h"
#include "tier/pg/pg_pool.h"

using namespace tier;

namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

// Distinctive, so a hit can only be a leak. Percent-free so URL encoding cannot hide them.
const QString kRedisPw = QStringLiteral("Rq7-LEAKCHECK-redis-9041");
const QString kPgPw = QStringLiteral("Pg7-LEAKCHECK-pg-5517");
const QString kRoRedisPw = QStringLiteral("Ro7-LEAKCHECK-roredis-3308");
const QString kRoPgPw = QStringLiteral("Ro7-LEAKCHECK-ropg-7720");
const QString kWrongPw = QStringLiteral("Wr7-LEAKCHECK-wrong-1186");
const QString kEnvPw = QStringLiteral("Ev7-LEAKCHECK-env-2264");

QStringList secrets() {
  return {kRedisPw, kPgPw, kRoRedisPw, kRoPgPw, kWrongPw, kEnvPw};
}

struct Case {
  QString name;
  QStringList args;
  QMap<QString, QString> env;
};

}  // namespace

class TestSecrets : public QObject {
  Q_OBJECT
  QTemporaryDir home_;  // XDG_*_HOME and HOME of every run
  int redisPort_ = 0, pgPort_ = 0, closedPort_ = 0;
  int runs_ = 0, guiRuns_ = 0;
  long long leaks_ = 0;

  QProcessEnvironment environment(const QMap<QString, QString>& extra) const {
    auto env = test::isolatedEnvironment(home_.path() + QStringLiteral("/config"));
    env.insert(QStringLiteral("HOME"), home_.path() + QStringLiteral("/home"));
    for (auto it = extra.begin(); it != extra.end(); ++it) env.insert(it.key(), it.value());
    return env;
  }

  // Counts (and names) every secret found in bytes.
  long long leaksIn(const QByteArray& bytes, const QString& where) {
    long long n = 0;
    for (const QString& s : secrets()) {
      const QByteArray needle = s.toUtf8();
      for (qsizetype at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
        ++n;
        qWarning("LEAK of %s in %s: ...%s...", qPrintable(s), qPrintable(where),
                 bytes.mid(std::max<qsizetype>(0, at - 60), 120).constData());
      }
    }
    return n;
  }

  void runAll(const QString& program, const QList<Case>& cases, bool gui) {
    for (const Case& c : cases) {
      const auto r = test::runProcess(program, c.args, environment(c.env), gui ? 90000 : 60000);
      ++runs_;
      if (gui) ++guiRuns_;
      QVERIFY2(!r.crashed, qPrintable(c.name));
      leaks_ += leaksIn(r.out, c.name + QStringLiteral(" stdout"));
      leaks_ += leaksIn(r.err, c.name + QStringLiteral(" stderr"));
    }
  }

  QString redisUrl(const QString& user, const QString& pw, int port) const {
    return QStringLiteral("redis://%1:%2@127.0.0.1:%3/0").arg(user, pw).arg(port);
  }
  QString conninfo(const QString& user, const QString& pw, int port) const {
    return QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=%2 password=%3 connect_timeout=3")
        .arg(port)
        .arg(user, pw);
  }
  QString uri(const QString& user, const QString& pw, int port) const {
    return QStringLiteral("postgresql://%1:%2@127.0.0.1:%3/tier?connect_timeout=3").arg(user, pw).arg(port);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(home_.isValid());
    QDir().mkpath(home_.path() + QStringLiteral("/home"));
    auto& servers = test::seededServers();
    redisPort_ = servers.redis().port();
    pgPort_ = servers.postgres().port();
    closedPort_ = sandbox::findFreePort();
    servers.redis().cli("ACL SETUSER sec_user on '>" + kRedisPw.toStdString() + "' '~*' '&*' '+@all'");
    servers.redis().cli("ACL SETUSER sec_ro on '>" + kRoRedisPw.toStdString() +
                        "' '~*' '&*' +@read +@connection +info +subscribe -@write");
    servers.postgres().psql("CREATE ROLE sec_role LOGIN PASSWORD '" + kPgPw.toStdString() +
                            "'; GRANT ALL ON ALL TABLES IN SCHEMA public TO sec_role; "
                            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO sec_role");
    servers.postgres().psql("CREATE ROLE sec_ro LOGIN PASSWORD '" + kRoPgPw.toStdString() +
                            "'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO sec_ro");
    // A saved profile as the console writes it: no password in it (PGPASSWORD and the keychain hold those).
    QSettings profile(home_.path() + QStringLiteral("/config/TierConsole/tierconsole.conf"), QSettings::IniFormat);
    profile.setValue(QStringLiteral("profiles/leakcheck/redis_url"),
                     QStringLiteral("redis://127.0.0.1:%1/0").arg(redisPort_));
    profile.setValue(QStringLiteral("profiles/leakcheck/pg_conninfo"),
                     QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=sec_role").arg(pgPort_));
    profile.sync();
    QCOMPARE(profile.status(), QSettings::NoError);
  }

  void tierctl() {
    const QString goodRedis = redisUrl(QStringLiteral("sec_user"), kRedisPw, redisPort_);
    const QString goodPg = conninfo(QStringLiteral("sec_role"), kPgPw, pgPort_);
    const QString goodUri = uri(QStringLiteral("sec_role"), kPgPw, pgPort_);
    const QString roRedis = redisUrl(QStringLiteral("sec_ro"), kRoRedisPw, redisPort_);
    const QString roPg = conninfo(QStringLiteral("sec_ro"), kRoPgPw, pgPort_);
    const QStringList commands[] = {
        {QStringLiteral("health")},
        {QStringLiteral("health"), QStringLiteral("--json")},
        {QStringLiteral("inspect"), QStringLiteral("session"), QStringLiteral("1"), QStringLiteral("--json")},
        {QStringLiteral("invalidate"), QStringLiteral("--pattern"), QStringLiteral("entry:*"),
         QStringLiteral("--dry-run")},
        {QStringLiteral("invalidate"), QStringLiteral("--key"), QStringLiteral("entry:v1:1"), QStringLiteral("--yes")},
        {QStringLiteral("warm"), QStringLiteral("knowledge")},
        {QStringLiteral("audit"), QStringLiteral("--limit"), QStringLiteral("5")},
        {QStringLiteral("stats"), QStringLiteral("--duration"), QStringLiteral("1"), QStringLiteral("--json")},
    };
    const struct {
      const char* name;
      QString redis, pg;
    } creds[] = {
        {"good conninfo", goodRedis, goodPg},
        {"good URI", goodRedis, goodUri},
        {"read-only users (refusals)", roRedis, roPg},
        {"wrong Redis password", redisUrl(QStringLiteral("sec_user"), kWrongPw, redisPort_), goodPg},
        {"wrong PostgreSQL password", goodRedis, conninfo(QStringLiteral("sec_role"), kWrongPw, pgPort_)},
        {"wrong URI password", goodRedis, uri(QStringLiteral("sec_role"), kWrongPw, pgPort_)},
        {"unreachable ports", redisUrl(QStringLiteral("sec_user"), kRedisPw, closedPort_),
         conninfo(QStringLiteral("sec_role"), kPgPw, closedPort_)},
        {"malformed URL", QStringLiteral("redis://sec_user:%1@127.0.0.1:notaport/0").arg(kRedisPw), goodPg},
        {"malformed URL (bracket)", QStringLiteral("redis://sec_user:%1@[::1/0").arg(kRedisPw), goodPg},
        {"rediss URL", QStringLiteral("rediss://sec_user:%1@127.0.0.1:%2/0").arg(kRedisPw).arg(redisPort_), goodPg},
        {"malformed conninfo", goodRedis, QStringLiteral("host=127.0.0.1 password=%1 port").arg(kPgPw)},
        {"unterminated quote", goodRedis, QStringLiteral("host=127.0.0.1 password='%1").arg(kPgPw)},
        {"bad URI option", goodRedis,
         QStringLiteral("postgresql://sec_role:%1@127.0.0.1:%2/tier?sslmode=bogus").arg(kPgPw).arg(pgPort_)},
        {"malformed URI", goodRedis, QStringLiteral("postgresql://sec_role:%1@127.0.0.1:notaport/tier").arg(kPgPw)},
    };
    QList<Case> cases;
    for (const auto& c : creds)
      for (const QStringList& cmd : commands)
        cases.append({QStringLiteral("tierctl %1: %2").arg(QLatin1String(c.name), cmd.join(QLatin1Char(' '))),
                      QStringList(cmd) << QStringLiteral("--redis") << c.redis << QStringLiteral("--pg") << c.pg,
                      {}});
    // From the environment and a saved profile.
    for (const QStringList& cmd : commands) {
      cases.append({QStringLiteral("tierctl env: %1").arg(cmd.join(QLatin1Char(' '))),
                    cmd,
                    {{QStringLiteral("TIER_REDIS_URL"), goodRedis}, {QStringLiteral("TIER_PG_CONNINFO"), goodPg}}});
      cases.append({QStringLiteral("tierctl env wrong: %1").arg(cmd.join(QLatin1Char(' '))),
                    cmd,
                    {{QStringLiteral("TIER_REDIS_URL"), redisUrl(QStringLiteral("sec_user"), kEnvPw, redisPort_)},
                     {QStringLiteral("TIER_PG_CONNINFO"), conninfo(QStringLiteral("sec_role"), kEnvPw, pgPort_)}}});
      cases.append({QStringLiteral("tierctl profile + PGPASSWORD: %1").arg(cmd.join(QLatin1Char(' '))),
                    QStringList(cmd) << QStringLiteral("--profile") << QStringLiteral("leakcheck"),
                    {{QStringLiteral("PGPASSWORD"), kPgPw}}});
      cases.append({QStringLiteral("tierctl profile + wrong PGPASSWORD: %1").arg(cmd.join(QLatin1Char(' '))),
                    QStringList(cmd) << QStringLiteral("--profile") << QStringLiteral("leakcheck"),
                    {{QStringLiteral("PGPASSWORD"), kEnvPw}}});
    }
    runAll(test::tierctlProgram(), cases, false);
    // The good runs did work (a leak test of runs that all failed early would prove little).
    const auto ok = test::runProcess(
        test::tierctlProgram(),
        {QStringLiteral("health"), QStringLiteral("--redis"), goodRedis, QStringLiteral("--pg"), goodUri},
        environment({}));
    QVERIFY2(ok.code == 0, ok.err.constData());
  }

  void tierconsole() {
    const QString program = test::tierconsoleProgram();
    if (!QFileInfo::exists(program)) QSKIP("tierconsole is not built (TIER_BUILD_GUI=OFF)");
    const QString goodRedis = redisUrl(QStringLiteral("sec_user"), kRedisPw, redisPort_);
    const QString goodPg = conninfo(QStringLiteral("sec_role"), kPgPw, pgPort_);
    const QString quit = QStringLiteral("--quit-after"), secs = QStringLiteral("6");
    const QString inv = QStringLiteral("--invalidate-pattern"), pattern = QStringLiteral("entry:*");
    const QList<Case> cases = {
        {QStringLiteral("gui good + invalidate"),
         {QStringLiteral("--redis"), goodRedis, QStringLiteral("--pg"), goodPg, inv, pattern, quit, secs},
         {}},
        {QStringLiteral("gui good URI"),
         {QStringLiteral("--redis"), goodRedis, QStringLiteral("--pg"), uri(QStringLiteral("sec_role"), kPgPw, pgPort_),
          quit, secs},
         {}},
        {QStringLiteral("gui read-only + invalidate (refused)"),
         {QStringLiteral("--redis"), redisUrl(QStringLiteral("sec_ro"), kRoRedisPw, redisPort_), QStringLiteral("--pg"),
          conninfo(QStringLiteral("sec_ro"), kRoPgPw, pgPort_), inv, pattern, quit, secs},
         {}},
        {QStringLiteral("gui wrong passwords"),
         {QStringLiteral("--redis"), redisUrl(QStringLiteral("sec_user"), kWrongPw, redisPort_), QStringLiteral("--pg"),
          conninfo(QStringLiteral("sec_role"), kWrongPw, pgPort_), quit, secs},
         {}},
        {QStringLiteral("gui unreachable"),
         {QStringLiteral("--redis"), redisUrl(QStringLiteral("sec_user"), kRedisPw, closedPort_),
          QStringLiteral("--pg"), conninfo(QStringLiteral("sec_role"), kPgPw, closedPort_), quit, secs},
         {}},
        {QStringLiteral("gui malformed"),
         {QStringLiteral("--redis"), QStringLiteral("redis://sec_user:%1@127.0.0.1:notaport/0").arg(kRedisPw),
          QStringLiteral("--pg"), QStringLiteral("host=127.0.0.1 password=%1 port").arg(kPgPw), quit, secs},
         {}},
        {QStringLiteral("gui rediss"),
         {QStringLiteral("--redis"),
          QStringLiteral("rediss://sec_user:%1@127.0.0.1:%2/0").arg(kRedisPw).arg(redisPort_), QStringLiteral("--pg"),
          goodPg, quit, secs},
         {}},
        {QStringLiteral("gui profile + PGPASSWORD"),
         {QStringLiteral("--profile"), QStringLiteral("leakcheck"), quit, secs},
         {{QStringLiteral("PGPASSWORD"), kPgPw}}},
        {QStringLiteral("gui profile + wrong PGPASSWORD"),
         {QStringLiteral("--profile"), QStringLiteral("leakcheck"), quit, secs},
         {{QStringLiteral("PGPASSWORD"), kEnvPw}}},
    };
    runAll(program, cases, true);
  }

  void nothingStoredAnywhere() {
    // Files the runs left: settings, logs, caches, anything under their home.
    int files = 0;
    QDirIterator it(home_.path(), QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      const QString path = it.next();
      QFile f(path);
      if (!f.open(QIODevice::ReadOnly)) continue;
      ++files;
      leaks_ += leaksIn(f.readAll(), path);
    }
    QVERIFY(files >= 1);  // at least the profile file
    // The servers' own logs (failed logins are logged there, never with the password).
    for (const std::string& log :
         {test::seededServers().postgres().process().logPath(), test::seededServers().redis().process().logPath()}) {
      QFile f(qs(log));
      if (f.open(QIODevice::ReadOnly)) leaks_ += leaksIn(f.readAll(), qs(log));
    }
    // Every column of every audit row.
    TierCore core(test::coreConfig("secrets"));
    auto c = core.pg().acquire();
    const auto rows = c->exec("SELECT count(*), coalesce(string_agg(t::text, E'\\n'), '') FROM cache_audit t");
    QVERIFY2(rows.toInt(0, 0) >= 2, "the runs should have written audit rows");
    leaks_ += leaksIn(QByteArray(rows.value(0, 1).data(), static_cast<qsizetype>(rows.value(0, 1).size())),
                      QStringLiteral("cache_audit"));
    const auto byRole = c->exec("SELECT count(*) FROM cache_audit WHERE pg_role = 'sec_role'");
    QVERIFY2(byRole.toInt(0, 0) >= 1, "no audit row from the password-authenticated runs");

    test::reportFigure({QStringLiteral("Passwords in URLs, conninfo, URIs, environment (CLI + GUI, %1 runs, %2 of "
                                       "them GUI; successes, wrong passwords, unreachable, malformed, refusals)")
                            .arg(runs_)
                            .arg(guiRuns_),
                        QStringLiteral("password occurrences in stdout/stderr, settings/log files, server logs, audit "
                                       "table"),
                        QString::number(leaks_), QStringLiteral("0"), leaks_ == 0,
                        QStringLiteral("ctest -R tst_secrets")});
    QCOMPARE(leaks_, 0LL);
  }
};

QTEST_GUILESS_MAIN(TestSecrets)
#include "tst_secrets.moc"
