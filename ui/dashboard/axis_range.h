#pragma once
// The linear value axis of a latency chart, chosen from the visible points and
// the threshold: a start-up spike must not set the scale of a steady state.
// Pure functions, no widgets, so the rule is unit-tested on its own.
//
// Thread-safety: stateless; safe from any thread.
#include <optional>
#include <span>

namespace tier::ui {

struct AxisRule {
  // The axis holds this quantile of the visible points (nearest rank, and at
  // least the single highest point may fall outside once there are min_points).
  double quantile = 0.99;
  double headroom = 1.2;            // the axis top is at least quantile × headroom
  double threshold_headroom = 1.2;  // and threshold × this: the limit line is always on the chart
  // Points above the percentile-based top by less than this factor widen the
  // axis instead: clipping a point only a little higher would hide nothing and mislead.
  double clip_factor = 1.5;
  int min_points = 10;  // with fewer points nothing is clipped
  int ticks = 4;        // intervals of the axis; the top is rounded to a "nice" step × ticks
};

struct AxisRange {
  double min = 0;
  double max = 1;
  bool clips = false;  // some finite point is above max (a spike to mark)
};

// The range [0, max] of a linear latency axis over `values` (every point of
// every primary line in view). NaN and ±inf are ignored; a threshold that is
// not a positive finite number is ignored. Empty input gives the threshold's
// range, or [0, 1] without one.
AxisRange latencyAxisRange(std::span<const double> values, std::optional<double> threshold, const AxisRule& rule = {});

// The smallest "nice" number (1, 2, 2.5, 5 × 10^k) times `ticks` that is ≥ v; 1 for v ≤ 0 or NaN.
double niceCeil(double v, int ticks);

}  // namespace tier::ui
