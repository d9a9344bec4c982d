#pragma once
// The audit trail of destructive or heavy actions, in PostgreSQL (cache_audit).
// Writing an audit row is part of the action: a failure to audit is returned to
// the caller (AuditOutcome::error) and shown, never swallowed.
#include <cstdint>
#include <string>
#include <vector>

namespace tier {
class TierCore;
}

namespace tier::ops {

struct AuditRecord {
  std::string action;     // invalidate.key | invalidate.pattern | invalidate.namespace | invalidate.user |
                          // warm.knowledge | warm.sessions | warm.entries | evict.session | refresh.session |
                          // evict.user|entry|stats | refresh.user|entry|stats
  std::string args_json;  // JSON object of the arguments (no secrets)
  bool dry_run = false;
  long long matched = 0;
  long long affected = 0;
  std::string result;     // ok | partial | cancelled | error: <reason>
  double duration_ms = 0;
};

struct AuditRow {
  std::int64_t id = 0;
  std::int64_t at_ms = 0;
  std::string os_user, pg_role, redis_user, profile, action, args_json, result;
  bool dry_run = false;
  long long matched = 0, affected = 0;
  double duration_ms = 0;
};

// Who is acting: OS user, the Redis ACL user from the URL ("default" if none).
std::string osUserName();

// Returns the new row id. Throws tier::Error if the row could not be written.
std::int64_t writeAudit(TierCore& core, const AuditRecord& record);

// Asked before a destructive action: throws PermissionError ("... may not INSERT
// into cache_audit; nothing was changed") when the PostgreSQL role definitely may
// not write the audit row, so nothing is deleted unaudited. A PostgreSQL that
// cannot be asked is not a refusal: the action goes ahead and its audit failure
// is reported afterwards (audit_error). One round trip; blocking.
void requireAuditWritable(TierCore& core, const std::string& action);
// Newest first. filter matches action or result (substring, case-insensitive; a parameter).
std::vector<AuditRow> readAudit(TierCore& core, int limit = 200, const std::string& filter = {});

}  // namespace tier::ops
