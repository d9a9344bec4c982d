#pragma once
// Connection profiles and console settings in QSettings (organization
// "TierConsole", application "tierconsole" — the file tierctl --profile reads).
// Passwords are never written here: they are stripped from URLs and conninfo
// before saving (see stripPassword) and live in the OS keychain when one is
// available (settings/ keychain support), else nowhere (env, .pgpass, prompt).
#include <QColor>
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
  // Tags tierctl --profile honours too (keys "production", "colour", "read_only").
  bool production = false;  // shown plainly; destructive actions need the typed confirmation
  QString colour;           // "#rrggbb" of the production band; empty = kDefaultProductionColour
  bool read_only = false;   // every destructive action is refused, in the console and in tierctl
  // Warm on start (key "warm_on_start", tierctl load honours it too): the sets
  // warmed when the console or a load connects, "knowledge,sessions"; "none" = nothing.
  QString warm_on_start = QStringLiteral("knowledge");
};

inline constexpr const char* kDefaultProductionColour = "#c53030";

// What the window and the destructive actions need to know about the connected profile.
struct ProfileTags {
  QString profile;
  bool production = false;
  QColor colour;  // valid when production
  bool read_only = false;
  bool any() const { return production || read_only; }
};

// The tags of the profile these settings connect with, read fresh from the
// store (the sandbox and an unsaved profile have none).
ProfileTags profileTags(const ConnectionSettings& settings);

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
