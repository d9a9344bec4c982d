#include "tier/metrics/latency_json.h"

#include <QString>

namespace tier::metrics {

QJsonObject latencyJson(const LatencySummary& l) {
  QJsonObject o;
  o.insert(QStringLiteral("count"), static_cast<double>(l.count));
  o.insert(QStringLiteral("p50_ms"), l.p50_ms);
  o.insert(QStringLiteral("p95_ms"), l.p95_ms);
  o.insert(QStringLiteral("p99_ms"), l.p99_ms);
  o.insert(QStringLiteral("max_ms"), l.max_ms);
  o.insert(QStringLiteral("mean_ms"), l.mean_ms);
  return o;
}

}  // namespace tier::metrics
