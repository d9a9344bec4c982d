// L1 hit cost against a bare absl::flat_hash_map lookup of the same 1M keys (1 and
// 2 threads, W-TinyLFU and LRU), the added cost of the Metrics calls that sit on
// the hit path, and the policies' hit ratios on simulated traces.
#include <benchmark/benchmark.h>

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tier/l1/l1_cache.h"
#include "tier/sim/trace_sim.h"
#include "tier/metrics/metrics.h"

using namespace std::chrono_literals;

namespace {

constexpr std::size_t kEntries = 1'000'000;

const std::vector<std::string>& keys() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> v;
    v.reserve(kEntries);
    for (std::size_t i = 0; i < kEntries; ++i) v.push_back("entry:" + std::to_string(1'000'000'007ull * (i + 1) % 9'999'999'967ull));
    return v;
  }();
  return k;
}

// A random visiting order, so lookups miss the CPU caches as a real workload would.
const std::vector<std::uint32_t>& order() {
  static const std::vector<std::uint32_t> o = [] {
    std::vector<std::uint32_t> v(kEntries);
    for (std::uint32_t i = 0; i < kEntries; ++i) v[i] = i;
    std::shuffle(v.begin(), v.end(), std::mt19937(7));
    return v;
  }();
  return o;
}

std::shared_ptr<const std::string> valueFor(std::size_t i) {
  return std::make_shared<const std::string>(200 + i % 300, 'v');
}

absl::flat_hash_map<std::string, std::shared_ptr<const std::string>>& bareMap() {
  static auto* m = [] {
    auto* map = new absl::flat_hash_map<std::string, std::shared_ptr<const std::string>>();
    map->reserve(kEntries);
    for (std::size_t i = 0; i < kEntries; ++i) map->emplace(keys()[i], valueFor(i));
    return map;
  }();
  return *m;
}

tier::l1::L1Cache* makeCache(bool ttl, const char* policy) {
  tier::l1::L1Options o;
  o.max_entries = 2 * kEntries;
  o.max_bytes = 4ull << 30;
  o.policy = policy;
  auto* c = new tier::l1::L1Cache(o);
  for (std::size_t i = 0; i < kEntries; ++i) c->put(keys()[i], valueFor(i), ttl ? 1h : 0ms);
  return c;
}

tier::l1::L1Cache& cache(bool ttl) {
  if (ttl) {
    static auto* c = makeCache(true, "tinylfu");
    return *c;
  }
  static auto* c = makeCache(false, "tinylfu");
  return *c;
}

tier::l1::L1Cache& lruCache() {
  static auto* c = makeCache(true, "lru");
  return *c;
}

tier::metrics::Metrics& metrics() {
  static tier::metrics::Metrics m;
  return m;
}

// state.range(0): how many of the 1M keys are visited (1M = all, memory-bound;
// 10k = a hot set that stays in the CPU caches, showing the fixed per-call cost).
void BM_BareFlatHashMapHit(benchmark::State& state) {
  auto& map = bareMap();
  const auto& k = keys();
  const auto& o = order();
  const auto span = static_cast<std::size_t>(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto it = map.find(k[o[i++ % span]]);
    std::shared_ptr<const std::string> v = it->second;  // L1 hands out a reference too
    benchmark::DoNotOptimize(v);
  }
}

void runL1Hit(benchmark::State& state, bool ttl, int withMetrics, tier::l1::L1Cache* which = nullptr) {
  auto& c = which ? *which : cache(ttl);
  auto& m = metrics();
  const auto& k = keys();
  const auto& o = order();
  const auto span = static_cast<std::size_t>(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto v = c.get(k[o[i++ % span]]);
    if (withMetrics & 1) m.count(tier::metrics::Counter::L1Hit);
    if (withMetrics & 2) m.record(tier::metrics::Op::EntryRead, std::chrono::nanoseconds(150 + (i & 63)));
    benchmark::DoNotOptimize(v);
  }
}

void BM_L1Hit(benchmark::State& state) { runL1Hit(state, false, 0); }
void BM_L1HitTtl(benchmark::State& state) { runL1Hit(state, true, 0); }
void BM_L1HitTtlLru(benchmark::State& state) { runL1Hit(state, true, 0, &lruCache()); }
void BM_L1HitTtlWithCount(benchmark::State& state) { runL1Hit(state, true, 1); }
void BM_L1HitTtlWithRecord(benchmark::State& state) { runL1Hit(state, true, 2); }
void BM_L1HitTtlWithMetrics(benchmark::State& state) { runL1Hit(state, true, 3); }

// The same key over and over: the lookup stays in cache, so this shows the fixed
// per-call cost (hash, lock, hit mark, refcount) without memory stalls.
void BM_L1HitHotKey(benchmark::State& state) {
  auto& c = cache(true);
  const std::string& key = keys()[42];
  for (auto _ : state) benchmark::DoNotOptimize(c.get(key));
}

void BM_L1Miss(benchmark::State& state) {
  auto& c = cache(true);
  std::size_t i = 0;
  const std::string prefix = "entry:absent-";
  for (auto _ : state) benchmark::DoNotOptimize(c.get(prefix + std::to_string(i++ & 1023)));
}

// Hit ratio of a policy on a Zipf trace (100k keys, 1M requests), as counters.
// state.range(0): Zipf skew x100; range(1): cache size in % of keys.
void BM_PolicyHitRatio(benchmark::State& state, const char* policy) {
  const double s = static_cast<double>(state.range(0)) / 100;
  const auto trace = tier::sim::zipfTrace(100'000, s, 1'000'000, 42);
  const std::size_t cacheEntries = 100'000 * static_cast<std::size_t>(state.range(1)) / 100;
  tier::sim::Ratio r;
  for (auto _ : state) r = std::string(policy) == "opt" ? tier::sim::simulateOpt(trace, cacheEntries)
                                                         : tier::sim::simulateL1(trace, cacheEntries, policy);
  state.counters["hit_ratio"] = r.hitRatio();
}

}  // namespace

BENCHMARK_CAPTURE(BM_PolicyHitRatio, tinylfu, "tinylfu")->Args({90, 1})->Args({99, 10})->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PolicyHitRatio, lru, "lru")->Args({90, 1})->Args({99, 10})->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PolicyHitRatio, opt, "opt")->Args({90, 1})->Args({99, 10})->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BareFlatHashMapHit)->Arg(kEntries)->Arg(10'000)->Threads(1)->Threads(2);
BENCHMARK(BM_L1Hit)->Arg(kEntries)->Arg(10'000)->Threads(1)->Threads(2);
BENCHMARK(BM_L1HitTtl)->Arg(kEntries)->Arg(10'000)->Threads(1)->Threads(2);
BENCHMARK(BM_L1HitTtlLru)->Arg(kEntries)->Arg(10'000)->Threads(1)->Threads(2);
BENCHMARK(BM_L1HitTtlWithCount)->Arg(10'000)->Threads(1);
BENCHMARK(BM_L1HitTtlWithRecord)->Arg(10'000)->Threads(1);
BENCHMARK(BM_L1HitTtlWithMetrics)->Arg(kEntries)->Arg(10'000)->Threads(1)->Threads(2);
BENCHMARK(BM_L1HitHotKey)->Threads(1);
BENCHMARK(BM_L1Miss);
BENCHMARK_MAIN();
