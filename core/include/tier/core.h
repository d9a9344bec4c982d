#pragma once
// TierCore: one connection profile's worth of core — metrics, the three tiers,
// the repositories and the operations — wired together. The CLI and the GUI
// each hold one.
//
// Thread-safety: every accessor and every object it returns is safe to use from
// any thread. Construction does not connect (it never blocks on the network);
// connections are opened lazily by the first call that needs them.
#include <memory>
#include <string>

#include "tier/common/config.h"
#include "tier/fleet/publisher.h"
#include "tier/l1/l1_cache.h"
#include "tier/metrics/metrics.h"
#include "tier/ops/session_sweeper.h"
#include "tier/pg/pg_pool.h"
#include "tier/pg/read_router.h"
#include "tier/redis/redis_client.h"
#include "tier/redis/redis_view.h"
#include "tier/cache/backplane.h"
#include "tier/repo/repositories.h"
#include "tier/cache/tiered_cache.h"

namespace tier {

namespace internal {
struct TierAccess;  // tier/internal/tier_access.h
}

struct CoreConfig {
  std::string profile = "default";  // name recorded in the audit table
  std::string redis_url;            // empty = no L2 (L1 + L3 only)
  std::string pg_conninfo;          // libpq conninfo or URI; empty = PG* environment
  l1::L1Options l1;
  redis::RedisOptions redis;        // url is filled from redis_url
  pg::PgOptions pg;                 // conninfo is filled from pg_conninfo
  // A read-only streaming replica for inspection, analytics and warming reads
  // (pg/read_router.h); empty = none. Writes and audit always use pg_conninfo.
  std::string pg_replica_conninfo;
  pg::ReplicaOptions pg_replica;  // conninfo is filled from pg_replica_conninfo
  CachePolicies policies;
  // Cross-instance L1 invalidation over Redis pub/sub; ignored without Redis.
  cache::BackplaneOptions backplane;
  Thresholds thresholds;
  // Fleet telemetry (fleet/publisher.h): on by default whenever Redis is
  // configured; enabled = false (metrics_publish=false, --no-publish) turns it off.
  fleet::PublisherOptions fleet;
  int session_recent_messages = repo::SessionRepository::kDefaultRecentMessages;
  // Background expiry of idle sessions (ops/session_sweeper.h): off unless
  // enabled (the console turns it on); one instance per database sweeps.
  ops::SessionSweeperOptions session_sweeper;
};

class TierCore {
 public:
  // Throws BadInputError for a malformed Redis URL or conninfo (before any I/O).
  explicit TierCore(CoreConfig config);
  ~TierCore();
  TierCore(const TierCore&) = delete;
  TierCore& operator=(const TierCore&) = delete;

  const CoreConfig& config() const noexcept;
  metrics::Metrics& metrics() noexcept;
  // The tiers are not handed out for change: every change to L1 or L2 goes
  // through cache() (its write epochs, settle step and backplane keep the
  // ordering promises of cache/tiered_cache.h). What callers get is a look.
  const l1::L1Cache& l1() const noexcept;
  bool hasRedis() const noexcept;  // false when no Redis URL was configured
  // Read-only commands only (redis/redis_view.h); configured() == hasRedis().
  const redis::RedisReadView& redis() const noexcept;
  // The database (the source of truth): reads, migrations and the audit. A
  // change to a cached table goes through the repositories, which invalidate.
  pg::PgPool& pg() noexcept;
  // Routes the reads that may leave the primary; without a replica it runs them on pg().
  pg::ReadRouter& reads() noexcept;
  cache::TieredCache& cache() noexcept;
  // Null when there is no Redis or config.backplane.enabled is false.
  cache::Backplane* backplane() noexcept;
  // Null when there is no Redis or config.fleet.enabled is false.
  const fleet::Publisher* publisher() const noexcept;
  // Null unless config.session_sweeper.enabled.
  ops::SessionSweeper* sessionSweeper() noexcept;

  repo::UserRepository& users() noexcept;
  repo::JournalRepository& entries() noexcept;
  repo::SessionRepository& sessions() noexcept;
  repo::KnowledgeRepository& knowledge() noexcept;
  repo::AnalyticsRepository& analytics() noexcept;

 private:
  friend struct internal::TierAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier
