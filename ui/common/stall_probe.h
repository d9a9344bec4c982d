#pragma once
// Measures how responsive the GUI thread is: a timer that should fire every
// `interval`; each tick records how late it came (the event-loop stall). A
// frozen window shows up as one huge gap.
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <vector>

namespace tier::ui {

struct StallReport {
  qint64 ticks = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // gap between ticks minus the interval
  double seconds = 0;
};

class StallProbe : public QObject {
  Q_OBJECT
 public:
  explicit StallProbe(int intervalMs = 5, QObject* parent = nullptr);
  void start();
  void stop();
  StallReport report() const;
  void reset();

 private:
  void onTick();
  int interval_ms_;
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ns_ = -1;
  std::vector<float> stalls_ms_;  // GUI thread only
};

}  // namespace tier::ui
