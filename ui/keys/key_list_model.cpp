#include "keys/key_list_model.h"

#include "tier/ops/keyspace.h"

namespace tier::ui {

KeyListModel::KeyListModel(QObject* parent) : QAbstractTableModel(parent) {}

int KeyListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int KeyListModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant KeyListModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  if (role == GroupIndexRole) return static_cast<int>(r.group);
  if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
    if (index.column() == KeyColumn) return r.key;
    const auto& groups = ops::keyGroups();
    return r.group < groups.size() ? QString::fromStdString(groups[r.group]) : QString();
  }
  return {};
}

QVariant KeyListModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  return section == KeyColumn ? QStringLiteral("Key") : QStringLiteral("Namespace");
}

void KeyListModel::clear() {
  beginResetModel();
  rows_.clear();
  rows_.shrink_to_fit();
  endResetModel();
}

void KeyListModel::append(std::vector<Row> rows) {
  if (rows.empty()) return;
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(rows.size()) - 1);
  rows_.insert(rows_.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  endInsertRows();
}

void KeyListProxy::setGroup(int group) {
  if (group == group_) return;
  group_ = group;
  invalidateFilter();
}

bool KeyListProxy::filterAcceptsRow(int sourceRow, const QModelIndex&) const {
  return group_ < 0 || rows()->row(sourceRow).group == group_;
}

bool KeyListProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const KeyListModel::Row& a = rows()->row(left.row());
  const KeyListModel::Row& b = rows()->row(right.row());
  if (left.column() == KeyListModel::GroupColumn && a.group != b.group) {
    const auto& names = ops::keyGroups();
    const std::string& na = a.group < names.size() ? names[a.group] : names.back();
    const std::string& nb = b.group < names.size() ? names[b.group] : names.back();
    if (na != nb) return na < nb;
  }
  return a.key < b.key;
}

}  // namespace tier::ui
