// The load's default worker threads (workload/threads.h): the rule for given
// facts, and which servers count as "on this host".
#include <sched.h>
#include <unistd.h>

#include <QTest>

#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/redis/redis_url.h"
#include "tier/workload/threads.h"

using tier::workload::defaultThreads;
using tier::workload::postgresOnThisHost;
using tier::workload::redisOnThisHost;

class TestLoadThreads : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void rule_data() {
    QTest::addColumn<int>("cpus");
    QTest::addColumn<bool>("redisHere");
    QTest::addColumn<bool>("pgHere");
    QTest::addColumn<int>("threads");
    QTest::addColumn<QString>("reason");
    QTest::newRow("2 CPUs, both servers here")
        << 2 << true << true << 1
        << "default: 2 CPUs minus 1 each for the Redis and PostgreSQL servers on "
           "this host, at least 1";
    QTest::newRow("3 CPUs, both here: exactly 1")
        << 3 << true << true << 1
        << "default: 3 CPUs minus 1 each for the Redis and PostgreSQL servers "
           "on this host";
    QTest::newRow("8 CPUs, both here")
        << 8 << true << true << 6 << "default: 8 CPUs minus 1 each for the Redis and PostgreSQL servers on this host";
    QTest::newRow("8 CPUs, Redis here") << 8 << true << false << 7
                                        << "default: 8 CPUs minus 1 for the Redis server on this host";
    QTest::newRow("8 CPUs, PostgreSQL here")
        << 8 << false << true << 7 << "default: 8 CPUs minus 1 for the PostgreSQL server on this host";
    QTest::newRow("8 CPUs, none here") << 8 << false << false << 8 << "default: 8 CPUs, no cache server on this host";
    QTest::newRow("1 CPU, none here") << 1 << false << false << 1 << "default: 1 CPU, no cache server on this host";
    QTest::newRow("1 CPU, Redis here") << 1 << true << false << 1
                                       << "default: 1 CPU minus 1 for the Redis server on this host, at least 1";
    QTest::newRow("0 CPUs is 1") << 0 << false << false << 1 << "default: 1 CPU, no cache server on this host";
  }

  void rule() {
    QFETCH(int, cpus);
    QFETCH(bool, redisHere);
    QFETCH(bool, pgHere);
    QFETCH(int, threads);
    QFETCH(QString, reason);
    const auto c = defaultThreads(cpus, redisHere, pgHere);
    QCOMPARE(c.threads, threads);
    QCOMPARE(QString::fromStdString(c.reason), reason);
  }

  void usableCpusIsTheAffinityMask() {
    cpu_set_t set;
    CPU_ZERO(&set);
    QCOMPARE(::sched_getaffinity(0, sizeof set, &set), 0);
    QCOMPARE(tier::workload::usableCpus(), CPU_COUNT(&set));
  }

  void redisHost_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("here");
    QTest::newRow("unix socket") << "unix:///tmp/redis.sock" << true;
    QTest::newRow("127.0.0.1") << "redis://127.0.0.1:6379/0" << true;
    QTest::newRow("127.1.2.3 (loopback /8)") << "redis://127.1.2.3:6379/0" << true;
    QTest::newRow("localhost with password") << "redis://:secret@localhost:6379/0" << true;
    QTest::newRow("::1") << "redis://[::1]:6379/0" << true;
    QTest::newRow("documentation address") << "redis://192.0.2.10:6379/0" << false;
    QTest::newRow("remote name") << "redis://cache.example.com:6379/0" << false;
    QTest::newRow("cluster with a local seed") << "redis+cluster://192.0.2.10:7000,127.0.0.1:7001" << true;
    QTest::newRow("cluster all remote") << "redis+cluster://192.0.2.10:7000,192.0.2.11:7001" << false;
    QTest::newRow("no Redis") << "" << false;
    QTest::newRow("unparsable") << "redis://127.0.0.1:notaport/0" << false;
  }

  void redisHost() {
    QFETCH(QString, url);
    QFETCH(bool, here);
    QCOMPARE(redisOnThisHost(url.toStdString()), here);
  }

  void thisMachinesNameIsHere() {
    char name[256] = {};
    QCOMPARE(::gethostname(name, sizeof name - 1), 0);
    QVERIFY(name[0] != '\0');
    QVERIFY(postgresOnThisHost(std::string("host=") + name + " dbname=tier"));
    const std::string url = std::string("redis://") + name + ":6379/0";
    try {
      (void)tier::redis::RedisUrl::parse(url);
    } catch (const tier::Error&) {
      return;  // a host name no URL may carry (e.g. with '_'): nothing more to check
    }
    QVERIFY(redisOnThisHost(url));
  }

  void postgresHost_data() {
    QTest::addColumn<QString>("conninfo");
    QTest::addColumn<bool>("here");
    QTest::newRow("loopback") << "host=127.0.0.1 port=5432 dbname=tier user=tier" << true;
    QTest::newRow("unix socket folder") << "host=/var/run/postgresql dbname=tier" << true;
    QTest::newRow("URI on localhost") << "postgresql://tier:secret@localhost:5432/tier" << true;
    QTest::newRow("remote") << "host=db.example.com dbname=tier" << false;
    QTest::newRow("hostaddr decides") << "host=localhost hostaddr=192.0.2.1 dbname=tier" << false;
    QTest::newRow("a list with a local host") << "host=db.example.com,127.0.0.1 dbname=tier" << true;
    QTest::newRow("malformed") << "host=127.0.0.1 port" << false;
  }

  void postgresHost() {
    QFETCH(QString, conninfo);
    QFETCH(bool, here);
    QCOMPARE(postgresOnThisHost(conninfo.toStdString()), here);
  }

  // No host in the conninfo: libpq takes PGHOST, else its local unix socket.
  void postgresDefaultsFollowLibpq() {
    const QByteArray savedHost = qgetenv("PGHOST"), savedAddr = qgetenv("PGHOSTADDR");
    qunsetenv("PGHOST");
    qunsetenv("PGHOSTADDR");
    QVERIFY(postgresOnThisHost(""));
    QVERIFY(postgresOnThisHost("dbname=tier"));
    qputenv("PGHOST", "db.example.com");
    QVERIFY(!postgresOnThisHost("dbname=tier"));
    QVERIFY(postgresOnThisHost("host=127.0.0.1 dbname=tier"));  // the conninfo wins over the environment
    if (savedHost.isNull())
      qunsetenv("PGHOST");
    else
      qputenv("PGHOST", savedHost);
    if (!savedAddr.isNull()) qputenv("PGHOSTADDR", savedAddr);
  }

  void configUsesTheRule() {
    tier::CoreConfig c;
    c.redis_url = "redis://127.0.0.1:6379/0";
    c.pg_conninfo = "host=192.0.2.1 dbname=tier";
    const auto fromConfig = defaultThreads(c);
    const auto byHand = defaultThreads(tier::workload::usableCpus(), true, false);
    QCOMPARE(fromConfig.threads, byHand.threads);
    QCOMPARE(fromConfig.reason, byHand.reason);
  }
};

QTEST_GUILESS_MAIN(TestLoadThreads)
#include "tst_load_threads.moc"
