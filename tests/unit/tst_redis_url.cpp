#include <QtTest>

#include "redis_url_checks.h"
#include "tier/common/error.h"
#include "tier/redis/redis_url.h"

using tier::redis::RedisUrl;

class TestRedisUrl : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void parsesValid_data();
  void parsesValid();
  void rejectsInvalid_data();
  void rejectsInvalid();
  void redactedRoundTrips_data();
  void redactedRoundTrips();
  void endpoint();
};

namespace {

QByteArray qb(const std::string& s) { return QByteArray(s.data(), static_cast<qsizetype>(s.size())); }

}  // namespace

void TestRedisUrl::parsesValid_data() {
  QTest::addColumn<QByteArray>("url");
  QTest::addColumn<QByteArray>("host");
  QTest::addColumn<int>("port");
  QTest::addColumn<QByteArray>("unixPath");
  QTest::addColumn<int>("db");
  QTest::addColumn<QByteArray>("user");
  QTest::addColumn<QByteArray>("password");
  QTest::addColumn<int>("connectMs");  // -1 = not set
  QTest::addColumn<int>("commandMs");
  QTest::addColumn<QByteArray>("redacted");

  QTest::newRow("host only") << QByteArray("redis://cache") << QByteArray("cache") << 6379 << QByteArray() << 0
                             << QByteArray() << QByteArray() << -1 << -1 << QByteArray("redis://cache:6379/0");
  QTest::newRow("host port db") << QByteArray("redis://10.0.0.5:6380/3") << QByteArray("10.0.0.5") << 6380
                                << QByteArray() << 3 << QByteArray() << QByteArray() << -1 << -1
                                << QByteArray("redis://10.0.0.5:6380/3");
  QTest::newRow("trailing slash") << QByteArray("redis://h:1/") << QByteArray("h") << 1 << QByteArray() << 0
                                  << QByteArray() << QByteArray() << -1 << -1 << QByteArray("redis://h:1/0");
  QTest::newRow("max port") << QByteArray("redis://h:65535/15") << QByteArray("h") << 65535 << QByteArray() << 15
                            << QByteArray() << QByteArray() << -1 << -1 << QByteArray("redis://h:65535/15");
  QTest::newRow("user and password") << QByteArray("redis://alice:s3cret@db.example:6379/2")
                                     << QByteArray("db.example") << 6379 << QByteArray() << 2 << QByteArray("alice")
                                     << QByteArray("s3cret") << -1 << -1
                                     << QByteArray("redis://alice:***@db.example:6379/2");
  QTest::newRow("legacy password only") << QByteArray("redis://:hunter2@h:7000") << QByteArray("h") << 7000
                                        << QByteArray() << 0 << QByteArray() << QByteArray("hunter2") << -1 << -1
                                        << QByteArray("redis://:***@h:7000/0");
  QTest::newRow("user without password") << QByteArray("redis://bob@h") << QByteArray("h") << 6379 << QByteArray()
                                         << 0 << QByteArray("bob") << QByteArray() << -1 << -1
                                         << QByteArray("redis://bob@h:6379/0");
  QTest::newRow("percent-encoded specials") << QByteArray("redis://u%40corp:p%40ss%3Aw%2Fo%23rd%25%20x@h:6379/1")
                                            << QByteArray("h") << 6379 << QByteArray() << 1 << QByteArray("u@corp")
                                            << QByteArray("p@ss:w/o#rd% x") << -1 << -1
                                            << QByteArray("redis://u%40corp:***@h:6379/1");
  QTest::newRow("password with encoded ampersand and plus")
      << QByteArray("redis://u:a%26b%2Bc%3D%3F@h") << QByteArray("h") << 6379 << QByteArray() << 0 << QByteArray("u")
      << QByteArray("a&b+c=?") << -1 << -1 << QByteArray("redis://u:***@h:6379/0");
  QTest::newRow("utf8 password") << QByteArray("redis://u:%C3%A9t%C3%A9@h") << QByteArray("h") << 6379
                                 << QByteArray() << 0 << QByteArray("u") << QByteArray("\xC3\xA9t\xC3\xA9") << -1 << -1
                                 << QByteArray("redis://u:***@h:6379/0");
  QTest::newRow("ipv6 literal") << QByteArray("redis://[::1]:6379") << QByteArray("::1") << 6379 << QByteArray() << 0
                                << QByteArray() << QByteArray() << -1 << -1 << QByteArray("redis://[::1]:6379/0");
  QTest::newRow("ipv6 with creds") << QByteArray("redis://u:pw@[fe80::1]:7001/4") << QByteArray("fe80::1") << 7001
                                   << QByteArray() << 4 << QByteArray("u") << QByteArray("pw") << -1 << -1
                                   << QByteArray("redis://u:***@[fe80::1]:7001/4");
  QTest::newRow("timeouts") << QByteArray("redis://h/0?connect_timeout_ms=100&command_timeout_ms=50") << QByteArray("h")
                            << 6379 << QByteArray() << 0 << QByteArray() << QByteArray() << 100 << 50
                            << QByteArray("redis://h:6379/0?connect_timeout_ms=100&command_timeout_ms=50");
  QTest::newRow("upper-case scheme") << QByteArray("REDIS://h:1") << QByteArray("h") << 1 << QByteArray() << 0
                                     << QByteArray() << QByteArray() << -1 << -1 << QByteArray("redis://h:1/0");
  QTest::newRow("unix plain") << QByteArray("unix:///tmp/r.sock") << QByteArray() << 0 << QByteArray("/tmp/r.sock")
                              << 0 << QByteArray() << QByteArray() << -1 << -1 << QByteArray("unix:///tmp/r.sock");
  QTest::newRow("unix full") << QByteArray("unix:///tmp/r.sock?db=2&user=u&password=p") << QByteArray() << 0
                             << QByteArray("/tmp/r.sock") << 2 << QByteArray("u") << QByteArray("p") << -1 << -1
                             << QByteArray("unix:///tmp/r.sock?db=2&user=u&password=***");
  QTest::newRow("unix encoded password") << QByteArray("unix:///var/run/redis/redis.sock?password=a%26b%3D%2B")
                                         << QByteArray() << 0 << QByteArray("/var/run/redis/redis.sock") << 0
                                         << QByteArray() << QByteArray("a&b=+") << -1 << -1
                                         << QByteArray("unix:///var/run/redis/redis.sock?password=***");
  QTest::newRow("unix single slash") << QByteArray("unix:/tmp/x.sock?db=9") << QByteArray() << 0
                                     << QByteArray("/tmp/x.sock") << 9 << QByteArray() << QByteArray() << -1 << -1
                                     << QByteArray("unix:///tmp/x.sock?db=9");
  QTest::newRow("unix userinfo") << QByteArray("unix://u:pw@/tmp/s.sock") << QByteArray() << 0
                                 << QByteArray("/tmp/s.sock") << 0 << QByteArray("u") << QByteArray("pw") << -1 << -1
                                 << QByteArray("unix:///tmp/s.sock?user=u&password=***");
}

void TestRedisUrl::parsesValid() {
  QFETCH(QByteArray, url);
  QFETCH(QByteArray, host);
  QFETCH(int, port);
  QFETCH(QByteArray, unixPath);
  QFETCH(int, db);
  QFETCH(QByteArray, user);
  QFETCH(QByteArray, password);
  QFETCH(int, connectMs);
  QFETCH(int, commandMs);
  QFETCH(QByteArray, redacted);

  const RedisUrl r = RedisUrl::parse(url.toStdString());
  QCOMPARE(qb(r.host), host);
  QCOMPARE(qb(r.unix_path), unixPath);
  QCOMPARE(r.isUnix(), !unixPath.isEmpty());
  if (!r.isUnix()) QCOMPARE(r.port, port);
  QCOMPARE(r.db, db);
  QCOMPARE(qb(r.username), user);
  QCOMPARE(qb(r.password), password);
  QCOMPARE(r.connect_timeout_ms.value_or(-1), connectMs);
  QCOMPARE(r.command_timeout_ms.value_or(-1), commandMs);
  QCOMPARE(qb(r.redacted()), redacted);
  // (Passwords shorter than 4 bytes may occur in the URL by chance, e.g. "p" in ".sock".)
  if (password.size() >= 4)
    QVERIFY2(r.redacted().find(r.password) == std::string::npos, "redacted() leaks the password");
}

void TestRedisUrl::rejectsInvalid_data() {
  QTest::addColumn<QByteArray>("url");
  QTest::addColumn<QByteArray>("expected");  // a fragment of the error message
  QTest::addColumn<QByteArray>("secret");    // must never appear in the message (empty = none)

  QTest::newRow("empty") << QByteArray("") << QByteArray("empty") << QByteArray();
  QTest::newRow("no scheme") << QByteArray("localhost:6379") << QByteArray("expected redis://") << QByteArray();
  QTest::newRow("http") << QByteArray("http://h:6379") << QByteArray("unsupported scheme 'http'") << QByteArray();
  QTest::newRow("tls") << QByteArray("rediss://u:topsecret@h:6380/0")
                       << QByteArray("rediss:// (TLS) is not supported: Debian 12's hiredis 0.14 has no TLS; use a "
                                     "local unix socket or an SSH/stunnel tunnel")
                       << QByteArray("topsecret");
  QTest::newRow("missing host") << QByteArray("redis:///0") << QByteArray("missing host") << QByteArray();
  QTest::newRow("missing host with creds") << QByteArray("redis://u:hunter22@:6379/0") << QByteArray("invalid Redis URL")
                                           << QByteArray("hunter22");
  QTest::newRow("port too big") << QByteArray("redis://u:bigsecret@h:65536") << QByteArray("port")
                                << QByteArray("bigsecret");
  QTest::newRow("port huge") << QByteArray("redis://h:99999999999") << QByteArray("port") << QByteArray();
  QTest::newRow("port zero") << QByteArray("redis://h:0") << QByteArray("1..65535") << QByteArray();
  // Text that would not survive a decode/encode round trip: a different path or
  // password than the one typed (found by fuzz_redis_url).
  QTest::newRow("invalid utf8 byte") << QByteArray("unix:///tmp/r\xff.sock") << QByteArray("not valid UTF-8 text")
                                     << QByteArray();
  QTest::newRow("noncharacter in path") << QByteArray("unix:/6\xef\xbf\xbfx") << QByteArray("not valid UTF-8 text")
                                        << QByteArray();
  QTest::newRow("overlong utf8") << QByteArray("redis://h\xc0\xaf:1") << QByteArray("not valid UTF-8 text")
                                 << QByteArray();
  QTest::newRow("percent-encoded invalid byte in password")
      << QByteArray("redis://u:sec%FFret@h:6379") << QByteArray("percent-encoded part is not valid UTF-8")
      << QByteArray("sec%FFret");
  QTest::newRow("percent-encoded noncharacter in socket path")
      << QByteArray("unix:///tmp/%EF%BF%BF.sock") << QByteArray("percent-encoded part is not valid UTF-8")
      << QByteArray();
  QTest::newRow("port negative") << QByteArray("redis://h:-1") << QByteArray("port") << QByteArray();
  QTest::newRow("port letters") << QByteArray("redis://:zzsecret@h:abc") << QByteArray("port")
                                << QByteArray("zzsecret");
  QTest::newRow("db letters") << QByteArray("redis://h:6379/abc") << QByteArray("database number") << QByteArray();
  QTest::newRow("db negative") << QByteArray("redis://h:6379/-1") << QByteArray("database number") << QByteArray();
  QTest::newRow("db nested") << QByteArray("redis://h:6379/1/2") << QByteArray("database number") << QByteArray();
  QTest::newRow("db overflow") << QByteArray("redis://h/99999999999") << QByteArray("database number") << QByteArray();
  QTest::newRow("unencoded at") << QByteArray("redis://u:p@ssw0rdX@h/0") << QByteArray("%40")
                                << QByteArray("p@ssw0rdX");
  QTest::newRow("unencoded hash") << QByteArray("redis://u:pa#ssw0rdY@h/0") << QByteArray("%23")
                                  << QByteArray("pa#ssw0rdY");
  QTest::newRow("unencoded slash") << QByteArray("redis://u:pa/ssw0rdZ@h/0") << QByteArray("invalid Redis URL")
                                   << QByteArray("ssw0rdZ");
  QTest::newRow("space in password") << QByteArray("redis://u:my secretpw@h") << QByteArray("invalid Redis URL")
                                     << QByteArray("secretpw");
  QTest::newRow("bad percent") << QByteArray("redis://u:ab%zzcdsecret@h") << QByteArray("invalid Redis URL")
                               << QByteArray("cdsecret");
  QTest::newRow("control char") << QByteArray("redis://u:ctlsecret@h\n:6379") << QByteArray("control characters")
                                << QByteArray("ctlsecret");
  QTest::newRow("tab") << QByteArray("redis://h\t:6379") << QByteArray("control characters") << QByteArray();
  QTest::newRow("del") << QByteArray("redis://h\x7f") << QByteArray("control characters") << QByteArray();
  QTest::newRow("control in user") << QByteArray("redis://u%0A:x@h") << QByteArray("control characters")
                                   << QByteArray();
  QTest::newRow("fragment") << QByteArray("redis://h/0#frag") << QByteArray("fragment") << QByteArray();
  QTest::newRow("unknown param") << QByteArray("redis://:qsecret1@h/0?foo=1") << QByteArray("unknown parameter 'foo'")
                                 << QByteArray("qsecret1");
  QTest::newRow("db param on tcp") << QByteArray("redis://h/0?db=1") << QByteArray("only for unix://")
                                   << QByteArray();
  QTest::newRow("password param on tcp") << QByteArray("redis://h/0?password=tcpsecret")
                                         << QByteArray("only for unix://") << QByteArray("tcpsecret");
  QTest::newRow("bad timeout") << QByteArray("redis://h?connect_timeout_ms=soon") << QByteArray("connect_timeout_ms")
                               << QByteArray();
  QTest::newRow("negative timeout") << QByteArray("redis://h?command_timeout_ms=-5")
                                    << QByteArray("command_timeout_ms") << QByteArray();
  QTest::newRow("duplicate param") << QByteArray("unix:///s?db=1&db=2") << QByteArray("twice") << QByteArray();
  QTest::newRow("unix relative") << QByteArray("unix:relative.sock") << QByteArray("absolute") << QByteArray();
  QTest::newRow("unix with host") << QByteArray("unix://tmp/r.sock") << QByteArray("no host") << QByteArray();
  QTest::newRow("unix empty path") << QByteArray("unix://?password=usecret9") << QByteArray("absolute")
                                   << QByteArray("usecret9");
  QTest::newRow("unix bad db") << QByteArray("unix:///tmp/r.sock?db=x&password=usecret7")
                               << QByteArray("db must be a non-negative integer") << QByteArray("usecret7");
  QTest::newRow("unix negative db") << QByteArray("unix:///tmp/r.sock?password=usecret8&db=-2")
                                    << QByteArray("db must be a non-negative integer") << QByteArray("usecret8");
  QTest::newRow("unix unknown param") << QByteArray("unix:///tmp/r.sock?password=usecret6&x=1")
                                      << QByteArray("unknown parameter 'x'") << QByteArray("usecret6");
}

void TestRedisUrl::rejectsInvalid() {
  QFETCH(QByteArray, url);
  QFETCH(QByteArray, expected);
  QFETCH(QByteArray, secret);
  tier::test::checkUrlRejected(url, expected, secret);
}

void TestRedisUrl::redactedRoundTrips_data() {
  QTest::addColumn<QByteArray>("url");
  QTest::newRow("creds") << QByteArray("redis://u%40x:p%40ss@h:6380/3?connect_timeout_ms=7");
  QTest::newRow("ipv6") << QByteArray("redis://[::1]:6379/1");
  QTest::newRow("unix") << QByteArray("unix:///tmp/a.sock?db=3&user=u&password=zz");
}

// redacted() is itself a valid URL naming the same endpoint, user and db.
void TestRedisUrl::redactedRoundTrips() {
  QFETCH(QByteArray, url);
  const RedisUrl a = RedisUrl::parse(url.toStdString());
  const RedisUrl b = RedisUrl::parse(a.redacted());
  QCOMPARE(b.endpoint(), a.endpoint());
  QCOMPARE(b.username, a.username);
  QCOMPARE(b.db, a.db);
  QCOMPARE(b.connect_timeout_ms, a.connect_timeout_ms);
  QCOMPARE(b.password.empty(), a.password.empty());
  if (!a.password.empty()) QCOMPARE(b.password, std::string("***"));
}

void TestRedisUrl::endpoint() {
  QCOMPARE(RedisUrl::parse("redis://h:1").endpoint(), std::string("h:1"));
  QCOMPARE(RedisUrl::parse("redis://[::1]").endpoint(), std::string("[::1]:6379"));
  QCOMPARE(RedisUrl::parse("unix:///run/r.sock").endpoint(), std::string("/run/r.sock"));
}

QTEST_APPLESS_MAIN(TestRedisUrl)
#include "tst_redis_url.moc"
