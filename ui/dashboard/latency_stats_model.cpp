#include "dashboard/latency_stats_model.h"

#include <QStringList>

namespace tier::ui {

std::vector<LatencyStatRow> parseLatencyStats(const std::string& info) {
  static const QString kPrefix = QStringLiteral("latency_percentiles_usec_");
  std::vector<LatencyStatRow> rows;
  const QStringList lines = QString::fromStdString(info).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  for (QString line : lines) {
    line = line.trimmed();
    if (!line.startsWith(kPrefix)) continue;
    const qsizetype colon = line.indexOf(QLatin1Char(':'));
    if (colon <= kPrefix.size()) continue;
    LatencyStatRow row;
    row.command = line.mid(kPrefix.size(), colon - kPrefix.size()).replace(QLatin1Char('|'), QLatin1Char(' '));
    const QStringList fields = line.mid(colon + 1).split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (const QString& f : fields) {
      const qsizetype eq = f.indexOf(QLatin1Char('='));
      if (eq <= 0) continue;
      bool ok = false;
      const double v = f.mid(eq + 1).toDouble(&ok);
      if (!ok || v < 0) continue;
      const QString key = f.left(eq);
      if (key == QLatin1String("p50"))
        row.p50_us = v;
      else if (key == QLatin1String("p99"))
        row.p99_us = v;
      else if (key == QLatin1String("p99.9"))
        row.p999_us = v;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

QString formatMicros(double us) {
  if (us < 0) return QStringLiteral("—");
  if (us >= 1000) return QStringLiteral("%1 ms").arg(QString::number(us / 1000.0, 'f', us >= 100'000 ? 0 : 2));
  return QStringLiteral("%1 µs").arg(QString::number(us, 'f', us >= 100 ? 0 : 1));
}

LatencyStatsModel::LatencyStatsModel(QObject* parent) : QAbstractTableModel(parent) {}

void LatencyStatsModel::setRows(std::vector<LatencyStatRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

int LatencyStatsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int LatencyStatsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant LatencyStatsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const auto& r = rows_[static_cast<std::size_t>(index.row())];
  auto value = [&]() -> double {
    switch (index.column()) {
      case P50: return r.p50_us;
      case P99: return r.p99_us;
      case P999: return r.p999_us;
      default: return -1;
    }
  };
  switch (role) {
    case Qt::DisplayRole: return index.column() == Command ? QVariant(r.command) : QVariant(formatMicros(value()));
    case SortRole: return index.column() == Command ? QVariant(r.command) : QVariant(value());
    case Qt::TextAlignmentRole:
      return index.column() == Command ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
                                       : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    case Qt::ToolTipRole:
      if (index.column() == Command)
        return QStringLiteral("%1: p50 %2, p99 %3, p99.9 %4 (server-side, since the last CONFIG RESETSTAT)")
            .arg(r.command, formatMicros(r.p50_us), formatMicros(r.p99_us), formatMicros(r.p999_us));
      return {};
    default: return {};
  }
}

QVariant LatencyStatsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::DisplayRole) {
    switch (section) {
      case Command: return QStringLiteral("Command");
      case P50: return QStringLiteral("p50");
      case P99: return QStringLiteral("p99");
      case P999: return QStringLiteral("p99.9");
      default: return {};
    }
  }
  if (role == Qt::TextAlignmentRole)
    return section == Command ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
                              : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
  return {};
}

}  // namespace tier::ui
