#pragma once
// FleetPanel ("Fleet" beside the server panel): the instances that publish to
// this Redis — sortable, filterable, gone ones greyed — and a plain sentence
// when nothing but this console publishes. A click on an instance asks the
// Dashboard to chart it alone (instanceActivated).
//
// Thread-safety: GUI thread only; fed CoreService::fleetAvailable snapshots.
#include <QWidget>

#include "common/core_service.h"

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace tier::ui {

class FleetModel;

class FleetPanel : public QWidget {
  Q_OBJECT
 public:
  explicit FleetPanel(QWidget* parent = nullptr);

  void setFleet(const FleetSnapshot& snapshot, const Thresholds& thresholds);
  void clear();

  FleetModel* model() const { return model_; }
  QSortFilterProxyModel* proxy() const { return proxy_; }
  QTableView* view() const { return view_; }
  QLineEdit* filterEdit() const { return filter_; }
  QString summaryText() const;

  static QString onlyThisConsoleText();

 Q_SIGNALS:
  // An instance's row was clicked: chart that instance alone.
  void instanceActivated(const QString& instanceId);

 private:
  FleetModel* model_;
  QSortFilterProxyModel* proxy_;
  QLineEdit* filter_;
  QTableView* view_;
  QLabel* summary_;
  int sized_rows_ = -1;
};

}  // namespace tier::ui
