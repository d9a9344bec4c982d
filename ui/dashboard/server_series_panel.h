#pragma once
// ServerSeriesPanel ("Server series" beside the server panel, issue 14 item 4):
// what Redis and PostgreSQL count themselves, charted over time, so traffic no
// instance of the core instruments still shows — keyspace hit rate (with the
// Phase 0B 80 % line), commands/s, per-command p99 of GET/SET/EVAL/UNLINK
// (with the 5 ms line), connected clients, used memory, evicted keys/s,
// PostgreSQL transactions/s and block hit ratio, and the top statements when
// pg_stat_statements is installed. Every chart title ends "(server)".
//
// Data flow: every poll interval (5 s) CoreService::run polls an
// ops::ServerSeriesPoller on a worker; the value point comes back on the GUI
// thread and goes into a MetricsHistory kept for the longest visible range
// (60 min). The charts are MetricCharts; their series reuse MetricSeries slots
// of this panel's own history (see kSlots in the .cpp), renamed "server_…".
//
// Thread-safety: GUI thread only.
#include <QPointer>
#include <QWidget>
#include <array>
#include <memory>
#include <optional>

#include "common/core_service.h"
#include "dashboard/metrics_history.h"
#include "tier/ops/server_series.h"

class QComboBox;
class QLabel;
class QTableWidget;
class QTimer;

namespace tier::ui {

class MetricChart;

class ServerSeriesPanel : public QWidget {
  Q_OBJECT
 public:
  enum ChartId {
    HitRateChart = 0,
    CommandsChart,
    LatencyChart,
    ClientsChart,
    MemoryChart,
    EvictedChart,
    PgTransactionsChart,
    PgBlockHitChart,
    kChartCount
  };
  static constexpr int kDefaultPollMs = 5000;

  // service may be null (no polling: points come through addPoint only).
  explicit ServerSeriesPanel(CoreService* service, QWidget* parent = nullptr);
  ~ServerSeriesPanel() override;

  MetricChart* chart(ChartId id) const { return charts_[static_cast<std::size_t>(id)]; }
  QTableWidget* statementsTable() const { return statements_; }
  QString statementsNote() const;
  QString statusText() const;
  const MetricsHistory& history() const { return history_; }
  const std::optional<ops::ServerSeriesPoint>& latest() const { return latest_; }
  int pointsReceived() const { return points_; }

  int pollInterval() const;
  void setPollInterval(int ms);
  // Visible range: 1, 5, 15 or 60 minutes.
  int rangeMinutes() const { return range_minutes_; }
  void setRangeMinutes(int minutes);

 public Q_SLOTS:
  // One poll's point: charted, the table and notes updated.
  void addPoint(const tier::ops::ServerSeriesPoint& point);
  // Polls now on a worker (no-op while a poll is in flight or without a core).
  void pollNow();

 Q_SIGNALS:
  void pointAdded();

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void onCoreReady();
  void refreshCharts();
  void applyTheme();

  QPointer<CoreService> service_;
  std::shared_ptr<ops::ServerSeriesPoller> poller_;
  bool busy_ = false;
  std::uint64_t busy_gen_ = 0;
  MetricsHistory history_;
  std::optional<ops::ServerSeriesPoint> latest_;
  int points_ = 0;
  int range_minutes_ = 5;
  qint64 last_reset_ms_ = 0;  // when a counter reset last made a point skip its rates

  QTimer* timer_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* notes_ = nullptr;
  QComboBox* range_ = nullptr;
  QLabel* statements_note_ = nullptr;
  QTableWidget* statements_ = nullptr;
  std::array<MetricChart*, kChartCount> charts_{};
};

}  // namespace tier::ui

Q_DECLARE_METATYPE(tier::ops::ServerSeriesPoint)
