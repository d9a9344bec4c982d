#include "dashboard/fleet_model.h"

#include <QBrush>
#include <QDateTime>
#include <QFont>
#include <QGuiApplication>
#include <QPalette>
#include <algorithm>

#include "alerts/alerts_models.h"
#include "common/core_service.h"
#include "dashboard/metric_chart.h"
#include "dashboard/threshold_tile.h"

namespace tier::ui {

namespace {
QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

QString hhmmss(qint64 ms) {
  return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss"));
}

const metrics::ThresholdResult* resultFor(const FleetModel::Row& r, const char* name) {
  for (const auto& x : r.results)
    if (x.name == name) return &x;
  return nullptr;
}
}  // namespace

const char* fleetColumnThreshold(int column) {
  switch (column) {
    case FleetModel::HitRate: return "hit_rate";
    case FleetModel::RedisP99: return "redis_p99";
    case FleetModel::SessionP99: return "session_retrieval_p99";
    case FleetModel::DbP99: return "db_query_p99";
    case FleetModel::KnowledgeP99: return "knowledge_p99";
    default: return "";
  }
}

FleetModel::FleetModel(QObject* parent) : QAbstractTableModel(parent) {}

void FleetModel::setFleet(const fleet::FleetView& view, const std::string& selfId, const Thresholds& thresholds,
                          qint64 nowMs) {
  std::vector<Row> next;
  next.reserve(view.instances.size());
  for (const auto& inst : view.instances) {
    Row r;
    r.info = inst.info;
    r.gone = inst.gone;
    r.self = !selfId.empty() && inst.info.id == selfId;
    r.samples = inst.sample_count;
    r.ops_per_s = inst.ops_per_s;
    r.snapshot = inst.snapshot;
    if (!inst.gone) r.results = metrics::evaluate(inst.snapshot, thresholds);
    next.push_back(std::move(r));
  }
  now_ms_ = nowMs;
  const bool sameRows =
      next.size() == rows_.size() && std::equal(next.begin(), next.end(), rows_.begin(),
                                                [](const Row& a, const Row& b) { return a.info.id == b.info.id; });
  if (sameRows) {
    rows_ = std::move(next);
    if (!rows_.empty()) Q_EMIT dataChanged(index(0, 0), index(int(rows_.size()) - 1, ColumnCount - 1));
    return;
  }
  beginResetModel();
  rows_ = std::move(next);
  endResetModel();
}

void FleetModel::clear() {
  beginResetModel();
  rows_.clear();
  endResetModel();
}

int FleetModel::rowOf(const std::string& id) const {
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].info.id == id) return int(i);
  return -1;
}

int FleetModel::liveCount() const {
  return int(std::count_if(rows_.begin(), rows_.end(), [](const Row& r) { return !r.gone; }));
}

int FleetModel::othersCount() const {
  return int(std::count_if(rows_.begin(), rows_.end(), [](const Row& r) { return !r.self; }));
}

bool FleetModel::othersLive() const {
  return std::any_of(rows_.begin(), rows_.end(), [](const Row& r) { return !r.self && !r.gone; });
}

int FleetModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}
int FleetModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant FleetModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case OpsPerSecond: return QStringLiteral("Reads and writes per second over the last 10 s");
      case HitRate: return QStringLiteral("L1 + L2 hits over all reads, last 10 s, against the hit-rate threshold");
      case LastSeen: return QStringLiteral("An instance silent for the gone-after time (default 10 s) shows as gone");
      default:
        if (*fleetColumnThreshold(section)) return QStringLiteral("p99 over the last 10 s against its threshold");
        return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case Application: return QStringLiteral("Application");
    case Host: return QStringLiteral("Host");
    case Version: return QStringLiteral("Version");
    case Uptime: return QStringLiteral("Uptime");
    case LastSeen: return QStringLiteral("Last seen");
    case OpsPerSecond: return QStringLiteral("Ops/s");
    case HitRate: return QStringLiteral("Hit rate");
    case RedisP99: return QStringLiteral("Redis p99");
    case SessionP99: return QStringLiteral("Session p99");
    case DbP99: return QStringLiteral("DB p99");
    case KnowledgeP99: return QStringLiteral("Knowledge p99");
    default: return {};
  }
}

QVariant FleetModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[std::size_t(index.row())];
  const int col = index.column();
  const char* threshold = fleetColumnThreshold(col);
  const metrics::ThresholdResult* result = *threshold ? resultFor(r, threshold) : nullptr;
  const bool hasValue = result && result->status != metrics::Status::NoData;
  const qint64 upMs = (r.gone ? r.info.last_seen_ms : now_ms_) - r.info.started_at_ms;
  switch (role) {
    case Qt::DisplayRole:
      switch (col) {
        case Application: return qs(r.info.app);  // this console's own row is bold (the column stays narrow)
        case Host: return qs(r.info.host);
        case Version: return qs(r.info.core_version);
        case Uptime: return r.info.started_at_ms > 0 ? formatDuration(upMs) : QStringLiteral("—");
        case LastSeen:
          if (r.gone) return QStringLiteral("gone since %1").arg(hhmmss(r.info.last_seen_ms));
          return QStringLiteral("%1 ago").arg(formatDuration(std::max<qint64>(0, now_ms_ - r.info.last_seen_ms)));
        case OpsPerSecond:
          if (r.gone || r.samples == 0) return QStringLiteral("—");
          return QString::number(r.ops_per_s, 'f', r.ops_per_s < 10 ? 1 : 0);
        default:
          if (!hasValue) return QStringLiteral("—");
          return col == HitRate ? QStringLiteral("%1 %").arg(100.0 * result->value, 0, 'f', 1)
                                : formatMillis(result->value);  // as the tiles say it
      }
    case SortRole:
      switch (col) {
        case Application: return qs(r.info.app);
        case Host: return qs(r.info.host);
        case Version: return qs(r.info.core_version);
        case Uptime: return qint64(upMs);
        case LastSeen: return qint64(r.info.last_seen_ms);
        case OpsPerSecond: return r.gone ? -1.0 : r.ops_per_s;
        default: return hasValue ? result->value : -1.0;
      }
    case InstanceIdRole: return qs(r.info.id);
    case GoneRole: return r.gone;
    case StatusRole: return int(result ? result->status : metrics::Status::NoData);
    case Qt::DecorationRole:
      // The tiles' colours: green within, amber near, red beyond the limit.
      if (hasValue && !r.gone) return statusColor(result->status, QGuiApplication::palette());
      break;
    case Qt::ForegroundRole:
      if (r.gone) return QBrush(QGuiApplication::palette().color(QPalette::Disabled, QPalette::Text));
      break;
    case Qt::FontRole:
      if (r.gone || r.self) {
        QFont f;
        f.setItalic(r.gone);
        f.setBold(r.self);
        return f;
      }
      break;
    case Qt::TextAlignmentRole:
      if (col != Application && col != Host && col != Version) return int(Qt::AlignRight | Qt::AlignVCenter);
      break;
    case Qt::ToolTipRole: {
      QString tip =
          QStringLiteral("%1%2\nid %2, pid %3, protocol v%4, publishes every %5 ms\nstarted %6, last seen %7")
              .arg(instanceName(r.info), r.self ? QStringLiteral(" (this console)") : QString(), qs(r.info.id))
              .arg(r.info.pid)
              .arg(r.info.version)
              .arg(r.info.interval_ms)
              .arg(QDateTime::fromMSecsSinceEpoch(r.info.started_at_ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                   hhmmss(r.info.last_seen_ms));
      if (r.gone) tip += QStringLiteral("\nGone: silent since %1.").arg(hhmmss(r.info.last_seen_ms));
      if (result && hasValue)
        tip += QStringLiteral("\n%1: %2 (limit %3)")
                   .arg(statusText(result->status), formatMetricValue(result->value, result->unit),
                        formatMetricValue(result->limit, result->unit));
      tip += QStringLiteral("\nClick to chart this instance alone.");
      return tip;
    }
  }
  return {};
}

}  // namespace tier::ui
