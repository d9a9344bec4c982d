#include "dashboard/metric_chart.h"

#include <QAction>
#include <QApplication>
#include <QCategoryAxis>
#include <QCursor>
#include <QDateTime>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "dashboard/axis_range.h"

namespace tier::ui {

namespace {

struct TimeTicks {
  qint64 step_ms;
  const char* format;
};

TimeTicks ticksFor(qint64 span_ms) {
  if (span_ms <= 61'000) return {15'000, "HH:mm:ss"};
  if (span_ms <= 5 * 61'000) return {60'000, "HH:mm"};
  if (span_ms <= 15 * 61'000) return {3 * 60'000, "HH:mm"};
  return {10 * 60'000, "HH:mm"};
}

QFont scaledFont(qreal delta, bool bold = false) {
  QFont f = QApplication::font();
  if (f.pointSizeF() > 0) f.setPointSizeF(std::max<qreal>(7.5, f.pointSizeF() + delta));
  f.setBold(bold);
  return f;
}

}  // namespace

QString formatMillis(double ms) {
  if (std::isnan(ms)) return QStringLiteral("—");
  if (ms < 1.0) return QStringLiteral("%1 µs").arg(QString::number(ms * 1000.0, 'f', ms < 0.01 ? 2 : 0));
  if (ms < 10.0) return QStringLiteral("%1 ms").arg(QString::number(ms, 'f', 2));
  if (ms < 1000.0) return QStringLiteral("%1 ms").arg(QString::number(ms, 'f', ms < 100 ? 1 : 0));
  return QStringLiteral("%1 s").arg(QString::number(ms / 1000.0, 'f', 2));
}

// Our chart from the start: QChartView() makes a default chart that setChart()
// releases without deleting (LeakSanitizer found one leaked per chart).
MetricChart::MetricChart(const QString& title, Kind kind, std::vector<Line> lines, QWidget* parent)
    : QChartView(new QChart(), parent), title_(title), kind_(kind), lines_(std::move(lines)) {
  QChart* c = chart();
  c->setTitle(title_);
  c->setAnimationOptions(QChart::NoAnimation);
  c->setBackgroundRoundness(0);
  c->setMargins(QMargins(2, 2, 2, 2));
  c->legend()->setAlignment(Qt::AlignBottom);
  c->setLocalizeNumbers(false);
  setRenderHint(QPainter::Antialiasing);
  setMinimumSize(300, 190);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);

  axisX_ = new QCategoryAxis();
  axisX_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  c->addAxis(axisX_, Qt::AlignBottom);
  axisY_ = new QValueAxis();
  c->addAxis(axisY_, Qt::AlignLeft);
  if (kind_ == Kind::Latency) {
    axisLog_ = new QLogValueAxis(this);  // attached on demand; owned by this view while detached
    axisLog_->setBase(10);
    axisLog_->setLabelFormat(QStringLiteral("%g"));
    axisLog_->setMinorTickCount(8);
  }
  const bool anySecondary = std::any_of(lines_.begin(), lines_.end(), [](const Line& l) { return l.secondary; });
  if (anySecondary) {
    axisY2_ = new QValueAxis();
    c->addAxis(axisY2_, Qt::AlignRight);
  }

  auto hookHover = [this](QXYSeries* s) {
    connect(s, &QXYSeries::hovered, this, [this, s](const QPointF& p, bool on) {
      if (on)
        QToolTip::showText(QCursor::pos(), hoverText(s, p), this);
      else
        QToolTip::hideText();
    });
  };
  for (const Line& l : lines_) {
    auto* s = new QLineSeries();
    s->setName(l.name);
    s->setObjectName(seriesKey(l.metric));
    c->addSeries(s);
    s->attachAxis(axisX_);
    s->attachAxis(l.secondary ? axisY2_ : axisY_);
    hookHover(s);
    series_.push_back(s);
  }
  if (kind_ != Kind::Rate) {
    threshold_ = new QLineSeries();
    threshold_->setObjectName(QStringLiteral("threshold"));
    c->addSeries(threshold_);
    threshold_->attachAxis(axisX_);
    threshold_->attachAxis(axisY_);
    hookHover(threshold_);
  }
  if (kind_ == Kind::Latency) {
    spikes_ = new QScatterSeries();
    spikes_->setObjectName(QStringLiteral("spikes"));
    spikes_->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
    spikes_->setMarkerSize(12);
    c->addSeries(spikes_);
    spikes_->attachAxis(axisX_);
    spikes_->attachAxis(axisY_);
    hookHover(spikes_);
    spikes_->setVisible(false);  // and its legend entry, until a spike is clipped
    // The marks sit half a marker below the top edge, in pixels: a resize moves them.
    connect(c, &QChart::plotAreaChanged, this, [this] { placeSpikeMarks(); });
  }

  switch (kind_) {
    case Kind::Percent:
      axisY_->setTitleText(QStringLiteral("%"));
      axisY_->setLabelFormat(QStringLiteral("%.0f"));
      axisY_->setRange(0, 100);
      axisY_->setTickCount(6);
      break;
    case Kind::Latency:
      axisY_->setTitleText(QStringLiteral("ms"));
      axisY_->setLabelFormat(QStringLiteral("%g"));
      axisY_->setTickCount(5);
      axisLog_->setTitleText(QStringLiteral("ms (log)"));
      break;
    case Kind::Rate:
      axisY_->setTitleText(QStringLiteral("ops/s"));
      axisY_->setLabelFormat(QStringLiteral("%g"));
      axisY_->setTickCount(5);
      break;
  }
  if (axisY2_) {
    axisY2_->setTitleText(QStringLiteral("errors/s"));
    axisY2_->setLabelFormat(QStringLiteral("%g"));
    axisY2_->setTickCount(5);
  }

  auto* save = new QAction(QStringLiteral("Save this chart as PNG…"), this);
  save->setToolTip(QStringLiteral("Save this chart as a PNG image"));
  connect(save, &QAction::triggered, this, [this] { Q_EMIT exportRequested(this); });
  addAction(save);
  setContextMenuPolicy(Qt::ActionsContextMenu);
  setToolTip(QString());
  setDark(false);
}

MetricChart::~MetricChart() = default;

QString MetricChart::formatValue(double v) const {
  switch (kind_) {
    case Kind::Percent: return QStringLiteral("%1 %").arg(QString::number(v, 'f', 1));
    case Kind::Latency: return formatMillis(v);
    case Kind::Rate:
      if (!unit_.isEmpty()) return QStringLiteral("%1 %2").arg(QString::number(v, 'f', v < 10 ? 2 : 0), unit_);
      return QStringLiteral("%1/s").arg(QString::number(v, 'f', v < 10 ? 2 : 0));
  }
  return {};
}

void MetricChart::setUnit(const QString& unit) {
  unit_ = unit;
  if (kind_ == Kind::Rate) axisY_->setTitleText(unit.isEmpty() ? QStringLiteral("ops/s") : unit);
}

QLineSeries* MetricChart::series(MetricSeries m) const {
  for (std::size_t i = 0; i < lines_.size(); ++i)
    if (lines_[i].metric == m) return series_[i];
  return nullptr;
}

QAbstractAxis* MetricChart::valueAxis() const {
  if (log_) return axisLog_;
  return axisY_;
}

void MetricChart::setDark(bool dark) {
  dark_ = dark;
  chart()->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
  // The theme resets fonts, pens and the background: put ours back.
  chart()->setBackgroundRoundness(0);
  chart()->setTitleFont(scaledFont(1, true));
  chart()->legend()->setFont(scaledFont(-1));
  QList<QAbstractAxis*> axes{axisX_, axisY_};
  if (axisLog_) axes.append(axisLog_);
  if (axisY2_) axes.append(axisY2_);
  for (QAbstractAxis* a : axes) {
    a->setLabelsFont(scaledFont(-1.5));
    a->setTitleFont(scaledFont(-1.5));
    QColor grid = a->gridLinePen().color();
    grid.setAlpha(dark ? 70 : 110);
    a->setGridLineColor(grid);
  }
  if (axisLog_) {
    QColor minor = axisLog_->gridLinePen().color();
    minor.setAlpha(dark ? 22 : 26);
    axisLog_->setMinorGridLineColor(minor);
  }
  applyPens();
}

void MetricChart::applyPens() {
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    QPen pen(dark_ ? lines_[i].dark : lines_[i].light);
    pen.setWidthF(lines_[i].width);
    series_[i]->setPen(pen);
  }
  if (threshold_) {
    QPen pen(dark_ ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc6, 0x28, 0x28));
    pen.setWidthF(1.5);
    pen.setStyle(Qt::DashLine);
    threshold_->setPen(pen);
  }
  if (spikes_) {
    spikes_->setColor(dark_ ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc6, 0x28, 0x28));
    spikes_->setBorderColor(dark_ ? QColor(0x20, 0x20, 0x20) : QColor(0xff, 0xff, 0xff));
    // The legend shows the triangle, so "off scale" reads as the mark on the chart.
    for (QLegendMarker* m : chart()->legend()->markers(spikes_)) m->setShape(QLegend::MarkerShapeFromSeries);
  }
}

void MetricChart::setLogScale(bool on) {
  if (!axisLog_ || on == log_) return;
  QChart* c = chart();
  QAbstractAxis* from = on ? static_cast<QAbstractAxis*>(axisY_) : axisLog_;
  QAbstractAxis* to = on ? static_cast<QAbstractAxis*>(axisLog_) : axisY_;
  c->removeAxis(from);
  from->setParent(this);  // the chart released it; keep it for switching back
  c->addAxis(to, Qt::AlignLeft);
  for (QLineSeries* s : series_) s->attachAxis(to);
  if (threshold_) threshold_->attachAxis(to);
  if (spikes_) spikes_->attachAxis(to);
  log_ = on;
}

void MetricChart::updateTimeAxis(qint64 from_ms, qint64 to_ms) {
  const TimeTicks t = ticksFor(to_ms - from_ms);
  const qint64 offset = qint64(QDateTime::fromMSecsSinceEpoch(to_ms).offsetFromUtc()) * 1000;
  // First tick strictly after from_ms, aligned on local wall-clock time.
  const qint64 first = ((from_ms + offset) / t.step_ms + 1) * t.step_ms - offset;
  std::vector<qint64> ticks;
  for (qint64 tick = first; tick <= to_ms; tick += t.step_ms) ticks.push_back(tick);
  axisX_->setRange(static_cast<double>(from_ms), static_cast<double>(to_ms));
  if (ticks == ticks_) return;  // same ticks as last refresh: labels unchanged
  ticks_ = std::move(ticks);
  const QStringList old = axisX_->categoriesLabels();
  for (const QString& label : old) axisX_->remove(label);
  axisX_->setStartValue(static_cast<double>(from_ms));
  const QString format = QLatin1String(t.format);
  for (qint64 tick : ticks_)
    axisX_->append(QDateTime::fromMSecsSinceEpoch(tick).toString(format), static_cast<double>(tick));
}

void MetricChart::updateValueAxes(double maxPrimary, double minPositive, double maxSecondary,
                                  const std::vector<double>& primaryValues) {
  switch (kind_) {
    case Kind::Percent: break;  // fixed 0..100
    case Kind::Latency: {
      const double top = std::max(maxPrimary, limit_.value_or(0));
      if (log_) {
        const double lo = std::max(1e-4, minPositive > 0 ? std::min(minPositive, top) : top / 100);
        double lower = std::pow(10.0, std::floor(std::log10(lo)));
        double upper = std::pow(10.0, std::ceil(std::log10(std::max(top, lo) * 1.05)));
        if (upper <= lower) upper = lower * 10;
        // A hair wider than the decades, so rounding never drops the end labels.
        axisLog_->setRange(lower * 0.999, upper * 1.001);
      } else {
        const AxisRange r = latencyAxisRange(primaryValues, limit_);
        axisY_->setRange(r.min, r.max);
      }
      break;
    }
    case Kind::Rate: axisY_->setRange(0, niceCeil(maxPrimary * 1.08, 4)); break;
  }
  if (axisY2_) axisY2_->setRange(0, niceCeil(std::max(maxSecondary, 0.8) * 1.08, 4));
}

void MetricChart::refresh(const MetricsHistory& history, qint64 from_ms, qint64 to_ms, std::optional<double> limit,
                          int max_points) {
  limit_ = limit;
  double maxPrimary = 0, maxSecondary = 0, minPositive = 0;
  std::vector<double> primaryValues;  // what the latency axis rule looks at
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    QList<QPointF> pts = history.points(lines_[i].metric, from_ms, to_ms, max_points);
    for (const QPointF& p : pts) {
      if (lines_[i].secondary) {
        maxSecondary = std::max(maxSecondary, p.y());
      } else {
        if (kind_ == Kind::Latency) primaryValues.push_back(p.y());
        maxPrimary = std::max(maxPrimary, p.y());
        if (p.y() > 0 && (minPositive == 0 || p.y() < minPositive)) minPositive = p.y();
      }
    }
    if (log_) {
      // A log axis cannot place 0: lift zeros to the bottom of the axis range instead of dropping them.
      for (QPointF& p : pts)
        if (p.y() <= 0) p.setY(1e-4);
    }
    series_[i]->replace(pts);
  }
  if (threshold_) {
    if (limit) {
      const QString v = QString::number(*limit, 'g', 4);
      // The Phase 0B wording: "hit rate > 80 %", "p99 < 5 ms".
      threshold_->setName(kind_ == Kind::Percent ? QStringLiteral("limit > %1 %").arg(v)
                                                 : QStringLiteral("p99 limit < %1 ms").arg(v));
      threshold_->replace(QList<QPointF>{{static_cast<double>(from_ms), *limit}, {static_cast<double>(to_ms), *limit}});
    } else {
      threshold_->clear();
    }
  }
  updateTimeAxis(from_ms, to_ms);
  updateValueAxes(maxPrimary, minPositive, maxSecondary, primaryValues);
  updateSpikes();
}

void MetricChart::updateSpikes() {
  if (!spikes_) return;
  spike_values_.clear();
  if (!log_) {
    const double top = axisY_->max();
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (lines_[i].secondary) continue;
      for (const QPointF& p : series_[i]->points()) {
        if (!(p.y() > top) || !std::isfinite(p.y())) continue;
        // Lines spiking at the same time share one mark showing the highest value.
        auto same =
            std::find_if(spike_values_.begin(), spike_values_.end(), [&](const Spike& s) { return s.x == p.x(); });
        if (same == spike_values_.end())
          spike_values_.push_back({p.x(), p.y(), lines_[i].name});
        else if (p.y() > same->y)
          *same = {p.x(), p.y(), lines_[i].name};
      }
    }
    std::sort(spike_values_.begin(), spike_values_.end(), [](const Spike& a, const Spike& b) { return a.x < b.x; });
  }
  placeSpikeMarks();
  double highest = 0;
  for (const Spike& s : spike_values_) highest = std::max(highest, s.y);
  if (spike_values_.size() == 1)
    spikes_->setName(QStringLiteral("off scale: %1").arg(formatMillis(highest)));
  else if (!spike_values_.empty())
    spikes_->setName(QStringLiteral("%1 off scale, up to %2").arg(spike_values_.size()).arg(formatMillis(highest)));
  spikes_->setVisible(!spike_values_.empty());
}

void MetricChart::placeSpikeMarks() {
  if (!spikes_) return;
  // Centred on the edge, the plot area would cut the triangle in half.
  const double height = chart()->plotArea().height();
  const double top = axisY_->max();
  const double below = height > 4 * spikes_->markerSize() ? top * (spikes_->markerSize() / 2 + 1) / height : top * 0.04;
  QList<QPointF> marks;
  marks.reserve(static_cast<qsizetype>(spike_values_.size()));
  for (const Spike& s : spike_values_) marks.append(QPointF(s.x, top - below));
  if (marks != spikes_->points()) spikes_->replace(marks);
}

QString MetricChart::hoverText(QXYSeries* s, const QPointF& at) const {
  if (s == threshold_ && limit_) return s->name();
  if (s && s == spikes_) {
    if (spike_values_.empty()) return {};
    auto near = std::min_element(spike_values_.begin(), spike_values_.end(), [&](const Spike& a, const Spike& b) {
      return std::abs(a.x - at.x()) < std::abs(b.x - at.x());
    });
    const QString when =
        QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(near->x)).toString(QStringLiteral("HH:mm:ss"));
    return QStringLiteral("%1  %2 %3 (above the axis)").arg(when, near->line, formatMillis(near->y));
  }
  const QList<QPointF> pts = s->points();
  if (pts.isEmpty()) return {};
  auto it = std::lower_bound(pts.begin(), pts.end(), at.x(), [](const QPointF& p, double x) { return p.x() < x; });
  if (it == pts.end())
    --it;
  else if (it != pts.begin() && std::abs((it - 1)->x() - at.x()) < std::abs(it->x() - at.x()))
    --it;
  double y = it->y();
  if (log_ && y <= 1e-4) y = 0;
  const QString when =
      QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(it->x())).toString(QStringLiteral("HH:mm:ss"));
  QString name = s->name();
  if (axisY2_ && name.isEmpty()) name = s->objectName();
  QString value = formatValue(y);
  for (const Line& l : lines_)
    if (l.secondary && series(l.metric) == s) value = QStringLiteral("%1/s").arg(QString::number(y, 'f', 2));
  return QStringLiteral("%1  %2 %3").arg(when, name, value);
}

}  // namespace tier::ui
