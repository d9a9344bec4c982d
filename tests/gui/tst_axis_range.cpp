// latencyAxisRange, the rule behind a latency chart's linear axis: the visible
// points' high percentile and the threshold set the scale, a spike does not;
// degenerate inputs (empty, all equal, NaN/inf, no threshold) give a sane range.
// Pure function; here because only the GUI tests link tier_ui.
#include <QtTest>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "dashboard/axis_range.h"

using tier::ui::AxisRange;
using tier::ui::latencyAxisRange;
using tier::ui::niceCeil;

namespace {

using Values = std::vector<double>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Values steady(int n, double v) {
  return Values(std::size_t(n), v);
}

Values withSpikes(Values v, std::initializer_list<std::pair<std::size_t, double>> spikes) {
  for (auto [at, value] : spikes) v.at(at) = value;
  return v;
}

// 2.0 .. 2.4 ms in a repeating pattern: a realistic steady state.
Values wobbly(int n) {
  Values v;
  for (int i = 0; i < n; ++i) v.push_back(2.0 + 0.1 * (i % 5));
  return v;
}

}  // namespace

Q_DECLARE_METATYPE(Values)
Q_DECLARE_METATYPE(std::optional<double>)

class TestAxisRange : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void range_data() {
    QTest::addColumn<Values>("values");
    QTest::addColumn<std::optional<double>>("threshold");
    QTest::addColumn<double>("max");
    QTest::addColumn<bool>("clips");

    // 2 ms steady, 5 ms limit: 5 × 1.2 = 6, rounded up to a nice 4-step top.
    QTest::newRow("start-up spike 400 among 300 × 2 ms")
        << withSpikes(steady(300, 2.0), {{0, 400.0}}) << std::optional<double>(5.0) << 8.0 << true;
    QTest::newRow("spike among wobbly 2-2.4 ms")
        << withSpikes(wobbly(300), {{3, 400.0}}) << std::optional<double>(5.0) << 8.0 << true;
    // p99 of 20 ms × 1.2 = 24 is below the 50 ms limit × 1.2 = 60 → 80.
    QTest::newRow("db: 900 spike over 20 ms, 50 ms limit")
        << withSpikes(steady(300, 20.0), {{1, 900.0}}) << std::optional<double>(50.0) << 80.0 << true;
    // Without a threshold the steady state alone: 2 × 1.2 = 2.4 → 4 (1 × 4 steps).
    QTest::newRow("spike, no threshold") << withSpikes(steady(300, 2.0), {{0, 400.0}}) << std::optional<double>() << 4.0
                                         << true;
    // Three spikes in 600 points are within the 1 % allowed outside the axis.
    QTest::newRow("three spikes in 600 points") << withSpikes(steady(600, 2.0), {{0, 400.0}, {1, 300.0}, {300, 250.0}})
                                                << std::optional<double>(5.0) << 8.0 << true;
    // 5 % of the points high is a state, not a spike: the axis holds them.
    Values many = steady(100, 2.0);
    for (std::size_t i = 0; i < 5; ++i) many[i * 20] = 40.0;
    QTest::newRow("5 % high points are shown") << many << std::optional<double>(5.0) << 80.0 << false;
    QTest::newRow("all equal below threshold") << steady(50, 2.0) << std::optional<double>(5.0) << 8.0 << false;
    QTest::newRow("all equal, no threshold") << steady(50, 2.0) << std::optional<double>() << 4.0 << false;
    QTest::newRow("all zero, no threshold") << steady(50, 0.0) << std::optional<double>() << 1.0 << false;
    // Everything above the 5 ms limit: the data sets the scale (50 × 1.2 = 60 → 80), the limit is below it.
    QTest::newRow("all above threshold") << withSpikes(steady(300, 50.0), {{10, 4000.0}}) << std::optional<double>(5.0)
                                         << 80.0 << true;
    QTest::newRow("empty with threshold") << Values{} << std::optional<double>(5.0) << 8.0 << false;
    QTest::newRow("empty, no threshold") << Values{} << std::optional<double>() << 1.0 << false;
    // NaN and inf are gaps, not values: the result is the same as without them.
    QTest::newRow("NaN and inf ignored") << withSpikes(steady(300, 2.0), {{0, kNaN}, {1, kInf}, {2, -kInf}, {3, 400.0}})
                                         << std::optional<double>(5.0) << 8.0 << true;
    QTest::newRow("only NaN") << Values{kNaN, kNaN} << std::optional<double>(5.0) << 8.0 << false;
    QTest::newRow("NaN threshold ignored") << steady(50, 2.0) << std::optional<double>(kNaN) << 4.0 << false;
    QTest::newRow("zero threshold ignored") << steady(50, 2.0) << std::optional<double>(0.0) << 4.0 << false;
    // Under 10 points nothing is clipped: a lone high point may be all there is.
    QTest::newRow("few points, no clipping") << Values{2, 2, 2, 400} << std::optional<double>(5.0) << 800.0 << false;
    // A point only a little above p99 × 1.2 widens the axis instead of being clipped.
    QTest::newRow("mild excess widens the axis")
        << withSpikes(steady(300, 10.0), {{0, 15.0}}) << std::optional<double>(5.0) << 20.0 << false;
  }

  void range() {
    QFETCH(Values, values);
    QFETCH(std::optional<double>, threshold);
    QFETCH(double, max);
    QFETCH(bool, clips);
    const AxisRange r = latencyAxisRange(values, threshold);
    QCOMPARE(r.min, 0.0);
    QCOMPARE(r.max, max);
    QCOMPARE(r.clips, clips);
    // The limit line is always on the chart, with room above it.
    if (threshold && std::isfinite(*threshold) && *threshold > 0) QVERIFY(r.max >= *threshold * 1.2);
    // Every point is on the axis unless the range says it clips.
    double high = 0;
    for (double v : values)
      if (std::isfinite(v)) high = std::max(high, v);
    QCOMPARE(high > r.max, clips);
  }

  void inputIsNotReordered() {
    const Values v = withSpikes(wobbly(300), {{3, 400.0}});
    const Values copy = v;
    latencyAxisRange(v, 5.0);
    QCOMPARE(v, copy);
  }

  void niceCeilSteps_data() {
    QTest::addColumn<double>("v");
    QTest::addColumn<double>("expected");
    QTest::newRow("6") << 6.0 << 8.0;
    QTest::newRow("8") << 8.0 << 8.0;
    QTest::newRow("2.4") << 2.4 << 4.0;
    QTest::newRow("60") << 60.0 << 80.0;
    QTest::newRow("9") << 9.0 << 10.0;
    QTest::newRow("0.0024") << 0.0024 << 0.004;
    QTest::newRow("zero") << 0.0 << 1.0;
    QTest::newRow("NaN") << kNaN << 1.0;
    QTest::newRow("inf") << kInf << 1.0;
  }

  void niceCeilSteps() {
    QFETCH(double, v);
    QFETCH(double, expected);
    QCOMPARE(niceCeil(v, 4), expected);
  }
};

QTEST_GUILESS_MAIN(TestAxisRange)
#include "tst_axis_range.moc"
