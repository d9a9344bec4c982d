#pragma once
// Warm on start (issue 15 item 4): when the console connects to a profile, the
// sets its warm_on_start key names (default: knowledge articles) are warmed on
// a worker, the progress and the result shown in the status bar; each set's
// run is audited by the core like any warm. A read-only profile warms nothing
// (warming writes to the cache); a reconnect that continues the same servers
// does not warm again. GUI thread only.
#include <QObject>
#include <QString>

namespace tier::ui {

class CoreService;

class StartupWarmer : public QObject {
  Q_OBJECT
 public:
  explicit StartupWarmer(CoreService* service, QObject* parent = nullptr);
  bool running() const { return running_; }
  QString lastMessage() const { return last_; }

 Q_SIGNALS:
  // For the status bar (its own label): a progress line (timeout 0) or the outcome (shown a few seconds).
  void message(const QString& text, int timeoutMs);
  void finished(const QString& text);

 private:
  void onCoreReady();
  void say(const QString& text, int timeoutMs);
  CoreService* service_;
  bool running_ = false;
  QString last_;
};

}  // namespace tier::ui
