// redis+cluster:// and redis+sentinel:// URLs (issue 6): host lists, master
// name and db, the sentinels' own credentials, redaction and one-line errors
// that never quote a password.
#include <QtTest>

#include "redis_url_checks.h"
#include "tier/common/error.h"
#include "tier/redis/redis_url.h"

using tier::redis::HostPort;
using tier::redis::RedisMode;
using tier::redis::RedisUrl;

class TestRedisUrlDistributed : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void cluster();
  void clusterReplicaReads();
  void sentinel();
  void sentinelCredentials();
  void redactedReparses();
  void forNode();
  void rejects_data();
  void rejects();
};

namespace {

RedisUrl parse(const char* s) {
  return RedisUrl::parse(s);
}

}  // namespace

void TestRedisUrlDistributed::cluster() {
  const auto u = parse("redis+cluster://127.0.0.1:7000,127.0.0.1:7001,[::1]:7002");
  QCOMPARE(u.mode, RedisMode::Cluster);
  QVERIFY(u.isCluster());
  QCOMPARE(u.seeds.size(), std::size_t(3));
  QCOMPARE(u.seeds[0], (HostPort{"127.0.0.1", 7000}));
  QCOMPARE(u.seeds[2], (HostPort{"::1", 7002}));
  QCOMPARE(u.host, std::string("127.0.0.1"));
  QCOMPARE(u.port, 7000);
  QCOMPARE(u.db, 0);
  QVERIFY(!u.replica_reads);
  QCOMPARE(u.endpoint(), std::string("127.0.0.1:7000,127.0.0.1:7001,[::1]:7002"));
  QCOMPARE(u.redacted(), std::string("redis+cluster://127.0.0.1:7000,127.0.0.1:7001,[::1]:7002"));

  // Default port, /0 allowed, duplicates dropped, scheme case-insensitive.
  const auto d = parse("REDIS+CLUSTER://node-a,node-a:6379,node-b:7/0");
  QCOMPARE(d.seeds.size(), std::size_t(2));
  QCOMPARE(d.seeds[0], (HostPort{"node-a", 6379}));
  QCOMPARE(d.seeds[1], (HostPort{"node-b", 7}));

  const auto a = parse("redis+cluster://alice:p%40ss%2Cw@h1:1,h2:2?command_timeout_ms=900");
  QCOMPARE(a.username, std::string("alice"));
  QCOMPARE(a.password, std::string("p@ss,w"));
  QCOMPARE(a.seeds.size(), std::size_t(2));
  QCOMPARE(*a.command_timeout_ms, 900);
  QCOMPARE(a.redacted(), std::string("redis+cluster://alice:***@h1:1,h2:2?command_timeout_ms=900"));
}

void TestRedisUrlDistributed::clusterReplicaReads() {
  QVERIFY(parse("redis+cluster://h:1?replica_reads=1").replica_reads);
  QVERIFY(!parse("redis+cluster://h:1?replica_reads=0").replica_reads);
  QCOMPARE(parse("redis+cluster://h:1?replica_reads=1").redacted(), std::string("redis+cluster://h:1?replica_reads=1"));
}

void TestRedisUrlDistributed::sentinel() {
  const auto u = parse("redis+sentinel://127.0.0.1:26379,127.0.0.1:26380,s3/tiermaster");
  QCOMPARE(u.mode, RedisMode::Sentinel);
  QVERIFY(u.isSentinel());
  QCOMPARE(u.master_name, std::string("tiermaster"));
  QCOMPARE(u.db, 0);
  QCOMPARE(u.seeds.size(), std::size_t(3));
  QCOMPARE(u.seeds[2], (HostPort{"s3", 26379}));  // sentinel default port
  QCOMPARE(u.redacted(), std::string("redis+sentinel://127.0.0.1:26379,127.0.0.1:26380,s3:26379/tiermaster/0"));

  const auto db = parse("redis+sentinel://s1:1/my%2Dmaster/4");
  QCOMPARE(db.master_name, std::string("my-master"));
  QCOMPARE(db.db, 4);
  QCOMPARE(parse("redis+sentinel://s1:1/m/4/").db, 4);
}

void TestRedisUrlDistributed::sentinelCredentials() {
  // The authority's credentials are the data nodes'; the sentinels' are parameters.
  const auto u = parse("redis+sentinel://app:datapw@s1:1,s2:2/m?sentinel_user=watch&sentinel_password=sent%26pw");
  QCOMPARE(u.username, std::string("app"));
  QCOMPARE(u.password, std::string("datapw"));
  QCOMPARE(u.sentinel_username, std::string("watch"));
  QCOMPARE(u.sentinel_password, std::string("sent&pw"));
  const std::string red = u.redacted();
  QCOMPARE(red, std::string("redis+sentinel://app:***@s1:1,s2:2/m/0?sentinel_user=watch&sentinel_password=***"));
  QVERIFY(red.find("datapw") == std::string::npos);
  QVERIFY(red.find("sent") == red.find("sentinel"));  // only the parameter names
}

void TestRedisUrlDistributed::redactedReparses() {
  for (const char* s : {"redis+cluster://h1:1,h2:2?replica_reads=1&connect_timeout_ms=5",
                        "redis+sentinel://u@s1:1,s2:2/name/3?sentinel_user=w"}) {
    const auto u = parse(s);
    const auto again = RedisUrl::parse(u.redacted());
    QCOMPARE(again.redacted(), u.redacted());
    QCOMPARE(again.seeds, u.seeds);
    QCOMPARE(again.mode, u.mode);
  }
}

void TestRedisUrlDistributed::forNode() {
  const auto u = parse("redis+sentinel://app:pw@s1:1/m/2?command_timeout_ms=70");
  const auto n = u.forNode(HostPort{"10.0.0.9", 6380});
  QCOMPARE(n.mode, RedisMode::Single);
  QCOMPARE(n.host, std::string("10.0.0.9"));
  QCOMPARE(n.port, 6380);
  QCOMPARE(n.db, 2);
  QCOMPARE(n.username, std::string("app"));
  QCOMPARE(n.password, std::string("pw"));
  QCOMPARE(*n.command_timeout_ms, 70);
  QVERIFY(n.seeds.empty());
  QVERIFY(n.sentinel_password.empty());
}

void TestRedisUrlDistributed::rejects_data() {
  QTest::addColumn<QByteArray>("url");
  QTest::addColumn<QByteArray>("expected");
  QTest::addColumn<QByteArray>("secret");
  QTest::newRow("cluster db") << QByteArray("redis+cluster://u:topsecret@h:1/3") << QByteArray("only database 0")
                              << QByteArray("topsecret");
  QTest::newRow("empty seed") << QByteArray("redis+cluster://u:topsecret@h:1,,h2:2") << QByteArray("empty seed node")
                              << QByteArray("topsecret");
  QTest::newRow("bad port") << QByteArray("redis+cluster://h:1,h2:99999") << QByteArray("invalid seed node")
                            << QByteArray();
  QTest::newRow("port 0") << QByteArray("redis+cluster://h:0") << QByteArray("1..65535") << QByteArray();
  // The sentinel password is scrubbed from every message, even when its
  // parameter name is percent-encoded (so the literal-name mask misses it).
  QTest::newRow("encoded sentinel_password name")
      << QByteArray("redis+sentinel://h:26379/m?sentinel_pass%77ord=S3cretXY&connect_timeout_ms=x")
      << QByteArray("non-negative integer") << QByteArray("S3cretXY");
  QTest::newRow("replica_reads value") << QByteArray("redis+cluster://u:topsecret@h:1?replica_reads=yes")
                                       << QByteArray("replica_reads must be 0 or 1") << QByteArray("topsecret");
  QTest::newRow("replica_reads on sentinel") << QByteArray("redis+sentinel://s:1/m?replica_reads=1")
                                             << QByteArray("only for redis+cluster://") << QByteArray();
  QTest::newRow("sentinel param on cluster") << QByteArray("redis+cluster://h:1?sentinel_password=hushhush")
                                             << QByteArray("only for redis+sentinel://") << QByteArray("hushhush");
  QTest::newRow("sentinel param on single") << QByteArray("redis://h:1?sentinel_password=hushhush")
                                            << QByteArray("only for redis+sentinel://") << QByteArray("hushhush");
  QTest::newRow("no master name") << QByteArray("redis+sentinel://u:topsecret@s1:1,s2:2")
                                  << QByteArray("needs the master name") << QByteArray("topsecret");
  QTest::newRow("sentinel bad db") << QByteArray("redis+sentinel://s1:1/m/x?sentinel_password=hushhush")
                                   << QByteArray("database must be a number") << QByteArray("hushhush");
  QTest::newRow("unknown param keeps both secrets")
      << QByteArray("redis+sentinel://u:topsecret@s1:1/m?sentinel_password=hushhush&bogus=1")
      << QByteArray("unknown parameter 'bogus'") << QByteArray("hushhush");
  QTest::newRow("unknown param data pw") << QByteArray("redis+sentinel://u:topsecret@s1:1/m?bogus=1")
                                         << QByteArray("unknown parameter") << QByteArray("topsecret");
  QTest::newRow("bad host before query") << QByteArray("redis+sentinel://s1:1,s^2:2/m?sentinel_password=hushhush")
                                         << QByteArray("invalid sentinel address") << QByteArray("hushhush");
  QTest::newRow("raw slash in password") << QByteArray("redis+cluster://u:top/secret@h:1")
                                         << QByteArray("invalid Redis URL") << QByteArray("top/secret");
  QTest::newRow("tls cluster") << QByteArray("rediss+cluster://h:1") << QByteArray("TLS") << QByteArray();
}

void TestRedisUrlDistributed::rejects() {
  QFETCH(QByteArray, url);
  QFETCH(QByteArray, expected);
  QFETCH(QByteArray, secret);
  tier::test::checkUrlRejected(url, expected, secret);
}

QTEST_APPLESS_MAIN(TestRedisUrlDistributed)
#include "tst_redis_url_distributed.moc"
