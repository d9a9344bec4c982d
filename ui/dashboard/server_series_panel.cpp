#include "dashboard/server_series_panel.h"

#include <QComboBox>
#include <QDateTime>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScrollArea>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "dashboard/metric_chart.h"

namespace tier::ui {

namespace {

// This panel's own MetricsHistory holds server figures in MetricSeries slots
// (the MetricChart reads series by slot); each slot is renamed below so no
// test or export mistakes it for the client-side series of the same slot.
struct Slot {
  MetricSeries slot;
  const char* name;  // the series' objectName
};
constexpr Slot kKeyspaceHit{MetricSeries::HitRate, "server_keyspace_hit_rate"};       // %
constexpr Slot kCommands{MetricSeries::OpsPerSecond, "server_commands_per_s"};        // /s
constexpr Slot kGetP99{MetricSeries::RedisP99, "server_get_p99_ms"};                  // ms
constexpr Slot kSetP99{MetricSeries::SessionP99, "server_set_p99_ms"};                // ms
constexpr Slot kEvalP99{MetricSeries::DbP99, "server_eval_p99_ms"};                   // ms
constexpr Slot kUnlinkP99{MetricSeries::KnowledgeP99, "server_unlink_p99_ms"};        // ms
constexpr Slot kClients{MetricSeries::RedisP50, "server_connected_clients"};          // count
constexpr Slot kMemory{MetricSeries::SessionP50, "server_used_memory_mb"};            // MB
constexpr Slot kEvicted{MetricSeries::ErrorsPerSecond, "server_evicted_per_s"};       // /s
constexpr Slot kPgTransactions{MetricSeries::DbP50, "server_pg_transactions_per_s"};  // /s
constexpr Slot kPgBlockHit{MetricSeries::L1HitRate, "server_pg_block_hit_ratio"};     // %

constexpr int kRanges[] = {1, 5, 15, 60};

MetricChart::Line line(const Slot& s, const QString& name, QColor light, QColor dark) {
  return MetricChart::Line{s.slot, name, light, dark};
}

// The worst of a command's percentiles over several names (EVAL and EVALSHA are one figure to a person).
double p99Ms(const ops::ServerSeriesPoint& p, std::initializer_list<const char*> commands) {
  double worst = std::nan("");
  for (const char* c : commands) {
    const auto it = p.command_latency.find(c);
    if (it == p.command_latency.end() || std::isnan(it->second.p99_us)) continue;
    worst = std::isnan(worst) ? it->second.p99_us : std::max(worst, it->second.p99_us);
  }
  return worst / 1000.0;
}

QString percent(double ratio) {
  return std::isnan(ratio) ? QStringLiteral("—") : QString::number(ratio * 100, 'f', 1) + QStringLiteral(" %");
}

}  // namespace

ServerSeriesPanel::ServerSeriesPanel(CoreService* service, QWidget* parent)
    : QWidget(parent),
      service_(service),
      poller_(std::make_shared<ops::ServerSeriesPoller>()),
      history_(3'600'000 / kDefaultPollMs + 2) {
  setObjectName(QStringLiteral("serverSeriesPanel"));
  qRegisterMetaType<tier::ops::ServerSeriesPoint>();

  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  outer->addWidget(scroll);
  auto* box = new QWidget(scroll);
  scroll->setWidget(box);
  auto* lay = new QVBoxLayout(box);
  lay->setContentsMargins(8, 8, 8, 8);
  lay->setSpacing(8);

  auto* head = new QHBoxLayout();
  status_ = new QLabel(box);
  status_->setObjectName(QStringLiteral("serverSeriesStatus"));
  status_->setWordWrap(true);
  status_->setText(QStringLiteral("Measured at the server: waiting for the first two polls."));
  head->addWidget(status_, 1);
  range_ = new QComboBox(box);
  range_->setObjectName(QStringLiteral("serverSeriesRange"));
  for (int m : kRanges) range_->addItem(QStringLiteral("%1 min").arg(m), m);
  range_->setCurrentIndex(1);
  range_->setToolTip(QStringLiteral("Visible range of the server charts"));
  connect(range_, &QComboBox::currentIndexChanged, this,
          [this](int i) { setRangeMinutes(range_->itemData(i).toInt()); });
  head->addWidget(range_, 0, Qt::AlignTop);
  lay->addLayout(head);
  notes_ = new QLabel(box);
  notes_->setObjectName(QStringLiteral("serverSeriesNotes"));
  notes_->setWordWrap(true);
  notes_->setVisible(false);
  lay->addWidget(notes_);

  const QColor blue(0x1e, 0x88, 0xe5), blueD(0x64, 0xb5, 0xf6);
  const QColor green(0x2e, 0x7d, 0x32), greenD(0x81, 0xc7, 0x84);
  const QColor orange(0xef, 0x6c, 0x00), orangeD(0xff, 0xb7, 0x4d);
  const QColor purple(0x6a, 0x1b, 0x9a), purpleD(0xce, 0x93, 0xd8);
  auto make = [&](ChartId id, const QString& title, MetricChart::Kind kind, std::vector<MetricChart::Line> lines,
                  std::vector<const Slot*> slots, const QString& unit = {}) {
    auto* c = new MetricChart(title + QStringLiteral(" (server)"), kind, std::move(lines), box);
    for (const Slot* s : slots)
      if (QLineSeries* ls = c->series(s->slot)) ls->setObjectName(QLatin1String(s->name));
    if (!unit.isEmpty()) c->setUnit(unit);
    c->setMinimumHeight(200);
    charts_[static_cast<std::size_t>(id)] = c;
    lay->addWidget(c);
  };
  make(HitRateChart, QStringLiteral("Redis keyspace hit rate"), MetricChart::Kind::Percent,
       {line(kKeyspaceHit, QStringLiteral("keyspace hits"), blue, blueD)}, {&kKeyspaceHit});
  make(CommandsChart, QStringLiteral("Redis commands/s"), MetricChart::Kind::Rate,
       {line(kCommands, QStringLiteral("commands/s"), blue, blueD)}, {&kCommands}, QStringLiteral("commands/s"));
  make(LatencyChart, QStringLiteral("Redis p99 per command"), MetricChart::Kind::Latency,
       {line(kGetP99, QStringLiteral("GET"), blue, blueD), line(kSetP99, QStringLiteral("SET"), green, greenD),
        line(kEvalP99, QStringLiteral("EVAL"), orange, orangeD),
        line(kUnlinkP99, QStringLiteral("UNLINK"), purple, purpleD)},
       {&kGetP99, &kSetP99, &kEvalP99, &kUnlinkP99});
  make(ClientsChart, QStringLiteral("Redis connected clients"), MetricChart::Kind::Rate,
       {line(kClients, QStringLiteral("clients"), blue, blueD)}, {&kClients}, QStringLiteral("clients"));
  make(MemoryChart, QStringLiteral("Redis used memory"), MetricChart::Kind::Rate,
       {line(kMemory, QStringLiteral("used_memory"), blue, blueD)}, {&kMemory}, QStringLiteral("MB"));
  make(EvictedChart, QStringLiteral("Redis evicted keys/s"), MetricChart::Kind::Rate,
       {line(kEvicted, QStringLiteral("evictions/s"), orange, orangeD)}, {&kEvicted}, QStringLiteral("keys/s"));
  make(PgTransactionsChart, QStringLiteral("PostgreSQL transactions/s"), MetricChart::Kind::Rate,
       {line(kPgTransactions, QStringLiteral("commits + rollbacks"), green, greenD)}, {&kPgTransactions},
       QStringLiteral("transactions/s"));
  make(PgBlockHitChart, QStringLiteral("PostgreSQL block hit ratio"), MetricChart::Kind::Percent,
       {line(kPgBlockHit, QStringLiteral("shared buffers hits"), green, greenD)}, {&kPgBlockHit});
  charts_[LatencyChart]->setToolTip(
      QStringLiteral("INFO latencystats: execution time inside Redis (no network, no client queueing), "
                     "percentiles since the server started or CONFIG RESETSTAT. EVAL includes EVALSHA. "
                     "On a cluster the worst master's."));
  // Execution inside the server takes microseconds: only a log axis shows them beside the 5 ms line.
  charts_[LatencyChart]->setLogScale(true);
  // No Phase 0B line on the block hit ratio: no empty legend entry for one either.
  if (QLineSeries* t = charts_[PgBlockHitChart]->thresholdSeries())
    for (QLegendMarker* m : charts_[PgBlockHitChart]->chart()->legend()->markers(t)) m->setVisible(false);

  auto* stTitle =
      new QLabel(QStringLiteral("<b>PostgreSQL top statements (server)</b> — by time spent in the last poll "
                                "interval (pg_stat_statements)"),
                 box);
  stTitle->setWordWrap(true);
  lay->addWidget(stTitle);
  statements_note_ = new QLabel(box);
  statements_note_->setObjectName(QStringLiteral("serverStatementsNote"));
  statements_note_->setWordWrap(true);
  lay->addWidget(statements_note_);
  statements_ = new QTableWidget(0, 3, box);
  statements_->setObjectName(QStringLiteral("serverStatementsTable"));
  statements_->setHorizontalHeaderLabels(
      {QStringLiteral("Statement"), QStringLiteral("calls/s"), QStringLiteral("mean")});
  statements_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  statements_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  statements_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
  statements_->verticalHeader()->setVisible(false);
  statements_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  statements_->setSelectionBehavior(QAbstractItemView::SelectRows);
  statements_->setWordWrap(false);
  statements_->setMinimumHeight(150);
  statements_->setVisible(false);  // until a poll has statements to show
  lay->addWidget(statements_);
  lay->addStretch(1);

  timer_ = new QTimer(this);
  timer_->setInterval(kDefaultPollMs);
  connect(timer_, &QTimer::timeout, this, &ServerSeriesPanel::pollNow);
  if (service_) {
    connect(service_, &CoreService::coreReady, this, &ServerSeriesPanel::onCoreReady);
    timer_->start();
    if (service_->hasCore()) QTimer::singleShot(0, this, &ServerSeriesPanel::pollNow);
  }
  applyTheme();
  refreshCharts();
}

ServerSeriesPanel::~ServerSeriesPanel() = default;

int ServerSeriesPanel::pollInterval() const {
  return timer_->interval();
}

void ServerSeriesPanel::setPollInterval(int ms) {
  timer_->setInterval(std::max(100, ms));
  // Kept for the longest visible range (60 min), not longer.
  history_.setCapacity(static_cast<std::size_t>(3'600'000 / timer_->interval() + 2));
}

void ServerSeriesPanel::setRangeMinutes(int minutes) {
  if (std::find(std::begin(kRanges), std::end(kRanges), minutes) == std::end(kRanges)) return;
  range_minutes_ = minutes;
  const int i = range_->findData(minutes);
  if (i >= 0 && i != range_->currentIndex()) range_->setCurrentIndex(i);
  refreshCharts();
}

QString ServerSeriesPanel::statementsNote() const {
  return statements_note_->text();
}
QString ServerSeriesPanel::statusText() const {
  return status_->text();
}

void ServerSeriesPanel::onCoreReady() {
  // A new connection: nothing to subtract from, and the old servers' history is not these servers'.
  poller_ = std::make_shared<ops::ServerSeriesPoller>();
  busy_ = false;
  history_.clear();
  latest_.reset();
  statements_->setRowCount(0);
  refreshCharts();
  pollNow();
}

void ServerSeriesPanel::pollNow() {
  if (!service_ || !service_->hasCore()) return;
  // A poll dropped by a reconnect never answers: its busy flag belongs to the old core.
  if (busy_ && busy_gen_ == service_->currentGeneration()) return;
  busy_ = true;
  busy_gen_ = service_->currentGeneration();
  auto poller = poller_;
  service_->run<ops::ServerSeriesPoint>(
      this, QStringLiteral("serverSeries.poll"), [poller](TierCore& core, JobContext&) { return poller->poll(core); },
      [this](ops::ServerSeriesPoint p) {
        busy_ = false;
        addPoint(p);
      },
      [this](ErrorKind k, QString m) {
        busy_ = false;
        status_->setText(QStringLiteral("Server series: %1").arg(describe(k, m)));
      });
}

void ServerSeriesPanel::addPoint(const ops::ServerSeriesPoint& p) {
  ++points_;
  latest_ = p;
  MetricSample s = emptySample(p.at_ms);
  auto pct = [](double r) { return std::isnan(r) ? r : r * 100.0; };
  s.set(kKeyspaceHit.slot, pct(p.keyspace_hit_rate));
  s.set(kCommands.slot, p.commands_per_s);
  s.set(kGetP99.slot, p99Ms(p, {"get"}));
  s.set(kSetP99.slot, p99Ms(p, {"set"}));
  s.set(kEvalP99.slot, p99Ms(p, {"eval", "evalsha"}));
  s.set(kUnlinkP99.slot, p99Ms(p, {"unlink"}));
  s.set(kClients.slot, p.connected_clients);
  s.set(kMemory.slot, std::isnan(p.used_memory) ? p.used_memory : p.used_memory / (1024.0 * 1024.0));
  s.set(kEvicted.slot, p.evicted_per_s);
  s.set(kPgTransactions.slot, p.transactions_per_s);
  s.set(kPgBlockHit.slot, pct(p.block_hit_ratio));
  history_.add(s);

  // The header: where the figures come from, and what is missing.
  QStringList parts;
  if (!p.redis_configured)
    parts << QStringLiteral("Redis: not configured");
  else if (!p.redis_ok)
    parts << QStringLiteral("Redis: %1").arg(QString::fromStdString(p.redis_error));
  else
    parts << QStringLiteral("Redis INFO (%1): hit rate %2, %3 commands/s")
                 .arg(QString::fromStdString(p.redis_scope), percent(p.keyspace_hit_rate),
                      std::isnan(p.commands_per_s) ? QStringLiteral("—") : QString::number(p.commands_per_s, 'f', 0));
  if (!p.pg_ok)
    parts << QStringLiteral("PostgreSQL: %1").arg(QString::fromStdString(p.pg_error));
  else
    parts << QStringLiteral("PostgreSQL (database %1): %2 transactions/s, block hit ratio %3")
                 .arg(QString::fromStdString(p.pg_database),
                      std::isnan(p.transactions_per_s) ? QStringLiteral("—")
                                                       : QString::number(p.transactions_per_s, 'f', 1),
                      percent(p.block_hit_ratio));
  status_->setText(QStringLiteral("Measured at the server, not by this console, every %1 s. %2.")
                       .arg(QString::number(timer_->interval() / 1000.0, 'g', 3), parts.join(QStringLiteral("; "))));

  QStringList notes;
  if (p.redis_reset || p.pg_reset) last_reset_ms_ = p.at_ms;
  if (last_reset_ms_ > 0)
    notes << QStringLiteral(
                 "A server's counters restarted at %1 (restart or statistics reset): that interval has no rates.")
                 .arg(QDateTime::fromMSecsSinceEpoch(last_reset_ms_).toString(QStringLiteral("HH:mm:ss")));
  if (p.redis_ok && !p.latency_note.empty()) notes << QString::fromStdString(p.latency_note);
  if (p.malformed > 0) notes << QStringLiteral("%1 INFO line(s) could not be read and were skipped.").arg(p.malformed);
  notes_->setText(notes.join(QLatin1Char('\n')));
  notes_->setVisible(!notes.isEmpty());

  // Top statements.
  QString note;
  if (!p.pg_ok)
    note = QStringLiteral("PostgreSQL could not be asked.");
  else if (p.statements_state != ops::StatementsState::Available)
    note = QString::fromStdString(p.statements_note);
  else if (p.interval_s <= 0)
    note = QStringLiteral("pg_stat_statements: waiting for a second poll.");
  else if (p.top_statements.empty())
    note = QStringLiteral("pg_stat_statements: no statement ran in the last %1 s.").arg(p.interval_s, 0, 'f', 0);
  statements_note_->setText(note);
  statements_note_->setVisible(!note.isEmpty());
  statements_->setRowCount(static_cast<int>(p.top_statements.size()));
  statements_->setVisible(!p.top_statements.empty());
  for (int r = 0; r < static_cast<int>(p.top_statements.size()); ++r) {
    const auto& st = p.top_statements[static_cast<std::size_t>(r)];
    auto* q = new QTableWidgetItem(QString::fromStdString(st.query).simplified());
    q->setToolTip(QString::fromStdString(st.query));
    auto* calls = new QTableWidgetItem(QString::number(st.calls_per_s, 'f', st.calls_per_s < 10 ? 2 : 0));
    auto* mean = new QTableWidgetItem(formatMillis(st.mean_ms));
    calls->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    mean->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    statements_->setItem(r, 0, q);
    statements_->setItem(r, 1, calls);
    statements_->setItem(r, 2, mean);
  }
  refreshCharts();
  Q_EMIT pointAdded();
}

void ServerSeriesPanel::refreshCharts() {
  const qint64 to = history_.empty() ? QDateTime::currentMSecsSinceEpoch() : history_.latestMs();
  const qint64 from = to - qint64(range_minutes_) * 60'000;
  Thresholds t;
  if (service_) t = service_->settings().thresholds;
  for (std::size_t i = 0; i < charts_.size(); ++i) {
    std::optional<double> limit;
    if (i == HitRateChart) limit = t.hit_rate_min * 100.0;  // Phase 0B: cache hit rate > 80 %
    if (i == LatencyChart) limit = t.redis_p99_ms;          // Phase 0B: Redis p99 < 5 ms
    charts_[i]->refresh(history_, from, to, limit, 600);
  }
}

void ServerSeriesPanel::applyTheme() {
  const bool dark = palette().color(QPalette::Window).lightness() < 128;
  for (MetricChart* c : charts_) c->setDark(dark);
}

void ServerSeriesPanel::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) applyTheme();
}

}  // namespace tier::ui
