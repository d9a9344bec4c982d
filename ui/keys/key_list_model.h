#pragma once
// The keys a Keys-view scan has loaded: key and namespace group, appended a
// page at a time (one beginInsertRows per page, so a view never re-lays out per
// key). Held as QStrings: about 2 bytes a character plus ~40 bytes a row.
// GUI thread only.
#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <cstdint>
#include <vector>

namespace tier::ui {

class KeyListModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { KeyColumn = 0, GroupColumn, ColumnCount };
  // Qt::UserRole on any column: the group's index in ops::keyGroups().
  static constexpr int GroupIndexRole = Qt::UserRole;

  struct Row {
    QString key;
    std::uint8_t group = 0;  // index into ops::keyGroups()
  };

  explicit KeyListModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  void clear();
  void append(std::vector<Row> rows);  // one insert for the whole page
  const Row& row(int i) const { return rows_[static_cast<std::size_t>(i)]; }

 private:
  std::vector<Row> rows_;
};

// The table's view of a KeyListModel: one namespace group or all, sorted by
// comparing the rows themselves (no QVariant per comparison: sorting 100,000
// loaded keys is one GUI-thread pass of plain string compares).
class KeyListProxy : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  explicit KeyListProxy(QObject* parent = nullptr) : QSortFilterProxyModel(parent) {}
  // -1: every group; else only rows of that ops::keyGroups() index.
  void setGroup(int group);
  int group() const { return group_; }

 protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

 private:
  const KeyListModel* rows() const { return static_cast<const KeyListModel*>(sourceModel()); }
  int group_ = -1;
};

}  // namespace tier::ui
