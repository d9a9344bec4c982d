#include "sessions/session_search_model.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QLocale>

namespace tier::ui {

namespace {
QString fromStd(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

QString formatTimestamp(std::int64_t unixMs) {
  if (unixMs <= 0) return {};
  return QDateTime::fromMSecsSinceEpoch(unixMs).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

SessionSearchModel::SessionSearchModel(QObject* parent) : QAbstractTableModel(parent) {}

void SessionSearchModel::resetData(std::vector<repo::SessionSummary> rows) {
  beginResetModel();
  rows_.swap(rows);
  endResetModel();
}

void SessionSearchModel::clear() { resetData({}); }

bool SessionSearchModel::updateSummary(const repo::SessionSummary& summary) {
  const int row = rowOf(summary.id);
  if (row < 0) return false;
  rows_[static_cast<std::size_t>(row)] = summary;
  Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
  return true;
}

int SessionSearchModel::rowOf(std::int64_t sessionId) const {
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].id == sessionId) return static_cast<int>(i);
  return -1;
}

int SessionSearchModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int SessionSearchModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant SessionSearchModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.model() != this || index.row() >= rowCount() || index.column() >= ColumnCount) return {};
  const auto& s = rows_[static_cast<std::size_t>(index.row())];
  const int col = index.column();
  switch (role) {
    case Qt::DisplayRole:
      switch (col) {
        case IdColumn: return QString::number(s.id);
        case UserColumn: return QString::number(s.user_id);
        case EmailColumn: return fromStd(s.user_email);
        case TitleColumn: return fromStd(s.title);
        case StatusColumn: return fromStd(s.status);
        case MessagesColumn: return QLocale().toString(s.message_count);
        case LastActiveColumn: return formatTimestamp(s.last_active_at);
        default: return {};
      }
    case SortRole:
      switch (col) {
        case IdColumn: return qint64(s.id);
        case UserColumn: return qint64(s.user_id);
        case EmailColumn: return fromStd(s.user_email).toLower();
        case TitleColumn: return fromStd(s.title).toLower();
        case StatusColumn: return fromStd(s.status);
        case MessagesColumn: return s.message_count;
        case LastActiveColumn: return qint64(s.last_active_at);
        default: return {};
      }
    case SessionIdRole: return qint64(s.id);
    case Qt::TextAlignmentRole:
      if (col == IdColumn || col == UserColumn || col == MessagesColumn)
        return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
      return QVariant::fromValue(Qt::Alignment(Qt::AlignLeft | Qt::AlignVCenter));
    case Qt::ForegroundRole:
      // Status colours only; every other cell keeps the palette's text colour.
      if (col == StatusColumn) {
        if (s.status == "active") return QBrush(QColor(0x2f, 0x9e, 0x5b));
        if (s.status == "expired") return QBrush(QColor(0xc0, 0x7f, 0x1d));
      }
      return {};
    case Qt::ToolTipRole:
      if (col == TitleColumn || col == EmailColumn) return data(index, Qt::DisplayRole);
      if (col == LastActiveColumn && s.last_active_at > 0)
        return QDateTime::fromMSecsSinceEpoch(s.last_active_at).toString(Qt::ISODateWithMs);
      return {};
    default: return {};
  }
}

QVariant SessionSearchModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::DisplayRole) {
    switch (section) {
      case IdColumn: return QStringLiteral("Session");
      case UserColumn: return QStringLiteral("User");
      case EmailColumn: return QStringLiteral("Email");
      case TitleColumn: return QStringLiteral("Title");
      case StatusColumn: return QStringLiteral("Status");
      case MessagesColumn: return QStringLiteral("Messages");
      case LastActiveColumn: return QStringLiteral("Last active");
      default: return {};
    }
  }
  if (role == Qt::TextAlignmentRole && (section == IdColumn || section == UserColumn || section == MessagesColumn))
    return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
  return {};
}

}  // namespace tier::ui
