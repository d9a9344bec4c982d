#include "alerts/alert_notify.h"

#include <QApplication>
#include <QSystemTrayIcon>
#include <QWidget>

#include "alerts/alerts_models.h"

namespace tier::ui {

bool shouldNotifyAlert(const metrics::AlertEvent& e, bool enabled, bool windowOutOfSight, bool trayAvailable) {
  return enabled && windowOutOfSight && trayAvailable && e.kind == metrics::AlertEvent::Kind::Raised &&
         e.status == metrics::Status::Violation;
}

AlertNotifier::AlertNotifier(QWidget* page) : QObject(page), page_(page) {}

bool AlertNotifier::onAlert(const metrics::AlertEvent& e, const QString& source) {
  const QWidget* w = page_->window();
  const bool outOfSight = !w->isVisible() || w->isMinimized();
  // Cheap checks first: the settings file and the tray are asked only when a message would be shown.
  if (!shouldNotifyAlert(e, true, outOfSight, true) || !notifyAlertsSetting()) return false;
  if (!QSystemTrayIcon::isSystemTrayAvailable()) return false;  // headless: nothing, no warning
  if (!tray_) {
    tray_ = new QSystemTrayIcon(qApp->windowIcon(), this);
    tray_->setToolTip(QStringLiteral("Tier Console"));
  }
  tray_->show();
  const QString text = QStringLiteral("%1 is %2 (limit %3)")
                           .arg(metricTitle(e.name), formatMetricValue(e.value, e.unit), limitText(e.limit, e.unit)) +
                       (source.isEmpty() ? QString() : QStringLiteral(" · %1").arg(source));
  tray_->showMessage(QStringLiteral("Threshold broken"), text, QSystemTrayIcon::Warning, 10'000);
  return true;
}

}  // namespace tier::ui
