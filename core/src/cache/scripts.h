#pragma once
// The cache's Lua scripts and the commands built from them: the guarded SET
// (never replaces a newer version), its many-key form for warming, the
// compare-and-UNLINK of bytes that are not ours, the namespace generation's
// read and bump, and the version fence. Each runs atomically in Redis; each
// touches only its KEYS (one slot in a cluster: see docs/key-schema.md).
#include <chrono>
#include <cstdint>
#include <string>

#include "tier/codec/envelope.h"
#include "tier/redis/redis_client.h"

namespace tier::cache::detail {

// SET KEYS[1] ARGV[1] (PX ARGV[2] if > 0) unless the stored envelope's entity
// version (bytes 9..16, little-endian i64) is newer than (ARGV[3] << 32 | ARGV[4]).
// The version is compared as two 32-bit halves: Lua numbers are doubles and
// would lose precision above 2^53. Anything that is not one of our envelopes
// is overwritten. Returns 1 if written, 0 if a newer version was kept.
inline constexpr const char* kGuardedSet = R"lua(
local cur = redis.call('GETRANGE', KEYS[1], 0, 31)
if cur and string.len(cur) >= 32 and string.sub(cur, 1, 2) == 'TC' then
  local lo = struct.unpack('<I4', cur, 9)
  local hi = struct.unpack('<i4', cur, 13)
  local nhi = tonumber(ARGV[3])
  local nlo = tonumber(ARGV[4])
  if hi > nhi or (hi == nhi and lo > nlo) then return 0 end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
)lua";

// The same for many keys in one script call (warming): KEYS[i] with ARGV
// 4i-3..4i = value, PX, version high, version low; returns one 1/0 per key.
// Only the 32-byte header of a current value is read (GETRANGE), never the value.
// REQUIRES (Redis Cluster): all keys in one slot (fillMany cuts the calls per slot there).
inline constexpr const char* kGuardedSetMany = R"lua(
local out = {}
for i = 1, #KEYS do
  local b = 4 * (i - 1)
  local cur = redis.call('GETRANGE', KEYS[i], 0, 31)
  local newer = false
  if string.len(cur) >= 32 and string.sub(cur, 1, 2) == 'TC' then
    local lo = struct.unpack('<I4', cur, 9)
    local hi = struct.unpack('<i4', cur, 13)
    local nhi = tonumber(ARGV[b + 3])
    local nlo = tonumber(ARGV[b + 4])
    newer = hi > nhi or (hi == nhi and lo > nlo)
  end
  if newer then
    out[i] = 0
  else
    if tonumber(ARGV[b + 2]) > 0 then
      redis.call('SET', KEYS[i], ARGV[b + 1], 'PX', ARGV[b + 2])
    else
      redis.call('SET', KEYS[i], ARGV[b + 1])
    end
    out[i] = 1
  end
end
return out
)lua";

// UNLINK KEYS[1] only if it still holds ARGV[1] (the bad bytes a reader saw),
// so a writer's valid value that landed in between survives.
inline constexpr const char* kCompareAndUnlink = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('UNLINK', KEYS[1]) end
return 0
)lua";

// The generation; a missing counter is created with a random start (ARGV[1]) so
// that a lost counter (eviction, FLUSHALL) never returns to a value old copies carry.
inline constexpr const char* kReadGeneration = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'NX')
  v = redis.call('GET', KEYS[1])
end
return v
)lua";

inline constexpr const char* kBumpGeneration = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
)lua";

inline redis::Command guardedSetCommand(const std::string& key, std::string bytes, std::int64_t version,
                                 std::chrono::milliseconds ttl) {
  const auto u = static_cast<std::uint64_t>(version);
  const auto hi = static_cast<std::int32_t>(static_cast<std::uint32_t>(u >> 32));
  return {"EVAL", kGuardedSet, "1", key, std::move(bytes), std::to_string(ttl.count()), std::to_string(hi),
          std::to_string(u & 0xffffffffu)};
}

// How long a version fence keeps older fills out: far longer than any load
// that started before the write can take to reach its fill.
inline constexpr std::chrono::milliseconds kFenceTtl{10 * 60 * 1000};

inline redis::Command fenceCommand(const std::string& key, std::uint32_t generation, std::int64_t version) {
  codec::Envelope e;
  e.ns_generation = generation;
  e.entity_version = version;
  e.written_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  e.payload = std::string(codec::kFencePayload);
  return guardedSetCommand(key, codec::encode(e), version, kFenceTtl);
}

}  // namespace tier::cache::detail
