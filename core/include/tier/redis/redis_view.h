#pragma once
// RedisReadView: the Redis that TierCore hands to health, inspection and the
// console — it can look, never change. Every change to the cache tier goes
// through cache::TieredCache, which orders it (write epochs, settle, backplane);
// a caller holding only this view cannot go around that.
//
// Thread-safety: as RedisClient (every method from any thread).
// command()/pipeline()/pipelineOn() accept only the read-only commands listed
// in isReadOnlyCommand(); anything else throws PermissionError before any I/O.
#include <string>
#include <string_view>
#include <vector>

#include "tier/redis/redis_client.h"

namespace tier::redis {

// True for the commands (and subcommands) a view may send: they read keys or
// server state and change nothing (GET, PTTL, SCAN, INFO, SLOWLOG GET, CONFIG
// GET, ACL WHOAMI, CLUSTER NODES, XRANGE…). Case-insensitive.
bool isReadOnlyCommand(const Command& argv);

class RedisReadView {
 public:
  // REQUIRES: client outlives the view. client may be null (no Redis): then
  // configured() is false and every other call throws BadInputError.
  explicit RedisReadView(RedisClient* client = nullptr) noexcept : client_(client) {}

  bool configured() const noexcept { return client_ != nullptr; }

  // REQUIRES: isReadOnlyCommand(argv) (else PermissionError, nothing sent).
  Reply command(const Command& argv) const;
  std::vector<Reply> pipeline(const std::vector<Command>& commands, ReadFrom from = ReadFrom::Master) const;
  std::vector<Reply> pipelineOn(const std::string& node, const std::vector<Command>& commands) const;

  std::optional<std::string> get(std::string_view key, ReadFrom from = ReadFrom::Master) const;
  long long ttlMillis(std::string_view key) const;
  ScanPage scanNode(const std::string& node, std::string_view cursor, std::string_view match, int count) const;
  std::string info(std::string_view section = {}) const;
  std::chrono::microseconds ping() const;

  RedisMode mode() const;
  std::vector<NodeInfo> topology(bool probe = true) const;
  std::vector<std::string> masters() const;
  RedisClient::SlotMapState slotMapState() const;
  std::string currentMaster() const;
  bool isAvailable() const;
  PoolStats poolStats() const;
  BreakerState breakerState() const;
  const RedisOptions& options() const;

 private:
  RedisClient& client() const;
  RedisClient* client_;
};

}  // namespace tier::redis
