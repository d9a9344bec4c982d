#pragma once
// Evaluates a metrics snapshot against the Phase 0B thresholds.
#include <string>
#include <string_view>
#include <vector>

#include "tier/common/config.h"
#include "tier/metrics/metrics.h"

namespace tier::metrics {

enum class Status { Ok, Warn, Violation, NoData };
const char* toString(Status s) noexcept;  // "ok", "warn", "violation", "no_data"

struct ThresholdResult {
  std::string name;   // hit_rate, redis_p99, session_retrieval_p99, db_query_p99, knowledge_p99
  double value = 0;   // fraction for hit_rate, ms for latencies
  double limit = 0;
  std::string unit;   // "ratio" or "ms"
  Status status = Status::NoData;
};

// Results come in this order: hit_rate, redis_p99, session_retrieval_p99,
// db_query_p99, knowledge_p99.
// The comparisons are the Phase 0B wording's ("hit rate > 80 %", "p99 < 5 ms"):
// Latency (value = p99 in ms, unit "ms"): violation if value >= limit, warn if
// value > warn_ratio * limit, else ok.
// Hit rate (value = Snapshot::hitRate(), unit "ratio"): violation if value <= limit,
// warn if value < limit + (1 - limit) * (1 - warn_ratio), else ok.
// No samples (no reads for hit_rate, no recorded latencies for a p99) => NoData
// with value 0 (the CLI prints it; it never counts as a violation).
std::vector<ThresholdResult> evaluate(const Snapshot& snapshot, const Thresholds& thresholds);

// The five names, in evaluate()'s order — also the keys under which clients
// save limits (QSettings group "thresholds") and accept --threshold NAME=LIMIT.
const std::vector<std::string>& thresholdNames();
// The limit a name stands for (hit_rate: a ratio; the others: ms), or null for
// an unknown name.
double* thresholdLimit(Thresholds& thresholds, std::string_view name);

}  // namespace tier::metrics
