#include "tier/redis/connection.h"

// The one file of the project that includes hiredis (tier/redis/connection.h says why).
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "redis/batch.h"

namespace tier::redis {
namespace {

using std::chrono::milliseconds;

struct ContextDeleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval toTimeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string ms(milliseconds d) {
  return std::to_string(d.count()) + " ms";
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
    default: out.type = Reply::Type::Nil; break;
  }
  return out;
}

// The role a ROLE reply names when it is not "master" ("slave", "sentinel");
// nullopt for a master, and for a reply that is not a ROLE array (an error: a
// user without +role skips the check).
std::optional<std::string> notMasterRole(const Reply& r) {
  if (r.type != Reply::Type::Array || r.elements.empty() || r.elements[0].type != Reply::Type::String)
    return std::nullopt;
  if (r.elements[0].str == "master") return std::nullopt;
  return r.elements[0].str;
}

[[noreturn]] void raise(const IoFailure& f) {
  if (f.kind == ErrorKind::Timeout) throw TimeoutError(f.message);
  throw ConnectionError(f.message);
}

}  // namespace

bool isPermissionReply(std::string_view msg) noexcept {
  return msg.starts_with("NOPERM") || msg.starts_with("NOAUTH") || msg.starts_with("WRONGPASS") ||
         (msg.starts_with("ERR") && msg.find("invalid username-password") != std::string_view::npos);
}

void ignoreSigpipeOnce() {
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

struct Connection::Impl {
  ContextPtr ctx;
  RedisUrl url;
  ConnectOptions opt;
  std::string where;
  std::vector<std::string_view> handshake;  // the commands appendHandshake() sent, in order
  std::string db;                           // SELECT's argument, for messages

  // hiredis reports a socket timeout as an I/O error with EAGAIN.
  IoFailure classify(int savedErrno, std::string_view what) const {
    const redisContext* c = ctx.get();
    const bool timedOut = c->err == REDIS_ERR_IO && (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK ||
                                                     std::strcmp(c->errstr, std::strerror(EAGAIN)) == 0);
    if (timedOut)
      return {ErrorKind::Timeout,
              "Redis " + std::string(what) + " timed out after " + ms(opt.command_timeout) + " at " + where};
    return {ErrorKind::Connection,
            "Redis connection to " + where + " lost during " + std::string(what) + ": " + c->errstr};
  }

  void appendArgv(int argc, const char** argv, const std::size_t* lens) {
    // Only fails out of memory; the next write or read then reports the context's error.
    redisAppendCommandArgv(ctx.get(), argc, argv, lens);
  }

  template <typename Range>
  void appendRange(const Range& args) {
    absl::InlinedVector<const char*, 8> argv;
    absl::InlinedVector<std::size_t, 8> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    appendArgv(static_cast<int>(argv.size()), argv.data(), lens.data());
  }

  // Blocking: the next `n` replies (hiredis writes what is appended first).
  std::optional<IoFailure> read(std::size_t n, std::string_view what, std::vector<Reply>& out) {
    out.reserve(out.size() + n);
    for (std::size_t i = 0; i < n; ++i) {
      void* raw = nullptr;
      errno = 0;
      if (redisGetReply(ctx.get(), &raw) != REDIS_OK || raw == nullptr) return classify(errno, what);
      const ReplyPtr r(static_cast<redisReply*>(raw));
      out.push_back(convert(r.get()));
    }
    return std::nullopt;
  }
};

Connection::Connection() noexcept = default;
Connection::Connection(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

const std::string& Connection::where() const noexcept {
  static const std::string none = "(not connected)";
  return impl_ ? impl_->where : none;
}

Connection Connection::connectOnly(const RedisUrl& url, const ConnectOptions& options) {
  ignoreSigpipeOnce();
  auto impl = std::make_unique<Impl>();
  impl->url = url;
  impl->opt = options;
  impl->where = options.where.empty() ? url.endpoint() : options.where;
  const bool useTimeout = options.connect_timeout.count() > 0;
  const timeval ctv = toTimeval(options.connect_timeout);
  redisContext* raw = nullptr;
  if (url.isUnix())
    raw =
        useTimeout ? redisConnectUnixWithTimeout(url.unix_path.c_str(), ctv) : redisConnectUnix(url.unix_path.c_str());
  else
    raw = useTimeout ? redisConnectWithTimeout(url.host.c_str(), url.port, ctv)
                     : redisConnect(url.host.c_str(), url.port);
  impl->ctx.reset(raw);
  const std::string failed = "Redis connection to " + impl->where + " failed: ";
  if (!impl->ctx) throw ConnectionError(failed + "out of memory");
  if (impl->ctx->err) throw ConnectionError(failed + impl->ctx->errstr);
  // A zero command_timeout (wait forever) clears SO_RCVTIMEO/SO_SNDTIMEO.
  if (redisSetTimeout(impl->ctx.get(), toTimeval(options.command_timeout)) != REDIS_OK ||
      (!url.isUnix() && redisEnableKeepAlive(impl->ctx.get()) != REDIS_OK))
    throw ConnectionError(failed + impl->ctx->errstr);
  return Connection(std::move(impl));
}

std::size_t Connection::appendHandshake() {
  Impl& d = *impl_;
  const RedisUrl& url = d.url;
  d.handshake.clear();
  if (!url.password.empty()) {
    if (url.username.empty())
      append({"AUTH", url.password});
    else
      append({"AUTH", url.username, url.password});
    d.handshake.push_back("AUTH");
  }
  d.db = std::to_string(url.db);
  if (d.opt.select_db && url.db != 0) {
    append({"SELECT", d.db});
    d.handshake.push_back("SELECT");
  }
  if (!d.opt.client_name.empty()) {
    append({"CLIENT", "SETNAME", d.opt.client_name});
    d.handshake.push_back("CLIENT");
  }
  if (d.opt.readonly) {
    append({"READONLY"});
    d.handshake.push_back("READONLY");
  }
  if (d.opt.verify_master) {
    append({"ROLE"});
    d.handshake.push_back("ROLE");
  }
  return d.handshake.size();
}

void Connection::checkHandshake(const std::vector<Reply>& replies) const {
  const Impl& d = *impl_;
  const std::string user = d.url.username.empty() ? std::string("default") : d.url.username;
  for (std::size_t i = 0; i < replies.size() && i < d.handshake.size(); ++i) {
    const Reply& r = replies[i];
    if (!r.isError()) continue;
    const std::string text = redactSecrets(r.str);
    if (d.handshake[i] == "AUTH")
      throw PermissionError("Redis authentication failed for user " + user + " at " + d.where + " (" + text + ")");
    if (d.handshake[i] == "SELECT") {
      if (isPermissionReply(text))
        throw PermissionError("Redis user " + user + " may not select database " + d.db + " at " + d.where + ": " +
                              text);
      throw BadInputError("Redis database " + d.db + " is not available at " + d.where + ": " + text);
    }
    // CLIENT SETNAME is cosmetic: a restricted ACL user may lack +client.
    // ROLE likewise (@admin): without it, a READONLY reply still tells.
  }
  if (!d.handshake.empty() && d.handshake.back() == "ROLE" && replies.size() >= d.handshake.size()) {
    if (auto role = notMasterRole(replies[d.handshake.size() - 1]))
      throw ConnectionError("Redis " + d.where + " is not a master (ROLE: " + *role +
                            "): the sentinels' answer is out of date or a failover is under way");
  }
}

Connection Connection::open(const RedisUrl& url, const ConnectOptions& options) {
  Connection c = connectOnly(url, options);
  const std::size_t n = c.appendHandshake();
  if (n == 0) return c;
  std::vector<Reply> replies;
  if (auto f = c.impl_->read(n, "connection setup", replies)) raise(*f);
  c.checkHandshake(replies);
  return c;
}

Reply Connection::command(std::initializer_list<std::string_view> args) {
  impl_->appendRange(args);
  std::vector<Reply> out;
  if (auto f = impl_->read(1, args.size() ? *args.begin() : std::string_view("command"), out)) raise(*f);
  return std::move(out.front());
}

Reply Connection::command(const std::vector<std::string_view>& args) {
  impl_->appendRange(args);
  std::vector<Reply> out;
  if (auto f = impl_->read(1, args.empty() ? std::string_view("command") : args.front(), out)) raise(*f);
  return std::move(out.front());
}

Reply::Type Connection::commandReplyType(std::initializer_list<std::string_view> args) {
  impl_->appendRange(args);
  void* raw = nullptr;
  errno = 0;
  if (redisGetReply(impl_->ctx.get(), &raw) != REDIS_OK || raw == nullptr)
    raise(impl_->classify(errno, args.size() ? *args.begin() : std::string_view("command")));
  const ReplyPtr r(static_cast<redisReply*>(raw));
  switch (r->type) {
    case REDIS_REPLY_STRING: return Reply::Type::String;
    case REDIS_REPLY_STATUS: return Reply::Type::Status;
    case REDIS_REPLY_ERROR: return Reply::Type::Error;
    case REDIS_REPLY_INTEGER: return Reply::Type::Integer;
    case REDIS_REPLY_ARRAY: return Reply::Type::Array;
    default: return Reply::Type::Nil;
  }
}

std::optional<IoFailure> Connection::roundTrip(const Batch& batch, std::string_view what, std::vector<Reply>& out) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (redisAppendCommandArgv(impl_->ctx.get(), batch.argc(i), const_cast<const char**>(batch.argv(i)),
                               batch.lens(i)) != REDIS_OK)
      return impl_->classify(errno, what);
  }
  return impl_->read(batch.size(), what, out);
}

void Connection::append(std::initializer_list<std::string_view> args) {
  impl_->appendRange(args);
}
void Connection::append(const std::vector<std::string_view>& args) {
  impl_->appendRange(args);
}
void Connection::append(const Command& args) {
  impl_->appendRange(args);
}

std::optional<IoFailure> Connection::flush() {
  int done = 0;
  while (!done) {
    errno = 0;
    if (redisBufferWrite(impl_->ctx.get(), &done) != REDIS_OK) {
      IoFailure f = impl_->classify(errno, "write");
      if (f.kind == ErrorKind::Connection) f.message = "writing to " + impl_->where + " failed: " + impl_->ctx->errstr;
      return f;
    }
  }
  return std::nullopt;
}

Connection::Take Connection::takeBuffered(Reply& out, IoFailure& failure) {
  void* raw = nullptr;
  if (redisGetReplyFromReader(impl_->ctx.get(), &raw) != REDIS_OK) {
    failure = {ErrorKind::Connection, "protocol error from " + impl_->where};
    return Take::Failed;
  }
  if (!raw) return Take::NeedMore;
  const ReplyPtr r(static_cast<redisReply*>(raw));
  out = convert(r.get());
  return Take::Reply;
}

std::optional<IoFailure> Connection::readSocket() {
  redisContext* c = impl_->ctx.get();
  if (redisBufferRead(c) != REDIS_OK)
    return IoFailure{ErrorKind::Connection,
                     "connection to " + impl_->where + " lost: " +
                         (c->err == REDIS_ERR_EOF ? std::string("closed by the server") : std::string(c->errstr))};
  return std::nullopt;
}

int Connection::fd() const noexcept {
  return impl_ ? impl_->ctx->fd : -1;
}

bool Connection::idleAndOpen() const noexcept {
  if (!impl_ || impl_->ctx->err) return false;
  // An idle connection has nothing to read; readable means EOF or reset.
  pollfd p{impl_->ctx->fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace tier::redis
