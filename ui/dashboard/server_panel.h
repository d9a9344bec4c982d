#pragma once
// ServerPanel: the servers behind the tiers, from the periodic health report —
// Redis INFO summary, INFO latencystats, SLOWLOG length, LATENCY LATEST;
// every Redis node of a cluster or Sentinel group (role, slots, state);
// PostgreSQL version, connections, cache hit ratio, schema; the client pools.
//
// Thread-safety: GUI thread only; fed whole HealthReport values.
#include <QWidget>
#include <map>

#include "tier/ops/health.h"

class QFormLayout;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace tier::ui {

class LatencyStatsModel;
class RedisNodesModel;

class ServerPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ServerPanel(QWidget* parent = nullptr);

  void setReport(const ops::HealthReport& report, qint64 at_ms);

  LatencyStatsModel* latencyModel() const { return latency_model_; }
  QTableView* latencyView() const { return latency_view_; }
  RedisNodesModel* nodesModel() const { return nodes_model_; }
  QWidget* nodesBox() const { return nodes_box_; }
  // The text of a field, by key (e.g. "redis.version", "pg.connections", "pool.redis"); empty if unknown.
  QString field(const QString& key) const;

 private:
  QLabel* addField(QFormLayout* form, const QString& key, const QString& label, const QString& tip);

  QLabel* checked_;
  QLabel* redis_error_;
  QLabel* pg_error_;
  QLabel* latency_latest_;
  LatencyStatsModel* latency_model_;
  QSortFilterProxyModel* latency_proxy_;
  QTableView* latency_view_;
  RedisNodesModel* nodes_model_;
  QTableView* nodes_view_;
  QWidget* nodes_box_;
  std::map<QString, QLabel*> fields_;
};

// "Redis Cluster: 3 masters, 3 replicas", "Sentinel: master host:port, …",
// "Single node" (plus " · N DOWN" when nodes did not answer).
QString redisModeText(const ops::RedisHealth& r);

// "12.3 GB"-style sizes for byte counts.
QString formatBytes(long long bytes);

}  // namespace tier::ui
