#pragma once
// Where a session, user, journal entry or mood statistic lives, per tier, and
// whether the cached copy is stale (tierctl inspect, the Sessions and Users views).
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

// One cached entity in every tier: the L1 and L2 copies, the database row, and
// whether a cached copy is stale. T is a repo model (User, JournalEntry,
// ChatSession, MoodStats).
template <typename T>
struct Inspection {
  std::string key;                  // the cache key (also the L2 key without namespace generation)
  TierCopy l1;
  TierCopy l2;
  long long l2_ttl_s = -2;          // -2 absent, -1 no expiry
  std::string l2_error;             // Redis unreachable / undecodable value, else empty
  bool l2_generation_current = true;
  bool l3_present = false;
  std::int64_t l3_version = 0;
  std::optional<T> l3;              // the database row
  std::optional<T> cached;          // the copy in L2 (else L1), if any
  bool stale = false;               // a cached copy is older than (or differs from) the database row
  bool l1_stale = false;            // ...which one: this process's L1 copy
  bool l2_stale = false;            // ...and/or the shared L2 copy
  std::vector<std::string> diff;    // differing top-level fields
  // Each differing field's value in the cached copy (L2, else L1) and in the
  // database, as JSON text ("" when that side has no such field or no copy).
  struct FieldDiff {
    std::string field, cached, database;
  };
  std::vector<FieldDiff> field_values;
};

struct SessionInspection : Inspection<repo::ChatSession> {
  std::int64_t session_id = 0;      // l3 carries the recent messages
};
struct UserInspection : Inspection<repo::User> {
  std::int64_t user_id = 0;
};
struct EntryInspection : Inspection<repo::JournalEntry> {
  std::int64_t entry_id = 0;
};
// The mood statistics of one user over one period (7, 30 or 90 days).
struct StatsInspection : Inspection<repo::MoodStats> {
  std::int64_t user_id = 0;
  int period_days = 30;
};

// NotFoundError if the session is in no tier at all. Does not fill any tier.
SessionInspection inspectSession(TierCore& core, std::int64_t sessionId);

// NotFoundError if the entity is in no tier at all, BadInputError for an id
// that is not positive or a period not in AnalyticsRepository::periods(). None
// fills a tier. The database row is read first, so a cached copy judged
// stale really is older (a write in between makes the copy newer, not stale).
UserInspection inspectUser(TierCore& core, std::int64_t userId);
EntryInspection inspectEntry(TierCore& core, std::int64_t entryId);
StatsInspection inspectStats(TierCore& core, std::int64_t userId, int periodDays = 30);

// Evict one session from L1 and L2 (audited as evict.session). Returns whether L2 held it.
bool evictSession(TierCore& core, std::int64_t sessionId);
// Reload from the database and write it through (audited as refresh.session).
void refreshSession(TierCore& core, std::int64_t sessionId);

// The same for the other entities, through TieredCache (audited as
// evict.user / evict.entry / evict.stats and refresh.*). Stats: every period
// of the user. refresh throws NotFoundError if the database has no such row.
enum class Entity { User, Entry, Stats };
bool evictEntity(TierCore& core, Entity kind, std::int64_t id);
void refreshEntity(TierCore& core, Entity kind, std::int64_t id);
const char* toString(Entity kind) noexcept;

}  // namespace tier::ops
