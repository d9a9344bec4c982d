#include "tier/ops/session_sweeper.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "repo/session_expiry.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/core.h"
#include "tier/ops/audit.h"

namespace tier::ops {
namespace {

constexpr std::int64_t kMaxIdleSeconds = 3650LL * 86400;

std::int64_t unixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string jsonText(const QJsonObject& o) {
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

std::string passArgs(const ExpireIdleRequest& r) {
  if (!r.audit_args_json.empty()) return r.audit_args_json;
  return jsonText(QJsonObject{{QStringLiteral("idle_s"), static_cast<double>(r.idle.count())},
                              {QStringLiteral("idle"), QString::fromStdString(formatDuration(r.idle))},
                              {QStringLiteral("batch"), r.batch}});
}

// One pass on `c`. `stop` (may be null) ends it between batches. Throws
// tier::Error; `out` then holds what the committed batches did.
void runPass(TierCore& core, pg::Connection& c, const ExpireIdleRequest& req, const std::atomic<bool>* stop,
             ExpireIdleResult& out) {
  const std::int64_t idle = req.idle.count();
  if (req.dry_run) {
    out.matched = repo::expiry::countIdle(c, idle);
    out.sample = repo::expiry::oldestIdle(c, idle, req.sample_size);
    return;
  }
  for (;;) {
    const auto ids = repo::expiry::expireIdleBatch(c, idle, req.batch);
    if (ids.empty()) return;
    ++out.batches;
    out.expired += static_cast<long long>(ids.size());
    out.matched = out.expired;
    const auto dropped = repo::expiry::dropSessionCopies(core.cache(), ids);
    out.l2_deleted += dropped.l2_deleted;
    out.l1_dropped += dropped.l1_dropped;
    if (!dropped.error.empty())
      out.cache_error = "Redis: " + dropped.error + " (the copies are remembered and never served; repaired later)";
    if (ids.size() < static_cast<std::size_t>(req.batch)) return;
    if (stop && stop->load()) return;
  }
}

void audit(TierCore& core, const std::string& action, const std::string& args, bool dryRun, long long matched,
           long long affected, const std::string& result, double ms, std::int64_t& id, std::string& error) {
  if (action.empty()) return;
  try {
    id = writeAudit(core, AuditRecord{action, args, dryRun, matched, affected, result, ms});
  } catch (const Error& e) {
    error = redactSecrets(e.what());
  }
}

}  // namespace

// ---- durations ------------------------------------------------------------------

std::chrono::seconds parseDuration(const std::string& text) {
  const std::string shown = text.size() > 32 ? text.substr(0, 32) + "..." : text;
  auto bad = [&]() -> BadInputError {
    return BadInputError("bad duration '" + shown + "': use a number and a unit, e.g. 90m, 2h, 1d, 1h30m");
  };
  if (text.empty() || text.size() > 32) throw bad();
  std::int64_t total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++digits > 12) throw bad();
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (digits == 0) throw bad();
    std::int64_t unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: throw bad();
      }
      ++i;
    } else if (any) {
      throw bad();  // "1h30": a bare number only alone (seconds)
    }
    total += n * unit;
    if (total > kMaxIdleSeconds) throw BadInputError("duration '" + shown + "' is longer than 3650 days");
    any = true;
  }
  if (total <= 0) throw BadInputError("duration '" + shown + "' must be longer than zero");
  return std::chrono::seconds(total);
}

std::string formatDuration(std::chrono::seconds s) {
  std::int64_t v = s.count();
  if (v <= 0) return "0s";
  std::string out;
  for (auto [unit, name] : {std::pair<std::int64_t, const char*>{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}) {
    if (v >= unit) {
      out += std::to_string(v / unit) + name;
      v %= unit;
    }
  }
  return out;
}

// ---- one pass -------------------------------------------------------------------

void validate(const ExpireIdleRequest& r) {
  if (r.idle.count() < 1) throw BadInputError("the idle limit must be at least 1 second");
  if (r.idle.count() > kMaxIdleSeconds) throw BadInputError("the idle limit must be at most 3650 days");
  if (r.batch < 1 || r.batch > 10000) throw BadInputError("the batch size must be between 1 and 10000");
  if (r.sample_size < 0 || r.sample_size > 1000) throw BadInputError("the sample size must be between 0 and 1000");
}

ExpireIdleResult expireIdleSessions(TierCore& core, const ExpireIdleRequest& req) {
  validate(req);
  if (!req.dry_run && !req.audit_action.empty()) requireAuditWritable(core, req.audit_action);
  const auto started = Clock::now();
  ExpireIdleResult out;
  const std::string args = passArgs(req);
  try {
    auto c = core.pg().acquire();
    runPass(core, *c, req, nullptr, out);
  } catch (const Error& e) {
    out.duration_ms = msSince(started);
    std::string ignored;
    audit(core, req.audit_action, args, req.dry_run, out.matched, out.expired,
          std::string(out.expired > 0 ? "partial: " : "error: ") + e.what(), out.duration_ms, out.audit_id, ignored);
    throw;
  }
  out.duration_ms = msSince(started);
  audit(core, req.audit_action, args, req.dry_run, out.matched, out.expired, "ok", out.duration_ms, out.audit_id,
        out.audit_error);
  return out;
}

ExpireOneResult expireSession(TierCore& core, std::int64_t id) {
  if (id <= 0) throw BadInputError("session id must be a positive number");
  requireAuditWritable(core, "expire.session");
  const auto started = Clock::now();
  const std::string args = jsonText(QJsonObject{{QStringLiteral("session_id"), static_cast<double>(id)}});
  ExpireOneResult out;
  out.id = id;
  std::string ignored;
  try {
    auto c = core.pg().acquire();
    auto r =
        c->execPrepared("session_expire_one",
                        "UPDATE chat_sessions SET status = 'expired' WHERE id = $1 AND status = 'active' RETURNING id",
                        {std::to_string(id)});
    if (r.rows() == 0) {
      auto e =
          c->execPrepared("session_status", "SELECT status FROM chat_sessions WHERE id = $1", {std::to_string(id)});
      if (e.rows() == 0) throw NotFoundError("chat session " + std::to_string(id) + " does not exist");
      throw BadInputError("chat session " + std::to_string(id) + " is " + std::string(e.value(0, 0)) +
                          ", not active; nothing was changed");
    }
  } catch (const Error& e) {
    audit(core, "expire.session", args, false, 0, 0, std::string("error: ") + e.what(), msSince(started), out.audit_id,
          ignored);
    throw;
  }
  const auto dropped = repo::expiry::dropSessionCopies(core.cache(), {id});
  audit(core, "expire.session", args, false, 1, 1,
        dropped.error.empty() ? std::string("ok") : "ok; cached copy remembered for repair: " + dropped.error,
        msSince(started), out.audit_id, out.audit_error);
  return out;
}

// ---- the background job ---------------------------------------------------------

struct SessionSweeper::Impl {
  TierCore& core;
  SessionSweeperOptions options;
  std::chrono::seconds idle{0};

  mutable Mutex mu;
  CondVar cv;
  bool stopRequested TIER_GUARDED_BY(mu) = false;
  bool wakeRequested TIER_GUARDED_BY(mu) = false;
  SessionSweeperStats stats TIER_GUARDED_BY(mu);
  std::atomic<bool> stopping{false};

  // Owned by the thread (and by the destructor once it has joined).
  std::unique_ptr<pg::PgPool> lockPool;
  std::optional<pg::PgPool::Lease> lockConn;
  bool holding = false;
  std::thread thread;

  Impl(TierCore& c, SessionSweeperOptions o) : core(c), options(std::move(o)) {
    idle = options.idle_limit.count() > 0 ? options.idle_limit : core.config().policies.session.ttl;
    if (idle.count() <= 0) idle = std::chrono::seconds(7200);
    stats.enabled = true;
    stats.idle_limit_s = idle.count();
    stats.interval_ms = options.interval.count();
  }

  void closeConnection() {
    if (lockConn && holding && (*lockConn)->isOk()) {
      try {
        (*lockConn)->exec("SELECT pg_advisory_unlock($1::int, $2::int)",
                          {std::to_string(kSessionSweeperLockClass), std::to_string(kSessionSweeperLockObject)});
      } catch (const std::exception&) {
        // Closing the connection below releases it as well.
      }
    }
    holding = false;
    lockConn.reset();
    lockPool.reset();
    MutexLock g(mu);
    stats.holder = false;
    stats.backend_pid = 0;
  }

  void setError(const std::string& e) {
    MutexLock g(mu);
    stats.last_error = e;
  }

  // Takes the lock if it is free; returns whether this instance holds it.
  bool acquire() {
    if (holding) return true;
    if (!lockConn) {
      pg::PgOptions o = core.pg().options();
      o.pool_size = 1;
      o.application_name = "tierconsole-session-sweeper";
      lockPool = std::make_unique<pg::PgPool>(o);
      lockConn.emplace(lockPool->acquire());
      MutexLock g(mu);
      stats.backend_pid = (*lockConn)->backendPid();
    }
    // A role that may not change sessions must not hold the lock: it would keep
    // an instance that may from sweeping.
    auto p =
        (*lockConn)->exec("SELECT current_user::text, has_table_privilege(current_user, 'chat_sessions', 'UPDATE')");
    if (p.value(0, 1) != "t") {
      setError("PostgreSQL role \u2018" + std::string(p.value(0, 0)) +
               "\u2019 may not UPDATE chat_sessions: this instance does not sweep");
      return false;
    }
    auto r = (*lockConn)->exec("SELECT pg_try_advisory_lock($1::int, $2::int)",
                               {std::to_string(kSessionSweeperLockClass), std::to_string(kSessionSweeperLockObject)});
    holding = r.value(0, 0) == "t";
    MutexLock g(mu);
    stats.holder = holding;
    if (!holding) stats.last_error.clear();  // another instance sweeps: nothing wrong here
    return holding;
  }

  void tick() {
    try {
      if (!acquire()) return;
    } catch (const std::exception& e) {
      setError(std::string("cannot take the sweeper lock: ") + redactSecrets(e.what()));
      closeConnection();
      return;
    }
    ExpireIdleRequest req;
    req.idle = idle;
    req.batch = options.batch;
    const auto started = Clock::now();
    ExpireIdleResult res;
    std::string error;
    bool refused = false;
    try {
      runPass(core, **lockConn, req, &stopping, res);
    } catch (const Error& e) {
      error = redactSecrets(e.what());
      refused = e.kind() == ErrorKind::Permission;
    } catch (const std::exception& e) {
      error = redactSecrets(e.what());
    }
    res.duration_ms = msSince(started);
    if (res.expired > 0) {
      // Only passes that changed something: an idle database leaves no row a minute.
      const std::string args =
          jsonText(QJsonObject{{QStringLiteral("idle_s"), static_cast<double>(idle.count())},
                               {QStringLiteral("idle"), QString::fromStdString(formatDuration(idle))},
                               {QStringLiteral("batch"), options.batch},
                               {QStringLiteral("background"), true}});
      std::string auditError;
      audit(core, "sweep.sessions", args, false, res.matched, res.expired, error.empty() ? "ok" : "partial: " + error,
            res.duration_ms, res.audit_id, auditError);
      if (!auditError.empty() && error.empty()) error = "the pass's audit row was not written: " + auditError;
    }
    if (error.empty() && !res.cache_error.empty()) error = res.cache_error;
    {
      MutexLock g(mu);
      stats.last_run_ms = unixMs();
      stats.last_expired = res.expired;
      stats.total_expired += res.expired;
      stats.last_duration_ms = res.duration_ms;
      stats.last_error = error;
      ++stats.runs;
    }
    // A broken connection took the lock with it; a role refused the UPDATE
    // lets go of it, so an instance that may sweep can take it.
    if (refused || !(*lockConn)->isOk()) closeConnection();
  }

  // The first pass comes one interval after the start (or at wake()): a core
  // that connects and quits at once, as a short test or a look at the
  // console, neither takes the lock nor changes a row.
  void run() {
    MutexLock lk(mu);
    for (;;) {
      const auto until = std::chrono::steady_clock::now() + options.interval;
      while (!(stopRequested || wakeRequested))
        if (!cv.waitUntil(mu, until)) break;
      if (stopRequested) return;
      wakeRequested = false;
      lk.unlock();
      tick();
      lk.lock();
    }
  }
};

SessionSweeper::SessionSweeper(TierCore& core, SessionSweeperOptions options) {
  if (options.interval < std::chrono::milliseconds(10)) throw BadInputError("the sweeper interval must be >= 10 ms");
  if (options.batch < 1 || options.batch > 10000) throw BadInputError("the sweeper batch must be between 1 and 10000");
  if (options.idle_limit.count() < 0 || options.idle_limit.count() > kMaxIdleSeconds)
    throw BadInputError("the sweeper idle limit must be between 0 (the session TTL) and 3650 days");
  impl_ = std::make_unique<Impl>(core, std::move(options));
  Impl* d = impl_.get();  // the thread never reads impl_ itself
  impl_->thread = std::thread([d] { d->run(); });
}

SessionSweeper::~SessionSweeper() {
  impl_->stopping.store(true);
  {
    MutexLock g(impl_->mu);
    impl_->stopRequested = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->closeConnection();
}

SessionSweeperStats SessionSweeper::stats() const {
  MutexLock g(impl_->mu);
  return impl_->stats;
}

const SessionSweeperOptions& SessionSweeper::options() const noexcept {
  return impl_->options;
}
std::chrono::seconds SessionSweeper::idleLimit() const noexcept {
  return impl_->idle;
}

void SessionSweeper::wake() {
  {
    MutexLock g(impl_->mu);
    impl_->wakeRequested = true;
  }
  impl_->cv.notify_all();
}

SessionSweeperStatus sessionSweeperStatus(TierCore& core) {
  SessionSweeperStatus out;
  if (auto* s = core.sessionSweeper()) {
    out.stats = s->stats();
  } else {
    const auto ttl = core.config().policies.session.ttl;
    out.stats.idle_limit_s = core.config().session_sweeper.idle_limit.count() > 0
                                 ? core.config().session_sweeper.idle_limit.count()
                                 : ttl.count();
    out.stats.interval_ms = core.config().session_sweeper.interval.count();
  }
  try {
    auto c = core.pg().acquire();
    auto r = c->exec(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int::oid AND "
        "objid = $2::int::oid AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = "
        "current_database()) LIMIT 1",
        {std::to_string(kSessionSweeperLockClass), std::to_string(kSessionSweeperLockObject)});
    if (r.rows() == 0) {
      out.lock_holder = "none";
    } else {
      out.lock_holder_pid = static_cast<int>(r.toInt(0, 0));
      out.lock_holder =
          out.stats.holder && out.stats.backend_pid == out.lock_holder_pid ? "this instance" : "another instance";
    }
  } catch (const std::exception& e) {
    out.lock_holder = "unknown";
    out.lock_error = redactSecrets(e.what());
  }
  return out;
}

}  // namespace tier::ops
