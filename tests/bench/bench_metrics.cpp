// Metrics recording throughput (1 vs 2 threads) and what striping buys over one
// shared atomic; snapshot cost.
#include <benchmark/benchmark.h>

#include <atomic>

#include "tier/metrics/metrics.h"

using namespace std::chrono_literals;
using tier::metrics::Counter;
using tier::metrics::Metrics;
using tier::metrics::Op;

namespace {

Metrics& metrics() {
  static Metrics m;
  return m;
}

void BM_Record(benchmark::State& state) {
  auto& m = metrics();
  std::uint64_t i = 0;
  for (auto _ : state) m.record(Op::EntryRead, std::chrono::nanoseconds(150 + (++i & 63)));
  state.SetItemsProcessed(state.iterations());
}

void BM_Count(benchmark::State& state) {
  auto& m = metrics();
  for (auto _ : state) m.count(Counter::L1Hit);
  state.SetItemsProcessed(state.iterations());
}

void BM_CountAndRecord(benchmark::State& state) {
  auto& m = metrics();
  std::uint64_t i = 0;
  for (auto _ : state) {
    m.count(Counter::L1Hit);
    m.record(Op::EntryRead, std::chrono::nanoseconds(150 + (++i & 63)));
  }
  state.SetItemsProcessed(state.iterations());
}

// Baseline: every thread incrementing one shared atomic, what striping avoids.
std::atomic<std::uint64_t> g_shared{0};
void BM_SharedAtomicBaseline(benchmark::State& state) {
  for (auto _ : state) g_shared.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}

void BM_Snapshot(benchmark::State& state) {
  auto& m = metrics();
  m.record(Op::DbQuery, 1ms);
  for (auto _ : state) benchmark::DoNotOptimize(m.snapshot(std::chrono::seconds(state.range(0))));
}

}  // namespace

BENCHMARK(BM_Record)->Threads(1)->Threads(2);
BENCHMARK(BM_Count)->Threads(1)->Threads(2);
BENCHMARK(BM_CountAndRecord)->Threads(1)->Threads(2);
BENCHMARK(BM_SharedAtomicBaseline)->Threads(1)->Threads(2);
BENCHMARK(BM_Snapshot)->Arg(10)->Arg(300)->Arg(0);
BENCHMARK_MAIN();
