// The L1 half of `tierctl bench`: hit cost and 2-thread scaling against a bare
// absl::flat_hash_map, hit ratios against LRU and Belady-OPT on simulated traces,
// and the heap an entry costs beyond its key and value bytes.
#include "l1_bench.h"

#include <malloc.h>
#include <time.h>

#include <absl/container/flat_hash_map.h>

#include <QJsonArray>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tier/l1/l1_cache.h"
#include "tier/sim/trace_sim.h"

namespace tier::bench {
namespace {

using Clock = std::chrono::steady_clock;
using tier::l1::Value;
namespace sim = tier::sim;

struct Sizes {
  std::size_t entries;      // hit cost / memory: keys held
  int rounds;               // alternating rounds per side (median taken)
  std::size_t scalingOps;   // lookups per thread per scaling round
  std::uint32_t traceKeys;  // distinct keys of the Zipf/scan traces
  std::size_t traceLength;  // requests per trace
};

Sizes sizesFor(bool quick) {
  if (quick) return {20'000, 1, 20'000, 5'000, 50'000};
  return {1'000'000, 7, 1'000'000, 100'000, 2'000'000};
}

// Keys shaped like the core's ("entry:v1:{id}"), ids spread like a real id range.
std::vector<std::string> makeKeys(std::size_t n) {
  std::vector<std::string> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.push_back("entry:v1:" + std::to_string(1'000'000'007ull * (i + 1) % 9'999'999'967ull));
  return v;
}

std::vector<Value> makeValues(std::size_t n) {
  std::vector<Value> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.push_back(std::make_shared<const std::string>(200 + i % 300, 'v'));
  return v;
}

// A random visiting order: lookups miss the CPU caches as a large working set does.
std::vector<std::uint32_t> makeOrder(std::size_t n, unsigned seed) {
  std::vector<std::uint32_t> o(n);
  std::iota(o.begin(), o.end(), 0u);
  std::shuffle(o.begin(), o.end(), std::mt19937(seed));
  return o;
}

// This thread's CPU time: on a shared, loaded machine a lookup's cost is the CPU it
// takes, not the wall time during which other processes also ran.
double threadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Keeps a result alive without reading through it (a read would add a cache miss to both sides).
inline void keep(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

QJsonArray toJson(const std::vector<double>& v) {
  QJsonArray a;
  for (double x : v) a.append(x);
  return a;
}

std::size_t heapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;  // small chunks + mmapped blocks (the sketch, the big hash tables)
}

struct Fixture {
  std::vector<std::string> keys;
  std::vector<Value> values;
  std::vector<std::uint32_t> order;
  absl::flat_hash_map<std::string, Value> map;
  std::unique_ptr<l1::L1Cache> cache;

  explicit Fixture(std::size_t n) : keys(makeKeys(n)), values(makeValues(n)), order(makeOrder(n, 7)) {
    map.reserve(n);
    for (std::size_t i = 0; i < n; ++i) map.emplace(keys[i], values[i]);
    l1::L1Options o;  // the default policy and sharding, as the core runs it
    o.max_entries = 2 * n;
    o.max_bytes = 0;
    cache = std::make_unique<l1::L1Cache>(o);
    for (std::size_t i = 0; i < n; ++i) cache->put(keys[i], values[i], std::chrono::hours(1));  // TTL: the hit checks expiry
  }

  // CPU ns per lookup over `count` keys in the random order, starting at `from`.
  template <typename Lookup>
  double pass(std::size_t from, std::size_t count, Lookup&& lookup) const {
    const std::size_t n = order.size();
    const double t0 = threadCpuNs();
    for (std::size_t i = 0; i < count; ++i) keep(lookup(keys[order[(from + i) % n]]).get());
    return (threadCpuNs() - t0) / static_cast<double>(count);
  }
  Value l1Get(const std::string& k) const { return cache->get(k); }
  Value mapGet(const std::string& k) const { return map.find(k)->second; }
};

struct Throughput {
  double opsPerS = 0;    // wall clock: all threads' lookups / elapsed
  double cpuNsPerOp = 0;  // mean over threads of their CPU ns per lookup
};

// `threads` threads, each doing `ops` lookups from its own offset.
template <typename Lookup>
Throughput throughput(const Fixture& f, int threads, std::size_t ops, Lookup lookup) {
  std::vector<double> cpu(static_cast<std::size_t>(threads), 0);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  Clock::time_point t0;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      cpu[static_cast<std::size_t>(t)] = f.pass(static_cast<std::size_t>(t) * f.order.size() / 2 + 12345, ops, lookup);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  t0 = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return {static_cast<double>(ops) * threads / s, std::accumulate(cpu.begin(), cpu.end(), 0.0) / threads};
}

struct HitCost {
  double ratio = 0;
  double scaling = 0;
  QJsonObject details;
  QJsonObject scalingDetails;
};

HitCost measureHits(const Sizes& z, const L1BenchOptions& opt) {
  auto say = [&](const std::string& s) {
    if (opt.progress) opt.progress(s);
  };
  say("l1: filling " + std::to_string(z.entries) + " entries (L1 and a bare flat_hash_map)");
  const Fixture f(z.entries);
  auto l1 = [&f](const std::string& k) { return f.l1Get(k); };
  auto map = [&f](const std::string& k) { return f.mapGet(k); };
  const std::size_t n = z.entries;
  f.pass(0, n, l1);  // warm-up: page in both structures
  f.pass(0, n, map);
  std::vector<double> l1Ns, mapNs;
  for (int r = 0; r < z.rounds; ++r) {
    say("l1: hit cost round " + std::to_string(r + 1) + "/" + std::to_string(z.rounds));
    const std::size_t from = static_cast<std::size_t>(r) * 7919;
    // Alternate which side goes first, so a drift in machine load hits both alike.
    if (r % 2 == 0) {
      l1Ns.push_back(f.pass(from, n, l1));
      mapNs.push_back(f.pass(from, n, map));
    } else {
      mapNs.push_back(f.pass(from, n, map));
      l1Ns.push_back(f.pass(from, n, l1));
    }
  }
  HitCost out;
  const double l1Med = median(l1Ns), mapMed = median(mapNs);
  out.ratio = mapMed > 0 ? l1Med / mapMed : 0;
  out.details = QJsonObject{{QStringLiteral("entries"), static_cast<double>(n)},
                            {QStringLiteral("rounds"), z.rounds},
                            {QStringLiteral("policy"), QString::fromStdString(f.cache->options().policy)},
                            {QStringLiteral("shards"), static_cast<double>(f.cache->options().shards)},
                            {QStringLiteral("l1_ns"), toJson(l1Ns)},
                            {QStringLiteral("hashmap_ns"), toJson(mapNs)},
                            {QStringLiteral("l1_ns_median"), l1Med},
                            {QStringLiteral("hashmap_ns_median"), mapMed},
                            {QStringLiteral("method"),
                             QStringLiteral("get() of a held key (1 h TTL) vs find() + copy of the shared_ptr value "
                                            "in absl::flat_hash_map<std::string, shared_ptr>; same keys, random order, "
                                            "alternating rounds, median of this thread's CPU ns per lookup")}};

  std::vector<double> one, two, mapOne, mapTwo, cpuOne, cpuTwo;
  auto record = [](const Throughput& t, std::vector<double>& ops, std::vector<double>* cpu) {
    ops.push_back(t.opsPerS);
    if (cpu) cpu->push_back(t.cpuNsPerOp);
  };
  for (int r = 0; r < z.rounds; ++r) {
    say("l1: 2-thread scaling round " + std::to_string(r + 1) + "/" + std::to_string(z.rounds));
    if (r % 2 == 0) {
      record(throughput(f, 1, z.scalingOps, l1), one, &cpuOne);
      record(throughput(f, 2, z.scalingOps, l1), two, &cpuTwo);
    } else {
      record(throughput(f, 2, z.scalingOps, l1), two, &cpuTwo);
      record(throughput(f, 1, z.scalingOps, l1), one, &cpuOne);
    }
    record(throughput(f, 1, z.scalingOps, map), mapOne, nullptr);
    record(throughput(f, 2, z.scalingOps, map), mapTwo, nullptr);
  }
  const double m1 = median(one), m2 = median(two);
  out.scaling = m1 > 0 ? m2 / m1 : 0;
  const double h1 = median(mapOne), h2 = median(mapTwo);
  const double c1 = median(cpuOne), c2 = median(cpuTwo);
  out.scalingDetails = QJsonObject{{QStringLiteral("hardware_threads"), static_cast<double>(std::thread::hardware_concurrency())},
                                   {QStringLiteral("ops_per_thread"), static_cast<double>(z.scalingOps)},
                                   {QStringLiteral("l1_1t_ops_s"), toJson(one)},
                                   {QStringLiteral("l1_2t_ops_s"), toJson(two)},
                                   {QStringLiteral("l1_1t_ops_s_median"), m1},
                                   {QStringLiteral("l1_2t_ops_s_median"), m2},
                                   {QStringLiteral("hashmap_scaling_2t"), h1 > 0 ? h2 / h1 : 0},
                                   {QStringLiteral("l1_1t_cpu_ns_per_op_median"), c1},
                                   {QStringLiteral("l1_2t_cpu_ns_per_op_median"), c2},
                                   // What 2 threads would scale to on 2 otherwise idle cores: per-thread
                                   // CPU cost is what sharing (lock and line transfers) inflates.
                                   {QStringLiteral("l1_scaling_2t_cpu"), c2 > 0 ? 2 * c1 / c2 : 0},
                                   {QStringLiteral("method"),
                                    QStringLiteral("wall-clock lookups/s of 2 threads / 1 thread, same keys in random "
                                                   "order from different offsets, alternating rounds, median; needs 2 "
                                                   "idle cores (l1_scaling_2t_cpu is the load-independent estimate)")}};
  return out;
}

struct RatioRow {
  QJsonObject json;
  double vsOpt = 0;
  double vsLru = 0;
  double vsTop = 0;
  double topVsOpt = 0;
};

RatioRow ratioRow(const sim::Trace& t, std::size_t cache, const std::string& label) {
  const auto pol = sim::simulateL1(t, cache, "tinylfu");
  const auto lru = sim::simulateLru(t, cache);
  const auto l1lru = sim::simulateL1(t, cache, "lru");
  const auto opt = sim::simulateOpt(t, cache);
  const auto top = sim::simulateStaticTopK(t, cache);
  RatioRow r;
  r.vsOpt = opt.hitRatio() > 0 ? pol.hitRatio() / opt.hitRatio() : 0;
  r.vsLru = lru.hitRatio() > 0 ? pol.hitRatio() / lru.hitRatio() : 0;
  r.vsTop = top.hitRatio() > 0 ? pol.hitRatio() / top.hitRatio() : 0;
  r.topVsOpt = opt.hitRatio() > 0 ? top.hitRatio() / opt.hitRatio() : 0;
  r.json = QJsonObject{{QStringLiteral("trace"), QString::fromStdString(label)},
                       {QStringLiteral("keys"), static_cast<double>(t.distinctKeys())},
                       {QStringLiteral("requests"), static_cast<double>(t.requests.size())},
                       {QStringLiteral("cache_entries"), static_cast<double>(cache)},
                       {QStringLiteral("policy"), pol.hitRatio()},
                       {QStringLiteral("lru"), lru.hitRatio()},
                       {QStringLiteral("l1_lru"), l1lru.hitRatio()},
                       {QStringLiteral("opt"), opt.hitRatio()},
                       {QStringLiteral("static_top_k"), top.hitRatio()},
                       {QStringLiteral("policy_vs_opt"), r.vsOpt},
                       {QStringLiteral("policy_vs_lru"), r.vsLru},
                       {QStringLiteral("policy_vs_top_k"), r.vsTop},
                       {QStringLiteral("top_k_vs_opt"), r.topVsOpt}};
  return r;
}

struct Ratios {
  double vsOptZipf = 0;
  double vsTopZipf = 0;
  double vsLruScan = 0;
  QJsonObject details;
};

Ratios measureRatios(const Sizes& z, const L1BenchOptions& opt) {
  auto say = [&](const std::string& s) {
    if (opt.progress) opt.progress(s);
  };
  Ratios out;
  QJsonArray rows;
  double minOpt = 1e9, minTop = 1e9, optCeiling = 0;
  for (double s : {0.9, 0.99}) {
    const auto t = sim::zipfTrace(z.traceKeys, s, z.traceLength, 42);
    for (std::uint32_t pct : {1u, 10u}) {
      say("l1: hit ratio, " + t.name + ", cache " + std::to_string(pct) + " % of keys");
      const auto row = ratioRow(t, z.traceKeys * pct / 100, t.name + " cache " + std::to_string(pct) + "%");
      if (row.vsOpt < minOpt) {
        minOpt = row.vsOpt;
        optCeiling = row.topVsOpt;  // what hit_ratio_vs_opt_zipf's worst row could reach at best
      }
      minTop = std::min(minTop, row.vsTop);
      rows.append(row.json);
    }
  }
  out.vsOptZipf = minOpt;
  out.vsTopZipf = minTop;

  // Every half-key-count requests, a scan twice the cache's size over cold keys.
  const std::size_t cache = z.traceKeys / 10;
  say("l1: hit ratio, scan-mixed trace");
  const auto scan = sim::scanTrace(z.traceKeys, 0.9, z.traceLength, z.traceKeys / 2, 2 * cache, 43);
  const auto scanRow = ratioRow(scan, cache, scan.name + " cache 10%");
  out.vsLruScan = scanRow.vsLru;
  rows.append(scanRow.json);

  say("l1: hit ratio, the synthetic workload's key sequence");
  const auto wl = sim::workloadTrace(sim::WorkloadShape{}, z.traceLength, 1);
  for (std::size_t pct : {1u, 10u}) rows.append(ratioRow(wl, std::max<std::size_t>(wl.distinctKeys() * pct / 100, 1), "workload cache " + std::to_string(pct) + "%").json);

  out.details = QJsonObject{
      {QStringLiteral("rows"), rows},
      {QStringLiteral("hit_ratio_vs_opt_zipf_ceiling"), optCeiling},
      {QStringLiteral("method"),
       QStringLiteral("get, then put on a miss, through an L1Cache with 1 shard and max_entries = cache; LRU = "
                      "exact textbook LRU; OPT = Belady with bypass; static_top_k = the most requested keys pinned "
                      "(the ceiling of any online policy on an IID trace). hit_ratio_vs_top_k = min over the Zipf "
                      "rows of policy / static_top_k (the target); hit_ratio_vs_opt_zipf = min of policy / opt is "
                      "information: its ceiling is that row's top_k_vs_opt (hit_ratio_vs_opt_zipf_ceiling), since "
                      "OPT knows the future and no online policy does")}};
  return out;
}

struct Memory {
  double overhead = 0;
  QJsonObject details;
};

Memory measureMemory(std::size_t n, const L1BenchOptions& opt) {
  if (opt.progress) opt.progress("l1: memory per entry over " + std::to_string(n) + " entries");
  const auto keys = makeKeys(n);
  std::size_t valueBytes = 0;
  std::vector<Value> values;
  values.reserve(n);
  const std::size_t beforeValues = heapInUse();
  for (std::size_t i = 0; i < n; ++i) values.push_back(std::make_shared<const std::string>(200 + i % 300, 'v'));
  for (const auto& v : values) valueBytes += v->size();
  const std::size_t valueHeap = heapInUse() - beforeValues;

  const std::size_t before = heapInUse();
  l1::L1Options o;  // default policy and sharding, bounded to what it holds
  o.max_entries = n;
  o.max_bytes = 0;
  auto cache = std::make_unique<l1::L1Cache>(o);
  for (std::size_t i = 0; i < n; ++i) cache->put(keys[i], values[i], std::chrono::hours(1));
  const std::size_t delta = heapInUse() - before;

  const auto held = cache->keys();  // after the measurement: listing allocates
  std::size_t keyBytes = 0;
  for (const auto& k : held) keyBytes += k.size();
  const double entries = static_cast<double>(held.size());
  Memory m;
  m.overhead = entries > 0 ? (static_cast<double>(delta) - static_cast<double>(keyBytes)) / entries : 0;
  const double wrapper = (static_cast<double>(valueHeap) - static_cast<double>(valueBytes)) / static_cast<double>(n);
  m.details = QJsonObject{
      {QStringLiteral("entries"), entries},
      {QStringLiteral("heap_delta_bytes"), static_cast<double>(delta)},
      {QStringLiteral("key_bytes"), static_cast<double>(keyBytes)},
      {QStringLiteral("overhead_per_entry"), m.overhead},
      {QStringLiteral("charged_per_entry"), static_cast<double>(l1::kEntryOverheadBytes)},
      {QStringLiteral("value_wrapper_per_entry"), wrapper},
      {QStringLiteral("method"),
       QStringLiteral("mallinfo2 (uordblks + hblkhd) growth over constructing an L1Cache bounded to N entries and "
                      "putting N existing values, minus the held keys' bytes; the values' own heap (the "
                      "shared_ptr block and string buffer, value_wrapper_per_entry beyond the value bytes) is "
                      "the caller's and not included")}};
  return m;
}

}  // namespace

L1BenchResult runL1Bench(const L1BenchOptions& options) {
  const Sizes z = sizesFor(options.quick);
  L1BenchResult r;
  // Memory first, on a heap no other measurement has fragmented yet.
  const Memory mem = measureMemory(z.entries, options);
  r.l1_bytes_per_entry_overhead = mem.overhead;
  const HitCost hits = measureHits(z, options);
  r.l1_hit_vs_hashmap = hits.ratio;
  r.l1_scaling_2t = hits.scaling;
  const Ratios ratios = measureRatios(z, options);
  r.hit_ratio_vs_opt_zipf = ratios.vsOptZipf;
  r.hit_ratio_vs_top_k = ratios.vsTopZipf;
  r.hit_ratio_vs_lru_scan = ratios.vsLruScan;
  r.details = QJsonObject{{QStringLiteral("quick"), options.quick},
                          {QStringLiteral("hit_cost"), hits.details},
                          {QStringLiteral("scaling"), hits.scalingDetails},
                          {QStringLiteral("hit_ratio"), ratios.details},
                          {QStringLiteral("memory"), mem.details}};
  return r;
}

}  // namespace tier::bench
