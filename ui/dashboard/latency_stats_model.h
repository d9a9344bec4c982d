#pragma once
// Redis `INFO latencystats`, parsed into rows and shown as a table.
//
// Thread-safety: GUI thread only (an item model).
#include <QAbstractTableModel>
#include <QString>
#include <string>
#include <vector>

namespace tier::ui {

struct LatencyStatRow {
  QString command;     // as Redis names it, subcommands joined by a space: "client setname"
  double p50_us = -1;  // -1 = not reported
  double p99_us = -1;
  double p999_us = -1;
};

// Parses lines like "latency_percentiles_usec_get:p50=2.007,p99=6.015,p99.9=44.031"
// (CRLF or LF, the "# Latencystats" header and unknown lines ignored).
std::vector<LatencyStatRow> parseLatencyStats(const std::string& info);

class LatencyStatsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Command = 0, P50, P99, P999, kColumnCount };
  // Numeric value of a cell (µs, or -1 when not reported), for sorting.
  static constexpr int SortRole = Qt::UserRole + 1;

  explicit LatencyStatsModel(QObject* parent = nullptr);

  // Replaces every row (a model reset).
  void setRows(std::vector<LatencyStatRow> rows);
  const std::vector<LatencyStatRow>& rows() const { return rows_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<LatencyStatRow> rows_;
};

// "2.0 µs", "1.25 ms", or "—" for -1.
QString formatMicros(double us);

}  // namespace tier::ui
