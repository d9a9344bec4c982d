#pragma once
// FleetModel: the instances that publish to this Redis (issue 14), one row
// each, from the console's periodic fleet read (CoreService::fleetAvailable):
// who (application, host, version), since when, and its own 10 s figures
// against the thresholds. An instance silent for the gone-after time stays
// listed, greyed, as "gone since HH:MM:SS".
//
// Thread-safety: GUI thread only; fed value snapshots.
#include <QAbstractTableModel>
#include <string>
#include <vector>

#include "tier/common/config.h"
#include "tier/fleet/reader.h"
#include "tier/metrics/thresholds.h"

namespace tier::ui {

class FleetModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  // The figures first: the panel sits in a narrow pane, who-and-where after them.
  enum Column {
    Application,
    LastSeen,
    OpsPerSecond,
    HitRate,
    RedisP99,
    SessionP99,
    DbP99,
    KnowledgeP99,
    Uptime,
    Host,
    Version,
    ColumnCount
  };
  enum Role {
    SortRole = Qt::UserRole + 1,  // numbers for numeric columns
    InstanceIdRole,               // QString
    GoneRole,                     // bool
    StatusRole,                   // int(metrics::Status) of a threshold column, else NoData
  };

  struct Row {
    fleet::InstanceInfo info;
    bool gone = false;
    bool self = false;  // this console's own instance
    std::size_t samples = 0;
    double ops_per_s = 0;
    metrics::Snapshot snapshot;                     // its 10 s window
    std::vector<metrics::ThresholdResult> results;  // evaluate(snapshot, thresholds)
  };

  explicit FleetModel(QObject* parent = nullptr);

  // Replaces the rows; rows keep their place (and the view its selection)
  // while the same instances publish.
  void setFleet(const fleet::FleetView& view, const std::string& selfId, const Thresholds& thresholds, qint64 nowMs);
  void clear();
  const std::vector<Row>& rows() const { return rows_; }
  int rowOf(const std::string& id) const;  // -1 if absent
  int liveCount() const;
  // Instances other than this console, live or gone.
  int othersCount() const;
  bool othersLive() const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

 private:
  std::vector<Row> rows_;
  qint64 now_ms_ = 0;
};

// The threshold name a column shows ("hit_rate", "redis_p99", …); empty for other columns.
const char* fleetColumnThreshold(int column);

}  // namespace tier::ui
