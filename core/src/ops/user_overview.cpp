#include "tier/ops/user_overview.h"

#include <algorithm>

#include "common/sql_text.h"
#include "common/utf8.h"
#include "tier/common/error.h"
#include "tier/codec/keys.h"
#include "tier/core.h"


namespace tier::ops {

std::vector<UserMatch> findUsers(TierCore& core, const std::string& text, int limit) {
  if (text.empty()) throw BadInputError("type a user id or an email");
  if (text.size() > 320) throw BadInputError("search text longer than 320 bytes");
  if (!detail::isStrictUtf8(text) || text.find('\0') != std::string::npos)
    throw BadInputError("search text is not valid UTF-8");
  auto c = core.pg().acquire();
  auto r = c->exec(
      "SELECT id, email, display_name FROM users WHERE "
      "($1 ~ '^[0-9]{1,18}$' AND id = ($1)::bigint) "
      "OR lower(email) = lower($1) OR ($1 ~ '[[:alpha:]@._-]' AND email ILIKE $2) "
      "ORDER BY (id::text = $1 OR lower(email) = lower($1)) DESC, email LIMIT $3",
      {text, detail::likeSubstring(text), std::to_string(std::clamp(limit, 1, 1000))});
  std::vector<UserMatch> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({r.toInt(i, 0), std::string(r.value(i, 1)), std::string(r.value(i, 2))});
  return out;
}

UserOverview userOverview(TierCore& core, std::int64_t userId, int sessionLimit, int entryLimit) {
  UserOverview out;
  out.user = inspectUser(core, userId);  // BadInput / NotFound first: nothing else is asked
  {
    auto c = core.pg().acquire();
    auto r = c->exec("SELECT s.id, s.user_id, u.email, s.title, s.status, s.message_count, " TIER_MS("s.last_active_at")
                     ", count(*) OVER (), s.version FROM chat_sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = $1 "
                     "ORDER BY s.last_active_at DESC LIMIT $2",
                     {std::to_string(userId), std::to_string(std::clamp(sessionLimit, 1, 1000))});
    for (int i = 0; i < r.rows(); ++i) {
      repo::SessionSummary s;
      s.id = r.toInt(i, 0);
      s.user_id = r.toInt(i, 1);
      s.user_email = std::string(r.value(i, 2));
      s.title = std::string(r.value(i, 3));
      s.status = std::string(r.value(i, 4));
      s.message_count = static_cast<int>(r.toInt(i, 5));
      s.last_active_at = r.toInt(i, 6);
      out.session_count = r.toInt(i, 7);
      SessionWhere w;
      w.db_version = r.toInt(i, 8);
      out.sessions.push_back(std::move(s));
      out.session_where.push_back(w);
    }
    auto n = c->exec("SELECT count(*) FROM journal_entries WHERE user_id = $1", {std::to_string(userId)});
    out.entry_count = n.toInt(0, 0);
  }
  // The sessions' cached copies, after their rows were read (a newer copy is not stale).
  auto& cache = core.cache();
  for (std::size_t i = 0; i < out.sessions.size(); ++i) {
    SessionWhere& w = out.session_where[i];
    const std::string key = codec::sessionKey(out.sessions[i].id);
    if (auto e = cache.peekL1(key)) {
      w.l1 = true;
      w.stale = w.stale || e->entity_version < w.db_version;
    }
    if (!core.hasRedis()) {
      w.l2_known = false;
      continue;
    }
    try {
      const auto p = cache.peekL2(codec::Namespace::Session, key);
      w.l2 = p.present && p.generation_current;
      w.l2_ttl_s = p.ttl_ms < 0 ? p.ttl_ms : (p.ttl_ms + 999) / 1000;
      if (w.l2 && p.value) w.stale = w.stale || p.value->entity_version < w.db_version;
    } catch (const Error&) {
      w.l2_known = false;
    }
  }
  // Each entry inspected on its own: the row first, then L1 and L2 (a few ms each).
  for (const auto& e : core.entries().listByUser(userId, std::clamp(entryLimit, 1, 200))) {
    try {
      out.entries.push_back(inspectEntry(core, e.id));
    } catch (const NotFoundError&) {
      // deleted between the list and its inspection: not shown
    }
  }
  for (int p : repo::AnalyticsRepository::periods()) out.stats.push_back(inspectStats(core, userId, p));
  return out;
}

}  // namespace tier::ops
