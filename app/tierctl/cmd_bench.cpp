// tierctl bench: the command line over the bench scenarios (tier/bench/scenarios.h):
// which fields to measure, on which servers (private ones by default), and the
// report, as a table or JSON. docs/BENCHMARKS.md explains the method and
// scripts/bench regenerates it from this command's JSON.
#include <QJsonArray>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/bench/scenarios.h"
#include "tier/sandbox/sandbox.h"

namespace tierctl {
namespace {

using Clock = std::chrono::steady_clock;
using tier::bench::InfoField;
using tier::bench::Run;
using tier::bench::Target;

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

void addBenchOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("quick"),
                    QStringLiteral("Only prove that every measurement runs (small sizes, one repetition, < 60 s).")});
  parser.addOption({QStringLiteral("only"), QStringLiteral("Measure only these fields (comma-separated JSON field names)."),
                    QStringLiteral("FIELD,...")});
  parser.addOption({QStringLiteral("strict"), QStringLiteral("Exit 5 when a target is missed (default: report it, exit 0).")});
}

int runBench(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("bench [--quick] [--only FIELD,...] [--strict]"));
  const auto started = Clock::now();
  installInterruptHandler();
  Run run;
  run.plan = tier::bench::planFor(ctx.isSet(QStringLiteral("quick")));
  run.progress = [](const QString& line) { printErrLine(QStringLiteral("bench: ") + line); };
  run.interrupted = [] { return interruptFlag().load(); };
  const auto targetFields = tier::bench::targets();
  const auto infoOnly = tier::bench::infoFields();

  // Which groups run.
  std::map<std::string, bool> groups;
  QStringList only;
  if (ctx.isSet(QStringLiteral("only"))) {
    only = ctx.value(QStringLiteral("only")).split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (const QString& f : only) {
      const auto t = std::find_if(std::begin(targetFields), std::end(targetFields),
                                   [&](const Target& x) { return f.trimmed() == QLatin1String(x.field); });
      const auto info = std::find_if(std::begin(infoOnly), std::end(infoOnly),
                                      [&](const InfoField& x) { return f.trimmed() == QLatin1String(x.field); });
      if (t != std::end(targetFields))
        groups[t->group] = true;
      else if (info != std::end(infoOnly))
        groups[info->group] = true;
      else
        throw UsageError(QStringLiteral("unknown bench field %1").arg(quoteInput(f)));
    }
  } else {
    for (const auto& t : targetFields) groups[t.group] = true;
  }

  // Servers: our own unless --sandbox, --redis or --pg says otherwise.
  std::unique_ptr<tier::bench::OwnServers> own;
  const bool external = ctx.globals().sandbox || ctx.isSet(QStringLiteral("redis")) || ctx.isSet(QStringLiteral("pg"));
  QString serversNote;
  QString serversDir;  // private servers only: their temp folder (deleted at the end)
  if (external) {
    run.config = ctx.resolveConfig();
    if (ctx.globals().sandbox && !ctx.isSet(QStringLiteral("redis"))) {
      // The sandbox's redis-server also listens on a unix socket: use it, as a local deployment would.
      tier::sandbox::SandboxOptions so;
      so.dir = ctx.globals().sandbox_dir.toStdString();
      const std::string sock = tier::sandbox::Sandbox(so).dir() + "/redis/redis.sock";
      if (std::filesystem::exists(sock)) run.config.redis_url = "unix://" + sock;
    }
    serversNote = ctx.globals().sandbox ? QStringLiteral("sandbox") : QStringLiteral("given");
  } else {
    tier::sandbox::SeedOptions seed;  // the sandbox's demo sizes
    if (run.plan.quick) {
      seed.users = 200;
      seed.entries = 2000;
      seed.sessions = 300;
      seed.min_messages = 5;
      seed.max_messages = 60;
      seed.knowledge = 50;
    }
    own = std::make_unique<tier::bench::OwnServers>(seed, run.progress);
    run.config.redis_url = "unix://" + own->redisSocket();
    run.config.pg_conninfo = own->status().pg_conninfo;
    serversNote = QStringLiteral("private");
    serversDir = fromStd(own->dir());
  }
  if (run.config.redis_url.empty()) throw UsageError(QStringLiteral("bench needs Redis: give --redis URL or --sandbox"));
  run.config.profile = "bench";
  run.redis.url = tier::redis::RedisUrl::parse(run.config.redis_url);
  run.core = std::make_unique<tier::TierCore>(run.config);

  bool interrupted = false;
  for (const auto& g : tier::bench::scenarios()) {
    if (!groups[g.name]) continue;
    if (interruptFlag().load()) {
      interrupted = true;
      break;
    }
    run.progress(QStringLiteral("%1 ...").arg(QLatin1String(g.name)));
    const auto t0 = Clock::now();
    try {
      g.run(run);
    } catch (const tier::Error& e) {
      if (interruptFlag().load()) {
        interrupted = true;
        break;
      }
      run.errors.insert(QLatin1String(g.name), fromStd(tier::redactSecrets(e.what())));
      run.progress(QStringLiteral("%1 failed: %2").arg(QLatin1String(g.name), fromStd(tier::redactSecrets(e.what()))));
    }
    run.progress(QStringLiteral("%1 done in %2 s").arg(QLatin1String(g.name)).arg(secondsSince(t0), 0, 'f', 1));
  }

  QJsonObject targets;
  int missed = 0;
  for (const auto& t : targetFields) {
    if (!run.fields.contains(QLatin1String(t.field))) continue;
    const double v = run.fields.value(QLatin1String(t.field)).toDouble();
    const bool met = tier::bench::meets(t, v);
    missed += met ? 0 : 1;
    targets.insert(QLatin1String(t.field), QJsonObject{{QStringLiteral("value"), v},
                                                       {QStringLiteral("target"), t.target},
                                                       {QStringLiteral("op"), QLatin1String(t.op)},
                                                       {QStringLiteral("met"), met}});
  }
  QJsonObject doc = run.fields;
  doc.insert(QStringLiteral("targets"), targets);
  doc.insert(QStringLiteral("details"), run.details);
  doc.insert(QStringLiteral("errors"), run.errors);
  doc.insert(QStringLiteral("machine"), tier::bench::machineJson(run));
  doc.insert(QStringLiteral("method"),
             QJsonObject{{QStringLiteral("quick"), run.plan.quick},
                         {QStringLiteral("servers"), serversNote},
                         {QStringLiteral("servers_dir"), serversDir},
                         {QStringLiteral("redis_transport"), run.redis.transport()},
                         {QStringLiteral("repetitions"), run.plan.reps},
                         {QStringLiteral("invalidation_repetitions"), run.plan.inv_reps},
                         {QStringLiteral("interleaved"), true},
                         {QStringLiteral("warmup"), true}});
  doc.insert(QStringLiteral("interrupted"), interrupted);
  doc.insert(QStringLiteral("duration_s"), secondsSince(started));

  if (ctx.json()) {
    printJson(doc);
  } else {
    printLine(QStringLiteral("%1  %2  %3  %4").arg(QStringLiteral("field"), -34).arg(QStringLiteral("measured"), 10)
                  .arg(QStringLiteral("target"), 10).arg(QStringLiteral("met")));
    for (const auto& t : targetFields) {
      const QString f = QLatin1String(t.field);
      if (!targets.contains(f)) continue;
      const auto o = targets.value(f).toObject();
      printLine(QStringLiteral("%1  %2  %3  %4")
                    .arg(f, -34)
                    .arg(QString::number(o.value(QStringLiteral("value")).toDouble(), 'g', 4), 10)
                    .arg(QLatin1String(t.op) + QString::number(t.target), 10)
                    .arg(o.value(QStringLiteral("met")).toBool() ? QStringLiteral("yes") : QStringLiteral("NO")));
    }
    for (const auto& i : infoOnly) {
      const QString f = QLatin1String(i.field);
      if (!run.fields.contains(f)) continue;
      printLine(QStringLiteral("%1  %2  %3  %4")
                    .arg(f, -34)
                    .arg(QString::number(run.fields.value(f).toDouble(), 'g', 4), 10)
                    .arg(QStringLiteral("-"), 10)
                    .arg(QStringLiteral("-")));
    }
    for (auto it = run.errors.begin(); it != run.errors.end(); ++it)
      printLine(QStringLiteral("%1: failed: %2").arg(it.key(), it.value().toString()));
  }
  own.reset();  // stop the private servers before reporting the exit status
  if (interrupted) {
    reportError("interrupted");
    return 130;
  }
  if (!run.errors.isEmpty()) {
    reportError(std::to_string(run.errors.size()) + " measurement(s) failed to run");
    return tier::kExitFailure;
  }
  if (missed > 0 && ctx.isSet(QStringLiteral("strict"))) return tier::kExitPartial;
  return tier::kExitOk;
}

}  // namespace tierctl
