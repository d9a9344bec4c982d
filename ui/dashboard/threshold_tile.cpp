#include "dashboard/threshold_tile.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPainterPath>
#include <QVBoxLayout>

namespace tier::ui {

QColor statusColor(metrics::Status s, const QPalette& palette) {
  switch (s) {
    case metrics::Status::Ok: return QColor(0x2e, 0x9d, 0x4f);
    case metrics::Status::Warn: return QColor(0xe0, 0x8e, 0x0b);
    case metrics::Status::Violation: return QColor(0xd3, 0x2f, 0x2f);
    case metrics::Status::NoData: break;
  }
  return palette.color(QPalette::Mid);
}

QString statusText(metrics::Status s) {
  switch (s) {
    case metrics::Status::Ok: return QStringLiteral("OK");
    case metrics::Status::Warn: return QStringLiteral("Warning");
    case metrics::Status::Violation: return QStringLiteral("Violation");
    case metrics::Status::NoData: break;
  }
  return QStringLiteral("No data");
}

ThresholdTile::ThresholdTile(const QString& title, QWidget* parent)
    : QFrame(parent),
      title_(new QLabel(title, this)),
      status_label_(new QLabel(this)),
      value_(new QLabel(QStringLiteral("—"), this)),
      limit_(new QLabel(this)),
      compliance_(new QLabel(this)) {
  setObjectName(QStringLiteral("thresholdTile"));
  title_->setObjectName(QStringLiteral("title"));
  status_label_->setObjectName(QStringLiteral("status"));
  value_->setObjectName(QStringLiteral("value"));
  limit_->setObjectName(QStringLiteral("limit"));
  compliance_->setObjectName(QStringLiteral("compliance"));

  QFont tf = title_->font();
  tf.setBold(true);
  title_->setFont(tf);
  // A narrow tile (the Fleet tab open beside the charts) wraps "Redis p99 (client)"
  // under its status pill rather than cutting it off.
  title_->setWordWrap(true);
  QFont vf = value_->font();
  vf.setPointSizeF(vf.pointSizeF() * 1.75);
  vf.setBold(true);
  value_->setFont(vf);
  QFont sf = status_label_->font();
  sf.setBold(true);
  sf.setPointSizeF(sf.pointSizeF() * 0.9);
  status_label_->setFont(sf);
  status_label_->setAlignment(Qt::AlignCenter);
  QFont small = limit_->font();
  small.setPointSizeF(small.pointSizeF() * 0.92);
  limit_->setFont(small);
  compliance_->setFont(small);
  compliance_->setWordWrap(true);  // an outage's reason may be a sentence
  limit_->setForegroundRole(QPalette::PlaceholderText);
  compliance_->setForegroundRole(QPalette::PlaceholderText);

  auto* top = new QHBoxLayout();
  top->setContentsMargins(0, 0, 0, 0);
  top->addWidget(title_, 1);
  top->addWidget(status_label_);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(14, 6, 8, 6);
  lay->setSpacing(2);
  lay->addLayout(top);
  lay->addWidget(value_);
  lay->addWidget(limit_);
  lay->addWidget(compliance_);
  setMinimumWidth(150);
  // As tall as its wrapped lines need at the width it gets (height-for-width),
  // not the height of a one-line title: a narrow tile grows instead of drawing
  // its title over its value.
  QSizePolicy policy(QSizePolicy::Expanding, QSizePolicy::Minimum);
  policy.setHeightForWidth(true);
  setSizePolicy(policy);
  setState(metrics::Status::NoData, QStringLiteral("—"), QString(), QStringLiteral("waiting for data"));
}

void ThresholdTile::setState(metrics::Status status, const QString& value, const QString& limit,
                             const QString& compliance) {
  const bool changed = status != status_ || outage_;
  status_ = status;
  outage_ = false;
  reason_.clear();
  value_->setText(value);
  limit_->setText(limit);
  compliance_->setText(compliance);
  compliance_->setForegroundRole(QPalette::PlaceholderText);
  compliance_->setStyleSheet(QString());
  status_label_->setText(tier::ui::statusText(status));
  if (changed || status_label_->styleSheet().isEmpty()) applyStatusStyle();
}

void ThresholdTile::setOutage(const QString& pill, const QString& value, const QString& limit, const QString& reason) {
  const bool changed = status_ != metrics::Status::Violation || !outage_;
  status_ = metrics::Status::Violation;
  outage_ = true;
  value_->setText(value);
  limit_->setText(limit);
  reason_ = reason;
  // Three lines at most in the tile (libpq's reasons run long); the tooltip has it all.
  constexpr int kMaxChars = 110;
  QString shown = reason;
  if (shown.size() > kMaxChars) {
    shown.truncate(kMaxChars);
    const int space = int(shown.lastIndexOf(QLatin1Char(' ')));
    if (space > kMaxChars / 2) shown.truncate(space);
    shown += QStringLiteral("…");
  }
  compliance_->setText(shown);
  // The reason is the news: in the status colour, not the placeholder grey.
  compliance_->setForegroundRole(QPalette::WindowText);
  compliance_->setStyleSheet(QStringLiteral("color:%1;font-weight:bold;").arg(statusColor().name()));
  status_label_->setText(pill);
  if (changed || status_label_->styleSheet().isEmpty()) applyStatusStyle();
}

QColor ThresholdTile::statusColor() const {
  return tier::ui::statusColor(status_, palette());
}
QString ThresholdTile::title() const {
  return title_->text();
}
QString ThresholdTile::valueText() const {
  return value_->text();
}
QString ThresholdTile::limitText() const {
  return limit_->text();
}
QString ThresholdTile::complianceText() const {
  return compliance_->text();
}
QString ThresholdTile::statusLabelText() const {
  return status_label_->text();
}

void ThresholdTile::applyStatusStyle() {
  // The pill: status colour with white text reads on light and dark palettes alike.
  const QColor c = statusColor();
  status_label_->setStyleSheet(
      QStringLiteral("background:%1;color:white;border-radius:7px;padding:1px 8px;").arg(c.name()));
  update();
}

void ThresholdTile::changeEvent(QEvent* event) {
  QFrame::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) applyStatusStyle();
}

void ThresholdTile::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QRectF r = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
  p.setPen(QPen(palette().color(QPalette::Mid), 1));
  p.setBrush(palette().color(QPalette::Base));
  p.drawRoundedRect(r, 6, 6);
  // Status strip along the left edge.
  p.setPen(Qt::NoPen);
  p.setBrush(statusColor());
  QPainterPath clip;
  clip.addRoundedRect(r, 6, 6);
  p.setClipPath(clip);
  p.drawRect(QRectF(r.left(), r.top(), 6, r.height()));
}

}  // namespace tier::ui
