#pragma once
// The session sweeper: chat sessions idle longer than a limit (default the
// session TTL, CachePolicies::session.ttl) are marked `expired` in PostgreSQL
// and their cached copies dropped through TieredCache's own invalidation
// (write epochs, repairs, the backplane tells the other instances' L1).
//
// - expireIdleSessions(): one pass, in batches of `batch` rows a transaction
//   (FOR UPDATE SKIP LOCKED: a session being appended to is left for the next
//   pass, never waited on); `tierctl sessions expire` and the console run it.
// - SessionSweeper: the same as a background job of TierCore
//   (CoreConfig::session_sweeper). Only the instance holding a PostgreSQL
//   advisory lock (pg_try_advisory_lock on a dedicated connection) sweeps, so
//   there is one sweeper per database whatever the number of instances; the
//   others try again each interval and take over when the holder stops (the
//   lock is released on stop, or with its connection if the process dies).
//
// Thread-safety: every function and method may be called from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tier {
class TierCore;
}

namespace tier::ops {

struct SessionSweeperOptions {
  bool enabled = false;                        // the console turns it on; tierctl and tests leave it off
  std::chrono::seconds idle_limit{0};          // 0 = the session TTL (CachePolicies::session.ttl)
  std::chrono::milliseconds interval{60'000};  // between passes, >= 10 ms
  int batch = 500;                             // rows per transaction, 1..10000
};

// Advisory lock of the sweeper: pg_try_advisory_lock(class, object), two-int form.
inline constexpr int kSessionSweeperLockClass = 29802;
inline constexpr int kSessionSweeperLockObject = 1;

struct ExpireIdleRequest {
  std::chrono::seconds idle{7200};  // sessions whose last activity is older than this; >= 1 s
  bool dry_run = false;             // count (and sample) only; nothing changes
  int batch = 500;                  // rows per transaction, 1..10000
  int sample_size = 20;             // dry run: ids listed, 0..1000
  std::string audit_action = "expire.sessions";  // empty = no audit row (the background job audits its own way)
  std::string audit_args_json;      // extra audit arguments (a JSON object's text); empty = {idle_s, batch}
};

struct ExpireIdleResult {
  long long matched = 0;   // idle active sessions found (a dry run's count)
  long long expired = 0;   // marked expired (0 for a dry run)
  long long batches = 0;   // transactions committed
  long long l2_deleted = 0;  // cached copies Redis held
  long long l1_dropped = 0;  // copies this instance's L1 held
  std::vector<std::int64_t> sample;  // dry run: the oldest idle ids, up to sample_size
  double duration_ms = 0;
  std::int64_t audit_id = 0;  // 0 = not audited
  std::string audit_error;    // the pass was done but its audit row was not written
  std::string cache_error;    // Redis failed: the copies are remembered for repair (never served)
};

// Checks a request (BadInputError) before anything connects.
void validate(const ExpireIdleRequest& request);
// One pass. Throws tier::Error when PostgreSQL refuses or fails (the batches
// committed before stay committed and their copies dropped). Audited unless
// audit_action is empty.
ExpireIdleResult expireIdleSessions(TierCore& core, const ExpireIdleRequest& request);

// Expires one session (the console's Expire, `tierctl sessions expire --id`):
// NotFoundError if absent, BadInputError if not active. Audited (expire.session).
struct ExpireOneResult {
  std::int64_t id = 0;
  std::int64_t audit_id = 0;
  std::string audit_error;
};
ExpireOneResult expireSession(TierCore& core, std::int64_t id);

// "90m", "2h", "1d", "45s", "3600" (seconds), "1h30m". BadInputError for
// anything else, zero, or more than 3650 days.
std::chrono::seconds parseDuration(const std::string& text);
std::string formatDuration(std::chrono::seconds s);  // "2h", "90m", "1d", "1h30m"

struct SessionSweeperStats {
  bool enabled = false;
  bool holder = false;             // this instance holds the lock (and sweeps)
  int backend_pid = 0;             // the lock connection's server process; 0 = none open
  std::int64_t idle_limit_s = 0;
  std::int64_t interval_ms = 0;
  std::int64_t last_run_ms = 0;    // unix ms of the last finished pass; 0 = none yet
  long long last_expired = 0;
  long long total_expired = 0;
  long long runs = 0;              // passes finished (with or without an error)
  double last_duration_ms = 0;
  std::string last_error;          // one line, redacted; empty after a clean pass
};

class SessionSweeper {
 public:
  // Starts the thread. REQUIRES: core outlives the sweeper and is fully built.
  // Throws BadInputError for an invalid interval or batch.
  SessionSweeper(TierCore& core, SessionSweeperOptions options);
  ~SessionSweeper();  // stops the thread, releases the lock and its connection
  SessionSweeper(const SessionSweeper&) = delete;
  SessionSweeper& operator=(const SessionSweeper&) = delete;

  SessionSweeperStats stats() const;
  const SessionSweeperOptions& options() const noexcept;
  std::chrono::seconds idleLimit() const noexcept;
  // Wakes the thread for a pass now (tests, the console after a change).
  void wake();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// For `health`: this instance's sweeper (enabled false if it has none) and,
// from pg_locks, whether any session holds the sweeper's lock. Never throws.
struct SessionSweeperStatus {
  SessionSweeperStats stats;
  std::string lock_holder;  // "this instance" | "another instance" | "none" | "unknown"
  int lock_holder_pid = 0;  // backend pid holding the lock; 0 = none/unknown
  std::string lock_error;   // why lock_holder is unknown
};
SessionSweeperStatus sessionSweeperStatus(TierCore& core);

}  // namespace tier::ops
