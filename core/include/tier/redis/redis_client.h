#pragma once
// L2: a Redis client over hiredis with a connection pool, timeouts, reconnect
// with backoff and a circuit breaker.
//
// Thread-safety: a RedisClient is shared by all threads; every method may be
// called concurrently. Each call leases one pooled connection for its duration.
//
// Failure model: every method throws tier::Error (ConnectionError, TimeoutError,
// PermissionError for NOPERM/NOAUTH/WRONGPASS, DataError for other server error
// replies to commands that must not fail). While the breaker is open, calls fail
// at once with ConnectionError("circuit open") without touching the network, so
// an outage costs microseconds per call. Callers on the read path catch and go
// on to L3. A connection that saw an I/O error or timeout is closed, never
// reused (its reply stream is out of sync); an idle connection the server has
// closed is detected (poll) and replaced before use.
//
// Metrics (if set): one Op::RedisCommand latency per round trip (a pipeline is
// one), Counter::RedisError per connection/timeout failure, and
// Counter::BreakerOpenSkip per call refused by the open breaker. Callers must
// not count these again.
//
// Deployments (RedisUrl::mode):
// - Single: one server, one pool.
// - Cluster (redis+cluster://): the slot map comes from CLUSTER NODES (asked of
//   a known node, then of the seeds), is refreshed every few seconds, on a
//   MOVED and (rate-limited) after a node's network failure. Every node has its
//   own pool, breaker, backoff and script cache (the single-node machinery, per
//   node). command()/pipeline() route each command by the CRC16 hash slot of
//   its key (hash tags honoured) and reassemble replies in order; MOVED is
//   followed (map updated, command retried on the owner), ASK with ASKING;
//   DEL/UNLINK/EXISTS/TOUCH over keys of several slots are split per slot and
//   their counts summed. EVAL/EVALSHA go to the slot of their first key: a
//   script's keys must share a slot (use a hash tag). Other commands with
//   several keys must be same-slot (the server answers CROSSSLOT otherwise);
//   MULTI/EXEC is not supported on a cluster (a pipeline is split per node).
//   Keyless commands (PING, INFO, DBSIZE, SCAN...) go to ONE master: bulk work
//   runs per node with masters() + scanNode()/pipelineOn(). With
//   replica_reads=1, calls made with ReadFrom::Replica (inspection) send
//   GET/PTTL/STRLEN/EXISTS/GETRANGE of one key to a replica of the slot
//   (READONLY connection), falling back to the master if it fails. Every other
//   call reads masters: a replica lags, and the cache must never fill L1 from
//   a copy older than the one an invalidation has just removed.
//   A network failure of one node fails only the commands routed to it (the
//   whole call throws); the map is refreshed and, if their slot moved (a
//   failover), they are retried once on the new owner.
// - Sentinel (redis+sentinel://): the master is asked of the sentinels (each in
//   turn, SENTINEL get-master-addr-by-name), re-asked every 2 s and at once on
//   a network failure or a READONLY reply. Every new connection to the master
//   asks ROLE and refuses a node that is not one (a sentinel's answer can be
//   out of date; users without +role skip the check); when the answer changes (failover)
//   the call is retried once on the new master (so a command cut off mid-flight
//   may run twice: our writes are idempotent or harmless twice).
//
// Process-wide effect: the first Redis connection (tier/redis/connection.h) sets SIGPIPE to SIG_IGN if it is
// still SIG_DFL (hiredis writes with write(2); a reset peer must not kill us).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tier/redis/redis_url.h"
#include "tier/redis/reply.h"

namespace tier::metrics {
class Metrics;
}

namespace tier::redis {

struct RedisOptions {
  RedisUrl url;
  std::chrono::milliseconds connect_timeout{250};  // per connection attempt; 0 = wait forever (never use)
  std::chrono::milliseconds command_timeout{250};  // per command / pipeline read; 0 = wait forever
  int pool_size = 8;                               // max open connections
  std::chrono::milliseconds pool_wait{500};        // wait for a free connection, then TimeoutError; 0 = forever
  // Breaker: opens after `breaker_failures` consecutive connection/timeout
  // failures; stays open for `breaker_open`, then lets one probe through
  // (half-open); a success closes it. Only connect/I/O/timeout failures count;
  // any answer from the server (even an error reply) is a success. 0 = never opens.
  int breaker_failures = 3;
  std::chrono::milliseconds breaker_open{500};
  // Reconnect backoff: after a failed connect, new connections are not tried
  // for min, doubling up to max, reset by a successful connect. Meanwhile calls
  // that need a new connection fail at once with the last connect error (no
  // sleeping); idle pooled connections are still used; the breaker's probe
  // ignores the backoff. Pool-wide: a failed connect says the server, not one
  // slot, is unreachable.
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  std::string client_name = "tierconsole";  // CLIENT SETNAME
};

enum class BreakerState { Closed, Open, HalfOpen };
const char* toString(BreakerState s) noexcept;

// Where a read may be served (Cluster with replica_reads=1 only; elsewhere the
// master always answers). Replica: inspection, which may show a copy a
// replication delay old. Master: everything the cache acts on.
enum class ReadFrom { Master, Replica };

struct PoolStats {
  int size = 0;  // configured max
  int open = 0;  // connections currently open
  int in_use = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t commands = 0;  // commands answered (a pipeline of N counts N)
  std::uint64_t errors = 0;    // failed calls: network, timeout, auth/permission, pool exhausted
  BreakerState breaker = BreakerState::Closed;
  std::string last_error;  // redacted, empty if none
};

// One node of the deployment as topology() sees it (a plain value: the
// console's server panel lists these).
struct NodeInfo {
  std::string address;                     // "host:port" (or the socket path for a unix single node)
  std::string role;                        // "master", "replica" or "sentinel"
  std::string id;                          // cluster node id; empty otherwise
  std::string master;                      // replica: its master's address; empty otherwise
  std::vector<std::pair<int, int>> slots;  // cluster master: hash-slot ranges, inclusive
  int slot_count = 0;                      // cluster master: slots served
  std::string flags;                       // cluster: CLUSTER NODES flags (e.g. "master,fail?"); empty otherwise
  bool up = false;                         // answered PING (probe) / not flagged failed (no probe)
  double ping_ms = -1;                     // PING round trip; -1 = not probed or down
  long long keys = -1;                     // DBSIZE (probe, data nodes); -1 = unknown
  std::string error;                       // why it is down, one line, redacted
};

struct ScanPage {
  std::string cursor;  // "0" when the iteration is complete
  std::vector<std::string> keys;
};

class RedisClient {
 public:
  // Does not connect; the first call does (so construction never blocks).
  // The URL's connect_timeout_ms/command_timeout_ms override the options.
  // Throws BadInputError if pool_size < 1.
  // metrics may be null; if set, every command's latency is recorded as
  // metrics::Op::RedisCommand.
  explicit RedisClient(RedisOptions options, metrics::Metrics* metrics = nullptr);
  ~RedisClient();  // REQUIRES: no call in flight
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command. A server error reply is returned as Reply::Type::Error except
  // for permission errors (NOPERM, NOAUTH, WRONGPASS) which throw PermissionError.
  // REQUIRES: argv non-empty. Never use KEYS or blocking commands (BLPOP...) here.
  Reply command(const Command& argv);
  // Many commands in one round trip (pipelining). Replies in order. If any
  // reply is a permission error, all replies are read, then PermissionError.
  std::vector<Reply> pipeline(const std::vector<Command>& commands, ReadFrom from = ReadFrom::Master);
  // The same with arguments that point into caller-owned bytes (bulk paths:
  // nothing is copied before hiredis formats the request). REQUIRES: the
  // bytes outlive the call.
  std::vector<Reply> pipelineViews(const std::vector<std::vector<std::string_view>>& commands);

  // Convenience wrappers; an unexpected reply (error or wrong type) throws DataError.
  std::optional<std::string> get(std::string_view key, ReadFrom from = ReadFrom::Master);
  void set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl);  // ttl 0 = no expiry
  long long unlink(const std::vector<std::string>& keys);                                 // returns how many existed
  long long ttlMillis(std::string_view key);  // PTTL: -2 absent, -1 no expiry
  long long strlen(std::string_view key);
  // Cluster: a composite cursor walking every master in turn ("<cursor>@<host:port>");
  // ConnectionError if that node is no longer a master (start again). A walk
  // during a reshard can miss keys that moved to a master already walked
  // (ops::invalidate repeats its walk for that; see slotMapState()).
  ScanPage scan(std::string_view cursor, std::string_view match, int count);
  std::string info(std::string_view section = {});
  std::chrono::microseconds ping();  // round-trip time; throws on failure

  // ---- Deployment (cluster / sentinel) ----
  RedisMode mode() const noexcept;
  // Every node: Single -> the server; Cluster -> every node CLUSTER NODES
  // lists (masters first, by address); Sentinel -> the master, its replicas
  // (SENTINEL replicas) and the sentinels. probe = PING (and DBSIZE) each node.
  // Never throws for a node being down: that is the node's up/error.
  std::vector<NodeInfo> topology(bool probe = true);
  // The data masters to run per-node bulk work on (SCAN, DBSIZE): Single and
  // Sentinel -> the one master; Cluster -> every master with slots. Throws
  // ConnectionError if the cluster map cannot be loaded.
  std::vector<std::string> masters();
  // Commands sent to one node as they are (no routing; MOVED is returned as
  // an error reply): keyless and admin commands on a given node. `node` is an
  // address from masters()/topology(); BadInputError if unknown.
  std::vector<Reply> pipelineOn(const std::string& node, const std::vector<Command>& commands);
  // Cluster: which master serves which slots, as one master's CLUSTER NODES
  // says now, and whether a slot migration is under way. A per-node SCAN walk
  // that saw the same fingerprint before and after it, with no migration, saw
  // every key; otherwise keys may have moved to a node already scanned.
  // Single/Sentinel: empty, never migrating.
  struct SlotMapState {
    std::string fingerprint;
    bool migrating = false;
  };
  SlotMapState slotMapState();
  // SCAN on one node (cluster: each master holds only its slots' keys).
  ScanPage scanNode(const std::string& node, std::string_view cursor, std::string_view match, int count);
  // Sentinel: the master's address as last resolved (resolving it if needed);
  // Single: the server; Cluster: empty.
  std::string currentMaster();
  // A single-node URL of one live data node (Sentinel: the master, asked of
  // the sentinels again if the last answer is over 100 ms old; Cluster: a
  // master; Single: the URL): for dedicated connections (the backplane's
  // pub/sub, which a cluster broadcasts to every node). A Sentinel caller
  // should check ROLE on its connection, as the pools do.
  RedisUrl dataNodeUrl();
  // Redis Cluster hash slot of a key (CRC16/XMODEM of the key or of its first
  // non-empty {hash tag}, mod 16384).
  static int keySlot(std::string_view key) noexcept;

  // Connects once (if needed) and answers PING: used by health and on startup.
  bool isAvailable();
  PoolStats poolStats() const;  // Cluster/Sentinel: summed over the data nodes' pools
  // Cluster: Open only if every master's breaker is open (one node down does
  // not stop L2 for the others), HalfOpen if some are; Sentinel: the master's.
  BreakerState breakerState() const;
  const RedisOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::redis
