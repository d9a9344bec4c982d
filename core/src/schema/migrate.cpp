#include <algorithm>

#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"
#include "tier/schema/migrations.h"

namespace tier::schema {
namespace {

// One lock id for every Tier Console migrator ("tier" in ASCII, then 1).
constexpr const char* kLockId = "8388347321254936577";

// Serialises migrators on this database for the rest of the current transaction.
// statement_timeout is lifted for the transaction: an index build may take longer
// than an interactive query is allowed to.
void lockForMigration(pg::Connection& c) {
  c.exec("SELECT set_config('statement_timeout', '0', true)");
  c.exec("SELECT pg_advisory_xact_lock($1::bigint)", {std::string(kLockId)});
}

int maxVersion(pg::Connection& c) {
  // Two statements: a query naming a missing table fails at parse time, whatever the CASE says.
  if (c.exec("SELECT to_regclass('schema_migrations') IS NULL").value(0, 0) == "t") return 0;
  return static_cast<int>(c.exec("SELECT coalesce(max(version), 0) FROM schema_migrations").toInt(0, 0));
}

std::vector<Migration> sortedMigrations() {
  std::vector<Migration> all = embeddedMigrations();
  std::sort(all.begin(), all.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < all.size(); ++i)
    if (all[i].version == all[i - 1].version)
      throw Error(ErrorKind::Internal, "two embedded migrations share version " + std::to_string(all[i].version));
  return all;
}

}  // namespace

MigrateResult migrate(pg::PgPool& pool) {
  const std::vector<Migration> all = sortedMigrations();
  auto lease = pool.acquire();
  pg::Connection& c = *lease;
  MigrateResult result;

  // CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin, so it runs under the lock too.
  {
    pg::Transaction tx(c);
    lockForMigration(c);
    c.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    result.from_version = maxVersion(c);
    tx.commit();
  }

  for (const Migration& m : all) {
    pg::Transaction tx(c);
    lockForMigration(c);
    // Re-checked under the lock: another migrator may have applied it meanwhile.
    const pg::Result done =
        c.exec("SELECT 1 FROM schema_migrations WHERE version = $1", {std::to_string(m.version)});
    if (done.rows() > 0) {
      tx.commit();
      continue;
    }
    try {
      c.execScript(m.sql);
    } catch (const Error& e) {
      throw Error(e.kind(), std::string("migration ") + m.name + " failed: " + e.what());
    }
    c.exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", {std::to_string(m.version), std::string(m.name)});
    tx.commit();
    result.applied.emplace_back(m.name);
  }
  result.to_version = maxVersion(c);
  return result;
}

int currentVersion(pg::PgPool& pool) {
  auto lease = pool.acquire();
  return maxVersion(*lease);
}

}  // namespace tier::schema
