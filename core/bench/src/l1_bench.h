#pragma once
// The L1 half of `tierctl bench`: in-process measurements that need no server.
// Owned by the L1 work (W-TinyLFU, trace simulator); the "l1" scenario of
// scenarios.cpp runs it.
//
// Each field is a ratio against a baseline measured in the same run,
// interleaved, after warm-up (see docs/BENCHMARKS.md for the method).
#include <QJsonObject>
#include <functional>
#include <string>

namespace tier::bench {

struct L1BenchOptions {
  bool quick = false;  // only prove every measurement runs (small sizes, 1 repetition)
  // Progress lines for stderr ("l1: hit cost 3/5"); may be empty.
  std::function<void(const std::string&)> progress;
};

struct L1BenchResult {
  double l1_hit_vs_hashmap = 0;          // L1 hit ns ÷ absl::flat_hash_map lookup ns, 1M entries
  double l1_scaling_2t = 0;              // hit throughput 2 threads ÷ 1 thread
  double hit_ratio_vs_opt_zipf = 0;      // min over Zipf 0.9/0.99 × cache 1%/10%: L1 policy ÷ Belady-OPT (information)
  double hit_ratio_vs_top_k = 0;         // min over the same rows: L1 policy ÷ static top-k (the IID ceiling)
  double hit_ratio_vs_lru_scan = 0;      // L1 policy ÷ LRU on a scan-mixed trace
  double l1_bytes_per_entry_overhead = 0;  // measured heap bytes per entry beyond key+value bytes
  QJsonObject details;                   // raw figures behind each ratio (ns, hit ratios per trace, ...)
};

L1BenchResult runL1Bench(const L1BenchOptions& options);

}  // namespace tier::bench
