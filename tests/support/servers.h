#pragma once
// Test harness: private redis-server and PostgreSQL for integration tests.
// Each TestRedis / TestPostgres makes a temp folder, starts the server on a free
// loopback port, waits until it answers and stops it (and removes the folder)
// in its destructor. A watchdog process also stops the servers if the test
// process dies (crash, SIGKILL, ctest timeout), so nothing outlives a run.
//
// Typical use, once per test binary:
//   static tier::test::TestServers* servers = tier::test::TestServers::shared();
//   servers->redisUrl(); servers->pgConninfo();
// If a server binary is missing the harness calls QSKIP-compatible
// `unavailableReason()` — but CI installs both, so tests should QFAIL then.
#include <memory>
#include <string>

#include "tier/sandbox/server_process.h"

namespace tier::test {

class TestRedis {
 public:
  explicit TestRedis(std::string password = {});
  ~TestRedis();
  std::string url() const;          // with password if any
  std::string socketPath() const;
  int port() const;
  tier::sandbox::RedisServerProcess& process();
  // Runs redis-cli with args against this server; returns stdout.
  std::string cli(const std::string& args) const;

 private:
  std::string dir_;
  std::unique_ptr<tier::sandbox::RedisServerProcess> proc_;
};

class TestPostgres {
 public:
  explicit TestPostgres(std::string password = {});
  ~TestPostgres();
  std::string conninfo() const;
  int port() const;
  tier::sandbox::PostgresServerProcess& process();
  void psql(const std::string& sql) const;

 private:
  std::string dir_;
  std::unique_ptr<tier::sandbox::PostgresServerProcess> proc_;
};

// One Redis + one PostgreSQL (migrated to the latest schema, small seed) shared
// by all tests of one binary; created on first use, stopped at exit.
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
