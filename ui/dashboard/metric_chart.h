#pragma once
// MetricChart: one dashboard chart (a few series from MetricsHistory over a
// time range, plus the threshold as a dashed line).
//
// A latency chart's linear axis follows the visible points' p99 and the
// threshold (latencyAxisRange), not the highest point: a spike above the axis
// is clipped by the plot area and marked by a triangle under the top edge whose
// hover text and legend entry give its real value. The log axis spans every
// point, so nothing is clipped or marked there.
//
// Each refresh replaces every series wholesale (QXYSeries::replace, one
// repaint), with animations off: the cost is bounded by the points per series,
// not by how long the history is.
//
// Thread-safety: GUI thread only.
#include <QChartView>
#include <QColor>
#include <optional>
#include <vector>

#include "dashboard/metrics_history.h"

class QAbstractAxis;
class QCategoryAxis;
class QLineSeries;
class QLogValueAxis;
class QScatterSeries;
class QXYSeries;
class QValueAxis;

namespace tier::ui {

class MetricChart : public QChartView {
  Q_OBJECT
 public:
  enum class Kind { Percent, Latency, Rate };
  struct Line {
    MetricSeries metric;
    QString name;            // legend text, e.g. "p99"
    QColor light;            // colour on a light palette
    QColor dark;             // colour on a dark palette
    bool secondary = false;  // plotted against the right-hand axis
    qreal width = 2.0;
  };

  MetricChart(const QString& title, Kind kind, std::vector<Line> lines, QWidget* parent = nullptr);
  ~MetricChart() override;

  // Redraws from `history` over (from_ms, to_ms], at most max_points per series.
  // limit: the threshold in the series' unit (nullopt: no threshold line).
  void refresh(const MetricsHistory& history, qint64 from_ms, qint64 to_ms, std::optional<double> limit,
               int max_points);

  Kind kind() const { return kind_; }
  QString title() const { return title_; }
  // Latency charts only: a base-10 logarithmic value axis.
  void setLogScale(bool on);
  bool logScale() const { return log_; }
  // Re-applies the chart theme and series colours for a dark or light palette.
  void setDark(bool dark);
  // Rate charts of something not per second (e.g. "clients", "MB"): the axis
  // title and hover values say this unit instead of "ops/s" / "/s".
  void setUnit(const QString& unit);

  QLineSeries* series(MetricSeries m) const;
  QLineSeries* thresholdSeries() const { return threshold_; }
  // Latency charts: one triangle per clipped spike, at its time on the top edge
  // (empty and hidden when nothing is clipped, and in log scale). Else nullptr.
  QScatterSeries* spikeSeries() const { return spikes_; }
  std::optional<double> thresholdValue() const { return limit_; }
  // The value axis in use (linear or logarithmic).
  QAbstractAxis* valueAxis() const;
  QCategoryAxis* timeAxis() const { return axisX_; }
  QValueAxis* secondaryAxis() const { return axisY2_; }

  // "12:34:56  p99 4.21 ms": what hovering a point of `series` near x shows;
  // for the spike series, the real value of the nearest clipped spike.
  QString hoverText(QXYSeries* series, const QPointF& at) const;

 Q_SIGNALS:
  void exportRequested(tier::ui::MetricChart* chart);

 private:
  QString formatValue(double v) const;
  void updateTimeAxis(qint64 from_ms, qint64 to_ms);
  void updateValueAxes(double maxPrimary, double minPositive, double maxSecondary,
                       const std::vector<double>& primaryValues);
  void updateSpikes();
  void placeSpikeMarks();
  void applyPens();

  QString title_;
  Kind kind_;
  std::vector<Line> lines_;
  std::vector<QLineSeries*> series_;  // parallel to lines_; owned by the chart
  QLineSeries* threshold_ = nullptr;
  QScatterSeries* spikes_ = nullptr;  // latency charts only; owned by the chart
  struct Spike {
    double x;      // Unix ms
    double y;      // the real value, above the axis
    QString line;  // e.g. "p99"
  };
  std::vector<Spike> spike_values_;  // parallel to spikes_' points
  QCategoryAxis* axisX_ = nullptr;
  QValueAxis* axisY_ = nullptr;       // linear; owned by the chart or by this view when detached
  QLogValueAxis* axisLog_ = nullptr;  // latency charts only; same ownership
  QValueAxis* axisY2_ = nullptr;      // right-hand axis, only if a line is secondary
  std::optional<double> limit_;
  bool log_ = false;
  bool dark_ = false;
  QString unit_;  // setUnit(); empty = per second
  std::vector<qint64> ticks_;  // time-axis labels shown, Unix ms
};

// "4.21 ms", "850 µs", "12.3 s".
QString formatMillis(double ms);

}  // namespace tier::ui
