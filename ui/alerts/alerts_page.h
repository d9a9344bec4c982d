#pragma once
// Alerts & audit: the threshold violations the service reports (raised rows get
// a duration when they clear) and the audit trail from PostgreSQL. One filter
// box filters both: the alerts in memory, the audit rows on the server (a
// parameter matched literally, so % and _ are just characters). F5 refreshes;
// while the page is visible the audit refreshes itself every 10 s.
#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace tier::ui {

class AlertsModel;
class AuditModel;
class CoreService;

class AlertsPage : public QWidget {
  Q_OBJECT
 public:
  explicit AlertsPage(CoreService* service, QWidget* parent = nullptr);

  AlertsModel* alertsModel() const { return alerts_; }
  AuditModel* auditModel() const { return audit_; }
  QSortFilterProxyModel* alertsProxy() const { return alertsProxy_; }
  // Reads the audit rows now (on a worker); auditRefreshed() when they arrive.
  void refreshAudit();
  void setAutoRefreshInterval(int ms);

 Q_SIGNALS:
  void auditRefreshed(int rows);
  void auditFailed(const QString& message);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void onFilterEdited(const QString& text);
  void onAutoRefreshTick();
  void updateAlertsSummary();

  CoreService* service_;
  AlertsModel* alerts_;
  AuditModel* audit_;
  QSortFilterProxyModel* alertsProxy_;
  QSortFilterProxyModel* auditProxy_;  // sorting only: the filter runs in PostgreSQL
  QLineEdit* filter_;
  QTableView* alertsView_;
  QTableView* auditView_;
  QLabel* alertsSummary_;
  QLabel* auditStatus_;
  QTimer* autoRefresh_;
  QTimer* filterDebounce_;
  bool auditLoading_ = false;
};

}  // namespace tier::ui
