#pragma once
// L2: a Redis client over hiredis with a connection pool, timeouts, reconnect
// with backoff and a circuit breaker.
//
// Thread-safety: a RedisClient is shared by all threads; every method may be
// called concurrently. Each call leases one pooled connection for its duration.
//
// Failure model: every method throws tier::Error (ConnectionError, TimeoutError,
// PermissionError for NOPERM/NOAUTH/WRONGPASS, DataError for other server error
// replies to commands that must not fail). While the breaker is open, calls fail
// at once with ConnectionError("circuit open") without touching the network, so
// an outage costs microseconds per call. Callers on the read path catch and go
// on to L3. A connection that saw an I/O error or timeout is closed, never
// reused (its reply stream is out of sync); an idle connection the server has
// closed is detected (poll) and replaced before use.
//
// Metrics (if set): one Op::RedisCommand latency per round trip (a pipeline is
// one), Counter::RedisError per connection/timeout failure, and
// Counter::BreakerOpenSkip per call refused by the open breaker. Callers must
// not count these again.
//
// Process-wide effect: the first RedisClient sets SIGPIPE to SIG_IGN if it is
// still SIG_DFL (hiredis writes with write(2); a reset peer must not kill us).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tier/redis/redis_url.h"

namespace tier::metrics {
class Metrics;
}

namespace tier::redis {

struct RedisOptions {
  RedisUrl url;
  std::chrono::milliseconds connect_timeout{250};  // per connection attempt; 0 = wait forever (never use)
  std::chrono::milliseconds command_timeout{250};  // per command / pipeline read; 0 = wait forever
  int pool_size = 8;                               // max open connections
  std::chrono::milliseconds pool_wait{500};        // wait for a free connection, then TimeoutError; 0 = forever
  // Breaker: opens after `breaker_failures` consecutive connection/timeout
  // failures; stays open for `breaker_open`, then lets one probe through
  // (half-open); a success closes it. Only connect/I/O/timeout failures count;
  // any answer from the server (even an error reply) is a success. 0 = never opens.
  int breaker_failures = 3;
  std::chrono::milliseconds breaker_open{500};
  // Reconnect backoff: after a failed connect, new connections are not tried
  // for min, doubling up to max, reset by a successful connect. Meanwhile calls
  // that need a new connection fail at once with the last connect error (no
  // sleeping); idle pooled connections are still used; the breaker's probe
  // ignores the backoff. Pool-wide: a failed connect says the server, not one
  // slot, is unreachable.
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  std::string client_name = "tierconsole";  // CLIENT SETNAME
};

// A decoded reply. Type mirrors RESP2.
struct Reply {
  enum class Type { Nil, String, Status, Integer, Array, Error };
  Type type = Type::Nil;
  std::string str;            // String, Status, Error
  long long integer = 0;      // Integer
  std::vector<Reply> elements;  // Array

  bool isNil() const noexcept { return type == Type::Nil; }
  bool isError() const noexcept { return type == Type::Error; }
};

using Command = std::vector<std::string>;  // argv, binary-safe

enum class BreakerState { Closed, Open, HalfOpen };
const char* toString(BreakerState s) noexcept;

struct PoolStats {
  int size = 0;         // configured max
  int open = 0;         // connections currently open
  int in_use = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t commands = 0;   // commands answered (a pipeline of N counts N)
  std::uint64_t errors = 0;     // failed calls: network, timeout, auth/permission, pool exhausted
  BreakerState breaker = BreakerState::Closed;
  std::string last_error;  // redacted, empty if none
};

struct ScanPage {
  std::string cursor;  // "0" when the iteration is complete
  std::vector<std::string> keys;
};

class RedisClient {
 public:
  // Does not connect; the first call does (so construction never blocks).
  // The URL's connect_timeout_ms/command_timeout_ms override the options.
  // Throws BadInputError if pool_size < 1.
  // metrics may be null; if set, every command's latency is recorded as
  // metrics::Op::RedisCommand.
  explicit RedisClient(RedisOptions options, metrics::Metrics* metrics = nullptr);
  ~RedisClient();  // REQUIRES: no call in flight
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command. A server error reply is returned as Reply::Type::Error except
  // for permission errors (NOPERM, NOAUTH, WRONGPASS) which throw PermissionError.
  // REQUIRES: argv non-empty. Never use KEYS or blocking commands (BLPOP...) here.
  Reply command(const Command& argv);
  // Many commands in one round trip (pipelining). Replies in order. If any
  // reply is a permission error, all replies are read, then PermissionError.
  std::vector<Reply> pipeline(const std::vector<Command>& commands);
  // The same with arguments that point into caller-owned bytes (bulk paths:
  // nothing is copied before hiredis formats the request). REQUIRES: the
  // bytes outlive the call.
  std::vector<Reply> pipelineViews(const std::vector<std::vector<std::string_view>>& commands);

  // Convenience wrappers; an unexpected reply (error or wrong type) throws DataError.
  std::optional<std::string> get(std::string_view key);
  void set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl);  // ttl 0 = no expiry
  long long unlink(const std::vector<std::string>& keys);  // returns how many existed
  long long ttlMillis(std::string_view key);  // PTTL: -2 absent, -1 no expiry
  long long strlen(std::string_view key);
  ScanPage scan(std::string_view cursor, std::string_view match, int count);
  std::string info(std::string_view section = {});
  std::chrono::microseconds ping();  // round-trip time; throws on failure

  // Connects once (if needed) and answers PING: used by health and on startup.
  bool isAvailable();
  PoolStats poolStats() const;
  BreakerState breakerState() const;
  const RedisOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::redis
