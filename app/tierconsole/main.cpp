// tierconsole: the desktop console. Options as in tierctl: --profile NAME,
// --redis URL, --pg CONNINFO, --sandbox[=DIR]; --version works without a display.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/core_service.h"
#include "common/stall_probe.h"
#include "tier/ops/invalidation.h"
#include "main_window.h"
#include "pages.h"
#include "settings/profile_store.h"

namespace {

bool hasDisplay() {
  const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
  if (!platform.isEmpty() && !platform.startsWith("xcb") && !platform.startsWith("wayland")) return true;  // offscreen, vnc, …
  return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
}

}  // namespace

int main(int argc, char** argv) {
  // Handled before any Qt GUI object exists: these must work on a headless machine.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("tierconsole %s\n", TIER_VERSION);
      return 0;
    }
  }
  if (!hasDisplay()) {
    std::fprintf(stderr, "tierconsole: no display (DISPLAY and WAYLAND_DISPLAY are unset); run it in a desktop session or under xvfb-run\n");
    return 3;
  }
  // --sandbox[=DIR]: QCommandLineParser has no optional values.
  QString sandboxDir;
  bool sandbox = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sandbox") == 0) {
      sandbox = true;
      continue;
    }
    if (std::strncmp(argv[i], "--sandbox=", 10) == 0) {
      sandbox = true;
      sandboxDir = QString::fromLocal8Bit(argv[i] + 10);
      continue;
    }
    args.push_back(argv[i]);
  }
  int qargc = static_cast<int>(args.size());
  QApplication app(qargc, args.data());
  Q_INIT_RESOURCE(tierconsole);  // resources live in the static tier_ui library
  QApplication::setOrganizationName(QStringLiteral("TierConsole"));
  QApplication::setApplicationName(QStringLiteral("tierconsole"));
  QApplication::setApplicationVersion(QStringLiteral(TIER_VERSION));
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/tierconsole/tierconsole.svg")));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Operations console for the L1/L2/L3 tiered cache."));
  parser.addHelpOption();
  parser.addOption({QStringLiteral("profile"), QStringLiteral("Connection profile to open."), QStringLiteral("NAME")});
  parser.addOption({QStringLiteral("redis"), QStringLiteral("Redis URL."), QStringLiteral("URL")});
  parser.addOption({QStringLiteral("pg"), QStringLiteral("PostgreSQL conninfo or URI."), QStringLiteral("CONNINFO")});
  parser.addOption({QStringLiteral("sandbox"), QStringLiteral("Start or reuse the private sandbox (--sandbox=DIR for another folder) and run the synthetic workload.")});
  parser.addOption({QStringLiteral("version"), QStringLiteral("Print the version and exit.")});
  parser.addOption({QStringLiteral("no-publish"),
                    QStringLiteral("Do not publish this console's metrics to the fleet (settings key metrics_publish).")});
  // Measurement and documentation aids (scripts/measure-gui, scripts/screenshots).
  parser.addOption({QStringLiteral("quit-after"), QStringLiteral("Quit after S seconds."), QStringLiteral("S")});
  parser.addOption({QStringLiteral("stall-report"),
                    QStringLiteral("Write the GUI thread's event-loop stalls (p50/p99/max) as JSON to FILE on exit."),
                    QStringLiteral("FILE")});
  parser.addOption({QStringLiteral("screenshots"),
                    QStringLiteral("After --screenshot-delay seconds, save a PNG of every page into DIR and quit."),
                    QStringLiteral("DIR")});
  parser.addOption({QStringLiteral("invalidate-pattern"),
                    QStringLiteral("Once connected, run a real pattern invalidation through the console's job runner "
                                   "(for measuring responsiveness during a large delete)."),
                    QStringLiteral("PATTERN")});
  parser.addOption({QStringLiteral("screenshot-delay"), QStringLiteral("Seconds of live data before screenshots (default 30)."),
                    QStringLiteral("S")});
  if (!parser.parse(app.arguments())) {
    std::fprintf(stderr, "tierconsole: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) parser.showHelp(0);

  tier::ui::ProfileStore profiles;
  tier::ui::ConnectionSettings settings = profiles.loadSettings();  // thresholds, TTLs, refresh rate
  if (parser.isSet(QStringLiteral("no-publish"))) settings.metrics_publish = false;
  if (sandbox) {
    settings.sandbox = true;
    settings.sandbox_dir = sandboxDir;
    settings.start_workload = true;
    settings.profile = QStringLiteral("sandbox");
  } else {
    QString name = parser.value(QStringLiteral("profile"));
    if (name.isEmpty()) name = profiles.lastProfile();
    if (!name.isEmpty()) {
      auto p = profiles.profile(name);
      if (!p) {
        std::fprintf(stderr, "tierconsole: no connection profile named '%s'\n", qPrintable(name));
        return 6;
      }
      settings.profile = name;
      settings.redis_url = p->redis_url;
      settings.pg_conninfo = p->pg_conninfo;
      settings.pg_replica_conninfo = p->pg_replica_conninfo;
    }
    if (parser.isSet(QStringLiteral("redis"))) settings.redis_url = parser.value(QStringLiteral("redis"));
    if (parser.isSet(QStringLiteral("pg"))) settings.pg_conninfo = parser.value(QStringLiteral("pg"));
    // Nothing configured at all: the embedded default is the sandbox.
    if (name.isEmpty() && settings.redis_url.isEmpty() && settings.pg_conninfo.isEmpty()) {
      settings.sandbox = true;
      settings.start_workload = true;
      settings.profile = QStringLiteral("sandbox");
    }
  }
  // The measurement aid deletes keys: a read-only profile refuses it as the window would.
  if (parser.isSet(QStringLiteral("invalidate-pattern")) && tier::ui::profileTags(settings).read_only) {
    std::fprintf(stderr, "tierconsole: refused: profile '%s' is marked read-only and --invalidate-pattern deletes keys\n",
                 qPrintable(settings.profile));
    return 4;
  }

  tier::ui::CoreService service;
  tier::ui::MainWindow window(&service);
  tier::ui::addAllPages(&window, &service);
  window.show();
  service.connectTo(settings);

  tier::ui::StallProbe probe;
  probe.start();
  // Responsiveness is measured from 3 s after connecting: window creation and
  // the first paints are start-up, not the steady state the probe is for.
  QObject::connect(&service, &tier::ui::CoreService::coreReady, &probe,
                   [&probe] { QTimer::singleShot(3000, &probe, [&probe] { probe.reset(); }); });
  if (parser.isSet(QStringLiteral("invalidate-pattern"))) {
    const std::string pattern = parser.value(QStringLiteral("invalidate-pattern")).toStdString();
    QObject::connect(&service, &tier::ui::CoreService::coreReady, &window, [&service, &window, pattern] {
      service.run<tier::ops::InvalidateResult>(
          &window, QStringLiteral("measure.invalidate"),
          [pattern](tier::TierCore& core, tier::ui::JobContext& ctx) {
            tier::ops::InvalidateRequest req{tier::ops::InvalidateKind::Pattern, pattern, false};
            return tier::ops::invalidate(
                core, req,
                [&ctx](const tier::ops::InvalidateProgress& p) {
                  ctx.progress(-1, QStringLiteral("%1 deleted").arg(p.deleted));
                },
                ctx.cancelFlag());
          },
          [](tier::ops::InvalidateResult r) {
            std::fprintf(stderr, "invalidated %lld of %lld keys in %.0f ms\n", r.deleted, r.matched, r.duration_ms);
          },
          [](tier::ErrorKind kind, QString msg) {
            std::fprintf(stderr, "%s\n", qPrintable(tier::ui::describe(kind, msg)));
          },
          [&window](double, QString message) { window.statusBar()->showMessage(message); });
    });
  }
  if (parser.isSet(QStringLiteral("quit-after")))
    QTimer::singleShot(static_cast<int>(parser.value(QStringLiteral("quit-after")).toDouble() * 1000), &app,
                       &QApplication::quit);
  if (parser.isSet(QStringLiteral("screenshots"))) {
    const QString dir = parser.value(QStringLiteral("screenshots"));
    const int delay = parser.isSet(QStringLiteral("screenshot-delay"))
                          ? static_cast<int>(parser.value(QStringLiteral("screenshot-delay")).toDouble() * 1000)
                          : 30000;
    QDir().mkpath(dir);
    QTimer::singleShot(delay, &window, [&window, dir] {
      static const char* names[] = {"dashboard", "sessions", "operations", "alerts", "users"};
      QTabWidget* tabs = window.tabs();
      for (int i = 0; i < tabs->count() && i < 5; ++i) {
        tabs->setCurrentIndex(i);
        // A page may stage a representative state (e.g. select a session) first.
        QMetaObject::invokeMethod(tabs->widget(i), "prepareScreenshot", Qt::DirectConnection);
        // Give background work the page started (a search, a preview) time to land.
        QElapsedTimer settle;
        settle.start();
        while (settle.elapsed() < 2000) QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        window.grab().save(dir + QLatin1Char('/') + QLatin1String(names[i]) + QStringLiteral(".png"));
      }
      QApplication::quit();
    });
  }
  const int rc = app.exec();
  if (parser.isSet(QStringLiteral("stall-report"))) {
    const auto r = probe.report();
    QFile f(parser.value(QStringLiteral("stall-report")));
    if (f.open(QIODevice::WriteOnly)) {
      f.write(QJsonDocument(QJsonObject{{QStringLiteral("ticks"), static_cast<double>(r.ticks)},
                                        {QStringLiteral("seconds"), r.seconds},
                                        {QStringLiteral("stall_p50_ms"), r.p50_ms},
                                        {QStringLiteral("stall_p99_ms"), r.p99_ms},
                                        {QStringLiteral("stall_max_ms"), r.max_ms}})
                  .toJson());
    }
  }
  return rc;
}
