#include <QJsonArray>
#include <iostream>
#include <string>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/session_sweeper.h"

namespace tierctl {

namespace {

constexpr const char* kSynopsis = "sessions expire (--idle DURATION | --id N) [--dry-run] [--yes] [--batch N]";

QJsonObject passJson(const tier::ops::ExpireIdleRequest& req, const tier::ops::ExpireIdleResult& r) {
  QJsonArray sample;
  for (auto id : r.sample) sample.append(static_cast<double>(id));
  QJsonObject o{{QStringLiteral("idle"), fromStd(tier::ops::formatDuration(req.idle))},
                {QStringLiteral("idle_s"), static_cast<double>(req.idle.count())},
                {QStringLiteral("dry_run"), req.dry_run},
                {QStringLiteral("matched"), static_cast<double>(r.matched)},
                {QStringLiteral("expired"), static_cast<double>(r.expired)},
                {QStringLiteral("batches"), static_cast<double>(r.batches)},
                {QStringLiteral("l2_deleted"), static_cast<double>(r.l2_deleted)},
                {QStringLiteral("l1_dropped"), static_cast<double>(r.l1_dropped)},
                {QStringLiteral("sample"), sample},
                {QStringLiteral("duration_ms"), r.duration_ms},
                {QStringLiteral("audit_id"), static_cast<double>(r.audit_id)}};
  if (!r.cache_error.empty()) o.insert(QStringLiteral("cache_error"), fromStd(tier::redactSecrets(r.cache_error)));
  if (!r.audit_error.empty()) o.insert(QStringLiteral("audit_error"), fromStd(tier::redactSecrets(r.audit_error)));
  return o;
}

void printPassText(const tier::ops::ExpireIdleRequest& req, const tier::ops::ExpireIdleResult& r) {
  const QString idle = fromStd(tier::ops::formatDuration(req.idle));
  const QString audit = r.audit_id > 0 ? QStringLiteral(", audit #%1").arg(r.audit_id) : QString();
  const QString took = QString::number(r.duration_ms, 'f', 1);
  if (req.dry_run) {
    printLine(QStringLiteral("dry run: %1 active sessions idle longer than %2 (nothing changed, %3 ms%4)")
                  .arg(thousands(r.matched), idle, took, audit));
    for (auto id : r.sample) printLine(QStringLiteral("  session %1").arg(id));
    if (r.matched > static_cast<long long>(r.sample.size()))
      printLine(
          QStringLiteral("  ... and %1 more").arg(thousands(r.matched - static_cast<long long>(r.sample.size()))));
    return;
  }
  printLine(QStringLiteral("expired %1 sessions idle longer than %2 in %3 batches; cached copies dropped: %4 in "
                           "Redis, %5 in this process's L1 (%6 ms%7)")
                .arg(thousands(r.expired), idle, thousands(r.batches), thousands(r.l2_deleted), thousands(r.l1_dropped),
                     took, audit));
}

int expireOne(Context& ctx, const QString& idText) {
  bool ok = false;
  const long long id = idText.toLongLong(&ok);
  if (!ok || id <= 0)
    throw UsageError(QStringLiteral("--id must be a positive session id, not '%1'").arg(quoteInput(idText)));
  if (ctx.isSet(QStringLiteral("dry-run")))
    throw UsageError(
        QStringLiteral("--dry-run goes with --idle; `tierctl inspect session %1` shows one session").arg(id));
  ctx.guardDestructive(QStringLiteral("expires a chat session"), ctx.isSet(QStringLiteral("yes")));
  const tier::ops::ExpireOneResult r = tier::ops::expireSession(ctx.core(), id);
  if (ctx.json()) {
    QJsonObject o{{QStringLiteral("id"), static_cast<double>(r.id)},
                  {QStringLiteral("expired"), true},
                  {QStringLiteral("audit_id"), static_cast<double>(r.audit_id)}};
    if (!r.audit_error.empty()) o.insert(QStringLiteral("audit_error"), fromStd(tier::redactSecrets(r.audit_error)));
    printJson(o);
  } else {
    printLine(
        QStringLiteral("session %1 expired, its cached copies dropped%2")
            .arg(QString::number(r.id), r.audit_id > 0 ? QStringLiteral(" (audit #%1)").arg(r.audit_id) : QString()));
  }
  if (!r.audit_error.empty()) {
    reportError("the session was expired but its audit row was not written: " + r.audit_error);
    return tier::kExitPartial;
  }
  return tier::kExitOk;
}

}  // namespace

void addSessionsOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("idle"),
                    QStringLiteral("Expire active sessions idle longer than this: 90m, 2h, 1d, 1h30m, 45s."),
                    QStringLiteral("DURATION")});
  parser.addOption({QStringLiteral("id"), QStringLiteral("Expire this one active session."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("dry-run"), QStringLiteral("Count and list the idle sessions; change nothing.")});
  parser.addOption(
      {QStringLiteral("yes"), QStringLiteral("Expire without asking (required when stdin is not a terminal).")});
  parser.addOption(
      {QStringLiteral("batch"), QStringLiteral("Sessions per transaction (default 500)."), QStringLiteral("N")});
}

int runSessions(Context& ctx) {
  ctx.expectPositionals(1, 1, QString::fromLatin1(kSynopsis));
  const QString sub = ctx.positionals().value(0);
  if (sub != QLatin1String("expire"))
    throw UsageError(
        QStringLiteral("unknown sessions subcommand '%1': %2").arg(quoteInput(sub), QLatin1String(kSynopsis)));
  const bool byIdle = ctx.isSet(QStringLiteral("idle"));
  const bool byId = ctx.isSet(QStringLiteral("id"));
  if (byIdle == byId) throw UsageError(QStringLiteral("give exactly one of --idle DURATION or --id N"));
  if (byId) return expireOne(ctx, ctx.value(QStringLiteral("id")));

  tier::ops::ExpireIdleRequest req;
  try {
    req.idle = tier::ops::parseDuration(ctx.value(QStringLiteral("idle")).toStdString());
  } catch (const tier::BadInputError& e) {
    throw UsageError(QStringLiteral("--idle: %1").arg(fromStd(e.what())));
  }
  req.dry_run = ctx.isSet(QStringLiteral("dry-run"));
  req.batch = static_cast<int>(ctx.intOption(QStringLiteral("batch"), 1, 10'000, req.batch));
  tier::ops::validate(req);  // refused before anything connects
  const bool confirmed = ctx.isSet(QStringLiteral("yes"));
  if (!req.dry_run) {
    ctx.guardDestructive(QStringLiteral("marks chat sessions expired"), confirmed,
                         QStringLiteral("preview with --dry-run"));
    if (!confirmed && !stdinIsTerminal())
      throw UsageError(
          QStringLiteral("refusing to expire sessions without --yes (stdin is not a terminal); preview "
                         "with --dry-run"));
  }
  auto& core = ctx.core();

  if (!req.dry_run && !confirmed) {
    tier::ops::ExpireIdleRequest preview = req;
    preview.dry_run = true;
    preview.audit_action.clear();  // the question is not an action; the answer's pass is audited
    const tier::ops::ExpireIdleResult p = tier::ops::expireIdleSessions(core, preview);
    if (p.matched == 0) {
      if (ctx.json())
        printJson(passJson(preview, p));
      else
        printPassText(preview, p);
      return tier::kExitOk;
    }
    if (!confirmOnTerminal(QStringLiteral("Mark %1 sessions idle longer than %2 as expired? [y/N] ")
                               .arg(thousands(p.matched), fromStd(tier::ops::formatDuration(req.idle))))) {
      reportError("not confirmed; nothing changed");
      return tier::kExitFailure;
    }
  }

  const tier::ops::ExpireIdleResult r = tier::ops::expireIdleSessions(core, req);
  if (ctx.json())
    printJson(passJson(req, r));
  else
    printPassText(req, r);
  if (!r.cache_error.empty())
    printErrLine(QStringLiteral("tierctl: warning: ") + fromStd(tier::redactSecrets(r.cache_error)));
  if (!r.audit_error.empty()) {
    reportError("the pass was done but its audit row was not written: " + r.audit_error);
    return tier::kExitPartial;
  }
  return tier::kExitOk;
}

}  // namespace tierctl
