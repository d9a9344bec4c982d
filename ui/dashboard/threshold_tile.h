#pragma once
// ThresholdTile: one Phase 0B threshold at a glance — current value, limit,
// a green/amber/red/grey status and the share of the visible range in compliance.
//
// Thread-safety: GUI thread only.
#include <QColor>
#include <QFrame>

#include "tier/metrics/thresholds.h"

class QLabel;

namespace tier::ui {

// The status colours used across the dashboard (readable on light and dark palettes).
// NoData has no colour of its own: it is the palette's mid tone.
QColor statusColor(metrics::Status s, const QPalette& palette);
QString statusText(metrics::Status s);  // "OK", "Warning", "Violation", "No data"

class ThresholdTile : public QFrame {
  Q_OBJECT
 public:
  explicit ThresholdTile(const QString& title, QWidget* parent = nullptr);

  void setState(metrics::Status status, const QString& value, const QString& limit, const QString& compliance);
  // A server this threshold depends on is down or degraded: red, the pill says
  // "down" / "degraded" and the last line the reason (common/link_wording.h's
  // sentence, e.g. "Redis down: Connection refused"), whatever the figures say.
  void setOutage(const QString& pill, const QString& value, const QString& limit, const QString& reason);
  bool outage() const { return outage_; }
  QString outageReason() const { return outage_ ? reason_ : QString(); }  // in full (the tile may shorten it)

  metrics::Status status() const { return status_; }
  QColor statusColor() const;
  QString title() const;
  QString valueText() const;
  QString limitText() const;
  QString complianceText() const;
  QString statusLabelText() const;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void applyStatusStyle();

  metrics::Status status_ = metrics::Status::NoData;
  bool outage_ = false;
  QString reason_;
  QLabel* title_;
  QLabel* status_label_;
  QLabel* value_;
  QLabel* limit_;
  QLabel* compliance_;
};

}  // namespace tier::ui
