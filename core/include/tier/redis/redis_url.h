#pragma once
// Redis connection URLs, parsed with QUrl (a real URL parser, not regexes):
//   redis://[user[:password]@]host[:port][/db]      (TCP, default port 6379, db 0)
//   redis://:password@host:port/db                  (legacy AUTH without a user)
//   unix:///path/to/redis.sock[?db=N&user=U&password=P]
//   rediss://...                                    refused: hiredis 0.14 has no TLS
// Percent-encoding in user and password is decoded. Query parameters on TCP URLs:
// connect_timeout_ms, command_timeout_ms (override RedisOptions).
#include <optional>
#include <string>
#include <string_view>

namespace tier::redis {

struct RedisUrl {
  std::string host;        // empty for unix sockets
  int port = 6379;
  std::string unix_path;   // non-empty for unix sockets
  int db = 0;
  std::string username;    // empty = default user / legacy AUTH
  std::string password;    // empty = no AUTH
  std::optional<int> connect_timeout_ms;
  std::optional<int> command_timeout_ms;

  bool isUnix() const noexcept { return !unix_path.empty(); }

  // REQUIRES: nothing. Throws BadInputError with a one-line reason (never
  // quoting the password) on anything malformed.
  static RedisUrl parse(std::string_view url);

  // The URL without its password (user kept), safe for logs and the UI.
  std::string redacted() const;
  // "host:port" or the socket path.
  std::string endpoint() const;
};

}  // namespace tier::redis
