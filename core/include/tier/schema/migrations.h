#pragma once
// Versioned SQL migrations (core/sql/migrations/NNN_name.sql), embedded in the
// library at build time and applied in order by migrate(). Idempotent: applied
// versions are recorded in schema_migrations and skipped; each migration runs
// in its own transaction under an advisory lock so concurrent migrators are safe.
#include <functional>
#include <string>
#include <vector>

namespace tier::pg {
class PgPool;
}

namespace tier::schema {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};
const std::vector<Migration>& embeddedMigrations();

struct MigrateResult {
  int from_version = 0;  // highest version applied before
  int to_version = 0;    // highest version applied after
  std::vector<std::string> applied;  // names applied by this call
};
MigrateResult migrate(pg::PgPool& pool);
int currentVersion(pg::PgPool& pool);  // 0 if never migrated

}  // namespace tier::schema
