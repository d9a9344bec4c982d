#pragma once
// KeyspaceAnalysisView: the Keys view's "Analyze…" panel (issue 18 item 2).
//
// Runs ops::analyzeKeyspace on a CoreService worker (slot "keys.analysis",
// progress posted through the JobContext) and shows the value it returns:
// a summary (keys examined of DBSIZE, exact or the 95 % error, duration),
// memory per namespace as bars (estimate, interval in the label and tooltip),
// a per-namespace table, a stacked TTL histogram, the largest keys (a
// double-click asks the Keys view to show one), hot keys or why there are
// none, and the old-generation copies with Reclaim… (ops::reclaimOldGenerations
// after confirmDestructive; greyed under a read-only profile or credentials
// that may not UNLINK). A new analysis takes a new ticket of its JobState, so
// an older result is dropped. The GUI thread never calls Redis.
#include <QWidget>
#include <cstdint>
#include <optional>

#include "common/core_service.h"
#include "common/job_state.h"
#include "tier/ops/capabilities.h"
#include "tier/ops/keyspace.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QChart;
class QChartView;
class QHorizontalBarSeries;
class QHorizontalStackedBarSeries;

namespace tier::ui {

class KeyspaceAnalysisView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kDefaultSample = 100'000;

  explicit KeyspaceAnalysisView(CoreService* service, QWidget* parent = nullptr);
  ~KeyspaceAnalysisView() override;

  // Starts an analysis with the spin box's sample (a running one is superseded).
  void analyze();
  // Stops the running analysis; the last result stays shown.
  void cancel();
  void setSample(int keys);

  // For tests and screenshots.
  bool running() const { return analysis_.running(); }
  const std::optional<ops::KeyspaceAnalysis>& result() const { return result_; }
  QString summaryText() const;
  QString reclaimText() const;    // the old-generation line and the last reclaim's outcome
  QString reclaimReason() const;  // why Reclaim is greyed; empty when allowed
  QPushButton* analyzeButton() const { return analyze_; }
  QPushButton* cancelButton() const { return cancel_; }
  QPushButton* reclaimButton() const { return reclaim_; }
  QSpinBox* sampleBox() const { return sample_; }
  QTableWidget* namespaceTable() const { return namespaces_; }
  QTableWidget* largestTable() const { return largest_; }
  QTableWidget* hotTable() const { return hot_; }
  QHorizontalBarSeries* memorySeries() const { return memorySeries_; }
  QHorizontalStackedBarSeries* ttlSeries() const { return ttlSeries_; }

 Q_SIGNALS:
  void analysisFinished(bool ok, const QString& message);
  void reclaimFinished(bool ok, const QString& message);
  void keyActivated(const QString& key);  // a largest/hot key was double-clicked

 private:
  void showResult(const ops::KeyspaceAnalysis& a);
  void updateReclaim();
  void onReclaim();
  void runReclaim();
  void showBusy();  // the buttons and the progress bar as analysis_ says
  void setStatus(const QString& text, const QString& tone);

  CoreService* service_;
  QSpinBox* sample_;
  QPushButton* analyze_;
  QPushButton* cancel_;
  QProgressBar* progress_;
  QLabel* status_;
  QLabel* summary_;
  QChart* memoryChart_;
  QChartView* memoryView_;
  QHorizontalBarSeries* memorySeries_ = nullptr;
  QChart* ttlChart_;
  QChartView* ttlView_;
  QHorizontalStackedBarSeries* ttlSeries_ = nullptr;
  QTableWidget* namespaces_;
  QTableWidget* largest_;
  QTableWidget* hot_;
  QLabel* hotNote_;
  QLabel* old_;
  QPushButton* reclaim_;
  QLabel* permission_;
  QLabel* reclaimResult_;

  ops::Capabilities capabilities_;
  std::optional<ops::KeyspaceAnalysis> result_;
  JobState analysis_;  // Cancel drops its result: a truncated sample is not shown
  JobState reclaimJob_;  // no Cancel once confirmed
};

}  // namespace tier::ui
