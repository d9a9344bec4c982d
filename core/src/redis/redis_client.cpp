#include "tier/redis/redis_client.h"

#include <absl/container/inlined_vector.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <unordered_map>

#include "tier/common/error.h"
#include "tier/metrics/metrics.h"

namespace tier::redis {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ContextDeleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;
// One command's reply lives inline: no heap allocation for the vector per call.
using RawReplies = absl::InlinedVector<ReplyPtr, 1>;

timeval toTimeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::String;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::Error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::Array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::Nil;
      break;
  }
  return out;
}

bool isPermissionReply(std::string_view msg) {
  return msg.starts_with("NOPERM") || msg.starts_with("NOAUTH") || msg.starts_with("WRONGPASS") ||
         (msg.starts_with("ERR") && msg.find("invalid username-password") != std::string_view::npos);
}

// Argument vectors pointing into caller-owned bytes: no key or value is copied.
class Batch {
 public:
  void add(std::initializer_list<std::string_view> args) {
    starts_.push_back(argv_.size());
    for (auto a : args) push(a);
  }
  void add(const Command& cmd) {
    starts_.push_back(argv_.size());
    for (const auto& a : cmd) push(a);
  }
  void add(const std::vector<std::string_view>& cmd) {
    starts_.push_back(argv_.size());
    for (auto a : cmd) push(a);
  }
  void addAll(const std::vector<std::string>& tail) {
    for (const auto& a : tail) push(a);
  }
  std::size_t size() const { return starts_.size(); }
  int argc(std::size_t i) const {
    const std::size_t end = i + 1 < starts_.size() ? starts_[i + 1] : argv_.size();
    return static_cast<int>(end - starts_[i]);
  }
  const char** argv(std::size_t i) { return argv_.data() + starts_[i]; }
  const char* const* argv(std::size_t i) const { return argv_.data() + starts_[i]; }
  const std::size_t* lens(std::size_t i) const { return len_.data() + starts_[i]; }
  std::string_view name(std::size_t i) const { return {argv_[starts_[i]], len_[starts_[i]]}; }
  std::string_view arg(std::size_t i, int j) const {
    return {argv_[starts_[i] + static_cast<std::size_t>(j)], len_[starts_[i] + static_cast<std::size_t>(j)]};
  }
  // Points argument j of command i at other caller-owned bytes.
  void setArg(std::size_t i, int j, std::string_view a) {
    argv_[starts_[i] + static_cast<std::size_t>(j)] = a.data();
    len_[starts_[i] + static_cast<std::size_t>(j)] = a.size();
  }

 private:
  void push(std::string_view a) {
    argv_.push_back(a.data());
    len_.push_back(a.size());
  }
  // Inline room for a typical command: no heap allocation per GET/SET.
  absl::InlinedVector<const char*, 8> argv_;
  absl::InlinedVector<std::size_t, 8> len_;
  absl::InlinedVector<std::size_t, 2> starts_;
};

void ignoreSigpipeOnce() {
  // hiredis writes with write(2); a peer reset must be an error, not process death.
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ign {};
      ign.sa_handler = SIG_IGN;
      sigemptyset(&ign.sa_mask);
      sigaction(SIGPIPE, &ign, nullptr);
    }
  });
}

std::string ms(milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

const char* toString(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half-open";
  }
  return "unknown";
}

struct RedisClient::Impl {
  RedisOptions opt;
  metrics::Metrics* metrics;
  std::string where;  // "host:port" or socket path, for messages

  mutable std::mutex mu;
  std::condition_variable freed;
  // Guarded by mu:
  std::vector<ContextPtr> idle;
  int open = 0;    // idle + leased + being connected
  int in_use = 0;  // leased + being connected
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t commands = 0;
  std::uint64_t errors = 0;
  std::string last_error;
  // Reconnect backoff: until connect_not_before, new connections are refused
  // with the last connect failure (fail fast, nothing sleeps).
  Clock::time_point connect_not_before{};
  milliseconds backoff{0};
  ErrorKind gate_kind = ErrorKind::Connection;
  std::string gate_message;
  // Breaker:
  BreakerState state = BreakerState::Closed;
  int consecutive_failures = 0;
  Clock::time_point open_until{};
  bool probe_in_flight = false;
  std::string breaker_reason;

  // Lua scripts the server has cached: an EVAL of a known body goes out as
  // EVALSHA (no body on the wire, no SHA1 of it in Redis per call). The first
  // EVAL of a body also sends SCRIPT LOAD in the same round trip. A null sha
  // means SCRIPT LOAD was refused (ACL): that body stays EVAL.
  std::mutex scripts_mu;
  struct BodyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const std::string>, BodyHash, std::equal_to<>>
      script_sha;  // guarded by scripts_mu

  Impl(RedisOptions o, metrics::Metrics* m) : opt(std::move(o)), metrics(m), where(opt.url.endpoint()) {}

  // One call's passage through the breaker. A probe (the single call let
  // through in HalfOpen) decides the breaker's next state.
  class Admission {
   public:
    explicit Admission(Impl& impl) : impl_(impl) { probe_ = impl_.admit(); }
    ~Admission() {
      if (probe_ && !decided_) {
        std::lock_guard lk(impl_.mu);
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
    Lease(Impl& impl, ContextPtr ctx) : impl_(impl), ctx_(std::move(ctx)) {}
    ~Lease() {
      std::lock_guard lk(impl_.mu);
      --impl_.in_use;
      if (ctx_)
        impl_.idle.push_back(std::move(ctx_));
      else
        --impl_.open;
      impl_.freed.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    redisContext* get() const { return ctx_.get(); }
    // Its reply stream is out of sync after an I/O error or timeout: never reuse.
    void discard() { ctx_.reset(); }

   private:
    Impl& impl_;
    ContextPtr ctx_;
  };

  bool admit() {
    std::lock_guard lk(mu);
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
    std::lock_guard lk(mu);
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
    std::lock_guard lk(mu);
    ++errors;
    last_error = msg;
    breaker_reason = msg;
    ++consecutive_failures;
    const auto reopen = [this] {
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

  struct IoFailure {
    ErrorKind kind;
    std::string message;
  };

  IoFailure classify(const redisContext* c, int savedErrno, std::string_view what) const {
    const bool timedOut = c->err == REDIS_ERR_IO &&
                          (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK ||
                           std::strcmp(c->errstr, std::strerror(EAGAIN)) == 0);
    if (timedOut)
      return {ErrorKind::Timeout,
              "Redis " + std::string(what) + " timed out after " + ms(opt.command_timeout) + " at " + where};
    return {ErrorKind::Connection,
            "Redis connection to " + where + " lost during " + std::string(what) + ": " + c->errstr};
  }

  // Sends every command of the batch, then reads every reply: one round trip.
  // On an I/O error or timeout the context is unusable and the failure is returned.
  std::optional<IoFailure> roundTrip(redisContext* c, Batch& batch, std::string_view what,
                                     RawReplies& replies) const {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (redisAppendCommandArgv(c, batch.argc(i), batch.argv(i), batch.lens(i)) != REDIS_OK)
        return classify(c, errno, what);
    }
    replies.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      void* raw = nullptr;
      errno = 0;
      if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) return classify(c, errno, what);
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    return std::nullopt;
  }

  // Connects and prepares one connection (AUTH, SELECT, CLIENT SETNAME in one
  // round trip). Throws the typed error; network failures go to the breaker.
  ContextPtr connect(Admission& adm) {
    const auto& url = opt.url;
    const bool useTimeout = opt.connect_timeout.count() > 0;
    const timeval ctv = toTimeval(opt.connect_timeout);
    redisContext* raw = nullptr;
    if (url.isUnix())
      raw = useTimeout ? redisConnectUnixWithTimeout(url.unix_path.c_str(), ctv)
                       : redisConnectUnix(url.unix_path.c_str());
    else
      raw = useTimeout ? redisConnectWithTimeout(url.host.c_str(), url.port, ctv)
                       : redisConnect(url.host.c_str(), url.port);
    ContextPtr ctx(raw);
    const std::string failed = "Redis connection to " + where + " failed: ";
    if (!ctx) adm.networkFailure(ErrorKind::Connection, failed + "out of memory");
    if (ctx->err) adm.networkFailure(ErrorKind::Connection, failed + ctx->errstr);
    // A zero command_timeout (wait forever) clears SO_RCVTIMEO/SO_SNDTIMEO.
    if (redisSetTimeout(ctx.get(), toTimeval(opt.command_timeout)) != REDIS_OK ||
        (!url.isUnix() && redisEnableKeepAlive(ctx.get()) != REDIS_OK))
      adm.networkFailure(ErrorKind::Connection, failed + ctx->errstr);

    Batch setup;
    if (!url.password.empty()) {
      if (url.username.empty())
        setup.add({"AUTH", url.password});
      else
        setup.add({"AUTH", url.username, url.password});
    }
    const std::string db = std::to_string(url.db);
    if (url.db != 0) setup.add({"SELECT", db});
    if (!opt.client_name.empty()) setup.add({"CLIENT", "SETNAME", opt.client_name});
    if (setup.size() == 0) return ctx;

    RawReplies replies;
    if (auto f = roundTrip(ctx.get(), setup, "connection setup", replies)) adm.networkFailure(f->kind, f->message);
    const std::string user = url.username.empty() ? std::string("default") : url.username;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      const redisReply* r = replies[i].get();
      if (r->type != REDIS_REPLY_ERROR) continue;
      const std::string_view cmd = setup.name(i);
      const std::string text = redactSecrets(std::string(r->str, r->len));
      if (cmd == "AUTH") {
        adm.reachable();
        throw PermissionError("Redis authentication failed for user " + user + " at " + where + " (" + text + ")");
      }
      if (cmd == "SELECT") {
        adm.reachable();
        if (isPermissionReply(text))
          throw PermissionError("Redis user " + user + " may not select database " + db + " at " + where + ": " +
                                text);
        throw BadInputError("Redis database " + db + " is not available at " + where + ": " + text);
      }
      // CLIENT SETNAME is cosmetic: a restricted ACL user may lack +client.
    }
    return ctx;
  }

  // A usable connection whose slot is counted in open and in_use; the caller
  // wraps it in a Lease at once.
  ContextPtr acquire(Admission& adm) {
    const bool waitForever = opt.pool_wait.count() <= 0;
    const auto deadline = Clock::now() + opt.pool_wait;
    std::unique_lock lk(mu);
    for (;;) {
      if (!idle.empty()) {
        ContextPtr ctx = std::move(idle.back());
        idle.pop_back();
        ++in_use;
        lk.unlock();
        if (stillUsable(ctx.get())) return ctx;
        ctx.reset();  // the server closed it while idle (restart, timeout, CLIENT KILL)
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
        freed.wait(lk);
      } else if (freed.wait_until(lk, deadline) == std::cv_status::timeout && idle.empty() &&
                 open >= opt.pool_size) {
        const std::string msg = "Redis pool exhausted: all " + std::to_string(opt.pool_size) +
                                " connections to " + where + " busy for " + ms(opt.pool_wait);
        ++errors;
        last_error = msg;
        throw TimeoutError(msg);
      }
    }
  }

  // Fills a slot already reserved in open/in_use by the caller.
  ContextPtr connectSlot(Admission& adm) {
    ContextPtr ctx;
    try {
      ctx = connect(adm);
    } catch (const Error& e) {
      std::lock_guard lk(mu);
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
    std::lock_guard lk(mu);
    ++connects;
    backoff = milliseconds(0);
    connect_not_before = {};
    return ctx;
  }

  static bool stillUsable(redisContext* c) {
    if (c->err) return false;
    // An idle connection has nothing to read; readable means EOF or reset.
    pollfd p{c->fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  // EVAL -> EVALSHA for cached bodies; SCRIPT LOAD appended for new ones.
  struct ScriptRewrite {
    std::vector<std::size_t> evalsha;                    // commands sent as EVALSHA
    std::vector<std::string_view> bodies;                // their bodies (caller-owned), same order
    std::vector<std::shared_ptr<const std::string>> keep;  // shas in flight
    std::vector<std::string> loads;                      // bodies appended as SCRIPT LOAD
    std::size_t user_commands = 0;
  };
  void rewriteScripts(Batch& batch, ScriptRewrite& rw) {
    rw.user_commands = batch.size();
    bool any = false;  // the common case (GET, SET...) takes no lock
    for (std::size_t i = 0; i < rw.user_commands && !any; ++i) any = batch.name(i) == "EVAL";
    if (!any) return;
    std::lock_guard lk(scripts_mu);
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
  std::optional<IoFailure> finishScripts(redisContext* c, const Batch& batch, const ScriptRewrite& rw,
                                         RawReplies& raw) {
    if (rw.loads.empty() && rw.evalsha.empty()) return std::nullopt;
    {
      std::lock_guard lk(scripts_mu);
      for (std::size_t k = 0; k < rw.loads.size(); ++k) {
        const redisReply* r = raw[rw.user_commands + k].get();
        script_sha.insert_or_assign(rw.loads[k], r->type == REDIS_REPLY_STRING ? std::make_shared<const std::string>(r->str, r->len)
                                                                                 : nullptr);
      }
    }
    raw.resize(rw.user_commands);
    std::vector<Command> again;  // owned copies: a Batch only points at its arguments
    std::vector<std::size_t> at;
    for (std::size_t k = 0; k < rw.evalsha.size(); ++k) {
      const std::size_t i = rw.evalsha[k];
      const redisReply* r = raw[i].get();
      if (r->type != REDIS_REPLY_ERROR || std::string_view(r->str, r->len).substr(0, 8) != "NOSCRIPT") continue;
      Command cmd{"EVAL", std::string(rw.bodies[k])};
      for (int j = 2; j < batch.argc(i); ++j) cmd.emplace_back(batch.arg(i, j));
      again.push_back(std::move(cmd));
      at.push_back(i);
    }
    if (at.empty()) return std::nullopt;
    {
      std::lock_guard lk(scripts_mu);
      for (std::size_t k = 0; k < rw.evalsha.size(); ++k) if (auto it = script_sha.find(rw.bodies[k]); it != script_sha.end()) script_sha.erase(it);
    }
    Batch retry;
    for (const auto& cmd : again) retry.add(cmd);
    RawReplies replies;
    if (auto f = roundTrip(c, retry, "EVAL", replies)) return f;
    for (std::size_t k = 0; k < at.size(); ++k) raw[at[k]] = std::move(replies[k]);
    return std::nullopt;
  }

  // The one path every command takes.
  std::vector<Reply> execute(Batch& batch, std::string_view what) {
    Admission adm(*this);
    RawReplies raw;
    {
      Lease lease(*this, acquire(adm));
      ScriptRewrite rw;
      rewriteScripts(batch, rw);
      const auto t0 = Clock::now();
      auto failure = roundTrip(lease.get(), batch, what, raw);
      if (!failure) failure = finishScripts(lease.get(), batch, rw, raw);
      if (metrics) metrics->record(metrics::Op::RedisCommand, Clock::now() - t0);
      if (failure) {
        lease.discard();
        adm.networkFailure(failure->kind, failure->message);
      }
    }
    adm.reachable();

    std::vector<Reply> replies;
    replies.reserve(raw.size());
    std::string deniedMsg;
    for (auto& r : raw) {
      replies.push_back(convert(r.get()));
      const Reply& last = replies.back();
      if (deniedMsg.empty() && last.isError() && isPermissionReply(last.str))
        deniedMsg = "Redis permission denied at " + where + ": " + redactSecrets(last.str);
    }
    const bool denied = !deniedMsg.empty();
    {
      std::lock_guard lk(mu);
      commands += batch.size();
      if (denied) {
        ++errors;
        last_error = deniedMsg;
      }
    }
    if (denied) throw PermissionError(deniedMsg);
    return replies;
  }

  Reply one(Batch& batch) {
    auto replies = execute(batch, batch.name(0));
    return std::move(replies.front());
  }

  // `cmd key` answering an integer (PTTL, STRLEN).
  long long integerCommand(std::string_view cmd, std::string_view key);
};


namespace {

[[noreturn]] void unexpected(std::string_view cmd, const Reply& r) {
  if (r.isError()) throw DataError("Redis " + std::string(cmd) + " failed: " + redactSecrets(r.str));
  throw DataError("Redis " + std::string(cmd) + " returned an unexpected reply type");
}

}  // namespace

long long RedisClient::Impl::integerCommand(std::string_view cmd, std::string_view key) {
  Batch b;
  b.add({cmd, key});
  const Reply r = one(b);
  if (r.type != Reply::Type::Integer) unexpected(cmd, r);
  return r.integer;
}

namespace {

RedisOptions normalized(RedisOptions o) {
  if (o.url.connect_timeout_ms) o.connect_timeout = milliseconds(*o.url.connect_timeout_ms);
  if (o.url.command_timeout_ms) o.command_timeout = milliseconds(*o.url.command_timeout_ms);
  if (o.pool_size < 1) throw BadInputError("Redis pool_size must be at least 1");
  if (o.reconnect_max < o.reconnect_min) o.reconnect_max = o.reconnect_min;
  return o;
}

}  // namespace

RedisClient::RedisClient(RedisOptions options, metrics::Metrics* metrics)
    : impl_(std::make_unique<Impl>(normalized(std::move(options)), metrics)) {
  ignoreSigpipeOnce();
}

RedisClient::~RedisClient() = default;

Reply RedisClient::command(const Command& argv) {
  if (argv.empty()) throw BadInputError("empty Redis command");
  Batch b;
  b.add(argv);
  return impl_->one(b);
}

std::vector<Reply> RedisClient::pipeline(const std::vector<Command>& commands) {
  if (commands.empty()) return {};
  Batch b;
  for (const auto& c : commands) {
    if (c.empty()) throw BadInputError("empty Redis command in a pipeline");
    b.add(c);
  }
  return impl_->execute(b, "pipeline");
}

std::vector<Reply> RedisClient::pipelineViews(const std::vector<std::vector<std::string_view>>& commands) {
  if (commands.empty()) return {};
  Batch b;
  for (const auto& c : commands) {
    if (c.empty()) throw BadInputError("empty Redis command in a pipeline");
    b.add(c);
  }
  return impl_->execute(b, "pipeline");
}

std::optional<std::string> RedisClient::get(std::string_view key) {
  Batch b;
  b.add({"GET", key});
  Reply r = impl_->one(b);
  if (r.isNil()) return std::nullopt;
  if (r.type != Reply::Type::String) unexpected("GET", r);
  return std::move(r.str);
}

void RedisClient::set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  if (ttl.count() < 0) throw BadInputError("Redis SET: negative TTL");
  Batch b;
  const std::string px = std::to_string(ttl.count());
  if (ttl.count() > 0)
    b.add({"SET", key, value, "PX", px});
  else
    b.add({"SET", key, value});
  const Reply r = impl_->one(b);
  if (r.type != Reply::Type::Status) unexpected("SET", r);
}

long long RedisClient::unlink(const std::vector<std::string>& keys) {
  if (keys.empty()) return 0;
  Batch b;
  b.add({"UNLINK"});
  b.addAll(keys);
  const Reply r = impl_->one(b);
  if (r.type != Reply::Type::Integer) unexpected("UNLINK", r);
  return r.integer;
}

long long RedisClient::ttlMillis(std::string_view key) { return impl_->integerCommand("PTTL", key); }

long long RedisClient::strlen(std::string_view key) { return impl_->integerCommand("STRLEN", key); }

ScanPage RedisClient::scan(std::string_view cursor, std::string_view match, int count) {
  Batch b;
  const std::string countArg = std::to_string(count);
  if (!match.empty() && count > 0)
    b.add({"SCAN", cursor, "MATCH", match, "COUNT", countArg});
  else if (!match.empty())
    b.add({"SCAN", cursor, "MATCH", match});
  else if (count > 0)
    b.add({"SCAN", cursor, "COUNT", countArg});
  else
    b.add({"SCAN", cursor});
  Reply r = impl_->one(b);
  if (r.type != Reply::Type::Array || r.elements.size() != 2 || r.elements[0].type != Reply::Type::String ||
      r.elements[1].type != Reply::Type::Array)
    unexpected("SCAN", r);
  ScanPage page;
  page.cursor = std::move(r.elements[0].str);
  page.keys.reserve(r.elements[1].elements.size());
  for (auto& k : r.elements[1].elements) {
    if (k.type != Reply::Type::String) unexpected("SCAN", r);
    page.keys.push_back(std::move(k.str));
  }
  return page;
}

std::string RedisClient::info(std::string_view section) {
  Batch b;
  if (section.empty())
    b.add({"INFO"});
  else
    b.add({"INFO", section});
  Reply r = impl_->one(b);
  if (r.type != Reply::Type::String) unexpected("INFO", r);
  return std::move(r.str);
}

std::chrono::microseconds RedisClient::ping() {
  Batch b;
  b.add({"PING"});
  const auto t0 = Clock::now();
  const Reply r = impl_->one(b);
  const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
  if (r.type != Reply::Type::Status || r.str != "PONG") unexpected("PING", r);
  return rtt;
}

bool RedisClient::isAvailable() {
  try {
    ping();
    return true;
  } catch (const Error&) {
    return false;
  }
}

PoolStats RedisClient::poolStats() const {
  PoolStats s;
  std::lock_guard lk(impl_->mu);
  s.size = impl_->opt.pool_size;
  s.open = impl_->open;
  s.in_use = impl_->in_use;
  s.connects = impl_->connects;
  s.connect_failures = impl_->connect_failures;
  s.commands = impl_->commands;
  s.errors = impl_->errors;
  s.breaker = impl_->state;
  s.last_error = impl_->last_error;
  return s;
}

BreakerState RedisClient::breakerState() const {
  std::lock_guard lk(impl_->mu);
  // Past its open period the breaker lets the next call probe: report that,
  // so callers that check the state first don't keep L2 off for good.
  if (impl_->state == BreakerState::Open && Clock::now() >= impl_->open_until) return BreakerState::HalfOpen;
  return impl_->state;
}

const RedisOptions& RedisClient::options() const noexcept { return impl_->opt; }

}  // namespace tier::redis
