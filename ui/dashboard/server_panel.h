#pragma once
// ServerPanel: the servers behind the tiers, from the periodic health report —
// Redis INFO summary, INFO latencystats, the SLOWLOG entries (masked) with the
// slowlog-log-slower-than in force and a Refresh, LATENCY LATEST;
// every Redis node of a cluster or Sentinel group (role, slots, state);
// PostgreSQL version, connections, cache hit ratio, schema; the client pools.
//
// Thread-safety: GUI thread only; fed whole HealthReport values.
#include <QWidget>
#include <initializer_list>
#include <map>

#include "tier/ops/health.h"

class QFormLayout;
class QGroupBox;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace tier::ui {

class LatencyStatsModel;
class RedisNodesModel;
class SlowlogModel;

class ServerPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ServerPanel(QWidget* parent = nullptr);

  void setReport(const ops::HealthReport& report, qint64 at_ms);
  // The Refresh's check could not run (not connected, the job failed): says
  // why under the SLOWLOG heading and enables Refresh again.
  void refreshFailed(const QString& why);

  LatencyStatsModel* latencyModel() const { return latency_model_; }
  QTableView* latencyView() const { return latency_view_; }
  RedisNodesModel* nodesModel() const { return nodes_model_; }
  QWidget* nodesBox() const { return nodes_box_; }
  SlowlogModel* slowlogModel() const { return slowlog_model_; }
  QTableView* slowlogView() const { return slowlog_view_; }
  QPushButton* slowlogRefreshButton() const { return slowlog_refresh_; }
  // The text of a field, by key (e.g. "redis.version", "pg.connections", "pool.redis"); empty if unknown.
  QString field(const QString& key) const;

 Q_SIGNALS:
  // Refresh pressed: the owner asks for a health check now; the button is
  // enabled again by the next setReport().
  void refreshRequested();

 private:
  QLabel* addField(QFormLayout* form, const QString& key, const QString& label, const QString& tip);
  // The Redis and PostgreSQL boxes: a title, the server's error line (hidden
  // until it fails) and one row per field, each a QLabel named by its key.
  struct Field {
    QString key, label, tip;
  };
  QGroupBox* serverBox(const QString& title, QLabel* error, std::initializer_list<Field> fields);

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
  SlowlogModel* slowlog_model_;
  QSortFilterProxyModel* slowlog_proxy_;
  QTableView* slowlog_view_;
  QLabel* slowlog_status_;
  QLabel* slowlog_detail_;  // the selected entry in full (the table's command column is narrow)
  QPushButton* slowlog_refresh_;
  std::map<QString, QLabel*> fields_;
};

// "Redis Cluster: 3 masters, 3 replicas", "Sentinel: master host:port, …",
// "Single node" (plus " · N DOWN" when nodes did not answer).
QString redisModeText(const ops::RedisHealth& r);

// "12.3 GB"-style sizes for byte counts.
QString formatBytes(long long bytes);

}  // namespace tier::ui
