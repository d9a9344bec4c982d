#pragma once
// A user as support sees them (the console's Users view): the profile, their
// chat sessions, latest journal entries and mood statistics, each with where
// it lives in the tiers. Reads only; fills no tier.
#include <cstdint>
#include <string>
#include <vector>

#include "tier/ops/inspect.h"
#include "tier/repo/repositories.h"

namespace tier {
class TierCore;
}

namespace tier::ops {

struct UserMatch {
  std::int64_t id = 0;
  std::string email;
  std::string display_name;
};

// Digits: that user id (if it exists). Otherwise an email, exactly or in part
// (case-insensitive, the text matched literally: % and _ are plain). At most
// `limit` users, exact matches first. BadInputError for empty text, text over
// 320 bytes or text that is not UTF-8.
std::vector<UserMatch> findUsers(TierCore& core, const std::string& text, int limit = 50);

// Where one of the user's sessions lives, without loading its messages: the
// cached copies' versions against the row's (stale = a copy older than the row).
struct SessionWhere {
  bool l1 = false;
  bool l2 = false;
  long long l2_ttl_s = -2;  // -2 absent, -1 no expiry
  bool l2_known = true;     // false: Redis could not be asked
  std::int64_t db_version = 0;
  bool stale = false;
};

struct UserOverview {
  UserInspection user;                    // throws NotFoundError when absent everywhere
  std::vector<repo::SessionSummary> sessions;  // newest activity first, at most `sessionLimit`
  std::vector<SessionWhere> session_where;     // one per session, same order
  long long session_count = 0;                 // all of the user's sessions
  std::vector<EntryInspection> entries;        // newest first, at most `entryLimit`
  long long entry_count = 0;
  std::vector<StatsInspection> stats;          // one per period: 7, 30, 90 days
};

UserOverview userOverview(TierCore& core, std::int64_t userId, int sessionLimit = 50, int entryLimit = 20);

}  // namespace tier::ops
