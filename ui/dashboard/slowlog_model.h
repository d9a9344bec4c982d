#pragma once
// Redis SLOWLOG entries from the health report (RedisHealth::slowlog): when,
// how long, the command (already masked and shortened by the core), the
// client and, on a cluster or Sentinel group, the node that logged it.
// Rows keep the report's order (newest first); SortRole gives a numeric key.
//
// Thread-safety: GUI thread only (an item model).
#include <QAbstractTableModel>
#include <vector>

#include "tier/ops/health.h"

namespace tier::ui {

class SlowlogModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Time = 0, Duration, Command, Client, Node, kColumnCount };
  // Time: unix ms; Duration: µs; others: the display text.
  static constexpr int SortRole = Qt::UserRole + 1;

  explicit SlowlogModel(QObject* parent = nullptr);

  // Replaces every row (a model reset).
  void setEntries(std::vector<ops::SlowlogEntry> entries);
  const std::vector<ops::SlowlogEntry>& entries() const { return entries_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<ops::SlowlogEntry> entries_;
};

// "850 µs", "12.3 ms", "2.05 s".
QString formatDurationMicros(long long us);

// The slowlog-log-slower-than line: "10,000 µs (10 ms)", "every command (0)",
// "off (-1)", or "unknown (CONFIG not permitted)".
QString slowlogThresholdText(const ops::RedisHealth& r);

}  // namespace tier::ui
