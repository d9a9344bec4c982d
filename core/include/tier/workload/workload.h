#pragma once
// The synthetic workload: virtual users doing what the platform's users do,
// through the repositories, verifying what they read.
//
// Each worker thread plays its share of the virtual users; each operation picks
// a user, entry or session from a Zipf distribution (so a few are hot, as in
// production) and one of the operation kinds by weight. It verifies every read:
// `failed_reads` counts reads that threw; `stale_reads` counts reads that
// returned a version older than the last write this process acknowledged for
// that item before the read began.
//
// Virtual users: virtual user i is played by worker thread i % threads and has
// a home user (Zipf-chosen, so a few users are heavy) whose mood analytics it
// reads. A virtual user does one operation, then thinks for `think_time` (0 =
// not at all) before its next one. A worker runs one operation at a time, so
// with no think time the concurrency is min(threads, virtual_users) and the
// population only spreads the analytics reads; with think time, more users
// mean more load, as with real users. setVirtualUsers() takes effect at once;
// 0 pauses every worker.
//
// Item spaces (loaded by start()): journal entries and users by their id range
// (a missing id is a clean miss, not a failure), sessions from the active ones
// (at most 20,000, so that appends land on sessions that accept them), and the
// knowledge slugs. Each rank of the Zipf distribution maps to an item through a
// fixed, seeded permutation, so the hot set is spread over the id range.
//
// Write policy (issue 13: the synthetic load changes no real data). start()
// decides, once per run, what the load may write, and reports it
// (WorkloadCounters::write_mode, write_mode_reason):
// - "sandbox": the database carries this cluster's sandbox mark
//   (ops/deployment.h): the demo; edits and appends go to any row.
// - "read-only" (the default anywhere else): entry reads, session retrievals,
//   knowledge lookups, mood analytics and searches only; no row changes. Also
//   what a PostgreSQL role or Redis user without write rights gets (the
//   capabilities say so; it is not an error), and a mix without write weights.
// - "synthetic": with consent (WorkloadOptions::allow_writes) on a database
//   that is not a sandbox, the run registers itself in tier_load_runs (holding
//   an advisory lock for as long as it lives), creates its own users
//   (load-<run_id>-<n>@synthetic.invalid) with entries and sessions, edits and
//   appends only to those, and deletes them again in stop() (their cache copies
//   invalidated through TieredCache). cleanupSyntheticRuns() removes what a
//   run that died (SIGKILL) left.
// Every run with an audit_action writes a cache_audit row at start
// (<action>.start) and at the end (<action>.end) with the counters.
//
// Thread-safety: every method may be called from any thread, concurrently.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tier/metrics/metrics.h"
#include "tier/workload/mix.h"

namespace tier {
class TierCore;
}

namespace tier::workload {

enum class WriteMode { ReadOnly, Sandbox, Synthetic };
const char* toString(WriteMode m) noexcept;  // "read-only" | "sandbox" | "synthetic"

struct WorkloadOptions {
  int virtual_users = 1000;           // >= 0; see the header comment for what a virtual user is
  std::chrono::seconds duration{60};  // 0 = until stop()
  double rate = 0;                    // target operations/s over all users; 0 = as fast as the workers go
  int threads = 8;                    // worker threads, >= 1
  double zipf_s = 0.99;               // skew of item choice, >= 0 (0 = uniform)
  // Pause of each virtual user between two of its operations (uniformly
  // jittered by +-50 %); 0 = none.
  std::chrono::milliseconds think_time{0};
  // Scheduling niceness of the worker threads (Linux; 0 = unchanged, 1..19 =
  // yield to everything else). A console running the demo load sets it so the
  // load never starves the window that charts it.
  int nice = 0;
  Mix mix;
  std::uint64_t seed = 1;
  // Consent to write on a database that is not a sandbox: then only to the
  // synthetic rows the run creates and removes itself (see the header comment).
  // Ignored on the sandbox, which is written anyway.
  bool allow_writes = false;
  // The audit rows' action prefix ("load" -> load.start, load.end); empty = none.
  std::string audit_action = "load";
};

struct WorkloadCounters {
  std::uint64_t operations = 0;      // workload operations done (an entry edit is one: a read and a write)
  std::uint64_t reads = 0;           // repository reads that returned (found or not)
  std::uint64_t misses = 0;          // of those, the ones that found nothing (deleted or sparse ids)
  std::uint64_t searches = 0;        // full-text searches that returned (database queries, not cache reads)
  std::uint64_t writes = 0;          // acknowledged writes
  std::uint64_t skipped_writes = 0;  // writes refused legitimately: session no longer active, entry deleted
  std::uint64_t failed_reads = 0;
  std::uint64_t failed_writes = 0;
  std::uint64_t stale_reads = 0;
  std::uint64_t errors = 0;  // failed reads + failed writes
  double elapsed_s = 0;      // since start(), until the workers finished
  std::string last_error;    // the most recent failure or stale read, in one line; empty if none
  // Set by start() (empty before): toString(WriteMode), and why, one of
  // "writes: sandbox", "writes: synthetic rows only (consented)",
  // "read-only: not a sandbox database", "read-only: PostgreSQL role may not write",
  // "read-only: Redis user may not write", "read-only: the mix has no writes".
  std::string write_mode;
  std::string write_mode_reason;
  std::string write_mode_detail;  // the full sentence behind the reason (which mark, which privilege)
  double write_share = 0;         // the share of operations that write in this mode (0 when read-only)
  std::string run_id;             // synthetic runs: the tier_load_runs row; empty otherwise
  std::uint64_t synthetic_rows_created = 0;  // rows this run inserted (users, entries, sessions, messages)
  std::uint64_t synthetic_rows_removed = 0;  // of its rows, those deleted again (set by stop())
  std::string cleanup_error;      // the run's rows could not all be removed: why (cleanupSyntheticRuns() retries)
  std::string audit_error;        // an audit row could not be written: why
  std::int64_t audit_start_id = 0, audit_end_id = 0;  // cache_audit ids (0 = none written)
};

class Workload {
 public:
  // Does no I/O. The core must outlive the workload.
  Workload(TierCore& core, WorkloadOptions options);
  ~Workload();  // stops and joins
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  // Loads the id spaces from the database and starts the workers. Throws
  // BadInputError for invalid options or if already running, NotFoundError if
  // the database holds no schema or no data, and the pool's errors if it cannot
  // connect. A finished workload may be started again (counters restart at 0).
  void start();
  // Returns when all workers have finished their current operation; then a
  // synthetic run removes its rows and every run writes its end audit row
  // (once per start; failures land in counters(), stop() never throws).
  void stop();
  bool running() const;
  // Blocks until the duration has passed or stop() was called (returns at once
  // if not running).
  void wait();
  void setRate(double opsPerSecond);  // 0 = unlimited; negative is treated as 0
  void setVirtualUsers(int n);        // negative is treated as 0

  WorkloadCounters counters() const;
  // The options as last set (rate and virtual_users follow setRate/setVirtualUsers).
  WorkloadOptions options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What `tierctl load --cleanup` does: for every synthetic run still open in
// tier_load_runs whose process is gone (its advisory lock is free), deletes
// the rows it created, invalidates their cache copies and closes the run; a
// run still alive is left alone. Writes a load.cleanup audit row when it
// removed something. Throws tier::Error (a missing schema: NotFoundError).
struct CleanupResult {
  int runs_cleaned = 0;
  int runs_alive = 0;  // open runs skipped because their process still holds the lock
  std::uint64_t rows_removed = 0;
  std::vector<std::string> run_ids;  // the runs cleaned
  std::string audit_error;
};
CleanupResult cleanupSyntheticRuns(TierCore& core);

namespace detail {

// The last acknowledged write per item (an entry's version, a session's
// message seq). A read is stale if it shows less than what was acknowledged
// *before the read began* — a write acknowledged while the read was in flight
// may legitimately be missed. So: e = expected(id); read; isStale(e, seen).
// Thread-safe: sharded by id, one mutex per shard.
class AckTracker {
 public:
  // Records that a write of `value` to `id` was acknowledged; keeps the maximum
  // (acknowledgements of concurrent writers may arrive out of order).
  void ack(std::int64_t id, std::int64_t value);
  // The highest acknowledged value for `id`, 0 if this process never wrote it.
  std::int64_t expected(std::int64_t id) const;
  static bool isStale(std::int64_t expectedBeforeRead, std::int64_t seen) noexcept {
    return seen < expectedBeforeRead;
  }
  std::size_t size() const;  // items tracked
  void clear();

 private:
  static constexpr int kShards = 64;
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<std::int64_t, std::int64_t> acked;  // guarded by mu
  };
  static std::size_t shardOf(std::int64_t id) noexcept;
  Shard shards_[kShards];
};

}  // namespace detail

}  // namespace tier::workload
