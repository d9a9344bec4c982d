#pragma once
// Full-text search over journal entries for support (issue 15): ranked hits
// with highlighted snippets, cached in the `search` namespace.
//
// Key: search:v1:{user_id|all}:{generation}:{hash of the normalized query and
// limit}. The generation is the scope's token (TieredCache::searchGeneration),
// replaced by every JournalRepository create/update/remove of that user's
// entries (and the "all" token with it) after the commit and before the write
// returns: a search started after a write returned never reads a result filled
// before it, on any instance sharing the Redis. Writers that bypass the
// repositories (bulk seeding, a DBA's UPDATE) are seen once the short search
// TTL (CachePolicies::search, 60 s) has passed.
//
// Thread-safety: safe to share between threads.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tier/cache/tiered_cache.h"

namespace tier::pg {
class Connection;
class PgPool;
class Result;
}  // namespace tier::pg

namespace tier::repo {

struct SearchHit {
  std::int64_t entry_id = 0;
  std::int64_t user_id = 0;
  std::string title;
  // From ts_headline over title and content, on one line (control characters
  // and runs of white space folded to one space); the matched words are
  // between EntrySearch::kMarkStart and kMarkStop.
  std::string snippet;
  double rank = 0;              // ts_rank; 0 for a title substring match alone
  std::int64_t updated_at = 0;  // unix ms
  std::int64_t version = 0;
};

struct SearchResult {
  std::string query;         // normalized (see EntrySearch::normalize)
  std::int64_t user_id = 0;  // 0 = every user
  std::vector<SearchHit> hits;
  cache::Source source = cache::Source::None;  // L1/L2: a cached result; L3: the database answered
  bool cacheable = true;         // false: Redis could not give a generation, so the cache was skipped
};

class EntrySearch {
 public:
  static constexpr std::size_t kMaxQueryBytes = 1000;
  static constexpr int kDefaultLimit = 20;
  static constexpr int kMaxLimit = 100;
  static constexpr const char* kMarkStart = "[[";
  static constexpr const char* kMarkStop = "]]";

  EntrySearch(cache::TieredCache& cache, pg::PgPool& pg) : cache_(cache), pg_(pg) {}

  // Entries whose title and content match `text` (websearch_to_tsquery syntax:
  // words, "phrases", -exclusions, or; never a syntax error) or whose title
  // contains it literally, best ranked first. userId 0 = every user. The text
  // travels as a parameter only. Throws BadInputError (one line) for text that
  // is empty, longer than kMaxQueryBytes or not clean UTF-8 (control
  // characters other than white space), or a limit outside 1..kMaxLimit;
  // NotFoundError for a userId that is no user; tier::Error from the database
  // (statement_timeout included). Always on the primary: a replica could hand
  // back a pre-write answer to be cached under the post-write generation.
  SearchResult search(const std::string& text, std::int64_t userId = 0, int limit = kDefaultLimit);

  // Trimmed, white space runs folded to one space, ASCII letters lowercased
  // (the english text-search configuration and ILIKE ignore case). Throws
  // BadInputError as search() does.
  static std::string normalize(std::string_view text);
  // The SELECT behind search() ($1 text, $2 ILIKE pattern, $3 limit, and $4
  // user id when byUser), for EXPLAIN in tests and benchmarks.
  static std::string sql(bool byUser);
  // EXPLAIN (FORMAT JSON) of what search() runs for this text (the plan
  // settings included; not cached), for tests and benchmarks.
  static std::string explain(pg::PgPool& pg, const std::string& text, std::int64_t userId = 0,
                             int limit = kDefaultLimit);

 private:
  static pg::Result run(pg::Connection& c, const std::string& prefix, const std::string& normalized,
                        std::int64_t userId, int limit);
  cache::TieredCache& cache_;
  pg::PgPool& pg_;
};

}  // namespace tier::repo
