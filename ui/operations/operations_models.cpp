#include "operations/operations_models.h"

#include <QBrush>
#include <QColor>
#include <QLocale>

#include "tier/codec/keys.h"

namespace tier::ui {

namespace {

QLocale displayLocale() {
  QLocale l;
  return l.language() == QLocale::C ? QLocale(QLocale::English) : l;
}

// Keys are bytes: show control bytes as \xNN so a hostile key cannot reshape the view.
QString printableKey(const std::string& key) {
  QString out;
  const QString text = QString::fromUtf8(key.data(), static_cast<qsizetype>(key.size()));
  out.reserve(text.size());
  for (QChar c : text) {
    if (c.unicode() < 0x20 || c.unicode() == 0x7f)
      out += QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'));
    else
      out += c;
  }
  return out;
}

}  // namespace

QString formatCount(long long n) { return displayLocale().toString(static_cast<qlonglong>(n)); }

QString formatDuration(double ms) {
  if (ms < 1000) return QStringLiteral("%1 ms").arg(ms < 10 ? QString::number(ms, 'f', 1) : QString::number(ms, 'f', 0));
  const double s = ms / 1000.0;
  if (s < 60) return QStringLiteral("%1 s").arg(QString::number(s, 'f', 1));
  const long long whole = static_cast<long long>(s);
  return QStringLiteral("%1 min %2 s").arg(whole / 60).arg(whole % 60, 2, 10, QLatin1Char('0'));
}

// ---- SampleKeysModel ----

SampleKeysModel::SampleKeysModel(QObject* parent) : QAbstractTableModel(parent) {}

void SampleKeysModel::setKeys(const std::vector<std::string>& keys) {
  beginResetModel();
  rows_.clear();
  rows_.reserve(keys.size());
  for (const auto& k : keys) {
    Row r;
    r.key = printableKey(k);
    if (auto parsed = codec::parseKey(k)) {
      r.ns = QLatin1String(codec::toString(parsed->ns));
      r.id = printableKey(parsed->id);
    }
    rows_.push_back(std::move(r));
  }
  endResetModel();
}

void SampleKeysModel::clear() { setKeys({}); }

QString SampleKeysModel::keyAt(int row) const {
  return row >= 0 && row < static_cast<int>(rows_.size()) ? rows_[static_cast<std::size_t>(row)].key : QString();
}

int SampleKeysModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int SampleKeysModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant SampleKeysModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
    switch (index.column()) {
      case KeyColumn: return r.key;
      case NamespaceColumn: return r.ns.isEmpty() && role == Qt::DisplayRole ? QStringLiteral("—") : r.ns;
      case IdColumn: return r.id;
    }
  }
  if (role == Qt::ToolTipRole && index.column() == NamespaceColumn && r.ns.isEmpty())
    return QStringLiteral("Not a Tier Console key (foreign or older schema).");
  return {};
}

QVariant SampleKeysModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case KeyColumn: return QStringLiteral("Key");
    case NamespaceColumn: return QStringLiteral("Namespace");
    case IdColumn: return QStringLiteral("Id");
  }
  return {};
}

// ---- WarmSummaryModel ----

WarmSummaryModel::WarmSummaryModel(QObject* parent) : QAbstractTableModel(parent) {}

QString WarmSummaryModel::setName(ops::WarmSet set) {
  switch (set) {
    case ops::WarmSet::Knowledge: return QStringLiteral("Knowledge articles");
    case ops::WarmSet::Sessions: return QStringLiteral("Active sessions");
    case ops::WarmSet::Entries: return QStringLiteral("Hot entries");
  }
  return {};
}

void WarmSummaryModel::setRows(std::vector<Row> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  previous_ = false;
  endResetModel();
}

void WarmSummaryModel::setFromPreviousConnection(bool previous) {
  if (previous_ == previous) return;
  previous_ = previous;
  if (!rows_.empty()) Q_EMIT dataChanged(index(0, ResultColumn), index(rowCount() - 1, ResultColumn));
}

void WarmSummaryModel::updateRow(int row, const Row& value) {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return;
  rows_[static_cast<std::size_t>(row)] = value;
  Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int WarmSummaryModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int WarmSummaryModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant WarmSummaryModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  const int col = index.column();
  if (role == Qt::TextAlignmentRole && col != SetColumn && col != ResultColumn)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole && col == ResultColumn) {
    if (r.state == State::Failed) return QBrush(QColor(0xd9, 0x53, 0x4f));
    if (r.state == State::Cancelled || (r.result && (r.result->failed > 0 || !r.result->audit_error.empty())))
      return QBrush(QColor(0xe0, 0x9b, 0x2d));
    return {};
  }
  if (role == Qt::ToolTipRole && col == ResultColumn) {
    if (r.state == State::Failed) return r.error;
    if (r.result && !r.result->audit_error.empty())
      return QStringLiteral("The audit row was not written: %1").arg(QString::fromStdString(r.result->audit_error));
    return {};
  }
  if (role != Qt::DisplayRole) return {};
  if (col == SetColumn) return setName(r.set);
  if (col == ResultColumn) {
    switch (r.state) {
      case State::Waiting: return QStringLiteral("waiting");
      case State::Running: return QStringLiteral("running…");
      case State::Skipped: return QStringLiteral("not started (cancelled)");
      case State::Failed: return r.error;
      case State::Cancelled:
      case State::Done: {
        QString text = r.state == State::Cancelled ? QStringLiteral("cancelled") : QStringLiteral("done");
        if (r.result && r.result->audit_id > 0) text += QStringLiteral(" · audit #%1").arg(r.result->audit_id);
        if (r.result && !r.result->audit_error.empty()) text += QStringLiteral(" · not audited");
        if (previous_) text += QStringLiteral(" · previous connection");
        return text;
      }
    }
    return {};
  }
  if (!r.result) return QStringLiteral("—");
  const ops::WarmResult& w = *r.result;
  switch (col) {
    case CandidatesColumn: return formatCount(w.candidates);
    case WarmedColumn: return formatCount(w.warmed);
    case AlreadyColumn: return formatCount(w.already);
    case FailedColumn: return formatCount(w.failed);
    case TimeColumn: return formatDuration(w.duration_ms);
  }
  return {};
}

QVariant WarmSummaryModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  // What ops::warm counts (TieredCache::fillMany): a key is left alone only when Redis holds a
  // strictly newer version; a key present with the same or an older version is rewritten and
  // counted under Warmed. So this column is not "already cached".
  if (role == Qt::ToolTipRole && section == AlreadyColumn)
    return QStringLiteral(
        "Redis held a newer version than the row read from the database (a write landed meanwhile): "
        "kept, not overwritten. Keys already cached with the same or an older version are written "
        "again and counted under Warmed.");
  if (role == Qt::ToolTipRole && section == WarmedColumn)
    return QStringLiteral(
        "Written to Redis and L1 by this run, including keys that were already cached with the same "
        "or an older version.");
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case SetColumn: return QStringLiteral("Set");
    case CandidatesColumn: return QStringLiteral("Candidates");
    case WarmedColumn: return QStringLiteral("Warmed");
    case AlreadyColumn: return QStringLiteral("Newer in cache");
    case FailedColumn: return QStringLiteral("Failed");
    case TimeColumn: return QStringLiteral("Time");
    case ResultColumn: return QStringLiteral("Result");
  }
  return {};
}

}  // namespace tier::ui
