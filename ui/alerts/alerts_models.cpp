#include "alerts/alerts_models.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <limits>

namespace tier::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

QString timeText(std::int64_t ms) {
  return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

// Status colours that read on light and dark palettes alike.
QColor statusColor(metrics::Status s) {
  switch (s) {
    case metrics::Status::Violation: return QColor(0xc5, 0x30, 0x30);
    case metrics::Status::Warn: return QColor(0xb7, 0x79, 0x1f);
    case metrics::Status::Ok: return QColor(0x1f, 0x8a, 0x4c);
    case metrics::Status::NoData: break;
  }
  return {};
}

QString statusText(metrics::Status s) {
  switch (s) {
    case metrics::Status::Violation: return QStringLiteral("violation");
    case metrics::Status::Warn: return QStringLiteral("warning");
    case metrics::Status::Ok: return QStringLiteral("ok");
    case metrics::Status::NoData: return QStringLiteral("no data");
  }
  return {};
}

// "k=v, k=v" from the audit's JSON arguments; the raw text if it is not an object.
QString argsText(const std::string& json) {
  const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
  if (!doc.isObject()) return qs(json);
  QStringList parts;
  const QJsonObject o = doc.object();
  for (auto it = o.begin(); it != o.end(); ++it) {
    const QJsonValue v = it.value();
    QString text;
    if (v.isString()) text = v.toString();
    else if (v.isBool()) text = v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    else if (v.isDouble()) text = QString::number(v.toDouble());
    else if (v.isArray()) text = QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    else if (v.isObject()) text = QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    else text = QStringLiteral("null");
    parts << QStringLiteral("%1=%2").arg(it.key(), text);
  }
  return parts.join(QStringLiteral(", "));
}

QColor resultColor(const std::string& result) {
  if (result == "ok") return QColor(0x1f, 0x8a, 0x4c);
  if (result == "partial" || result == "cancelled") return QColor(0xb7, 0x79, 0x1f);
  if (result.rfind("error", 0) == 0) return QColor(0xc5, 0x30, 0x30);
  return {};
}
}  // namespace

QString formatMetricValue(double value, const std::string& unit) {
  if (unit == "ratio") return QStringLiteral("%1 %").arg(value * 100.0, 0, 'f', 1);
  if (unit == "ms") return QStringLiteral("%1 ms").arg(value, 0, 'f', value < 10 ? 2 : 1);
  return QString::number(value) + (unit.empty() ? QString() : QLatin1Char(' ') + qs(unit));
}

QString limitText(double limit, const std::string& unit) {
  // The Phase 0B wording: "> 80.0 %" for the hit rate, "< 5.00 ms" for a p99.
  // Limits are round numbers a person typed: shown as typed, like the tiles' "limit < 5 ms".
  if (unit == "ratio") return QStringLiteral("> %1 %").arg(QString::number(100.0 * limit, 'g', 4));
  if (unit == "ms") return QStringLiteral("< %1 ms").arg(QString::number(limit, 'g', 4));
  return formatMetricValue(limit, unit);
}

QString formatDuration(std::int64_t ms) {
  if (ms < 0) ms = 0;
  const std::int64_t s = ms / 1000;
  if (s < 60) return QStringLiteral("%1 s").arg(s);
  if (s < 3600) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QString metricTitle(const std::string& name) {
  if (name == "hit_rate") return QStringLiteral("Cache hit rate");
  if (name == "redis_p99") return QStringLiteral("Redis command p99");
  if (name == "session_retrieval_p99") return QStringLiteral("Session retrieval p99");
  if (name == "db_query_p99") return QStringLiteral("Database query p99");
  if (name == "knowledge_p99") return QStringLiteral("Knowledge lookup p99");
  return qs(name);
}

// ---- AlertsModel --------------------------------------------------------------

AlertsModel::AlertsModel(QObject* parent) : QAbstractTableModel(parent) {}

void AlertsModel::addEvent(const metrics::AlertEvent& e, const QString& source) {
  if (e.kind == metrics::AlertEvent::Kind::Cleared) {
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      Row& r = rows_[i];
      if (r.name == e.name && r.cleared_ms == 0) {
        r.cleared_ms = e.at_ms;
        r.worst = e.worst;
        if (r.source.isEmpty()) r.source = source;
        Q_EMIT dataChanged(index(int(i), 0), index(int(i), ColumnCount - 1));
        return;
      }
    }
  }
  Row r;
  r.name = e.name;
  r.limit = e.limit;
  r.unit = e.unit;
  r.source = source;
  if (e.kind == metrics::AlertEvent::Kind::Raised) {
    r.status = e.status;
    r.value = e.value;
    r.worst = e.value;
    r.started_ms = e.at_ms;
  } else {
    r.status = e.previous;
    r.value = e.worst;
    r.worst = e.worst;
    r.started_ms = e.started_ms;
    r.cleared_ms = e.at_ms;
  }
  beginInsertRows({}, 0, 0);
  rows_.insert(rows_.begin(), std::move(r));
  endInsertRows();
  if (int(rows_.size()) > max_rows_) {
    beginRemoveRows({}, max_rows_, int(rows_.size()) - 1);
    rows_.resize(max_rows_);
    endRemoveRows();
  }
}

void AlertsModel::setServerState(const QString& server, bool outage, bool down, const QString& words,
                                 const QString& reason, std::int64_t at_ms) {
  const std::string name = server.toStdString();
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    Row& r = rows_[i];
    if (!r.outage || r.name != name || r.cleared_ms != 0) continue;
    if (!outage) {
      r.cleared_ms = at_ms;
    } else {
      if (down || r.status != metrics::Status::Violation) {  // down outranks degraded
        r.status = down ? metrics::Status::Violation : metrics::Status::Warn;
        r.state = words;
      }
      if (!reason.isEmpty()) r.reason = reason;
    }
    Q_EMIT dataChanged(index(int(i), 0), index(int(i), ColumnCount - 1));
    return;
  }
  if (!outage) return;
  Row r;
  r.name = name;
  r.outage = true;
  r.status = down ? metrics::Status::Violation : metrics::Status::Warn;
  r.state = words;
  r.reason = reason;
  r.started_ms = at_ms;
  beginInsertRows({}, 0, 0);
  rows_.insert(rows_.begin(), std::move(r));
  endInsertRows();
  if (int(rows_.size()) > max_rows_) {
    beginRemoveRows({}, max_rows_, int(rows_.size()) - 1);
    rows_.resize(max_rows_);
    endRemoveRows();
  }
}

void AlertsModel::clear() {
  beginResetModel();
  rows_.clear();
  endResetModel();
}

void AlertsModel::setMaxRows(int n) {
  max_rows_ = std::max(1, n);
  if (int(rows_.size()) > max_rows_) {
    beginRemoveRows({}, max_rows_, int(rows_.size()) - 1);
    rows_.resize(max_rows_);
    endRemoveRows();
  }
}

int AlertsModel::activeCount() const {
  int n = 0;
  for (const auto& r : rows_) n += r.cleared_ms == 0 ? 1 : 0;
  return n;
}

int AlertsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int AlertsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant AlertsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case When: return QStringLiteral("When");
    case Metric: return QStringLiteral("Metric");
    case Status: return QStringLiteral("Status");
    case Value: return QStringLiteral("Value");
    case Worst: return QStringLiteral("Worst");
    case Limit: return QStringLiteral("Limit");
    case Duration: return QStringLiteral("Duration");
    case Source: return QStringLiteral("Source");
    default: return {};
  }
}

QVariant AlertsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[std::size_t(index.row())];
  const bool active = r.cleared_ms == 0;
  if (r.outage) return outageData(r, index.column(), role);
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case When: return timeText(r.started_ms);
        case Metric: return metricTitle(r.name);
        case Status: return active ? statusText(r.status) : QStringLiteral("%1, cleared").arg(statusText(r.status));
        case Value: return formatMetricValue(r.value, r.unit);
        case Worst: return formatMetricValue(r.worst, r.unit);
        case Limit: return limitText(r.limit, r.unit);
        case Duration: return active ? QStringLiteral("ongoing") : formatDuration(r.cleared_ms - r.started_ms);
        case Source: return r.source;
      }
      break;
    case kSortRole:
      switch (index.column()) {
        case When: return qint64(r.started_ms);
        case Metric: return metricTitle(r.name);
        case Status: return int(r.status) * 2 + (active ? 1 : 0);
        case Value: return r.value;
        case Worst: return r.worst;
        case Limit: return r.limit;
        case Duration: return active ? std::numeric_limits<qint64>::max() : qint64(r.cleared_ms - r.started_ms);
        case Source: return r.source;
      }
      break;
    case Qt::ForegroundRole:
      if (index.column() == Status && active) return QBrush(statusColor(r.status));
      break;
    case Qt::TextAlignmentRole:
      if (index.column() >= Value && index.column() != Source) return int(Qt::AlignRight | Qt::AlignVCenter);
      break;
    case Qt::ToolTipRole:
      return QStringLiteral("%1 %2 at %3 (limit %4)%5%6")
          .arg(metricTitle(r.name), statusText(r.status), timeText(r.started_ms), limitText(r.limit, r.unit),
               active ? QStringLiteral(", still raised") : QStringLiteral(", cleared at %1").arg(timeText(r.cleared_ms)),
               r.source.isEmpty() ? QString() : QStringLiteral("\nBroken by: %1").arg(r.source));
  }
  return {};
}

QVariant AlertsModel::outageData(const Row& r, int column, int role) const {
  const bool active = r.cleared_ms == 0;
  const QString metric = QStringLiteral("%1 server").arg(QString::fromStdString(r.name));
  switch (role) {
    case Qt::DisplayRole:
      switch (column) {
        case When: return timeText(r.started_ms);
        case Metric: return metric;
        case Status: return active ? r.state : QStringLiteral("%1, cleared").arg(r.state);
        case Value: return r.reason;
        case Worst: return QStringLiteral("—");
        case Limit: return QStringLiteral("reachable");
        case Duration: return active ? QStringLiteral("ongoing") : formatDuration(r.cleared_ms - r.started_ms);
        case Source: return QStringLiteral("This console");  // as the threshold rows name it
      }
      break;
    case kSortRole:
      switch (column) {
        case When: return qint64(r.started_ms);
        case Status: return int(r.status) * 2 + (active ? 1 : 0);
        case Value: return r.reason;
        case Worst:
        case Limit: return 0.0;
        case Duration: return active ? std::numeric_limits<qint64>::max() : qint64(r.cleared_ms - r.started_ms);
        default: return outageData(r, column, Qt::DisplayRole);
      }
    case Qt::ForegroundRole:
      if (column == Status && active) return QBrush(statusColor(r.status));
      break;
    case Qt::ToolTipRole:
      return QStringLiteral("%1 %2 at %3: %4%5")
          .arg(QString::fromStdString(r.name), r.state, timeText(r.started_ms), r.reason,
               active ? QStringLiteral(", still unreachable") : QStringLiteral(", answering again at %1").arg(timeText(r.cleared_ms)));
  }
  return {};
}

// ---- AuditModel ---------------------------------------------------------------

AuditModel::AuditModel(QObject* parent) : QAbstractTableModel(parent) {}

void AuditModel::resetData(std::vector<ops::AuditRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

int AuditModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int AuditModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant AuditModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Time: return QStringLiteral("Time");
    case Who: return QStringLiteral("Who (OS / PostgreSQL / Redis)");
    case Action: return QStringLiteral("Action");
    case Arguments: return QStringLiteral("Arguments");
    case Matched: return QStringLiteral("Matched");
    case Affected: return QStringLiteral("Affected");
    case Result: return QStringLiteral("Result");
    case Duration: return QStringLiteral("Duration");
    case Profile: return QStringLiteral("Profile");
    default: return {};
  }
}

QVariant AuditModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const ops::AuditRow& r = rows_[std::size_t(index.row())];
  auto who = [&] {
    return QStringLiteral("%1 / %2 / %3")
        .arg(qs(r.os_user), qs(r.pg_role), r.redis_user.empty() ? QStringLiteral("–") : qs(r.redis_user));
  };
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case Time: return timeText(r.at_ms);
        case Who: return who();
        case Action: return r.dry_run ? QStringLiteral("%1 (dry run)").arg(qs(r.action)) : qs(r.action);
        case Arguments: return argsText(r.args_json);
        case Matched: return QString::number(r.matched);
        case Affected: return QString::number(r.affected);
        case Result: return qs(r.result);
        case Duration: return QStringLiteral("%1 ms").arg(r.duration_ms, 0, 'f', r.duration_ms < 10 ? 2 : 0);
        case Profile: return qs(r.profile);
      }
      break;
    case kSortRole:
      switch (index.column()) {
        case Time: return qint64(r.at_ms);
        case Matched: return r.matched;
        case Affected: return r.affected;
        case Duration: return r.duration_ms;
        default: return data(index, Qt::DisplayRole);
      }
    case Qt::ForegroundRole:
      if (index.column() == Result) {
        const QColor c = resultColor(r.result);
        if (c.isValid()) return QBrush(c);
      }
      break;
    case Qt::TextAlignmentRole:
      if (index.column() == Matched || index.column() == Affected || index.column() == Duration)
        return int(Qt::AlignRight | Qt::AlignVCenter);
      break;
    case Qt::ToolTipRole:
      switch (index.column()) {
        case Who: return QStringLiteral("OS user %1, PostgreSQL role %2, Redis user %3").arg(qs(r.os_user), qs(r.pg_role), r.redis_user.empty() ? QStringLiteral("(none)") : qs(r.redis_user));
        case Arguments: return qs(r.args_json);
        case Result: return qs(r.result);
        default: return QStringLiteral("Audit row %1").arg(r.id);
      }
  }
  return {};
}

}  // namespace tier::ui
