#pragma once
// Shared set-up of the GUI tests: a private settings folder, and a CoreService
// connected to the test harness's servers. Header-only (tests/support has no Qt Widgets).
#include <QCoreApplication>
#include <QDir>
#include <QSignalSpy>
#include <QTest>

#include "common/core_service.h"
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

}  // namespace tier::test
