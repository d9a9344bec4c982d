#include "tier/ops/inspect.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

#include "tier/codec/keys.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/repo/repositories.h"

namespace tier::ops {
namespace {

std::string sessionArgs(std::int64_t id) {
  return QJsonDocument(QJsonObject{{QLatin1String("session_id"), double(id)}}).toJson(QJsonDocument::Compact).toStdString();
}

void auditOrThrow(TierCore& core, const AuditRecord& rec) {
  try {
    writeAudit(core, rec);
  } catch (const Error& e) {
    throw Error(e.kind(), std::string("the action succeeded but its audit row could not be written: ") + e.what());
  }
}

}  // namespace

namespace {

// A field's value as short JSON text, for the Stale banner and --json.
std::string fieldText(const QJsonObject& o, const QString& field) {
  if (!o.contains(field)) return {};
  const QJsonValue v = o.value(field);
  // What a user wrote in their journal is not shown to support, only its size.
  if (field == QLatin1String("content") && v.isString())
    return "<" + std::to_string(v.toString().size()) + " characters>";
  // As JSON: a string quoted and escaped, a number or array as written.
  const QByteArray wrapped = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);  // [<value>]
  QString text = QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
  constexpr int kMax = 200;  // a session's messages: enough to see what differs
  if (text.size() > kMax) text = text.left(kMax) + QStringLiteral("…");
  return text.toStdString();
}

QJsonObject objectOf(const std::string& json) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

// Fills every tier of `out` for `key` in namespace `ns`; `l3` is the database
// row, read before the caches by the caller. `what` names it in errors.
template <typename T>
void inspectTiers(TierCore& core, codec::Namespace ns, const std::string& key, std::optional<T> l3,
                  const std::string& what, Inspection<T>& out) {
  auto& cache = core.cache();
  out.key = key;
  out.l3 = std::move(l3);
  out.l3_present = out.l3.has_value();
  if (out.l3) out.l3_version = out.l3->version;

  std::optional<T> l1copy, l2copy;
  if (auto e = cache.peekL1(key)) {
    out.l1 = TierCopy{true, e->entity_version, e->written_at_ms, codec::kEnvelopeHeaderBytes + e->payload.size()};
    if (e->payload != "null") l1copy = T::fromJson(e->payload);
  }
  if (core.hasRedis()) {
    try {
      auto p = cache.peekL2(ns, key);
      out.l2.present = p.present;
      out.l2.bytes = p.bytes;
      out.l2_ttl_s = p.ttl_ms < 0 ? p.ttl_ms : (p.ttl_ms + 999) / 1000;
      out.l2_generation_current = p.generation_current;
      if (!p.decode_error.empty()) out.l2_error = "cached value is unreadable: " + p.decode_error;
      if (p.value) {
        out.l2.version = p.value->entity_version;
        out.l2.written_at_ms = p.value->written_at_ms;
        if (p.value->payload != "null") l2copy = T::fromJson(p.value->payload);
      }
    } catch (const Error& e) {
      out.l2_error = redactSecrets(e.what());
    }
  } else {
    out.l2_error = "no Redis configured";
  }
  out.cached = l2copy ? l2copy : l1copy;

  if (!out.l1.present && !out.l2.present && !out.l3_present) throw NotFoundError(what + " not found");

  // A copy is stale if it is older than the row, or the same version with other content.
  auto judge = [&](const TierCopy& tier, const std::optional<T>& copy) -> bool {
    if (!tier.present) return false;
    if (!out.l3) {
      if (std::find(out.diff.begin(), out.diff.end(), "<deleted in database>") == out.diff.end())
        out.diff.emplace_back("<deleted in database>");
      return true;
    }
    if (tier.version > out.l3->version) return false;  // a write landed during the inspection
    std::vector<std::string> d =
        copy ? repo::diffJsonFields(copy->toJson(), out.l3->toJson()) : std::vector<std::string>{"<tombstone>"};
    if (tier.version < out.l3->version && std::find(d.begin(), d.end(), "version") == d.end()) d.emplace_back("version");
    for (auto& f : d)
      if (std::find(out.diff.begin(), out.diff.end(), f) == out.diff.end()) out.diff.push_back(std::move(f));
    return !d.empty();
  };
  out.l1_stale = judge(out.l1, l1copy);
  out.l2_stale = judge(out.l2, l2copy);
  out.stale = out.l1_stale || out.l2_stale;

  // Both sides of each differing field: the copy judged (L2 if stale, else L1) against the row.
  const std::optional<T>& staleCopy = out.l2_stale ? l2copy : l1copy;
  const QJsonObject cachedObj = staleCopy ? objectOf(staleCopy->toJson()) : QJsonObject{};
  const QJsonObject dbObj = out.l3 ? objectOf(out.l3->toJson()) : QJsonObject{};
  for (const auto& f : out.diff) {
    if (f.empty() || f.front() == '<') continue;  // <tombstone>, <deleted in database>, <unreadable>
    const QString name = QString::fromStdString(f);
    out.field_values.push_back({f, fieldText(cachedObj, name), fieldText(dbObj, name)});
  }
}

std::int64_t positiveId(std::int64_t id, const char* what) {
  if (id <= 0) throw BadInputError(std::string(what) + " id must be a positive number");
  return id;
}

}  // namespace

SessionInspection inspectSession(TierCore& core, std::int64_t id) {
  positiveId(id, "session");
  SessionInspection out;
  out.session_id = id;
  // Through the read router: a replica serves it only once it has replayed
  // everything the primary had, so the staleness verdict stays exact.
  auto row = core.sessions().loadForInspection(id);  // throws if PostgreSQL is unreachable
  inspectTiers(core, codec::Namespace::Session, codec::sessionKey(id), std::move(row), "session " + std::to_string(id),
               out);
  return out;
}

UserInspection inspectUser(TierCore& core, std::int64_t id) {
  positiveId(id, "user");
  UserInspection out;
  out.user_id = id;
  auto row = core.users().loadFromDb(id);
  inspectTiers(core, codec::Namespace::User, codec::userKey(id), std::move(row), "user " + std::to_string(id), out);
  return out;
}

EntryInspection inspectEntry(TierCore& core, std::int64_t id) {
  positiveId(id, "entry");
  EntryInspection out;
  out.entry_id = id;
  auto row = core.entries().loadFromDb(id);
  inspectTiers(core, codec::Namespace::Entry, codec::entryKey(id), std::move(row), "journal entry " + std::to_string(id),
               out);
  return out;
}

StatsInspection inspectStats(TierCore& core, std::int64_t userId, int periodDays) {
  positiveId(userId, "user");
  const auto& periods = repo::AnalyticsRepository::periods();
  if (std::find(periods.begin(), periods.end(), periodDays) == periods.end())
    throw BadInputError("period must be 7, 30 or 90 days");
  StatsInspection out;
  out.user_id = userId;
  out.period_days = periodDays;
  // The aggregate is computed, so it always "exists" for a user that does: an
  // unknown user has no row, which is what NotFound reports.
  std::optional<repo::MoodStats> row;
  if (core.users().loadFromDb(userId)) row = core.analytics().loadFromDb(userId, periodDays);
  inspectTiers(core, codec::Namespace::Stats, codec::statsKey(userId, std::to_string(periodDays) + "d"), std::move(row),
               "mood statistics of user " + std::to_string(userId), out);
  return out;
}

bool evictSession(TierCore& core, std::int64_t id) {
  if (id <= 0) throw BadInputError("session id must be a positive number");
  requireAuditWritable(core, "evict.session");
  auto started = Clock::now();
  bool had = false;
  try {
    had = core.cache().invalidate(codec::sessionKey(id));
  } catch (const Error& e) {
    auditOrThrow(core, AuditRecord{"evict.session", sessionArgs(id), false, 0, 0, std::string("error: ") + e.what(),
                                   std::chrono::duration<double, std::milli>(Clock::now() - started).count()});
    throw;
  }
  auditOrThrow(core, AuditRecord{"evict.session", sessionArgs(id), false, had ? 1 : 0, had ? 1 : 0, "ok",
                                 std::chrono::duration<double, std::milli>(Clock::now() - started).count()});
  return had;
}

void refreshSession(TierCore& core, std::int64_t id) {
  if (id <= 0) throw BadInputError("session id must be a positive number");
  requireAuditWritable(core, "refresh.session");
  auto started = Clock::now();
  const auto key = codec::sessionKey(id);
  auto elapsed = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - started).count(); };
  try {
    // Drop first, then load: a message appended in between is then either in
    // the row we load or written through after us (with a newer version).
    core.cache().invalidate(key);
    auto s = core.sessions().loadFromDb(id);
    if (!s) throw NotFoundError("session " + std::to_string(id) + " not found");
    core.cache().writeThrough(codec::Namespace::Session, key, s->toJson(), s->version);
  } catch (const Error& e) {
    auditOrThrow(core, AuditRecord{"refresh.session", sessionArgs(id), false, 0, 0, std::string("error: ") + e.what(),
                                   elapsed()});
    throw;
  }
  auditOrThrow(core, AuditRecord{"refresh.session", sessionArgs(id), false, 1, 1, "ok", elapsed()});
}

const char* toString(Entity kind) noexcept {
  switch (kind) {
    case Entity::User: return "user";
    case Entity::Entry: return "entry";
    case Entity::Stats: return "stats";
  }
  return "unknown";
}

namespace {

// The cache keys an entity occupies (stats: one per period).
std::vector<std::string> entityKeys(Entity kind, std::int64_t id) {
  switch (kind) {
    case Entity::User: return {codec::userKey(id)};
    case Entity::Entry: return {codec::entryKey(id)};
    case Entity::Stats: {
      std::vector<std::string> keys;
      for (int p : repo::AnalyticsRepository::periods()) keys.push_back(codec::statsKey(id, std::to_string(p) + "d"));
      return keys;
    }
  }
  return {};
}

std::string entityArgs(Entity kind, std::int64_t id) {
  const QLatin1String field(kind == Entity::Entry ? "entry_id" : "user_id");
  return QJsonDocument(QJsonObject{{field, double(id)}}).toJson(QJsonDocument::Compact).toStdString();
}

}  // namespace

bool evictEntity(TierCore& core, Entity kind, std::int64_t id) {
  positiveId(id, kind == Entity::Entry ? "entry" : "user");
  const std::string action = std::string("evict.") + toString(kind);
  requireAuditWritable(core, action);
  auto started = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - started).count(); };
  int had = 0;
  const auto keys = entityKeys(kind, id);
  try {
    for (const auto& key : keys) had += core.cache().invalidate(key) ? 1 : 0;
  } catch (const Error& e) {
    auditOrThrow(core, AuditRecord{action, entityArgs(kind, id), false, 0, 0, std::string("error: ") + e.what(), elapsed()});
    throw;
  }
  auditOrThrow(core, AuditRecord{action, entityArgs(kind, id), false, static_cast<long long>(keys.size()), had, "ok",
                                 elapsed()});
  return had > 0;
}

void refreshEntity(TierCore& core, Entity kind, std::int64_t id) {
  positiveId(id, kind == Entity::Entry ? "entry" : "user");
  const std::string action = std::string("refresh.") + toString(kind);
  requireAuditWritable(core, action);
  auto started = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - started).count(); };
  long long written = 0;
  try {
    // Drop first, then load: a write in between is then either in the row we
    // load or written through after us with a newer version.
    for (const auto& key : entityKeys(kind, id)) core.cache().invalidate(key);
    switch (kind) {
      case Entity::User: {
        auto u = core.users().loadFromDb(id);
        if (!u) throw NotFoundError("user " + std::to_string(id) + " not found");
        core.cache().writeThrough(codec::Namespace::User, codec::userKey(id), u->toJson(), u->version);
        written = 1;
        break;
      }
      case Entity::Entry: {
        auto e = core.entries().loadFromDb(id);
        if (!e) throw NotFoundError("journal entry " + std::to_string(id) + " not found");
        core.cache().writeThrough(codec::Namespace::Entry, codec::entryKey(id), e->toJson(), e->version);
        written = 1;
        break;
      }
      case Entity::Stats: {
        if (!core.users().loadFromDb(id)) throw NotFoundError("user " + std::to_string(id) + " not found");
        for (int p : repo::AnalyticsRepository::periods()) {
          auto m = core.analytics().loadFromDb(id, p);
          if (!m) continue;
          core.cache().writeThrough(codec::Namespace::Stats, codec::statsKey(id, std::to_string(p) + "d"), m->toJson(),
                                    m->version);
          ++written;
        }
        break;
      }
    }
  } catch (const Error& e) {
    auditOrThrow(core, AuditRecord{action, entityArgs(kind, id), false, 0, 0, std::string("error: ") + e.what(), elapsed()});
    throw;
  }
  auditOrThrow(core, AuditRecord{action, entityArgs(kind, id), false, written, written, "ok", elapsed()});
}

}  // namespace tier::ops
