#include "tier/ops/audit.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "common/sql_text.h"
#include "pg/row.h"
#include "tier/common/error.h"
#include "tier/core.h"

namespace tier::ops {

std::string osUserName() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  return "uid:" + std::to_string(::geteuid());
}

namespace {
std::string redisUser(TierCore& core) {
  if (!core.hasRedis()) return "";
  const auto& u = core.redis().options().url.username;
  return u.empty() ? "default" : u;
}
}  // namespace

std::int64_t writeAudit(TierCore& core, const AuditRecord& r) {
  auto c = core.pg().acquire();
  auto res = c->execPrepared(
      "audit_insert",
      "INSERT INTO cache_audit (os_user, redis_user, profile, action, args, dry_run, matched, affected, result, "
      "duration_ms) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10) RETURNING id",
      {osUserName(), redisUser(core), core.config().profile, r.action, r.args_json.empty() ? "{}" : r.args_json,
       r.dry_run ? "true" : "false", std::to_string(r.matched), std::to_string(r.affected),
       redactSecrets(r.result), std::to_string(r.duration_ms)});
  return res.toInt(0, 0);
}

void requireAuditWritable(TierCore& core, const std::string& action) {
  std::string role;
  bool allowed = true;
  try {
    auto c = core.pg().acquire();
    // to_regclass: a missing table gives NULL (reported by the insert itself), not an error here.
    auto r = c->exec(
        "SELECT current_user::text, coalesce(has_table_privilege(current_user, to_regclass('cache_audit'), 'INSERT'), "
        "true)");
    role = std::string(r.value(0, 0));
    allowed = r.value(0, 1) == "t";
  } catch (const Error&) {
    return;  // cannot ask: the action runs and reports its audit failure
  }
  if (!allowed)
    throw PermissionError("PostgreSQL role \u2018" + role + "\u2019 may not INSERT into cache_audit, so " + action +
                          " would go unaudited; nothing was changed");
}

std::vector<AuditRow> readAudit(TierCore& core, int limit, const std::string& filter) {
  auto c = core.pg().acquire();
  const std::string like = detail::likeSubstring(filter);
  auto r = c->execPrepared(
      "audit_read",
      "SELECT id, (extract(epoch from at)*1000)::bigint, os_user, pg_role, redis_user, profile, action, args::text, "
      "dry_run, matched, affected, result, duration_ms FROM cache_audit "
      "WHERE $1 = '' OR action ILIKE $2 OR result ILIKE $2 OR os_user ILIKE $2 "
      "ORDER BY at DESC, id DESC LIMIT $3",
      {filter, like, std::to_string(std::clamp(limit, 1, 100000))});
  std::vector<AuditRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    pg::Row c(r, i);
    AuditRow a;
    a.id = c.int64();
    a.at_ms = c.int64();
    a.os_user = c.text();
    a.pg_role = c.text();
    a.redis_user = c.text();
    a.profile = c.text();
    a.action = c.text();
    a.args_json = c.text();
    a.dry_run = c.boolean();
    a.matched = c.int64();
    a.affected = c.int64();
    a.result = c.text();
    a.duration_ms = c.real();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace tier::ops
