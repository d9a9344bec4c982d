#include "settings/connection_dialog.h"

#include <QApplication>

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QIcon>
#include <QPixmap>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>

#include "settings/credentials.h"
#include "settings/profile_store.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"
#include "tier/redis/redis_url.h"

namespace tier::ui {

namespace {
QLabel* note(const QString& text, QWidget* parent) {
  auto* l = new QLabel(text, parent);
  l->setWordWrap(true);
  l->setForegroundRole(QPalette::PlaceholderText);
  return l;
}

// Said beside a field, under it: hidden while there is nothing to say.
QLabel* errorLabel(const QString& name, QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setObjectName(name);
  l->setWordWrap(true);
  l->setTextFormat(Qt::PlainText);
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  l->setStyleSheet(QStringLiteral("color:#c53030;"));
  l->hide();
  return l;
}

QLineEdit* passwordField(QWidget* parent, const QString& tip) {
  auto* e = new QLineEdit(parent);
  e->setEchoMode(QLineEdit::Password);
  e->setClearButtonEnabled(true);
  e->setToolTip(tip);
  return e;
}
}  // namespace

ConnectionDialog::ConnectionDialog(CoreService* service, QWidget* parent)
    // Parented to the application: a password write may still be in flight
    // when the dialog closes and is deleted.
    : QDialog(parent), service_(service), keychain_(new KeychainStore(qApp)) {
  setWindowTitle(QStringLiteral("Connect"));
  setObjectName(QStringLiteral("connectionDialog"));
  setMinimumWidth(620);

  profile_ = new QComboBox(this);
  profile_->setObjectName(QStringLiteral("profileCombo"));
  profile_->setEditable(true);
  profile_->setToolTip(QStringLiteral("A saved profile, or type a new name to create one."));
  ProfileStore store;
  profile_->addItems(store.profileNames());

  redisUrl_ = new QLineEdit(this);
  redisUrl_->setObjectName(QStringLiteral("redisUrl"));
  redisUrl_->setClearButtonEnabled(true);
  const QString envRedis = qEnvironmentVariable("TIER_REDIS_URL");
  redisUrl_->setPlaceholderText(envRedis.isEmpty() ? QStringLiteral("redis://[user@]host:6379/0 — empty: no L2")
                                                   : QStringLiteral("empty: TIER_REDIS_URL (%1)").arg(stripPassword(envRedis)));
  redisUrl_->setToolTip(QStringLiteral("redis://[user[:password]@]host[:port][/db] or unix:///path/redis.sock?db=0"));
  redisPassword_ = passwordField(this, QStringLiteral("Redis password (AUTH). Used in memory; kept only in the OS keychain, if asked."));
  redisPassword_->setObjectName(QStringLiteral("redisPassword"));

  pgConninfo_ = new QLineEdit(this);
  pgConninfo_->setObjectName(QStringLiteral("pgConninfo"));
  pgConninfo_->setClearButtonEnabled(true);
  pgConninfo_->setPlaceholderText(QStringLiteral("host=… dbname=… user=…  or  postgresql://… — empty: PG* environment"));
  pgConninfo_->setToolTip(QStringLiteral("A libpq conninfo or URI; PG* environment variables, service files and ~/.pgpass apply as in psql."));
  pgPassword_ = passwordField(this, QStringLiteral("PostgreSQL password. Leave empty to use PGPASSWORD or ~/.pgpass."));
  pgPassword_->setObjectName(QStringLiteral("pgPassword"));

  sandbox_ = new QCheckBox(QStringLiteral("Use the private &sandbox (its own Redis and PostgreSQL, with demo data)"), this);
  sandbox_->setObjectName(QStringLiteral("sandboxCheck"));
  remember_ = new QCheckBox(QStringLiteral("&Remember passwords in the OS keychain"), this);
  remember_->setObjectName(QStringLiteral("rememberCheck"));
  keychainStatus_ = new QLabel(this);
  keychainStatus_->setObjectName(QStringLiteral("keychainStatus"));
  keychainStatus_->setWordWrap(true);

  auto* form = new QFormLayout;
  form->addRow(QStringLiteral("&Profile"), profile_);
  redisError_ = errorLabel(QStringLiteral("redisUrlError"), this);
  pgError_ = errorLabel(QStringLiteral("pgConninfoError"), this);
  replicaError_ = errorLabel(QStringLiteral("pgReplicaError"), this);
  form->addRow(QStringLiteral("&Redis URL"), redisUrl_);
  form->addRow(QString(), redisError_);
  form->addRow(QStringLiteral("Redis pass&word"), redisPassword_);
  form->addRow(QStringLiteral("Post&greSQL"), pgConninfo_);
  form->addRow(QString(), pgError_);
  form->addRow(QStringLiteral("PostgreSQL p&assword"), pgPassword_);
  pgReplica_ = new QLineEdit(this);
  pgReplica_->setObjectName(QStringLiteral("pgReplica"));
  pgReplica_->setClearButtonEnabled(true);
  pgReplica_->setPlaceholderText(QStringLiteral("optional: conninfo of a streaming replica"));
  pgReplica_->setToolTip(
      QStringLiteral("A read-only hot standby for inspection, analytics and warming reads (same "
                     "password as the primary). Down or behind, those reads use the primary."));
  form->addRow(QStringLiteral("Read r&eplica"), pgReplica_);
  form->addRow(QString(), replicaError_);
  // Tags: production is shown plainly and asks to type before destructive actions; read-only refuses them.
  production_ = new QCheckBox(QStringLiteral("Productio&n, band colour:"), this);
  production_->setObjectName(QStringLiteral("productionCheck"));
  production_->setToolTip(QStringLiteral("The window title and a band in this colour say PRODUCTION; invalidating more "
                                         "than a handful of keys, a namespace bump, an evict or a load with writes "
                                         "needs the typed confirmation. tierctl --profile then requires --yes."));
  colour_ = new QComboBox(this);
  colour_->setObjectName(QStringLiteral("colourCombo"));
  colour_->setToolTip(QStringLiteral("The colour of the production band"));
  for (const auto& [label, hex] : {std::pair{"Red", "#c53030"}, std::pair{"Orange", "#c05621"},
                                   std::pair{"Purple", "#6b46c1"}, std::pair{"Blue", "#2b6cb0"},
                                   std::pair{"Green", "#2f855a"}}) {
    QPixmap swatch(14, 14);
    swatch.fill(QColor(QLatin1String(hex)));
    colour_->addItem(QIcon(swatch), QString::fromLatin1(label), QString::fromLatin1(hex));
  }
  readOnly_ = new QCheckBox(QStringLiteral("Read-on&ly: grey out every destructive action (tierctl refuses them)"), this);
  readOnly_->setObjectName(QStringLiteral("readOnlyCheck"));
  readOnly_->setToolTip(QStringLiteral("Invalidate, namespace bump, evict, refresh from database, warm and load with "
                                       "writes are refused with this reason; previews and inspection stay."));
  auto* tagRow = new QHBoxLayout;
  tagRow->addWidget(production_);
  tagRow->addWidget(colour_);
  tagRow->addStretch(1);
  form->addRow(QStringLiteral("Tags"), tagRow);
  form->addRow(QString(), readOnly_);
  // Warm on start: what this profile warms when the console (or tierctl load --profile) connects.
  warmKnowledge_ = new QCheckBox(QStringLiteral("knowledge articles"), this);
  warmSessions_ = new QCheckBox(QStringLiteral("active sessions"), this);
  warmEntries_ = new QCheckBox(QStringLiteral("hot journal entries"), this);
  warmKnowledge_->setObjectName(QStringLiteral("warmKnowledgeCheck"));
  warmSessions_->setObjectName(QStringLiteral("warmSessionsCheck"));
  warmEntries_->setObjectName(QStringLiteral("warmEntriesCheck"));
  warmKnowledge_->setChecked(true);
  auto* warmRow = new QHBoxLayout;
  for (QCheckBox* c : {warmKnowledge_, warmSessions_, warmEntries_}) {
    c->setToolTip(QStringLiteral("Warmed on connect, with the progress in the status bar and a row in the audit log "
                                 "(profile key warm_on_start; tierctl load --profile warms the same). Not on a "
                                 "read-only profile."));
    warmRow->addWidget(c);
  }
  warmRow->addStretch(1);
  form->addRow(QStringLiteral("&Warm on connect"), warmRow);
  colour_->setEnabled(false);
  connect(production_, &QCheckBox::toggled, colour_, &QWidget::setEnabled);
  connect(sandbox_, &QCheckBox::toggled, this, [this](bool on) {
    production_->setEnabled(!on);
    readOnly_->setEnabled(!on);
    colour_->setEnabled(!on && production_->isChecked());
  });
  form->addRow(QString(), sandbox_);
  form->addRow(QString(), remember_);
  form->addRow(QString(), keychainStatus_);

  auto* buttons = new QDialogButtonBox(this);
  auto* connectButton = buttons->addButton(QStringLiteral("&Connect"), QDialogButtonBox::AcceptRole);
  connectButton->setObjectName(QStringLiteral("connectButton"));
  connectButton->setDefault(true);
  connectButton->setToolTip(
      QStringLiteral("Try this connection beside the current one; once it answers, switch to it and save the profile "
                     "without passwords (Enter)"));
  connectButton_ = connectButton;
  auto* saveButton = buttons->addButton(QStringLiteral("Sa&ve"), QDialogButtonBox::ApplyRole);
  saveButton->setObjectName(QStringLiteral("saveButton"));
  saveButton->setToolTip(QStringLiteral("Save the profile without connecting"));
  auto* deleteButton = buttons->addButton(QStringLiteral("&Delete profile"), QDialogButtonBox::DestructiveRole);
  deleteButton->setToolTip(QStringLiteral("Remove this profile and its keychain entries"));
  buttons->addButton(QDialogButtonBox::Cancel)->setObjectName(QStringLiteral("cancelButton"));
  connect(connectButton, &QPushButton::clicked, this, &ConnectionDialog::onConnectClicked);
  connect(saveButton, &QPushButton::clicked, this, [this] {
    if (validate()) saveProfile();
  });
  connect(deleteButton, &QPushButton::clicked, this, &ConnectionDialog::onDeleteClicked);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(note(QStringLiteral("Profiles are saved in %1 without passwords. Passwords also come from "
                                        "PGPASSWORD, ~/.pgpass and TIER_REDIS_URL, and you are asked for one when a "
                                        "server refuses the login.")
                             .arg(store.fileName()),
                         this));
  attemptStatus_ = new QLabel(this);
  attemptStatus_->setObjectName(QStringLiteral("attemptStatus"));
  attemptStatus_->setWordWrap(true);
  attemptStatus_->setTextFormat(Qt::PlainText);
  attemptStatus_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  attemptStatus_->hide();
  layout->addStretch(1);  // room a taller dialog gains goes here, not into the error rows
  layout->addWidget(attemptStatus_);
  layout->addWidget(buttons);

  connect(service_, &CoreService::attemptFinished, this, &ConnectionDialog::onAttemptFinished);
  // An edit makes the field's old error obsolete (a password may fix a refused login).
  connect(redisUrl_, &QLineEdit::textEdited, this, [this] { showError(redisError_, {}); });
  connect(redisPassword_, &QLineEdit::textEdited, this, [this] { showError(redisError_, {}); });
  connect(pgConninfo_, &QLineEdit::textEdited, this, [this] { showError(pgError_, {}); });
  connect(pgPassword_, &QLineEdit::textEdited, this, [this] { showError(pgError_, {}); });
  connect(pgReplica_, &QLineEdit::textEdited, this, [this] { showError(replicaError_, {}); });

  connect(sandbox_, &QCheckBox::toggled, this, [this](bool on) {
    for (QWidget* w :
         {static_cast<QWidget*>(redisUrl_), static_cast<QWidget*>(redisPassword_), static_cast<QWidget*>(pgConninfo_),
          static_cast<QWidget*>(pgPassword_), static_cast<QWidget*>(pgReplica_)})
      w->setEnabled(!on);
  });
  connect(profile_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i >= 0) onProfileChosen(profile_->itemText(i));
  });

  const QString current = service_->settings().sandbox ? QString() : service_->settings().profile;
  const QString last = store.lastProfile();
  const QString pick = profile_->findText(current) >= 0 ? current : last;
  if (!pick.isEmpty() && profile_->findText(pick) >= 0) {
    profile_->setCurrentText(pick);
    onProfileChosen(pick);
  } else {
    profile_->setCurrentText(QStringLiteral("default"));
    sandbox_->setChecked(service_->settings().sandbox);
  }
  updateKeychainStatus();
  if (KeychainStore::compiledIn() && KeychainStore::available()) {
    // Find out now whether a keychain service answers (no D-Bus secret service: it does not).
    keychainStatus_->setText(QStringLiteral("Checking the OS keychain…"));
    // The keychain may answer after the dialog is gone (D-Bus): every callback checks it still exists.
    QPointer<ConnectionDialog> self(this);
    keychain_->read(KeychainStore::key(QStringLiteral("tierconsole"), QStringLiteral("probe")),
                    [self](bool, const QString&) {
                      if (self) self->updateKeychainStatus();
                    });
  }
}

// The combo's line edit loses focus while the dialog is torn down: no slot may run then.
ConnectionDialog::~ConnectionDialog() {
  profile_->disconnect(this);
  if (attempt_ != 0) service_->cancelAttempt();  // closed some other way: nobody waits for it
}

void ConnectionDialog::updateKeychainStatus() {
  const bool ok = KeychainStore::available();
  remember_->setEnabled(ok);
  if (!ok) remember_->setChecked(false);
  if (ok) {
    keychainStatus_->setText(QStringLiteral("Passwords you tick to remember go to the OS keychain, nowhere else."));
    keychainStatus_->setStyleSheet(QString());
  } else {
    keychainStatus_->setText(QStringLiteral("%1 Passwords are not stored; typed ones are kept in memory only.")
                                 .arg(KeychainStore::unavailableReason()));
    keychainStatus_->setStyleSheet(QStringLiteral("color:#b7791f;"));
  }
  remember_->setToolTip(ok ? QStringLiteral("Keep the passwords in the OS keychain (service “TierConsole”)")
                           : KeychainStore::unavailableReason());
  if (isVisible()) adjustSize();  // the status may have grown a line
  Q_EMIT keychainStatusChanged(ok);
}

void ConnectionDialog::onProfileChosen(const QString& name) {
  ProfileStore store;
  const auto p = store.profile(name);
  if (!p) return;
  sandbox_->setChecked(false);
  redisUrl_->setText(p->redis_url);
  pgConninfo_->setText(p->pg_conninfo);
  pgReplica_->setText(p->pg_replica_conninfo);
  production_->setChecked(p->production);
  readOnly_->setChecked(p->read_only);
  const QString warm = p->warm_on_start;
  warmKnowledge_->setChecked(warm.contains(QLatin1String("knowledge")));
  warmSessions_->setChecked(warm.contains(QLatin1String("sessions")));
  warmEntries_->setChecked(warm.contains(QLatin1String("entries")));
  const int colour = colour_->findData(QColor(p->colour).isValid() ? QColor(p->colour).name() : QString());
  colour_->setCurrentIndex(colour >= 0 ? colour : 0);
  redisPassword_->clear();
  pgPassword_->clear();
  attemptStatus_->hide();
  // A profile saved malformed (by an older version, or edited by hand) says so at once.
  validate();
  if (!KeychainStore::available()) return;
  // Fill from the keychain; the first call also finds out whether one runs here.
  for (auto [server, field] : {std::pair{QStringLiteral("redis"), redisPassword_}, std::pair{QStringLiteral("postgres"), pgPassword_}}) {
    QPointer<QLineEdit> target(field);
    QPointer<ConnectionDialog> self(this);
    keychain_->read(KeychainStore::key(name, server), [self, target, name](bool ok, const QString& value) {
      if (!self) return;
      if (!ok) return self->updateKeychainStatus();
      if (target && !value.isEmpty() && self->profile_->currentText() == name && target->text().isEmpty()) {
        target->setText(value);
        self->remember_->setChecked(true);
      }
    });
  }
}

void ConnectionDialog::saveProfile() {
  const QString name = profile_->currentText().trimmed();
  if (name.isEmpty() || sandbox_->isChecked()) return;
  ProfileStore store;
  Profile profile;
  profile.name = name;
  profile.redis_url = redisUrl_->text().trimmed();
  profile.pg_conninfo = pgConninfo_->text().trimmed();
  profile.pg_replica_conninfo = pgReplica_->text().trimmed();
  profile.production = production_->isChecked();
  profile.colour = profile.production ? colour_->currentData().toString() : QString();
  profile.read_only = readOnly_->isChecked();
  QStringList warm;
  if (warmKnowledge_->isChecked()) warm << QStringLiteral("knowledge");
  if (warmSessions_->isChecked()) warm << QStringLiteral("sessions");
  if (warmEntries_->isChecked()) warm << QStringLiteral("entries");
  profile.warm_on_start = warm.isEmpty() ? QStringLiteral("none") : warm.join(QLatin1Char(','));
  store.saveProfile(profile);
  if (profile_->findText(name) < 0) profile_->addItem(name);
  if (!remember_->isChecked() || !KeychainStore::available()) return;
  for (auto [server, value] : {std::pair{QStringLiteral("redis"), redisPassword_->text()},
                               std::pair{QStringLiteral("postgres"), pgPassword_->text()}}) {
    auto done = [self = QPointer<ConnectionDialog>(this)](bool ok, const QString&) {
      if (!ok && self) self->updateKeychainStatus();
    };
    if (value.isEmpty())
      keychain_->remove(KeychainStore::key(name, server), done);
    else
      keychain_->write(KeychainStore::key(name, server), value, done);
  }
}

ConnectionSettings ConnectionDialog::connectionSettings() const {
  ConnectionSettings s = ProfileStore().loadSettings();
  if (sandbox_->isChecked()) {
    s.profile = QStringLiteral("sandbox");
    s.sandbox = true;
    s.start_workload = true;
    return s;
  }
  s.profile = profile_->currentText().trimmed();
  QString redis = redisUrl_->text().trimmed();
  if (redis.isEmpty()) redis = qEnvironmentVariable("TIER_REDIS_URL");
  s.redis_url = withRedisPassword(redis, redisPassword_->text());
  s.pg_conninfo = withPgPassword(pgConninfo_->text().trimmed(), pgPassword_->text());
  // A physical replica has the primary's roles, so the same password.
  const QString replica = pgReplica_->text().trimmed();
  s.pg_replica_conninfo = replica.isEmpty() ? QString() : withPgPassword(replica, pgPassword_->text());
  return s;
}

void ConnectionDialog::showError(QLabel* label, const QString& text) {
  label->setText(text);
  label->setVisible(!text.isEmpty());
  // Exactly the lines it needs at the fields' width: a form row sizes a
  // wrapped label at its hint width, which leaves it clipped or padded.
  label->setFixedHeight(text.isEmpty() ? 0 : label->heightForWidth(redisUrl_->isVisible() ? redisUrl_->width() : 440));
}

void ConnectionDialog::fitHeight() {
  // Grow to fit, never narrower: adjustSize() would shrink the width the error heights were measured at.
  if (!isVisible()) return;
  layout()->activate();  // the rows' new heights count now, not at the next event-loop turn
  resize(width(), std::max(height(), sizeHint().height()));
}

QString ConnectionDialog::scrub(QString text) const {
  // Short ones would mask ordinary words; the core's redaction covers what is in the URL/conninfo.
  for (const QString& pw : {redisPassword_->text(), pgPassword_->text()})
    if (pw.size() >= 4) text.replace(pw, QStringLiteral("***"));
  return text;
}

bool ConnectionDialog::validate() {
  showError(redisError_, {});
  showError(pgError_, {});
  showError(replicaError_, {});
  if (sandbox_->isChecked()) return true;
  bool ok = true;
  QString redis = redisUrl_->text().trimmed();
  const bool fromEnv = redis.isEmpty();
  if (fromEnv) redis = qEnvironmentVariable("TIER_REDIS_URL");
  if (!redis.isEmpty()) {
    try {
      (void)redis::RedisUrl::parse(redis.toStdString());
    } catch (const std::exception& e) {
      const QString why = scrub(QString::fromStdString(redactSecrets(e.what())));
      showError(redisError_, fromEnv ? QStringLiteral("TIER_REDIS_URL: %1").arg(why) : why);
      if (ok) redisUrl_->setFocus();
      ok = false;
    }
  }
  for (auto [field, label] : {std::pair{pgConninfo_, pgError_}, std::pair{pgReplica_, replicaError_}}) {
    const QString conninfo = field->text().trimmed();
    if (field == pgReplica_ && conninfo.isEmpty()) continue;  // no replica
    try {
      pg::checkConninfo(conninfo.toStdString());
    } catch (const std::exception& e) {
      showError(label, scrub(QString::fromStdString(redactSecrets(e.what()))));
      if (ok) field->setFocus();
      ok = false;
    }
  }
  fitHeight();
  return ok;
}

void ConnectionDialog::setLocked(bool locked) {
  if (locked) {
    // Every input, including any added later: what is saved must be what was tried.
    lockedInputs_.clear();
    for (QWidget* w : findChildren<QWidget*>()) {
      const bool input = qobject_cast<QLineEdit*>(w) || qobject_cast<QComboBox*>(w) || qobject_cast<QCheckBox*>(w) ||
                         (qobject_cast<QPushButton*>(w) && w->objectName() != QLatin1String("cancelButton"));
      if (input && w->isEnabled()) {
        w->setEnabled(false);
        lockedInputs_.append(w);
      }
    }
    return;
  }
  for (const auto& w : lockedInputs_)
    if (w) w->setEnabled(true);
  lockedInputs_.clear();
}

void ConnectionDialog::onConnectClicked() {
  if (attempt_ != 0) return;
  if (!sandbox_->isChecked() && profile_->currentText().trimmed().isEmpty()) {
    profile_->setFocus();
    return;
  }
  if (!validate()) {
    attemptStatus_->hide();
    return;
  }
  setLocked(true);
  attemptStatus_->setStyleSheet(QString());
  attemptStatus_->setText(sandbox_->isChecked()
                              ? QStringLiteral("Starting the sandbox and trying it… the current connection stays up until it answers.")
                              : QStringLiteral("Trying the new connection… the current one stays up until this one answers."));
  attemptStatus_->show();
  attempt_ = service_->tryConnect(connectionSettings());
}

void ConnectionDialog::onAttemptFinished(std::uint64_t attempt, const ConnectAttemptResult& result) {
  if (attempt == 0 || attempt != attempt_) return;  // someone else's, or one we dropped
  attempt_ = 0;
  setLocked(false);
  if (result.ok) {
    // Only a connection that answered is saved and opened at the next start.
    if (!sandbox_->isChecked()) {
      saveProfile();
      ProfileStore().setLastProfile(profile_->currentText().trimmed());
    }
    Q_EMIT attemptEnded(true);
    accept();
    return;
  }
  showError(redisError_, scrub(result.redis_error));
  showError(pgError_, scrub(result.pg_error));
  showError(replicaError_, scrub(result.replica_error));
  const QString current = service_->hasCore() ? QStringLiteral("The current connection (profile \u201c%1\u201d) is unchanged.")
                                                    .arg(service_->settings().profile)
                                              : QStringLiteral("Nothing was saved.");
  attemptStatus_->setStyleSheet(QStringLiteral("color:#c53030;"));
  attemptStatus_->setText(QStringLiteral("Not connected: %1. %2").arg(scrub(result.message), current));
  attemptStatus_->show();
  switch (result.field) {
    case ConnectAttemptResult::Field::Redis: redisUrl_->setFocus(); break;
    case ConnectAttemptResult::Field::Postgres: pgConninfo_->setFocus(); break;
    case ConnectAttemptResult::Field::Replica: pgReplica_->setFocus(); break;
    case ConnectAttemptResult::Field::Sandbox:
    case ConnectAttemptResult::Field::None: break;
  }
  fitHeight();
  Q_EMIT attemptEnded(false);
}

void ConnectionDialog::reject() {
  if (attempt_ != 0) {
    service_->cancelAttempt();
    attempt_ = 0;
    setLocked(false);
  }
  QDialog::reject();
}

void ConnectionDialog::onDeleteClicked() {
  const QString name = profile_->currentText().trimmed();
  if (name.isEmpty()) return;
  ProfileStore().removeProfile(name);
  if (KeychainStore::available())
    for (const auto& server : {QStringLiteral("redis"), QStringLiteral("postgres")})
      keychain_->remove(KeychainStore::key(name, server), [](bool, const QString&) {});
  const int i = profile_->findText(name);
  if (i >= 0) profile_->removeItem(i);
  redisUrl_->clear();
  pgConninfo_->clear();
  pgReplica_->clear();
  production_->setChecked(false);
  readOnly_->setChecked(false);
  warmKnowledge_->setChecked(true);
  warmSessions_->setChecked(false);
  warmEntries_->setChecked(false);
  redisPassword_->clear();
  pgPassword_->clear();
}

}  // namespace tier::ui
