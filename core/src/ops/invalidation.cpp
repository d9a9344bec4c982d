#include "tier/ops/invalidation.h"

#include <absl/container/flat_hash_set.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <charconv>

#include "tier/codec/keys.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"

namespace tier::ops {
namespace {

using codec::Namespace;

std::int64_t parseUserId(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
    throw BadInputError("user must be a positive numeric id");
  return v;
}

// Reports progress at most every 100 ms, and always the final state.
class Throttle {
 public:
  explicit Throttle(const std::function<void(const InvalidateProgress&)>& cb) : cb_(cb) {}
  void report(const InvalidateProgress& p, bool force = false) {
    if (!cb_) return;
    auto now = Clock::now();
    if (force || p.done || now - last_ >= std::chrono::milliseconds(100)) {
      last_ = now;
      cb_(p);
    }
  }

 private:
  const std::function<void(const InvalidateProgress&)>& cb_;
  Clock::time_point last_{};
};

bool cancelled(const std::atomic<bool>* c) { return c && c->load(std::memory_order_relaxed); }

std::string argsJson(const InvalidateRequest& req) {
  QJsonObject o{{QLatin1String("kind"), QLatin1String(toString(req.kind))},
                {QLatin1String("target"), QString::fromStdString(req.target)}};
  if (req.allow_any_namespace) o.insert(QLatin1String("allow_any_namespace"), true);
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

const redis::RedisReadView& requireRedis(TierCore& core) {
  if (!core.hasRedis()) throw BadInputError("no Redis configured: give --redis URL (or a profile)");
  return core.redis();
}

// EXISTS for each key in one pipeline; returns the ones present.
std::vector<std::string> existing(const redis::RedisReadView& r, const std::vector<std::string>& keys) {
  std::vector<redis::Command> cmds;
  cmds.reserve(keys.size());
  for (const auto& k : keys) cmds.push_back({"EXISTS", k});
  std::vector<std::string> out;
  if (cmds.empty()) return out;
  auto replies = r.pipeline(cmds);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].isError()) throw DataError("EXISTS failed: " + replies[i].str);
    if (replies[i].integer > 0) out.push_back(keys[i]);
  }
  return out;
}

// Adds one SCAN page's reply to `out`; throws DataError on a malformed reply.
std::string takeScanPage(redis::Reply& r, std::vector<std::string>& out) {
  if (r.isError()) {
    if (r.str.rfind("NOPERM", 0) == 0) throw PermissionError("Redis refused SCAN: " + r.str);
    throw DataError("SCAN failed: " + r.str);
  }
  if (r.type != redis::Reply::Type::Array || r.elements.size() != 2 || r.elements[1].type != redis::Reply::Type::Array)
    throw DataError("SCAN returned an unexpected reply");
  for (auto& k : r.elements[1].elements)
    if (k.type == redis::Reply::Type::String) out.push_back(std::move(k.str));
  return std::move(r.elements[0].str);
}

// invalidateMany's errors in this operation's words (an ACL refusal is a permission error).
cache::TieredCache::BatchInvalidation dropKeys(TierCore& core, const std::vector<std::string>& keys, int batch,
                                             bool publishEach) {
  try {
    return core.cache().invalidateMany(keys, static_cast<std::size_t>(batch), publishEach);
  } catch (const PermissionError& e) {
    throw PermissionError(std::string("Redis refused UNLINK: ") + e.what());
  }
}

constexpr int kMaxScanPasses = 5;

// Per master: SCAN a page, then hand the keys it matched to the tiered cache
// (invalidateMany: epoch, L1, one pipelined UNLINK, settle), so a pattern
// takes the same ordering steps as a key; Redis is never blocked for more
// than one page's work, and a cancel is seen between pages.
void runPattern(TierCore& core, const InvalidateRequest& req, InvalidateResult& res, Throttle& throttle,
                const std::atomic<bool>* cancel) {
  const auto& r = requireRedis(core);
  InvalidateProgress prog;
  // SCAN may return a key twice; remember 64-bit hashes, not keys, so a scan
  // over millions of keys stays small (a collision under-counts by one).
  absl::flat_hash_set<std::size_t> seen;
  const std::string count = std::to_string(req.scan_count);
  std::vector<std::string> page;
  std::vector<std::string> matched;
  // A cluster whose slots move during the walk (a reshard, a failover) can
  // carry keys from a master not yet scanned to one already scanned: the walk
  // is repeated until the slot map stayed the same through a whole pass with
  // no migration under way (keys already matched are not counted again).
  const bool cluster = r.mode() == redis::RedisMode::Cluster;
  auto mapBefore = cluster ? r.slotMapState() : redis::RedisClient::SlotMapState{};
  for (int pass = 1;; ++pass) {
    res.scan_passes = pass;
    for (const std::string& node : r.masters()) {
      std::size_t at = 0;
      while (at < res.nodes.size() && res.nodes[at].node != node) ++at;
      if (at == res.nodes.size()) res.nodes.push_back(NodeInvalidation{node});
      NodeInvalidation& mine = res.nodes[at];
      std::string cursor = "0";
      bool first = true;
      while (first || cursor != "0") {
        if (cancelled(cancel)) {
          res.cancelled = true;
          break;
        }
        first = false;
        auto replies = r.pipelineOn(node, {{"SCAN", cursor, "MATCH", req.target, "COUNT", count}});
        page.clear();
        cursor = takeScanPage(replies.back(), page);
        mine.scanned += static_cast<long long>(page.size());
        prog.scanned += static_cast<long long>(page.size());
        matched.clear();
        for (auto& k : page) {
          // Internal bookkeeping (namespace generations) is never deleted by a pattern.
          if (k.rfind("tc:", 0) == 0) continue;
          if (!seen.insert(std::hash<std::string>{}(k)).second) continue;
          ++mine.matched;
          if (static_cast<int>(res.sample.size()) < req.sample_size) res.sample.push_back(k);
          if (!req.dry_run) matched.push_back(std::move(k));
        }
        // A key whose slot moved since the SCAN is unlinked where it lives now (the client routes
        // by slot) and counted for the node that found it.
        if (!matched.empty()) {
          const auto dropped = dropKeys(core, matched, req.unlink_batch, false);
          mine.deleted += dropped.deleted;
          res.l1_dropped += dropped.l1_dropped;
        }
        res.matched = 0;
        res.deleted = 0;
        for (const auto& n : res.nodes) {
          res.matched += n.matched;
          res.deleted += n.deleted;
        }
        prog.matched = res.matched;
        prog.deleted = res.deleted;
        throttle.report(prog);
      }
      if (res.cancelled) break;
    }
    if (!cluster || res.cancelled) break;
    const auto mapAfter = r.slotMapState();
    if (!mapBefore.migrating && !mapAfter.migrating && mapAfter.fingerprint == mapBefore.fingerprint) break;
    mapBefore = mapAfter;
    if (pass >= kMaxScanPasses) {
      res.slot_map_settled = false;
      break;
    }
  }
  res.matched = 0;
  res.deleted = 0;
  for (const auto& n : res.nodes) {
    res.matched += n.matched;
    res.deleted += n.deleted;
  }
  // This instance's L1 copies the pattern selects (also those no longer in L2), and the peers'.
  if (!req.dry_run) res.l1_dropped += static_cast<long long>(core.cache().invalidateMatching(req.target));
}

std::vector<std::string> userKeys(TierCore& core, std::int64_t userId) {
  std::vector<std::string> keys{codec::userKey(userId)};
  for (int p : repo::AnalyticsRepository::periods()) keys.push_back(codec::statsKey(userId, std::to_string(p) + "d"));
  auto c = core.pg().acquire();
  auto u = c->exec("SELECT 1 FROM users WHERE id = $1", {std::to_string(userId)});
  if (u.rows() == 0) throw NotFoundError("user " + std::to_string(userId) + " not found");
  auto e = c->exec("SELECT id FROM journal_entries WHERE user_id = $1", {std::to_string(userId)});
  for (int i = 0; i < e.rows(); ++i) keys.push_back(codec::entryKey(e.toInt(i, 0)));
  auto s = c->exec("SELECT id FROM chat_sessions WHERE user_id = $1", {std::to_string(userId)});
  for (int i = 0; i < s.rows(); ++i) keys.push_back(codec::sessionKey(s.toInt(i, 0)));
  return keys;
}

}  // namespace

const char* toString(InvalidateKind k) noexcept {
  switch (k) {
    case InvalidateKind::Key: return "key";
    case InvalidateKind::Pattern: return "pattern";
    case InvalidateKind::Namespace: return "namespace";
    case InvalidateKind::User: return "user";
  }
  return "?";
}

void validate(const InvalidateRequest& req) {
  if (req.sample_size < 0 || req.sample_size > 10'000 || req.scan_count <= 0 || req.scan_count > 10'000 ||
      req.unlink_batch <= 0 || req.unlink_batch > 10'000)
    throw BadInputError("sample size, scan count and batch size must be between 1 and 10000");
  switch (req.kind) {
    case InvalidateKind::Key:
      if (req.target.size() > codec::kMaxKeyBytes)
        throw BadInputError("key too long (" + std::to_string(req.target.size()) + " bytes; limit " +
                            std::to_string(codec::kMaxKeyBytes) + ")");
      if (!codec::parseKey(req.target))
        throw BadInputError("not a Tier Console key (expected namespace:v1:id with a known namespace)");
      break;
    case InvalidateKind::Pattern:
      codec::validatePattern(req.target, req.allow_any_namespace);
      break;
    case InvalidateKind::Namespace:
      if (!codec::parseNamespace(req.target))
        throw BadInputError("unknown namespace (known: entry, session, user, stats, knowledge)");
      break;
    case InvalidateKind::User:
      parseUserId(req.target);
      break;
  }
}

InvalidateResult invalidate(TierCore& core, const InvalidateRequest& req,
                            const std::function<void(const InvalidateProgress&)>& progress,
                            const std::atomic<bool>* cancel) {
  validate(req);
  // A dry run deletes nothing: it may run (and report its audit failure) for a read-only role.
  if (!req.dry_run) requireAuditWritable(core, std::string("invalidate.") + toString(req.kind));
  auto started = Clock::now();
  InvalidateResult res;
  res.kind = req.kind;
  res.target = req.target;
  res.dry_run = req.dry_run;
  Throttle throttle(progress);

  auto audit = [&](const std::string& outcome) {
    res.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    AuditRecord a{std::string("invalidate.") + toString(req.kind), argsJson(req), req.dry_run, res.matched,
                  res.deleted, outcome, res.duration_ms};
    try {
      res.audit_id = writeAudit(core, a);
    } catch (const Error& e) {
      res.audit_error = redactSecrets(e.what());
    }
  };

  try {
    switch (req.kind) {
      case InvalidateKind::Key: {
        const auto& r = requireRedis(core);
        auto present = existing(r, {req.target});
        res.matched = static_cast<long long>(present.size());
        if (!present.empty()) res.sample = present;
        if (!req.dry_run) {
          const auto dropped = dropKeys(core, {req.target}, 1, true);
          res.deleted = dropped.deleted;
          res.l1_dropped = dropped.l1_dropped;
        }
        break;
      }
      case InvalidateKind::Pattern:
        runPattern(core, req, res, throttle, cancel);
        break;
      case InvalidateKind::Namespace: {
        auto ns = *codec::parseNamespace(req.target);
        if (req.dry_run) {
          // The preview counts what the generation bump will retire.
          InvalidateRequest scan = req;
          scan.kind = InvalidateKind::Pattern;
          scan.target = req.target + ":*";
          runPattern(core, scan, res, throttle, cancel);
        } else {
          requireRedis(core);
          res.new_generation = core.cache().invalidateNamespace(ns);
          // This instance's L1 copies carry the old generation: misses from now on, freed when met,
          // evicted or expired. Sweeping them here would make an O(1) invalidation O(L1 entries).
          res.l1_dropped = 0;
          for (const auto& n : core.l1().stats().namespaces)
            if (n.ns == req.target) res.l1_dropped = static_cast<long long>(n.entries);
        }
        break;
      }
      case InvalidateKind::User: {
        const auto& r = requireRedis(core);
        auto keys = userKeys(core, parseUserId(req.target));
        InvalidateProgress prog;
        std::vector<std::string> present;
        for (std::size_t i = 0; i < keys.size(); i += static_cast<std::size_t>(req.unlink_batch)) {
          if (cancelled(cancel)) {
            res.cancelled = true;
            break;
          }
          std::vector<std::string> chunk(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                         keys.begin() + static_cast<std::ptrdiff_t>(
                                                            std::min(keys.size(), i + req.unlink_batch)));
          auto found = existing(r, chunk);
          res.matched += static_cast<long long>(found.size());
          for (const auto& k : found)
            if (static_cast<int>(res.sample.size()) < req.sample_size) res.sample.push_back(k);
          if (!req.dry_run) {
            // Every key of the user, not only those L2 held: L1 (here and at peers) may hold others.
            const auto dropped = dropKeys(core, chunk, req.unlink_batch, true);
            res.deleted += dropped.deleted;
            res.l1_dropped += dropped.l1_dropped;
          }
          prog.scanned += static_cast<long long>(chunk.size());
          prog.matched = res.matched;
          prog.deleted = res.deleted;
          throttle.report(prog);
        }
        break;
      }
    }
  } catch (const Error& e) {
    audit(std::string("error: ") + e.what());
    throw;
  }
  InvalidateProgress done{res.matched, res.matched, res.deleted, true};
  throttle.report(done, true);
  // deleted < matched only means keys expired (or were removed by someone else)
  // between SCAN and UNLINK: they are gone either way.
  std::string outcome = res.cancelled ? "cancelled" : "ok";
  audit(outcome);
  return res;
}

}  // namespace tier::ops
