#pragma once
// Load: start and stop the synthetic workload; virtual users and the rate are
// applied at once while it runs. Live counters come from statsAvailable()
// (cumulative since start; operations/s from the difference between two
// snapshots) and the running state from workloadStateChanged().
//
// Writes (issue 13): the core decides at start what the load may write
// (workload/workload.h): read-only on a database that is not the sandbox, with
// the reason shown beside the write share. "Allow writes (synthetic rows only)"
// asks first, in askWriteConfirmation() (the one place a load start is
// confirmed: writes requested, typed on a production profile; or any load on a
// production profile, one click), naming the profile and the database; only
// then does the load start with consent, and it writes only rows it creates
// and removes. A read-only profile refuses writes.
//
// Threads: GUI thread only.
#include <QGroupBox>

#include "common/core_service.h"

class QAction;
class QCheckBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace tier::ui {

class ConfirmInvalidateDialog;

// "db.example.com:5432/app" from a conninfo (key=value or URI), never a password;
// the parts libpq would take from its defaults are named as such.
QString databaseLabel(const QString& conninfo);

class LoadPanel : public QGroupBox {
  Q_OBJECT
 public:
  explicit LoadPanel(CoreService* service, QWidget* parent = nullptr);

  QAction* toggleAction() const { return toggleAction_; }
  bool running() const { return running_; }
  int virtualUsers() const;
  double rate() const;
  bool writesRequested() const;
  // "Write share 0 % — read-only: not a sandbox database" once a run started.
  QString writeModeText() const;
  // "The synthetic load was stopped by the switch to …" / "counters are from the previous connection"; else empty.
  QString connectionNoteText() const;
  // The running load's worker threads ("1"), and why (workload/threads.h); "—" before a run.
  QString threadsText() const;
  QString threadsReason() const;

 public Q_SLOTS:
  void onToggleTriggered();

 Q_SIGNALS:
  void stateShown(bool running);  // after the panel reflected a new state
  // A load that needs confirming waits for this dialog (shown, modal); tests answer it.
  void writeConfirmationRequested(tier::ui::ConfirmInvalidateDialog* dialog);

 private Q_SLOTS:
  void onStatsAvailable(const tier::ui::StatsSnapshot& snapshot);
  void onWorkloadStateChanged(bool running);
  void onCoreFailed(const QString& message);
  void onConnecting();

 private:
  void updateState();
  // The confirmation of a load start (writes, or a production profile): opens the dialog, starts on accept.
  void askWriteConfirmation(const workload::WorkloadOptions& options);
  void startLoad(const workload::WorkloadOptions& options);
  void showWriteMode(const workload::WorkloadCounters& c);
  void showThreads();  // from the running load's options

  CoreService* service_;
  QAction* toggleAction_;
  QPushButton* toggleButton_;
  QSpinBox* users_;
  QSpinBox* rate_;
  QCheckBox* allowWrites_;
  QLabel* writeMode_;
  QLabel* stateDot_;
  QLabel* state_;
  QLabel* opsPerSecond_;
  QLabel* operations_;
  QLabel* reads_;
  QLabel* writes_;
  QLabel* failedReads_;
  QLabel* staleReads_;
  QLabel* errors_;
  QLabel* elapsed_;
  QLabel* threads_;
  QLabel* lastError_;
  QLabel* connectionNote_;

  bool running_ = false;
  bool starting_ = false;
  bool stopRequested_ = false;   // the person pressed Stop: that stop is not the switch's
  bool stoppedUnasked_ = false;  // a running load stopped without a Stop (adopt/connectTo stop it first)
  bool countersShown_ = false;   // the counters hold a run's figures
  QString profile_;              // the connection the counters belong to
  QString stopNote_;             // "the previous connection's load was stopped at …", kept while shown
  qint64 prevAtMs_ = 0;
  std::uint64_t prevOperations_ = 0;
};

}  // namespace tier::ui
