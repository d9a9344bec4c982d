#pragma once
// Internal (core/src/redis only): RedisClient's state and the functions of its
// three deployments, defined in three files:
//   redis_client.cpp     the node pools by address, dispatch, topology, the public API
//   cluster_routing.cpp  the slot map (CLUSTER NODES), routing by hash slot,
//                        MOVED / ASK / TRYAGAIN, per-slot splits of multi-key commands
//   sentinel.cpp         the master as the sentinels name it, re-asked on failures
// Each server's pool, breaker and script cache is a RedisNodePool (node_pool.h);
// the pure cluster helpers are in cluster_nodes.h.
//
// Thread-safety: as RedisClient (every member may be called concurrently):
// nodes_mu guards the pool maps, map_mu the cluster map and the Sentinel master,
// refresh_mu / resolve_mu let one thread at a time ask the servers.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "redis/batch.h"
#include "redis/cluster_nodes.h"
#include "redis/node_pool.h"
#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/redis/redis_client.h"

namespace tier::redis {

namespace client_detail {

inline constexpr std::chrono::milliseconds kClusterRefreshEvery{5000};
inline constexpr std::chrono::milliseconds kClusterRefreshMinGap{200};
inline constexpr std::chrono::milliseconds kSentinelResolveEvery{2000};
inline constexpr std::chrono::milliseconds kSentinelResolveMinGap{100};
inline constexpr int kMaxRedirects = 5;

inline bool isNetwork(const Error& e) {
  return e.kind() == ErrorKind::Connection || e.kind() == ErrorKind::Timeout;
}

}  // namespace client_detail

struct RedisClient::Impl {
  using Clock = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;

  RedisOptions opt;
  metrics::Metrics* metrics;
  RedisMode mode;
  std::unique_ptr<RedisNodePool> single;

  mutable Mutex nodes_mu;
  // Pools are created on first need and never removed (pointers stay valid).
  std::map<std::string, std::unique_ptr<RedisNodePool>> data_nodes TIER_GUARDED_BY(nodes_mu);  // "host:port"
  std::map<std::string, std::unique_ptr<RedisNodePool>> replica_nodes TIER_GUARDED_BY(nodes_mu);  // READONLY pools
  std::map<std::string, std::unique_ptr<RedisNodePool>> sentinel_nodes TIER_GUARDED_BY(nodes_mu);
  // Sentinel: the master's replicas, for topology probes and pipelineOn (no
  // ROLE check: these are not used as the master).
  std::map<std::string, std::unique_ptr<RedisNodePool>> sentinel_replicas TIER_GUARDED_BY(nodes_mu);

  // Cluster map, guarded by map_mu.
  mutable SharedMutex map_mu;
  std::vector<RedisNodePool*> slot_owner TIER_GUARDED_BY(map_mu) = std::vector<RedisNodePool*>(cluster::kSlots, nullptr);
  std::vector<Clock::time_point> moved_at TIER_GUARDED_BY(map_mu) = std::vector<Clock::time_point>(cluster::kSlots);  // last MOVED per slot
  std::map<RedisNodePool*, std::vector<RedisNodePool*>> replicas_of TIER_GUARDED_BY(map_mu);  // master -> READONLY pools
  std::vector<cluster::ClusterLine> cluster_lines TIER_GUARDED_BY(map_mu);
  Clock::time_point refreshed_at TIER_GUARDED_BY(map_mu){};
  bool stale TIER_GUARDED_BY(map_mu) = true;
  Mutex refresh_mu;  // one refresh at a time
  std::atomic<unsigned> round_robin{0};

  // Sentinel, guarded by map_mu.
  RedisNodePool* master TIER_GUARDED_BY(map_mu) = nullptr;
  HostPort master_addr TIER_GUARDED_BY(map_mu);
  Clock::time_point resolved_at TIER_GUARDED_BY(map_mu){};
  std::size_t good_sentinel TIER_GUARDED_BY(map_mu) = 0;
  Mutex resolve_mu;  // one Sentinel resolution at a time

  Impl(RedisOptions o, metrics::Metrics* m) : opt(std::move(o)), metrics(m), mode(opt.url.mode) {
    if (mode == RedisMode::Single) single = std::make_unique<RedisNodePool>(opt, metrics);
  }

  // The pool map of each kind of node, and the pool for key in it (made on first need).
  enum class PoolKind { Data, Replica, Sentinel, SentinelReplica };
  std::map<std::string, std::unique_ptr<RedisNodePool>>& pools(PoolKind kind) TIER_REQUIRES(nodes_mu);
  RedisNodePool* pool(PoolKind kind, const std::string& key, const RedisOptions& o, bool ro,
                      bool verifyMaster = false);
  RedisNodePool* dataNode(const HostPort& hp);
  RedisNodePool* replicaNode(const HostPort& hp);
  RedisNodePool* sentinelNode(const HostPort& hp);
  RedisNodePool* sentinelReplica(const HostPort& hp);
  RedisNodePool* findData(const std::string& address);

  // ---- Cluster map ----

  // Loads the map from the first node that answers. force: wait for the
  // refresh lock (the map is needed now); else skip if another thread refreshes.
  void refreshCluster(bool force);

  // asked: when the refresh began. A MOVED learned after it is fresher than
  // the node's answer, which may predate that move: the MOVED's owner stays.
  bool install(std::vector<cluster::ClusterLine> lines, Clock::time_point asked);

  void ensureMap();

  void markStale();

  RedisNodePool* ownerOf(int slot) const;

  // Keyless commands: the first master (by address) not flagged failed whose
  // breaker is not open.
  RedisNodePool* anyMaster();

  struct Part {
    std::size_t orig = 0;
    int slot = -1;  // -1: keyless
    std::vector<std::string_view> argv;
    RedisNodePool* pinned = nullptr;  // ASK target
    bool asking = false;
    bool no_replica = false;
    Reply last;  // the redirect seen last, delivered if redirects run out
  };

  // replicaOk: replica_reads may send this batch's plain reads to replicas
  // (inspection); the cache's own reads and fills never (ReadFrom::Master).
  std::vector<Reply> executeCluster(const Batch& batch, std::string_view what, bool replicaOk);

  void deliver(const Part& p, Reply&& r, std::vector<Reply>& out, const std::vector<char>& summed);

  void runParts(std::vector<Part>& parts, std::vector<Reply>& out, const std::vector<char>& summed,
                std::string_view what, int depth);

  // ---- Sentinel ----

  RedisNodePool* sentinelMaster(bool force);

  std::vector<Reply> executeSentinel(const Batch& batch, std::string_view what);

  // ---- Dispatch ----

  std::vector<Reply> execute(Batch& batch, std::string_view what, ReadFrom from = ReadFrom::Master);

  Reply one(Batch& batch);

  // `cmd key` answering an integer (PTTL, STRLEN).
  long long integerCommand(std::string_view cmd, std::string_view key);

  RedisNodePool* nodeFor(const std::string& address);

  std::vector<std::string> masterList();

  static void probe(RedisNodePool* n, NodeInfo& info, bool data);

  std::vector<NodeInfo> topology(bool doProbe);
};

}  // namespace tier::redis
