#pragma once
// Fingerprints of everything stored, to prove an action changed nothing:
// Redis (every key, its type and DUMP) and the L3 tables (row count + md5 of rows).
#include <map>
#include <string>

namespace tier {
class TierCore;
}

namespace tier::test {

struct RedisDigest {
  long long keys = 0;  // DBSIZE
  std::string digest;  // sha256 over sorted (key, DUMP) pairs; TTLs not included
  bool operator==(const RedisDigest&) const = default;
};

// REQUIRES: core's Redis user may run SCAN, DUMP and DBSIZE.
RedisDigest redisDigest(TierCore& core);

// table -> "count:md5" for users, journal_entries, chat_sessions, chat_messages,
// psychology_knowledge and cache_audit. REQUIRES: SELECT on each.
std::map<std::string, std::string> pgDigest(TierCore& core);

}  // namespace tier::test
