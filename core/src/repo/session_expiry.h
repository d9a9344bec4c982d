#pragma once
// Private: expiring idle chat sessions, shared by SessionRepository::expireIdle
// and the session sweeper (ops/session_sweeper.h).
#include <cstdint>
#include <string>
#include <vector>

namespace tier::pg {
class Connection;
}

namespace tier::cache {
class TieredCache;
}

namespace tier::repo::expiry {

// One transaction (one statement): marks at most `limit` active sessions whose
// last activity is older than `idleSeconds` as expired, oldest first, and
// returns their ids. Rows locked by a writer (an append in flight) are skipped,
// never waited on; the next pass sees them with their new activity time.
std::vector<std::int64_t> expireIdleBatch(pg::Connection& c, std::int64_t idleSeconds, int limit);

// How many active sessions are idle longer than `idleSeconds`, and the oldest `sample` ids.
long long countIdle(pg::Connection& c, std::int64_t idleSeconds);
std::vector<std::int64_t> oldestIdle(pg::Connection& c, std::int64_t idleSeconds, int sample);

// After the rows changed: drops the sessions' copies from L1 and L2 through the
// cache's own invalidation (write epochs; peers told over the backplane).
// Never throws: if Redis fails, each key is remembered for repair (an older L2
// copy is then a miss) and `error` says why.
struct DroppedCopies {
  long long l2_deleted = 0;
  long long l1_dropped = 0;
  std::string error;  // redacted, one line; empty if Redis answered
};
DroppedCopies dropSessionCopies(cache::TieredCache& cache, const std::vector<std::int64_t>& ids);

}  // namespace tier::repo::expiry
