#pragma once
// Load: start and stop the synthetic workload; virtual users and the rate are
// applied at once while it runs. Live counters come from statsAvailable()
// (cumulative since start; operations/s from the difference between two
// snapshots) and the running state from workloadStateChanged().
//
// Threads: GUI thread only.
#include <QGroupBox>

#include "common/core_service.h"

class QAction;
class QLabel;
class QPushButton;
class QSpinBox;

namespace tier::ui {

class LoadPanel : public QGroupBox {
  Q_OBJECT
 public:
  explicit LoadPanel(CoreService* service, QWidget* parent = nullptr);

  QAction* toggleAction() const { return toggleAction_; }
  bool running() const { return running_; }
  int virtualUsers() const;
  double rate() const;

 public Q_SLOTS:
  void onToggleTriggered();

 Q_SIGNALS:
  void stateShown(bool running);  // after the panel reflected a new state

 private Q_SLOTS:
  void onStatsAvailable(const tier::ui::StatsSnapshot& snapshot);
  void onWorkloadStateChanged(bool running);
  void onCoreFailed(const QString& message);

 private:
  void updateState();

  CoreService* service_;
  QAction* toggleAction_;
  QPushButton* toggleButton_;
  QSpinBox* users_;
  QSpinBox* rate_;
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
  QLabel* lastError_;

  bool running_ = false;
  bool starting_ = false;
  qint64 prevAtMs_ = 0;
  std::uint64_t prevOperations_ = 0;
};

}  // namespace tier::ui
