#pragma once
// Connection profiles and console settings in QSettings (organization
// "TierConsole", application "tierconsole" — the file tierctl --profile reads).
// Passwords are never written here: they are stripped from URLs and conninfo
// before saving (see stripPassword) and live in the OS keychain when one is
// available (settings/ keychain support), else nowhere (env, .pgpass, prompt).
#include <QString>
#include <QStringList>
#include <optional>

#include "common/core_service.h"

namespace tier::ui {

struct Profile {
  QString name;
  QString redis_url;    // without password
  QString pg_conninfo;  // without password
  QString pg_replica_conninfo;  // optional read replica, without password; empty = none
};

class ProfileStore {
 public:
  QStringList profileNames() const;
  std::optional<Profile> profile(const QString& name) const;
  // Saves the profile with any password removed. Returns the stored copy.
  Profile saveProfile(const Profile& p);
  void removeProfile(const QString& name);
  QString lastProfile() const;
  void setLastProfile(const QString& name);

  // The settings file (for tests and the About box).
  QString fileName() const;
  void sync();

  // Thresholds, TTLs, L1 size, refresh rate (defaults: the brief's).
  ConnectionSettings loadSettings() const;
  void saveSettings(const ConnectionSettings& s);
};

// "redis://u:pw@h:1/0" -> "redis://u@h:1/0"; "host=h password=pw" -> "host=h".
QString stripPassword(const QString& urlOrConninfo);

}  // namespace tier::ui
