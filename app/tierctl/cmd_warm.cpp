#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/warming.h"

namespace tierctl {

namespace {

const QString kSynopsis = QStringLiteral("warm knowledge|sessions|entries [--hours H] [--top-users N]");

QJsonObject resultJson(const tier::ops::WarmResult& r) {
  QJsonObject o{{QStringLiteral("set"), QLatin1String(tier::ops::toString(r.set))},
                {QStringLiteral("candidates"), static_cast<double>(r.candidates)},
                {QStringLiteral("warmed"), static_cast<double>(r.warmed)},
                {QStringLiteral("already"), static_cast<double>(r.already)},
                {QStringLiteral("failed"), static_cast<double>(r.failed)},
                {QStringLiteral("cancelled"), r.cancelled},
                {QStringLiteral("duration_ms"), r.duration_ms},
                {QStringLiteral("audit_id"), static_cast<double>(r.audit_id)}};
  if (!r.audit_error.empty()) o.insert(QStringLiteral("audit_error"), fromStd(tier::redactSecrets(r.audit_error)));
  return o;
}

}  // namespace

void addWarmOptions(QCommandLineParser& parser) {
  parser.addPositionalArgument(QStringLiteral("set"), QStringLiteral("knowledge, sessions or entries."));
  parser.addOption({QStringLiteral("hours"), QStringLiteral("sessions: active in the last H hours (default 24)."),
                    QStringLiteral("H")});
  parser.addOption({QStringLiteral("limit"), QStringLiteral("sessions: at most N sessions (default 5000)."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("top-users"), QStringLiteral("entries: the N users with most entries (default 100)."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("per-user"), QStringLiteral("entries: newest N entries per user (default 20)."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("threads"), QStringLiteral("Parallel loaders (default 4)."), QStringLiteral("T")});
  parser.addOption({QStringLiteral("yes"), QStringLiteral("Confirm warming on a profile tagged production.")});
}

int runWarm(Context& ctx) {
  ctx.expectPositionals(1, 1, kSynopsis);
  const QString name = ctx.positionals().at(0);
  tier::ops::WarmSet set{};
  if (!tier::ops::parseWarmSet(name.toStdString(), set))
    throw UsageError(QStringLiteral("unknown set '%1'; usage: tierctl %2").arg(quoteInput(name), kSynopsis));
  tier::ops::WarmOptions o;
  o.session_hours = static_cast<int>(ctx.intOption(QStringLiteral("hours"), 1, 24 * 365 * 10, o.session_hours));
  o.session_limit = static_cast<int>(ctx.intOption(QStringLiteral("limit"), 1, 10'000'000, o.session_limit));
  o.top_users = static_cast<int>(ctx.intOption(QStringLiteral("top-users"), 1, 10'000'000, o.top_users));
  o.entries_per_user = static_cast<int>(ctx.intOption(QStringLiteral("per-user"), 1, 100'000, o.entries_per_user));
  o.threads = static_cast<int>(ctx.intOption(QStringLiteral("threads"), 1, 64, o.threads));
  ctx.setMinPoolSize(o.threads);
  ctx.guardDestructive(QStringLiteral("writes to the cache"), ctx.isSet(QStringLiteral("yes")));

  auto& core = ctx.core();
  installInterruptHandler();
  std::function<void(const tier::ops::WarmProgress&)> progress;
  if (stderrIsTerminal())
    progress = [](const tier::ops::WarmProgress& p) {  // called under the job's lock
      const QByteArray line = QStringLiteral("\rwarm: %1/%2  failed %3")
                                  .arg(thousands(p.done), thousands(p.total), thousands(p.failed))
                                  .toUtf8();
      std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
      std::fflush(stderr);
    };
  const tier::ops::WarmResult r = tier::ops::warm(core, set, o, progress, &interruptFlag());
  if (progress) std::fputs("\r\033[K", stderr);  // the result line says the same

  if (ctx.json())
    printJson(resultJson(r));
  else
    printLine(QStringLiteral("warm %1: %2 candidates, %3 warmed, %4 newer in cache, %5 failed in %6 ms%7%8")
                  .arg(QLatin1String(tier::ops::toString(r.set)), thousands(r.candidates), thousands(r.warmed),
                       thousands(r.already), thousands(r.failed), QString::number(r.duration_ms, 'f', 1),
                       r.audit_id > 0 ? QStringLiteral(", audit #%1").arg(r.audit_id) : QString(),
                       r.cancelled ? QStringLiteral(" (cancelled)") : QString()));

  if (!r.audit_error.empty()) {
    reportError("warming done but its audit row was not written: " + r.audit_error);
    return tier::kExitPartial;
  }
  if (r.cancelled) {
    reportError("cancelled after " + std::to_string(r.warmed + r.already) + " of " + std::to_string(r.candidates));
    return tier::kExitPartial;
  }
  if (r.failed > 0) {
    reportError(std::to_string(r.failed) + " of " + std::to_string(r.candidates) + " could not be loaded");
    return tier::kExitPartial;
  }
  return tier::kExitOk;
}

}  // namespace tierctl
