#pragma once
// Server health, for `tierctl health` and the console's server panel.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tier/fleet/publisher.h"
#include "tier/pg/pg_pool.h"
#include "tier/pg/read_router.h"
#include "tier/redis/redis_client.h"
#include "tier/cache/backplane.h"

namespace tier {
class TierCore;
}

namespace tier::ops {

// One SLOWLOG entry, ready to show: the command is masked (redactCommand) and
// shortened (formatSlowlogCommand), so no consumer sees a secret or a 500 KB value.
struct SlowlogEntry {
  long long id = 0;           // the server's entry id (per node)
  long long at_ms = 0;        // when the command ran, unix ms (the server's clock, second resolution)
  long long duration_us = 0;  // execution time, microseconds
  std::string command;        // "SET key value …", masked and truncated
  std::string client;         // "ip:port" of the client (empty before Redis 4)
  std::string client_name;    // CLIENT SETNAME, often empty
  std::string node;           // the server that logged it ("host:port")
};

// SLOWLOG argument display limits: each argument is cut to this many bytes
// (plus "…"), and arguments after this many become "… (+N more)".
inline constexpr std::size_t kSlowlogMaxArgBytes = 64;
inline constexpr std::size_t kSlowlogMaxArgs = 8;

// argv (argv[0] = the command) masked with redactCommand, each argument cut to
// kSlowlogMaxArgBytes, at most kSlowlogMaxArgs shown; arguments with blanks,
// quotes or nothing in them are double-quoted, unprintable bytes as \xHH.
std::string formatSlowlogCommand(const std::vector<std::string>& argv);

struct RedisHealth {
  bool configured = false;
  bool ok = false;
  std::string error;         // one line, redacted
  std::string endpoint;      // host:port or socket (no password)
  std::string version;
  double latency_ms = 0;     // PING round trip
  long long used_memory = 0;
  std::string used_memory_human;
  long long connected_clients = 0;
  long long keyspace_hits = 0;
  long long keyspace_misses = 0;
  long long evicted_keys = 0;
  long long db_keys = 0;           // keys in our database
  std::string latencystats;        // INFO latencystats section (raw text)
  long long slowlog_len = 0;
  // SLOWLOG GET 128 on every data node (cluster: masters and replicas; Sentinel:
  // the master and replicas), newest first. Read-only; an ACL user without
  // SLOWLOG gets slowlog_error and no entries, health stays ok.
  std::vector<SlowlogEntry> slowlog;
  std::string slowlog_error;  // why entries are missing (one line), empty if read
  // CONFIG GET slowlog-log-slower-than (microseconds; negative = logging off,
  // 0 = every command). On a cluster the first node's; see slowlog_threshold_varies.
  bool slowlog_threshold_known = false;
  long long slowlog_log_slower_than_us = 0;
  bool slowlog_threshold_varies = false;  // nodes disagree
  std::string slowlog_threshold_error;    // e.g. "CONFIG not permitted"; empty if known
  std::string latency_latest;      // LATENCY LATEST rendered one event per line
  redis::PoolStats pool;
  // Deployment (issue 6). mode: "single", "cluster" or "sentinel". master:
  // Sentinel -> the master's "host:port" as the sentinels name it now; Single
  // -> the server; Cluster -> empty (see nodes). nodes: every node, probed
  // (PING + DBSIZE; RedisClient::topology): a cluster's masters and replicas
  // with their slots, or the Sentinel master, replicas and sentinels. In a
  // cluster db_keys is the sum over the masters and the INFO fields are one
  // master's; nodes_down counts data nodes (and sentinels) that did not answer.
  std::string mode = "single";
  std::string master;
  std::vector<redis::NodeInfo> nodes;
  int nodes_down = 0;
};

struct PostgresHealth {
  bool ok = false;
  std::string error;
  std::string endpoint;      // redacted conninfo
  std::string version;
  double latency_ms = 0;     // SELECT 1 round trip
  double cache_hit_ratio = 0;  // blks_hit / (blks_hit + blks_read) for our database
  long long connections = 0;   // backends connected to our database
  long long max_connections = 0;
  std::string role;
  int schema_version = 0;
  pg::PoolStats pool;
};

// The optional read replica (CoreConfig::pg_replica_conninfo). Down or behind
// is not a failure of the core: routed reads then go to the primary.
struct ReplicaHealth {
  bool configured = false;
  bool ok = false;        // reachable and a hot standby (pg_is_in_recovery())
  std::string error;      // one line, redacted
  std::string endpoint;   // redacted conninfo
  double latency_ms = 0;  // round trip of the status query
  // WAL the replica has still to replay: the primary's pg_current_wal_insert_lsn()
  // minus the replica's pg_last_wal_replay_lsn(), in bytes. -1 = unknown.
  long long lag_bytes = -1;
  // now() - pg_last_xact_replay_timestamp() on the replica, in seconds; 0 when
  // it has replayed all it received (an idle primary is not lag). -1 = unknown.
  double lag_seconds = -1;
  pg::ReplicaRoutingStats routing;  // where routed reads went, and why not the replica
};

struct HealthReport {
  RedisHealth redis;
  PostgresHealth postgres;
  // Cross-instance L1 invalidation (enabled = false: none, L1 capped by
  // CachePolicies::l1_max_ttl). link "up" is the only state in which L1 serves
  // with the longer cap; "down"/"connecting" bypass L1 (see cache/backplane.h).
  cache::BackplaneStats backplane;
  ReplicaHealth replica;
  // Fleet telemetry (fleet/publisher.h): publishing false = off (no Redis,
  // or turned off); failed/refused publishes never affect reads and writes.
  bool fleet_publishing = false;
  fleet::PublisherStats fleet_publisher;
};

// Never throws for a server being down: that is reported in ok/error.
HealthReport checkHealth(TierCore& core);

}  // namespace tier::ops
