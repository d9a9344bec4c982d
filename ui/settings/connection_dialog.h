#pragma once
// File ▸ Connect…: pick or edit a connection profile and connect. The profile
// is saved without passwords; a typed password is used in memory and, if asked
// and a keychain service runs, kept in the OS keychain. Without a keychain
// nothing is stored: PGPASSWORD, TIER_REDIS_URL, ~/.pgpass and the password
// prompt still work.
#include <QDialog>

#include "common/core_service.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;

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
  void saveProfile();

 Q_SIGNALS:
  void keychainStatusChanged(bool available);

 private:
  void onProfileChosen(const QString& name);
  void onConnectClicked();
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
};

}  // namespace tier::ui
