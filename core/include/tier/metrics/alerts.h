#pragma once
// Turns a stream of threshold evaluations into alert events: one when a
// metric enters violation (or warn), one when it recovers, with how long it
// lasted. The console's Alerts tab and `tierctl load` consume these.
//
// Thread-safety: not thread-safe; feed it from one thread (the one that takes
// the periodic snapshots).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tier/metrics/thresholds.h"

namespace tier::metrics {

struct AlertEvent {
  enum class Kind { Raised, Cleared };
  Kind kind = Kind::Raised;
  std::string name;          // threshold name (hit_rate, redis_p99, ...)
  Status status = Status::Violation;  // the new status (Ok when cleared)
  Status previous = Status::Ok;
  double value = 0;          // value at this evaluation
  double limit = 0;
  std::string unit;
  std::int64_t at_ms = 0;    // Unix ms of this evaluation
  std::int64_t started_ms = 0;  // when the alert was raised (Cleared: duration = at_ms - started_ms)
  double worst = 0;          // worst value seen while raised
};
const char* toString(AlertEvent::Kind k) noexcept;  // "raised", "cleared"

class AlertMonitor {
 public:
  // minSeverity: the status that raises an alert (Violation by default; Warn
  // to also alert on amber). NoData never raises nor clears.
  explicit AlertMonitor(Status minSeverity = Status::Violation) : min_(minSeverity) {}

  // Returns the events caused by this evaluation (in threshold order).
  std::vector<AlertEvent> update(const std::vector<ThresholdResult>& results, std::int64_t nowMs);
  // Alerts currently raised.
  std::vector<AlertEvent> active() const;

 private:
  bool raises(Status s) const;
  Status min_;
  std::map<std::string, AlertEvent> active_;  // by name
};

}  // namespace tier::metrics
