#include "dashboard/slowlog_model.h"

#include <QDateTime>
#include <QLocale>

namespace tier::ui {
namespace {
QString qs(const std::string& s) {
  return QString::fromStdString(s);
}
}  // namespace

QString formatDurationMicros(long long us) {
  if (us < 1000) return QStringLiteral("%1 µs").arg(us);
  if (us < 1'000'000) return QStringLiteral("%1 ms").arg(QString::number(us / 1000.0, 'f', us < 100'000 ? 2 : 1));
  return QStringLiteral("%1 s").arg(QString::number(us / 1e6, 'f', 2));
}

QString slowlogThresholdText(const ops::RedisHealth& r) {
  if (!r.slowlog_threshold_known)
    return QStringLiteral("unknown (%1)").arg(r.slowlog_threshold_error.empty() ? QStringLiteral("not read")
                                                                               : qs(r.slowlog_threshold_error));
  const long long v = r.slowlog_log_slower_than_us;
  QString text;
  if (v < 0)
    text = QStringLiteral("off (%1): nothing is logged").arg(v);
  else if (v == 0)
    text = QStringLiteral("every command (0)");
  else if (v < 1000)
    text = QStringLiteral("%1 µs").arg(v);
  else
    text = QStringLiteral("%1 µs (%2)").arg(QLocale().toString(v), formatDurationMicros(v));
  if (r.slowlog_threshold_varies) text += QStringLiteral(" · differs between nodes");
  return text;
}

SlowlogModel::SlowlogModel(QObject* parent) : QAbstractTableModel(parent) {}

void SlowlogModel::setEntries(std::vector<ops::SlowlogEntry> entries) {
  beginResetModel();
  entries_ = std::move(entries);
  endResetModel();
}

int SlowlogModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}

int SlowlogModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant SlowlogModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= kColumnCount) return {};
  const auto& e = entries_[static_cast<size_t>(index.row())];
  const auto client = [&e] {
    return e.client_name.empty() ? qs(e.client) : QStringLiteral("%1 (%2)").arg(qs(e.client), qs(e.client_name));
  };
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case Time: {
          // Today's entries by time only: the panel is narrow and the command needs the room.
          const QDateTime at = QDateTime::fromMSecsSinceEpoch(e.at_ms);
          return at.date() == QDate::currentDate() ? at.toString(QStringLiteral("HH:mm:ss"))
                                                   : at.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        }
        case Duration: return formatDurationMicros(e.duration_us);
        case Command: return qs(e.command);
        case Client: return client();
        case Node: return qs(e.node);
      }
      break;
    case SortRole:
      switch (index.column()) {
        case Time: return QVariant::fromValue<qlonglong>(e.at_ms);
        case Duration: return QVariant::fromValue<qlonglong>(e.duration_us);
        case Command: return qs(e.command);
        case Client: return client();
        case Node: return qs(e.node);
      }
      break;
    case Qt::ToolTipRole:
      if (index.column() == Command)
        return QStringLiteral("%1\n(secrets masked; each argument cut at %2 bytes, at most %3 shown)")
            .arg(qs(e.command))
            .arg(ops::kSlowlogMaxArgBytes)
            .arg(ops::kSlowlogMaxArgs);
      if (index.column() == Time)
        return QStringLiteral("%1 · SLOWLOG entry #%2 on %3")
            .arg(QDateTime::fromMSecsSinceEpoch(e.at_ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")))
            .arg(e.id)
            .arg(qs(e.node));
      if (index.column() == Duration) return QStringLiteral("%1 µs").arg(QLocale().toString(e.duration_us));
      break;
    case Qt::TextAlignmentRole:
      if (index.column() == Duration) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      break;
    default: break;
  }
  return {};
}

QVariant SlowlogModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= kColumnCount) return {};
  switch (section) {
    case Time: return QStringLiteral("Time");
    case Duration: return QStringLiteral("Duration");
    case Command: return QStringLiteral("Command");
    case Client: return QStringLiteral("Client");
    case Node: return QStringLiteral("Node");
  }
  return {};
}

}  // namespace tier::ui
