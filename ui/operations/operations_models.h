#pragma once
// Item models of the Operations page, fed whole value snapshots on the GUI thread.
#include <QAbstractTableModel>
#include <QString>
#include <QStringList>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "tier/ops/warming.h"

namespace tier::ui {

// "200,000": digits grouped in the user's locale (English grouping under the C locale).
QString formatCount(long long n);
// "850 ms", "12.4 s", "3 min 05 s".
QString formatDuration(double ms);

// The sample of keys a preview returned: key, namespace and id, one row each.
class SampleKeysModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { KeyColumn, NamespaceColumn, IdColumn, ColumnCount };
  explicit SampleKeysModel(QObject* parent = nullptr);

  void setKeys(const std::vector<std::string>& keys);
  void clear();
  QString keyAt(int row) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  struct Row {
    QString key;  // shown with control bytes escaped
    QString ns;
    QString id;
  };
  std::vector<Row> rows_;
};

// One row per warm set that was part of the last run: its state and result.
class WarmSummaryModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { SetColumn, CandidatesColumn, WarmedColumn, AlreadyColumn, FailedColumn, TimeColumn, ResultColumn,
                ColumnCount };
  enum class State { Waiting, Running, Done, Cancelled, Failed, Skipped };
  struct Row {
    ops::WarmSet set = ops::WarmSet::Knowledge;
    State state = State::Waiting;
    std::optional<ops::WarmResult> result;
    QString error;  // for Failed: a plain sentence
  };

  explicit WarmSummaryModel(QObject* parent = nullptr);

  void setRows(std::vector<Row> rows);  // a new run: resets the model (and the mark below)
  // The rows came from the connection before the current one: the Result column says so.
  void setFromPreviousConnection(bool previous);
  bool fromPreviousConnection() const { return previous_; }
  void updateRow(int row, const Row& value);  // same set, new state: dataChanged
  const std::vector<Row>& rows() const { return rows_; }
  static QString setName(ops::WarmSet set);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<Row> rows_;
  bool previous_ = false;
};

}  // namespace tier::ui
