// The server harness itself: real redis-server and PostgreSQL start, answer,
// stop, are reused from a running folder, and never outlive a killed test.
// TIER_TEST_TIMEOUT: 600
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>
#include <filesystem>
#include <memory>
#include <sstream>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/sandbox/server_process.h"

using tier::sandbox::processAlive;

namespace {

bool exists(const std::string& path) { return std::filesystem::exists(path); }

tier::sandbox::RedisServerOptions redisIn(const std::string& dir) {
  tier::sandbox::RedisServerOptions opt;
  opt.dir = dir;
  return opt;
}

// Holds 127.0.0.1:port open so that a server asked for that port cannot bind it.
struct PortBlocker {
  int fd = -1;
  int port = 0;
  PortBlocker() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 1);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~PortBlocker() { ::close(fd); }
};

}  // namespace

class TestServerHarness : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void findFreePortIsBindable() {
    const int port = tier::sandbox::findFreePort();
    QVERIFY(port > 1024 && port < 65536);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    QCOMPARE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }

  void startAnswerStop() {
    auto redis = std::make_unique<tier::test::TestRedis>();
    auto pg = std::make_unique<tier::test::TestPostgres>();
    QCOMPARE(redis->cli("PING"), std::string("PONG\n"));
    QCOMPARE(redis->cli("SET k v"), std::string("OK\n"));
    QCOMPARE(redis->cli("GET k"), std::string("v\n"));
    QVERIFY(exists(redis->socketPath()));
    pg->psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1);");
    QVERIFY_THROWS_EXCEPTION(tier::DataError, pg->psql("SELECT * FROM no_such_table"));
    QVERIFY(pg->conninfo().find("port=" + std::to_string(pg->port())) != std::string::npos);

    const long redisPid = redis->process().pid();
    const long pgPid = pg->process().pid();
    const long dogs[] = {redis->watchdogPid(), pg->watchdogPid()};
    const std::string dirs[] = {redis->dir(), pg->dir()};
    QVERIFY(processAlive(redisPid));
    QVERIFY(processAlive(pgPid));
    QVERIFY(processAlive(dogs[0]) && processAlive(dogs[1]));

    redis.reset();
    pg.reset();
    // The destructors wait for the servers to exit; nothing is left to poll for.
    QVERIFY(!processAlive(redisPid));
    QVERIFY(!processAlive(pgPid));
    QVERIFY(!exists(dirs[0]));
    QVERIFY(!exists(dirs[1]));
    QTRY_VERIFY_WITH_TIMEOUT(!processAlive(dogs[0]) && !processAlive(dogs[1]), 5000);
  }

  void passwords() {
    tier::test::TestRedis redis("s3cret:/@ pw");
    QVERIFY(redis.url().find("s3cret%3A%2F%40%20pw@") != std::string::npos);
    QCOMPARE(redis.cli("PING"), std::string("PONG\n"));
    // Without the password the server refuses.
    const std::string cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(redis.port()) + " PING 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[256];
      while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
      ::pclose(p);
    }
    QVERIFY2(out.find("NOAUTH") != std::string::npos, out.c_str());

    tier::test::TestPostgres pg("pg s3cret'");
    pg.psql("SELECT 1");
    QVERIFY(pg.conninfo().find("password=") != std::string::npos);
    // The same running folder with the wrong password: reused, but refused.
    tier::sandbox::PostgresServerOptions wrong;
    wrong.dir = pg.dir() + "/pg";
    wrong.password = "wrong";
    tier::sandbox::PostgresServerProcess other(wrong);
    try {
      other.start();
      QFAIL("a wrong password was accepted");
    } catch (const tier::PermissionError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find('\n') == std::string::npos, e.what());
      QVERIFY2(msg.find("wrong") == std::string::npos, e.what());
    }
    QCOMPARE(other.pid(), pg.process().pid());
  }

  void reuseRunningDir() {
    const std::string dir = tier::test::makeTempDir();
    {
      tier::sandbox::RedisServerProcess a(redisIn(dir + "/redis"));
      a.stopOnDestroy(true);
      a.start();
      tier::sandbox::RedisServerProcess b(redisIn(dir + "/redis"));
      b.start();
      QCOMPARE(b.pid(), a.pid());
      QCOMPARE(b.port(), a.port());
      QCOMPARE(b.url(), a.url());

      tier::sandbox::PostgresServerOptions opt;
      opt.dir = dir + "/pg";
      opt.fast_unsafe = true;
      opt.shared_buffers_mb = 32;
      tier::sandbox::PostgresServerProcess p(opt);
      p.stopOnDestroy(true);
      p.start();
      p.psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('x')");
      tier::sandbox::PostgresServerProcess q(opt);
      q.start();
      QCOMPARE(q.pid(), p.pid());
      QCOMPARE(q.port(), p.port());
      QCOMPARE(q.conninfo(), p.conninfo());

      // Stopped and started again from the same folder: the data is still there.
      const long oldPid = p.pid();
      p.stop();
      QVERIFY(!p.isRunning());
      QVERIFY(!processAlive(oldPid));
      p.start();
      QVERIFY(p.isRunning());
      p.psql("DO $$ BEGIN IF (SELECT count(*) FROM kept) <> 1 THEN RAISE EXCEPTION 'lost'; END IF; END $$");
    }
    tier::test::removeTree(dir);
  }

  void stopRemovesProcesses() {
    const std::string dir = tier::test::makeTempDir();
    tier::sandbox::RedisServerProcess r(redisIn(dir + "/redis"));
    r.start();
    const long pid = r.pid();
    QVERIFY(r.isRunning());
    r.stop();
    QVERIFY(!r.isRunning());
    QVERIFY(!processAlive(pid));
    QCOMPARE(r.pid(), 0L);
    r.stop();  // stopping a stopped server is a no-op
    tier::test::removeTree(dir);
  }

  void fixedPortInUseIsAClearError() {
    PortBlocker blocker;
    const std::string dir = tier::test::makeTempDir();
    tier::sandbox::RedisServerOptions opt;
    opt.dir = dir + "/redis";
    opt.port = blocker.port;
    tier::sandbox::RedisServerProcess r(opt);
    try {
      r.start();
      r.stop();
      QFAIL("redis-server started on a port in use");
    } catch (const tier::ConnectionError& e) {
      QVERIFY2(std::string(e.what()).find('\n') == std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find(std::to_string(blocker.port)) != std::string::npos, e.what());
    }
    QVERIFY(!r.isRunning());
    tier::test::removeTree(dir);
  }

  void unreachableFolderForPostgres() {
    if (::geteuid() != 0) QSKIP("only root runs PostgreSQL through another user");
    const std::string dir = tier::test::makeTempDir();
    ::chmod(dir.c_str(), 0700);
    tier::sandbox::PostgresServerOptions opt;
    opt.dir = dir + "/pg";
    tier::sandbox::PostgresServerProcess p(opt);
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, p.start());
    tier::test::removeTree(dir);
  }

  void killedTestProcessLeavesNothing_data() {
    QTest::addColumn<int>("how");
    QTest::newRow("SIGKILL") << 0;
    QTest::newRow("_exit without destructors") << 1;
  }

  void killedTestProcessLeavesNothing() {
    QFETCH(int, how);
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      std::string report;
      try {
        auto* redis = new tier::test::TestRedis();
        auto* pg = new tier::test::TestPostgres();
        report = std::to_string(redis->process().pid()) + " " + std::to_string(pg->process().pid()) + " " +
                 redis->dir() + " " + pg->dir() + "\n";
      } catch (const std::exception& e) {
        report = std::string("error ") + e.what() + "\n";
      }
      ssize_t n = ::write(fds[1], report.data(), report.size());
      (void)n;
      if (how == 0) ::kill(::getpid(), SIGKILL);
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string report;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY2(report.rfind("error", 0) != 0, report.c_str());

    std::istringstream in(report);
    long redisPid = 0, pgPid = 0;
    std::string redisDir, pgDir;
    in >> redisPid >> pgPid >> redisDir >> pgDir;
    QVERIFY(redisPid > 0 && pgPid > 0);
    QVERIFY(!redisDir.empty() && !pgDir.empty());
    QTRY_VERIFY_WITH_TIMEOUT(!processAlive(redisPid), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!processAlive(pgPid), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(!exists(redisDir) && !exists(pgDir), 20000);
  }

  void sharedServersAreMigrated() {
    auto& servers = tier::test::TestServers::shared();
    QVERIFY(!servers.redisUrl().empty());
    QCOMPARE(servers.redis().cli("PING"), std::string("PONG\n"));
    servers.postgres().psql(
        "DO $$ BEGIN IF (SELECT count(*) FROM schema_migrations) < 1 THEN RAISE EXCEPTION 'not migrated'; "
        "END IF; END $$");
    QCOMPARE(&tier::test::TestServers::shared(), &servers);
  }
};

QTEST_GUILESS_MAIN(TestServerHarness)
#include "tst_server_harness.moc"
