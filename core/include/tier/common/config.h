#pragma once
// Configuration values with the brief's defaults. Plain structs: copy freely.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tier {

// Phase 0B thresholds. A latency metric is `ok` below warn_ratio * limit,
// `warn` up to the limit and `violation` above it; hit rate is mirrored
// (`ok` above limit + (1 - limit) * (1 - warn_ratio)... see metrics/thresholds.h).
struct Thresholds {
  double hit_rate_min = 0.80;          // fraction 0..1, L1+L2 hits over all reads
  double redis_p99_ms = 5.0;           // Redis command latency p99
  double session_p99_ms = 10.0;        // session + recent messages retrieval p99
  double db_query_p99_ms = 50.0;       // PostgreSQL query p99
  double knowledge_p99_ms = 2.0;       // psychology-knowledge lookup p99
  double warn_ratio = 0.8;             // share of a limit at which a metric turns amber
};

// Per-namespace cache policy. TTL 0 means "no expiry" (never used by defaults).
struct NamespacePolicy {
  std::chrono::seconds ttl{3600};
  double ttl_jitter = 0.10;  // each TTL is randomised by +-jitter*ttl to spread expiries
};

struct CachePolicies {
  NamespacePolicy entry{std::chrono::seconds(3600)};
  NamespacePolicy session{std::chrono::seconds(7200)};
  NamespacePolicy user{std::chrono::seconds(7200)};
  NamespacePolicy stats{std::chrono::seconds(900)};
  NamespacePolicy knowledge{std::chrono::seconds(86400)};
  // Search results: short, since only entry writes through the repositories
  // change their generation (a DBA's UPDATE at psql does not).
  NamespacePolicy search{std::chrono::seconds(60)};
  // L1 keeps a copy at most this long, whatever the namespace TTL, so that
  // another instance's write is seen within this bound even without the
  // invalidation backplane. 0 = the namespace TTL.
  std::chrono::seconds l1_max_ttl{30};
  // The same cap while the invalidation backplane (cache/backplane.h) is
  // linked: other instances' writes then reach L1 as messages, and this cap
  // only bounds what a writer that does not publish could leave. 0 = the namespace TTL.
  std::chrono::seconds l1_max_ttl_linked{300};
  // Serve-stale: a cached copy stays held this long past its TTL, and is
  // served (marked stale, counted as metrics::Counter::StaleServed) only when
  // PostgreSQL cannot be reached (connection or timeout error) to refresh it.
  // 0 = copies vanish at their TTL and an unreachable database fails the read.
  std::chrono::seconds max_stale{300};
};

}  // namespace tier
