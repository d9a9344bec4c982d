#pragma once
// Alert history (issue 15): the threshold violations kept in PostgreSQL
// (alert_history), written as the service reports them and read back when the
// Alerts page opens. GUI thread only; every read and write runs as a
// CoreService job. A write that fails (a read-only role, PostgreSQL down) is
// said once in the panel and never retried in a loop; alerts still show.
#include <QAbstractTableModel>
#include <QWidget>
#include <map>
#include <string>
#include <vector>

#include "tier/metrics/alerts.h"
#include "tier/ops/alert_history.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTimer;

namespace tier::ui {

class CoreService;

class AlertHistoryModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Started, Ended, Duration, Metric, Value, Worst, Limit, Source, Profile, User, ColumnCount };
  explicit AlertHistoryModel(QObject* parent = nullptr);
  void resetData(std::vector<ops::AlertHistoryRow> rows);
  const std::vector<ops::AlertHistoryRow>& rows() const { return rows_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

 private:
  std::vector<ops::AlertHistoryRow> rows_;  // newest first
};

// Writes the service's alert events to alert_history on workers.
class AlertHistoryRecorder : public QObject {
  Q_OBJECT
 public:
  explicit AlertHistoryRecorder(CoreService* service, QObject* parent = nullptr);
  // Called for each alertEvent (the page forwards them).
  void record(const metrics::AlertEvent& event, const QString& source);
  bool failing() const { return failing_; }

 Q_SIGNALS:
  void written();                            // a row was written
  void writeFailed(const QString& message);  // once, until a write succeeds again
  void writeRecovered();

 private:
  void submit(ops::AlertRecord record, bool ended);
  CoreService* service_;
  std::map<std::string, ops::AlertRecord> open_;  // raised, by metric
  bool failing_ = false;
};

// The history box of the Alerts page: filters, table, Export CSV….
class AlertHistoryPanel : public QWidget {
  Q_OBJECT
 public:
  explicit AlertHistoryPanel(CoreService* service, QWidget* parent = nullptr);
  AlertHistoryModel* model() const { return model_; }
  AlertHistoryRecorder* recorder() const { return recorder_; }
  // The filters as the panel's boxes say them.
  ops::AlertHistoryFilter filter(int limit) const;
  void setRowLimit(int n) { limit_ = n; }
  // Reads the newest rows that match the filters (on a worker): refreshed(rows) or readFailed.
  void refresh();
  // Writes every matching row (not only those shown) as CSV to path, on a worker: exported or exportFailed.
  void exportCsv(const QString& path);

 Q_SIGNALS:
  void refreshed(int rows);
  void readFailed(const QString& message);
  void exported(const QString& path, int rows);
  void exportFailed(const QString& message);

 private:
  void chooseExportFile();
  void updateStatus();

  CoreService* service_;
  AlertHistoryModel* model_;
  AlertHistoryRecorder* recorder_;
  QComboBox* metric_;
  QLineEdit* source_;
  QLineEdit* text_;
  QPushButton* export_;
  QTableView* view_;
  QLabel* status_;
  QLabel* writeStatus_;
  QTimer* debounce_;
  int limit_ = 200;
  QString readText_;
};

}  // namespace tier::ui
