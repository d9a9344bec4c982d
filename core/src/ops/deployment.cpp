#include "tier/ops/deployment.h"

#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"

namespace tier::ops {

namespace {
// One statement: the current identifiers beside the stored ones (NULLs when there is no mark).
constexpr const char* kCompareSql =
    "SELECT d.system_identifier IS NOT NULL, "
    "d.system_identifier = (SELECT system_identifier::text FROM pg_control_system()), "
    "d.database_oid = (SELECT oid::bigint FROM pg_database WHERE datname = current_database()), "
    "d.database_name = current_database(), current_database() "
    "FROM (SELECT 1) AS one LEFT JOIN tier_deployment d ON d.kind = 'sandbox'";
}  // namespace

SandboxMark checkSandbox(pg::PgPool& pool) {
  SandboxMark m;
  try {
    auto c = pool.acquire();
    if (c->exec("SELECT to_regclass('tier_deployment') IS NULL").value(0, 0) == "t") {
      m.reason = "the database has no tier_deployment table (not migrated to version 3), so no sandbox mark";
      return m;
    }
    auto r = c->exec(kCompareSql);
    const std::string db(r.value(0, 4));
    if (r.value(0, 0) != "t") {
      m.reason = "database " + db + " carries no sandbox mark";
    } else if (r.value(0, 1) != "t") {
      m.reason = "the sandbox mark of database " + db +
                 " was made in another PostgreSQL cluster (a copy of a sandbox is not a sandbox)";
    } else if (r.value(0, 2) != "t" || r.value(0, 3) != "t") {
      m.reason = "the sandbox mark of database " + db + " was made for another database of this cluster";
    } else {
      m.sandbox = true;
      m.reason = "database " + db + " is marked as this cluster's sandbox";
    }
  } catch (const ConnectionError&) {
    throw;
  } catch (const TimeoutError&) {
    throw;
  } catch (const Error& e) {
    // A role that may not read the mark cannot rely on it either: not a sandbox.
    m.sandbox = false;
    m.reason = std::string("the sandbox mark could not be read: ") + redactSecrets(e.what());
  }
  return m;
}

void markSandbox(pg::PgPool& pool) {
  auto c = pool.acquire();
  c->exec(
      "INSERT INTO tier_deployment (kind, system_identifier, database_oid, database_name) "
      "SELECT 'sandbox', (SELECT system_identifier::text FROM pg_control_system()), "
      "(SELECT oid::bigint FROM pg_database WHERE datname = current_database()), current_database() "
      "ON CONFLICT (kind) DO UPDATE SET system_identifier = EXCLUDED.system_identifier, "
      "database_oid = EXCLUDED.database_oid, database_name = EXCLUDED.database_name, marked_at = now() "
      "WHERE (tier_deployment.system_identifier, tier_deployment.database_oid, tier_deployment.database_name) "
      "IS DISTINCT FROM (EXCLUDED.system_identifier, EXCLUDED.database_oid, EXCLUDED.database_name)");
}

}  // namespace tier::ops
