#pragma once
// L3: PostgreSQL through libpq. A bounded pool of connections; each connection
// prepares hot-path statements once and reuses them.
//
// Thread-safety: PgPool is shared by all threads. A Lease (one connection) is
// used by one thread at a time and returns itself to the pool when destroyed.
//
// Connection strings are handed to libpq untouched (conninfo "k=v" strings and
// postgresql:// URIs), so PG* environment variables, service files and .pgpass
// are honoured exactly as psql honours them. Errors never quote the password.
// Every query is parameterized; there is no API that splices text into SQL.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tier::metrics {
class Metrics;
}

namespace tier::pg {

// Our keys only fill gaps: a value in the conninfo (or its PG* variable) wins.
// We also ask for client_encoding=UTF8 unless the conninfo/PGCLIENTENCODING says otherwise.
struct PgOptions {
  std::string conninfo;                               // libpq conninfo or URI; empty = all from PG* env
  int pool_size = 8;                                  // max open connections (>= 1)
  // libpq connect_timeout, rounded up to whole seconds (libpq treats 1 s as 2 s);
  // used unless the conninfo or PGCONNECT_TIMEOUT sets one. 0 = libpq default (wait forever).
  std::chrono::milliseconds connect_timeout{3000};
  // SET statement_timeout on each new connection; 0 = leave the server/role default.
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds pool_wait{5000};          // how long acquire() waits for a free connection; 0 = forever
  std::string application_name = "tierconsole";       // fallback_application_name (conninfo/PGAPPNAME win)
};

// Parses a conninfo or URI the way PgPool will (libpq, no I/O), so a form can
// refuse a malformed one before connecting. Empty is valid (PG* environment).
// Throws BadInputError with a one-line reason that never quotes a password.
void checkConninfo(const std::string& conninfo);

// Parameters travel in text format; std::nullopt is SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

// A query result, fully materialised (it owns the PGresult).
class Result {
 public:
  Result();
  ~Result();
  Result(Result&&) noexcept;
  Result& operator=(Result&&) noexcept;

  int rows() const noexcept;
  int columns() const noexcept;
  int column(std::string_view name) const;  // index or throws DataError
  std::string_view columnName(int col) const;
  bool isNull(int row, int col) const;
  std::string_view value(int row, int col) const;  // "" for NULL
  std::optional<std::string> optional(int row, int col) const;
  long long toInt(int row, int col) const;  // throws DataError if not an integer
  double toDouble(int row, int col) const;
  long long affected() const;  // rows affected by INSERT/UPDATE/DELETE

 private:
  friend class Connection;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Connection {
 public:
  ~Connection();
  // Ad-hoc parameterized query (PQexecParams). Errors: BadInputError for SQL
  // state class 22/23 (data/constraint, e.g. invalid UTF-8) or a NUL byte in a
  // parameter, PermissionError for 42501/28xxx, TimeoutError for 57014
  // (statement_timeout) and 55P03 (lock_timeout), ConnectionError for
  // 08xxx/57P0x or when the connection is lost, DataError otherwise.
  Result exec(std::string_view sql, const Params& params = {});
  // Prepared on first use on this connection under `name`, then reused.
  Result execPrepared(std::string_view name, std::string_view sql, const Params& params = {});
  // COPY ... FROM STDIN with text-format rows already encoded by the caller
  // (use copyEscape()). Returns rows copied. Bulk loads are not recorded as
  // DbQuery latency (they would swamp the p99 of interactive queries).
  long long copyIn(std::string_view copySql, const std::vector<std::string>& chunks);
  // Streaming form: next(chunk) fills `chunk` (cleared before each call) and
  // returns false when there is no more data; memory stays at one chunk.
  long long copyIn(std::string_view copySql, const std::function<bool(std::string& chunk)>& next);
  // Runs fixed, trusted SQL text that may hold several statements (simple
  // query protocol, no parameters). REQUIRES: `sql` is a constant of ours
  // (migrations), never built from input. Not recorded as DbQuery latency.
  void execScript(std::string_view sql);
  // Ends a transaction left open, if any (ROLLBACK); never throws. Begin and
  // commit go through Transaction, so no path can leave one open by throwing.
  void rollback();

  std::string serverVersion() const;  // e.g. "15.18"
  std::string user() const;           // the role we are connected as
  std::string database() const;
  int backendPid() const;             // server process id (pg_backend_pid())
  bool isOk() const;                  // false once the connection broke; the pool then drops it

 private:
  friend class PgPool;
  friend class Transaction;
  Connection();
  void begin();
  void commit();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One transaction on one connection, RAII: the constructor runs BEGIN, commit()
// runs COMMIT, and the destructor runs ROLLBACK if commit() did not complete
// (an exception, an early return). commit() after a statement of the
// transaction failed throws DataError (PostgreSQL would roll back silently);
// a failed COMMIT throws what exec() throws;
// the server has then ended the transaction, and the destructor's ROLLBACK is a
// no-op. Movable (a helper may begin one and hand it back), not copyable; the
// moved-from object does nothing. Not thread-safe, like the connection.
//
//   pg::Transaction tx(conn);
//   conn.exec(...);  conn.exec(...);
//   tx.commit();
class Transaction {
 public:
  explicit Transaction(Connection& c);  // BEGIN; throws what exec() throws
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();  // ROLLBACK unless committed; never throws
  void commit();   // REQUIRES: not committed yet, not moved from

 private:
  Connection* c_;
  bool open_ = true;
};

// Escapes one field for COPY text format (backslash, tab, newline, CR).
std::string copyEscape(std::string_view field);

struct PoolStats {
  int size = 0;
  int open = 0;
  int in_use = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t queries = 0;
  std::uint64_t errors = 0;
  std::string last_error;  // redacted
};

class PgPool {
 public:
  class Lease {
   public:
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) noexcept;
    ~Lease();
    Connection* operator->() const noexcept { return conn_; }
    Connection& operator*() const noexcept { return *conn_; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, Connection* conn) : pool_(pool), conn_(conn) {}
    PgPool* pool_ = nullptr;
    Connection* conn_ = nullptr;
  };

  // Does not connect. metrics may be null; if set every query's latency is
  // recorded as metrics::Op::DbQuery.
  explicit PgPool(PgOptions options, metrics::Metrics* metrics = nullptr);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Returns a healthy connection (opening one if below pool_size), waiting up to
  // pool_wait. Throws BadInputError (malformed conninfo), ConnectionError,
  // PermissionError (authentication failed / role refused) or TimeoutError
  // (pool exhausted, or libpq's connect_timeout expired). A connection returned broken, or left inside a
  // transaction that cannot be rolled back, is closed instead of reused.
  // REQUIRES: every Lease is destroyed before the pool.
  Lease acquire();

  PoolStats stats() const;
  const PgOptions& options() const noexcept;
  // The conninfo with any password removed, for display.
  std::string redactedConninfo() const;

 private:
  void release(Connection* conn) noexcept;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::pg
