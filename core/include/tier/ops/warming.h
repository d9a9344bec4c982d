#pragma once
// Cache warming: load a set from PostgreSQL (100 rows per query, `= ANY($1)`,
// on `threads` connections) and fill L1 and L2 in chunks of 100 (TieredCache::fillMany:
// SET NX, then version-guarded SETs for keys already present; a newer cached version is never replaced),
// with progress and cancel. Writes an audit row. Progress is called from the
// worker threads, one call at a time.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tier {
class TierCore;
}

namespace tier::ops {

enum class WarmSet { Knowledge, Sessions, Entries };
const char* toString(WarmSet s) noexcept;  // knowledge, sessions, entries
bool parseWarmSet(const std::string& name, WarmSet& out);

// Warm on start (issue 15): what a profile warms when the console or a
// `tierctl load` connects, the profile key `warm_on_start`: set names
// separated by commas ("knowledge,sessions"); "" or "none" warms nothing.
// Unknown names throw BadInputError; order kept, duplicates dropped.
inline constexpr const char* kDefaultWarmOnStart = "knowledge";
std::vector<WarmSet> parseWarmSets(const std::string& csv);

struct WarmOptions {
  int session_hours = 24;   // sessions: active in the last N hours
  int session_limit = 5000;
  int top_users = 100;      // entries: the N users with most entries
  int entries_per_user = 20;
  int threads = 4;          // parallel loaders
};

struct WarmProgress {
  long long total = 0;
  long long done = 0;
  long long failed = 0;
};

struct WarmResult {
  WarmSet set = WarmSet::Knowledge;
  long long candidates = 0;
  long long warmed = 0;      // now present in the cache
  long long already = 0;     // L2 already held a newer version
  long long failed = 0;      // could not be loaded, or too large to cache
  bool cancelled = false;
  double duration_ms = 0;
  std::int64_t audit_id = 0;
  std::string audit_error;
};

WarmResult warm(TierCore& core, WarmSet set, const WarmOptions& options = {},
                const std::function<void(const WarmProgress&)>& progress = {},
                const std::atomic<bool>* cancel = nullptr);

}  // namespace tier::ops
