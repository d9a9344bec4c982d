#pragma once
// How many worker threads a load runs when nobody says: the CPUs this process
// may run on, minus one for each cache server (Redis, PostgreSQL) that runs on
// this host too, at least 1. More blocking workers than free CPUs measure the
// scheduler's preemption (a worker descheduled mid-operation), not the core;
// a local server needs a CPU to answer while a worker waits on it.
//
// "On this host": a unix socket, a loopback name or address (localhost,
// 127.0.0.0/8, ::1), this machine's host name, or an address of one of its
// network interfaces. No name is resolved (no DNS), so a remote-looking name
// that points back here counts as remote.
//
// One rule for `tierctl load` / `tierctl stats`, the bench's load block and the
// console's load, so a number in one is comparable with the others.
#include <string>

namespace tier {
struct CoreConfig;
}

namespace tier::workload {

struct ThreadChoice {
  int threads = 1;
  // One line saying where the number comes from, e.g. "default: 2 CPUs minus 1
  // each for the Redis and PostgreSQL servers on this host, at least 1".
  std::string reason;
};

// The rule itself, for given facts (pure; for tests and for explaining).
// cpus < 1 is treated as 1.
ThreadChoice defaultThreads(int cpus, bool redisOnHost, bool postgresOnHost);
// The rule for a core's configuration (redis_url, pg_conninfo) on this machine.
// Does no network I/O.
ThreadChoice defaultThreads(const CoreConfig& config);

// The CPUs this process may run on (its affinity mask), at least 1.
int usableCpus();
// Whether the server of a Redis URL / libpq conninfo (or URI) runs on this host
// (see the header comment). An empty or unparsable Redis URL is false (no
// Redis); an empty conninfo is libpq's default from PGHOST/PGHOSTADDR, else the
// local unix socket: true.
bool redisOnThisHost(const std::string& redisUrl);
bool postgresOnThisHost(const std::string& conninfo);

}  // namespace tier::workload
