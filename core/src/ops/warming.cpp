#include "tier/ops/warming.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <mutex>
#include <thread>

#include "tier/codec/keys.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"

namespace tier::ops {
namespace {

using codec::Namespace;
using cache::TieredCache;

constexpr std::size_t kChunk = 100;  // items per DB batch and per Redis pipeline

struct Job {
  Namespace ns;
  std::vector<std::string> ids;  // slugs or numeric ids
  // One chunk of ids in one query; ids without a row are simply absent.
  std::function<std::vector<TieredCache::FillItem>(const std::vector<std::string>& ids)> load;
};

std::vector<std::int64_t> numericIds(const std::vector<std::string>& ids) {
  std::vector<std::int64_t> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(std::stoll(id));
  return out;
}

Job makeJob(TierCore& core, WarmSet set, const WarmOptions& o) {
  Job j;
  switch (set) {
    case WarmSet::Knowledge:
      j.ns = Namespace::Knowledge;
      j.ids = core.knowledge().allSlugs();
      j.load = [&core](const std::vector<std::string>& slugs) {
        std::vector<TieredCache::FillItem> out;
        for (const auto& a : core.knowledge().loadManyFromDb(slugs))
          out.push_back({codec::knowledgeKey(a.slug), a.toJson(), a.version});
        return out;
      };
      break;
    case WarmSet::Sessions:
      j.ns = Namespace::Session;
      for (const auto& s : core.sessions().listActive(o.session_hours, o.session_limit))
        j.ids.push_back(std::to_string(s.id));
      j.load = [&core](const std::vector<std::string>& ids) {
        std::vector<TieredCache::FillItem> out;
        for (const auto& s : core.sessions().loadManyFromDb(numericIds(ids)))
          out.push_back({codec::sessionKey(s.id), s.toJson(), s.version});
        return out;
      };
      break;
    case WarmSet::Entries:
      j.ns = Namespace::Entry;
      for (auto id : core.entries().hotEntryIds(o.top_users, o.entries_per_user)) j.ids.push_back(std::to_string(id));
      j.load = [&core](const std::vector<std::string>& ids) {
        std::vector<TieredCache::FillItem> out;
        for (const auto& e : core.entries().loadManyFromDb(numericIds(ids)))
          out.push_back({codec::entryKey(e.id), e.toJson(), e.version});
        return out;
      };
      break;
  }
  return j;
}

}  // namespace

const char* toString(WarmSet s) noexcept {
  switch (s) {
    case WarmSet::Knowledge: return "knowledge";
    case WarmSet::Sessions: return "sessions";
    case WarmSet::Entries: return "entries";
  }
  return "?";
}

bool parseWarmSet(const std::string& name, WarmSet& out) {
  for (auto s : {WarmSet::Knowledge, WarmSet::Sessions, WarmSet::Entries})
    if (name == toString(s)) {
      out = s;
      return true;
    }
  return false;
}

std::vector<WarmSet> parseWarmSets(const std::string& csv) {
  std::vector<WarmSet> out;
  std::size_t start = 0;
  while (start <= csv.size()) {
    std::size_t end = csv.find(',', start);
    if (end == std::string::npos) end = csv.size();
    std::string name = csv.substr(start, end - start);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    start = end + 1;
    if (name.empty() || name == "none") continue;
    WarmSet set;
    if (!parseWarmSet(name, set))
      throw BadInputError("unknown warm set '" + name.substr(0, 40) + "' (knowledge, sessions, entries or none)");
    if (std::find(out.begin(), out.end(), set) == out.end()) out.push_back(set);
  }
  return out;
}

WarmResult warm(TierCore& core, WarmSet set, const WarmOptions& o,
                const std::function<void(const WarmProgress&)>& progress, const std::atomic<bool>* cancel) {
  if (o.threads < 1 || o.threads > 64) throw BadInputError("warm threads must be between 1 and 64");
  if (!core.hasRedis()) throw BadInputError("no Redis configured: give --redis URL (or a profile)");
  requireAuditWritable(core, std::string("warm.") + toString(set));
  auto started = Clock::now();
  WarmResult res;
  res.set = set;

  auto audit = [&](const std::string& outcome) {
    res.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    QJsonObject args{{QLatin1String("set"), QLatin1String(toString(set))}};
    if (set == WarmSet::Sessions) args.insert(QLatin1String("hours"), o.session_hours);
    if (set == WarmSet::Entries) args.insert(QLatin1String("top_users"), o.top_users);
    AuditRecord a{std::string("warm.") + toString(set), QJsonDocument(args).toJson(QJsonDocument::Compact).toStdString(),
                  false, res.candidates, res.warmed, outcome, res.duration_ms};
    try {
      res.audit_id = writeAudit(core, a);
    } catch (const Error& e) {
      res.audit_error = redactSecrets(e.what());
    }
  };

  try {
    Job job = makeJob(core, set, o);
    res.candidates = static_cast<long long>(job.ids.size());

    std::mutex mu;  // guards res counters, firstError, lastReport
    std::exception_ptr firstError;
    auto lastReport = Clock::now();
    std::atomic<std::size_t> nextChunk{0};
    std::atomic<bool> stop{false};

    auto worker = [&]() {
      for (;;) {
        if (stop.load() || (cancel && cancel->load())) return;
        std::size_t start = nextChunk.fetch_add(kChunk);
        if (start >= job.ids.size()) return;
        const std::vector<std::string> chunk(job.ids.begin() + static_cast<std::ptrdiff_t>(start),
                                             job.ids.begin() + static_cast<std::ptrdiff_t>(std::min(job.ids.size(), start + kChunk)));
        std::vector<TieredCache::FillItem> items;
        long long failed = 0;  // a row deleted since the id list was read is simply not warmed
        try {
          items = job.load(chunk);
        } catch (const Error&) {
          failed = static_cast<long long>(chunk.size());
        } catch (const std::exception&) {
          failed = static_cast<long long>(chunk.size());  // e.g. an id that is not a number; never let a worker thread terminate
        }
        cache::TieredCache::FillResult filled;
        try {
          filled = core.cache().fillMany(job.ns, items);
        } catch (...) {
          std::lock_guard lk(mu);
          if (!firstError) firstError = std::current_exception();
          stop = true;
          return;
        }
        std::lock_guard lk(mu);
        res.warmed += static_cast<long long>(filled.stored);
        res.already += static_cast<long long>(filled.newer);
        res.failed += failed + static_cast<long long>(filled.too_large);
        if (progress && Clock::now() - lastReport >= std::chrono::milliseconds(100)) {
          lastReport = Clock::now();
          progress(WarmProgress{res.candidates, res.warmed + res.already + res.failed, res.failed});
        }
      }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < o.threads; ++i) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    if (firstError) std::rethrow_exception(firstError);
    res.cancelled = cancel && cancel->load();
  } catch (const Error& e) {
    audit(std::string("error: ") + e.what());
    throw;
  }
  if (progress) progress(WarmProgress{res.candidates, res.warmed + res.already + res.failed, res.failed});
  audit(res.cancelled ? "cancelled" : res.failed > 0 ? "partial" : "ok");
  return res;
}

}  // namespace tier::ops
