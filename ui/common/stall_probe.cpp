#include "common/stall_probe.h"

#include <algorithm>

namespace tier::ui {

StallProbe::StallProbe(int intervalMs, QObject* parent) : QObject(parent), interval_ms_(intervalMs) {
  timer_.setInterval(interval_ms_);
  timer_.setTimerType(Qt::PreciseTimer);
  connect(&timer_, &QTimer::timeout, this, &StallProbe::onTick);
}

void StallProbe::start() {
  clock_.start();
  last_ns_ = -1;
  timer_.start();
}

void StallProbe::stop() { timer_.stop(); }

void StallProbe::reset() {
  stalls_ms_.clear();
  last_ns_ = -1;
  clock_.restart();
}

void StallProbe::onTick() {
  const qint64 now = clock_.nsecsElapsed();
  if (last_ns_ >= 0) {
    const double gap = (now - last_ns_) / 1e6 - interval_ms_;
    stalls_ms_.push_back(static_cast<float>(std::max(0.0, gap)));
  }
  last_ns_ = now;
}

StallReport StallProbe::report() const {
  StallReport r;
  r.ticks = static_cast<qint64>(stalls_ms_.size());
  r.seconds = clock_.isValid() ? clock_.nsecsElapsed() / 1e9 : 0;
  if (stalls_ms_.empty()) return r;
  std::vector<float> v = stalls_ms_;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * (v.size() - 1) + 0.5))]; };
  r.p50_ms = at(0.50);
  r.p99_ms = at(0.99);
  r.max_ms = v.back();
  return r;
}

}  // namespace tier::ui
