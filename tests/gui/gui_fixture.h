#pragma once
// Shared set-up of the GUI tests: a private settings folder, and a CoreService
// connected to the test harness's servers. Header-only (tests/support has no Qt Widgets).
#include <QCoreApplication>
#include <QDir>
#include <QSignalSpy>
#include <QTest>

#include <string>

#include "common/core_service.h"
#include "core_fixture.h"
#include "tier/core.h"

namespace tier::test {

// A folder of this test process for XDG_CONFIG_HOME: profiles and page settings
// never reach the person's own settings file.
inline QString privateConfigDir(const char* testName) {
  return QDir::tempPath() + QStringLiteral("/%1-%2").arg(QLatin1String(testName)).arg(QCoreApplication::applicationPid());
}

// For a test class's static initMain(), before QApplication exists.
inline void usePrivateConfig(const char* testName) {
  const QString dir = privateConfigDir(testName);
  QDir(dir).removeRecursively();
  qputenv("XDG_CONFIG_HOME", dir.toLocal8Bit());
}

// Connects `service` to the servers of `cfg` as `profile` and waits until the
// core is ready and the capability probe has said these (the harness's)
// credentials may evict and warm. False if either does not happen in 30 s.
inline bool connectAndProbe(ui::CoreService& service, const CoreConfig& cfg, const QString& profile) {
  ui::ConnectionSettings settings;
  settings.profile = profile;
  settings.redis_url = QString::fromStdString(cfg.redis_url);
  settings.pg_conninfo = QString::fromStdString(cfg.pg_conninfo);
  QSignalSpy ready(&service, &ui::CoreService::coreReady);
  service.connectTo(settings);
  if (!ready.wait(30'000)) return false;
  return QTest::qWaitFor(
      [&] { return service.capabilities().evict.allowed && service.capabilities().warm.allowed; }, 30'000);
}

// A Redis ACL user on the single-node harness (`rules` as ACL SETUSER takes them
// after "reset on >password"), deleted when this goes out of scope.
struct ScopedAclUser {
  ScopedAclUser(std::string user, std::string pw, const std::string& rules) : name(std::move(user)), password(std::move(pw)) {
    seededServers().redis().cli("ACL SETUSER " + name + " reset on '>" + password + "' " + rules);
  }
  ~ScopedAclUser() { seededServers().redis().cli("ACL DELUSER " + name); }
  ScopedAclUser(const ScopedAclUser&) = delete;
  ScopedAclUser& operator=(const ScopedAclUser&) = delete;
  std::string name;
  std::string password;
};

// Connects `service` to the harness as that Redis user (PostgreSQL as the
// harness's role; no metrics publishing, which such a user could not write) and
// waits until the core is ready and the capability probe has answered.
// False if either does not happen in 30 s.
inline bool connectAsAclUser(ui::CoreService& service, const ScopedAclUser& user, const QString& profile) {
  ui::ConnectionSettings settings;
  settings.profile = profile;
  settings.redis_url = QStringLiteral("redis://%1:%2@127.0.0.1:%3/0")
                           .arg(QString::fromStdString(user.name), QString::fromStdString(user.password))
                           .arg(seededServers().redis().port());
  settings.pg_conninfo = QString::fromStdString(coreConfig(profile.toStdString()).pg_conninfo);
  settings.metrics_publish = false;
  QSignalSpy ready(&service, &ui::CoreService::coreReady);
  QSignalSpy probed(&service, &ui::CoreService::capabilitiesAvailable);
  service.connectTo(settings);
  return (!ready.isEmpty() || ready.wait(30'000)) && (!probed.isEmpty() || probed.wait(30'000));
}

}  // namespace tier::test
