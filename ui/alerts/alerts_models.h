#pragma once
// Table models of the Alerts & audit page. GUI thread only; fed value snapshots.
#include <QAbstractTableModel>

#include <cstdint>
#include <string>
#include <vector>

#include "tier/metrics/alerts.h"
#include "tier/ops/audit.h"

namespace tier::ui {

// Raw values for sorting (numbers, not their text).
inline constexpr int kSortRole = Qt::UserRole + 1;

// Threshold violations and server outages, newest first: one row per raised
// alert; the row gets its duration when the matching "cleared" event arrives
// (a threshold back within its limit, a server answering again).
class AlertsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  // Source: whose figures broke the limit (this console, an instance, the fleet's instances).
  enum Column { When, Metric, Status, Value, Worst, Limit, Duration, Source, ColumnCount };

  struct Row {
    std::string name;
    metrics::Status status = metrics::Status::Violation;
    double value = 0;  // at the evaluation that raised it
    double worst = 0;  // worst while raised (known when cleared)
    double limit = 0;
    std::string unit;
    std::int64_t started_ms = 0;
    std::int64_t cleared_ms = 0;  // 0 = still raised
    QString source;               // e.g. "Fleet: journal-api · host · 4242"; empty = not said
    // A server outage rather than a threshold: name is the server ("Redis",
    // "PostgreSQL"), state its words ("down", "degraded (circuit open)"), reason why.
    bool outage = false;
    QString state;
    QString reason;
  };

  explicit AlertsModel(QObject* parent = nullptr);

  // Raised: a new row on top. Cleared: completes the open row of that metric
  // (or adds a completed one if the raise came before this model existed).
  // source names who broke the limit (kept from the raise when a clear has none).
  void addEvent(const metrics::AlertEvent& event, const QString& source = QString());
  // A server's reachability from the status chips: an outage raises a row (Down
  // as a violation, degraded as a warning; one row per outage, its reason
  // updated, down outranking degraded); reachable again clears it.
  void setServerState(const QString& server, bool outage, bool down, const QString& words, const QString& reason,
                      std::int64_t at_ms);
  void clear();
  // Keeps at most this many rows (oldest dropped). Default 2000.
  void setMaxRows(int n);
  const std::vector<Row>& rows() const { return rows_; }
  int activeCount() const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

 private:
  QVariant outageData(const Row& r, int column, int role) const;
  std::vector<Row> rows_;  // newest first
  int max_rows_ = 2000;
};

// Audit rows from cache_audit, newest first (as ops::readAudit returns them).
class AuditModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Time, Who, Action, Arguments, Matched, Affected, Result, Duration, Profile, ColumnCount };

  explicit AuditModel(QObject* parent = nullptr);
  void resetData(std::vector<ops::AuditRow> rows);
  const std::vector<ops::AuditRow>& rows() const { return rows_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

 private:
  std::vector<ops::AuditRow> rows_;
};

// "85.2 %" for a ratio, "4.31 ms" for milliseconds.
QString formatMetricValue(double value, const std::string& unit);
// "> 80 %" (ratio), "< 5 ms": the Phase 0B operators, as tiles and tierctl show them.
QString limitText(double limit, const std::string& unit);
// "4 s", "2 min 5 s", "1 h 3 min".
QString formatDuration(std::int64_t ms);
// The threshold's display name: "Cache hit rate", "Redis p99", ...
QString metricTitle(const std::string& name);

}  // namespace tier::ui
