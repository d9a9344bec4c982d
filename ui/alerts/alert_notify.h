#pragma once
// Desktop notification of a threshold turning red while the console's window
// is hidden or minimized (issue 15). Settings ▸ Display, key notify_alerts
// (default on). Without a system tray (headless, some desktops) nothing is shown.
#include <QObject>

#include "tier/metrics/alerts.h"

class QSystemTrayIcon;
class QWidget;

namespace tier::ui {

// The decision alone, testable without a tray: a raise to Violation (red), with
// the setting on, the window out of sight and a tray to show it in.
bool shouldNotifyAlert(const metrics::AlertEvent& event, bool enabled, bool windowOutOfSight, bool trayAvailable);

// The notify_alerts setting (in the console's settings file; ProfileStore's keys).
bool notifyAlertsSetting();
void setNotifyAlertsSetting(bool on);

// Shows the notifications for the window that holds `page`.
class AlertNotifier : public QObject {
  Q_OBJECT
 public:
  explicit AlertNotifier(QWidget* page);
  // Returns whether a message was shown.
  bool onAlert(const metrics::AlertEvent& event, const QString& source);

 private:
  QWidget* page_;
  QSystemTrayIcon* tray_ = nullptr;  // made on first use
};

}  // namespace tier::ui
