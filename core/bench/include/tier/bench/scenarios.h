#pragma once
// The measurements of `tierctl bench`, as a library: each scenario measures one
// part of the core side by side with its physical baseline (a bare hiredis GET,
// a bare libpq query, redis-benchmark, a hash map, ...) in one process run,
// interleaved (A,B,A,B...), after a warm-up, repeated; it writes ratios into
// Run::fields and the raw figures behind them into Run::details.
// docs/BENCHMARKS.md explains the method; tierctl bench (app/tierctl/cmd_bench.cpp)
// is the command line over this, tests/integration/tst_bench_scenarios.cpp runs
// the scenarios in their quick form.
//
// Thread-safety: a Run belongs to one thread; scenarios start and join their
// own worker threads. Blocking: every scenario talks to the servers.
#include <QJsonObject>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "tier/core.h"
#include "tier/redis/redis_url.h"
#include "tier/sandbox/sandbox.h"

namespace tier::bench {

// Sizes of one run: quick only proves that every measurement runs.
struct Plan {
  bool quick = false;
  int reps = 7;             // interleaved repetitions per pair (odd: a true median)
  int get_ops = 4000;       // GETs per block
  int warm_items = 50'000;  // fillMany items per block
  int session_ops = 300;    // session retrievals per block
  long long inv_keys = 1'000'000;
  int inv_reps = 3;
  int ns_reps = 11;
  int load_users = 1000;
  // Steady state: the warm-up runs at least min_s, then until the 10-second hit
  // rate moves by less than load_settle (absolute) between two windows, at most max_s.
  int load_warmup_min_s = 30;
  int load_warmup_max_s = 300;
  double load_settle = 0.002;
  int load_measure_s = 60;
  int load_switch_settle_s = 5;  // before each measured block: its new workers' first operations
  // Fleet publishing overhead: interleaved blocks of the load, publishing on and off.
  // Shorter blocks, more of them: the load's own drift (±10 % between 15 s
  // blocks on a shared 2-core machine) cancels better in adjacent pairs.
  int fleet_reps = 13;
  int fleet_block_s = 8;
};
Plan planFor(bool quick);

// A reported field with its target: met when `value op target` holds.
struct Target {
  const char* field;
  const char* group;  // the scenario that produces it
  const char* op;     // "<=", ">=", "<"
  double target;
};
std::span<const Target> targets();
bool meets(const Target& t, double v);

// Fields reported beside the targets, for comparison, with no target of their own.
struct InfoField {
  const char* field;
  const char* group;
};
std::span<const InfoField> infoFields();

// Where Redis is, for the raw baselines and the external tools (redis-cli, redis-benchmark).
struct RedisEndpoint {
  redis::RedisUrl url;
  QString transport() const;  // "unix" or "tcp"
  // redis-cli / redis-benchmark connection arguments (the password travels in REDISCLI_AUTH: env()).
  QStringList cliArgs() const;
  QProcessEnvironment env() const;
};

struct Run {
  Plan plan;
  CoreConfig config;
  RedisEndpoint redis;
  std::unique_ptr<TierCore> core;  // on config; REQUIRES: set before a scenario runs
  QJsonObject fields;   // field -> value
  QJsonObject details;  // group -> raw figures
  QJsonObject errors;   // group -> message (filled by the caller that catches a scenario's error)
  std::function<void(const QString&)> progress = [](const QString&) {};
  // Polled between repetitions: true ends the scenario with tier::Error "interrupted".
  std::function<bool()> interrupted = [] { return false; };
  void checkInterrupted() const;
};

// The scenarios in the order tierctl bench runs them; name = Target::group.
// Each throws tier::Error when it cannot run (a server refused, a tool missing).
struct Scenario {
  const char* name;
  void (*run)(Run&);
};
std::span<const Scenario> scenarios();

// A private redis-server + PostgreSQL in a temp folder, migrated and seeded;
// stopped and deleted when this goes out of scope (errors included).
class OwnServers {
 public:
  OwnServers(const sandbox::SeedOptions& seed, const std::function<void(const QString&)>& progress);
  ~OwnServers();
  OwnServers(const OwnServers&) = delete;
  OwnServers& operator=(const OwnServers&) = delete;
  const sandbox::SandboxStatus& status() const { return status_; }
  std::string redisSocket() const { return dir_ + "/redis/redis.sock"; }
  const std::string& dir() const { return dir_; }

 private:
  void cleanup() noexcept;
  std::string dir_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  sandbox::SandboxStatus status_;
};

// CPU, cores, kernel, load average, server versions, commit (TIER_BENCH_COMMIT or git).
QJsonObject machineJson(Run& run);

}  // namespace tier::bench
