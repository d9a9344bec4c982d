#pragma once
// File ▸ Connect…: pick or edit a connection profile and connect. Connecting is
// a transaction: the Redis URL and conninfo are checked as typed (an inline
// error beside the field, the password never shown), then the connection is
// tried beside the current one (CoreService::tryConnect); only once it answers
// is the profile saved, made the last one, and the dialog closed. A failure
// keeps the dialog open with the reason and the text as typed, and the
// current connection as it was. The profile is saved without passwords; a typed password is used in memory and, if asked
// and a keychain service runs, kept in the OS keychain. Without a keychain
// nothing is stored: PGPASSWORD, TIER_REDIS_URL, ~/.pgpass and the password
// prompt still work.
#include <QDialog>
#include <QList>
#include <QPointer>

#include "common/core_service.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace tier::ui {

class KeychainStore;

class ConnectionDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ConnectionDialog(CoreService* service, QWidget* parent = nullptr);
  ~ConnectionDialog() override;

  // What Connect would use: the saved settings, this profile, passwords inserted.
  ConnectionSettings connectionSettings() const;
  // Saves the profile (passwords stripped); stores passwords in the keychain if asked.
  // It does not make it the last profile: only a connection that answered does.
  void saveProfile();
  // Checks the Redis URL, the conninfo and the replica's as typed (no I/O);
  // shows each problem beside its field. True when all can be used.
  bool validate();
  // A connection attempt is running (the form is locked meanwhile).
  bool attempting() const { return attempt_ != 0; }

 public Q_SLOTS:
  void reject() override;  // also drops a running attempt

 Q_SIGNALS:
  void keychainStatusChanged(bool available);
  // An attempt ended: connected (and the dialog accepted) or not (the reason is shown).
  void attemptEnded(bool connected);

 private:
  void onProfileChosen(const QString& name);
  void onConnectClicked();
  void onAttemptFinished(std::uint64_t attempt, const ConnectAttemptResult& result);
  void setLocked(bool locked);
  void showError(QLabel* label, const QString& text);
  void fitHeight();
  // A message with every typed password masked (on top of the core's redaction).
  QString scrub(QString text) const;
  void onDeleteClicked();
  void updateKeychainStatus();

  CoreService* service_;
  KeychainStore* keychain_;
  QComboBox* profile_;
  QLineEdit* redisUrl_;
  QLineEdit* redisPassword_;
  QLineEdit* pgConninfo_;
  QLineEdit* pgReplica_;
  QLineEdit* pgPassword_;
  QCheckBox* sandbox_;
  QCheckBox* remember_;
  QLabel* keychainStatus_;
  // The profile's tags (tierctl --profile honours them too).
  QCheckBox* production_ = nullptr;
  QComboBox* colour_ = nullptr;
  QCheckBox* readOnly_ = nullptr;
  // Warm on start: knowledge, sessions, entries.
  QCheckBox* warmKnowledge_ = nullptr;
  QCheckBox* warmSessions_ = nullptr;
  QCheckBox* warmEntries_ = nullptr;
  QLabel* redisError_;
  QLabel* pgError_;
  QLabel* replicaError_;
  QLabel* attemptStatus_;
  QPushButton* connectButton_ = nullptr;
  std::uint64_t attempt_ = 0;              // the running attempt's id; 0 = none
  QList<QPointer<QWidget>> lockedInputs_;  // disabled while the attempt runs
};

}  // namespace tier::ui
