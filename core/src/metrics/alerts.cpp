#include "tier/metrics/alerts.h"

#include <algorithm>

namespace tier::metrics {

const char* toString(AlertEvent::Kind k) noexcept { return k == AlertEvent::Kind::Raised ? "raised" : "cleared"; }

bool AlertMonitor::raises(Status s) const {
  if (s == Status::Violation) return true;
  return s == Status::Warn && min_ == Status::Warn;
}

std::vector<AlertEvent> AlertMonitor::update(const std::vector<ThresholdResult>& results, std::int64_t nowMs) {
  std::vector<AlertEvent> out;
  for (const auto& r : results) {
    if (r.status == Status::NoData) continue;
    // "Worse" is lower for a ratio (hit rate), higher for a latency.
    const bool lowerIsWorse = r.unit == "ratio";
    auto it = active_.find(r.name);
    if (raises(r.status)) {
      if (it == active_.end()) {
        AlertEvent e{AlertEvent::Kind::Raised, r.name, r.status, Status::Ok, r.value, r.limit, r.unit, nowMs, nowMs,
                     r.value};
        active_.emplace(r.name, e);
        out.push_back(e);
      } else {
        auto& a = it->second;
        a.worst = lowerIsWorse ? std::min(a.worst, r.value) : std::max(a.worst, r.value);
        a.value = r.value;
        if (a.status != r.status) {
          // Escalation or de-escalation while still raised (warn <-> violation).
          AlertEvent e = a;
          e.previous = a.status;
          e.status = r.status;
          e.at_ms = nowMs;
          a.status = r.status;
          out.push_back(e);
        }
      }
    } else if (it != active_.end()) {
      AlertEvent e = it->second;
      e.kind = AlertEvent::Kind::Cleared;
      e.previous = e.status;
      e.status = r.status;
      e.value = r.value;
      e.at_ms = nowMs;
      active_.erase(it);
      out.push_back(e);
    }
  }
  return out;
}

std::vector<AlertEvent> AlertMonitor::active() const {
  std::vector<AlertEvent> out;
  for (const auto& [name, e] : active_) out.push_back(e);
  return out;
}

}  // namespace tier::metrics
