#pragma once
// One connection to one Redis server: the only owner of a hiredis context in
// the project (core/src/redis/connection.cpp is the only file that includes
// hiredis.h). RedisClient's node pools, the invalidation backplane's dedicated
// links, the sandbox's server control and tierctl bench's raw baseline all
// connect, authenticate and read replies through it.
//
// open() connects (TCP or unix socket, per the URL), sets the socket timeouts
// and TCP keepalive, and runs the handshake in one round trip: AUTH (when the
// URL has a password), SELECT (a database other than 0), CLIENT SETNAME
// (cosmetic: a refusal is ignored), READONLY (cluster replica reads) and ROLE
// (Sentinel: refuse a node that is not a master; a user without +role skips the
// check). Errors are typed and one line, with no password:
//   ConnectionError  unreachable (a connect timeout included), lost, or not a
//                    master ("... is not a master (ROLE: slave) ...")
//   TimeoutError     no answer to the handshake or a command within command_timeout
//   PermissionError  AUTH refused; SELECT refused by the ACL
//   BadInputError    no such database
// A caller that must be able to give up during the handshake (the backplane
// stops at once) uses connectOnly() + appendHandshake() + its own polled reads
// + checkHandshake().
//
// Replies: an error reply is a Reply of type Error, never an exception; I/O
// failures and timeouts throw (blocking calls) or are returned (polled calls),
// and after one the connection is out of sync: close it, never reuse it.
//
// Thread-safety: none; one thread uses a connection at a time (a pool leases it).
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tier/common/error.h"
#include "tier/redis/redis_url.h"
#include "tier/redis/reply.h"

namespace tier::redis {

class Batch;  // core-internal: argument vectors of a pipeline (core/src/redis/batch.h)

struct ConnectOptions {
  std::chrono::milliseconds connect_timeout{250};  // 0 = no limit (never use on a hot path)
  std::chrono::milliseconds command_timeout{250};  // socket reads and writes; 0 = wait forever
  std::string client_name;                         // CLIENT SETNAME; empty = not sent
  bool select_db = true;                           // SELECT url.db when it is not 0
  bool readonly = false;                           // READONLY (cluster replica reads)
  bool verify_master = false;                      // ROLE; a node that is not a master is refused
  std::string where;                               // the server's name in messages; empty = url.endpoint()
};

// An I/O failure or timeout of a polled or batched call: the connection is out of sync.
struct IoFailure {
  ErrorKind kind = ErrorKind::Connection;  // Connection or Timeout
  std::string message;                     // one line, no secret
};

class Connection {
 public:
  Connection() noexcept;  // not connected
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Connects and runs the handshake (blocking, bounded by the timeouts). Throws as above.
  static Connection open(const RedisUrl& url, const ConnectOptions& options);
  // Connects only (TCP/unix, timeouts, keepalive). Throws ConnectionError.
  static Connection connectOnly(const RedisUrl& url, const ConnectOptions& options);
  // Appends the handshake's commands (nothing is sent yet); returns how many
  // replies checkHandshake() then needs, in order.
  std::size_t appendHandshake();
  // Throws the typed error the handshake's replies call for; nothing if they are fine.
  void checkHandshake(const std::vector<Reply>& replies) const;

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  const std::string& where() const noexcept;

  // ---- blocking: one round trip, bounded by command_timeout ----------------
  // Throws ConnectionError / TimeoutError on an I/O failure (then close it).
  Reply command(std::initializer_list<std::string_view> args);
  Reply command(const std::vector<std::string_view>& args);
  // One round trip whose reply is freed unread: only its type comes back, so
  // nothing of ours is allocated or copied (tierctl bench's baseline: the cost
  // of hiredis and the server alone).
  Reply::Type commandReplyType(std::initializer_list<std::string_view> args);
  // Sends every command of `batch`, then reads every reply into `out` (appended).
  // `what` names the call in messages ("GET", "pipeline"). Returns the failure, if any.
  std::optional<IoFailure> roundTrip(const Batch& batch, std::string_view what, std::vector<Reply>& out);

  // ---- polled: the caller waits for the socket itself -----------------------
  void append(std::initializer_list<std::string_view> args);
  void append(const std::vector<std::string_view>& args);
  void append(const Command& args);
  // Writes everything appended (blocking, bounded by command_timeout). Empty on success.
  std::optional<IoFailure> flush();
  // The next complete reply already read from the socket, if any; a protocol
  // error is a failure.
  enum class Take { Reply, NeedMore, Failed };
  Take takeBuffered(Reply& out, IoFailure& failure);
  // Reads what the socket has (call when poll says readable). Empty on success;
  // the server closing the connection is a failure ("closed by the server").
  std::optional<IoFailure> readSocket();
  int fd() const noexcept;
  // Open, no error seen, nothing unread on the socket (an idle connection that
  // is readable was closed or reset by the server).
  bool idleAndOpen() const noexcept;

 private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

// An error reply that is an ACL or authentication refusal (NOPERM, NOAUTH,
// WRONGPASS, "invalid username-password").
bool isPermissionReply(std::string_view msg) noexcept;

// Ignores SIGPIPE once per process if it is still SIG_DFL: hiredis writes with
// write(2), and a reset peer must be an error, not the process's death.
void ignoreSigpipeOnce();

}  // namespace tier::redis
