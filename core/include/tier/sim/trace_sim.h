#pragma once
// Cache-policy trace simulation: synthetic key traces (Zipf, Zipf with scans,
// the synthetic workload's own key sequence) replayed against the real L1
// (one shard, bounded to the cache size), an exact LRU, and Belady's optimum.
//
// Layering: above l1/ (it drives an L1Cache) and the leaf headers
// tier/common/random.h and tier/workload/mix.h; nothing of the workload's
// engine or of TierCore.
//
// Thread-safety: free functions on caller-owned data; safe to call concurrently.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tier::sim {

struct Trace {
  std::string name;
  std::vector<std::uint32_t> requests;  // key ids, in request order
  std::vector<std::string> keys;        // key name of each id (what L1 is given)
  std::size_t distinctKeys() const noexcept { return keys.size(); }
};

// Zipf(s) over `keys` keys (ranks spread over the ids by a fixed permutation),
// `length` requests. REQUIRES: keys >= 1, s >= 0.
Trace zipfTrace(std::uint32_t keys, double s, std::size_t length, std::uint64_t seed);

// A Zipf(s) base over `keys` keys, interrupted every `period` requests by a
// sequential scan of `scanLength` cold keys, each scan over keys no other
// request uses (recency-hostile: LRU lets each scan flush its hot set).
Trace scanTrace(std::uint32_t keys, double s, std::size_t length, std::size_t period, std::size_t scanLength,
                std::uint64_t seed);

// The keys the synthetic workload (core/src/workload) reads, in its order: the
// same operation mix (tier::workload::Mix defaults), Zipf skew, rank-to-item
// permutations and key names, over item spaces of the sandbox seed's sizes.
// Writes (message appends, entry edits) count as a request for the key they
// write through. No servers: ids stand in for the rows the workload would load.
struct WorkloadShape {
  std::uint32_t users = 2000;
  std::uint32_t entries = 100000;
  std::uint32_t sessions = 10000;
  std::uint32_t knowledge = 500;
  int virtual_users = 1000;
  double zipf_s = 0.99;
};
Trace workloadTrace(const WorkloadShape& shape, std::size_t length, std::uint64_t seed);

struct Ratio {
  std::uint64_t hits = 0;
  std::uint64_t requests = 0;
  double hitRatio() const noexcept { return requests ? static_cast<double>(hits) / static_cast<double>(requests) : 0; }
};

// Replays the trace through an L1Cache with one shard and max_entries =
// cacheEntries, with the named policy ("tinylfu", "lru"): get, and put on a miss.
Ratio simulateL1(const Trace& trace, std::size_t cacheEntries, const std::string& policy);
// Exact LRU (a textbook list + map; the reference "LRU" of the comparisons).
Ratio simulateLru(const Trace& trace, std::size_t cacheEntries);
// Belady's optimum for a cache that may decline to store: on a miss, of the
// cached keys and the requested one, the key next used furthest in the future
// is the one left out. The upper bound of any policy's hit ratio.
Ratio simulateOpt(const Trace& trace, std::size_t cacheEntries);

// The independent-reference ceiling: the cacheEntries most requested keys of the
// whole trace, pinned (their first requests still miss). On an IID trace (Zipf)
// no online policy beats this in expectation, so policy / OPT cannot exceed
// this / OPT there.
Ratio simulateStaticTopK(const Trace& trace, std::size_t cacheEntries);

}  // namespace tier::sim
