#pragma once
// Internal (core/src/redis only): one Redis server as RedisClient sees it: its
// connection pool (redis::Connection), circuit breaker, reconnect backoff and
// Lua script cache. A Single deployment has one; a cluster one per node;
// Sentinel one per master it has followed and one per sentinel. execute() is
// the one path every command to that server takes.
//
// Breaker: Closed -> (breaker_failures network failures in a row) -> Open:
// calls fail at once with ConnectionError("Redis circuit open: <reason>") for
// breaker_open; then one call is let through as a probe (HalfOpen) and decides.
// A server that answers with a refusal (AUTH, ACL) is reachable: that is not a
// network failure. Reconnect backoff: after a failed connect, new connections
// are refused with the last failure until the backoff passes (doubling from
// reconnect_min to reconnect_max); idle connections are still used.
//
// Scripts: an EVAL of a body the server has cached goes out as EVALSHA; the
// first EVAL of a body also sends SCRIPT LOAD in the same round trip; a
// NOSCRIPT answer (SCRIPT FLUSH, restart) re-runs that command as EVAL.
//
// Thread-safety: shared by every thread of the client; `mu` guards the pool
// and breaker state, `scripts_mu` the script cache.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "redis/batch.h"
#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/metrics/metrics.h"
#include "tier/redis/connection.h"
#include "tier/redis/redis_client.h"

namespace tier::redis {

struct RedisNodePool {
  using Impl = RedisNodePool;
  using Clock = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;
  static std::string ms(milliseconds d) { return std::to_string(d.count()) + " ms"; }
  RedisOptions opt;
  metrics::Metrics* metrics;
  std::string where;      // "host:port" or socket path, for messages
  bool readonly = false;  // cluster replica reads: READONLY on every connection
  // Sentinel data nodes: every new connection asks ROLE and refuses a node
  // that is not a master (a sentinel's answer can be out of date; Redis's
  // guidelines for Sentinel clients ask for this check).
  bool verify_master = false;

  mutable Mutex mu;
  CondVar freed;  // a slot came free, or a connect failed
  std::vector<Connection> idle TIER_GUARDED_BY(mu);
  int open TIER_GUARDED_BY(mu) = 0;    // idle + leased + being connected
  int in_use TIER_GUARDED_BY(mu) = 0;  // leased + being connected
  std::uint64_t connects TIER_GUARDED_BY(mu) = 0;
  std::uint64_t connect_failures TIER_GUARDED_BY(mu) = 0;
  std::uint64_t commands TIER_GUARDED_BY(mu) = 0;
  std::uint64_t errors TIER_GUARDED_BY(mu) = 0;
  std::string last_error TIER_GUARDED_BY(mu);
  // Reconnect backoff: until connect_not_before, new connections are refused
  // with the last connect failure (fail fast, nothing sleeps).
  Clock::time_point connect_not_before TIER_GUARDED_BY(mu){};
  milliseconds backoff TIER_GUARDED_BY(mu){0};
  ErrorKind gate_kind TIER_GUARDED_BY(mu) = ErrorKind::Connection;
  std::string gate_message TIER_GUARDED_BY(mu);
  // Breaker:
  BreakerState state TIER_GUARDED_BY(mu) = BreakerState::Closed;
  int consecutive_failures TIER_GUARDED_BY(mu) = 0;
  Clock::time_point open_until TIER_GUARDED_BY(mu){};
  bool probe_in_flight TIER_GUARDED_BY(mu) = false;
  std::string breaker_reason TIER_GUARDED_BY(mu);

  // Lua scripts the server has cached: an EVAL of a known body goes out as
  // EVALSHA (no body on the wire, no SHA1 of it in Redis per call). The first
  // EVAL of a body also sends SCRIPT LOAD in the same round trip. A null sha
  // means SCRIPT LOAD was refused (ACL): that body stays EVAL.
  Mutex scripts_mu;
  struct BodyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const std::string>, BodyHash, std::equal_to<>>
      script_sha TIER_GUARDED_BY(scripts_mu);

  RedisNodePool(RedisOptions o, metrics::Metrics* m, bool ro = false, bool verifyMaster = false)
      : opt(std::move(o)), metrics(m), where(opt.url.endpoint()), readonly(ro), verify_master(verifyMaster) {}

  // One call's passage through the breaker. A probe (the single call let
  // through in HalfOpen) decides the breaker's next state.
  class Admission {
   public:
    explicit Admission(Impl& impl) : impl_(impl) { probe_ = impl_.admit(); }
    ~Admission() {
      if (probe_ && !decided_) {
        MutexLock lk(impl_.mu);
        impl_.probe_in_flight = false;  // undecided (e.g. pool wait): the next call probes
      }
    }
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;
    bool probe() const { return probe_; }
    void reachable() {
      impl_.onReachable(probe_);
      decided_ = true;
    }
    [[noreturn]] void networkFailure(ErrorKind kind, const std::string& msg) {
      impl_.onNetworkFailure(probe_, msg);
      decided_ = true;
      if (kind == ErrorKind::Timeout) throw TimeoutError(msg);
      throw ConnectionError(msg);
    }

   private:
    Impl& impl_;
    bool probe_ = false;
    bool decided_ = false;
  };

  // A leased connection: back to the pool on destruction unless discarded.
  class Lease {
   public:
    Lease(Impl& impl, Connection conn) : impl_(impl), conn_(std::move(conn)) {}
    ~Lease() {
      MutexLock lk(impl_.mu);
      --impl_.in_use;
      if (conn_)
        impl_.idle.push_back(std::move(conn_));
      else
        --impl_.open;
      impl_.freed.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& get() { return conn_; }
    // Its reply stream is out of sync after an I/O error or timeout: never reuse.
    void discard() { conn_ = Connection(); }

   private:
    Impl& impl_;
    Connection conn_;
  };

  bool admit() {
    MutexLock lk(mu);
    switch (state) {
      case BreakerState::Closed: return false;
      case BreakerState::Open:
        if (Clock::now() >= open_until) {
          state = BreakerState::HalfOpen;
          probe_in_flight = true;
          return true;
        }
        break;
      case BreakerState::HalfOpen:
        if (!probe_in_flight) {
          probe_in_flight = true;
          return true;
        }
        break;
    }
    if (metrics) metrics->count(metrics::Counter::BreakerOpenSkip);
    throw ConnectionError("Redis circuit open: " + breaker_reason);
  }

  void onReachable(bool probe) {
    MutexLock lk(mu);
    if (probe) {
      state = BreakerState::Closed;
      probe_in_flight = false;
      consecutive_failures = 0;
    } else if (state == BreakerState::Closed) {
      consecutive_failures = 0;
    }
  }

  void onNetworkFailure(bool probe, const std::string& msg) {
    if (metrics) metrics->count(metrics::Counter::RedisError);
    MutexLock lk(mu);
    ++errors;
    last_error = msg;
    breaker_reason = msg;
    ++consecutive_failures;
    const auto reopen = [this]() TIER_REQUIRES(mu) {
      state = BreakerState::Open;
      open_until = Clock::now() + opt.breaker_open;
    };
    if (probe) {
      probe_in_flight = false;
      reopen();
    } else if (state == BreakerState::Closed && opt.breaker_failures > 0 &&
               consecutive_failures >= opt.breaker_failures) {
      reopen();
    }
  }

  // Connects and prepares one connection (AUTH, SELECT, CLIENT SETNAME,
  // READONLY, ROLE in one round trip: redis::Connection::open). Throws the
  // typed error; network failures (and a node that is not a master) go to the
  // breaker, a refusal by a server that answered does not.
  Connection connect(Admission& adm) {
    ConnectOptions co;
    co.connect_timeout = opt.connect_timeout;
    co.command_timeout = opt.command_timeout;
    co.client_name = opt.client_name;
    co.readonly = readonly;
    co.verify_master = verify_master;
    co.where = where;
    try {
      return Connection::open(opt.url, co);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Connection || e.kind() == ErrorKind::Timeout) adm.networkFailure(e.kind(), e.what());
      adm.reachable();
      throw;
    }
  }

  // A usable connection whose slot is counted in open and in_use; the caller
  // wraps it in a Lease at once.
  Connection acquire(Admission& adm) {
    const bool waitForever = opt.pool_wait.count() <= 0;
    const auto deadline = Clock::now() + opt.pool_wait;
    MutexLock lk(mu);
    for (;;) {
      if (!idle.empty()) {
        Connection conn = std::move(idle.back());
        idle.pop_back();
        ++in_use;
        lk.unlock();
        if (conn.idleAndOpen()) return conn;
        conn = Connection();  // the server closed it while idle (restart, timeout, CLIENT KILL)
        lk.lock();
        --in_use;
        --open;
        continue;
      }
      if (open < opt.pool_size) {
        const auto now = Clock::now();
        if (!adm.probe() && now < connect_not_before) {
          const std::string msg = gate_message;
          switch (gate_kind) {
            case ErrorKind::Permission: throw PermissionError(msg);
            case ErrorKind::BadInput: throw BadInputError(msg);
            case ErrorKind::Timeout: throw TimeoutError(msg);
            default: throw ConnectionError(msg);
          }
        }
        ++open;
        ++in_use;
        lk.unlock();
        return connectSlot(adm);
      }
      if (waitForever) {
        freed.wait(mu);
      } else if (!freed.waitUntil(mu, deadline) && idle.empty() && open >= opt.pool_size) {
        const std::string msg = "Redis pool exhausted: all " + std::to_string(opt.pool_size) + " connections to " +
                                where + " busy for " + ms(opt.pool_wait);
        ++errors;
        last_error = msg;
        throw TimeoutError(msg);
      }
    }
  }

  // Fills a slot already reserved in open/in_use by the caller.
  Connection connectSlot(Admission& adm) {
    Connection conn;
    try {
      conn = connect(adm);
    } catch (const Error& e) {
      MutexLock lk(mu);
      --open;
      --in_use;
      ++connect_failures;
      if (e.kind() != ErrorKind::Connection && e.kind() != ErrorKind::Timeout) {
        ++errors;  // network failures were counted by the breaker already
        last_error = e.what();
      }
      backoff = backoff.count() == 0 ? opt.reconnect_min : std::min(backoff * 2, opt.reconnect_max);
      connect_not_before = Clock::now() + backoff;
      gate_kind = e.kind();
      gate_message = e.what();
      freed.notify_all();  // waiters may now connect, or fail fast on the backoff
      throw;
    }
    MutexLock lk(mu);
    ++connects;
    backoff = milliseconds(0);
    connect_not_before = {};
    return conn;
  }

  // EVAL -> EVALSHA for cached bodies; SCRIPT LOAD appended for new ones.
  struct ScriptRewrite {
    std::vector<std::size_t> evalsha;                      // commands sent as EVALSHA
    std::vector<std::string_view> bodies;                  // their bodies (caller-owned), same order
    std::vector<std::shared_ptr<const std::string>> keep;  // shas in flight
    std::vector<std::string> loads;                        // bodies appended as SCRIPT LOAD
    std::size_t user_commands = 0;
  };
  void rewriteScripts(Batch& batch, ScriptRewrite& rw) {
    rw.user_commands = batch.size();
    bool any = false;  // the common case (GET, SET...) takes no lock
    for (std::size_t i = 0; i < rw.user_commands && !any; ++i) any = batch.name(i) == "EVAL";
    if (!any) return;
    MutexLock lk(scripts_mu);
    for (std::size_t i = 0; i < rw.user_commands; ++i) {
      if (batch.argc(i) < 3 || batch.name(i) != "EVAL") continue;
      const std::string_view body = batch.arg(i, 1);
      auto it = script_sha.find(body);
      if (it == script_sha.end()) {
        if (std::find(rw.loads.begin(), rw.loads.end(), body) == rw.loads.end()) rw.loads.emplace_back(body);
        continue;
      }
      if (!it->second) continue;
      rw.evalsha.push_back(i);
      rw.bodies.push_back(body);
      rw.keep.push_back(it->second);
      batch.setArg(i, 0, "EVALSHA");
      batch.setArg(i, 1, *it->second);
    }
    for (const auto& body : rw.loads) batch.add({"SCRIPT", "LOAD", body});
  }
  // Records SCRIPT LOAD answers, drops their replies, and re-runs as EVAL any
  // EVALSHA the server no longer knows (SCRIPT FLUSH, restart): rare, one more round trip.
  std::optional<IoFailure> finishScripts(Connection& c, const Batch& batch, const ScriptRewrite& rw,
                                         std::vector<Reply>& raw) {
    if (rw.loads.empty() && rw.evalsha.empty()) return std::nullopt;
    {
      MutexLock lk(scripts_mu);
      for (std::size_t k = 0; k < rw.loads.size(); ++k) {
        const Reply& r = raw[rw.user_commands + k];
        script_sha.insert_or_assign(
            rw.loads[k], r.type == Reply::Type::String ? std::make_shared<const std::string>(r.str) : nullptr);
      }
    }
    raw.resize(rw.user_commands);
    std::vector<Command> again;  // owned copies: a Batch only points at its arguments
    std::vector<std::size_t> at;
    for (std::size_t k = 0; k < rw.evalsha.size(); ++k) {
      const std::size_t i = rw.evalsha[k];
      const Reply& r = raw[i];
      if (!r.isError() || std::string_view(r.str).substr(0, 8) != "NOSCRIPT") continue;
      Command cmd{"EVAL", std::string(rw.bodies[k])};
      for (int j = 2; j < batch.argc(i); ++j) cmd.emplace_back(batch.arg(i, j));
      again.push_back(std::move(cmd));
      at.push_back(i);
    }
    if (at.empty()) return std::nullopt;
    {
      MutexLock lk(scripts_mu);
      for (std::size_t k = 0; k < rw.evalsha.size(); ++k)
        if (auto it = script_sha.find(rw.bodies[k]); it != script_sha.end()) script_sha.erase(it);
    }
    // A script sent after ASKING (a slot being imported) needs ASKING again.
    Batch retry;
    std::vector<std::size_t> replyAt;
    for (std::size_t k = 0; k < again.size(); ++k) {
      if (at[k] > 0 && batch.name(at[k] - 1) == "ASKING") retry.add({"ASKING"});
      replyAt.push_back(retry.size());
      retry.add(again[k]);
    }
    std::vector<Reply> replies;
    if (auto f = c.roundTrip(retry, "EVAL", replies)) return f;
    for (std::size_t k = 0; k < at.size(); ++k) raw[at[k]] = std::move(replies[replyAt[k]]);
    return std::nullopt;
  }

  // The one path every command takes.
  std::vector<Reply> execute(Batch& batch, std::string_view what) {
    Admission adm(*this);
    std::vector<Reply> replies;
    {
      Lease lease(*this, acquire(adm));
      ScriptRewrite rw;
      rewriteScripts(batch, rw);
      const auto t0 = Clock::now();
      auto failure = lease.get().roundTrip(batch, what, replies);
      if (!failure) failure = finishScripts(lease.get(), batch, rw, replies);
      if (metrics) metrics->record(metrics::Op::RedisCommand, Clock::now() - t0);
      if (failure) {
        lease.discard();
        adm.networkFailure(failure->kind, failure->message);
      }
    }
    adm.reachable();

    std::string deniedMsg;
    for (const Reply& r : replies) {
      if (r.isError() && isPermissionReply(r.str)) {
        deniedMsg = "Redis permission denied at " + where + ": " + redactSecrets(r.str);
        break;
      }
    }
    const bool denied = !deniedMsg.empty();
    {
      MutexLock lk(mu);
      commands += batch.size();
      if (denied) {
        ++errors;
        last_error = deniedMsg;
      }
    }
    if (denied) throw PermissionError(deniedMsg);
    return replies;
  }

  // Open and past its open period counts as half-open (the next call probes).
  BreakerState breaker() const {
    MutexLock lk(mu);
    if (state == BreakerState::Open && Clock::now() >= open_until) return BreakerState::HalfOpen;
    return state;
  }
  void addStats(PoolStats& s) const {
    MutexLock lk(mu);
    s.size += opt.pool_size;
    s.open += open;
    s.in_use += in_use;
    s.connects += connects;
    s.connect_failures += connect_failures;
    s.commands += commands;
    s.errors += errors;
    if (!last_error.empty()) s.last_error = last_error;
  }
};

}  // namespace tier::redis
