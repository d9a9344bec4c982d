#pragma once
// CoreService: the console's one door to tier::core.
//
// Threads: the GUI thread never touches the network or the disk. CoreService
// owns the TierCore; every call that may block runs on a worker thread (a
// private QThreadPool) and hands back a value through a queued call on the
// receiver's thread. Results for a receiver that has been destroyed, or for a
// job that was superseded (a newer job with the same `slot`), are dropped.
//
// Periodic work (also on workers): a metrics snapshot every refresh interval
// (default 1 s) -> statsAvailable(); server health every 5 s -> healthAvailable()
// and the Redis/PostgreSQL link chips.
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>
#include <QTimer>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "tier/common/config.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/fleet/reader.h"
#include "tier/metrics/alerts.h"
#include "tier/metrics/thresholds.h"
#include "tier/ops/capabilities.h"
#include "tier/ops/health.h"
#include "tier/workload/workload.h"

namespace tier::ui {

struct ConnectionSettings {
  QString profile = QStringLiteral("default");
  QString redis_url;    // may carry a password; never persisted by this struct
  QString pg_conninfo;  // may carry a password; never persisted by this struct
  QString pg_replica_conninfo;  // optional read replica; may carry a password; empty = none
  bool sandbox = false;  // start or reuse the private sandbox and use it
  QString sandbox_dir;   // empty = the default folder
  bool start_workload = false;  // with the sandbox: start the synthetic workload
  Thresholds thresholds;
  CachePolicies policies;
  std::size_t l1_max_entries = 200'000;
  std::size_t l1_max_bytes = 256ull * 1024 * 1024;
  int refresh_ms = 1000;
  // Publish this console's metrics to the fleet (settings key metrics_publish;
  // tierconsole --no-publish turns it off for one run).
  bool metrics_publish = true;
};

// NotConnected: no core, though this server is not the one at fault (e.g. the
// other one's URL is malformed): neither "down" nor "not configured".
enum class LinkState { Disconnected, Connecting, Connected, Degraded, Down, NotConnected };
QString toText(LinkState s);

struct LinkStatus {
  LinkState state = LinkState::Disconnected;
  QString version;
  double latency_ms = 0;
  QString detail;  // endpoint (no password) or the reason it is down
};

// The answer to tryConnect(): usable, or why not and where (the dialog puts the
// reason beside the field at fault). Every text is redacted: no password.
struct ConnectAttemptResult {
  enum class Field { None, Redis, Postgres, Replica, Sandbox };
  bool ok = false;
  Field field = Field::None;  // the first field at fault
  QString redis_error;        // why Redis did not answer; empty if it did (or none is configured)
  QString pg_error;           // why PostgreSQL did not answer
  QString replica_error;      // a malformed read-replica conninfo (a replica that is down is no failure)
  QString message;            // one line for the whole attempt
};

// One refresh: sliding-window values (not lifetime counters).
struct StatsSnapshot {
  qint64 at_ms = 0;
  metrics::Snapshot window;  // the last 10 s
  std::vector<metrics::ThresholdResult> thresholds;
  bool workload_running = false;
  workload::WorkloadCounters workload;
};

// What the Dashboard charts and the alerts watch (issue 14): this console's
// own core, the whole fleet publishing to its Redis, or one instance of it.
struct MetricsSource {
  enum class Kind { Console, Fleet, Instance };
  Kind kind = Kind::Console;
  std::string instance_id;  // Kind::Instance
  bool operator==(const MetricsSource&) const = default;
};

// One read of the fleet (fleet/reader.h), a value snapshot for the GUI thread.
struct FleetSnapshot {
  std::uint64_t request = 0;  // 0: the periodic live read; else requestFleetHistory()'s id
  qint64 at_ms = 0;
  std::string self_id;    // this console's own instance id; empty when it does not publish
  fleet::FleetView view;  // the 10 s window of the :live streams (who publishes, their figures)
  MetricsSource source;   // history: whose points these are
  std::vector<metrics::Snapshot> points;  // history: one per 10 s point, oldest first (the fleet's merged per point)
  QString error;          // Redis could not be asked: view is empty
  double read_ms = 0;     // worker: reading (history: and decoding the entries into their 10 s slots)
  double merge_ms = 0;    // worker: history: each point's percentiles
};

// Handed to a job: cancellation and throttled progress.
class JobContext {
 public:
  bool cancelled() const { return cancel_ && cancel_->load(); }
  const std::atomic<bool>* cancelFlag() const { return cancel_.get(); }
  // Reports progress (0..1 or -1 for unknown) with a message; throttled to 10/s.
  void progress(double fraction, const QString& message);

 private:
  friend class CoreService;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::function<void(double, QString)> report_;
  qint64 last_report_ms_ = 0;
};

// A running job; cancel() sets the flag the job polls.
class JobHandle {
 public:
  JobHandle() = default;
  void cancel() const {
    if (cancel_) cancel_->store(true);
  }
  bool valid() const { return cancel_ != nullptr; }

 private:
  friend class CoreService;
  std::shared_ptr<std::atomic<bool>> cancel_;
};

class CoreService : public QObject {
  Q_OBJECT
 public:
  explicit CoreService(QObject* parent = nullptr);
  ~CoreService() override;

  // Builds a new core for these settings on a worker (starting the sandbox
  // first if asked); the old core, its workload and jobs are retired at once.
  // For start-up and a password retry of the same profile; File ▸ Connect…
  // uses tryConnect, which keeps the working connection until the new one answers.
  void connectTo(const ConnectionSettings& settings);
  // Tries a connection beside the current one: a second core is built and
  // probed on a worker (PING Redis, SELECT 1 PostgreSQL, within the core's short
  // timeouts). Until it answers, the current core, its charts, jobs and load
  // stay as they are. Then attemptFinished(id, result) is emitted; on success
  // the new core replaces the current one right after it (as connectTo would,
  // ending with coreReady and connected). A failure changes nothing else.
  // Returns the attempt's id; a newer tryConnect or cancelAttempt() drops an
  // older attempt's result (its core is discarded on a worker).
  std::uint64_t tryConnect(const ConnectionSettings& settings);
  void cancelAttempt();
  bool attemptRunning() const { return attempt_running_; }
  const ConnectionSettings& settings() const { return settings_; }
  // True when the current core (from coreReady on) reaches the same profile and
  // servers as the core before it (a reconnect, a password retry, Connect… with
  // the same servers): views keep their history. Passwords are not compared.
  bool continuesPrevious() const { return continues_; }
  bool hasCore() const;
  // Increases with every connectTo; results of jobs from an older one are dropped.
  std::uint64_t currentGeneration() const;
  void setThresholds(const Thresholds& t);
  void setRefreshInterval(int ms);

  // Runs fn(core, ctx) on a worker. onDone(result) / onError(kind, message)
  // run on receiver's thread, only if receiver still exists and (for a
  // non-empty slot) no newer job was started in the same slot since.
  template <typename R>
  JobHandle run(QObject* receiver, const QString& slot, std::function<R(TierCore&, JobContext&)> fn,
                std::function<void(R)> onDone, std::function<void(ErrorKind, QString)> onError = {},
                std::function<void(double, QString)> onProgress = {});

  // Synthetic workload control (runs in the core's process).
  void startWorkload(const workload::WorkloadOptions& options);
  void stopWorkload();
  void setWorkloadRate(double opsPerSecond);
  void setWorkloadUsers(int users);
  bool workloadRunning() const;
  // The running workload's live options (users, rate), if one runs.
  std::optional<workload::WorkloadOptions> workloadOptions() const;

  // What the credentials may do: the last probe's answer (GUI thread). Probed on
  // a worker at coreReady, every 60 s and when a link comes back; until the
  // first answer every capability is refused with a "checking" reason.
  const ops::Capabilities& capabilities() const { return capabilities_; }
  // Probes again now (e.g. after the user changed credentials on the server).
  void refreshCapabilities();

  // Fleet telemetry (issue 14). The fleet is read every refresh interval on a
  // worker (fleetAvailable); a history read on request (fleetHistoryAvailable
  // with its id: an older request's answer is the caller's to drop).
  std::uint64_t requestFleetHistory(const MetricsSource& source, std::chrono::seconds window = std::chrono::hours(1));
  // An instance silent this long shows as gone (default 10 s, setting fleet/goneAfterSeconds).
  void setFleetGoneAfter(std::chrono::seconds after);
  std::chrono::seconds fleetGoneAfter() const { return fleet_gone_after_; }
  // Whose figures raise alerts; an alert names the instances that broke the limit.
  void setAlertSource(const MetricsSource& source);
  const MetricsSource& alertSource() const { return alert_source_; }

 Q_SIGNALS:
  void connecting(const QString& what);
  void coreReady();
  void coreFailed(const QString& message);
  // Both servers answered for the current core (once per connection): the
  // moment to say "Connected as profile …", not when a core merely exists.
  void connected(const QString& profile);
  void attemptFinished(std::uint64_t attempt, const tier::ui::ConnectAttemptResult& result);
  void redisLinkChanged(const tier::ui::LinkStatus& status);
  void postgresLinkChanged(const tier::ui::LinkStatus& status);
  void statsAvailable(const tier::ui::StatsSnapshot& snapshot);
  void healthAvailable(const tier::ops::HealthReport& report);
  // source: who broke the limit ("This console", the instances' names).
  void alertEvent(const tier::metrics::AlertEvent& event, const QString& source = QString());
  void workloadStateChanged(bool running);
  void capabilitiesAvailable(const tier::ops::Capabilities& capabilities);
  void fleetAvailable(const tier::ui::FleetSnapshot& snapshot);
  void fleetHistoryAvailable(const tier::ui::FleetSnapshot& snapshot);

 private:
  void onRefreshTick();
  void resetAlerts();
  void onHealthTick();
  void onFleetTick();
  // Alerts from the fleet's figures, when the alert source is not this console.
  void fleetAlerts(const FleetSnapshot& snapshot);
  void submit(std::function<void()> work);
  std::uint64_t bumpSlot(const QString& slot);
  bool slotCurrent(const QString& slot, std::uint64_t ticket) const;
  std::shared_ptr<TierCore> coreRef() const;
  // Makes `core` (built for `settings`) the current one: retires the old core,
  // its workload and alerts, then coreReady; `probed` is its first health report.
  void adopt(std::shared_ptr<TierCore> core, const ConnectionSettings& settings, const ops::HealthReport* probed);
  // The current core is new: coreReady, timers, first health (probed, or asked now), capabilities, demo load.
  void start(const ops::HealthReport* probed);
  // Link chips, healthAvailable, and connected() the first time both servers answer.
  void publishHealth(const ops::HealthReport& report);

  ConnectionSettings settings_;
  QThreadPool pool_;
  QTimer refresh_;
  QTimer health_;
  mutable std::mutex mu_;
  std::shared_ptr<TierCore> core_;                 // guarded by mu_
  std::shared_ptr<workload::Workload> workload_;   // guarded by mu_
  std::map<QString, std::uint64_t> slots_;         // guarded by mu_ (GUI thread writes)
  std::uint64_t generation_ = 0;                   // guarded by mu_: bumps on connectTo
  // Busy flags (GUI thread only), each with the generation of the job in flight.
  bool refresh_busy_ = false;
  std::uint64_t refresh_gen_ = 0;
  bool health_busy_ = false;
  std::uint64_t health_gen_ = 0;
  metrics::AlertMonitor alerts_;                   // GUI thread only
  QTimer capabilitiesTimer_;
  bool capabilities_busy_ = false;
  std::uint64_t capabilities_gen_ = 0;
  ops::Capabilities capabilities_;                 // GUI thread only
  bool links_ok_ = false;                          // GUI thread only: both links up at the last health tick
  qint64 connected_at_ms_ = 0;                     // GUI thread only
  bool announced_ = false;                         // GUI thread only: connected() sent for this core
  QString ready_servers_;                          // GUI thread only: whom the last core that was ready reached
  bool continues_ = false;                         // GUI thread only: see continuesPrevious()
  std::uint64_t attempt_ = 0;                      // GUI thread only: the newest tryConnect's id
  bool attempt_running_ = false;                   // GUI thread only
  QTimer fleet_;
  bool fleet_busy_ = false;                        // GUI thread only
  std::uint64_t fleet_gen_ = 0;
  std::uint64_t fleet_history_id_ = 0;             // GUI thread only
  std::chrono::seconds fleet_gone_after_{10};      // GUI thread only
  MetricsSource alert_source_;                     // GUI thread only
};

// ---- template implementation ----

template <typename R>
JobHandle CoreService::run(QObject* receiver, const QString& slot, std::function<R(TierCore&, JobContext&)> fn,
                           std::function<void(R)> onDone, std::function<void(ErrorKind, QString)> onError,
                           std::function<void(double, QString)> onProgress) {
  JobHandle handle;
  handle.cancel_ = std::make_shared<std::atomic<bool>>(false);
  const std::uint64_t ticket = slot.isEmpty() ? 0 : bumpSlot(slot);
  const std::uint64_t generation = currentGeneration();
  // Checked on the GUI thread only, where receivers live and die.
  QPointer<QObject> guard(receiver);
  CoreService* svc = this;  // outlives every job: ~CoreService waits for the pool
  auto deliverable = [guard, svc, slot, ticket, generation]() {
    return !guard.isNull() && svc->currentGeneration() == generation &&
           (slot.isEmpty() || svc->slotCurrent(slot, ticket));
  };
  auto core = coreRef();
  if (!core) {
    if (onError)
      QMetaObject::invokeMethod(
          svc, [=] { if (deliverable()) onError(ErrorKind::Connection, QStringLiteral("Not connected.")); },
          Qt::QueuedConnection);
    return handle;
  }
  auto cancel = handle.cancel_;
  submit([=]() {
    JobContext ctx;
    ctx.cancel_ = cancel;
    if (onProgress)
      ctx.report_ = [=](double f, QString m) {
        QMetaObject::invokeMethod(svc, [=] { if (deliverable()) onProgress(f, m); }, Qt::QueuedConnection);
      };
    try {
      auto result = std::make_shared<R>(fn(*core, ctx));
      QMetaObject::invokeMethod(
          svc, [=] { if (deliverable() && onDone) onDone(std::move(*result)); }, Qt::QueuedConnection);
    } catch (const Error& e) {
      const QString msg = QString::fromStdString(redactSecrets(e.what()));
      const ErrorKind kind = e.kind();
      QMetaObject::invokeMethod(svc, [=] { if (deliverable() && onError) onError(kind, msg); }, Qt::QueuedConnection);
    } catch (const std::exception& e) {
      const QString msg = QString::fromStdString(redactSecrets(e.what()));
      QMetaObject::invokeMethod(
          svc, [=] { if (deliverable() && onError) onError(ErrorKind::Internal, msg); }, Qt::QueuedConnection);
    }
  });
  return handle;
}

// An instance as a person names it: "journal-api · host-1 · 4242" (the id when it has no pid).
QString instanceName(const fleet::InstanceInfo& info);

// A plain sentence for an error kind, for message boxes and status lines.
QString describe(ErrorKind kind, const QString& message);

}  // namespace tier::ui

Q_DECLARE_METATYPE(tier::ui::LinkStatus)
Q_DECLARE_METATYPE(tier::ui::ConnectAttemptResult)
Q_DECLARE_METATYPE(tier::ui::StatsSnapshot)
Q_DECLARE_METATYPE(tier::ops::HealthReport)
Q_DECLARE_METATYPE(tier::metrics::AlertEvent)
Q_DECLARE_METATYPE(tier::ops::Capabilities)
Q_DECLARE_METATYPE(tier::ui::FleetSnapshot)
