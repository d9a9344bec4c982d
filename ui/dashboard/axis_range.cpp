#include "dashboard/axis_range.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tier::ui {

double niceCeil(double v, int ticks) {
  if (!(v > 0) || !std::isfinite(v) || ticks < 1) return 1.0;
  const double raw = v / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  double step = 10;
  for (double s : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (norm <= s + 1e-9) {
      step = s;
      break;
    }
  }
  return step * mag * ticks;
}

AxisRange latencyAxisRange(std::span<const double> values, std::optional<double> threshold, const AxisRule& rule) {
  std::vector<double> v;
  v.reserve(values.size());
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  const bool hasLimit = threshold && std::isfinite(*threshold) && *threshold > 0;
  const double floorTop = hasLimit ? *threshold * rule.threshold_headroom : 0.0;

  AxisRange r;
  if (v.empty()) {
    r.max = niceCeil(floorTop, rule.ticks);
    return r;
  }
  const std::size_t n = v.size();
  std::size_t outliers = 0;  // how many of the highest points may fall outside
  if (static_cast<int>(n) >= rule.min_points)
    outliers = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(double(n) * (1.0 - rule.quantile))));
  const auto body = v.begin() + static_cast<std::ptrdiff_t>(n - 1 - outliers);
  std::nth_element(v.begin(), body, v.end());
  const double high = *std::max_element(body, v.end());
  const double top = std::max(*body * rule.headroom, floorTop);

  if (high > top * rule.clip_factor) {
    r.max = niceCeil(top, rule.ticks);
  } else {
    // A small margin so the highest point does not sit on the frame.
    r.max = niceCeil(std::max(top, high * 1.08), rule.ticks);
  }
  r.clips = high > r.max;
  return r;
}

}  // namespace tier::ui
