#include "alerts/alert_history_model.h"

#include <QComboBox>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "alerts/alerts_models.h"
#include "common/core_service.h"
#include "tier/metrics/thresholds.h"

namespace tier::ui {

namespace {
QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

QString timeText(std::int64_t ms) {
  return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

std::string sourceKind(const MetricsSource& s) {
  switch (s.kind) {
    case MetricsSource::Kind::Fleet: return "fleet";
    case MetricsSource::Kind::Instance: return "instance";
    case MetricsSource::Kind::Console: break;
  }
  return "console";
}
}  // namespace

// ---- model ----

AlertHistoryModel::AlertHistoryModel(QObject* parent) : QAbstractTableModel(parent) {}

void AlertHistoryModel::resetData(std::vector<ops::AlertHistoryRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

int AlertHistoryModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}
int AlertHistoryModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertHistoryModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Started: return QStringLiteral("Started");
    case Ended: return QStringLiteral("Ended");
    case Duration: return QStringLiteral("Duration");
    case Metric: return QStringLiteral("Metric");
    case Value: return QStringLiteral("Value");
    case Worst: return QStringLiteral("Worst");
    case Limit: return QStringLiteral("Limit");
    case Source: return QStringLiteral("Source");
    case Profile: return QStringLiteral("Profile");
    case User: return QStringLiteral("User");
    default: return {};
  }
}

QVariant AlertHistoryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= int(rows_.size())) return {};
  const auto& r = rows_[std::size_t(index.row())];
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Started: return timeText(r.started_ms);
      case Ended: return r.ended_ms ? timeText(*r.ended_ms) : QStringLiteral("not ended");
      case Duration: return r.duration_ms ? formatDuration(*r.duration_ms) : QString();
      case Metric: return metricTitle(r.metric);
      case Value: return formatMetricValue(r.value, r.unit);
      case Worst: return formatMetricValue(r.worst, r.unit);
      case Limit: return limitText(r.limit, r.unit);
      case Source: return qs(r.source);
      case Profile: return qs(r.profile);
      case User: return qs(r.os_user);
      default: return {};
    }
  }
  if (role == kSortRole) {
    switch (index.column()) {
      case Started: return qint64(r.started_ms);
      case Ended: return qint64(r.ended_ms.value_or(0));
      case Duration: return qint64(r.duration_ms.value_or(-1));
      case Value: return r.value;
      case Worst: return r.worst;
      case Limit: return r.limit;
      default: return data(index, Qt::DisplayRole);
    }
  }
  if (role == Qt::ToolTipRole && index.column() == Metric) return qs(r.metric);
  if (role == Qt::ToolTipRole && index.column() == Ended && !r.ended_ms)
    return QStringLiteral("Still raised, or the console that saw it stopped before it ended.");
  return {};
}

// ---- recorder ----

AlertHistoryRecorder::AlertHistoryRecorder(CoreService* service, QObject* parent)
    : QObject(parent), service_(service) {}

void AlertHistoryRecorder::record(const metrics::AlertEvent& e, const QString& source) {
  if (e.name.empty()) return;
  if (e.kind == metrics::AlertEvent::Kind::Raised) {
    ops::AlertRecord r;
    r.recorder = ops::alertRecorderId();
    r.source_kind = sourceKind(service_->alertSource());
    r.source = (source.isEmpty() ? QStringLiteral("This console") : source).toStdString();
    r.metric = e.name;
    r.status = metrics::toString(e.status);
    r.value = e.value;
    // The raise: its value; an escalation (warn -> violation): the worst so far.
    r.worst = e.worst != 0 ? e.worst : e.value;
    r.limit = e.limit;
    r.unit = e.unit;
    r.started_ms = e.started_ms > 0 ? e.started_ms : e.at_ms;  // an escalation keeps the raise's start: one row
    // An escalation writes the raise's own value: the two writes may land in either order.
    if (auto it = open_.find(e.name); it != open_.end() && it->second.started_ms == r.started_ms)
      r.value = it->second.value;
    open_[e.name] = r;
    submit(std::move(r), false);
    return;
  }
  // Cleared: complete the row of that raise (the same key, so the order of the writes does not matter).
  ops::AlertRecord r;
  if (auto it = open_.find(e.name); it != open_.end() && it->second.started_ms == e.started_ms) {
    r = it->second;
    open_.erase(it);
  } else {
    r.recorder = ops::alertRecorderId();
    r.source_kind = sourceKind(service_->alertSource());
    r.source = source.toStdString();
    r.metric = e.name;
    r.status = metrics::toString(e.previous);
    r.value = e.worst;
    r.limit = e.limit;
    r.unit = e.unit;
    r.started_ms = e.started_ms > 0 ? e.started_ms : e.at_ms;
  }
  r.worst = e.worst;
  r.ended_ms = e.at_ms;
  submit(std::move(r), true);
}

void AlertHistoryRecorder::submit(ops::AlertRecord record, bool ended) {
  service_->run<bool>(
      this, QString(),  // no slot: every write counts, none supersedes another
      [record = std::move(record), ended](TierCore& core, JobContext&) {
        if (ended)
          ops::recordAlertEnded(core, record);
        else
          ops::recordAlertRaised(core, record);
        return true;
      },
      [this](bool) {
        if (failing_) {
          failing_ = false;
          Q_EMIT writeRecovered();
        }
        Q_EMIT written();
      },
      [this](ErrorKind kind, const QString& message) {
        if (failing_) return;  // said once already: no message per alert
        failing_ = true;
        // The server's own words, without the statement name that means nothing to a person.
        const qsizetype at = message.indexOf(QStringLiteral("permission denied"));
        const QString why = kind == ErrorKind::Permission
                                ? QStringLiteral("the PostgreSQL role may not write alert_history (%1)")
                                      .arg(at >= 0 ? message.mid(at) : message)
                                : describe(kind, message);
        Q_EMIT writeFailed(QStringLiteral("Alert history is not being saved: %1 Alerts still show above for as long "
                                          "as the console runs.")
                               .arg(why.endsWith(QLatin1Char('.')) ? why : why + QLatin1Char('.')));
      });
}

// ---- panel ----

AlertHistoryPanel::AlertHistoryPanel(CoreService* service, QWidget* parent)
    : QWidget(parent),
      service_(service),
      model_(new AlertHistoryModel(this)),
      recorder_(new AlertHistoryRecorder(service, this)),
      metric_(new QComboBox(this)),
      source_(new QLineEdit(this)),
      text_(new QLineEdit(this)),
      export_(new QPushButton(QStringLiteral("E&xport CSV…"), this)),
      view_(new QTableView(this)),
      status_(new QLabel(this)),
      writeStatus_(new QLabel(this)),
      debounce_(new QTimer(this)) {
  setObjectName(QStringLiteral("alertHistoryPanel"));
  metric_->setObjectName(QStringLiteral("alertHistoryMetric"));
  metric_->addItem(QStringLiteral("Any metric"), QString());
  for (const auto& name : metrics::thresholdNames()) metric_->addItem(metricTitle(name), qs(name));
  source_->setObjectName(QStringLiteral("alertHistorySource"));
  source_->setPlaceholderText(QStringLiteral("Source: this console, an instance, fleet…"));
  source_->setClearButtonEnabled(true);
  text_->setObjectName(QStringLiteral("alertHistoryText"));
  text_->setPlaceholderText(QStringLiteral("Text: metric, source, profile, user…"));
  text_->setClearButtonEnabled(true);
  text_->setToolTip(QStringLiteral("Matched literally (%, _ and * are plain characters), in PostgreSQL."));
  export_->setObjectName(QStringLiteral("alertHistoryExport"));
  export_->setToolTip(QStringLiteral("Write every row matching the filters to a CSV file (RFC 4180)."));

  view_->setObjectName(QStringLiteral("alertHistoryView"));
  view_->setModel(model_);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setAlternatingRowColors(true);
  view_->setWordWrap(false);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  view_->horizontalHeader()->setStretchLastSection(true);
  status_->setObjectName(QStringLiteral("alertHistoryStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  writeStatus_->setObjectName(QStringLiteral("alertHistoryWriteStatus"));
  writeStatus_->setWordWrap(true);
  writeStatus_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  writeStatus_->setStyleSheet(QStringLiteral("color: #b3261e;"));
  writeStatus_->hide();

  auto* bar = new QHBoxLayout;
  bar->addWidget(metric_);
  bar->addWidget(source_, 1);
  bar->addWidget(text_, 1);
  bar->addWidget(export_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(bar);
  layout->addWidget(writeStatus_);
  layout->addWidget(status_);
  layout->addWidget(view_, 1);

  debounce_->setSingleShot(true);
  debounce_->setInterval(300);
  connect(debounce_, &QTimer::timeout, this, &AlertHistoryPanel::refresh);
  connect(source_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(text_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(metric_, &QComboBox::currentIndexChanged, this, &AlertHistoryPanel::refresh);
  connect(export_, &QPushButton::clicked, this, &AlertHistoryPanel::chooseExportFile);

  connect(recorder_, &AlertHistoryRecorder::writeFailed, this, [this](const QString& m) {
    writeStatus_->setText(m);
    writeStatus_->show();
  });
  connect(recorder_, &AlertHistoryRecorder::writeRecovered, writeStatus_, &QWidget::hide);
  // A new row shows when it is written, if anyone is looking.
  connect(recorder_, &AlertHistoryRecorder::written, this, [this] {
    if (isVisible()) debounce_->start();
  });
  status_->setText(QStringLiteral("Not read yet."));
}

ops::AlertHistoryFilter AlertHistoryPanel::filter(int limit) const {
  ops::AlertHistoryFilter f;
  f.metric = metric_->currentData().toString().toStdString();
  f.source = source_->text().trimmed().toStdString();
  f.text = text_->text().trimmed().toStdString();
  f.limit = limit;
  return f;
}

void AlertHistoryPanel::refresh() {
  debounce_->stop();
  const auto f = filter(limit_);
  service_->run<std::vector<ops::AlertHistoryRow>>(
      this, QStringLiteral("alerthistory.read"),
      [f](TierCore& core, JobContext&) { return ops::listAlertHistory(core, f); },
      [this](std::vector<ops::AlertHistoryRow> rows) {
        const int n = int(rows.size());
        model_->resetData(std::move(rows));
        view_->resizeColumnsToContents();
        const QString count = n == limit_ ? QStringLiteral("The newest %1 alerts").arg(n)
                              : n == 1    ? QStringLiteral("1 alert")
                                          : QStringLiteral("%1 alerts").arg(n);
        readText_ = count + QStringLiteral(" from PostgreSQL, newest first · read at %1.")
                                .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")));
        status_->setText(readText_);
        Q_EMIT refreshed(n);
      },
      [this](ErrorKind kind, const QString& message) {
        const QString sentence = describe(kind, message);
        status_->setText(QStringLiteral("Alert history could not be read: %1").arg(sentence));
        Q_EMIT readFailed(sentence);
      });
}

void AlertHistoryPanel::chooseExportFile() {
  const QString path =
      QFileDialog::getSaveFileName(this, QStringLiteral("Export alert history"), QStringLiteral("alert-history.csv"),
                                   QStringLiteral("CSV files (*.csv);;All files (*)"));
  if (!path.isEmpty()) exportCsv(path);
}

void AlertHistoryPanel::exportCsv(const QString& path) {
  const auto f = filter(100000);
  export_->setEnabled(false);
  status_->setText(QStringLiteral("Exporting to %1…").arg(path));
  service_->run<int>(
      this, QStringLiteral("alerthistory.export"),
      [f, path](TierCore& core, JobContext&) {
        const auto rows = ops::listAlertHistory(core, f);
        const std::string csv = ops::alertHistoryCsv(rows);
        // QSaveFile: a failed write leaves no half file behind.
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(csv.data(), qint64(csv.size())) != qint64(csv.size()) ||
            !file.commit())
          throw Error(ErrorKind::Internal,
                      "cannot write " + path.toStdString() + ": " + file.errorString().toStdString());
        return int(rows.size());
      },
      [this, path](int n) {
        export_->setEnabled(true);
        status_->setText(
            QStringLiteral("Exported %1 alert%2 to %3.").arg(n).arg(n == 1 ? QString() : QStringLiteral("s"), path));
        Q_EMIT exported(path, n);
      },
      [this](ErrorKind kind, const QString& message) {
        export_->setEnabled(true);
        const QString sentence = describe(kind, message);
        status_->setText(QStringLiteral("Export failed: %1").arg(sentence));
        Q_EMIT exportFailed(sentence);
      });
}

}  // namespace tier::ui
