#pragma once
// One latency summary as JSON, the same shape wherever a command prints one
// (tierctl load/fleet --json, tierctl bench's details): count, p50_ms, p95_ms,
// p99_ms, max_ms, mean_ms. Pure; thread-safe.
#include <QJsonObject>

#include "tier/metrics/metrics.h"

namespace tier::metrics {

QJsonObject latencyJson(const LatencySummary& l);

}  // namespace tier::metrics
