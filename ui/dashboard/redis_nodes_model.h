#pragma once
// Every Redis node behind L2, from the health report (RedisHealth::nodes): a
// cluster's masters and replicas with their hash slots, or a Sentinel group's
// master, replicas and sentinels. One row per node, masters first.
//
// Thread-safety: GUI thread only (an item model).
#include <QAbstractTableModel>
#include <vector>

#include "tier/redis/redis_client.h"

namespace tier::ui {

class RedisNodesModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Node = 0, Role, Slots, State, Ping, Keys, kColumnCount };

  explicit RedisNodesModel(QObject* parent = nullptr);

  // Replaces every row (a model reset): masters, then replicas (by their
  // master, then address), then sentinels.
  void setNodes(std::vector<redis::NodeInfo> nodes);
  const std::vector<redis::NodeInfo>& nodes() const { return nodes_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<redis::NodeInfo> nodes_;
};

// "0-5460, 10923" for inclusive slot ranges; "—" for none.
QString formatSlotRanges(const std::vector<std::pair<int, int>>& ranges);

}  // namespace tier::ui
