// tierconsole: the desktop console. Options as in tierctl: --profile NAME,
// --redis URL, --pg CONNINFO, --sandbox[=DIR]; --version works without a display.
#include <QAbstractItemModel>
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
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <unistd.h>

#include "common/core_service.h"
#include "common/stall_probe.h"
#include "keys/key_list_model.h"
#include "keys/keys_page.h"
#include "keys/keyspace_analysis_view.h"
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

// This process's resident set (/proc/self/statm), in bytes; -1 where unknown.
double residentBytes() {
  std::ifstream statm("/proc/self/statm");
  long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return -1;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
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
  parser.addOption({QStringLiteral("keys-scan-report"),
                    QStringLiteral("Once connected, scan every key in the Keys view (Ctrl+6) and write as JSON to FILE "
                                   "the time to its first rows, the scan's duration, the GUI thread's stalls during "
                                   "the scan and this process's memory before, at the row budget and at the end; then "
                                   "quit (for measuring the view on a large keyspace)."),
                    QStringLiteral("FILE")});
  parser.addOption({QStringLiteral("keys-screenshot-dir"),
                    QStringLiteral("With --keys-scan-report: after the scan, save keys.png (the first key's detail) "
                                   "and keys-analysis.png (after a 100,000-key analysis, whose time joins the "
                                   "report) into DIR."),
                    QStringLiteral("DIR")});
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
  if (parser.isSet(QStringLiteral("keys-scan-report"))) {
    auto* keys = window.findChild<tier::ui::KeysPage*>();
    if (!keys) {
      std::fprintf(stderr, "tierconsole: --keys-scan-report: this build has no Keys view\n");
      return 1;
    }
    struct ScanRun {
      QElapsedTimer clock;
      double rss_before = -1, rss_at_budget = -1;
      qint64 first_rows_ms = -1, budget_ms = -1;
      long long budget_rows = 0;
      QElapsedTimer analysis;
      QJsonObject report;  // filled when the scan ends; written after the optional screenshots
    };
    auto run = std::make_shared<ScanRun>();
    const QString file = parser.value(QStringLiteral("keys-scan-report"));
    QObject::connect(keys->model(), &QAbstractItemModel::rowsInserted, keys, [run] {
      if (run->clock.isValid() && run->first_rows_ms < 0) run->first_rows_ms = run->clock.elapsed();
    });
    QObject::connect(keys, &tier::ui::KeysPage::rowBudgetReached, keys, [run](long long rows) {
      run->budget_ms = run->clock.elapsed();
      run->budget_rows = rows;
      run->rss_at_budget = residentBytes();
    });
    const QString shots = parser.value(QStringLiteral("keys-screenshot-dir"));
    QObject::connect(keys, &tier::ui::KeysPage::scanFinished, keys,
                     [run, keys, file, shots, &probe, &window](long long rows, bool complete) {
      if (!run->clock.isValid() || !run->report.isEmpty()) return;  // a scan before ours, or a later one
      const qint64 ms = run->clock.elapsed();
      const auto r = probe.report();
      run->report = QJsonObject{{QStringLiteral("first_rows_ms"), static_cast<double>(run->first_rows_ms)},
                                {QStringLiteral("scan_ms"), static_cast<double>(ms)},
                                {QStringLiteral("complete"), complete},
                                {QStringLiteral("rows"), static_cast<double>(rows)},
                                {QStringLiteral("row_budget"), keys->rowBudget()},
                                {QStringLiteral("budget_reached_ms"), static_cast<double>(run->budget_ms)},
                                {QStringLiteral("keys_found"), static_cast<double>(keys->foundCount({}))},
                                {QStringLiteral("status"), keys->statusText()},
                                {QStringLiteral("rss_before_bytes"), run->rss_before},
                                {QStringLiteral("rss_at_budget_bytes"), run->rss_at_budget},
                                {QStringLiteral("rss_end_bytes"), residentBytes()},
                                {QStringLiteral("stall_ticks"), static_cast<double>(r.ticks)},
                                {QStringLiteral("stall_seconds"), r.seconds},
                                {QStringLiteral("stall_p50_ms"), r.p50_ms},
                                {QStringLiteral("stall_p99_ms"), r.p99_ms},
                                {QStringLiteral("stall_max_ms"), r.max_ms}};
      std::fprintf(stderr, "keys scan: %s\n", qPrintable(keys->statusText()));
      auto finishReport = [run, file] {
        QFile f(file);
        if (f.open(QIODevice::WriteOnly)) f.write(QJsonDocument(run->report).toJson());
        QApplication::quit();
      };
      if (shots.isEmpty()) return finishReport();
      // Screenshots of the view as a person sees it on this keyspace: the first
      // key's detail, then the analysis window after a 100,000-key analysis.
      QDir().mkpath(shots);
      auto analyzeThenQuit = [run, keys, shots, finishReport] {
        tier::ui::KeyspaceAnalysisView* analysis = keys->openAnalysis();
        QObject::connect(analysis, &tier::ui::KeyspaceAnalysisView::analysisFinished, keys,
                         [run, analysis, shots, finishReport](bool ok, const QString& message) {
                           run->report.insert(QStringLiteral("analysis_gui_ms"),
                                              static_cast<double>(run->analysis.elapsed()));
                           run->report.insert(QStringLiteral("analysis_ok"), ok);
                           run->report.insert(QStringLiteral("analysis_summary"),
                                              ok ? analysis->summaryText() : message);
                           QTimer::singleShot(500, analysis, [analysis, shots, finishReport] {
                             analysis->window()->grab().save(shots + QStringLiteral("/keys-analysis.png"));
                             finishReport();
                           });
                         },
                         Qt::SingleShotConnection);
        analysis->setSample(tier::ui::KeyspaceAnalysisView::kDefaultSample);
        run->analysis.start();
        analysis->analyze();
      };
      QObject::connect(keys, &tier::ui::KeysPage::detailShown, keys,
                       [keys, shots, &window, analyzeThenQuit] {
                         QTimer::singleShot(300, keys, [shots, &window, analyzeThenQuit] {
                           window.grab().save(shots + QStringLiteral("/keys.png"));
                           analyzeThenQuit();
                         });
                       },
                       Qt::SingleShotConnection);
      keys->table()->setCurrentIndex(keys->proxy()->index(0, 0));
      keys->table()->selectRow(0);
    });
    QObject::connect(
        &service, &tier::ui::CoreService::coreReady, keys,
        [run, keys, &window, &probe] {
          // After the probe's own start-up reset (3 s): the stalls are the scan's.
          QTimer::singleShot(3500, keys, [run, keys, &window, &probe] {
            window.tabs()->setCurrentWidget(keys);
            keys->selectGroup(QString());
            keys->setFilterText(QString());
            run->rss_before = residentBytes();
            probe.reset();
            run->clock.start();
            keys->startScan();
          });
        },
        Qt::SingleShotConnection);
    QObject::connect(keys, &tier::ui::KeysPage::scanFailed, keys, [](const QString& why) {
      std::fprintf(stderr, "keys scan failed: %s\n", qPrintable(why));
      QApplication::exit(1);
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
      static const char* names[] = {"dashboard", "sessions", "operations", "alerts", "users", "keys"};
      QTabWidget* tabs = window.tabs();
      for (int i = 0; i < tabs->count() && i < 6; ++i) {
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
