#include "common/core_service.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <QDateTime>
#include <QElapsedTimer>
#include <QSettings>
#include <future>

#include "tier/common/clock.h"
#include "tier/pg/pg_pool.h"
#include "tier/redis/redis_url.h"
#include "tier/workload/threads.h"
#include "settings/profile_store.h"
#include "tier/sandbox/sandbox.h"

namespace tier::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

LinkStatus redisLink(const ops::RedisHealth& h) {
  LinkStatus s;
  if (!h.configured) {
    s.state = LinkState::Disconnected;
    s.detail = QStringLiteral("No Redis configured: reads go from L1 to PostgreSQL.");
    return s;
  }
  if (!h.ok) {
    s.state = LinkState::Down;
    s.detail = qs(h.error);
    return s;
  }
  s.version = qs(h.version);
  s.latency_ms = h.latency_ms;
  s.detail = qs(h.endpoint);
  s.state = h.pool.breaker == redis::BreakerState::Closed ? LinkState::Connected : LinkState::Degraded;
  if (s.state == LinkState::Degraded) s.detail = QStringLiteral("circuit %1: %2").arg(QLatin1String(redis::toString(h.pool.breaker)), qs(h.pool.last_error));
  return s;
}

// Every action refused with the same sentence: before the first probe answers.
ops::Capabilities pendingCapabilities(const std::string& why) {
  ops::Capabilities c;
  for (auto* cap : {&c.invalidate, &c.warm, &c.evict, &c.write_audit, &c.read_audit, &c.inspect}) *cap = {false, why};
  return c;
}

// The core's configuration for these settings. With the sandbox it starts (or
// reuses) it first, which blocks: call on a worker only.
CoreConfig coreConfigFor(const ConnectionSettings& settings) {
  CoreConfig c;
  c.profile = settings.profile.toStdString();
  c.redis_url = settings.redis_url.toStdString();
  c.pg_conninfo = settings.pg_conninfo.toStdString();
  c.pg_replica_conninfo = settings.pg_replica_conninfo.toStdString();
  if (settings.sandbox) {
    sandbox::SandboxOptions o;
    o.dir = settings.sandbox_dir.toStdString();
    sandbox::Sandbox sb(o);
    auto up = sb.up();
    c.redis_url = up.status.redis_url;
    c.pg_conninfo = up.status.pg_conninfo;
    c.profile = "sandbox";
  }
  c.thresholds = settings.thresholds;
  c.policies = settings.policies;
  c.l1.max_entries = settings.l1_max_entries;
  c.l1.max_bytes = settings.l1_max_bytes;
  c.redis.client_name = "tierconsole";
  c.pg.application_name = "tierconsole";
  c.fleet.app_name = "tierconsole";
  c.fleet.enabled = settings.metrics_publish;  // this console is one instance of the fleet it charts
  // The session sweeper (one per database, whoever holds its lock) changes
  // chat_sessions: never under a profile tagged read-only or production.
  const ProfileTags tags = profileTags(settings);
  c.session_sweeper.enabled = !tags.read_only && !tags.production;
  c.pg.pool_size = 12;
  c.redis.pool_size = 12;
  return c;
}

QString redacted(const char* what) { return QString::fromStdString(redactSecrets(what)); }

// Whose figures a core gives: the profile and its servers, passwords masked
// (a password retry reaches the same servers; the read replica serves the same data).
QString serversKey(const ConnectionSettings& s) {
  if (s.sandbox) return QStringLiteral("sandbox\n") + s.sandbox_dir;
  return QStringList{s.profile, redacted(s.redis_url.toStdString().c_str()),
                     redacted(s.pg_conninfo.toStdString().c_str())}
      .join(QLatin1Char('\n'));
}

// Malformed input, per field, before anything is built (no I/O).
void checkInput(const CoreConfig& c, ConnectAttemptResult& r) {
  if (!c.redis_url.empty()) try {
      (void)redis::RedisUrl::parse(c.redis_url);
    } catch (const Error& e) {
      r.redis_error = redacted(e.what());
    }
  try {
    pg::checkConninfo(c.pg_conninfo);
  } catch (const Error& e) {
    r.pg_error = redacted(e.what());
  }
  if (!c.pg_replica_conninfo.empty()) try {
      pg::checkConninfo(c.pg_replica_conninfo);
    } catch (const Error& e) {
      r.replica_error = redacted(e.what());
    }
}

// "Redis: …" unless the reason already names its server.
QString named(const QString& name, const QString& why) {
  return why.startsWith(name, Qt::CaseInsensitive) ? why : QStringLiteral("%1: %2").arg(name, why);
}

LinkStatus postgresLink(const ops::PostgresHealth& h) {
  LinkStatus s;
  if (!h.ok) {
    s.state = LinkState::Down;
    s.detail = qs(h.error);
    return s;
  }
  s.state = LinkState::Connected;
  s.version = qs(h.version);
  s.latency_ms = h.latency_ms;
  s.detail = qs(h.endpoint);
  return s;
}
}  // namespace

QString toText(LinkState s) {
  switch (s) {
    case LinkState::Disconnected: return QStringLiteral("not configured");
    case LinkState::Connecting: return QStringLiteral("connecting");
    case LinkState::Connected: return QStringLiteral("connected");
    case LinkState::Degraded: return QStringLiteral("degraded");
    case LinkState::Down: return QStringLiteral("down");
    case LinkState::NotConnected: return QStringLiteral("not connected");
  }
  return {};
}

QString describe(ErrorKind kind, const QString& message) {
  switch (kind) {
    case ErrorKind::Connection: return QStringLiteral("The server could not be reached: %1").arg(message);
    case ErrorKind::Timeout: return QStringLiteral("The server did not answer in time: %1").arg(message);
    case ErrorKind::Permission: return QStringLiteral("Not allowed with these credentials: %1").arg(message);
    case ErrorKind::BadInput: return QStringLiteral("That input cannot be used: %1").arg(message);
    case ErrorKind::NotFound: return QStringLiteral("Not found: %1").arg(message);
    case ErrorKind::Data:
    case ErrorKind::Internal: break;
  }
  return QStringLiteral("Something went wrong: %1").arg(message);
}

void JobContext::progress(double fraction, const QString& message) {
  if (!report_) return;
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (fraction < 1.0 && now - last_report_ms_ < 100) return;
  last_report_ms_ = now;
  report_(fraction, message);
}

CoreService::CoreService(QObject* parent) : QObject(parent) {
  qRegisterMetaType<LinkStatus>();
  qRegisterMetaType<StatsSnapshot>();
  qRegisterMetaType<ops::HealthReport>();
  qRegisterMetaType<metrics::AlertEvent>();
  qRegisterMetaType<ops::Capabilities>();
  qRegisterMetaType<ConnectAttemptResult>();
  qRegisterMetaType<FleetSnapshot>();
  capabilities_ = pendingCapabilities("Not connected.");
  capabilitiesTimer_.setInterval(60'000);
  connect(&capabilitiesTimer_, &QTimer::timeout, this, &CoreService::refreshCapabilities);
  pool_.setMaxThreadCount(6);
  refresh_.setInterval(settings_.refresh_ms);
  connect(&refresh_, &QTimer::timeout, this, &CoreService::onRefreshTick);
  health_.setInterval(5000);
  connect(&health_, &QTimer::timeout, this, &CoreService::onHealthTick);
  connect(&fleet_, &QTimer::timeout, this, &CoreService::onFleetTick);
  const int goneAfter = QSettings().value(QStringLiteral("fleet/goneAfterSeconds"), 10).toInt();
  fleet_gone_after_ = std::chrono::seconds(std::clamp(goneAfter, 1, 3600));
}

CoreService::~CoreService() {
  refresh_.stop();
  health_.stop();
  fleet_.stop();
  capabilitiesTimer_.stop();
  stopWorkload();
  pool_.waitForDone();
}

void CoreService::submit(std::function<void()> work) {
  pool_.start([work = std::move(work)] {
#ifdef __linux__
    // Background work yields to the GUI thread: the window stays responsive
    // while a scan, a warm or a burst of health checks competes for the CPU.
    thread_local bool niced = false;
    if (!niced) {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 5);
      niced = true;
    }
#endif
    work();
  });
}

std::uint64_t CoreService::bumpSlot(const QString& slot) {
  std::lock_guard lk(mu_);
  return ++slots_[slot];
}

bool CoreService::slotCurrent(const QString& slot, std::uint64_t ticket) const {
  std::lock_guard lk(mu_);
  auto it = slots_.find(slot);
  return it != slots_.end() && it->second == ticket;
}

std::shared_ptr<TierCore> CoreService::coreRef() const {
  std::lock_guard lk(mu_);
  return core_;
}

bool CoreService::hasCore() const { return coreRef() != nullptr; }

void CoreService::setThresholds(const Thresholds& t) {
  settings_.thresholds = t;
  resetAlerts();
}

void CoreService::resetAlerts() {
  // Alerts still raised end here (new limits or a new connection): say so, so
  // no list keeps showing them as ongoing.
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  for (auto e : alerts_.active()) {
    e.kind = metrics::AlertEvent::Kind::Cleared;
    e.previous = e.status;
    e.status = metrics::Status::NoData;
    e.at_ms = now;
    Q_EMIT alertEvent(e);
  }
  alerts_ = metrics::AlertMonitor{};
}

std::uint64_t CoreService::currentGeneration() const {
  std::lock_guard lk(mu_);
  return generation_;
}

void CoreService::setRefreshInterval(int ms) {
  settings_.refresh_ms = std::clamp(ms, 250, 60'000);
  refresh_.setInterval(settings_.refresh_ms);
  fleet_.setInterval(settings_.refresh_ms);
}

void CoreService::connectTo(const ConnectionSettings& settings) {
  stopWorkload();
  std::uint64_t gen;
  std::shared_ptr<TierCore> old;
  {
    std::lock_guard lk(mu_);
    old = std::move(core_);
    gen = ++generation_;
  }
  // Closing its pools and freeing L1 takes a noticeable time: never on this thread.
  if (old) submit([o = std::move(old)]() mutable { o.reset(); });
  settings_ = settings;
  resetAlerts();
  refresh_.setInterval(settings_.refresh_ms);
  links_ok_ = false;
  capabilities_ = pendingCapabilities("Checking what these credentials may do\u2026");
  Q_EMIT capabilitiesAvailable(capabilities_);
  Q_EMIT redisLinkChanged({LinkState::Connecting, {}, 0, settings.sandbox ? QStringLiteral("starting the sandbox") : QString()});
  Q_EMIT postgresLinkChanged({LinkState::Connecting, {}, 0, {}});
  Q_EMIT connecting(settings.sandbox ? QStringLiteral("Starting the sandbox…") : QStringLiteral("Connecting…"));
  submit([this, settings, gen] {
    std::shared_ptr<TierCore> core;
    QString failure;
    ConnectAttemptResult input;  // which server's input is at fault, if any
    try {
      const CoreConfig c = coreConfigFor(settings);
      checkInput(c, input);
      core = std::make_shared<TierCore>(c);
    } catch (const Error& e) {
      failure = describe(e.kind(), QString::fromStdString(redactSecrets(e.what())));
    } catch (const std::exception& e) {
      failure = QString::fromStdString(redactSecrets(e.what()));
    }
    QMetaObject::invokeMethod(
        this,
        [this, core = std::move(core), failure, input, gen, settings]() mutable {
          {
            std::lock_guard lk(mu_);
            if (gen != generation_) {  // superseded by a newer connectTo
              if (core) submit([c = std::move(core)]() mutable { c.reset(); });
              return;
            }
            core_ = core;
          }
          if (!core) {
            capabilities_ = pendingCapabilities("Not connected: " + failure.toStdString());
            Q_EMIT capabilitiesAvailable(capabilities_);
            // Only the server whose input is malformed is "down"; the other was not even tried.
            const bool blameRedis = !input.redis_error.isEmpty() || input.pg_error.isEmpty();
            const bool blamePg = !input.pg_error.isEmpty() || input.redis_error.isEmpty();
            const QString notTried = QStringLiteral("not tried: %1").arg(failure);
            Q_EMIT redisLinkChanged({blameRedis ? LinkState::Down : LinkState::NotConnected, {}, 0, blameRedis ? failure : notTried});
            Q_EMIT postgresLinkChanged({blamePg ? LinkState::Down : LinkState::NotConnected, {}, 0, blamePg ? failure : notTried});
            Q_EMIT coreFailed(failure);
            return;
          }
          start(nullptr);
        },
        Qt::QueuedConnection);
  });
}

std::uint64_t CoreService::tryConnect(const ConnectionSettings& settings) {
  const std::uint64_t id = ++attempt_;
  attempt_running_ = true;
  submit([this, settings, id] {
    ConnectAttemptResult r;
    std::shared_ptr<TierCore> core;
    auto report = std::make_shared<ops::HealthReport>();
    try {
      const CoreConfig c = coreConfigFor(settings);  // with the sandbox: starts it
      checkInput(c, r);  // malformed input is said per field, before anything is built
      if (r.redis_error.isEmpty() && r.pg_error.isEmpty() && r.replica_error.isEmpty()) {
        core = std::make_shared<TierCore>(c);
        // PING and SELECT 1 (and the rest of a health check) within the core's
        // short timeouts; a server that is down is reported, not thrown.
        *report = ops::checkHealth(*core);
        if (report->redis.configured && !report->redis.ok) r.redis_error = QString::fromStdString(report->redis.error);
        if (!report->postgres.ok) r.pg_error = QString::fromStdString(report->postgres.error);
      }
      if (!r.redis_error.isEmpty()) r.field = ConnectAttemptResult::Field::Redis;
      else if (!r.pg_error.isEmpty()) r.field = ConnectAttemptResult::Field::Postgres;
      else if (!r.replica_error.isEmpty()) r.field = ConnectAttemptResult::Field::Replica;
      QStringList why;
      if (!r.redis_error.isEmpty()) why << named(QStringLiteral("Redis"), r.redis_error);
      if (!r.pg_error.isEmpty()) why << named(QStringLiteral("PostgreSQL"), r.pg_error);
      if (!r.replica_error.isEmpty()) why << named(QStringLiteral("Read replica"), r.replica_error);
      r.ok = why.isEmpty();
      r.message = why.join(QStringLiteral("; "));
    } catch (const Error& e) {
      r.ok = false;
      r.field = settings.sandbox ? ConnectAttemptResult::Field::Sandbox : ConnectAttemptResult::Field::None;
      r.message = settings.sandbox ? QStringLiteral("The sandbox could not start: %1").arg(redacted(e.what()))
                                   : describe(e.kind(), redacted(e.what()));
    } catch (const std::exception& e) {
      r.ok = false;
      r.field = settings.sandbox ? ConnectAttemptResult::Field::Sandbox : ConnectAttemptResult::Field::None;
      r.message = redacted(e.what());
    }
    if (!r.ok) core.reset();  // freed here, on the worker
    QMetaObject::invokeMethod(
        this,
        [this, id, r, core = std::move(core), report, settings]() mutable {
          if (id != attempt_) {  // cancelled, or a newer attempt runs: drop this one
            if (core) submit([c = std::move(core)]() mutable { c.reset(); });
            return;
          }
          attempt_running_ = false;
          Q_EMIT attemptFinished(id, r);
          if (r.ok) adopt(std::move(core), settings, report.get());
        },
        Qt::QueuedConnection);
  });
  return id;
}

void CoreService::cancelAttempt() {
  ++attempt_;
  attempt_running_ = false;
}

void CoreService::adopt(std::shared_ptr<TierCore> core, const ConnectionSettings& settings,
                        const ops::HealthReport* probed) {
  stopWorkload();
  std::shared_ptr<TierCore> old;
  {
    std::lock_guard lk(mu_);
    old = std::move(core_);
    core_ = std::move(core);
    ++generation_;  // results of the old core's jobs are dropped from now on
  }
  if (old) submit([o = std::move(old)]() mutable { o.reset(); });
  settings_ = settings;
  resetAlerts();
  refresh_.setInterval(settings_.refresh_ms);
  links_ok_ = false;
  capabilities_ = pendingCapabilities("Checking what these credentials may do\u2026");
  Q_EMIT capabilitiesAvailable(capabilities_);
  Q_EMIT connecting(QStringLiteral("Switching to profile \u201c%1\u201d\u2026").arg(settings_.profile));
  start(probed);
}

void CoreService::start(const ops::HealthReport* probed) {
  connected_at_ms_ = QDateTime::currentMSecsSinceEpoch();
  announced_ = false;
  const QString servers = serversKey(settings_);
  continues_ = !ready_servers_.isEmpty() && servers == ready_servers_;
  ready_servers_ = servers;
  Q_EMIT coreReady();
  refresh_.start();
  health_.start();
  fleet_.setInterval(settings_.refresh_ms);
  fleet_.start();
  onFleetTick();
  capabilitiesTimer_.start();
  if (probed)
    publishHealth(*probed);  // the attempt's probe is the first health report
  else
    onHealthTick();
  refreshCapabilities();
  if (settings_.sandbox && settings_.start_workload) {
    // Enough traffic to make every chart move, not so much that the
    // demo saturates the machine it shares with its own servers; the
    // Operations page changes the rate live.
    workload::WorkloadOptions demo;
    demo.rate = 3000;
    demo.nice = 10;
    // As many workers as tierctl load would use here (workload/threads.h).
    if (const auto core = coreRef()) demo.threads = workload::defaultThreads(core->config()).threads;
    startWorkload(demo);
  }
}

void CoreService::onRefreshTick() {
  auto core = coreRef();
  // A job of a previous core still in flight does not hold up the new one's.
  if (!core || (refresh_busy_ && refresh_gen_ == currentGeneration())) return;
  refresh_busy_ = true;
  refresh_gen_ = currentGeneration();
  std::shared_ptr<workload::Workload> wl;
  {
    std::lock_guard lk(mu_);
    wl = workload_;
  }
  const Thresholds thresholds = settings_.thresholds;
  const std::uint64_t gen = currentGeneration();
  submit([this, core, wl, thresholds, gen] {
    StatsSnapshot s;
    s.at_ms = unixMillisNow();
    s.window = core->metrics().snapshot(std::chrono::seconds(10));
    s.thresholds = metrics::evaluate(s.window, thresholds);
    if (wl) {
      s.workload_running = wl->running();
      s.workload = wl->counters();
    }
    QMetaObject::invokeMethod(
        this,
        [this, s, gen] {
          if (gen == refresh_gen_) refresh_busy_ = false;
          if (currentGeneration() != gen) return;  // stale: the connection changed
          Q_EMIT statsAvailable(s);
          // Alerts from a full window on: the first seconds are a cold start.
          if (s.at_ms - connected_at_ms_ >= 10'000 && alert_source_.kind == MetricsSource::Kind::Console)
            for (const auto& e : alerts_.update(s.thresholds, s.at_ms)) Q_EMIT alertEvent(e, QStringLiteral("This console"));
        },
        Qt::QueuedConnection);
  });
}

void CoreService::onHealthTick() {
  auto core = coreRef();
  if (!core || (health_busy_ && health_gen_ == currentGeneration())) return;
  health_busy_ = true;
  health_gen_ = currentGeneration();
  const std::uint64_t gen = currentGeneration();
  submit([this, core, gen] {
    auto report = ops::checkHealth(*core);
    QMetaObject::invokeMethod(
        this,
        [this, report, gen] {
          if (gen == health_gen_) health_busy_ = false;
          if (currentGeneration() != gen) return;
          const bool was_ok = links_ok_;
          publishHealth(report);
          // A link that came back may be a restarted server with other ACLs: ask again.
          if (links_ok_ && !was_ok) refreshCapabilities();
        },
        Qt::QueuedConnection);
  });
}

void CoreService::publishHealth(const ops::HealthReport& report) {
  Q_EMIT redisLinkChanged(redisLink(report.redis));
  Q_EMIT postgresLinkChanged(postgresLink(report.postgres));
  Q_EMIT healthAvailable(report);
  links_ok_ = (report.redis.ok || !report.redis.configured) && report.postgres.ok;
  if (links_ok_ && !announced_) {
    announced_ = true;
    Q_EMIT connected(settings_.profile);
  }
}

void CoreService::refreshCapabilities() {
  auto core = coreRef();
  if (!core || (capabilities_busy_ && capabilities_gen_ == currentGeneration())) return;
  capabilities_busy_ = true;
  capabilities_gen_ = currentGeneration();
  const std::uint64_t gen = capabilities_gen_;
  submit([this, core, gen] {
    auto caps = ops::probeCapabilities(*core);
    QMetaObject::invokeMethod(
        this,
        [this, caps, gen] {
          if (gen == capabilities_gen_) capabilities_busy_ = false;
          if (currentGeneration() != gen) return;  // stale: the connection changed
          capabilities_ = caps;
          Q_EMIT capabilitiesAvailable(capabilities_);
        },
        Qt::QueuedConnection);
  });
}

void CoreService::startWorkload(const workload::WorkloadOptions& options) {
  auto core = coreRef();
  if (!core) return;
  stopWorkload();
  auto opts = options;
  opts.duration = std::chrono::seconds(0);  // until stopped
  submit([this, core, opts] {
    // The deleter keeps the core alive for as long as the workload that uses it.
    std::shared_ptr<workload::Workload> wl(new workload::Workload(*core, opts),
                                           [core](workload::Workload* w) { delete w; });
    QString failure;
    try {
      wl->start();
    } catch (const std::exception& e) {
      failure = QString::fromStdString(redactSecrets(e.what()));
      wl.reset();
    }
    const TierCore* raw = core.get();
    QMetaObject::invokeMethod(
        this,
        [this, wl = std::move(wl), raw, failure]() mutable {
          if (!wl) {
            Q_EMIT coreFailed(QStringLiteral("The workload could not start: %1").arg(failure));
            return;
          }
          std::shared_ptr<workload::Workload> old;
          {
            std::lock_guard lk(mu_);
            if (core_.get() != raw) {
              old = std::move(wl);  // connection changed meanwhile: discard
            } else {
              old = std::move(workload_);
              workload_ = std::move(wl);
            }
          }
          // Stopping joins threads and may free the core: on a worker.
          if (old) submit([o = std::move(old)]() mutable {
            o->stop();
            o.reset();
          });
          Q_EMIT workloadStateChanged(workloadRunning());
        },
        Qt::QueuedConnection);
  });
}

void CoreService::stopWorkload() {
  std::shared_ptr<workload::Workload> old;
  {
    std::lock_guard lk(mu_);
    old = std::move(workload_);
  }
  if (!old) return;
  // Stopping joins worker threads that may be in a network call: not on the GUI thread.
  submit([o = std::move(old)]() mutable {
    o->stop();
    o.reset();
  });
  Q_EMIT workloadStateChanged(false);
}

void CoreService::setWorkloadRate(double opsPerSecond) {
  std::lock_guard lk(mu_);
  if (workload_) workload_->setRate(opsPerSecond);
}

void CoreService::setWorkloadUsers(int users) {
  std::lock_guard lk(mu_);
  if (workload_) workload_->setVirtualUsers(users);
}

std::optional<workload::WorkloadOptions> CoreService::workloadOptions() const {
  std::lock_guard lk(mu_);
  if (!workload_) return std::nullopt;
  return workload_->options();
}

bool CoreService::workloadRunning() const {
  std::lock_guard lk(mu_);
  return workload_ && workload_->running();
}

}  // namespace tier::ui

// ---- fleet telemetry (issue 14) ----

namespace tier::ui {

QString instanceName(const fleet::InstanceInfo& info) {
  const QString app = info.app.empty() ? QStringLiteral("(no name)") : QString::fromStdString(info.app);
  const QString where = info.pid > 0 ? QString::number(info.pid) : QString::fromStdString(info.id);
  return info.host.empty() ? QStringLiteral("%1 · %2").arg(app, where)
                           : QStringLiteral("%1 · %2 · %3").arg(app, QString::fromStdString(info.host), where);
}

namespace {
std::string selfId(const TierCore& core) {
  const auto* p = core.publisher();
  return p ? p->stats().instance_id : std::string();
}

double elapsedMs(const QElapsedTimer& t) { return double(t.nsecsElapsed()) / 1e6; }
}  // namespace

void CoreService::setFleetGoneAfter(std::chrono::seconds after) {
  fleet_gone_after_ = std::clamp(after, std::chrono::seconds(1), std::chrono::seconds(3600));
}

void CoreService::setAlertSource(const MetricsSource& source) {
  if (source == alert_source_) return;
  resetAlerts();  // the raised alerts were another source's
  alert_source_ = source;
}

void CoreService::onFleetTick() {
  auto core = coreRef();
  if (!core || (fleet_busy_ && fleet_gen_ == currentGeneration())) return;
  fleet_busy_ = true;
  fleet_gen_ = currentGeneration();
  const std::uint64_t gen = fleet_gen_;
  fleet::ReadOptions o;
  o.window = std::chrono::seconds(10);  // the console's own 10 s sliding window
  o.gone_after = fleet_gone_after_;
  submit([this, core, gen, o] {
    FleetSnapshot s;
    s.at_ms = unixMillisNow();
    s.self_id = selfId(*core);
    QElapsedTimer t;
    t.start();
    try {
      if (!core->hasRedis()) throw NotFoundError("no Redis is configured: nothing publishes to read back");
      s.view = fleet::readFleet(core->redis(), o, s.at_ms);
    } catch (const std::exception& e) {
      s.error = QString::fromStdString(redactSecrets(e.what()));
    }
    s.read_ms = elapsedMs(t);
    QMetaObject::invokeMethod(
        this,
        [this, s = std::move(s), gen] {
          if (gen == fleet_gen_) fleet_busy_ = false;
          if (currentGeneration() != gen) return;  // stale: the connection changed
          Q_EMIT fleetAvailable(s);
          fleetAlerts(s);
        },
        Qt::QueuedConnection);
  });
}

void CoreService::fleetAlerts(const FleetSnapshot& s) {
  if (alert_source_.kind == MetricsSource::Kind::Console || !s.error.isEmpty()) return;
  const metrics::Snapshot* window = nullptr;
  std::vector<const fleet::InstanceView*> members;  // whose own figures may have broken the limit
  for (const auto& inst : s.view.instances) {
    if (inst.gone) continue;
    if (alert_source_.kind == MetricsSource::Kind::Fleet) {
      members.push_back(&inst);
    } else if (inst.info.id == alert_source_.instance_id) {
      members.push_back(&inst);
      window = &inst.snapshot;
    }
  }
  if (alert_source_.kind == MetricsSource::Kind::Fleet) window = &s.view.snapshot;
  const auto results = window ? metrics::evaluate(*window, settings_.thresholds) : std::vector<metrics::ThresholdResult>{};
  for (const auto& e : alerts_.update(results, s.at_ms)) {
    QStringList names;
    for (const auto* inst : members) {
      if (inst->sample_count == 0) continue;
      for (const auto& r : metrics::evaluate(inst->snapshot, settings_.thresholds))
        if (r.name == e.name && r.status == metrics::Status::Violation) names << instanceName(inst->info);
    }
    QString source;
    if (alert_source_.kind == MetricsSource::Kind::Instance)
      source = names.isEmpty() && !members.empty() ? instanceName(members.front()->info) : names.join(QStringLiteral(", "));
    else
      source = names.isEmpty() ? QStringLiteral("Fleet (aggregate; no single instance over the limit)")
                               : QStringLiteral("Fleet: %1").arg(names.join(QStringLiteral(", ")));
    Q_EMIT alertEvent(e, source);
  }
}

namespace {
constexpr std::int64_t kSlotMs = 10'000;  // a :hist point
// Slot (t / 10 s) -> (the newest sample end in it, the samples merged).
using Slots = std::map<std::int64_t, std::pair<std::int64_t, fleet::Sample>>;

void addToSlot(Slots& slots, const fleet::Sample& sample) {
  auto [it, fresh] = slots.try_emplace(sample.t_ms / kSlotMs, sample.t_ms, sample);
  if (fresh) return;
  it->second.first = std::max(it->second.first, sample.t_ms);
  it->second.second.combine(sample);  // publishers' clocks are not aligned to slots: one point per slot
}

// The :hist entries of `ids` ending in (now - window, now], decoded straight
// into their 10 s slots (never held per instance: a sample is ~14 KB). As
// untrusted as readFleet's input: a malformed entry is counted and skipped.
Slots readHistorySlots(const redis::RedisReadView& redis, const std::vector<std::string>& ids,
                       std::int64_t windowMs, std::int64_t nowMs, std::size_t& malformed) {
  Slots slots;
  if (ids.empty()) return slots;
  const std::string count = std::to_string(windowMs / kSlotMs + 2);
  std::vector<redis::Command> cmds;
  for (const auto& id : ids) cmds.push_back({"XREVRANGE", fleet::historyKey(id), "+", "-", "COUNT", count});
  const auto replies = redis.pipeline(cmds);
  std::vector<std::pair<std::string, std::string>> fields;
  std::string why;
  for (const auto& reply : replies) {
    if (reply.type != redis::Reply::Type::Array) {
      if (!reply.isNil()) ++malformed;  // a key of another type
      continue;
    }
    for (const auto& e : reply.elements) {
      if (e.type != redis::Reply::Type::Array || e.elements.size() != 2 ||
          e.elements[1].type != redis::Reply::Type::Array || e.elements[1].elements.size() % 2 != 0) {
        ++malformed;
        continue;
      }
      const auto& fv = e.elements[1].elements;
      fields.clear();
      bool shape = true;
      for (std::size_t k = 0; k + 1 < fv.size() && shape; k += 2) {
        shape = (fv[k].type == redis::Reply::Type::String || fv[k].type == redis::Reply::Type::Status) &&
                (fv[k + 1].type == redis::Reply::Type::String || fv[k + 1].type == redis::Reply::Type::Status);
        if (shape) fields.emplace_back(fv[k].str, fv[k + 1].str);
      }
      auto sample = shape ? fleet::decodeSample(fields, &why) : std::nullopt;
      if (!sample) {
        ++malformed;
        continue;
      }
      if (sample->t_ms <= nowMs - windowMs || sample->t_ms > nowMs + 60'000) continue;  // outside the window
      addToSlot(slots, *sample);
    }
  }
  return slots;
}
}  // namespace

std::uint64_t CoreService::requestFleetHistory(const MetricsSource& source, std::chrono::seconds window) {
  const std::uint64_t id = ++fleet_history_id_;
  auto core = coreRef();
  if (!core) return id;
  const std::uint64_t gen = currentGeneration();
  fleet::ReadOptions o;  // who publishes: readFleet's live read (validated info, figures)
  o.window = std::chrono::seconds(10);
  o.gone_after = fleet_gone_after_;
  const std::int64_t windowMs = std::chrono::duration_cast<std::chrono::milliseconds>(window).count();
  submit([this, core, gen, o, id, source, windowMs] {
    FleetSnapshot s;
    s.request = id;
    s.source = source;
    s.at_ms = unixMillisNow();
    s.self_id = selfId(*core);
    QElapsedTimer t;
    t.start();
    Slots slots;
    try {
      if (!core->hasRedis()) throw NotFoundError("no Redis is configured: no history to read back");
      s.view = fleet::readFleet(core->redis(), o, s.at_ms);
      std::vector<std::string> ids;
      for (const auto& inst : s.view.instances)
        if (source.kind == MetricsSource::Kind::Fleet ||
            (source.kind == MetricsSource::Kind::Instance && inst.info.id == source.instance_id) ||
            (source.kind == MetricsSource::Kind::Console && inst.info.id == s.self_id))
          ids.push_back(inst.info.id);
      // An hour of a fleet is megabytes to parse and decode: two halves at once, one connection each.
      const std::size_t half = ids.size() >= 4 ? ids.size() / 2 : 0;
      std::size_t malformedA = 0, malformedB = 0;
      auto other = std::async(std::launch::async, [&] {
#ifdef __linux__
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 5);  // as the pool's workers
#endif
        return readHistorySlots(core->redis(), {ids.begin(), ids.begin() + std::ptrdiff_t(half)}, windowMs, s.at_ms,
                                malformedA);
      });
      slots = readHistorySlots(core->redis(), {ids.begin() + std::ptrdiff_t(half), ids.end()}, windowMs, s.at_ms,
                               malformedB);
      for (auto& [slot, point] : other.get()) addToSlot(slots, point.second);
      s.view.malformed += malformedA + malformedB;
    } catch (const std::exception& e) {
      s.error = QString::fromStdString(redactSecrets(e.what()));
    }
    s.read_ms = elapsedMs(t);
    t.restart();
    s.points.reserve(slots.size());
    // Each point at its newest sample's end: never later than the data (the live points follow it).
    for (auto& [slot, point] : slots) s.points.push_back(point.second.toSnapshot(std::chrono::seconds(10), point.first));
    s.merge_ms = elapsedMs(t);
    QMetaObject::invokeMethod(
        this,
        [this, s = std::move(s), gen] {
          if (currentGeneration() != gen) return;  // stale: the connection changed
          Q_EMIT fleetHistoryAvailable(s);
        },
        Qt::QueuedConnection);
  });
  return id;
}

}  // namespace tier::ui
