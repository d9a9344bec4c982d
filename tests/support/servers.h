#pragma once
// Test harness: private redis-server and PostgreSQL for integration tests.
// Each TestRedis / TestPostgres makes a temp folder, starts the server on a free
// loopback port, waits until it answers and stops it (and removes the folder)
// in its destructor. A watchdog process also stops the servers if the test
// process dies (crash, SIGKILL, ctest timeout), so nothing outlives a run.
//
// Typical use, once per test binary:
//   auto& servers = tier::test::TestServers::shared();
//   servers.redisUrl(); servers.pgConninfo();
// If a server binary is missing the constructors throw tier::NotFoundError (CI
// installs both, so tests fail then rather than skip).
//
// Thread-safety: none; create and destroy servers on the test's main thread.
#include <memory>
#include <string>
#include <vector>

#include "tier/sandbox/server_process.h"

namespace tier::test {

// A fresh folder /tmp/tier-test-XXXXXX, mode 0755 so user postgres can traverse it.
std::string makeTempDir();
void removeTree(const std::string& dir);  // rm -rf; never throws

// A detached process that waits for `watched` (a pid) to die, then runs each
// cleanup argv in order and removes `dir`. Survives SIGKILL of the caller.
// Returns its pid; kill it (SIGKILL) to cancel.
long spawnWatchdog(long watched, const std::vector<std::vector<std::string>>& cleanup, const std::string& dir);

class TestRedis {
 public:
  explicit TestRedis(std::string password = {});
  ~TestRedis();
  std::string url() const;          // with password if any
  std::string socketPath() const;
  int port() const;
  tier::sandbox::RedisServerProcess& process();
  // Runs redis-cli with args (split by the shell) against this server; returns stdout.
  std::string cli(const std::string& args) const;
  const std::string& dir() const { return dir_; }
  long watchdogPid() const { return watchdog_; }

  // Fault injection. kill(): SIGKILL, returns once the process is gone (data is
  // lost: the test server never saves). restart(): starts it again on the same
  // port (after kill()); throws tier::Error if it cannot.
  void kill();
  void restart();
  void pause();   // SIGSTOP: the server holds connections but answers nothing
  void resume();  // SIGCONT

 private:
  std::string dir_;
  std::string password_;
  std::unique_ptr<tier::sandbox::RedisServerProcess> proc_;
  long watchdog_ = 0;
};

class TestPostgres {
 public:
  explicit TestPostgres(std::string password = {});
  ~TestPostgres();
  std::string conninfo() const;
  int port() const;
  tier::sandbox::PostgresServerProcess& process();
  void psql(const std::string& sql) const;
  const std::string& dir() const { return dir_; }
  long watchdogPid() const { return watchdog_; }

  // Turns on TLS (ssl = on) with this PEM certificate and key, copied into the
  // server's folder; takes effect by a configuration reload, no restart. Plain
  // connections keep working. Throws tier::Error if the server refuses it.
  void enableSsl(const std::string& certFile, const std::string& keyFile);

  // Fault injection: stop() is pg_ctl stop -m fast; start() brings the same
  // cluster back on the same port. Both throw tier::Error on failure.
  void stop();
  void start();

 private:
  std::string dir_;
  std::string password_;
  std::unique_ptr<tier::sandbox::PostgresServerProcess> proc_;
  long watchdog_ = 0;
};

// One Redis + one PostgreSQL (migrated to the latest schema, not seeded: tests
// insert what they read) shared by all tests of one binary; created on first
// use, stopped at exit. Throws tier::Error if a server cannot start.
class TestServers {
 public:
  static TestServers& shared();
  std::string redisUrl() const;
  std::string pgConninfo() const;
  TestRedis& redis();
  TestPostgres& postgres();

 private:
  TestServers();
  std::unique_ptr<TestRedis> redis_;
  std::unique_ptr<TestPostgres> pg_;
};

}  // namespace tier::test
