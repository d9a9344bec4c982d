// TIER_TEST_LABELS: reliability
// PostgreSQL sslmode end to end: the test server gets a self-signed certificate
// (made here with the openssl CLI), then the core's pool connects with
// sslmode=require and verify-full (conninfo and URI), and pg_stat_ssl says the
// session is encrypted; verify-full with the wrong root certificate or the
// wrong host name fails with a one-line error; tierctl health works over TLS.
// Redis TLS: rediss:// is refused with a sentence naming hiredis 0.14.
#include <QTemporaryDir>
#include <QtTest>

#include "process_runner.h"
#include "reliability_report.h"
#include "servers.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/pg/pg_pool.h"
#include "tier/redis/redis_url.h"

using namespace tier;

namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

// A self-signed certificate for CN/SAN "localhost" (its own root).
bool makeCertificate(const QString& dir, const QString& name) {
  QProcess p;
  p.start(QStringLiteral("openssl"),
          {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
           QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
           QStringLiteral("/CN=localhost"), QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:localhost"),
           QStringLiteral("-keyout"), dir + QLatin1Char('/') + name + QStringLiteral(".key"), QStringLiteral("-out"),
           dir + QLatin1Char('/') + name + QStringLiteral(".crt")});
  return p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

}  // namespace

class TestPgSsl : public QObject {
  Q_OBJECT
  QTemporaryDir certs_;
  QTemporaryDir config_;
  int port_ = 0;
  int passed_ = 0, checks_ = 0;

  std::string base(const std::string& host) const {
    return "host=" + host + " hostaddr=127.0.0.1 port=" + std::to_string(port_) + " dbname=tier user=tier";
  }
  std::string cert(const char* name) const { return certs_.path().toStdString() + "/" + name + ".crt"; }

  // Connects through the core's pool and asks the server whether this session is encrypted.
  bool sslOfSession(const std::string& conninfo) {
    CoreConfig cfg;
    cfg.pg_conninfo = conninfo;
    cfg.pg.pool_size = 1;
    cfg.pg.connect_timeout = std::chrono::milliseconds(5000);
    TierCore core(cfg);
    auto c = core.pg().acquire();
    return c->exec("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").value(0, 0) == "t";
  }

  std::string failureOf(const std::string& conninfo) {
    try {
      sslOfSession(conninfo);
    } catch (const Error& e) {
      return e.what();
    }
    return {};
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(certs_.isValid() && config_.isValid());
    QVERIFY2(makeCertificate(certs_.path(), QStringLiteral("server")),
             "openssl req failed (scripts/deps installs openssl)");
    QVERIFY(makeCertificate(certs_.path(), QStringLiteral("other")));
    auto& pg = test::TestServers::shared().postgres();
    port_ = pg.port();
    pg.enableSsl(cert("server"), certs_.path().toStdString() + "/server.key");
    // The reload is asynchronous: wait until a TLS session is possible.
    QTRY_VERIFY_WITH_TIMEOUT(failureOf(base("localhost") + " sslmode=require").empty(), 20000);
  }

  void cleanupTestCase() {
    test::reportFigure({QStringLiteral("PostgreSQL TLS with a self-signed certificate (sslmode require/verify-full, "
                                       "conninfo + URI + tierctl; wrong root and host name refused)"),
                        QStringLiteral("checks failed"), QString::number(checks_ - passed_), QStringLiteral("0"),
                        checks_ > 0 && passed_ == checks_, QStringLiteral("ctest -R tst_pg_ssl")});
  }

  void encryptedSessions_data() {
    QTest::addColumn<QString>("conninfo");
    QTest::addColumn<bool>("ssl");
    QTest::newRow("sslmode=disable (control)") << qs(base("localhost") + " sslmode=disable") << false;
    QTest::newRow("sslmode=require") << qs(base("127.0.0.1") + " sslmode=require") << true;
    QTest::newRow("sslmode=verify-ca") << qs(base("127.0.0.1") + " sslmode=verify-ca sslrootcert=" + cert("server"))
                                       << true;
    QTest::newRow("sslmode=verify-full") << qs(base("localhost") + " sslmode=verify-full sslrootcert=" + cert("server"))
                                         << true;
    QTest::newRow("URI verify-full") << qs("postgresql://tier@localhost:" + std::to_string(port_) +
                                           "/tier?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=" + cert("server"))
                                     << true;
  }
  void encryptedSessions() {
    QFETCH(QString, conninfo);
    QFETCH(bool, ssl);
    ++checks_;
    bool got = !ssl;
    try {
      got = sslOfSession(conninfo.toStdString());
    } catch (const Error& e) {
      QFAIL(e.what());
    }
    QCOMPARE(got, ssl);
    ++passed_;
  }

  void verificationFailuresAreOneLine_data() {
    QTest::addColumn<QString>("conninfo");
    QTest::addColumn<QString>("says");
    QTest::newRow("wrong root certificate")
        << qs(base("localhost") + " sslmode=verify-full sslrootcert=" + cert("other")) << QStringLiteral("certificate");
    QTest::newRow("wrong host name") << qs(base("127.0.0.1") + " sslmode=verify-full sslrootcert=" + cert("server"))
                                     << QStringLiteral("does not match host name");
    QTest::newRow("missing root certificate")
        << qs(base("localhost") + " sslmode=verify-full sslrootcert=" + certs_.path().toStdString() + "/none.crt")
        << QStringLiteral("root certificate");
  }
  void verificationFailuresAreOneLine() {
    QFETCH(QString, conninfo);
    QFETCH(QString, says);
    ++checks_;
    std::string msg;
    ErrorKind kind = ErrorKind::Internal;
    try {
      sslOfSession(conninfo.toStdString());
    } catch (const Error& e) {
      msg = e.what();
      kind = e.kind();
    }
    QVERIFY2(!msg.empty(), "verification should have failed");
    QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
    QVERIFY2(qs(msg).contains(says), msg.c_str());
    QVERIFY2(kind == ErrorKind::Connection, toString(kind));
    ++passed_;
  }

  void tierctlHealthOverTls() {
    ++checks_;
    const auto env = test::isolatedEnvironment(config_.path());
    auto r = test::runProcess(test::tierctlProgram(),
                              {QStringLiteral("health"), QStringLiteral("--pg"),
                               qs(base("localhost") + " sslmode=verify-full sslrootcert=" + cert("server"))},
                              env);
    QVERIFY2(r.code == 0, r.err.constData());
    r = test::runProcess(test::tierctlProgram(),
                         {QStringLiteral("health"), QStringLiteral("--pg"),
                          qs(base("localhost") + " sslmode=verify-full sslrootcert=" + cert("other"))},
                         env);
    QCOMPARE(r.code, 3);
    QVERIFY2(test::isOneLineError(r.err) || r.err.count('\n') == 1, r.err.constData());
    QVERIFY2(r.err.contains("certificate"), r.err.constData());
    ++passed_;
  }

  void redisTlsIsRefusedWithTheReason() {
    ++checks_;
    try {
      redis::RedisUrl::parse("rediss://:pw@127.0.0.1:6380/0");
      QFAIL("rediss:// was accepted");
    } catch (const BadInputError& e) {
      const QString m = QString::fromUtf8(e.what());
      QVERIFY2(m.contains(QLatin1String("hiredis 0.14")) && m.contains(QLatin1String("TLS")), e.what());
      QVERIFY(!m.contains(QLatin1String(":pw@")));
    }
    ++passed_;
  }
};

QTEST_GUILESS_MAIN(TestPgSsl)
#include "tst_pg_ssl.moc"
