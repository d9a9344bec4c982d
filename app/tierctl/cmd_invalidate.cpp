#include <QJsonArray>
#include <iostream>
#include <string>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/invalidation.h"

namespace tierctl {

namespace {

using tier::ops::InvalidateKind;
using tier::ops::InvalidateRequest;
using tier::ops::InvalidateResult;

InvalidateRequest requestFrom(const Context& ctx) {
  struct Choice {
    const char* option;
    InvalidateKind kind;
  };
  static const Choice choices[] = {{"key", InvalidateKind::Key},
                                   {"pattern", InvalidateKind::Pattern},
                                   {"namespace", InvalidateKind::Namespace},
                                   {"user", InvalidateKind::User}};
  InvalidateRequest req;
  int given = 0;
  for (const auto& c : choices) {
    const QString name = QLatin1String(c.option);
    if (!ctx.isSet(name)) continue;
    ++given;
    req.kind = c.kind;
    req.target = ctx.value(name).toStdString();
  }
  if (given != 1)
    throw UsageError(QStringLiteral("give exactly one of --key, --pattern, --namespace or --user"));
  req.dry_run = ctx.isSet(QStringLiteral("dry-run"));
  req.allow_any_namespace = ctx.isSet(QStringLiteral("allow-any-namespace"));
  req.sample_size = static_cast<int>(ctx.intOption(QStringLiteral("sample"), 0, 10'000, req.sample_size));
  return req;
}

QString targetText(const InvalidateRequest& req) { return quoteInput(fromStd(req.target)); }

QString question(const InvalidateRequest& req, long long matched) {
  switch (req.kind) {
    case InvalidateKind::Key: return QStringLiteral("Delete key %1? [y/N] ").arg(targetText(req));
    case InvalidateKind::Pattern:
      return QStringLiteral("Delete %1 keys matching %2? [y/N] ").arg(thousands(matched), targetText(req));
    case InvalidateKind::Namespace:
      return QStringLiteral("Invalidate namespace %1 (%2 keys)? [y/N] ").arg(targetText(req), thousands(matched));
    case InvalidateKind::User:
      return QStringLiteral("Delete %1 keys of user %2? [y/N] ").arg(thousands(matched), targetText(req));
  }
  return {};
}

QJsonObject resultJson(const InvalidateResult& r) {
  QJsonArray sample;
  for (const auto& k : r.sample) sample.append(fromStd(k));
  QJsonObject o{{QStringLiteral("kind"), QLatin1String(tier::ops::toString(r.kind))},
                {QStringLiteral("target"), fromStd(r.target)},
                {QStringLiteral("dry_run"), r.dry_run},
                {QStringLiteral("matched"), static_cast<double>(r.matched)},
                {QStringLiteral("deleted"), static_cast<double>(r.deleted)},
                {QStringLiteral("l1_dropped"), static_cast<double>(r.l1_dropped)},
                {QStringLiteral("sample"), sample},
                {QStringLiteral("cancelled"), r.cancelled},
                {QStringLiteral("duration_ms"), r.duration_ms},
                {QStringLiteral("audit_id"), static_cast<double>(r.audit_id)}};
  if (r.kind == InvalidateKind::Namespace && !r.dry_run)
    o.insert(QStringLiteral("new_generation"), static_cast<double>(r.new_generation));
  if (!r.nodes.empty()) {
    QJsonArray nodes;  // per master scanned (a cluster has several); matched/deleted sum to the totals
    for (const auto& n : r.nodes)
      nodes.append(QJsonObject{{QStringLiteral("node"), fromStd(n.node)},
                               {QStringLiteral("scanned"), static_cast<double>(n.scanned)},
                               {QStringLiteral("matched"), static_cast<double>(n.matched)},
                               {QStringLiteral("deleted"), static_cast<double>(n.deleted)}});
    o.insert(QStringLiteral("nodes"), nodes);
    o.insert(QStringLiteral("scan_passes"), r.scan_passes);
    o.insert(QStringLiteral("slot_map_settled"), r.slot_map_settled);
  }
  if (!r.audit_error.empty()) o.insert(QStringLiteral("audit_error"), fromStd(tier::redactSecrets(r.audit_error)));
  return o;
}

void printResultText(const InvalidateResult& r) {
  const QString target = quoteInput(fromStd(r.target));
  const QString audit = r.audit_id > 0 ? QStringLiteral(", audit #%1").arg(r.audit_id) : QString();
  const QString took = QString::number(r.duration_ms, 'f', 1);
  if (r.dry_run) {
    printLine(QStringLiteral("dry run: %1 keys match %2 %3 (nothing deleted, %4 ms%5)")
                  .arg(thousands(r.matched), QLatin1String(tier::ops::toString(r.kind)), target, took, audit));
    for (const auto& k : r.sample) printLine(QStringLiteral("  ") + quoteInput(fromStd(k)));
    if (r.matched > static_cast<long long>(r.sample.size()))
      printLine(QStringLiteral("  ... and %1 more").arg(thousands(r.matched - static_cast<long long>(r.sample.size()))));
  } else if (r.kind == InvalidateKind::Namespace) {
    printLine(QStringLiteral("namespace %1 invalidated: generation %2, %3 L1 copies dropped (%4 ms%5)")
                  .arg(target, QString::number(r.new_generation), thousands(r.l1_dropped), took, audit));
  } else {
    printLine(QStringLiteral("deleted %1 of %2 keys (%3 %4), %5 L1 copies dropped (%6 ms%7)")
                  .arg(thousands(r.deleted), thousands(r.matched), QLatin1String(tier::ops::toString(r.kind)), target,
                       thousands(r.l1_dropped), took, audit));
  }
  if (r.nodes.size() > 1)  // a cluster: each master's share
    for (const auto& n : r.nodes)
      printLine(QStringLiteral("  node %1: scanned %2, matched %3, deleted %4")
                    .arg(fromStd(n.node), thousands(n.scanned), thousands(n.matched), thousands(n.deleted)));
  if (r.scan_passes > 1)
    printLine(QStringLiteral("  the cluster's slots moved during the scan: every master was scanned %1 times")
                  .arg(r.scan_passes));
  if (!r.slot_map_settled)
    printLine(QStringLiteral("  warning: slots were still moving after the last pass; a key that moved to a master "
                             "already scanned may remain: run it again once the reshard is over"));
  if (r.cancelled) printLine(QStringLiteral("cancelled before the end"));
}

std::function<void(const tier::ops::InvalidateProgress&)> progressPrinter() {
  if (!stderrIsTerminal()) return {};
  return [](const tier::ops::InvalidateProgress& p) {
    // Rewritten in place; erased at the end, where the result says the same.
    const QByteArray line = p.done ? QByteArray("\r\033[K")
                                   : QStringLiteral("\rscanned %1  matched %2  deleted %3")
                                         .arg(thousands(p.scanned), thousands(p.matched), thousands(p.deleted))
                                         .toUtf8();
    std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
    std::fflush(stderr);
  };
}

}  // namespace

void addInvalidateOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("key"), QStringLiteral("One key, e.g. session:v1:42."), QStringLiteral("K")});
  parser.addOption({QStringLiteral("pattern"), QStringLiteral("A glob within a namespace, e.g. 'entry:*' (SCAN + UNLINK)."),
                    QStringLiteral("P")});
  parser.addOption({QStringLiteral("namespace"),
                    QStringLiteral("A whole namespace (entry, session, user, stats, knowledge): O(1) generation bump."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("user"), QStringLiteral("Every key of one user id."), QStringLiteral("U")});
  parser.addOption({QStringLiteral("dry-run"), QStringLiteral("Count and sample what matches; delete nothing.")});
  parser.addOption({QStringLiteral("yes"), QStringLiteral("Delete without asking (required when stdin is not a terminal).")});
  parser.addOption({QStringLiteral("allow-any-namespace"), QStringLiteral("Permit a pattern without a namespace prefix.")});
  parser.addOption({QStringLiteral("sample"), QStringLiteral("Keys to list in the sample (default 20)."), QStringLiteral("N")});
}

int runInvalidate(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("invalidate (--key K | --pattern P | --namespace N | --user U)"));
  InvalidateRequest req = requestFrom(ctx);
  tier::ops::validate(req);  // bad input is refused before anything connects
  const bool confirmed = ctx.isSet(QStringLiteral("yes"));
  if (!req.dry_run)
    ctx.guardDestructive(QStringLiteral("deletes cached keys"), confirmed, QStringLiteral("preview with --dry-run"));
  if (!req.dry_run && !confirmed && !stdinIsTerminal())
    throw UsageError(QStringLiteral("refusing to delete without --yes (stdin is not a terminal); preview with --dry-run"));

  auto& core = ctx.core();
  if (!core.hasRedis())
    throw UsageError(QStringLiteral("no Redis configured: give --redis URL, TIER_REDIS_URL, --profile or --sandbox"));
  installInterruptHandler();
  const auto progress = progressPrinter();

  if (!req.dry_run && !confirmed) {
    InvalidateRequest preview = req;
    preview.dry_run = true;
    const InvalidateResult p = tier::ops::invalidate(core, preview, progress, &interruptFlag());
    if (p.cancelled) {
      reportError("cancelled; nothing deleted");
      return tier::kExitPartial;
    }
    if (p.matched == 0 && req.kind != InvalidateKind::Namespace) {
      // Nothing to confirm: report the (empty) preview as the result.
      if (ctx.json())
        printJson(resultJson(p));
      else
        printResultText(p);
      return tier::kExitOk;
    }
    for (const auto& k : p.sample) printErrLine(QStringLiteral("  ") + quoteInput(fromStd(k)));
    if (!confirmOnTerminal(question(req, p.matched))) {
      reportError("not confirmed; nothing deleted");
      return tier::kExitFailure;
    }
  }

  const InvalidateResult r = tier::ops::invalidate(core, req, progress, &interruptFlag());
  if (ctx.json())
    printJson(resultJson(r));
  else
    printResultText(r);

  if (!r.audit_error.empty()) {
    reportError("invalidation done but its audit row was not written: " + r.audit_error);
    return tier::kExitPartial;
  }
  if (r.cancelled) {
    reportError("cancelled: " + std::to_string(r.deleted) + " of " + std::to_string(r.matched) +
                " matched keys deleted so far");
    return tier::kExitPartial;
  }
  // Keys that expired or were deleted by someone else between SCAN and UNLINK
  // are gone either way: deleted < matched is not a partial failure.
  return tier::kExitOk;
}

}  // namespace tierctl
