#include "dashboard/fleet_panel.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "dashboard/fleet_model.h"

namespace tier::ui {

QString FleetPanel::onlyThisConsoleText() {
  return QStringLiteral(
      "Only this console publishes to this Redis. Services show up here when they embed the core or follow "
      "docs/fleet-protocol.md.");
}

FleetPanel::FleetPanel(QWidget* parent)
    : QWidget(parent),
      model_(new FleetModel(this)),
      proxy_(new QSortFilterProxyModel(this)),
      filter_(new QLineEdit(this)),
      view_(new QTableView(this)),
      summary_(new QLabel(this)) {
  setObjectName(QStringLiteral("fleetPanel"));
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(FleetModel::SortRole);  // numbers sort as numbers; the filter reads the text
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  proxy_->setDynamicSortFilter(true);

  summary_->setObjectName(QStringLiteral("fleetSummary"));
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  filter_->setObjectName(QStringLiteral("fleetFilter"));
  filter_->setPlaceholderText(QStringLiteral("Filter instances (application, host, version…)"));
  filter_->setClearButtonEnabled(true);
  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);

  view_->setObjectName(QStringLiteral("fleetView"));
  view_->setModel(proxy_);
  view_->setSortingEnabled(true);
  view_->sortByColumn(FleetModel::Application, Qt::AscendingOrder);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setSelectionMode(QAbstractItemView::SingleSelection);
  view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  view_->setAlternatingRowColors(true);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setStretchLastSection(false);
  view_->horizontalHeader()->setHighlightSections(false);
  view_->setWordWrap(false);
  view_->setIconSize(QSize(10, 10));  // the status swatches: colour, not width
  view_->setToolTip(QStringLiteral("Click an instance to chart it alone"));
  auto activate = [this](const QModelIndex& proxyIndex) {
    if (!proxyIndex.isValid()) return;
    Q_EMIT instanceActivated(proxyIndex.data(FleetModel::InstanceIdRole).toString());
  };
  connect(view_, &QTableView::clicked, this, activate);
  connect(view_, &QTableView::activated, this, activate);

  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(6, 6, 6, 6);
  lay->setSpacing(6);
  lay->addWidget(summary_);
  lay->addWidget(filter_);
  lay->addWidget(view_, 1);
  summary_->setText(QStringLiteral("Reading the fleet…"));
}

QString FleetPanel::summaryText() const {
  return summary_->text();
}

void FleetPanel::clear() {
  model_->clear();
  summary_->setText(QStringLiteral("Reading the fleet…"));
}

void FleetPanel::setFleet(const FleetSnapshot& s, const Thresholds& thresholds) {
  if (!s.error.isEmpty()) {
    summary_->setText(QStringLiteral("The fleet cannot be read: %1").arg(s.error));
    return;  // the last rows stay, their "last seen" says how old they are
  }
  model_->setFleet(s.view, s.self_id, thresholds, s.at_ms);
  QString text;
  if (model_->othersCount() == 0) {
    text = onlyThisConsoleText();
  } else {
    const int live = model_->liveCount();
    const int gone = model_->rowCount() - live;
    text = QStringLiteral("%1 instance%2 publish%3")
               .arg(live)
               .arg(live == 1 ? QString() : QStringLiteral("s"))
               .arg(live == 1 ? QStringLiteral("es") : QString());
    if (gone > 0) text += QStringLiteral(", %1 gone").arg(gone);
    text += QStringLiteral(" · figures over the last 10 s · read %1")
                .arg(QDateTime::fromMSecsSinceEpoch(s.at_ms).toString(QStringLiteral("HH:mm:ss")));
  }
  if (s.view.malformed > 0) {
    text += QStringLiteral(" · %1 malformed entr%2 skipped")
                .arg(s.view.malformed)
                .arg(s.view.malformed == 1 ? QStringLiteral("y") : QStringLiteral("ies"));
    QStringList why;
    for (const auto& r : s.view.malformed_reasons) why << QString::fromStdString(r);
    summary_->setToolTip(why.join(QLatin1Char('\n')));
  } else {
    summary_->setToolTip({});
  }
  summary_->setText(text);
  // Fitted to the contents when the instances change (not every second: a person may have resized a column).
  if (model_->rowCount() != sized_rows_) {
    view_->resizeColumnsToContents();
    sized_rows_ = model_->rowCount();
  }
}

}  // namespace tier::ui
