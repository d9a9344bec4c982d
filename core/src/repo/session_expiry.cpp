#include "repo/session_expiry.h"

#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"
#include "tier/cache/tiered_cache.h"

namespace tier::repo::expiry {
namespace {

// The idle condition, in the UPDATE as well as its sub-select: a row the
// sub-select picked is changed only if it is still active and idle when locked.
#define TIER_IDLE "status = 'active' AND last_active_at < now() - make_interval(secs => $1::double precision)"

}  // namespace

std::vector<std::int64_t> expireIdleBatch(pg::Connection& c, std::int64_t idleSeconds, int limit) {
  // The version trigger (tier_bump_version) raises the row's version, so every
  // cached copy of the session is older than the row from here on.
  auto r = c.execPrepared(
      "session_expire_batch",
      "UPDATE chat_sessions SET status = 'expired' WHERE id IN (SELECT id FROM chat_sessions WHERE " TIER_IDLE
      " ORDER BY last_active_at LIMIT $2 FOR UPDATE SKIP LOCKED) AND " TIER_IDLE " RETURNING id",
      {std::to_string(idleSeconds), std::to_string(limit)});
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.toInt(i, 0));
  return ids;
}

long long countIdle(pg::Connection& c, std::int64_t idleSeconds) {
  auto r = c.execPrepared("session_idle_count", "SELECT count(*) FROM chat_sessions WHERE " TIER_IDLE,
                          {std::to_string(idleSeconds)});
  return r.toInt(0, 0);
}

std::vector<std::int64_t> oldestIdle(pg::Connection& c, std::int64_t idleSeconds, int sample) {
  std::vector<std::int64_t> ids;
  if (sample <= 0) return ids;
  auto r = c.execPrepared("session_idle_oldest",
                          "SELECT id FROM chat_sessions WHERE " TIER_IDLE " ORDER BY last_active_at, id LIMIT $2",
                          {std::to_string(idleSeconds), std::to_string(sample)});
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.toInt(i, 0));
  return ids;
}

#undef TIER_IDLE

DroppedCopies dropSessionCopies(cache::TieredCache& cache, const std::vector<std::int64_t>& ids) {
  DroppedCopies out;
  if (ids.empty()) return out;
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (auto id : ids) keys.push_back(codec::sessionKey(id));
  try {
    const auto r = cache.invalidateMany(keys);
    out.l2_deleted = r.deleted;
    out.l1_dropped = r.l1_dropped;
  } catch (const Error& e) {
    // The rows are committed: the copies must not be served, so each key goes
    // the database-write way (remembered and repaired once Redis answers).
    for (const auto& k : keys) cache.invalidateAfterWrite(k);
    out.error = redactSecrets(e.what());
  }
  return out;
}

}  // namespace tier::repo::expiry
