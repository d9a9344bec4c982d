#pragma once
// Redis connection URLs, parsed with QUrl (a real URL parser, not regexes):
//   redis://[user[:password]@]host[:port][/db]      (TCP, default port 6379, db 0)
//   redis://:password@host:port/db                  (legacy AUTH without a user)
//   unix:///path/to/redis.sock[?db=N&user=U&password=P]
//   rediss://...                                    refused: hiredis 0.14 has no TLS
//   redis+cluster://[user[:password]@]host:port[,host:port...][?replica_reads=1]
//       Redis Cluster: the hosts are seeds (any node; the client discovers the
//       rest with CLUSTER NODES). No database (a cluster has only db 0: a path
//       other than empty or /0 is refused). replica_reads=1 lets plain reads
//       (GET, PTTL, STRLEN, EXISTS) go to replicas (READONLY); default 0.
//   redis+sentinel://[user[:password]@]host:port[,host:port...]/master-name[/db]
//         [?sentinel_user=U&sentinel_password=P]
//       Redis Sentinel: the hosts are sentinels (default port 26379); the master
//       of master-name is asked of them (SENTINEL get-master-addr-by-name). The
//       user/password in the authority are the DATA nodes' (master, replicas);
//       the sentinels' own credentials, if they need any, are the query
//       parameters sentinel_user / sentinel_password (so one URL can carry both).
// Percent-encoding in user and password is decoded. Query parameters on TCP URLs:
// connect_timeout_ms, command_timeout_ms (override RedisOptions).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tier::redis {

enum class RedisMode { Single, Cluster, Sentinel };
const char* toString(RedisMode m) noexcept;  // "single", "cluster", "sentinel"

struct HostPort {
  std::string host;
  int port = 0;
  std::string endpoint() const;  // "host:port" ([v6]:port)
  bool operator==(const HostPort&) const = default;
};

struct RedisUrl {
  RedisMode mode = RedisMode::Single;
  // Single: the server. Cluster / Sentinel: the first seed / sentinel (so code
  // that only knows one address has one); the client connects to the nodes it
  // discovers, not to these.
  std::string host;  // empty for unix sockets
  int port = 6379;
  std::vector<HostPort> seeds;    // Cluster: seed nodes; Sentinel: sentinels; Single: empty
  std::string master_name;        // Sentinel: the monitored master's name
  std::string sentinel_username;  // Sentinel: AUTH for the sentinels (empty = none/default)
  std::string sentinel_password;
  bool replica_reads = false;  // Cluster: reads may go to replicas (READONLY)
  std::string unix_path;       // non-empty for unix sockets
  int db = 0;
  std::string username;  // empty = default user / legacy AUTH
  std::string password;  // empty = no AUTH
  std::optional<int> connect_timeout_ms;
  std::optional<int> command_timeout_ms;

  bool isUnix() const noexcept { return !unix_path.empty(); }
  bool isCluster() const noexcept { return mode == RedisMode::Cluster; }
  bool isSentinel() const noexcept { return mode == RedisMode::Sentinel; }

  // REQUIRES: nothing. Throws BadInputError with a one-line reason (never
  // quoting the password) on anything malformed.
  static RedisUrl parse(std::string_view url);

  // The URL without its passwords (user kept), safe for logs and the UI.
  std::string redacted() const;
  // "host:port" or the socket path; Cluster / Sentinel: "host:port,host:port..."
  // (the seeds / sentinels).
  std::string endpoint() const;
  // A single-node URL for one data node of this deployment: same user,
  // password, db and timeouts, mode Single.
  RedisUrl forNode(const HostPort& node) const;
};

}  // namespace tier::redis
