#pragma once
// Where a session lives, per tier, and whether the cached copy is stale.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tier/repo/models.h"

namespace tier {
class TierCore;
}

namespace tier::ops {

struct TierCopy {
  bool present = false;
  std::int64_t version = 0;
  std::int64_t written_at_ms = 0;
  std::size_t bytes = 0;
};

struct SessionInspection {
  std::int64_t session_id = 0;
  TierCopy l1;
  TierCopy l2;
  long long l2_ttl_s = -2;          // -2 absent, -1 no expiry
  std::string l2_error;             // Redis unreachable / undecodable value, else empty
  bool l2_generation_current = true;
  bool l3_present = false;
  std::int64_t l3_version = 0;
  std::optional<repo::ChatSession> l3;      // the database row with recent messages
  std::optional<repo::ChatSession> cached;  // the copy in L2 (else L1), if any
  bool stale = false;               // a cached copy is older than (or differs from) the database row
  bool l1_stale = false;            // ...which one: this process's L1 copy
  bool l2_stale = false;            // ...and/or the shared L2 copy
  std::vector<std::string> diff;    // differing top-level fields
};

// NotFoundError if the session is in no tier at all. Does not fill any tier.
SessionInspection inspectSession(TierCore& core, std::int64_t sessionId);

// Evict one session from L1 and L2 (audited as evict.session). Returns whether L2 held it.
bool evictSession(TierCore& core, std::int64_t sessionId);
// Reload from the database and write it through (audited as refresh.session).
void refreshSession(TierCore& core, std::int64_t sessionId);

}  // namespace tier::ops
