#include "tier/sim/trace_sim.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <limits>
#include <list>
#include <memory>
#include <queue>
#include <utility>

#include "tier/codec/keys.h"
#include "tier/common/random.h"
#include "tier/l1/l1_cache.h"
#include "tier/workload/mix.h"

namespace tier::sim {
namespace {

using l1::L1Cache;
using l1::L1Options;
using l1::Value;
using random::Permutation;
using random::Rng;
using random::ZipfSampler;

std::vector<std::string> plainKeys(std::size_t n) {
  std::vector<std::string> k;
  k.reserve(n);
  for (std::size_t i = 0; i < n; ++i) k.push_back("entry:v1:" + std::to_string(i));
  return k;
}

// Rank -> item through a fixed permutation, as the workload's item spaces do.
struct Space {
  ZipfSampler zipf;
  Permutation perm;
  Space(std::uint64_t n, double s, std::uint64_t seed) : zipf(n, s), perm(n, seed) {}
  std::uint32_t pick(Rng& rng) const { return static_cast<std::uint32_t>(perm(zipf.sample(rng) - 1)); }
};

}  // namespace

Trace zipfTrace(std::uint32_t keys, double s, std::size_t length, std::uint64_t seed) {
  Trace t;
  t.name = "zipf-" + std::to_string(s).substr(0, 4);
  t.keys = plainKeys(keys);
  const Space space(keys, s, seed ^ 0x51);
  Rng rng(seed);
  t.requests.reserve(length);
  for (std::size_t i = 0; i < length; ++i) t.requests.push_back(space.pick(rng));
  return t;
}

Trace scanTrace(std::uint32_t keys, double s, std::size_t length, std::size_t period, std::size_t scanLength,
                std::uint64_t seed) {
  Trace t;
  t.name = "zipf-" + std::to_string(s).substr(0, 4) + "+scans";
  // The cold region is ten scans long, read in order and wrapping around.
  const std::size_t cold = std::max<std::size_t>(scanLength * 10, 1);
  t.keys = plainKeys(keys + cold);
  const Space space(keys, s, seed ^ 0x52);
  Rng rng(seed);
  t.requests.reserve(length);
  std::size_t nextCold = 0;
  while (t.requests.size() < length) {
    for (std::size_t i = 0; i < period && t.requests.size() < length; ++i) t.requests.push_back(space.pick(rng));
    for (std::size_t i = 0; i < scanLength && t.requests.size() < length; ++i) {
      t.requests.push_back(static_cast<std::uint32_t>(keys + nextCold));
      nextCold = (nextCold + 1) % cold;
    }
  }
  return t;
}

Trace workloadTrace(const WorkloadShape& shape, std::size_t length, std::uint64_t seed) {
  Trace t;
  t.name = "workload";
  const workload::Mix mix;
  const int weights[] = {mix.entry_read, mix.session_read, mix.message_append, mix.knowledge_lookup,
                         mix.analytics_read, mix.entry_edit};
  int total = 0;
  for (int w : weights) total += w;

  // Item spaces salted as the workload salts them (see Workload::Impl::load).
  const Space entries(std::max<std::uint32_t>(shape.entries, 1), shape.zipf_s, seed ^ 0x1);
  const Space users(std::max<std::uint32_t>(shape.users, 1), shape.zipf_s, seed ^ 0x2);
  const Space sessions(std::max<std::uint32_t>(shape.sessions, 1), shape.zipf_s, seed ^ 0x3);
  const Space knowledge(std::max<std::uint32_t>(shape.knowledge, 1), shape.zipf_s, seed ^ 0x4);

  absl::flat_hash_map<std::string, std::uint32_t> ids;
  auto request = [&](std::string key) {
    auto [it, added] = ids.emplace(std::move(key), static_cast<std::uint32_t>(t.keys.size()));
    if (added) t.keys.push_back(it->first);
    t.requests.push_back(it->second);
  };
  // Each virtual user has a Zipf-chosen home user for its analytics reads; users take turns.
  std::vector<std::uint32_t> home(static_cast<std::size_t>(std::max(shape.virtual_users, 1)));
  for (std::size_t i = 0; i < home.size(); ++i) {
    Rng r(seed ^ (0x5bd1e995ULL * (i + 1)));
    home[i] = users.pick(r);
  }
  Rng rng(seed);
  std::size_t vu = 0;
  t.requests.reserve(length);
  while (t.requests.size() < length) {
    const auto r = static_cast<int>(rng.below(static_cast<std::uint64_t>(total)));
    int kind = 0;
    for (int acc = weights[0]; r >= acc; acc += weights[++kind]) {
    }
    switch (kind) {
      case 0: request(codec::entryKey(entries.pick(rng) + 1)); break;
      case 1:
      case 2: request(codec::sessionKey(sessions.pick(rng) + 1)); break;
      case 3: request(codec::knowledgeKey("article-" + std::to_string(knowledge.pick(rng)))); break;
      case 4: request(codec::statsKey(home[vu] + 1, "30d")); break;
      default: {  // an edit reads the entry, then writes it through
        const std::string key = codec::entryKey(entries.pick(rng) + 1);
        request(key);
        request(key);
      }
    }
    vu = (vu + 1) % home.size();
  }
  t.requests.resize(length);
  return t;
}

Ratio simulateL1(const Trace& trace, std::size_t cacheEntries, const std::string& policy) {
  L1Options o;
  o.shards = 1;
  o.max_entries = std::max<std::size_t>(cacheEntries, 1);
  o.max_bytes = 0;
  o.policy = policy;
  L1Cache cache(o);
  const Value value = std::make_shared<const std::string>("v");
  Ratio r;
  for (std::uint32_t id : trace.requests) {
    const std::string& key = trace.keys[id];
    ++r.requests;
    if (cache.get(key)) {
      ++r.hits;
    } else {
      cache.put(key, value, std::chrono::milliseconds(0));
    }
  }
  return r;
}

Ratio simulateLru(const Trace& trace, std::size_t cacheEntries) {
  const std::size_t cap = std::max<std::size_t>(cacheEntries, 1);
  std::list<std::uint32_t> order;  // most recent first
  std::vector<std::list<std::uint32_t>::iterator> where(trace.keys.size(), order.end());
  Ratio r;
  for (std::uint32_t id : trace.requests) {
    ++r.requests;
    if (where[id] != order.end()) {
      ++r.hits;
      order.splice(order.begin(), order, where[id]);
      continue;
    }
    if (order.size() == cap) {
      where[order.back()] = order.end();
      order.pop_back();
    }
    order.push_front(id);
    where[id] = order.begin();
  }
  return r;
}

Ratio simulateOpt(const Trace& trace, std::size_t cacheEntries) {
  const std::size_t cap = std::max<std::size_t>(cacheEntries, 1);
  const std::size_t n = trace.requests.size();
  constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();
  // nextUse[i]: the index of the next request for the same key after i.
  std::vector<std::size_t> nextUse(n, kNever);
  std::vector<std::size_t> last(trace.keys.size(), kNever);
  for (std::size_t i = n; i-- > 0;) {
    nextUse[i] = last[trace.requests[i]];
    last[trace.requests[i]] = i;
  }
  // Cached keys by their next use, furthest on top; stale heap items are skipped.
  std::priority_queue<std::pair<std::size_t, std::uint32_t>> heap;
  std::vector<std::size_t> cachedNext(trace.keys.size(), 0);  // 0 = not cached (a next use is always > 0)
  std::size_t size = 0;
  Ratio r;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t id = trace.requests[i];
    ++r.requests;
    const std::size_t next = nextUse[i];
    if (cachedNext[id] != 0) {
      ++r.hits;
      if (next == kNever) {  // never used again: drop it now, it only takes room
        cachedNext[id] = 0;
        --size;
      } else {
        cachedNext[id] = next;
        heap.emplace(next, id);
      }
      continue;
    }
    if (next == kNever) continue;  // never used again: not worth storing
    if (size == cap) {
      while (cachedNext[heap.top().second] != heap.top().first) heap.pop();
      if (heap.top().first < next) continue;  // the newcomer is the furthest: leave it out
      cachedNext[heap.top().second] = 0;
      heap.pop();
      --size;
    }
    cachedNext[id] = next;
    heap.emplace(next, id);
    ++size;
  }
  return r;
}

Ratio simulateStaticTopK(const Trace& trace, std::size_t cacheEntries) {
  std::vector<std::uint64_t> count(trace.keys.size(), 0);
  for (std::uint32_t id : trace.requests) ++count[id];
  std::vector<std::uint32_t> ids(trace.keys.size());
  for (std::uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
  const std::size_t k = std::min(std::max<std::size_t>(cacheEntries, 1), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    [&](std::uint32_t a, std::uint32_t b) { return count[a] > count[b]; });
  Ratio r;
  r.requests = trace.requests.size();
  for (std::size_t i = 0; i < k; ++i)
    if (count[ids[i]] > 0) r.hits += count[ids[i]] - 1;
  return r;
}

}  // namespace tier::sim
