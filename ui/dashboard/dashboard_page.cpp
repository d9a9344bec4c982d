#include "dashboard/dashboard_page.h"

#include <QTimer>

#include <QAction>
#include <QActionGroup>
#include <QComboBox>
#include <QCursor>
#include <QElapsedTimer>
#include <QDateTime>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHeaderView>
#include <QTableView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QMainWindow>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QRegularExpression>
#include <QSaveFile>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>
#include <limits>

#include "dashboard/fleet_model.h"
#include "dashboard/fleet_panel.h"
#include "dashboard/metric_chart.h"
#include "dashboard/server_panel.h"
#include "dashboard/server_series_panel.h"
#include "common/link_wording.h"
#include "dashboard/threshold_tile.h"
#include "pages.h"

namespace tier::ui {

namespace {

constexpr int kRanges[] = {1, 5, 15, 60};

struct TileSpec {
  const char* name;  // ThresholdResult::name
  const char* title;
  const char* description;
  MetricSeries series;
  Bound bound;
};
constexpr TileSpec kTiles[DashboardPage::kTileCount] = {
    {"hit_rate", "Hit rate", "Cache hit rate: L1 + L2 hits over all reads", MetricSeries::HitRate, Bound::AtLeast},
    {"redis_p99", "Redis p99 (client)", "Redis round trip (client): command latency as this console measures it, p99",
     MetricSeries::RedisP99, Bound::AtMost},
    {"session_retrieval_p99", "Session p99", "Session retrieval (session + recent messages), p99",
     MetricSeries::SessionP99, Bound::AtMost},
    {"db_query_p99", "DB query p99", "Database query latency, p99", MetricSeries::DbP99, Bound::AtMost},
    {"knowledge_p99", "Knowledge p99", "Psychology-knowledge lookup, p99", MetricSeries::KnowledgeP99, Bound::AtMost},
};

// The limit of each tile, in the unit of its series (percent for the hit rate).
double tileLimit(int tile, const Thresholds& t) {
  switch (tile) {
    case DashboardPage::HitRateTile: return 100.0 * t.hit_rate_min;
    case DashboardPage::RedisTile: return t.redis_p99_ms;
    case DashboardPage::SessionTile: return t.session_p99_ms;
    case DashboardPage::DbTile: return t.db_query_p99_ms;
    case DashboardPage::KnowledgeTile: return t.knowledge_p99_ms;
    default: return 0;
  }
}

QString formatPercent(double pct) {
  return QStringLiteral("%1 %").arg(QString::number(pct, 'f', 1));
}
// Limits are round numbers a person typed: "5 ms", "80 %", "0.5 ms".
QString formatLimit(double v, bool percent) {
  return QStringLiteral("%1 %2").arg(QString::number(v, 'g', 4), percent ? QStringLiteral("%") : QStringLiteral("ms"));
}

QString formatSpan(qint64 ms) {
  const qint64 s = (ms + 500) / 1000;
  if (s < 120) return QStringLiteral("%1 s").arg(s);
  return QStringLiteral("%1 min").arg((s + 30) / 60);
}

QString hhmmss(qint64 ms) {
  return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss"));
}

// Combo data of a source: "console", "fleet", "instance:<id>".
QString sourceKey(const MetricsSource& s) {
  switch (s.kind) {
    case MetricsSource::Kind::Console: return QStringLiteral("console");
    case MetricsSource::Kind::Fleet: return QStringLiteral("fleet");
    case MetricsSource::Kind::Instance: return QStringLiteral("instance:") + QString::fromStdString(s.instance_id);
  }
  return {};
}
MetricsSource sourceFromKey(const QString& key) {
  MetricsSource s;
  if (key == QLatin1String("fleet")) s.kind = MetricsSource::Kind::Fleet;
  else if (key.startsWith(QLatin1String("instance:"))) {
    s.kind = MetricsSource::Kind::Instance;
    s.instance_id = key.mid(9).toStdString();
  }
  return s;
}

QString fileStamp() {
  return QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
}

}  // namespace

DashboardPage::DashboardPage(CoreService* service, QWidget* parent) : QWidget(parent), service_(service) {
  setObjectName(QStringLiteral("dashboardPage"));
  QSettings settings;
  range_minutes_ = settings.value(QStringLiteral("dashboard/rangeMinutes"), 5).toInt();
  if (std::find(std::begin(kRanges), std::end(kRanges), range_minutes_) == std::end(kRanges)) range_minutes_ = 5;
  log_scale_ = settings.value(QStringLiteral("dashboard/logScale"), false).toBool();

  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->setSpacing(0);
  buildToolBar();
  lay->addWidget(toolbar_);

  splitter_ = new QSplitter(Qt::Horizontal, this);
  splitter_->setChildrenCollapsible(false);
  lay->addWidget(splitter_, 1);

  auto* left = new QWidget(splitter_);
  auto* leftLay = new QVBoxLayout(left);
  leftLay->setContentsMargins(8, 8, 4, 0);
  leftLay->setSpacing(8);
  tiles_row_ = new QWidget(left);
  auto* tilesLay = new QHBoxLayout(tiles_row_);
  tilesLay->setContentsMargins(0, 0, 0, 0);
  tilesLay->setSpacing(8);
  for (int i = 0; i < kTileCount; ++i) {
    tiles_[static_cast<std::size_t>(i)] = new ThresholdTile(QString::fromLatin1(kTiles[i].title), tiles_row_);
    tiles_[static_cast<std::size_t>(i)]->setObjectName(QString::fromLatin1(kTiles[i].name));
    tilesLay->addWidget(tiles_[static_cast<std::size_t>(i)]);
  }
  leftLay->addWidget(tiles_row_);

  charts_scroll_ = new QScrollArea(left);
  charts_scroll_->setWidgetResizable(true);
  charts_scroll_->setFrameShape(QFrame::NoFrame);
  charts_box_ = new QWidget(charts_scroll_);
  charts_grid_ = new QGridLayout(charts_box_);
  charts_grid_->setContentsMargins(0, 0, 0, 8);
  charts_grid_->setSpacing(8);
  charts_scroll_->setWidget(charts_box_);
  charts_scroll_->viewport()->installEventFilter(this);
  leftLay->addWidget(charts_scroll_, 1);
  buildCharts();

  side_tabs_ = new QTabWidget(splitter_);
  side_tabs_->setObjectName(QStringLiteral("dashboardSideTabs"));
  side_tabs_->setDocumentMode(true);
  server_scroll_ = new QScrollArea(side_tabs_);
  server_scroll_->setWidgetResizable(true);
  server_scroll_->setFrameShape(QFrame::NoFrame);
  server_ = new ServerPanel(server_scroll_);
  server_scroll_->setWidget(server_);
  server_scroll_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  fleet_panel_ = new FleetPanel(side_tabs_);
  side_tabs_->addTab(server_scroll_, QStringLiteral("Server"));
  side_tabs_->addTab(fleet_panel_, QStringLiteral("Fleet"));
  // Issue 14, item 4: what the servers count themselves (traffic no instance instruments).
  side_tabs_->addTab(new ServerSeriesPanel(service, side_tabs_), QStringLiteral("Server series"));
  side_tabs_->setTabToolTip(side_tabs_->indexOf(fleet_panel_), QStringLiteral("Every instance that publishes its metrics to this Redis"));
  connect(fleet_panel_, &FleetPanel::instanceActivated, this, [this](const QString& id) {
    MetricsSource s;
    const int row = fleet_panel_->model()->rowOf(id.toStdString());
    const bool self = row >= 0 && fleet_panel_->model()->rows()[std::size_t(row)].self;
    s.kind = self ? MetricsSource::Kind::Console : MetricsSource::Kind::Instance;
    if (!self) s.instance_id = id.toStdString();
    setSource(s, true);
  });
  splitter_->addWidget(left);
  splitter_->addWidget(side_tabs_);
  splitter_->setStretchFactor(0, 1);
  splitter_->setStretchFactor(1, 0);
  if (!splitter_->restoreState(settings.value(QStringLiteral("dashboard/splitter")).toByteArray()))
    splitter_->setSizes({900, 480});  // room for the Fleet tab's figures
  // Dragging emits many moves: save once it settles.
  auto* saveLater = new QTimer(this);
  saveLater->setSingleShot(true);
  saveLater->setInterval(500);
  connect(saveLater, &QTimer::timeout, this, [this] { saveSettings(); });
  connect(splitter_, &QSplitter::splitterMoved, saveLater, qOverload<>(&QTimer::start));

  relayoutCharts();
  applyTheme();
  setLogScale(log_scale_);
  if (service_) {
    connect(service_, &CoreService::statsAvailable, this, &DashboardPage::onStatsAvailable);
    connect(service_, &CoreService::healthAvailable, this, &DashboardPage::onHealthAvailable);
    connect(service_, &CoreService::coreReady, this, &DashboardPage::onCoreReady);
    connect(service_, &CoreService::fleetAvailable, this, &DashboardPage::onFleetAvailable);
    connect(service_, &CoreService::fleetHistoryAvailable, this, &DashboardPage::onFleetHistoryAvailable);
    // Kept to say why refreshes stopped, should they.
    // The tiles of a server that is down or degraded turn red with the reason at once.
    connect(service_, &CoreService::redisLinkChanged, this, [this](const LinkStatus& s) {
      redis_link_ = s;
      refreshTiles(visibleRange().first, visibleRange().second);
    });
    connect(service_, &CoreService::postgresLinkChanged, this, [this](const LinkStatus& s) {
      pg_link_ = s;
      refreshTiles(visibleRange().first, visibleRange().second);
    });
    connect(service_, &CoreService::coreFailed, this, [this](const QString& why) {
      core_failure_ = why;
      updateStatus();
    });
    // Refresh on the server panel: one health check now, on a worker like the periodic one.
    connect(server_, &ServerPanel::refreshRequested, this, [this] {
      if (!service_->hasCore()) {
        server_->refreshFailed(QStringLiteral("not connected"));
        return;
      }
      service_->run<ops::HealthReport>(
          this, QStringLiteral("dashboard.health"), [](TierCore& core, JobContext&) { return ops::checkHealth(core); },
          [this](ops::HealthReport r) { onHealthAvailable(r); },
          [this](ErrorKind k, QString m) { server_->refreshFailed(describe(k, m)); });
    });
  }
  // "Live" must stop being said when refreshes stop: checked every second.
  stale_timer_ = new QTimer(this);
  stale_timer_->setInterval(1000);
  connect(stale_timer_, &QTimer::timeout, this, [this] {
    if (!history_.empty() && !paused_) updateStatus();
  });
  stale_timer_->start();
  refreshView();
}

DashboardPage::~DashboardPage() = default;

void DashboardPage::buildToolBar() {
  toolbar_ = new QToolBar(QStringLiteral("Dashboard"), this);
  toolbar_->setObjectName(QStringLiteral("dashboardToolBar"));
  toolbar_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  toolbar_->setIconSize(QSize(16, 16));

  toolbar_->addWidget(new QLabel(QStringLiteral("  Source "), toolbar_));
  source_combo_ = new QComboBox(toolbar_);
  source_combo_->setObjectName(QStringLiteral("sourceCombo"));
  source_combo_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  source_combo_->setToolTip(QStringLiteral("Whose metrics the charts, tiles and alerts show: every instance that "
                                           "publishes to this Redis, one of them, or this console's own core"));
  source_items_ = {{QStringLiteral("fleet"), QStringLiteral("Fleet (all instances)")},
                   {QStringLiteral("console"), QStringLiteral("This console")}};
  for (const auto& [key, label] : source_items_) source_combo_->addItem(label, key);
  source_combo_->setCurrentIndex(source_combo_->findData(QStringLiteral("console")));
  connect(source_combo_, &QComboBox::activated, this, [this](int index) {
    setSource(sourceFromKey(source_combo_->itemData(index).toString()), true);
  });
  toolbar_->addWidget(source_combo_);
  toolbar_->addSeparator();

  auto* rangeLabel = new QLabel(QStringLiteral("  Range "), toolbar_);
  toolbar_->addWidget(rangeLabel);
  range_group_ = new QActionGroup(this);
  range_group_->setExclusive(true);
  for (std::size_t i = 0; i < std::size(kRanges); ++i) {
    const int minutes = kRanges[i];
    auto* a = new QAction(QStringLiteral("%1 min").arg(minutes), range_group_);
    a->setCheckable(true);
    a->setData(minutes);
    a->setShortcut(QKeySequence(QStringLiteral("Alt+%1").arg(i + 1)));
    a->setToolTip(QStringLiteral("Show the last %1 minute%2 (%3)")
                      .arg(minutes)
                      .arg(minutes == 1 ? QString() : QStringLiteral("s"))
                      .arg(a->shortcut().toString(QKeySequence::NativeText)));
    a->setChecked(minutes == range_minutes_);
    connect(a, &QAction::triggered, this, [this, minutes] { setRangeMinutes(minutes); });
    toolbar_->addAction(a);
  }
  toolbar_->addSeparator();

  pause_ = new QAction(style()->standardIcon(QStyle::SP_MediaPause), QStringLiteral("Pause"), this);
  pause_->setCheckable(true);
  pause_->setShortcut(QKeySequence(Qt::Key_Space));
  pause_->setToolTip(QStringLiteral("Freeze the charts and tiles; data keeps being recorded (Space)"));
  connect(pause_, &QAction::toggled, this, [this](bool on) { setPaused(on); });
  toolbar_->addAction(pause_);

  log_ = new QAction(QStringLiteral("Log scale"), this);
  log_->setCheckable(true);
  log_->setChecked(log_scale_);
  log_->setShortcut(QKeySequence(QStringLiteral("Ctrl+L")));
  log_->setToolTip(QStringLiteral("Logarithmic value axis on the latency charts (Ctrl+L)"));
  connect(log_, &QAction::toggled, this, [this](bool on) { setLogScale(on); });
  toolbar_->addAction(log_);
  toolbar_->addSeparator();

  export_png_ = new QAction(style()->standardIcon(QStyle::SP_DialogSaveButton), QStringLiteral("Export PNG…"), this);
  export_png_->setShortcut(QKeySequence(QStringLiteral("Ctrl+E")));
  export_png_->setToolTip(QStringLiteral("Save the whole dashboard as a PNG image (Ctrl+E)"));
  connect(export_png_, &QAction::triggered, this, &DashboardPage::onExportPng);
  toolbar_->addAction(export_png_);

  chart_menu_ = new QMenu(this);
  export_chart_ = new QAction(QStringLiteral("Export chart…"), this);
  export_chart_->setShortcut(QKeySequence(QStringLiteral("Ctrl+Alt+E")));
  export_chart_->setToolTip(QStringLiteral("Save one chart as a PNG image (Ctrl+Alt+E; or right-click a chart)"));
  export_chart_->setMenu(chart_menu_);
  connect(export_chart_, &QAction::triggered, this, [this] {
    QWidget* button = toolbar_->widgetForAction(export_chart_);
    chart_menu_->popup(button ? button->mapToGlobal(QPoint(0, button->height())) : QCursor::pos());
  });
  toolbar_->addAction(export_chart_);
  if (auto* b = qobject_cast<QToolButton*>(toolbar_->widgetForAction(export_chart_)))
    b->setPopupMode(QToolButton::InstantPopup);

  export_csv_ = new QAction(QStringLiteral("Export CSV…"), this);
  export_csv_->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+E")));
  export_csv_->setToolTip(QStringLiteral("Save the visible range of every series as CSV (Ctrl+Shift+E)"));
  connect(export_csv_, &QAction::triggered, this, &DashboardPage::onExportCsv);
  toolbar_->addAction(export_csv_);

  auto* spacer = new QWidget(toolbar_);
  spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  toolbar_->addWidget(spacer);
  status_spacer_ = spacer;
  status_ = new QLabel(toolbar_);
  status_->setObjectName(QStringLiteral("dashboardStatus"));
  status_->setContentsMargins(0, 0, 8, 0);
  toolbar_->addWidget(status_);
  toolbar_->installEventFilter(this);  // the header's elision follows the toolbar's width
}

void DashboardPage::buildCharts() {
  using L = MetricChart::Line;
  using K = MetricChart::Kind;
  const QColor p50l(0x1e, 0x88, 0xe5), p50d(0x64, 0xb5, 0xf6);
  const QColor p99l(0xf4, 0x51, 0x1e), p99d(0xff, 0x8a, 0x65);
  auto latency = [&](MetricSeries p50, MetricSeries p99) {
    return std::vector<L>{{p50, QStringLiteral("p50"), p50l, p50d, false, 1.5},
                          {p99, QStringLiteral("p99"), p99l, p99d, false, 2.0}};
  };
  charts_[HitRateChart] = new MetricChart(
      QStringLiteral("Cache hit rate"), K::Percent,
      {{MetricSeries::HitRate, QStringLiteral("L1+L2"), QColor(0x15, 0x65, 0xc0), QColor(0x90, 0xca, 0xf9), false, 2.5},
       {MetricSeries::L1HitRate, QStringLiteral("L1"), QColor(0x43, 0xa0, 0x47), QColor(0x81, 0xc7, 0x84), false, 1.5},
       {MetricSeries::L2HitRate, QStringLiteral("L2"), QColor(0x8e, 0x24, 0xaa), QColor(0xce, 0x93, 0xd8), false, 1.5}},
      charts_box_);
  charts_[RedisChart] = new MetricChart(QStringLiteral("Redis round trip (client)"), K::Latency,
                                        latency(MetricSeries::RedisP50, MetricSeries::RedisP99), charts_box_);
  charts_[SessionChart] = new MetricChart(QStringLiteral("Session retrieval (session + recent messages)"), K::Latency,
                                          latency(MetricSeries::SessionP50, MetricSeries::SessionP99), charts_box_);
  charts_[DbChart] = new MetricChart(QStringLiteral("Database query latency"), K::Latency,
                                     latency(MetricSeries::DbP50, MetricSeries::DbP99), charts_box_);
  charts_[KnowledgeChart] =
      new MetricChart(QStringLiteral("Knowledge lookup latency"), K::Latency,
                      latency(MetricSeries::KnowledgeP50, MetricSeries::KnowledgeP99), charts_box_);
  charts_[ThroughputChart] = new MetricChart(QStringLiteral("Throughput and errors"), K::Rate,
                                             {{MetricSeries::OpsPerSecond, QStringLiteral("operations/s"),
                                               QColor(0x00, 0x89, 0x7b), QColor(0x4d, 0xb6, 0xac), false, 2.0},
                                              {MetricSeries::ErrorsPerSecond, QStringLiteral("errors/s (right axis)"),
                                               QColor(0xe5, 0x39, 0x35), QColor(0xef, 0x53, 0x50), true, 1.5}},
                                             charts_box_);
  for (MetricChart* c : charts_) {
    connect(c, &MetricChart::exportRequested, this, &DashboardPage::onExportChart);
    auto* a = chart_menu_->addAction(c->title());
    a->setToolTip(QStringLiteral("Save the “%1” chart as PNG").arg(c->title()));
    connect(a, &QAction::triggered, this, [this, c] { onExportChart(c); });
  }
}

QAction* DashboardPage::rangeAction(int minutes) const {
  for (QAction* a : range_group_->actions())
    if (a->data().toInt() == minutes) return a;
  return nullptr;
}

void DashboardPage::relayoutCharts() {
  const int width = charts_scroll_->viewport()->width();
  const int columns = width >= 1500 ? 3 : (width >= 660 ? 2 : 1);
  if (columns == columns_) return;
  columns_ = columns;
  for (MetricChart* c : charts_) charts_grid_->removeWidget(c);
  for (int i = 0; i < kChartCount; ++i)
    charts_grid_->addWidget(charts_[static_cast<std::size_t>(i)], i / columns, i % columns);
  for (int c = 0; c < 3; ++c) charts_grid_->setColumnStretch(c, c < columns ? 1 : 0);
}

bool DashboardPage::eventFilter(QObject* watched, QEvent* event) {
  if (watched == charts_scroll_->viewport() && event->type() == QEvent::Resize) relayoutCharts();
  if (watched == toolbar_ && event->type() == QEvent::Resize && status_) elideStatus();
  return QWidget::eventFilter(watched, event);
}

void DashboardPage::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) applyTheme();
}

void DashboardPage::applyTheme() {
  if (!charts_[0]) return;
  const bool dark = palette().color(QPalette::Window).lightness() < 128;
  for (MetricChart* c : charts_) c->setDark(dark);
}

void DashboardPage::setRangeMinutes(int minutes) {
  if (std::find(std::begin(kRanges), std::end(kRanges), minutes) == std::end(kRanges)) return;
  range_minutes_ = minutes;
  if (QAction* a = rangeAction(minutes); a && !a->isChecked()) a->setChecked(true);
  saveSettings();
  refreshView();
}

void DashboardPage::setPaused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  paused_at_ms_ = history_.latestMs();
  if (!paused) last_ = latest_;
  if (pause_->isChecked() != paused) pause_->setChecked(paused);
  pause_->setText(paused ? QStringLiteral("Resume") : QStringLiteral("Pause"));
  pause_->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
  pause_->setToolTip(paused ? QStringLiteral("Follow live data again (Space)")
                            : QStringLiteral("Freeze the charts and tiles; data keeps being recorded (Space)"));
  refreshView();
}

void DashboardPage::setLogScale(bool on) {
  log_scale_ = on;
  if (log_->isChecked() != on) log_->setChecked(on);
  for (MetricChart* c : charts_) c->setLogScale(on);
  saveSettings();
  refreshView();
}

void DashboardPage::saveSettings() const {
  QSettings settings;
  settings.setValue(QStringLiteral("dashboard/rangeMinutes"), range_minutes_);
  settings.setValue(QStringLiteral("dashboard/logScale"), log_scale_);
  if (splitter_) settings.setValue(QStringLiteral("dashboard/splitter"), splitter_->saveState());
}

std::pair<qint64, qint64> DashboardPage::visibleRange() const {
  qint64 to = paused_ ? paused_at_ms_ : history_.latestMs();
  if (to == 0) to = QDateTime::currentMSecsSinceEpoch();
  return {to - qint64(range_minutes_) * 60'000, to};
}

void DashboardPage::onCoreReady() {
  core_failure_.clear();
  if (service_ && service_->continuesPrevious()) {
    // A reconnect to the same profile and servers: the charts go on where they
    // were, with the source the operator chose; what the switch missed comes
    // back from the fleet's :hist streams where the source has them.
    if (source_.kind != MetricsSource::Kind::Console) history_request_ = service_->requestFleetHistory(source_);
    refreshView();
    return;
  }
  // Another profile or other servers: cleared, not kept per profile. Their
  // figures are another system's (one line across both would read as one
  // system's change), and the fleet's own hour comes back from its Redis.
  history_.clear();
  last_.reset();
  latest_.reset();
  // Another Redis may hold another fleet: the default applies again.
  source_by_user_ = false;
  fleet_tab_shown_ = false;
  fleet_panel_->clear();
  setSource(MetricsSource{}, false);
  refreshView();
}

void DashboardPage::prepareScreenshot() {
  if (fleet_panel_->model()->othersCount() == 0) return;
  side_tabs_->setCurrentWidget(fleet_panel_);
  fleet_panel_->view()->resizeColumnsToContents();
  const int table = fleet_panel_->view()->horizontalHeader()->length() + 2 * fleet_panel_->view()->frameWidth() + 24;
  const int total = splitter_->width();
  const int right = std::min(table, total - 1050);  // the tiles and charts keep their room
  if (right <= splitter_->sizes().value(1)) return;
  splitter_->setSizes({total - right, right});
}

QString DashboardPage::sourceLabel() const {
  const QString key = sourceKey(source_);
  for (const auto& [k, label] : source_items_)
    if (k == key) return label;
  return source_.kind == MetricsSource::Kind::Instance ? QString::fromStdString(source_.instance_id) : QString();
}

void DashboardPage::selectSourceInCombo() {
  const QSignalBlocker block(source_combo_);
  int i = source_combo_->findData(sourceKey(source_));
  if (i < 0 && source_.kind == MetricsSource::Kind::Instance) {
    // Not listed (yet): an instance chosen before the selector knew it.
    source_combo_->addItem(QString::fromStdString(source_.instance_id), sourceKey(source_));
    i = source_combo_->count() - 1;
  }
  source_combo_->setCurrentIndex(i);
}

void DashboardPage::rebuildSourceCombo(const FleetSnapshot& s) {
  std::vector<std::pair<QString, QString>> items{{QStringLiteral("fleet"), QStringLiteral("Fleet (all instances)")}};
  for (const auto& inst : s.view.instances) {
    if (inst.info.id == s.self_id) continue;  // that is "This console"
    items.emplace_back(QStringLiteral("instance:") + QString::fromStdString(inst.info.id),
                       instanceName(inst.info) + (inst.gone ? QStringLiteral(" (gone)") : QString()));
  }
  items.emplace_back(QStringLiteral("console"), QStringLiteral("This console"));
  if (items == source_items_) return;
  source_items_ = std::move(items);
  const QSignalBlocker block(source_combo_);
  source_combo_->clear();
  for (const auto& [key, label] : source_items_) source_combo_->addItem(label, key);
  selectSourceInCombo();
}

void DashboardPage::setSource(const MetricsSource& source, bool byUser) {
  source_by_user_ = source_by_user_ || byUser;
  const bool changed = !(source == source_);
  source_ = source;
  selectSourceInCombo();
  if (service_) service_->setAlertSource(source_);
  if (!changed) return;
  // Another source's points are not this one's: read its last hour back.
  history_.clear();
  last_.reset();
  latest_.reset();
  history_points_ = 0;
  if (service_ && source_.kind != MetricsSource::Kind::Console && service_->hasCore())
    history_request_ = service_->requestFleetHistory(source_);
  else
    history_request_ = 0;
  refreshView();
}

void DashboardPage::onFleetAvailable(const FleetSnapshot& s) {
  const Thresholds t = service_ ? service_->settings().thresholds : Thresholds{};
  fleet_panel_->setFleet(s, t);
  if (!s.error.isEmpty()) return;
  const FleetModel* model = fleet_panel_->model();
  side_tabs_->setTabText(side_tabs_->indexOf(fleet_panel_), model->othersCount() > 0 ? QStringLiteral("Fleet (%1)").arg(model->liveCount())
                                                     : QStringLiteral("Fleet"));
  rebuildSourceCombo(s);
  if (!s.self_id.empty() && std::find(own_ids_.begin(), own_ids_.end(), s.self_id) == own_ids_.end())
    own_ids_.push_back(s.self_id);
  if (!source_by_user_) {
    // Fleet by default as soon as anything but this console publishes. The
    // core a reconnect replaced still looks live for a few seconds: it was
    // this console, so it does not switch the charts (and clear them).
    MetricsSource want;
    const bool othersLive = std::any_of(s.view.instances.begin(), s.view.instances.end(), [this](const auto& inst) {
      return !inst.gone && std::find(own_ids_.begin(), own_ids_.end(), inst.info.id) == own_ids_.end();
    });
    // Once on Fleet it stays when the others stop (the fleet is then this
    // console alone): switching would wipe the hour read back, which after a
    // restart holds the console's earlier run.
    if (othersLive || source_.kind == MetricsSource::Kind::Fleet) want.kind = MetricsSource::Kind::Fleet;
    if (!(want == source_)) setSource(want, false);
    if (want.kind == MetricsSource::Kind::Fleet && !fleet_tab_shown_) {
      side_tabs_->setCurrentWidget(fleet_panel_);
      fleet_tab_shown_ = true;
    }
  }
  if (source_.kind == MetricsSource::Kind::Console) return;  // statsAvailable feeds the charts

  StatsSnapshot st;
  st.at_ms = s.at_ms;
  st.window.window = s.view.window;
  st.window.taken_at_unix_ms = s.at_ms;
  if (source_.kind == MetricsSource::Kind::Fleet) {
    st.window = s.view.snapshot;
  } else {
    for (const auto& inst : s.view.instances)
      if (inst.info.id == source_.instance_id) st.window = inst.snapshot;
  }
  st.thresholds = metrics::evaluate(st.window, t);
  if (service_) {
    // An hour of live points plus the hour read back at 10 s.
    const int refresh = std::max(service_->settings().refresh_ms, 1);
    const std::size_t capacity = std::clamp<std::size_t>(std::size_t(3'600'000 / refresh), 3600, 14'400) + 400;
    if (capacity != history_.capacity()) history_.setCapacity(capacity);
  }
  history_.add(sampleFrom(st.window, st.at_ms));
  latest_ = st;
  last_arrival_ms_ = QDateTime::currentMSecsSinceEpoch();
  if (paused_) {
    updateStatus();
    return;
  }
  last_ = st;
  refreshView();
}

void DashboardPage::onFleetHistoryAvailable(const FleetSnapshot& s) {
  if (s.request != history_request_ || !(s.source == source_)) return;  // an older request's answer
  QElapsedTimer timer;
  timer.start();
  // The points read back go before the live points that arrived meanwhile, and
  // into the gaps a reconnect or an outage left (longer than a :hist point and a
  // half); a point the charts already have is never replaced.
  std::vector<MetricSample> readBack;
  readBack.reserve(s.points.size());
  for (const auto& p : s.points) readBack.push_back(sampleFrom(p, p.taken_at_unix_ms));
  const int n = int(history_.fillGaps(readBack, 15'000));
  history_points_ = n;
  last_history_ = s;
  refreshView();
  history_apply_ms_ = double(timer.nsecsElapsed()) / 1e6;
  Q_EMIT historyApplied(n);
}

void DashboardPage::onStatsAvailable(const StatsSnapshot& snapshot) {
  if (source_.kind != MetricsSource::Kind::Console) return;  // the fleet's figures feed the charts
  if (service_) {
    const int refresh = std::max(service_->settings().refresh_ms, 1);
    const std::size_t capacity = std::clamp<std::size_t>(std::size_t(3'600'000 / refresh), 3600, 14'400);
    if (capacity != history_.capacity()) history_.setCapacity(capacity);
  }
  history_.add(sampleFrom(snapshot.window, snapshot.at_ms));
  latest_ = snapshot;
  last_arrival_ms_ = QDateTime::currentMSecsSinceEpoch();
  if (paused_) {
    updateStatus();
    return;
  }
  last_ = snapshot;
  refreshView();
}

void DashboardPage::onHealthAvailable(const ops::HealthReport& report) {
  server_checked_ms_ = QDateTime::currentMSecsSinceEpoch();
  server_->setReport(report, server_checked_ms_);
}

void DashboardPage::refreshView() {
  const auto [from, to] = visibleRange();
  const Thresholds t = service_ ? service_->settings().thresholds : Thresholds{};
  const std::optional<double> limits[kChartCount] = {100.0 * t.hit_rate_min, t.redis_p99_ms,     t.session_p99_ms,
                                                     t.db_query_p99_ms,      t.knowledge_p99_ms, std::nullopt};
  for (int i = 0; i < kChartCount; ++i)
    charts_[static_cast<std::size_t>(i)]->refresh(history_, from, to, limits[i], kMaxPointsPerSeries);
  refreshTiles(from, to);
  updateStatus();
}

void DashboardPage::refreshTiles(qint64 from, qint64 to) {
  const Thresholds t = service_ ? service_->settings().thresholds : Thresholds{};
  // How much of the range the history actually covers (less than the range right after start).
  const auto [first, last] = history_.indexRange(from, to);
  QString span = QStringLiteral("last %1 min").arg(range_minutes_);
  if (first < last && first == 0) {
    const int refresh = service_ ? service_->settings().refresh_ms : 1000;
    const qint64 covered = to - history_.at(first).at_ms + refresh;
    if (covered < qint64(range_minutes_) * 60'000) span = QStringLiteral("last %1").arg(formatSpan(covered));
  }
  for (int i = 0; i < kTileCount; ++i) {
    const TileSpec& spec = kTiles[i];
    const bool hit = i == HitRateTile;
    const double currentLimit = tileLimit(i, t);
    const metrics::ThresholdResult* r = nullptr;
    if (last_)
      for (const auto& x : last_->thresholds)
        if (x.name == spec.name) r = &x;
    const metrics::Status status = r ? r->status : metrics::Status::NoData;
    const double limit = r ? (hit ? 100.0 * r->limit : r->limit) : currentLimit;
    QString value = QStringLiteral("—");
    if (r && status != metrics::Status::NoData) value = hit ? formatPercent(100.0 * r->value) : formatMillis(r->value);
    const QString limitText =
        QStringLiteral("limit %1 %2").arg(hit ? QStringLiteral(">") : QStringLiteral("<"), formatLimit(limit, hit));
    QString compliance;
    const auto share = history_.compliance(spec.series, from, to, currentLimit, spec.bound);
    if (share)
      compliance = QStringLiteral("%1 in limit · %2").arg(formatPercent(100.0 * *share), span);
    else
      compliance = QStringLiteral("no data · %1").arg(span);
    ThresholdTile* tile = tiles_[static_cast<std::size_t>(i)];
    const QString shareText = share ? QStringLiteral("Within the current limit for %1 of %2 shown.")
                                          .arg(formatPercent(100.0 * *share), span)
                                    : QStringLiteral("No data in %1 shown.").arg(span);
    // The server this tile measures is down or degraded: that is the tile's news,
    // not "No data" (and not a stale figure read as current).
    const std::pair<QString, const LinkStatus*> server =
        i == RedisTile ? std::pair{QStringLiteral("Redis"), &redis_link_}
        : i == DbTile  ? std::pair{QStringLiteral("PostgreSQL"), &pg_link_}
                       : std::pair{QString(), static_cast<const LinkStatus*>(nullptr)};
    if (server.second && isOutage(server.second->state) && service_ && service_->hasCore()) {
      const QString why = linkSentence(server.first, *server.second);
      const QString pill = server.second->state == LinkState::Down ? QStringLiteral("Down") : QStringLiteral("Degraded");
      tile->setOutage(pill, value, limitText, why);
      tile->setToolTip(QStringLiteral("<b>%1</b><br>%2<br>Now (10 s sliding window): %3<br>Limit: %4<br>%5")
                           .arg(QString::fromLatin1(spec.description), why.toHtmlEscaped(), value, limitText, shareText));
      continue;
    }
    tile->setState(status, value, limitText, compliance);
    tile->setToolTip(QStringLiteral("<b>%1</b><br>Now (10 s sliding window): %2 — %3<br>Limit: %4<br>%5")
                         .arg(QString::fromLatin1(spec.description), value, tier::ui::statusText(status), limitText,
                              shareText));
  }
}

QString DashboardPage::statusText() const { return status_full_; }

qint64 DashboardPage::staleAfterMs() const {
  const int refresh = service_ ? service_->settings().refresh_ms : 1000;
  return std::max<qint64>(3 * qint64(refresh), 3000);  // a late refresh or two is not an outage
}

void DashboardPage::updateStatus() {
  QString text;
  bool stale = false;
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (history_.empty()) {
    if (service_ && service_->hasCore())
      text = QStringLiteral("Waiting for the first refresh…");
    else if (!core_failure_.isEmpty())
      text = QStringLiteral("Not connected: %1").arg(core_failure_);
    else
      text = QStringLiteral("Not connected: waiting for data");
  } else if (!paused_ && now - last_arrival_ms_ > staleAfterMs()) {
    // Say since when the figures are old and why, so a frozen view is not read as live.
    QStringList why;
    if (!service_ || !service_->hasCore()) {
      why << (core_failure_.isEmpty() ? QStringLiteral("not connected") : QStringLiteral("not connected: %1").arg(core_failure_));
    } else {
      for (const auto& [name, link] : {std::pair{QStringLiteral("Redis"), &redis_link_}, std::pair{QStringLiteral("PostgreSQL"), &pg_link_}})
        if (link->state == LinkState::Down || link->state == LinkState::Degraded)
          why << linkSentence(name, *link);
      if (why.isEmpty())
        why << QStringLiteral("no refresh for %1 s (the console's background work is busy)").arg((now - last_arrival_ms_) / 1000);
    }
    text = QStringLiteral("Stale since %1 — %2").arg(hhmmss(last_arrival_ms_), why.join(QStringLiteral("; ")));
    stale = true;
  } else if (paused_) {
    text = QStringLiteral("Paused at %1 (Space resumes) · %2 samples recorded")
               .arg(hhmmss(paused_at_ms_))
               .arg(history_.size());
  } else {
    const MetricSample& s = history_.latest();
    const double ops = s.value(MetricSeries::OpsPerSecond);
    text = QStringLiteral("Live · %1 · %2 · %3 ops/s · values over a 10 s sliding window")
               .arg(sourceLabel(), hhmmss(s.at_ms), std::isnan(ops) ? QStringLiteral("—") : QString::number(ops, 'f', 0));
  }
  status_full_ = text;
  status_stale_ = stale;
  status_->setStyleSheet(stale ? QStringLiteral("color:#c53030;font-weight:bold;") : QString());
  elideStatus();
}

void DashboardPage::elideStatus() {
  // A long reason would push the header into the toolbar's overflow menu, out
  // of sight: show what fits beside the buttons, the whole sentence as a tooltip.
  int others = 0;
  for (QAction* a : toolbar_->actions())
    if (QWidget* w = toolbar_->widgetForAction(a); w && w != status_ && w != status_spacer_)
      others += w->sizeHint().width() + toolbar_->layout()->spacing();
  const int room = toolbar_->width() > 0 ? toolbar_->width() - others - 40 : 600;
  QFont f = status_->font();
  f.setBold(status_stale_);
  status_->setText(QFontMetrics(f).elidedText(status_full_, Qt::ElideRight, std::max(room, 200)));
  status_->setToolTip(status_full_);
}

QString DashboardPage::writeCsv(const QString& path) const {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
    return QStringLiteral("Could not write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
  QString out;
  out += QStringLiteral("timestamp,unix_ms");
  for (int i = 0; i < kMetricSeriesCount; ++i) out += QLatin1Char(',') + seriesKey(static_cast<MetricSeries>(i));
  out += QLatin1Char('\n');
  const auto [from, to] = visibleRange();
  const auto [first, last] = history_.indexRange(from, to);
  for (std::size_t r = first; r < last; ++r) {
    const MetricSample& s = history_.at(r);
    out += QDateTime::fromMSecsSinceEpoch(s.at_ms, Qt::UTC).toString(Qt::ISODateWithMs);
    out += QLatin1Char(',') + QString::number(s.at_ms);
    for (double v : s.values) {
      out += QLatin1Char(',');
      if (!std::isnan(v)) out += QString::number(v, 'g', 8);
    }
    out += QLatin1Char('\n');
  }
  file.write(out.toUtf8());
  if (!file.commit())
    return QStringLiteral("Could not write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
  return {};
}

QString DashboardPage::exportCaption() const {
  const auto [from, to] = visibleRange();
  QString text = QStringLiteral("Tier Console dashboard — %1 — %2 to %3 (%4 min)")
                     .arg(sourceLabel(),
                          QDateTime::fromMSecsSinceEpoch(from).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), hhmmss(to))
                     .arg(range_minutes_);
  // Paused freezes the charts and tiles only: the server panel is said to be live, with its own time.
  if (paused_) text += QStringLiteral(", paused at %1").arg(hhmmss(paused_at_ms_));
  text += server_checked_ms_ > 0
              ? QStringLiteral(" — server panel %1checked at %2")
                    .arg(paused_ ? QStringLiteral("live, ") : QString(), hhmmss(server_checked_ms_))
              : QStringLiteral(" — server panel: no health check yet");
  return text;
}

QPixmap DashboardPage::renderDashboard() const {
  const QPixmap tiles = tiles_row_->grab();
  const QPixmap charts = charts_box_->grab();
  const QPixmap server = server_->grab();
  const qreal dpr = std::max({tiles.devicePixelRatio(), charts.devicePixelRatio(), qreal(1)});
  const QSizeF ts = tiles.deviceIndependentSize(), cs = charts.deviceIndependentSize(),
               ss = server.deviceIndependentSize();
  const int margin = 12, gap = 8;
  const QFontMetrics fm(font());
  const int header = fm.height() * 2;
  const qreal leftW = std::max(ts.width(), cs.width());
  const QSizeF total(margin + leftW + gap + ss.width() + margin,
                     margin + header + std::max(ts.height() + gap + cs.height(), ss.height()) + margin);
  QPixmap out((total * dpr).toSize());
  out.setDevicePixelRatio(dpr);
  out.fill(palette().color(QPalette::Window));
  QPainter p(&out);
  QFont f = font();
  f.setBold(true);
  f.setPointSizeF(f.pointSizeF() * 1.2);
  p.setFont(f);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRectF(margin, margin, total.width() - 2 * margin, header), Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap,
             exportCaption());
  const qreal top = margin + header;
  p.drawPixmap(QPointF(margin, top), tiles);
  p.drawPixmap(QPointF(margin, top + ts.height() + gap), charts);
  p.drawPixmap(QPointF(margin + leftW + gap, top), server);
  p.end();
  return out;
}

void DashboardPage::savePixmap(const QPixmap& pixmap, const QString& suggestedName) {
  QSettings settings;
  QString dir = settings.value(QStringLiteral("dashboard/exportDir")).toString();
  if (dir.isEmpty()) dir = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  if (dir.isEmpty()) dir = QDir::homePath();
  const QString path = QFileDialog::getSaveFileName(
      this, QStringLiteral("Save image"), QDir(dir).filePath(suggestedName), QStringLiteral("PNG image (*.png)"));
  if (path.isEmpty()) return;
  settings.setValue(QStringLiteral("dashboard/exportDir"), QFileInfo(path).absolutePath());
  // PNG encoding of a large image takes a noticeable moment: off the GUI thread (QImage, unlike QPixmap, may travel).
  const QImage image = pixmap.toImage();
  auto* watcher = new QFutureWatcher<bool>(this);
  connect(watcher, &QFutureWatcher<bool>::finished, this, [this, watcher, path] {
    const bool ok = watcher->result();
    watcher->deleteLater();
    const QString msg = ok ? QStringLiteral("Saved %1").arg(QDir::toNativeSeparators(path))
                           : QStringLiteral("Could not write %1.").arg(QDir::toNativeSeparators(path));
    if (!ok)
      QMessageBox::warning(this, QStringLiteral("Export failed"), msg);
    else if (auto* mw = qobject_cast<QMainWindow*>(window()))
      mw->statusBar()->showMessage(msg, 5000);
  });
  watcher->setFuture(QtConcurrent::run([image, path] { return image.save(path, "PNG"); }));
}

void DashboardPage::onExportPng() {
  savePixmap(renderDashboard(), QStringLiteral("tier-dashboard-%1.png").arg(fileStamp()));
}

void DashboardPage::onExportChart(MetricChart* chart) {
  QString slug = chart->title().toLower();
  slug.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("-"));
  while (slug.endsWith(QLatin1Char('-'))) slug.chop(1);
  savePixmap(chart->grab(), QStringLiteral("tier-%1-%2.png").arg(slug, fileStamp()));
}

void DashboardPage::onExportCsv() {
  QSettings settings;
  QString dir = settings.value(QStringLiteral("dashboard/exportDir")).toString();
  if (dir.isEmpty()) dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  if (dir.isEmpty()) dir = QDir::homePath();
  const QString path = QFileDialog::getSaveFileName(
      this, QStringLiteral("Save series as CSV"),
      QDir(dir).filePath(QStringLiteral("tier-dashboard-%1.csv").arg(fileStamp())), QStringLiteral("CSV (*.csv)"));
  if (path.isEmpty()) return;
  settings.setValue(QStringLiteral("dashboard/exportDir"), QFileInfo(path).absolutePath());
  // At most a few thousand rows: small enough to write inline.
  const QString error = writeCsv(path);
  if (!error.isEmpty())
    QMessageBox::warning(this, QStringLiteral("Export failed"), error);
  else if (auto* mw = qobject_cast<QMainWindow*>(window()))
    mw->statusBar()->showMessage(QStringLiteral("Saved %1").arg(QDir::toNativeSeparators(path)), 5000);
}

QWidget* createDashboardPage(CoreService* service, QWidget* parent) {
  return new DashboardPage(service, parent);
}

}  // namespace tier::ui
