#pragma once
// Read routing between the PostgreSQL primary and an optional streaming
// replica (a hot standby). Reads that may leave the primary (session
// inspection, mood analytics, warming) go through ReadRouter::read(); writes,
// the audit table and the ordinary cache-fill path use the primary PgPool.
//
// Read-your-writes: a routed read first asks the primary for its WAL insert
// position (one trivial query) and is served by the replica only once the
// replica has replayed that far, waiting at most ReplicaOptions::max_lag. A
// routed read therefore sees every write acknowledged before it started, from
// this instance or any other, and a value it puts in the cache is never older
// than the primary's was.
//
// Fallback: replica unreachable (then skipped for retry_after), behind beyond
// max_lag, not a standby, or the query failing there: the primary serves the
// read, counted as metrics::Counter::ReplicaFallback. The replica's failures
// never reach the caller; the primary's do, exactly as without a replica.
//
// Thread-safety: every method is safe from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tier/pg/pg_pool.h"

namespace tier::pg {

struct ReplicaOptions {
  std::string conninfo;  // libpq conninfo or URI of a hot standby; empty = no replica, every read on the primary
  int pool_size = 4;     // max connections to the replica (>= 1)
  // How long a routed read waits for the replica to replay what the primary
  // had written when the read began, before the primary serves it instead.
  // 0 = no wait: only a replica already caught up serves.
  std::chrono::milliseconds max_lag{250};
  // After the replica could not be reached, routed reads skip it this long
  // (no connect timeout paid per read). 0 = try it on every read.
  std::chrono::milliseconds retry_after{5000};
};

struct ReplicaRoutingStats {
  bool configured = false;
  std::uint64_t replica_reads = 0;   // routed reads the replica served
  std::uint64_t primary_reads = 0;   // routed reads the primary served (no replica, or a fallback below)
  std::uint64_t fallback_down = 0;   // ...because the replica was unreachable, or skipped after that
  std::uint64_t fallback_lag = 0;    // ...because it had not replayed the primary's position within max_lag
  std::uint64_t fallback_error = 0;  // ...because the query failed there, or it is not a standby
  std::string last_error;            // the replica's last failure, one line, redacted; empty if none
  PoolStats pool;                    // the replica's pool
};

class ReadRouter {
 public:
  enum class Served { Primary, Replica };

  // `primary` must outlive the router. `base` supplies timeouts and the
  // application name for the replica's pool (its conninfo and pool_size come
  // from `options`). metrics may be null. Does not connect.
  ReadRouter(PgPool& primary, ReplicaOptions options, const PgOptions& base, metrics::Metrics* metrics);
  ~ReadRouter();
  ReadRouter(const ReadRouter&) = delete;
  ReadRouter& operator=(const ReadRouter&) = delete;

  bool hasReplica() const noexcept;
  // Runs fn on a replica connection when the rules above allow, else on a
  // primary connection, and says which served. REQUIRES: fn only reads and may
  // run twice (on the replica, failing midway, then on the primary). Throws
  // what the primary throws; never the replica's errors.
  Served read(const std::function<void(Connection&)>& fn);

  ReplicaRoutingStats stats() const;
  PgPool* replica() noexcept;  // null without a replica
  const ReplicaOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::pg
