#pragma once
// SessionSearchModel: the results of a support search, one row per session.
//
// Fed whole snapshots (resetData swaps the vector inside one model reset), so
// 10,000 rows cost one reset and data() formats only what a view asks for.
// GUI thread only.
#include <QAbstractTableModel>

#include <vector>

#include "tier/repo/repositories.h"

namespace tier::ui {

class SessionSearchModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { IdColumn, UserColumn, EmailColumn, TitleColumn, StatusColumn, MessagesColumn, LastActiveColumn, ColumnCount };
  // Raw values for sorting (numbers and timestamps as numbers, text lower-cased).
  static constexpr int SortRole = Qt::UserRole + 1;
  // The session id of a row, as qint64, for any column.
  static constexpr int SessionIdRole = Qt::UserRole + 2;

  explicit SessionSearchModel(QObject* parent = nullptr);

  // Replaces every row; `rows` is left empty-or-old (swapped), never copied.
  void resetData(std::vector<repo::SessionSummary> rows);
  void clear();
  const repo::SessionSummary& summaryAt(int row) const { return rows_.at(static_cast<std::size_t>(row)); }
  // Replaces the listed row of this session (e.g. from a fresh database read); false if not listed.
  bool updateSummary(const repo::SessionSummary& summary);
  // The row holding this session id, or -1.
  int rowOf(std::int64_t sessionId) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<repo::SessionSummary> rows_;
};

// "2024-05-01 14:03" in local time; empty for 0.
QString formatTimestamp(std::int64_t unixMs);

}  // namespace tier::ui
