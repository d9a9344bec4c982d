#pragma once
// DashboardPage (admins): live charts of the Phase 0B metrics against their
// thresholds, a tile per threshold, and the server panel.
//
// Data flow: CoreService::statsAvailable (one sliding-window snapshot per
// refresh) -> MetricsHistory (a ring of up to 60 minutes) -> every chart's
// series replaced once per refresh, downsampled to kMaxPointsPerSeries.
// healthAvailable -> ServerPanel. Nothing here touches the network.
//
// Source (issue 14): "This console" charts the statsAvailable snapshots of the
// console's own core; "Fleet (all instances)" or one instance charts
// CoreService::fleetAvailable (each point a 10 s sliding window of the
// instances' merged 1 s samples), after the last hour read back from their
// :hist streams (fleetHistoryAvailable, 10 s points). The Fleet tab beside
// the server panel lists the instances; a click charts one alone.
//
// Thread-safety: GUI thread only.
#include <QPixmap>
#include <QPointer>
#include <QWidget>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/core_service.h"
#include "dashboard/metrics_history.h"

class QAction;
class QComboBox;
class QTabWidget;
class QActionGroup;
class QGridLayout;
class QLabel;
class QMenu;
class QScrollArea;
class QSplitter;
class QTimer;
class QToolBar;

namespace tier::ui {

class FleetPanel;
class MetricChart;
class ServerPanel;
class ThresholdTile;

class DashboardPage : public QWidget {
  Q_OBJECT
 public:
  enum ChartId { HitRateChart = 0, RedisChart, SessionChart, DbChart, KnowledgeChart, ThroughputChart, kChartCount };
  // One tile per threshold, in the order metrics::evaluate() reports them.
  enum TileId { HitRateTile = 0, RedisTile, SessionTile, DbTile, KnowledgeTile, kTileCount };
  static constexpr int kMaxPointsPerSeries = 600;

  explicit DashboardPage(CoreService* service, QWidget* parent = nullptr);
  ~DashboardPage() override;

  MetricChart* chart(ChartId id) const { return charts_[static_cast<std::size_t>(id)]; }
  ThresholdTile* tile(TileId id) const { return tiles_[static_cast<std::size_t>(id)]; }
  ServerPanel* serverPanel() const { return server_; }
  FleetPanel* fleetPanel() const { return fleet_panel_; }
  QTabWidget* sideTabs() const { return side_tabs_; }
  QComboBox* sourceCombo() const { return source_combo_; }

  // What the charts, tiles and alerts follow. byUser: a person chose it, so
  // the default (Fleet when another instance publishes) no longer applies.
  const MetricsSource& source() const { return source_; }
  void setSource(const MetricsSource& source, bool byUser = true);
  QString sourceLabel() const;
  // The last history read applied: its points, and the GUI thread's time to apply it.
  int historyPoints() const { return history_points_; }
  double historyApplyMs() const { return history_apply_ms_; }
  const FleetSnapshot* lastHistory() const { return last_history_ ? &*last_history_ : nullptr; }
  const MetricsHistory& history() const { return history_; }

  // Visible time range: 1, 5, 15 or 60 minutes.
  int rangeMinutes() const { return range_minutes_; }
  void setRangeMinutes(int minutes);
  // Paused: snapshots are still recorded, the view (charts and tiles) stays put.
  bool paused() const { return paused_; }
  void setPaused(bool paused);
  bool logScale() const { return log_scale_; }
  void setLogScale(bool on);

  // The visible range (from, to], Unix ms; to = the newest sample (or the pause point).
  std::pair<qint64, qint64> visibleRange() const;
  // Writes the samples of the visible range as CSV (timestamp + every series).
  // Returns an empty string on success, else a plain sentence saying what failed.
  QString writeCsv(const QString& path) const;
  // The whole dashboard as one image: tiles, every chart (also those scrolled away) and the server panel.
  QPixmap renderDashboard() const;
  // The image's header: whose figures, the charts' range (and the pause), and
  // the server panel's own time (it stays live while the charts are paused).
  QString exportCaption() const;

  QAction* pauseAction() const { return pause_; }
  QAction* logScaleAction() const { return log_; }
  QAction* exportPngAction() const { return export_png_; }
  QAction* exportCsvAction() const { return export_csv_; }
  QAction* exportChartAction() const { return export_chart_; }
  QAction* rangeAction(int minutes) const;
  QString statusText() const;
  // tierconsole --screenshots: with a fleet, its tab in front and wide enough for every column.
  Q_INVOKABLE void prepareScreenshot();
  // No refresh has arrived for this long: the header says "Stale since …" and why.
  qint64 staleAfterMs() const;

 public Q_SLOTS:
  void onStatsAvailable(const tier::ui::StatsSnapshot& snapshot);
  void onHealthAvailable(const tier::ops::HealthReport& report);
  void onCoreReady();
  void onFleetAvailable(const tier::ui::FleetSnapshot& snapshot);
  void onFleetHistoryAvailable(const tier::ui::FleetSnapshot& snapshot);

 Q_SIGNALS:
  // The history for the current source was read back and charted.
  void historyApplied(int points);

 protected:
  void changeEvent(QEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void buildToolBar();
  void buildCharts();
  void refreshView();
  void rebuildSourceCombo(const FleetSnapshot& snapshot);
  void selectSourceInCombo();
  void refreshTiles(qint64 from_ms, qint64 to_ms);
  void updateStatus();
  void applyTheme();
  void relayoutCharts();
  void saveSettings() const;
  void onExportPng();
  void onExportCsv();
  void onExportChart(MetricChart* chart);
  void savePixmap(const QPixmap& pixmap, const QString& suggestedName);

  QPointer<CoreService> service_;
  MetricsHistory history_;
  std::optional<StatsSnapshot> last_;    // what the tiles show (held while paused)
  std::optional<StatsSnapshot> latest_;  // the newest refresh received
  qint64 last_arrival_ms_ = 0;            // wall clock when the newest refresh arrived
  qint64 server_checked_ms_ = 0;          // wall clock of the server panel's health report
  // Why refreshes may have stopped: the links' last states and a failed connect.
  LinkStatus redis_link_;
  LinkStatus pg_link_;
  QString core_failure_;
  QTimer* stale_timer_ = nullptr;
  QString status_full_;  // the header's whole sentence (the label may show it elided)
  bool status_stale_ = false;
  void elideStatus();    // fits status_full_ into the toolbar's room (again on every resize)
  QWidget* status_spacer_ = nullptr;
  int range_minutes_ = 5;
  bool paused_ = false;
  qint64 paused_at_ms_ = 0;
  bool log_scale_ = false;
  int columns_ = 0;

  QToolBar* toolbar_ = nullptr;
  QActionGroup* range_group_ = nullptr;
  QAction* pause_ = nullptr;
  QAction* log_ = nullptr;
  QAction* export_png_ = nullptr;
  QAction* export_csv_ = nullptr;
  QAction* export_chart_ = nullptr;
  QMenu* chart_menu_ = nullptr;
  QLabel* status_ = nullptr;
  QSplitter* splitter_ = nullptr;
  QWidget* tiles_row_ = nullptr;
  QScrollArea* charts_scroll_ = nullptr;
  QWidget* charts_box_ = nullptr;
  QGridLayout* charts_grid_ = nullptr;
  QScrollArea* server_scroll_ = nullptr;
  ServerPanel* server_ = nullptr;
  QTabWidget* side_tabs_ = nullptr;
  FleetPanel* fleet_panel_ = nullptr;
  QComboBox* source_combo_ = nullptr;
  MetricsSource source_;
  bool source_by_user_ = false;
  bool fleet_tab_shown_ = false;  // the Fleet tab was brought forward once for this connection
  std::vector<std::string> own_ids_;  // this console's instance ids, its earlier cores' too (kept: ids are unique)
  std::uint64_t history_request_ = 0;
  int history_points_ = 0;
  double history_apply_ms_ = 0;
  std::optional<FleetSnapshot> last_history_;  // without its view's instances' samples
  std::vector<std::pair<QString, QString>> source_items_;  // (data, label) shown in the combo
  std::array<ThresholdTile*, kTileCount> tiles_{};
  std::array<MetricChart*, kChartCount> charts_{};
};

}  // namespace tier::ui
