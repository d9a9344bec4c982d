#pragma once
// What kind of deployment a database is, as far as the synthetic load cares:
// the private sandbox (demo data: the load may write to any row) or anything
// else (real data: the load reads only, unless given consent, and then writes
// only rows it created itself; see workload/workload.h).
//
// The rule (docs/schema.md, "tier_deployment"): a database is a sandbox when
// its tier_deployment row of kind 'sandbox' names this cluster's system
// identifier (pg_control_system(), set once by initdb) and this database's oid
// and name. Only `tierctl sandbox up` (Sandbox::up) writes that row, into the
// cluster it has just started from its own folder. A command-line flag proves
// nothing, and neither does a mark that travelled in a dump: restored into
// another cluster or database, the identifiers no longer match.
//
// Thread-safety: free functions; each takes a connection from the pool (blocking).
#include <string>

namespace tier::pg {
class PgPool;
}

namespace tier::ops {

struct SandboxMark {
  bool sandbox = false;
  // Why not (one sentence: "no sandbox mark", "the mark was made for another
  // cluster (a copy of a sandbox is not a sandbox)", ...) or, for a sandbox,
  // what matched.
  std::string reason;
};

// Never throws for a database that is not a sandbox, has no such table, or
// denies reading it (all are "not a sandbox", with the reason). Throws
// ConnectionError/TimeoutError if PostgreSQL cannot be reached.
SandboxMark checkSandbox(pg::PgPool& pool);
inline bool isSandboxDatabase(pg::PgPool& pool) {
  return checkSandbox(pool).sandbox;
}

// Writes (or renews) the mark for the database `pool` is connected to. For the
// sandbox's own start-up only. REQUIRES: the schema is migrated. Throws tier::Error.
void markSandbox(pg::PgPool& pool);

}  // namespace tier::ops
