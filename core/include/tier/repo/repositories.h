#pragma once
// Repositories: the platform's data through the tiers. Reads go through
// TieredCache (L1 -> L2 -> L3, single-flight); writes go to PostgreSQL first and,
// only once committed, update or invalidate the caches. A failed database write
// throws a typed tier::Error and leaves every cache tier untouched.
//
// Thread-safety: every repository is safe to share between threads.
// Latency of each public read is recorded under its metrics::Op.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tier/repo/models.h"
#include "tier/cache/tiered_cache.h"

namespace tier::pg {
class PgPool;
class ReadRouter;
}

namespace tier::repo {

// Result of a cached read: the value and where it came from.
template <typename T>
struct Fetched {
  std::optional<T> value;
  cache::Source source = cache::Source::None;
  bool stale = false;  // a copy past its TTL, served because PostgreSQL was unreachable
};

class UserRepository {
 public:
  UserRepository(cache::TieredCache& cache, pg::PgPool& pg) : cache_(cache), pg_(pg) {}
  Fetched<User> get(std::int64_t id);
  std::optional<User> findByEmail(const std::string& email);  // database, exact match
  // Write-through: the new row is in L1 and L2 when this returns.
  User create(const std::string& email, const std::string& displayName, const std::string& timezone = "UTC");
  User update(std::int64_t id, const std::string& displayName, const std::string& timezone);
  std::optional<User> loadFromDb(std::int64_t id);

 private:
  cache::TieredCache& cache_;
  pg::PgPool& pg_;
};

struct EntryDraft {
  std::string title;
  std::string content;
  int mood_score = 5;
  std::vector<std::string> tags;
};

class JournalRepository {
 public:
  // reads (may be null): routes loadManyFromDb and hotEntryIds (warming) to a replica.
  JournalRepository(cache::TieredCache& cache, pg::PgPool& pg, pg::ReadRouter* reads = nullptr)
      : cache_(cache), pg_(pg), reads_(reads) {}
  Fetched<JournalEntry> get(std::int64_t id);
  // Newest first; database.
  std::vector<JournalEntry> listByUser(std::int64_t userId, int limit = 50, int offset = 0);
  // Full-text search over title+content (websearch syntax) plus a literal
  // title substring match; the text is a parameter, never SQL. userId 0 = all users.
  std::vector<JournalEntry> search(const std::string& text, std::int64_t userId = 0, int limit = 50);
  JournalEntry create(std::int64_t userId, const EntryDraft& draft);
  JournalEntry update(std::int64_t id, const EntryDraft& draft);  // NotFoundError if absent
  void remove(std::int64_t id);                                    // NotFoundError if absent
  std::optional<JournalEntry> loadFromDb(std::int64_t id);
  // Many rows in one query (warming); absent ids are skipped, order not kept.
  std::vector<JournalEntry> loadManyFromDb(const std::vector<std::int64_t>& ids);
  // Ids of the newest entries of the users with most entries (for warming).
  std::vector<std::int64_t> hotEntryIds(int topUsers, int perUser);

 private:
  void invalidateStats(std::int64_t userId);
  cache::TieredCache& cache_;
  pg::PgPool& pg_;
  pg::ReadRouter* reads_;
};

struct SessionSummary {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string user_email;
  std::string title;
  std::string status;
  int message_count = 0;
  std::int64_t last_active_at = 0;
};

class SessionRepository {
 public:
  static constexpr int kDefaultRecentMessages = 50;
  // reads (may be null): routes loadForInspection and loadManyFromDb (warming) to a replica.
  SessionRepository(cache::TieredCache& cache, pg::PgPool& pg, int recentMessages = kDefaultRecentMessages,
                    pg::ReadRouter* reads = nullptr)
      : cache_(cache), pg_(pg), recent_(recentMessages), reads_(reads) {}
  // The session with its latest messages (one database round trip on a miss).
  Fetched<ChatSession> get(std::int64_t id);
  // Appends and writes the new session state through: the next get() sees it.
  ChatMessage appendMessage(std::int64_t sessionId, const std::string& role, const std::string& content);
  ChatSession create(std::int64_t userId, const std::string& title);
  // Sessions active in the last `hours`, newest first.
  std::vector<SessionSummary> listActive(int hours, int limit = 1000);
  // Marks sessions idle for more than `hours` as expired and evicts them. Returns how many.
  long long expireIdle(int hours);
  // Support search: by session id, user id or email (exact) or email substring.
  std::vector<SessionSummary> find(const std::string& query, int limit = 200);
  std::optional<ChatSession> loadFromDb(std::int64_t id);
  // The same row through the read router (replica when it has replayed the
  // primary's position, else the primary): for inspection, never for a write-back.
  std::optional<ChatSession> loadForInspection(std::int64_t id);
  // Many sessions with their recent messages in one query (warming); absent ids skipped, order not kept.
  std::vector<ChatSession> loadManyFromDb(const std::vector<std::int64_t>& ids);
  // The one prepared SELECT behind loadFromDb ($1 session id, $2 recent messages), for benchmarks.
  static const char* retrievalSql() noexcept;
  int recentMessages() const noexcept { return recent_; }

 private:
  cache::TieredCache& cache_;
  pg::PgPool& pg_;
  int recent_;
  pg::ReadRouter* reads_;
};

class KnowledgeRepository {
 public:
  // reads (may be null): routes allSlugs and loadManyFromDb (warming) to a replica.
  KnowledgeRepository(cache::TieredCache& cache, pg::PgPool& pg, pg::ReadRouter* reads = nullptr)
      : cache_(cache), pg_(pg), reads_(reads) {}
  Fetched<KnowledgeArticle> get(const std::string& slug);  // BadInputError for an invalid slug
  std::vector<KnowledgeArticle> listByTopic(const std::string& topic, int limit = 100);  // database
  std::vector<std::string> allSlugs();
  std::optional<KnowledgeArticle> loadFromDb(const std::string& slug);
  // Many articles in one query (warming); absent slugs skipped, order not kept.
  std::vector<KnowledgeArticle> loadManyFromDb(const std::vector<std::string>& slugs);

 private:
  cache::TieredCache& cache_;
  pg::PgPool& pg_;
  pg::ReadRouter* reads_;
};

class AnalyticsRepository {
 public:
  // reads (may be null): routes loadFromDb (the mood aggregate, also behind moodStats' fill) to a replica.
  AnalyticsRepository(cache::TieredCache& cache, pg::PgPool& pg, pg::ReadRouter* reads = nullptr)
      : cache_(cache), pg_(pg), reads_(reads) {}
  // Cache-aside; invalidated when the user's entries change. periodDays: 7, 30 or 90.
  Fetched<MoodStats> moodStats(std::int64_t userId, int periodDays);
  std::optional<MoodStats> loadFromDb(std::int64_t userId, int periodDays);
  static const std::vector<int>& periods();  // {7, 30, 90}

 private:
  cache::TieredCache& cache_;
  pg::PgPool& pg_;
  pg::ReadRouter* reads_;
};

}  // namespace tier::repo
