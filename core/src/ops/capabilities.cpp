#include "tier/ops/capabilities.h"

#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/internal/tier_access.h"

namespace tier::ops {
namespace {

std::string quoted(const std::string& name) { return "\u2018" + name + "\u2019"; }

std::string oneLine(const std::string& s) {
  std::string out = redactSecrets(s);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  return out;
}

// One command to probe: its DRYRUN form and a live form that cannot change data
// (entry ids start at 1, so entry:v1:0 never exists).
struct RedisCheck {
  const char* name;
  redis::Command dry;
  redis::Command live;
};

const std::vector<RedisCheck>& redisChecks() {
  static const std::vector<RedisCheck> checks = {
      {"UNLINK", {"UNLINK", "entry:v1:1"}, {"UNLINK", "entry:v1:0"}},
      // PX 0 is refused as an invalid expiry after the ACL check: nothing is written.
      {"SET", {"SET", "entry:v1:1", "x", "PX", "1000"}, {"SET", "entry:v1:0", "x", "PX", "0"}},
      {"EVAL", {"EVAL", "return 1", "1", "entry:v1:1"}, {"EVAL", "return 1", "1", "entry:v1:0"}},
      {"SCAN", {"SCAN", "0", "MATCH", "entry:*", "COUNT", "1"}, {"SCAN", "0", "MATCH", "entry:v1:0", "COUNT", "1"}},
      {"GET", {"GET", "entry:v1:1"}, {"GET", "entry:v1:0"}},
  };
  return checks;
}

// NOPERM is an ACL refusal of one command; any other permission error (WRONGPASS,
// NOAUTH, a database the user may not select) means we are not logged in at all.
bool isAclRefusal(const PermissionError& e) { return std::string_view(e.what()).find("NOPERM") != std::string_view::npos; }

struct RedisFacts {
  bool configured = false;
  std::string user;
  std::string down;                          // non-empty: could not be asked
  std::map<std::string, std::string> refused;  // command -> sentence
};

RedisFacts probeRedis(TierCore& core) {
  RedisFacts f;
  // The live probes are built so that they cannot change data (see redisChecks), and SET/UNLINK/EVAL
  // are what they ask about: the read-only view would refuse them before the server is asked.
  auto* r = internal::TierAccess::redis(core);
  if (!r) return f;
  f.configured = true;
  const auto& urlUser = r->options().url.username;
  f.user = urlUser.empty() ? "default" : urlUser;
  try {
    try {
      auto who = r->command({"ACL", "WHOAMI"});
      if (!who.isError() && (who.type == redis::Reply::Type::String || who.type == redis::Reply::Type::Status) &&
          !who.str.empty())
        f.user = who.str;
    } catch (const PermissionError& e) {
      if (!isAclRefusal(e)) throw;
      // A user without ACL WHOAMI: keep the name from the URL.
    }
    bool dryRun = true;
    for (const auto& check : redisChecks()) {
      std::optional<bool> allowed;
      if (dryRun) {
        redis::Command argv{"ACL", "DRYRUN", f.user};
        argv.insert(argv.end(), check.dry.begin(), check.dry.end());
        try {
          auto rep = r->command(argv);
          if (rep.isError()) {
            dryRun = false;  // Redis < 7 or an unknown user: try the commands themselves
          } else {
            allowed = rep.str == "OK";
          }
        } catch (const PermissionError& e) {
          if (!isAclRefusal(e)) throw;
          dryRun = false;  // DRYRUN needs @admin
        }
      }
      if (!allowed) {
        try {
          r->command(check.live);  // an error reply other than NOPERM still passed the ACL
          allowed = true;
        } catch (const PermissionError& e) {
          if (!isAclRefusal(e)) throw;
          allowed = false;
        }
      }
      if (!*allowed)
        f.refused[check.name] = "Redis user " + quoted(f.user) + " may not run " + check.name + " (ACL).";
    }
  } catch (const PermissionError& e) {
    f.down = "Redis refused the login for user " + quoted(f.user) + ": " + oneLine(e.what()) + ".";
    f.refused.clear();
  } catch (const Error& e) {
    f.down = "Redis could not be asked what user " + quoted(f.user) + " may do: " + oneLine(e.what()) + ".";
    f.refused.clear();
  }
  return f;
}

struct PgFacts {
  std::string role;
  std::string down;
  std::map<std::string, std::string> refused;  // "INSERT cache_audit" -> sentence
};

PgFacts probePostgres(TierCore& core) {
  PgFacts f;
  try {
    auto c = core.pg().acquire();
    // Constant SQL; a table that does not exist yields NULL (to_regclass).
    auto res = c->exec(
        "SELECT current_user::text, t.name, t.priv, has_table_privilege(current_user, to_regclass(t.name), t.priv) "
        "FROM (VALUES ('cache_audit', 'INSERT'), ('cache_audit', 'SELECT'), ('users', 'SELECT'), "
        "('journal_entries', 'SELECT'), ('chat_sessions', 'SELECT'), ('chat_messages', 'SELECT'), "
        "('psychology_knowledge', 'SELECT')) AS t(name, priv)");
    for (int i = 0; i < res.rows(); ++i) {
      f.role = std::string(res.value(i, 0));
      const std::string table(res.value(i, 1));
      const std::string priv(res.value(i, 2));
      const std::string key = priv + " " + table;
      if (res.isNull(i, 3))
        f.refused[key] = "The table " + table + " does not exist (the schema is not migrated).";
      else if (res.value(i, 3) != "t")
        f.refused[key] = "PostgreSQL role " + quoted(f.role) + " may not " + priv + (priv == "INSERT" ? " into " : " from ") +
                         table + ".";
    }
  } catch (const PermissionError& e) {
    f.down = "PostgreSQL refused the login: " + oneLine(e.what()) + ".";
  } catch (const Error& e) {
    f.down = "PostgreSQL could not be reached: " + oneLine(e.what()) + ".";
  }
  return f;
}

// Collects the reasons a capability is missing, each sentence once.
class Gate {
 public:
  void redis(const RedisFacts& f, std::initializer_list<const char*> commands) {
    if (!f.configured) return;
    if (!f.down.empty()) return add(f.down);
    for (const char* c : commands)
      if (auto it = f.refused.find(c); it != f.refused.end()) add(it->second);
  }
  void postgres(const PgFacts& f, std::initializer_list<const char*> privileges) {
    if (!f.down.empty()) return add(f.down);
    for (const char* p : privileges)
      if (auto it = f.refused.find(p); it != f.refused.end()) add(it->second);
  }
  void add(const std::string& sentence) {
    for (const auto& s : reasons_)
      if (s == sentence) return;
    reasons_.push_back(sentence);
  }
  Capability result() const {
    Capability c;
    c.allowed = reasons_.empty();
    for (const auto& s : reasons_) c.reason += (c.reason.empty() ? "" : " ") + s;
    return c;
  }

 private:
  std::vector<std::string> reasons_;
};

}  // namespace

Capabilities probeCapabilities(TierCore& core) {
  Capabilities caps;
  RedisFacts rf;
  PgFacts pf;
  try {
    rf = probeRedis(core);
    pf = probePostgres(core);
  } catch (const std::exception& e) {
    // Not a refusal nor an outage (a bug or out of memory): deny everything, say why.
    Capability no{false, "The permissions could not be checked: " + oneLine(e.what()) + "."};
    caps.invalidate = caps.warm = caps.evict = caps.write_audit = caps.read_audit = caps.inspect = caps.cache_write = no;
    return caps;
  }
  caps.redis_user = rf.configured ? rf.user : std::string();
  caps.pg_role = pf.role;

  Gate writeAudit;
  writeAudit.postgres(pf, {"INSERT cache_audit"});
  caps.write_audit = writeAudit.result();

  Gate readAudit;
  readAudit.postgres(pf, {"SELECT cache_audit"});
  caps.read_audit = readAudit.result();

  Gate inspect;
  inspect.postgres(pf, {"SELECT chat_sessions", "SELECT chat_messages"});
  caps.inspect = inspect.result();

  Gate invalidate;
  if (!rf.configured) invalidate.add("No Redis is configured: there is no shared cache to invalidate.");
  // SET stands for the writes the namespace-generation script makes.
  invalidate.redis(rf, {"UNLINK", "SCAN", "EVAL", "SET"});
  invalidate.postgres(pf, {"INSERT cache_audit"});
  caps.invalidate = invalidate.result();

  Gate warm;
  warm.postgres(pf, {"SELECT users", "SELECT journal_entries", "SELECT chat_sessions", "SELECT chat_messages",
                     "SELECT psychology_knowledge", "INSERT cache_audit"});
  warm.redis(rf, {"SET", "EVAL"});
  caps.warm = warm.result();

  Gate evict;
  evict.redis(rf, {"UNLINK"});
  evict.postgres(pf, {"INSERT cache_audit"});
  caps.evict = evict.result();

  // An outage is no refusal here: the write path absorbs it and repairs L2 later.
  Gate cacheWrite;
  if (rf.down.empty()) cacheWrite.redis(rf, {"SET", "UNLINK", "EVAL"});
  caps.cache_write = cacheWrite.result();
  return caps;
}

}  // namespace tier::ops
