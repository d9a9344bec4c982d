#include <QJsonArray>
#include <chrono>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "seed_options.h"
#include "tier/sandbox/sandbox.h"

namespace tierctl {

namespace {

const QString kSynopsis = QStringLiteral("sandbox up|down|status [--dir DIR]");

std::function<void(const tier::sandbox::SandboxProgress&)> progressPrinter() {
  auto seedProgress = seedProgressPrinter();
  return [seedProgress](const tier::sandbox::SandboxProgress& p) {
    if (p.stage == "seed" && !p.table.empty()) {
      seedProgress(tier::sandbox::SeedProgress{p.table, p.done, p.total});
      return;
    }
    printErrLine(QStringLiteral("sandbox: ") + fromStd(p.message));
  };
}

QJsonObject statusJson(const tier::sandbox::SandboxStatus& s) {
  return QJsonObject{{QStringLiteral("dir"), fromStd(s.dir)},
                     {QStringLiteral("redis_running"), s.redis_running},
                     {QStringLiteral("postgres_running"), s.postgres_running},
                     {QStringLiteral("redis_port"), s.redis_port},
                     {QStringLiteral("postgres_port"), s.postgres_port},
                     {QStringLiteral("redis_pid"), static_cast<double>(s.redis_pid)},
                     {QStringLiteral("postgres_pid"), static_cast<double>(s.postgres_pid)},
                     {QStringLiteral("redis_url"), fromStd(s.redis_url)},
                     {QStringLiteral("pg_conninfo"), fromStd(s.pg_conninfo)},
                     {QStringLiteral("pg_uri"), fromStd(s.pg_uri)}};
}

void printStatusText(const tier::sandbox::SandboxStatus& s) {
  printLine(QStringLiteral("sandbox   %1").arg(fromStd(s.dir)));
  auto state = [](bool running, long pid) {
    return running ? QStringLiteral("running (pid %1)").arg(pid) : QStringLiteral("stopped");
  };
  printLine(QStringLiteral("redis     %1  %2").arg(state(s.redis_running, s.redis_pid), fromStd(s.redis_url)));
  printLine(QStringLiteral("postgres  %1  %2").arg(state(s.postgres_running, s.postgres_pid), fromStd(s.pg_conninfo)));
}

QString dirFrom(const Context& ctx) {
  if (ctx.isSet(QStringLiteral("dir"))) {
    const QString dir = ctx.value(QStringLiteral("dir"));
    if (dir.isEmpty()) throw UsageError(QStringLiteral("--dir needs a folder"));
    return dir;
  }
  return ctx.globals().sandbox_dir;
}

int runUp(Context& ctx) {
  tier::sandbox::SandboxOptions options;
  options.dir = dirFrom(ctx).toStdString();
  options.seed = seedOptionsFrom(ctx);
  options.seed_if_empty = !ctx.isSet(QStringLiteral("no-seed"));
  tier::sandbox::Sandbox sandbox(options);
  const tier::sandbox::SandboxUpResult r = sandbox.up(progressPrinter());
  if (ctx.json()) {
    QJsonObject o = statusJson(r.status);
    o.insert(QStringLiteral("redis_reused"), r.redis_reused);
    o.insert(QStringLiteral("postgres_reused"), r.postgres_reused);
    QJsonArray applied;
    for (const auto& m : r.migrations_applied) applied.append(fromStd(m));
    o.insert(QStringLiteral("migrations_applied"), applied);
    o.insert(QStringLiteral("seeded"), r.seeded ? QJsonValue(seedResultJson(*r.seeded)) : QJsonValue());
    printJson(o);
    return tier::kExitOk;
  }
  printStatusText(r.status);
  printLine(QStringLiteral("pg uri    %1").arg(fromStd(r.status.pg_uri)));
  if (r.seeded) printLine(seedResultText(*r.seeded));
  printLine(QStringLiteral("use it:   tierctl --sandbox <command>   (or --redis '%1' --pg '%2')")
                .arg(fromStd(r.status.redis_url), fromStd(r.status.pg_conninfo)));
  return tier::kExitOk;
}

}  // namespace

SandboxEndpoints ensureSandbox(const QString& dir) {
  tier::sandbox::SandboxOptions options;
  options.dir = dir.toStdString();
  tier::sandbox::Sandbox sandbox(options);
  tier::sandbox::SandboxStatus s = sandbox.status();
  if (!s.redis_running || !s.postgres_running || s.redis_url.empty() || s.pg_conninfo.empty())
    s = sandbox.up(progressPrinter()).status;
  return SandboxEndpoints{s.redis_url, s.pg_conninfo};
}

void addSandboxOptions(QCommandLineParser& parser) {
  parser.addPositionalArgument(QStringLiteral("action"), QStringLiteral("up, down or status."));
  parser.addOption({QStringLiteral("dir"), QStringLiteral("Sandbox folder (default: the user's app-data location)."),
                    QStringLiteral("DIR")});
  parser.addOption({QStringLiteral("no-seed"), QStringLiteral("up: migrate only, do not seed an empty database.")});
  addSeedSizeOptions(parser);
}

int runSandbox(Context& ctx) {
  ctx.expectPositionals(1, 1, kSynopsis);
  const QString action = ctx.positionals().at(0);
  if (action == QLatin1String("up")) return runUp(ctx);
  tier::sandbox::SandboxOptions options;
  options.dir = dirFrom(ctx).toStdString();
  tier::sandbox::Sandbox sandbox(options);
  if (action == QLatin1String("down")) {
    sandbox.down();
    const tier::sandbox::SandboxStatus s = sandbox.status();
    if (ctx.json())
      printJson(statusJson(s));
    else
      printLine(QStringLiteral("sandbox stopped (data kept in %1)").arg(fromStd(s.dir)));
    return tier::kExitOk;
  }
  if (action == QLatin1String("status")) {
    const tier::sandbox::SandboxStatus s = sandbox.status();
    if (ctx.json())
      printJson(statusJson(s));
    else
      printStatusText(s);
    return tier::kExitOk;
  }
  throw UsageError(QStringLiteral("unknown sandbox action '%1'; usage: tierctl %2").arg(quoteInput(action), kSynopsis));
}

}  // namespace tierctl
