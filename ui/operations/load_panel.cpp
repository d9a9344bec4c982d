#include "operations/load_panel.h"

#include <QAction>
#include <QCheckBox>
#include <QDateTime>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

#include <cmath>

#include "common/capability_gate.h"
#include "operations/action_button.h"
#include "operations/confirm_invalidate_dialog.h"
#include "operations/operations_models.h"
#include "settings/profile_store.h"
#include "tier/workload/threads.h"

namespace tier::ui {

namespace {

QLabel* counter(QWidget* parent, const QString& name) {
  auto* l = new QLabel(QStringLiteral("—"), parent);
  l->setObjectName(name);
  l->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return l;
}

// The same rule as tierctl load (workload/threads.h); the sandbox's servers always run on this host.
workload::ThreadChoice loadThreads(const ConnectionSettings& s) {
  return workload::defaultThreads(workload::usableCpus(),
                                  s.sandbox || workload::redisOnThisHost(s.redis_url.toStdString()),
                                  s.sandbox || workload::postgresOnThisHost(s.pg_conninfo.toStdString()));
}

// key=value pairs of a libpq conninfo; values may be single-quoted with \ escapes.
QMap<QString, QString> conninfoPairs(const QString& s) {
  QMap<QString, QString> out;
  int i = 0;
  const int n = static_cast<int>(s.size());
  while (i < n) {
    while (i < n && s[i].isSpace()) ++i;
    int k = i;
    while (i < n && s[i] != QLatin1Char('=') && !s[i].isSpace()) ++i;
    const QString key = s.mid(k, i - k);
    while (i < n && s[i].isSpace()) ++i;
    if (i >= n || s[i] != QLatin1Char('=')) break;
    ++i;
    while (i < n && s[i].isSpace()) ++i;
    QString value;
    if (i < n && s[i] == QLatin1Char('\'')) {
      for (++i; i < n && s[i] != QLatin1Char('\''); ++i) {
        if (s[i] == QLatin1Char('\\') && i + 1 < n) ++i;
        value += s[i];
      }
      ++i;
    } else {
      while (i < n && !s[i].isSpace()) value += s[i++];
    }
    if (!key.isEmpty()) out.insert(key, value);
  }
  return out;
}

QString allowWritesHelp() {
  return QStringLiteral("Off: on a database that is not the sandbox the load only reads. On: it asks first, then writes "
                        "only to users, entries and sessions it creates itself and removes when it stops. The sandbox "
                        "is written either way.");
}

}  // namespace

QString databaseLabel(const QString& conninfo) {
  QString host, port, db;
  const QString c = conninfo.trimmed();
  if (c.startsWith(QLatin1String("postgres://")) || c.startsWith(QLatin1String("postgresql://"))) {
    const QUrl u(c);
    host = u.host();
    if (u.port() > 0) port = QString::number(u.port());
    db = u.path().mid(1);
  } else {
    const auto kv = conninfoPairs(c);
    host = kv.value(QStringLiteral("host"), kv.value(QStringLiteral("hostaddr")));
    port = kv.value(QStringLiteral("port"));
    db = kv.value(QStringLiteral("dbname"));
  }
  if (host.isEmpty()) host = QStringLiteral("(default host)");
  if (host.startsWith(QLatin1Char('/'))) host = QStringLiteral("socket %1").arg(host);
  if (db.isEmpty()) db = QStringLiteral("(default database)");
  return host + (port.isEmpty() ? QString() : QLatin1Char(':') + port) + QLatin1Char('/') + db;
}

LoadPanel::LoadPanel(CoreService* service, QWidget* parent)
    : QGroupBox(QStringLiteral("Synthetic load"), parent), service_(service) {
  setObjectName(QStringLiteral("loadPanel"));
  toggleAction_ = new QAction(QStringLiteral("Start &load"), this);
  toggleAction_->setObjectName(QStringLiteral("loadAction"));
  toggleAction_->setShortcut(QKeySequence(QStringLiteral("Ctrl+L")));
  connect(toggleAction_, &QAction::triggered, this, &LoadPanel::onToggleTriggered);

  const workload::WorkloadOptions defaults;
  users_ = new QSpinBox(this);
  users_->setObjectName(QStringLiteral("virtualUsers"));
  users_->setRange(0, 1'000'000);
  users_->setValue(defaults.virtual_users);
  users_->setGroupSeparatorShown(true);
  users_->setKeyboardTracking(false);  // apply 1500, not 1, 15, 150, 1500
  users_->setToolTip(QStringLiteral("Virtual users; applied at once while the load runs (0 pauses every worker)."));
  rate_ = new QSpinBox(this);
  rate_->setObjectName(QStringLiteral("rate"));
  rate_->setRange(0, 10'000'000);
  rate_->setSingleStep(100);
  rate_->setValue(static_cast<int>(defaults.rate));
  rate_->setSuffix(QStringLiteral(" ops/s"));
  rate_->setSpecialValueText(QStringLiteral("unlimited"));
  rate_->setGroupSeparatorShown(true);
  rate_->setKeyboardTracking(false);
  rate_->setToolTip(QStringLiteral("Target operations per second over all users; applied at once while the load runs."));
  connect(users_, &QSpinBox::valueChanged, this, [this](int n) {
    if (running_) service_->setWorkloadUsers(n);
  });
  connect(rate_, &QSpinBox::valueChanged, this, [this](int r) {
    if (running_) service_->setWorkloadRate(r);
  });

  allowWrites_ = new QCheckBox(QStringLiteral("Allow &writes (synthetic rows only)"), this);
  allowWrites_->setObjectName(QStringLiteral("allowWrites"));
  allowWrites_->setToolTip(allowWritesHelp());
  writeMode_ = new QLabel(QStringLiteral("Write share: decided at start (read-only unless this is the sandbox)"), this);
  writeMode_->setObjectName(QStringLiteral("writeMode"));
  writeMode_->setWordWrap(true);
  writeMode_->setTextFormat(Qt::PlainText);
  writeMode_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* controls = new QFormLayout;
  controls->addRow(QStringLiteral("&Virtual users:"), users_);
  controls->addRow(QStringLiteral("&Rate:"), rate_);
  controls->addRow(QString(), allowWrites_);

  toggleButton_ = new QPushButton(this);
  toggleButton_->setObjectName(QStringLiteral("loadButton"));
  toggleButton_->setMinimumWidth(110);
  bindButton(toggleButton_, toggleAction_);
  stateDot_ = new QLabel(this);
  stateDot_->setObjectName(QStringLiteral("loadStateDot"));
  state_ = new QLabel(this);
  state_->setObjectName(QStringLiteral("loadState"));
  auto* stateRow = new QHBoxLayout;
  stateRow->addWidget(toggleButton_);
  stateRow->addSpacing(6);
  stateRow->addWidget(stateDot_);
  stateRow->addWidget(state_, 1);

  opsPerSecond_ = counter(this, QStringLiteral("opsPerSecond"));
  QFont big = opsPerSecond_->font();
  big.setPointSizeF(big.pointSizeF() * 1.6);
  big.setBold(true);
  opsPerSecond_->setFont(big);
  operations_ = counter(this, QStringLiteral("operations"));
  reads_ = counter(this, QStringLiteral("reads"));
  writes_ = counter(this, QStringLiteral("writes"));
  failedReads_ = counter(this, QStringLiteral("failedReads"));
  staleReads_ = counter(this, QStringLiteral("staleReads"));
  errors_ = counter(this, QStringLiteral("errors"));
  elapsed_ = counter(this, QStringLiteral("elapsed"));
  threads_ = counter(this, QStringLiteral("loadThreads"));
  failedReads_->setToolTip(QStringLiteral("Reads that threw (every tier failed)."));
  staleReads_->setToolTip(
      QStringLiteral("Reads that returned an older version than a write this process had already acknowledged."));

  auto* grid = new QGridLayout;
  grid->setHorizontalSpacing(14);
  auto add = [&](int row, int col, const QString& label, QLabel* value) {
    auto* l = new QLabel(label, this);
    grid->addWidget(l, row, col * 2);
    grid->addWidget(value, row, col * 2 + 1);
  };
  auto* opsCaption = new QLabel(QStringLiteral("Operations/s"), this);
  grid->addWidget(opsCaption, 0, 0);
  grid->addWidget(opsPerSecond_, 0, 1, 1, 3);
  add(1, 0, QStringLiteral("Reads"), reads_);
  add(1, 1, QStringLiteral("Writes"), writes_);
  add(2, 0, QStringLiteral("Failed reads"), failedReads_);
  add(2, 1, QStringLiteral("Stale reads"), staleReads_);
  add(3, 0, QStringLiteral("Operations"), operations_);
  add(3, 1, QStringLiteral("Errors"), errors_);
  add(4, 0, QStringLiteral("Running for"), elapsed_);
  add(4, 1, QStringLiteral("Threads"), threads_);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);

  lastError_ = new QLabel(this);
  lastError_->setObjectName(QStringLiteral("loadLastError"));
  lastError_->setWordWrap(true);
  lastError_->setTextFormat(Qt::PlainText);
  lastError_->setVisible(false);
  connectionNote_ = new QLabel(this);
  connectionNote_->setObjectName(QStringLiteral("loadConnectionNote"));
  connectionNote_->setWordWrap(true);
  connectionNote_->setTextFormat(Qt::PlainText);
  connectionNote_->setVisible(false);
  {
    QPalette p = connectionNote_->palette();
    p.setColor(QPalette::WindowText, statusAmber());
    connectionNote_->setPalette(p);
  }

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addLayout(stateRow);
  layout->addWidget(writeMode_);
  layout->addSpacing(6);
  layout->addLayout(grid);
  layout->addWidget(lastError_);
  layout->addWidget(connectionNote_);
  layout->addStretch(1);

  connect(service_, &CoreService::statsAvailable, this, &LoadPanel::onStatsAvailable);
  connect(service_, &CoreService::workloadStateChanged, this, &LoadPanel::onWorkloadStateChanged);
  connect(service_, &CoreService::coreFailed, this, &LoadPanel::onCoreFailed);
  connect(service_, &CoreService::connected, this, [this] { updateState(); });  // another profile, other tags
  // Both connectTo and a successful tryConnect stop the load (workloadStateChanged(false)) and then say connecting.
  connect(service_, &CoreService::connecting, this, &LoadPanel::onConnecting);
  connect(service_, &CoreService::coreReady, this, [this] { profile_ = service_->settings().profile; });
  if (service_->hasCore()) profile_ = service_->settings().profile;
  running_ = service_->workloadRunning();
  updateState();
}

int LoadPanel::virtualUsers() const { return users_->value(); }
double LoadPanel::rate() const { return rate_->value(); }
bool LoadPanel::writesRequested() const { return allowWrites_->isChecked(); }
QString LoadPanel::writeModeText() const { return writeMode_->text(); }
QString LoadPanel::connectionNoteText() const {
  return connectionNote_->isHidden() ? QString() : connectionNote_->text();
}

void LoadPanel::onConnecting() {
  const QString at = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss"));
  const QString from = profile_.isEmpty() ? QString() : QStringLiteral(" (profile \u2018%1\u2019)").arg(profile_);
  QString text;
  stopNote_.clear();
  if (stoppedUnasked_) {
    stopNote_ = QStringLiteral(
                    "The synthetic load of the previous connection%1 was stopped at %2 because the console "
                    "switched connection; it does not carry over.")
                    .arg(from, at);
    text = stopNote_ + QStringLiteral(" The counters below are from that connection.");
  } else if (countersShown_) {
    text = QStringLiteral("The counters below are from the previous connection%1.").arg(from);
  }
  stoppedUnasked_ = false;
  starting_ = false;  // a start in flight belonged to the old core
  if (!text.isEmpty()) {
    connectionNote_->setText(text);
    connectionNote_->setVisible(true);
    opsPerSecond_->setText(QStringLiteral("\u2014"));
  }
  updateState();
}

void LoadPanel::onToggleTriggered() {
  if (starting_) return;
  if (running_) {
    stopRequested_ = true;
    service_->stopWorkload();  // emits workloadStateChanged(false)
    return;
  }
  if (!service_->hasCore()) {
    lastError_->setText(QStringLiteral("Not connected: the load starts once the servers are reachable."));
    lastError_->setVisible(true);
    return;
  }
  workload::WorkloadOptions o;
  o.virtual_users = users_->value();
  o.rate = rate_->value();
  o.nice = 10;  // the load must never starve the window that charts it
  o.threads = loadThreads(service_->settings()).threads;
  const ProfileTags tags = profileTags(service_->settings());
  if (allowWrites_->isChecked()) {
    if (tags.read_only) {
      lastError_->setText(QStringLiteral("Not started: profile \u2018%1\u2019 is marked read-only, so the load may not "
                                         "write. Clear \u201cAllow writes\u201d for a read-only load.")
                              .arg(tags.profile));
      lastError_->setVisible(true);
      updateState();  // greys the choice out
      return;
    }
    o.allow_writes = true;
  }
  if (o.allow_writes || tags.production) return askWriteConfirmation(o);
  startLoad(o);
}

void LoadPanel::askWriteConfirmation(const workload::WorkloadOptions& options) {
  const ConnectionSettings& settings = service_->settings();
  const ProfileTags tags = profileTags(settings);
  const QString database = settings.sandbox ? QStringLiteral("the sandbox") : databaseLabel(settings.pg_conninfo);
  if (!options.allow_writes) {
    // A production profile: even a read-only load adds its traffic to the servers people use.
    const QString question = QStringLiteral("Start a read-only load on production profile \u2018%1\u2019, database %2?")
                                 .arg(settings.profile, database);
    const QString detail =
        QStringLiteral("%1 virtual users read entries, sessions, knowledge, analytics and search results; no row "
                       "changes (off the sandbox the load only reads). Their traffic adds to the production servers' "
                       "load. The run is recorded in the audit log.")
            .arg(formatCount(options.virtual_users));
    auto* dialog = new ConfirmInvalidateDialog(question, detail, QStringLiteral("&Start read-only load"), QString(), this);
    dialog->setObjectName(QStringLiteral("confirmLoadDialog"));
    dialog->setWindowTitle(QStringLiteral("Confirm a load on production"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, options] {
      if (!running_ && !starting_) startLoad(options);
    });
    connect(dialog, &QDialog::rejected, this, [this] {
      lastError_->setText(QStringLiteral("Not started: the load on production was not confirmed."));
      lastError_->setVisible(true);
    });
    dialog->open();
    Q_EMIT writeConfirmationRequested(dialog);
    return;
  }
  const QString question = QStringLiteral("Start a load that writes, on profile \u2018%1\u2019, database %2?")
                               .arg(settings.profile, database);
  QString detail = QStringLiteral(
      "%1 virtual users. On a database that is not the sandbox it writes only to synthetic rows it creates itself "
      "(users load-<run>-N@synthetic.invalid with their entries and sessions) and removes them when it stops; "
      "every other row is only read. On the sandbox it edits and appends to any row. The run is recorded in the "
      "audit log.")
                       .arg(formatCount(options.virtual_users));
  QString typed;
  if (tags.production) {
    detail += QStringLiteral(" This is the production profile \u2018%1\u2019, so please type its name to confirm.")
                  .arg(tags.profile);
    typed = tags.profile;
  }
  auto* dialog = new ConfirmInvalidateDialog(question, detail, QStringLiteral("&Start writing load"), typed, this);
  dialog->setObjectName(QStringLiteral("confirmWritingLoadDialog"));
  dialog->setWindowTitle(QStringLiteral("Confirm a writing load"));
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, options] {
    if (!running_ && !starting_) startLoad(options);
  });
  connect(dialog, &QDialog::rejected, this, [this] {
    lastError_->setText(QStringLiteral("Not started: the writing load was not confirmed."));
    lastError_->setVisible(true);
  });
  dialog->open();
  Q_EMIT writeConfirmationRequested(dialog);
}

void LoadPanel::startLoad(const workload::WorkloadOptions& o) {
  starting_ = true;
  prevAtMs_ = 0;
  lastError_->setVisible(false);
  connectionNote_->setVisible(false);
  service_->startWorkload(o);
  updateState();
}

void LoadPanel::onWorkloadStateChanged(bool running) {
  const bool startedHere = starting_;
  starting_ = false;
  if (running_ && !running && !stopRequested_) {
    // A switch stops the load and says connecting in the same call; anything later is another cause.
    stoppedUnasked_ = true;
    QTimer::singleShot(0, this, [this] { stoppedUnasked_ = false; });
  }
  if (!running) stopRequested_ = false;
  running_ = running;
  if (running && startedHere) {
    // Values typed while it was starting apply now.
    service_->setWorkloadUsers(users_->value());
    service_->setWorkloadRate(rate_->value());
  } else if (running) {
    // Started elsewhere (the sandbox's demo load): show what it runs with.
    if (const auto o = service_->workloadOptions()) {
      const QSignalBlocker blockUsers(users_);
      const QSignalBlocker blockRate(rate_);
      users_->setValue(o->virtual_users);
      rate_->setValue(static_cast<int>(o->rate));
    }
  }
  if (running) showThreads();
  updateState();
  Q_EMIT stateShown(running_);
}

void LoadPanel::showThreads() {
  const auto o = service_->workloadOptions();
  if (!o) return;
  const workload::ThreadChoice rule = loadThreads(service_->settings());
  threads_->setText(QString::number(o->threads));
  threads_->setToolTip(o->threads == rule.threads
                           ? QStringLiteral("Worker threads the virtual users take turns on; %1.").arg(QString::fromStdString(rule.reason))
                           : QStringLiteral("Worker threads the virtual users take turns on, as set by whatever started "
                                            "this load (the default here: %1).")
                                 .arg(QString::fromStdString(rule.reason)));
}

QString LoadPanel::threadsText() const { return threads_->text(); }
QString LoadPanel::threadsReason() const { return threads_->toolTip(); }

void LoadPanel::onCoreFailed(const QString& message) {
  if (!starting_) return;
  starting_ = false;
  lastError_->setText(message);
  lastError_->setVisible(true);
  updateState();
}

void LoadPanel::updateState() {
  QColor dot;
  if (starting_) {
    state_->setText(QStringLiteral("Starting… (loading the id spaces)"));
    dot = statusAmber();
    toggleAction_->setText(QStringLiteral("Starting…"));
    toggleAction_->setEnabled(false);
  } else if (running_) {
    state_->setText(QStringLiteral("Running"));
    dot = statusGreen();
    toggleAction_->setText(QStringLiteral("Stop &load"));
    toggleAction_->setEnabled(true);
  } else {
    state_->setText(QStringLiteral("Stopped"));
    dot = palette().color(QPalette::Disabled, QPalette::WindowText);
    toggleAction_->setText(QStringLiteral("Start &load"));
    toggleAction_->setEnabled(true);
  }
  toggleAction_->setToolTip(withShortcut(running_ ? QStringLiteral("Stop the synthetic workload")
                                                  : QStringLiteral("Start the synthetic workload with these settings"),
                                         toggleAction_->shortcut()));
  // A read-only profile greys out the writing load, with the reason.
  const QString refused = readOnlyReason(profileTags(service_->settings()));
  allowWrites_->setEnabled(refused.isEmpty());
  if (!refused.isEmpty()) allowWrites_->setChecked(false);
  allowWrites_->setToolTip(refused.isEmpty() ? allowWritesHelp() : allowWritesHelp() + QStringLiteral("\nNot allowed: ") + refused);
  toggleButton_->setText(toggleAction_->text());
  toggleButton_->setToolTip(toggleAction_->toolTip());
  stateDot_->setText(QStringLiteral("<span style=\"color:%1; font-size:large\">●</span>").arg(dot.name()));
}

void LoadPanel::onStatsAvailable(const tier::ui::StatsSnapshot& s) {
  if (s.workload_running != running_ && !starting_) {
    running_ = s.workload_running;
    updateState();
  }
  if (!s.workload_running) {
    prevAtMs_ = 0;
    opsPerSecond_->setText(QStringLiteral("—"));
    return;  // keep the last run's counters on screen
  }
  const auto& w = s.workload;
  showWriteMode(w);
  if (prevAtMs_ > 0 && s.at_ms > prevAtMs_ && w.operations >= prevOperations_) {
    const double perSecond = static_cast<double>(w.operations - prevOperations_) * 1000.0 / static_cast<double>(s.at_ms - prevAtMs_);
    opsPerSecond_->setText(formatCount(std::llround(perSecond)));
  }
  prevAtMs_ = s.at_ms;
  prevOperations_ = w.operations;
  countersShown_ = true;
  if (!connectionNote_->isHidden()) {
    // New figures: the counters are this connection's now; the stop itself stays said.
    connectionNote_->setText(stopNote_);
    connectionNote_->setVisible(!stopNote_.isEmpty());
  }
  operations_->setText(formatCount(static_cast<long long>(w.operations)));
  reads_->setText(formatCount(static_cast<long long>(w.reads)));
  writes_->setText(formatCount(static_cast<long long>(w.writes)));
  failedReads_->setText(formatCount(static_cast<long long>(w.failed_reads)));
  staleReads_->setText(formatCount(static_cast<long long>(w.stale_reads)));
  errors_->setText(formatCount(static_cast<long long>(w.errors)));
  elapsed_->setText(formatDuration(w.elapsed_s * 1000.0));
  auto colourIf = [this](QLabel* l, bool bad) {
    QPalette p = palette();
    if (bad) p.setColor(QPalette::WindowText, statusRed());
    l->setPalette(p);
  };
  colourIf(failedReads_, w.failed_reads > 0);
  colourIf(staleReads_, w.stale_reads > 0);
  colourIf(errors_, w.errors > 0);
  lastError_->setVisible(!w.last_error.empty());
  if (!w.last_error.empty()) lastError_->setText(QStringLiteral("Last error: %1").arg(QString::fromStdString(redactSecrets(w.last_error))));
}

void LoadPanel::showWriteMode(const workload::WorkloadCounters& c) {
  if (c.write_mode_reason.empty()) return;  // not decided yet
  const QString text = QStringLiteral("Write share %1 % \u2014 %2")
                           .arg(QString::number(c.write_share * 100.0, 'f', c.write_share > 0 && c.write_share < 0.1 ? 1 : 0),
                                QString::fromStdString(c.write_mode_reason));
  if (writeMode_->text() != text) writeMode_->setText(text);
  writeMode_->setToolTip(QString::fromStdString(redactSecrets(c.write_mode_detail)));
}

}  // namespace tier::ui
