#include "dashboard/redis_nodes_model.h"

#include <QBrush>
#include <QColor>
#include <QLocale>
#include <algorithm>

namespace tier::ui {
namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

// CLUSTER NODES flags worth an operator's eye: the role is in its own column and
// "myself" only names the node that answered, so both are dropped.
QString notableFlags(const std::string& flags) {
  QStringList out;
  for (const QString& f : QString::fromStdString(flags).split(QLatin1Char(','), Qt::SkipEmptyParts))
    if (f != QLatin1String("myself") && f != QLatin1String("master") && f != QLatin1String("slave")) out << f;
  return out.join(QLatin1Char(','));
}

int roleRank(const std::string& role) {
  if (role == "master") return 0;
  if (role == "replica") return 1;
  return 2;  // sentinel
}

}  // namespace

QString formatSlotRanges(const std::vector<std::pair<int, int>>& ranges) {
  if (ranges.empty()) return QStringLiteral("—");
  QStringList parts;
  for (const auto& [from, to] : ranges)
    parts << (from == to ? QString::number(from) : QStringLiteral("%1-%2").arg(from).arg(to));
  return parts.join(QStringLiteral(", "));
}

RedisNodesModel::RedisNodesModel(QObject* parent) : QAbstractTableModel(parent) {}

void RedisNodesModel::setNodes(std::vector<redis::NodeInfo> nodes) {
  std::stable_sort(nodes.begin(), nodes.end(), [](const redis::NodeInfo& a, const redis::NodeInfo& b) {
    const int ra = roleRank(a.role), rb = roleRank(b.role);
    if (ra != rb) return ra < rb;
    if (a.master != b.master) return a.master < b.master;
    return a.address < b.address;
  });
  beginResetModel();
  nodes_ = std::move(nodes);
  endResetModel();
}

int RedisNodesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(nodes_.size());
}

int RedisNodesModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant RedisNodesModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= kColumnCount) return {};
  const auto& n = nodes_[static_cast<size_t>(index.row())];
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Node: return qs(n.address);
      case Role:
        return n.role == "replica" && !n.master.empty() ? QStringLiteral("replica of %1").arg(qs(n.master))
                                                        : qs(n.role);
      case Slots:
        if (n.role != "master" || (n.slot_count == 0 && n.slots.empty())) return QStringLiteral("—");
        return QStringLiteral("%1 (%2)").arg(QLocale().toString(n.slot_count), formatSlotRanges(n.slots));
      case State:
        if (n.up) {
          const QString flags = notableFlags(n.flags);
          return flags.isEmpty() ? QStringLiteral("up") : QStringLiteral("up · %1").arg(flags);
        }
        return n.error.empty() ? QStringLiteral("DOWN") : QStringLiteral("DOWN: %1").arg(qs(n.error));
      case Ping: return n.ping_ms < 0 ? QStringLiteral("—") : QStringLiteral("%1 ms").arg(n.ping_ms, 0, 'f', 2);
      case Keys: return n.keys < 0 ? QStringLiteral("—") : QLocale().toString(n.keys);
    }
  }
  if (role == Qt::ForegroundRole && index.column() == State && !n.up) return QBrush(QColor(0xd3, 0x2f, 0x2f));
  if (role == Qt::TextAlignmentRole && (index.column() == Ping || index.column() == Keys))
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole) {
    if (index.column() == State && !n.error.empty()) return qs(n.error);
    if (index.column() == Node && !n.id.empty()) return QStringLiteral("Cluster node id %1").arg(qs(n.id));
    if (index.column() == Slots && !n.slots.empty()) return formatSlotRanges(n.slots);
  }
  return {};
}

QVariant RedisNodesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Node: return QStringLiteral("Node");
    case Role: return QStringLiteral("Role");
    case Slots: return QStringLiteral("Hash slots");
    case State: return QStringLiteral("State");
    case Ping: return QStringLiteral("PING");
    case Keys: return QStringLiteral("Keys");
  }
  return {};
}

}  // namespace tier::ui
