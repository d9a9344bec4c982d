#pragma once
// Internal (core/src/redis only): what Redis Cluster routing needs to know
// about commands and nodes, as pure functions (no I/O): the hash slot of a key
// (CRC16/XMODEM, as Redis Cluster computes it), which argument of a command is
// its key, which commands a replica may answer, and the parsing of CLUSTER
// NODES. RedisClient's cluster mode (cluster_routing.cpp) routes with these.
//
// Thread-safety: pure functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tier/redis/redis_client.h"
#include "tier/redis/redis_url.h"

namespace tier::redis::cluster {

constexpr int kSlots = 16384;

std::uint16_t crc16(std::string_view s) noexcept;
// ASCII case-insensitive equality (command names).
bool iequals(std::string_view a, std::string_view b) noexcept;

// Where a command's key is: none (keyless: PING, INFO, SCAN...), the first or
// second argument (MEMORY USAGE key), several (DEL/UNLINK/EXISTS/TOUCH), or a
// script's numkeys-counted keys (EVAL, EVALSHA, FCALL and their _RO forms).
enum class KeySpec { None, First, Second, Multi, Script };
KeySpec keySpec(std::string_view name, int argc);

// Commands a READONLY replica connection may answer for inspection: GET, PTTL,
// TTL, STRLEN, EXISTS of one key, GETRANGE.
bool replicaReadable(std::string_view name, int argc);

// "host:port[@cport][,hostname]" -> host, port; nullopt if malformed.
std::optional<HostPort> parseAddress(std::string_view a);

// One line of CLUSTER NODES.
struct ClusterLine {
  NodeInfo info;
  HostPort hp;
  std::string master_id;
  bool failed = false;
  bool migrating = false;  // a slot of this master is being migrated or imported ("[slot->-id]" markers)
};

// The lines of a CLUSTER NODES reply; `asked` stands in for the address of the
// node that answered when it lists itself without one ("myself,noaddr").
// Malformed lines are skipped.
std::vector<ClusterLine> parseClusterNodes(const std::string& text, const HostPort& asked);

}  // namespace tier::redis::cluster
