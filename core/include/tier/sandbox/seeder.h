#pragma once
// Fills a freshly migrated database with realistic demo data: users, journal
// entries with English-ish text, moods and tags, chat sessions with their
// message threads, and psychology knowledge articles.
//
// Deterministic: the same SeedOptions (including random_seed) give the same
// rows, ids and text; only timestamps move with the wall clock (they are spread
// backwards from the moment seed() starts).
//
// Thread-safety: one seed() at a time per Seeder; the pool may be shared.
#include <cstdint>
#include <functional>
#include <string>

namespace tier::pg {
class PgPool;
}

namespace tier::sandbox {

struct SeedOptions {
  int users = 2000;          // >= 1
  int entries = 100000;      // journal entries, spread over the users; 0 = none
  int sessions = 10000;      // chat sessions; 0 = none
  int min_messages = 20;     // messages per session, inclusive range
  int max_messages = 200;
  int knowledge = 500;       // psychology knowledge articles; 0 = none
  std::uint64_t random_seed = 42;
};

// table is "users", "journal_entries", "chat_sessions", "chat_messages" or
// "psychology_knowledge"; done reaches total once per table.
struct SeedProgress {
  std::string table;
  long long done;
  long long total;
};

struct SeedResult {
  long long users, entries, sessions, messages, knowledge;
  double seconds;  // wall time of the whole seed() including ANALYZE
};

class Seeder {
 public:
  explicit Seeder(pg::PgPool&);
  // Loads every table with COPY, one transaction per table, then ANALYZE.
  // Progress is reported at most every 1 % or 0.25 s per table, on the calling
  // thread. REQUIRES: the schema is migrated and the five tables are empty
  // (otherwise BadInputError, nothing changed). Throws tier::Error; a failure
  // rolls back the table being loaded (tables already loaded stay).
  SeedResult seed(const SeedOptions&, const std::function<void(const SeedProgress&)>& progress = {});
  // True once the schema exists and the users table has at least one row.
  bool isSeeded();

 private:
  pg::PgPool& pool_;
};

}  // namespace tier::sandbox
