#pragma once
// What this connection's credentials may do, asked of the servers themselves
// (Redis ACL, PostgreSQL privileges), so the console can grey out what they
// refuse and say why.
//
// Redis: ACL WHOAMI names the user (a user that may not run it is named from
// the URL, else "default"); ACL DRYRUN <user> <command> answers per command
// without running it. Where DRYRUN itself is refused (it needs @admin) or
// unknown (Redis < 7), each command is tried in a form that cannot change data
// (UNLINK of a key that does not exist, SET with an invalid expiry, EVAL
// "return 1", SCAN COUNT 1): Redis checks the ACL before it runs a command.
// PostgreSQL: has_table_privilege(current_user, ...) on cache_audit and the data tables.
//
// Thread-safety: probeCapabilities() may be called from any thread; it makes a
// few round trips (blocking), so never on the GUI thread.
#include <string>

namespace tier {
class TierCore;
}

namespace tier::ops {

struct Capability {
  bool allowed = false;
  // Why it is not allowed, as one or more plain sentences, e.g.
  // "Redis user ‘ro’ may not run UNLINK (ACL)." Empty when allowed.
  std::string reason;
};

struct Capabilities {
  std::string redis_user;  // ACL user ("" when no Redis is configured)
  std::string pg_role;     // current_user ("" when PostgreSQL could not be reached)
  Capability invalidate;   // UNLINK + SCAN + EVAL (namespace generation) and writing the audit row
  Capability warm;         // SELECT on the data tables, SET/EVAL in Redis, writing the audit row
  Capability evict;        // UNLINK/EVAL in Redis and writing the audit row
  Capability write_audit;  // INSERT on cache_audit
  Capability read_audit;   // SELECT on cache_audit
  Capability inspect;      // SELECT on chat_sessions and chat_messages
  // SET, UNLINK and EVAL in Redis: what a database write's cache step needs (the
  // synthetic load reads only without it). Allowed without Redis, and while
  // Redis is unreachable (an outage is not a refusal).
  Capability cache_write;
};

// Never throws for a refusal or a server that is down: that becomes
// allowed=false with the reason. Without a Redis URL, the Redis parts of warm
// and evict are not needed (L1 only) and invalidate is not allowed.
Capabilities probeCapabilities(TierCore& core);

}  // namespace tier::ops
