#include "coherence_history.h"

#include <time.h>

#include <QtGlobal>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace tier::test::coherence {

std::int64_t monoNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void load(const std::string& path, int proc, History& h) {
  std::ifstream in(path);
  std::string line;
  std::map<std::string, std::string> st;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "W" || tag == "R") {
      Op o;
      o.proc = proc;
      ls >> o.id >> o.version >> o.t0 >> o.t1 >> o.source;
      (tag == "W" ? h.writes : h.reads).push_back(o);
    } else if (tag == "E") {
      h.errors.push_back(line);
    } else if (tag == "S") {
      std::string kv;
      while (ls >> kv) {
        const auto eq = kv.find('=');
        if (eq != std::string::npos) st[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
    }
  }
  h.stats.push_back(st);
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(idx, v.size() - 1)];
}

// The history check. For every read by process P of key k that started at t:
// stale if some other process acknowledged a newer version of k before
// t - window (or P itself did before t).
Verdict check(const History& h, double windowMs) {
  Verdict v;
  const auto window = static_cast<std::int64_t>(windowMs * kMs);
  // (key, proc) -> writes by that proc sorted by ack, with prefix max version.
  std::map<std::pair<std::int64_t, int>, std::vector<Op>> writesBy;
  for (const auto& w : h.writes) writesBy[{w.id, w.proc}].push_back(w);
  std::map<std::pair<std::int64_t, int>, std::vector<std::int64_t>> prefixMax;
  for (auto& [k, ws] : writesBy) {
    std::sort(ws.begin(), ws.end(), [](const Op& a, const Op& b) { return a.t1 < b.t1; });
    auto& pm = prefixMax[k];
    std::int64_t m = 0;
    for (const auto& w : ws) pm.push_back(m = std::max(m, w.version));
  }
  auto newestAckedBefore = [&](std::int64_t id, int proc, std::int64_t t) -> std::int64_t {
    auto it = writesBy.find({id, proc});
    if (it == writesBy.end()) return 0;
    const auto& ws = it->second;
    auto pos = std::lower_bound(ws.begin(), ws.end(), t, [](const Op& w, std::int64_t x) { return w.t1 < x; });
    if (pos == ws.begin()) return 0;
    return prefixMax[{id, proc}][static_cast<std::size_t>(pos - ws.begin()) - 1];
  };
  std::set<int> procs;
  for (const auto& w : h.writes) procs.insert(w.proc);
  for (const auto& r : h.reads) procs.insert(r.proc);
  for (const auto& r : h.reads) {
    if (r.source.find("+stale") != std::string::npos) {
      ++v.marked_stale;
      continue;
    }
    if (const auto own = newestAckedBefore(r.id, r.proc, r.t0); r.version < own) {
      ++v.own_stale;
      v.stale_at.push_back(r.t0);
      qInfo("own stale: proc %d key %lld read v%lld from %s (%.2f ms) after its own write of v%lld was acknowledged",
            r.proc, static_cast<long long>(r.id), static_cast<long long>(r.version), r.source.c_str(),
            static_cast<double>(r.t1 - r.t0) / kMs, static_cast<long long>(own));
    }
    for (int q : procs)
      if (q != r.proc && r.version < newestAckedBefore(r.id, q, r.t0 - window)) {
        ++v.stale_after_window;
        v.stale_at.push_back(r.t0);
        break;
      }
  }
  // Regressions: per (key, process), the newest version among reads that
  // completed before each read started (reads of one process overlap).
  {
    std::map<std::pair<std::int64_t, int>, std::vector<const Op*>> byStart, byEnd;
    for (const auto& r : h.reads) {
      if (r.source.find("+stale") != std::string::npos) continue;
      byStart[{r.id, r.proc}].push_back(&r);
      byEnd[{r.id, r.proc}].push_back(&r);
    }
    for (auto& [k, starts] : byStart) {
      auto& ends = byEnd[k];
      std::sort(starts.begin(), starts.end(), [](const Op* a, const Op* b) { return a->t0 < b->t0; });
      std::sort(ends.begin(), ends.end(), [](const Op* a, const Op* b) { return a->t1 < b->t1; });
      std::size_t e = 0;
      std::int64_t seen = 0;
      const Op* seenBy = nullptr;
      for (const Op* r : starts) {
        for (; e < ends.size() && ends[e]->t1 < r->t0; ++e)
          if (ends[e]->version > seen) {
            seen = ends[e]->version;
            seenBy = ends[e];
          }
        if (r->version < seen) {
          ++v.regressions;
          v.stale_at.push_back(r->t0);
          qInfo("regression: proc %d key %lld read v%lld from %s (%.2f ms) %.2f ms after v%lld had been read from %s",
                r->proc, static_cast<long long>(r->id), static_cast<long long>(r->version), r->source.c_str(),
                static_cast<double>(r->t1 - r->t0) / kMs, static_cast<double>(r->t0 - seenBy->t1) / kMs,
                static_cast<long long>(seen), seenBy->source.c_str());
        }
      }
    }
  }
  // Windows: per write, the reads of the same key by the other processes.
  std::map<std::pair<std::int64_t, int>, std::vector<Op>> readsBy;
  for (const auto& r : h.reads) readsBy[{r.id, r.proc}].push_back(r);
  for (auto& [k, rs] : readsBy) std::sort(rs.begin(), rs.end(), [](const Op& a, const Op& b) { return a.t0 < b.t0; });
  for (const auto& w : h.writes)
    for (int q : procs) {
      if (q == w.proc) continue;
      auto it = readsBy.find({w.id, q});
      double win = 0;
      if (it != readsBy.end()) {
        const auto& rs = it->second;
        auto pos = std::lower_bound(rs.begin(), rs.end(), w.t1, [](const Op& r, std::int64_t x) { return r.t0 < x; });
        for (; pos != rs.end() && pos->t0 < w.t1 + 2000 * kMs; ++pos)
          if (pos->version < w.version) win = std::max(win, static_cast<double>(pos->t1 - w.t1) / kMs);
      }
      v.windows_ms.push_back(win);
    }
  v.p99_ms = percentile(v.windows_ms, 0.99);
  v.max_ms = v.windows_ms.empty() ? 0 : *std::max_element(v.windows_ms.begin(), v.windows_ms.end());
  return v;
}

}  // namespace tier::test::coherence
