#pragma once
// Warm: load chosen sets (knowledge, active sessions, hot entries) from
// PostgreSQL into L1 and Redis. The sets run one after another, each as its own
// job with its own progress bar; Cancel stops the running set between chunks
// and skips the rest. The summary table says, per set, candidates, warmed,
// newer in cache (kept: Redis held a newer version), failed, time and the audit row.
//
// Threads: GUI thread only; every core call goes through CoreService::run.
#include <QGroupBox>

#include <vector>

#include "common/core_service.h"
#include "common/job_state.h"
#include "tier/ops/warming.h"

class QAction;
class QCheckBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;

namespace tier::ui {

class WarmSummaryModel;

class WarmPanel : public QGroupBox {
  Q_OBJECT
 public:
  explicit WarmPanel(CoreService* service, QWidget* parent = nullptr);
  ~WarmPanel() override;  // cancels a running job (its result is dropped)

  QAction* warmAction() const { return warmAction_; }
  bool busy() const { return job_.running(); }
  void setLocked(bool locked);
  void setPermitted(bool allowed, const QString& reason);
  // Which sets the next run includes.
  void setSelected(ops::WarmSet set, bool selected);
  ops::WarmOptions options() const;
  WarmSummaryModel* summaryModel() const { return summary_; }
  QString statusText() const;

 public Q_SLOTS:
  void onWarmTriggered();
  void cancel();
  // The console switched servers: a running warm is cancelled and the shown results are
  // marked as the previous connection's (`previous` names its profile).
  void onConnectionChanged(const QString& previous = {});

 Q_SIGNALS:
  void jobStarted();
  void jobFinished();
  void warmFinished();  // every selected set has a result (done, cancelled, failed or skipped)

 private:
  struct SetRow {
    ops::WarmSet set;
    QCheckBox* check = nullptr;
    QProgressBar* bar = nullptr;
  };
  void startNext();
  void finish();
  void updateActions();
  int rowOf(ops::WarmSet set) const;

  CoreService* service_;
  QAction* warmAction_;
  std::vector<SetRow> sets_;
  QSpinBox* hours_;
  QSpinBox* sessionLimit_;
  QSpinBox* topUsers_;
  QSpinBox* perUser_;
  QPushButton* warmButton_;
  QPushButton* cancelButton_;
  QLabel* status_;
  WarmSummaryModel* summary_;
  QTableView* summaryView_;

  JobState job_;
  bool permitted_ = true;
  QString permissionReason_;
  int current_ = -1;  // summary row of the running set
  ops::WarmOptions runOptions_;
};

}  // namespace tier::ui
