#include "tier/pg/read_router.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/metrics/metrics.h"

namespace tier::pg {
namespace {

using Clock = std::chrono::steady_clock;

bool unreachable(const Error& e) {
  return e.kind() == ErrorKind::Connection || e.kind() == ErrorKind::Timeout || e.kind() == ErrorKind::Permission;
}

}  // namespace

struct ReadRouter::Impl {
  PgPool& primary;
  ReplicaOptions options;
  metrics::Metrics* metrics;
  std::unique_ptr<PgPool> replica;  // null without a replica

  std::atomic<std::uint64_t> replica_reads{0}, primary_reads{0}, fallback_down{0}, fallback_lag{0}, fallback_error{0};
  std::atomic<std::int64_t> skip_until_ns{0};  // Clock time before which the replica is not tried
  mutable Mutex mutex;
  std::string last_error TIER_GUARDED_BY(mutex);

  Impl(PgPool& p, ReplicaOptions o, const PgOptions& base, metrics::Metrics* m)
      : primary(p), options(std::move(o)), metrics(m) {
    if (options.conninfo.empty()) return;
    PgOptions r = base;
    r.conninfo = options.conninfo;
    r.pool_size = std::max(1, options.pool_size);
    replica = std::make_unique<PgPool>(std::move(r), m);
  }

  void fellBack(std::atomic<std::uint64_t>& reason, const std::string& why) {
    reason.fetch_add(1, std::memory_order_relaxed);
    if (metrics) metrics->count(metrics::Counter::ReplicaFallback);
    if (!why.empty()) {
      MutexLock lock(mutex);
      last_error = redactSecrets(why);
    }
  }

  void markDown() {
    const auto until = Clock::now() + options.retry_after;
    skip_until_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count(),
                        std::memory_order_relaxed);
  }

  bool skipped() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count() <
           skip_until_ns.load(std::memory_order_relaxed);
  }

  // True if fn ran on the replica; false if the primary should serve it.
  bool tryReplica(const std::function<void(Connection&)>& fn) {
    if (skipped()) {
      fellBack(fallback_down, {});
      return false;
    }
    // Where the primary is now: everything acknowledged so far is before this position.
    std::string lsn;
    try {
      auto c = primary.acquire();
      lsn = std::string(
          c->execPrepared("tier_router_primary_lsn", "SELECT pg_current_wal_insert_lsn()::text").value(0, 0));
    } catch (const Error& e) {
      if (unreachable(e)) throw;  // the primary cannot serve the read either: the caller gets its error
      fellBack(fallback_error, std::string("primary WAL position: ") + e.what());
      return false;
    }
    try {
      auto c = replica->acquire();
      const auto deadline = Clock::now() + options.max_lag;
      auto pause = std::chrono::milliseconds(1);
      while (true) {
        auto r = c->execPrepared("tier_router_replayed",
                                 "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= $1::pg_lsn", {lsn});
        if (r.value(0, 0) != "t") {
          fellBack(fallback_error, "the replica is not a standby (pg_is_in_recovery() is false)");
          return false;
        }
        if (r.value(0, 1) == "t") break;
        if (Clock::now() + pause > deadline) {
          fellBack(fallback_lag, {});
          return false;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
      }
      fn(*c);
      replica_reads.fetch_add(1, std::memory_order_relaxed);
      if (metrics) metrics->count(metrics::Counter::ReplicaRead);
      return true;
    } catch (const Error& e) {
      if (unreachable(e)) {
        markDown();
        fellBack(fallback_down, std::string("replica: ") + e.what());
      } else {
        fellBack(fallback_error, std::string("replica: ") + e.what());
      }
      return false;
    }
  }
};

ReadRouter::ReadRouter(PgPool& primary, ReplicaOptions options, const PgOptions& base, metrics::Metrics* metrics)
    : impl_(std::make_unique<Impl>(primary, std::move(options), base, metrics)) {}
ReadRouter::~ReadRouter() = default;

bool ReadRouter::hasReplica() const noexcept {
  return impl_->replica != nullptr;
}
PgPool* ReadRouter::replica() noexcept {
  return impl_->replica.get();
}
const ReplicaOptions& ReadRouter::options() const noexcept {
  return impl_->options;
}

ReadRouter::Served ReadRouter::read(const std::function<void(Connection&)>& fn) {
  if (impl_->replica && impl_->tryReplica(fn)) return Served::Replica;
  impl_->primary_reads.fetch_add(1, std::memory_order_relaxed);
  auto c = impl_->primary.acquire();
  fn(*c);
  return Served::Primary;
}

ReplicaRoutingStats ReadRouter::stats() const {
  ReplicaRoutingStats s;
  s.configured = impl_->replica != nullptr;
  s.replica_reads = impl_->replica_reads.load(std::memory_order_relaxed);
  s.primary_reads = impl_->primary_reads.load(std::memory_order_relaxed);
  s.fallback_down = impl_->fallback_down.load(std::memory_order_relaxed);
  s.fallback_lag = impl_->fallback_lag.load(std::memory_order_relaxed);
  s.fallback_error = impl_->fallback_error.load(std::memory_order_relaxed);
  {
    MutexLock lock(impl_->mutex);
    s.last_error = impl_->last_error;
  }
  if (impl_->replica) s.pool = impl_->replica->stats();
  return s;
}

}  // namespace tier::pg
