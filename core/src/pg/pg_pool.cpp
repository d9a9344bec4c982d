#include "tier/pg/pg_pool.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/metrics/metrics.h"

namespace tier::pg {
namespace {

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

// Counters shared by the pool and its connections.
struct Counters {
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> queries{0};
  std::atomic<std::uint64_t> errors{0};
  Mutex last_error_mu;
  std::string last_error TIER_GUARDED_BY(last_error_mu);

  void setLastError(const std::string& e) {
    MutexLock lock(last_error_mu);
    last_error = e;
  }
};

// libpq messages are multi-line ("...\n\tIs the server running...\n"); ours are one line.
std::string oneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Removes a known secret verbatim (a password libpq might echo) on top of redactSecrets.
std::string scrub(std::string text, const std::string& secret) {
  if (!secret.empty()) {
    for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
      text.replace(pos, secret.size(), "***");
  }
  return redactSecrets(text);
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

bool mentionsSecret(std::string_view conninfo) {
  std::string lower(conninfo);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (contains(lower, "pass")) return true;
  // URI userinfo "user:secret@"
  const auto scheme = lower.find("://");
  const auto at = lower.find('@');
  return scheme != std::string::npos && at != std::string::npos && lower.find(':', scheme + 3) < at;
}

// Parses the conninfo with libpq itself; throws BadInputError (redacted) if malformed.
ConninfoPtr parseConninfo(const std::string& conninfo) {
  char* err = nullptr;
  ConninfoPtr opts(PQconninfoParse(conninfo.c_str(), &err));
  if (!opts) {
    std::string msg = err ? oneLine(err) : std::string("out of memory");
    if (err) PQfreemem(err);
    // libpq quotes the offending fragment, which may be (part of) a password.
    if (mentionsSecret(conninfo) && conninfo.find('"') != std::string::npos) {
      // A '"' in the string breaks the pairing of libpq's quotes: hide all between the outer ones.
      const std::size_t first = msg.find('"'), last = msg.rfind('"');
      if (first != last) msg = msg.substr(0, first) + "\"***\"" + msg.substr(last + 1);
    } else if (mentionsSecret(conninfo)) {
      // Keep one-character quotes ("=", "]"): they explain the error and hide nothing.
      std::string cleaned;
      std::size_t pos = 0;
      while (pos < msg.size()) {
        const std::size_t open = msg.find('"', pos);
        const std::size_t close = open == std::string::npos ? open : msg.find('"', open + 1);
        if (close == std::string::npos) {
          cleaned += msg.substr(pos);
          break;
        }
        cleaned += msg.substr(pos, open - pos);
        cleaned += close - open <= 2 ? msg.substr(open, close - open + 1) : std::string("\"***\"");
        pos = close + 1;
      }
      msg = cleaned;
    }
    throw BadInputError("invalid PostgreSQL connection string: " + redactSecrets(msg));
  }
  return opts;
}

const char* optionValue(const PQconninfoOption* opts, std::string_view key) {
  for (const PQconninfoOption* o = opts; o && o->keyword; ++o)
    if (key == o->keyword) return o->val;
  return nullptr;
}

bool envSet(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

// Maps a failed result to the typed error of the header's contract.
[[noreturn]] void throwFor(PGconn* conn, const PGresult* res, const std::string& context, const std::string& secret) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg;
  if (res) {
    if (const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)) msg = primary;
  }
  if (msg.empty()) msg = PQerrorMessage(conn);
  msg = scrub(oneLine(msg), secret);
  const std::string sqlstate = state ? state : "";
  const std::string full = "PostgreSQL " + context + ": " + msg + (sqlstate.empty() ? "" : " [" + sqlstate + "]");
  const bool lost = PQstatus(conn) == CONNECTION_BAD;
  if (lost || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0) throw ConnectionError(full);
  if (sqlstate == "57014" || sqlstate == "55P03") throw TimeoutError(full);
  if (sqlstate == "42501" || sqlstate.rfind("28", 0) == 0) throw PermissionError(full);
  if (sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0) throw BadInputError(full);
  throw DataError(full);
}

std::string describeSql(std::string_view sql) {
  std::string s = oneLine(sql.substr(0, 60));
  if (sql.size() > 60) s += "...";
  return "query failed (" + s + ")";
}

}  // namespace

// ---- Result

struct Result::Impl {
  ResultPtr res;
};

Result::Result() = default;
Result::~Result() = default;
Result::Result(Result&&) noexcept = default;
Result& Result::operator=(Result&&) noexcept = default;

int Result::rows() const noexcept { return impl_ ? PQntuples(impl_->res.get()) : 0; }
int Result::columns() const noexcept { return impl_ ? PQnfields(impl_->res.get()) : 0; }

int Result::column(std::string_view name) const {
  for (int c = 0; c < columns(); ++c)
    if (name == PQfname(impl_->res.get(), c)) return c;
  throw DataError("PostgreSQL result has no column \"" + std::string(name) + "\"");
}

std::string_view Result::columnName(int col) const {
  if (col < 0 || col >= columns()) throw DataError("PostgreSQL result column index out of range");
  return PQfname(impl_->res.get(), col);
}

namespace {
void checkCell(int rows, int cols, int row, int col) {
  if (row < 0 || row >= rows || col < 0 || col >= cols)
    throw DataError("PostgreSQL result cell (" + std::to_string(row) + ", " + std::to_string(col) +
                    ") out of range");
}
}  // namespace

bool Result::isNull(int row, int col) const {
  checkCell(rows(), columns(), row, col);
  return PQgetisnull(impl_->res.get(), row, col) != 0;
}

std::string_view Result::value(int row, int col) const {
  checkCell(rows(), columns(), row, col);
  return {PQgetvalue(impl_->res.get(), row, col),
          static_cast<std::size_t>(PQgetlength(impl_->res.get(), row, col))};
}

std::optional<std::string> Result::optional(int row, int col) const {
  if (isNull(row, col)) return std::nullopt;
  return std::string(value(row, col));
}

long long Result::toInt(int row, int col) const {
  const std::string_view v = value(row, col);
  long long out = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size())
    throw DataError("PostgreSQL value \"" + std::string(v.substr(0, 40)) + "\" is not an integer");
  return out;
}

double Result::toDouble(int row, int col) const {
  const std::string_view v = value(row, col);
  double out = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size())
    throw DataError("PostgreSQL value \"" + std::string(v.substr(0, 40)) + "\" is not a number");
  return out;
}

long long Result::affected() const {
  if (!impl_) return 0;
  const char* n = PQcmdTuples(impl_->res.get());
  return (n && *n) ? std::atoll(n) : 0;
}

// ---- Connection

struct Connection::Impl {
  ConnPtr conn;
  std::unordered_set<std::string> prepared;  // statement names prepared on this connection
  metrics::Metrics* metrics = nullptr;
  Counters* counters = nullptr;
  std::string secret;  // the password we were given, scrubbed from messages
  // Set by the notice receiver when the server sent FATAL/PANIC while we were
  // idle (pg_terminate_backend, shutdown): libpq reports that as a notice and
  // keeps CONNECTION_OK until the EOF arrives, which can be a while later.
  bool server_closing = false;

  Result take(ResultPtr res) {
    Result r;
    r.impl_ = std::make_unique<Result::Impl>();
    r.impl_->res = std::move(res);
    return r;
  }

  [[noreturn]] void fail(const PGresult* res, const std::string& context) {
    counters->errors.fetch_add(1, std::memory_order_relaxed);
    try {
      throwFor(conn.get(), res, context, secret);
    } catch (const Error& e) {
      counters->setLastError(e.what());
      throw;
    }
  }

  // Checks a result; returns it when it succeeded.
  Result check(ResultPtr res, const std::string& context) {
    const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return take(std::move(res));
    fail(res.get(), context);
  }

  static std::vector<const char*> values(const Params& params) {
    std::vector<const char*> v;
    v.reserve(params.size());
    for (const Param& p : params) {
      // Text-format parameters are C strings: a NUL would silently truncate the value.
      if (p && p->find('\0') != std::string::npos)
        throw BadInputError("PostgreSQL text parameter contains a NUL byte");
      v.push_back(p ? p->c_str() : nullptr);
    }
    return v;
  }
};

Connection::Connection() : impl_(std::make_unique<Impl>()) {}
Connection::~Connection() = default;

Result Connection::exec(std::string_view sql, const Params& params) {
  const std::vector<const char*> vals = Impl::values(params);
  const std::string text(sql);
  metrics::ScopedTimer timer(impl_->metrics, metrics::Op::DbQuery);
  impl_->counters->queries.fetch_add(1, std::memory_order_relaxed);
  ResultPtr res(PQexecParams(impl_->conn.get(), text.c_str(), static_cast<int>(vals.size()), nullptr, vals.data(),
                             nullptr, nullptr, 0));
  return impl_->check(std::move(res), describeSql(sql));
}

Result Connection::execPrepared(std::string_view name, std::string_view sql, const Params& params) {
  const std::vector<const char*> vals = Impl::values(params);
  const std::string stmt(name);
  metrics::ScopedTimer timer(impl_->metrics, metrics::Op::DbQuery);
  impl_->counters->queries.fetch_add(1, std::memory_order_relaxed);
  for (int attempt = 0;; ++attempt) {
    if (!impl_->prepared.count(stmt)) {
      const std::string text(sql);
      ResultPtr prep(PQprepare(impl_->conn.get(), stmt.c_str(), text.c_str(), static_cast<int>(vals.size()), nullptr));
      impl_->check(std::move(prep), "prepare " + stmt + " failed");
      impl_->prepared.insert(stmt);
    }
    ResultPtr res(PQexecPrepared(impl_->conn.get(), stmt.c_str(), static_cast<int>(vals.size()), vals.data(), nullptr,
                                 nullptr, 0));
    const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    // Someone ran DEALLOCATE/DISCARD ALL on this session: prepare again, once.
    if (attempt == 0 && state && std::strcmp(state, "26000") == 0 &&
        PQtransactionStatus(impl_->conn.get()) == PQTRANS_IDLE) {
      impl_->prepared.erase(stmt);
      continue;
    }
    return impl_->check(std::move(res), "statement " + stmt + " failed");
  }
}

long long Connection::copyIn(std::string_view copySql, const std::vector<std::string>& chunks) {
  std::size_t i = 0;
  return copyIn(copySql, [&](std::string& chunk) {
    if (i >= chunks.size()) return false;
    chunk = chunks[i++];
    return true;
  });
}

long long Connection::copyIn(std::string_view copySql, const std::function<bool(std::string& chunk)>& next) {
  PGconn* c = impl_->conn.get();
  const std::string text(copySql);
  impl_->counters->queries.fetch_add(1, std::memory_order_relaxed);
  ResultPtr start(PQexec(c, text.c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    if (start && PQresultStatus(start.get()) != PGRES_FATAL_ERROR) {
      // Not a COPY FROM STDIN statement: drain whatever it produced and refuse.
      while (ResultPtr extra{PQgetResult(c)}) {
      }
      throw BadInputError("copyIn needs a COPY ... FROM STDIN statement");
    }
    impl_->fail(start.get(), "COPY failed");
  }
  start.reset();
  std::string chunk;
  std::string clientError;
  try {
    while (true) {
      chunk.clear();
      if (!next(chunk)) break;
      if (chunk.empty()) continue;
      if (PQputCopyData(c, chunk.data(), static_cast<int>(chunk.size())) != 1) break;  // the result says why
    }
  } catch (const std::exception& e) {
    clientError = e.what();
  }
  PQputCopyEnd(c, clientError.empty() ? nullptr : "aborted by client");
  ResultPtr res(PQgetResult(c));
  while (ResultPtr extra{PQgetResult(c)}) {
  }
  if (!clientError.empty()) throw DataError("COPY aborted: " + oneLine(clientError));
  const Result r = impl_->check(std::move(res), "COPY failed");
  return r.affected();
}

void Connection::execScript(std::string_view sql) {
  const std::string text(sql);
  impl_->counters->queries.fetch_add(1, std::memory_order_relaxed);
  // PQexec returns the last statement's result; an error stops the script there.
  ResultPtr res(PQexec(impl_->conn.get(), text.c_str()));
  impl_->check(std::move(res), "script failed");
}

void Connection::begin() { exec("BEGIN"); }
void Connection::commit() { exec("COMMIT"); }

void Connection::rollback() {
  PGconn* c = impl_->conn.get();
  if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) == PQTRANS_IDLE) return;
  ResultPtr res(PQexec(c, "ROLLBACK"));
}

Transaction::Transaction(Connection& c) : c_(&c) { c.begin(); }

Transaction::Transaction(Transaction&& other) noexcept : c_(other.c_), open_(other.open_) {
  other.c_ = nullptr;
  other.open_ = false;
}

Transaction::~Transaction() {
  if (open_ && c_) c_->rollback();
}

void Transaction::commit() {
  if (!open_ || !c_) throw Error(ErrorKind::Internal, "commit() of a transaction that is not open");
  // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an
  // error: a caller that caught a statement's error and went on must not be
  // told its writes were kept.
  if (PQtransactionStatus(c_->impl_->conn.get()) == PQTRANS_INERROR)
    throw DataError("COMMIT refused: a statement of this transaction failed, so it was rolled back");
  c_->commit();
  open_ = false;
}

std::string Connection::serverVersion() const {
  const int v = PQserverVersion(impl_->conn.get());
  if (v <= 0) return {};
  if (v >= 100000) return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

std::string Connection::user() const {
  const char* u = PQuser(impl_->conn.get());
  return u ? u : "";
}

std::string Connection::database() const {
  const char* d = PQdb(impl_->conn.get());
  return d ? d : "";
}

int Connection::backendPid() const { return PQbackendPID(impl_->conn.get()); }

bool Connection::isOk() const { return impl_->conn && PQstatus(impl_->conn.get()) == CONNECTION_OK; }

std::string copyEscape(std::string_view field) {
  std::string out;
  out.reserve(field.size() + 8);
  for (char c : field) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': break;  // COPY text cannot carry NUL; PostgreSQL text cannot store it either
      default: out.push_back(c);
    }
  }
  return out;
}

// ---- PgPool

struct PgPool::Impl {
  PgOptions opt;
  metrics::Metrics* metrics = nullptr;
  Counters counters;

  mutable Mutex mu;
  CondVar cv;
  std::vector<std::unique_ptr<Connection>> open TIER_GUARDED_BY(mu);
  std::vector<Connection*> idle TIER_GUARDED_BY(mu);
  int connecting TIER_GUARDED_BY(mu) = 0;  // slots reserved by connects in flight
  int in_use TIER_GUARDED_BY(mu) = 0;

  std::unique_ptr<Connection> connect();
  void discard(Connection* c) TIER_REQUIRES(mu);
};

namespace {
// An idle connection the server closed (pg_terminate_backend, restart) has its
// FATAL message and EOF waiting on the socket; reading them marks it bad.
// The FATAL message comes first and the EOF after the backend has cleaned up, so
// the message alone must be enough (server_closing, set by the notice receiver
// while PQisBusy parses what PQconsumeInput read).
bool stillAlive(PGconn* c, const bool& serverClosing) {
  if (PQstatus(c) != CONNECTION_OK || serverClosing) return false;
  for (int i = 0; i < 3; ++i) {
    pollfd p{PQsocket(c), POLLIN, 0};
    if (p.fd < 0) return false;
    if (::poll(&p, 1, 0) <= 0) break;  // nothing pending: the usual case
    if (!PQconsumeInput(c)) return false;
    (void)PQisBusy(c);  // parses the input: notices reach the receiver
    while (PGnotify* n = PQnotifies(c)) PQfreemem(n);
    if (serverClosing) return false;
  }
  return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
}
}  // namespace

std::unique_ptr<Connection> PgPool::Impl::connect() {
  ConninfoPtr parsed = parseConninfo(opt.conninfo);
  std::string secret;
  if (const char* pw = optionValue(parsed.get(), "password")) secret = pw;
  if (secret.empty() && envSet("PGPASSWORD")) secret = std::getenv("PGPASSWORD");

  std::vector<std::pair<std::string, std::string>> extra;
  if (opt.connect_timeout.count() > 0 && !optionValue(parsed.get(), "connect_timeout") && !envSet("PGCONNECT_TIMEOUT"))
    extra.emplace_back("connect_timeout", std::to_string((opt.connect_timeout.count() + 999) / 1000));
  if (!opt.application_name.empty()) extra.emplace_back("fallback_application_name", opt.application_name);
  // Our strings are UTF-8; the server then rejects invalid bytes instead of storing them.
  if (!optionValue(parsed.get(), "client_encoding") && !envSet("PGCLIENTENCODING"))
    extra.emplace_back("client_encoding", "UTF8");

  std::vector<const char*> keys{"dbname"};
  std::vector<const char*> vals{opt.conninfo.c_str()};
  for (const auto& [k, v] : extra) {
    keys.push_back(k.c_str());
    vals.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  vals.push_back(nullptr);

  ConnPtr conn(PQconnectdbParams(keys.data(), vals.data(), 1));
  if (!conn) throw ConnectionError("PostgreSQL: out of memory creating a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    const std::string raw = PQerrorMessage(conn.get());
    const std::string msg = scrub(oneLine(raw), secret);
    const char* u = PQuser(conn.get());
    const std::string who = u ? u : "";
    counters.connect_failures.fetch_add(1, std::memory_order_relaxed);
    std::string text;
    try {
      if (PQconnectionNeedsPassword(conn.get()) || contains(raw, "password authentication failed") ||
          contains(raw, "authentication failed for user"))
        throw PermissionError("PostgreSQL authentication failed for user " + who);
      if (contains(raw, "no pg_hba.conf entry") || (contains(raw, "role \"") && contains(raw, "does not exist")) ||
          contains(raw, "permission denied"))
        throw PermissionError("PostgreSQL refused the connection: " + msg);
      if (contains(raw, "invalid ") && contains(raw, " value"))
        throw BadInputError("invalid PostgreSQL connection option: " + msg);
      if (contains(raw, "timeout expired")) throw TimeoutError("PostgreSQL connect timed out: " + msg);
      throw ConnectionError("cannot connect to PostgreSQL: " + msg);
    } catch (const Error& e) {
      counters.setLastError(e.what());
      throw;
    }
  }

  // NOTICEs ("relation already exists, skipping") are not errors and must not reach
  // stderr; a FATAL that arrives while idle marks the connection unusable.
  auto c = std::unique_ptr<Connection>(new Connection());
  PQsetNoticeReceiver(
      conn.get(),
      [](void* arg, const PGresult* res) {
        const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
        if (severity && (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0))
          *static_cast<bool*>(arg) = true;
      },
      &c->impl_->server_closing);
  c->impl_->conn = std::move(conn);
  c->impl_->metrics = metrics;
  c->impl_->counters = &counters;
  c->impl_->secret = secret;
  if (opt.statement_timeout.count() > 0) {
    try {
      c->exec("SELECT set_config('statement_timeout', $1, false)",
              {std::to_string(opt.statement_timeout.count()) + "ms"});
    } catch (const Error&) {
      counters.connect_failures.fetch_add(1, std::memory_order_relaxed);
      throw;
    }
  }
  counters.connects.fetch_add(1, std::memory_order_relaxed);
  return c;
}

void PgPool::Impl::discard(Connection* c) {
  idle.erase(std::remove(idle.begin(), idle.end(), c), idle.end());
  open.erase(std::remove_if(open.begin(), open.end(), [c](const auto& p) { return p.get() == c; }), open.end());
}

PgPool::PgPool(PgOptions options, metrics::Metrics* metrics) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  impl_->opt.pool_size = std::max(1, impl_->opt.pool_size);
  impl_->metrics = metrics;
}

PgPool::~PgPool() = default;

PgPool::Lease PgPool::acquire() {
  const bool forever = impl_->opt.pool_wait.count() <= 0;
  const auto deadline = std::chrono::steady_clock::now() + impl_->opt.pool_wait;
  MutexLock lock(impl_->mu);
  while (true) {
    while (!impl_->idle.empty()) {
      Connection* c = impl_->idle.back();
      impl_->idle.pop_back();
      if (stillAlive(c->impl_->conn.get(), c->impl_->server_closing)) {
        ++impl_->in_use;
        return Lease(this, c);
      }
      impl_->discard(c);
    }
    if (static_cast<int>(impl_->open.size()) + impl_->connecting < impl_->opt.pool_size) {
      ++impl_->connecting;
      lock.unlock();
      std::unique_ptr<Connection> fresh;
      try {
        fresh = impl_->connect();
      } catch (...) {
        lock.lock();
        --impl_->connecting;
        impl_->cv.notify_one();  // the slot is free again for another waiter to try
        throw;
      }
      lock.lock();
      --impl_->connecting;
      Connection* c = fresh.get();
      impl_->open.push_back(std::move(fresh));
      ++impl_->in_use;
      return Lease(this, c);
    }
    if (forever) {
      impl_->cv.wait(impl_->mu);
    } else if (!impl_->cv.waitUntil(impl_->mu, deadline) && impl_->idle.empty() &&
               static_cast<int>(impl_->open.size()) + impl_->connecting >= impl_->opt.pool_size) {
      const std::string msg = "PostgreSQL pool exhausted: all " + std::to_string(impl_->opt.pool_size) +
                              " connections busy for " + std::to_string(impl_->opt.pool_wait.count()) + " ms";
      impl_->counters.setLastError(msg);
      throw TimeoutError(msg);
    }
  }
}

void PgPool::release(Connection* conn) noexcept {
  // A connection left mid-transaction (caller threw) is rolled back, or dropped if that fails.
  PGconn* pc = conn->impl_->conn.get();
  bool healthy = PQstatus(pc) == CONNECTION_OK;
  if (healthy) {
    const PGTransactionStatusType ts = PQtransactionStatus(pc);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
      conn->rollback();
      healthy = PQstatus(pc) == CONNECTION_OK && PQtransactionStatus(pc) == PQTRANS_IDLE;
    } else if (ts != PQTRANS_IDLE) {
      healthy = false;  // a command still in flight or unknown state
    }
  }
  std::unique_ptr<Connection> doomed;
  {
    MutexLock lock(impl_->mu);
    --impl_->in_use;
    if (healthy) {
      impl_->idle.push_back(conn);
    } else {
      // Close outside the lock: PQfinish may send a Terminate message.
      auto it = std::find_if(impl_->open.begin(), impl_->open.end(), [conn](const auto& p) { return p.get() == conn; });
      if (it != impl_->open.end()) {
        doomed = std::move(*it);
        impl_->open.erase(it);
      }
    }
  }
  impl_->cv.notify_one();
}

PoolStats PgPool::stats() const {
  PoolStats s;
  {
    MutexLock lock(impl_->mu);
    s.size = impl_->opt.pool_size;
    s.open = static_cast<int>(impl_->open.size());
    s.in_use = impl_->in_use;
  }
  s.connects = impl_->counters.connects.load(std::memory_order_relaxed);
  s.connect_failures = impl_->counters.connect_failures.load(std::memory_order_relaxed);
  s.queries = impl_->counters.queries.load(std::memory_order_relaxed);
  s.errors = impl_->counters.errors.load(std::memory_order_relaxed);
  {
    MutexLock lock(impl_->counters.last_error_mu);
    s.last_error = impl_->counters.last_error;
  }
  return s;
}

const PgOptions& PgPool::options() const noexcept { return impl_->opt; }

std::string PgPool::redactedConninfo() const {
  char* err = nullptr;
  ConninfoPtr parsed(PQconninfoParse(impl_->opt.conninfo.c_str(), &err));
  if (err) PQfreemem(err);
  if (!parsed) return "(invalid connection string)";
  std::string out;
  for (const PQconninfoOption* o = parsed.get(); o->keyword; ++o) {
    if (!o->val || std::strcmp(o->keyword, "password") == 0) continue;
    if (!out.empty()) out.push_back(' ');
    out += o->keyword;
    out += "='";
    for (const char* p = o->val; *p; ++p) {
      if (*p == '\'' || *p == '\\') out.push_back('\\');
      out.push_back(*p);
    }
    out.push_back('\'');
  }
  return out;
}

PgPool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(other.conn_) {
  other.pool_ = nullptr;
  other.conn_ = nullptr;
}

PgPool::Lease& PgPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (pool_ && conn_) pool_->release(conn_);
    pool_ = other.pool_;
    conn_ = other.conn_;
    other.pool_ = nullptr;
    other.conn_ = nullptr;
  }
  return *this;
}

PgPool::Lease::~Lease() {
  if (pool_ && conn_) pool_->release(conn_);
}

void checkConninfo(const std::string& conninfo) { (void)parseConninfo(conninfo); }

}  // namespace tier::pg
