#include "alerts/alerts_page.h"

#include <QAction>
#include <QDateTime>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "alerts/alert_history_model.h"
#include "alerts/alert_notify.h"
#include "alerts/alerts_models.h"
#include "common/core_service.h"
#include "common/link_wording.h"
#include "pages.h"
#include "tier/ops/audit.h"

namespace tier::ui {

namespace {
constexpr int kAuditRows = 500;

QTableView* makeTable(QAbstractItemModel* model, const QString& name, QWidget* parent) {
  auto* v = new QTableView(parent);
  v->setObjectName(name);
  v->setModel(model);
  v->setSortingEnabled(true);
  v->setSelectionBehavior(QAbstractItemView::SelectRows);
  v->setAlternatingRowColors(true);
  v->setWordWrap(false);
  v->verticalHeader()->hide();
  v->horizontalHeader()->setStretchLastSection(true);
  v->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  return v;
}
}  // namespace

AlertsPage::AlertsPage(CoreService* service, QWidget* parent)
    : QWidget(parent),
      service_(service),
      alerts_(new AlertsModel(this)),
      audit_(new AuditModel(this)),
      alertsProxy_(new QSortFilterProxyModel(this)),
      auditProxy_(new QSortFilterProxyModel(this)),
      filter_(new QLineEdit(this)),
      alertsSummary_(new QLabel(this)),
      auditStatus_(new QLabel(this)),
      autoRefresh_(new QTimer(this)),
      filterDebounce_(new QTimer(this)) {
  setObjectName(QStringLiteral("alertsPage"));

  alertsProxy_->setSourceModel(alerts_);
  alertsProxy_->setSortRole(kSortRole);
  alertsProxy_->setFilterKeyColumn(-1);
  alertsProxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  auditProxy_->setSourceModel(audit_);
  auditProxy_->setSortRole(kSortRole);

  // Toolbar: filter and refresh.
  filter_->setObjectName(QStringLiteral("alertsFilter"));
  filter_->setClearButtonEnabled(true);
  filter_->setPlaceholderText(QStringLiteral("Filter alerts and audit rows (Ctrl+F): action, result, user, metric…"));
  filter_->setToolTip(QStringLiteral("Filters both tables; the text is matched literally (%, _ and * are plain characters). Ctrl+F"));

  auto* refresh = new QAction(QIcon::fromTheme(QStringLiteral("view-refresh")), QStringLiteral("&Refresh"), this);
  refresh->setObjectName(QStringLiteral("refreshAuditAction"));
  refresh->setShortcut(QKeySequence::Refresh);
  refresh->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  refresh->setToolTip(QStringLiteral("Read the audit rows again (%1)").arg(refresh->shortcut().toString(QKeySequence::NativeText)));
  connect(refresh, &QAction::triggered, this, &AlertsPage::refreshAudit);
  addAction(refresh);
  auto* refreshButton = new QToolButton(this);
  refreshButton->setDefaultAction(refresh);
  refreshButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

  auto* focusFilter = new QAction(QStringLiteral("Filter alerts and audit rows"), this);  // as Help ▸ Keyboard shortcuts lists it
  focusFilter->setShortcut(QKeySequence::Find);
  focusFilter->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(focusFilter, &QAction::triggered, this, [this] {
    filter_->setFocus(Qt::ShortcutFocusReason);
    filter_->selectAll();
  });
  addAction(focusFilter);

  auto* autoLabel = new QLabel(QStringLiteral("Audit refreshes every 10 s while this page is shown."), this);
  autoLabel->setForegroundRole(QPalette::PlaceholderText);

  auto* bar = new QHBoxLayout;
  bar->addWidget(filter_, 1);
  bar->addWidget(refreshButton);
  bar->addWidget(autoLabel);

  // Threshold alerts.
  alertsView_ = makeTable(alertsProxy_, QStringLiteral("alertsView"), this);
  alertsView_->sortByColumn(AlertsModel::When, Qt::DescendingOrder);
  alertsView_->horizontalHeader()->setStretchLastSection(false);
  alertsView_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  alertsView_->horizontalHeader()->setSectionResizeMode(AlertsModel::Metric, QHeaderView::Stretch);
  alertsSummary_->setObjectName(QStringLiteral("alertsSummary"));
  auto* alertsBox = new QGroupBox(QStringLiteral("Alerts: thresholds and servers"), this);
  auto* alertsLayout = new QVBoxLayout(alertsBox);
  alertsLayout->addWidget(alertsSummary_);
  alertsLayout->addWidget(alertsView_);

  // Audit trail.
  auditView_ = makeTable(auditProxy_, QStringLiteral("auditView"), this);
  auditView_->sortByColumn(AuditModel::Time, Qt::DescendingOrder);
  auditView_->horizontalHeader()->setStretchLastSection(false);
  auditView_->horizontalHeader()->setSectionResizeMode(AuditModel::Arguments, QHeaderView::Stretch);
  auditStatus_->setObjectName(QStringLiteral("auditStatus"));
  auditStatus_->setWordWrap(true);
  auditStatus_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* auditBox = new QGroupBox(QStringLiteral("Audit log (PostgreSQL cache_audit)"), this);
  auto* auditLayout = new QVBoxLayout(auditBox);
  auditLayout->addWidget(auditStatus_);
  auditLayout->addWidget(auditView_);

  auto* split = new QSplitter(Qt::Vertical, this);
  // Alert history (PostgreSQL alert_history): what earlier runs and other consoles saw.
  auto* history = new AlertHistoryPanel(service_, this);
  auto* historyBox = new QGroupBox(QStringLiteral("Alert history (PostgreSQL alert_history)"), this);
  auto* historyLayout = new QVBoxLayout(historyBox);
  historyLayout->addWidget(history);
  auto* notifier = new AlertNotifier(this);

  split->addWidget(alertsBox);
  split->addWidget(historyBox);
  split->addWidget(auditBox);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 2);
  split->setStretchFactor(2, 3);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(split, 1);

  filterDebounce_->setSingleShot(true);
  filterDebounce_->setInterval(300);
  connect(filterDebounce_, &QTimer::timeout, this, &AlertsPage::refreshAudit);
  connect(filter_, &QLineEdit::textChanged, this, &AlertsPage::onFilterEdited);

  autoRefresh_->setInterval(10'000);
  connect(autoRefresh_, &QTimer::timeout, this, &AlertsPage::onAutoRefreshTick);
  autoRefresh_->start();

  connect(service_, &CoreService::alertEvent, this, [this, history, notifier](const metrics::AlertEvent& e, const QString& source) {
    alerts_->addEvent(e, source);
    history->recorder()->record(e, source);
    notifier->onAlert(e, source);
    updateAlertsSummary();
  });
  // A server that cannot be reached raises a row like a broken threshold does,
  // in the words of the status bar chip; it clears when the server answers again.
  auto follow = [this](const QString& server, const LinkStatus& s) {
    const bool outage = isOutage(s.state);
    if (!outage && s.state != LinkState::Connected && s.state != LinkState::Disconnected) return;  // not known yet
    alerts_->setServerState(server, outage, s.state == LinkState::Down, linkStateWords(s), linkReason(s),
                            QDateTime::currentMSecsSinceEpoch());
    updateAlertsSummary();
  };
  connect(service_, &CoreService::redisLinkChanged, this,
          [follow](const LinkStatus& s) { follow(QStringLiteral("Redis"), s); });
  connect(service_, &CoreService::postgresLinkChanged, this,
          [follow](const LinkStatus& s) { follow(QStringLiteral("PostgreSQL"), s); });
  connect(service_, &CoreService::coreReady, this, [this] {
    if (isVisible()) refreshAudit();
  });
  connect(service_, &CoreService::capabilitiesAvailable, this, [this](const ops::Capabilities& c) {
    if (!c.read_audit.allowed && !audit_->rowCount()) auditStatus_->setText(QString::fromStdString(c.read_audit.reason));
  });
  connect(alerts_, &QAbstractItemModel::dataChanged, this, &AlertsPage::updateAlertsSummary);
  updateAlertsSummary();
  auditStatus_->setText(QStringLiteral("Not read yet."));
}

void AlertsPage::setAutoRefreshInterval(int ms) { autoRefresh_->setInterval(ms); }

void AlertsPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  refreshAudit();
  if (auto* history = findChild<AlertHistoryPanel*>()) history->refresh();
}

void AlertsPage::onAutoRefreshTick() {
  // A hidden tab costs the database nothing.
  if (isVisible() && !auditLoading_) refreshAudit();
}

void AlertsPage::onFilterEdited(const QString& text) {
  alertsProxy_->setFilterFixedString(text);
  updateAlertsSummary();
  filterDebounce_->start();
}

void AlertsPage::updateAlertsSummary() {
  const int total = alerts_->rowCount();
  const int active = alerts_->activeCount();
  if (total == 0) {
    alertsSummary_->setText(QStringLiteral("No threshold violations or server outages since the console connected."));
    return;
  }
  QString text = QStringLiteral("%1 raised now, %2 in total").arg(active).arg(total);
  if (!filter_->text().isEmpty()) text += QStringLiteral(" (%1 shown)").arg(alertsProxy_->rowCount());
  alertsSummary_->setText(text + QLatin1Char('.'));
}

void AlertsPage::refreshAudit() {
  filterDebounce_->stop();
  const std::string filter = filter_->text().trimmed().toStdString();
  auditLoading_ = true;
  service_->run<std::vector<ops::AuditRow>>(
      this, QStringLiteral("audit.read"),
      [filter](TierCore& core, JobContext&) { return ops::readAudit(core, kAuditRows, filter); },
      [this, filter](std::vector<ops::AuditRow> rows) {
        auditLoading_ = false;
        const int n = int(rows.size());
        audit_->resetData(std::move(rows));
        auditView_->resizeColumnsToContents();
        const QString when = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss"));
        QString text = n == kAuditRows ? QStringLiteral("The newest %1 rows").arg(n)
                       : n == 1        ? QStringLiteral("1 row")
                                       : QStringLiteral("%1 rows").arg(n);
        if (!filter.empty()) text += QStringLiteral(" matching “%1”").arg(QString::fromStdString(filter));
        auditStatus_->setText(QStringLiteral("%1 · read at %2.").arg(text, when));
        Q_EMIT auditRefreshed(n);
      },
      [this](ErrorKind kind, const QString& message) {
        auditLoading_ = false;
        const QString sentence = describe(kind, message);
        auditStatus_->setText(sentence);
        Q_EMIT auditFailed(sentence);
      });
}

QWidget* createAlertsPage(CoreService* service, QWidget* parent) { return new AlertsPage(service, parent); }

}  // namespace tier::ui
