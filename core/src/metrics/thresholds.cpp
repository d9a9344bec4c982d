#include "tier/metrics/thresholds.h"

namespace tier::metrics {
namespace {

ThresholdResult latency(const char* name, const LatencySummary& s, double limit_ms, double warn_ratio) {
  ThresholdResult r{name, 0.0, limit_ms, "ms", Status::NoData};
  if (s.count == 0) return r;
  r.value = s.p99_ms;
  // Phase 0B says "p99 < limit": a p99 equal to the limit is already a violation.
  r.status = r.value >= limit_ms ? Status::Violation : r.value > warn_ratio * limit_ms ? Status::Warn : Status::Ok;
  return r;
}

}  // namespace

const char* toString(Status s) noexcept {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::Warn: return "warn";
    case Status::Violation: return "violation";
    case Status::NoData: return "no_data";
  }
  return "unknown";
}

std::vector<ThresholdResult> evaluate(const Snapshot& snapshot, const Thresholds& t) {
  std::vector<ThresholdResult> out;
  out.reserve(5);

  ThresholdResult hit{"hit_rate", 0.0, t.hit_rate_min, "ratio", Status::NoData};
  if (snapshot.counter(Counter::Read) != 0) {
    hit.value = snapshot.hitRate();
    const double warn_below = t.hit_rate_min + (1.0 - t.hit_rate_min) * (1.0 - t.warn_ratio);
    // Phase 0B says "hit rate > limit": a rate equal to the limit is already a violation.
    hit.status = hit.value <= t.hit_rate_min ? Status::Violation : hit.value < warn_below ? Status::Warn : Status::Ok;
  }
  out.push_back(std::move(hit));

  out.push_back(latency("redis_p99", snapshot.op(Op::RedisCommand), t.redis_p99_ms, t.warn_ratio));
  out.push_back(latency("session_retrieval_p99", snapshot.op(Op::SessionRetrieval), t.session_p99_ms, t.warn_ratio));
  out.push_back(latency("db_query_p99", snapshot.op(Op::DbQuery), t.db_query_p99_ms, t.warn_ratio));
  out.push_back(latency("knowledge_p99", snapshot.op(Op::KnowledgeLookup), t.knowledge_p99_ms, t.warn_ratio));
  return out;
}

const std::vector<std::string>& thresholdNames() {
  static const std::vector<std::string> names{"hit_rate", "redis_p99", "session_retrieval_p99", "db_query_p99",
                                              "knowledge_p99"};
  return names;
}

double* thresholdLimit(Thresholds& t, std::string_view name) {
  if (name == "hit_rate") return &t.hit_rate_min;
  if (name == "redis_p99") return &t.redis_p99_ms;
  if (name == "session_retrieval_p99") return &t.session_p99_ms;
  if (name == "db_query_p99") return &t.db_query_p99_ms;
  if (name == "knowledge_p99") return &t.knowledge_p99_ms;
  return nullptr;
}

}  // namespace tier::metrics
