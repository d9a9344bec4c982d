#pragma once
// The sandbox: a private redis-server and PostgreSQL cluster in one data
// folder, on loopback ports, migrated and seeded with demo data. It is what the
// console and `tierctl --sandbox` use when no servers are configured.
//
// Layout of the folder: redis/ (redis.conf, pid, log, socket), pg/ (data/,
// log, socket), sandbox.json (the ports, so that a restart keeps the same
// URLs) and sandbox.lock (serialises up/down between processes).
//
// Security trade-off: the servers have no passwords. Redis listens on
// 127.0.0.1 (protected mode on) and on a 0700 socket; PostgreSQL trusts only
// its own role "tier", on 127.0.0.1 and on a 0700 socket. Any local user of
// this machine can therefore reach the sandbox over loopback. That is accepted
// for demo data on a developer machine; real data belongs on real servers with
// credentials (connection profiles).
//
// Thread-safety: none; one owner per object. Several processes may call up()
// and down() on one folder: a file lock serialises them.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tier/sandbox/seeder.h"

namespace tier::sandbox {

// GenericDataLocation/tierconsole/sandbox (~/.local/share/...); as root
// /var/lib/tierconsole/sandbox, because the postgres user (which PostgreSQL runs
// as when we are root) cannot enter /root.
std::string defaultSandboxDir();

struct SandboxOptions {
  std::string dir;             // data folder; empty = defaultSandboxDir()
  SeedOptions seed;            // demo data sizes, used when the database is empty
  bool seed_if_empty = true;   // false = migrate only
};

struct SandboxStatus {
  std::string dir;
  bool redis_running = false;
  bool postgres_running = false;
  int redis_port = 0;     // 0 = never started from this folder
  int postgres_port = 0;  // 0 = never started from this folder
  long redis_pid = 0;     // 0 = not running
  long postgres_pid = 0;  // 0 = not running
  std::string redis_url;     // redis://127.0.0.1:port/0 (empty if port is 0)
  std::string pg_conninfo;   // host=127.0.0.1 port=N dbname=tier user=tier
  std::string pg_uri;        // postgresql://tier@127.0.0.1:N/tier
};

// One step of up(): stage is "redis", "postgres", "migrate" or "seed"; for
// "seed", table/done/total come from the Seeder.
struct SandboxProgress {
  std::string stage;
  std::string message;  // one human-readable line
  std::string table;
  long long done = 0;
  long long total = 0;
};

struct SandboxUpResult {
  SandboxStatus status;
  bool redis_reused = false;     // it was already running from this folder
  bool postgres_reused = false;
  std::vector<std::string> migrations_applied;
  std::optional<SeedResult> seeded;  // set if this call seeded the database
};

class Sandbox {
 public:
  explicit Sandbox(SandboxOptions options = {});

  // Starts (or reuses) both servers, migrates, marks the database as the
  // sandbox (ops/deployment.h: the synthetic load writes only to a marked
  // database), seeds if the database is empty.
  // Idempotent. Progress is reported on the calling thread. Throws tier::Error;
  // servers started by this call are left running on failure (down() stops
  // them), so that a failed seed can be inspected.
  SandboxUpResult up(const std::function<void(const SandboxProgress&)>& progress = {});
  // Stops both servers if running; keeps the data. Idempotent.
  void down();
  // What runs from the folder; starts nothing, connects to nothing.
  SandboxStatus status() const;
  const std::string& dir() const noexcept { return dir_; }

 private:
  SandboxOptions opt_;
  std::string dir_;
};

}  // namespace tier::sandbox
