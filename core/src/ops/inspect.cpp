#include "tier/ops/inspect.h"

#include <QJsonDocument>

#include <algorithm>
#include <QJsonObject>

#include "tier/codec/keys.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"

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

SessionInspection inspectSession(TierCore& core, std::int64_t id) {
  if (id <= 0) throw BadInputError("session id must be a positive number");
  SessionInspection out;
  out.session_id = id;
  const std::string key = codec::sessionKey(id);
  auto& cache = core.cache();

  // The database first, then the caches: a cached copy can then only be older
  // than this row if it really is stale (a write that lands in between makes
  // the cached copy newer, which is not staleness).
  // Through the read router: a replica serves it only once it has replayed
  // everything the primary had, so the staleness verdict stays exact.
  out.l3 = core.sessions().loadForInspection(id);  // throws if PostgreSQL is unreachable
  out.l3_present = out.l3.has_value();
  if (out.l3) out.l3_version = out.l3->version;

  std::optional<repo::ChatSession> l1copy, l2copy;
  if (auto e = cache.peekL1(key)) {
    out.l1 = TierCopy{true, e->entity_version, e->written_at_ms, codec::kEnvelopeHeaderBytes + e->payload.size()};
    if (e->payload != "null") l1copy = repo::ChatSession::fromJson(e->payload);
  }
  if (core.hasRedis()) {
    try {
      auto p = cache.peekL2(codec::Namespace::Session, key);
      out.l2.present = p.present;
      out.l2.bytes = p.bytes;
      out.l2_ttl_s = p.ttl_ms < 0 ? p.ttl_ms : (p.ttl_ms + 999) / 1000;
      out.l2_generation_current = p.generation_current;
      if (!p.decode_error.empty()) out.l2_error = "cached value is unreadable: " + p.decode_error;
      if (p.value) {
        out.l2.version = p.value->entity_version;
        out.l2.written_at_ms = p.value->written_at_ms;
        if (p.value->payload != "null") l2copy = repo::ChatSession::fromJson(p.value->payload);
      }
    } catch (const Error& e) {
      out.l2_error = redactSecrets(e.what());
    }
  } else {
    out.l2_error = "no Redis configured";
  }
  out.cached = l2copy ? l2copy : l1copy;

  if (!out.l1.present && !out.l2.present && !out.l3_present)
    throw NotFoundError("session " + std::to_string(id) + " not found");

  // A copy is stale if it is older than the row, or the same version with other content.
  auto judge = [&](const TierCopy& tier, const std::optional<repo::ChatSession>& copy) -> bool {
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

}  // namespace tier::ops
