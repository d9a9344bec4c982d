#include "tier/redis/redis_view.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "tier/common/error.h"

namespace tier::redis {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

template <std::size_t N>
bool among(const std::string& s, const std::array<std::string_view, N>& list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Commands that read keys or server state and write nothing, with no subcommand.
constexpr std::array<std::string_view, 36> kReadOnly = {
    "PING",      "INFO",          "DBSIZE", "ROLE",     "TIME",      "ECHO",  "GET",    "MGET",    "STRLEN",
    "GETRANGE",  "EXISTS",        "TYPE",   "TTL",      "PTTL",      "SCAN",  "HGET",   "HGETALL", "HMGET",
    "HLEN",      "HKEYS",         "HSCAN",  "SMEMBERS", "SCARD",     "SSCAN", "ZRANGE", "ZCARD",   "ZSCORE",
    "ZREVRANGE", "ZRANGEBYSCORE", "ZSCAN",  "XRANGE",   "XREVRANGE", "XLEN",  "LRANGE", "LLEN",    "LASTSAVE"};

// Commands whose first argument decides: only these subcommands read.
struct Sub {
  std::string_view command;
  std::array<std::string_view, 6> subs;
};
constexpr std::array<Sub, 10> kReadOnlySubs = {{
    {"SLOWLOG", {"GET", "LEN", "HELP"}},
    {"CONFIG", {"GET", "HELP"}},
    {"ACL", {"WHOAMI", "DRYRUN", "CAT", "GETUSER", "USERS", "HELP"}},
    {"CLUSTER", {"NODES", "INFO", "SLOTS", "SHARDS", "MYID", "KEYSLOT"}},
    {"LATENCY", {"LATEST", "HISTORY", "DOCTOR", "HISTOGRAM", "HELP"}},
    {"MEMORY", {"USAGE", "STATS", "DOCTOR", "HELP"}},
    {"OBJECT", {"ENCODING", "FREQ", "IDLETIME", "REFCOUNT", "HELP"}},
    {"CLIENT", {"LIST", "INFO", "GETNAME", "ID", "HELP"}},
    {"SENTINEL", {"MASTERS", "MASTER", "REPLICAS", "SENTINELS", "GET-MASTER-ADDR-BY-NAME", "INFO-CACHE"}},
    {"XINFO", {"STREAM", "GROUPS", "CONSUMERS", "HELP"}},
}};

void requireReadOnly(const Command& argv) {
  if (!isReadOnlyCommand(argv))
    throw PermissionError("'" + (argv.empty() ? std::string() : upper(argv[0])) +
                          "' is not a read-only command: changes to the cache go through the tiered cache");
}

}  // namespace

bool isReadOnlyCommand(const Command& argv) {
  if (argv.empty()) return false;
  const std::string cmd = upper(argv[0]);
  if (among(cmd, kReadOnly)) return true;
  for (const auto& s : kReadOnlySubs) {
    if (cmd != s.command) continue;
    if (argv.size() < 2) return false;
    const std::string sub = upper(argv[1]);
    return !sub.empty() && std::find(s.subs.begin(), s.subs.end(), sub) != s.subs.end();
  }
  return false;
}

RedisClient& RedisReadView::client() const {
  if (!client_) throw BadInputError("no Redis configured: give --redis URL (or a profile)");
  return *client_;
}

Reply RedisReadView::command(const Command& argv) const {
  requireReadOnly(argv);
  return client().command(argv);
}

std::vector<Reply> RedisReadView::pipeline(const std::vector<Command>& commands, ReadFrom from) const {
  for (const auto& c : commands) requireReadOnly(c);
  return client().pipeline(commands, from);
}

std::vector<Reply> RedisReadView::pipelineOn(const std::string& node, const std::vector<Command>& commands) const {
  for (const auto& c : commands) requireReadOnly(c);
  return client().pipelineOn(node, commands);
}

std::optional<std::string> RedisReadView::get(std::string_view key, ReadFrom from) const {
  return client().get(key, from);
}
long long RedisReadView::ttlMillis(std::string_view key) const {
  return client().ttlMillis(key);
}
ScanPage RedisReadView::scanNode(const std::string& node, std::string_view cursor, std::string_view match,
                                 int count) const {
  return client().scanNode(node, cursor, match, count);
}
std::string RedisReadView::info(std::string_view section) const {
  return client().info(section);
}
std::chrono::microseconds RedisReadView::ping() const {
  return client().ping();
}
RedisMode RedisReadView::mode() const {
  return client().mode();
}
std::vector<NodeInfo> RedisReadView::topology(bool probe) const {
  return client().topology(probe);
}
std::vector<std::string> RedisReadView::masters() const {
  return client().masters();
}
RedisClient::SlotMapState RedisReadView::slotMapState() const {
  return client().slotMapState();
}
std::string RedisReadView::currentMaster() const {
  return client().currentMaster();
}
bool RedisReadView::isAvailable() const {
  return client().isAvailable();
}
PoolStats RedisReadView::poolStats() const {
  return client().poolStats();
}
BreakerState RedisReadView::breakerState() const {
  return client().breakerState();
}
const RedisOptions& RedisReadView::options() const {
  return client().options();
}

}  // namespace tier::redis
