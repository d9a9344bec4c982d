#include <QJsonArray>
#include <climits>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/keyspace.h"

namespace tierctl {

namespace {

using tier::ops::Estimate;
using tier::ops::KeyspaceAnalysis;

QJsonObject estimateJson(const Estimate& e) {
  return QJsonObject{
      {QStringLiteral("value"), e.value}, {QStringLiteral("low"), e.low}, {QStringLiteral("high"), e.high}};
}

QJsonObject analysisJson(const KeyspaceAnalysis& a) {
  QJsonArray nodes;
  for (const auto& n : a.nodes)
    nodes.append(QJsonObject{
        {QStringLiteral("node"), fromStd(n.node)},
        {QStringLiteral("dbsize"), static_cast<double>(n.dbsize)},
        // null: no quota, the whole node was asked for
        {QStringLiteral("quota"), n.quota == LLONG_MAX ? QJsonValue() : QJsonValue(static_cast<double>(n.quota))},
        {QStringLiteral("sampled"), static_cast<double>(n.sampled)},
        {QStringLiteral("complete"), n.complete}});
  QJsonArray namespaces;
  for (const auto& ns : a.namespaces)
    namespaces.append(QJsonObject{
        {QStringLiteral("namespace"), fromStd(ns.ns)},
        {QStringLiteral("sampled_keys"), static_cast<double>(ns.sampled_keys)},
        {QStringLiteral("sampled_bytes"), static_cast<double>(ns.sampled_bytes)},
        {QStringLiteral("share"), estimateJson(ns.share)},
        {QStringLiteral("keys"), estimateJson(ns.keys)},
        {QStringLiteral("bytes"), estimateJson(ns.bytes)},
        {QStringLiteral("ttl"), QJsonObject{{QStringLiteral("none"), static_cast<double>(ns.ttl.none)},
                                            {QStringLiteral("under_1h"), static_cast<double>(ns.ttl.under_1h)},
                                            {QStringLiteral("under_1d"), static_cast<double>(ns.ttl.under_1d)},
                                            {QStringLiteral("longer"), static_cast<double>(ns.ttl.longer)}}},
        {QStringLiteral("old_generation"),
         QJsonObject{{QStringLiteral("sampled_keys"), static_cast<double>(ns.old_generation_keys)},
                     {QStringLiteral("sampled_bytes"), static_cast<double>(ns.old_generation_bytes)},
                     {QStringLiteral("keys"), estimateJson(ns.old_generation_keys_est)},
                     {QStringLiteral("bytes"), estimateJson(ns.old_generation_bytes_est)}}}});
  QJsonArray largest;
  for (const auto& k : a.largest)
    largest.append(QJsonObject{{QStringLiteral("key"), fromStd(k.key)},
                               {QStringLiteral("namespace"), fromStd(k.ns)},
                               {QStringLiteral("bytes"), static_cast<double>(k.bytes)},
                               {QStringLiteral("ttl_ms"), static_cast<double>(k.ttl_ms)}});
  QJsonArray hot;
  for (const auto& k : a.hot)
    hot.append(QJsonObject{{QStringLiteral("key"), fromStd(k.key)},
                           {QStringLiteral("namespace"), fromStd(k.ns)},
                           {QStringLiteral("freq"), static_cast<double>(k.freq)}});
  QJsonObject generations;
  for (const auto& [ns, g] : a.generations) generations.insert(fromStd(ns), static_cast<double>(g));
  QJsonArray unavailable;
  for (const auto& u : a.unavailable) unavailable.append(fromStd(u));
  return QJsonObject{
      {QStringLiteral("dbsize"), static_cast<double>(a.dbsize)},
      {QStringLiteral("sampled"), static_cast<double>(a.sampled)},
      {QStringLiteral("vanished"), static_cast<double>(a.vanished)},
      {QStringLiteral("exact"), a.exact},
      {QStringLiteral("truncated"), a.truncated},
      {QStringLiteral("method"), fromStd(a.method)},
      {QStringLiteral("confidence"), a.confidence},
      {QStringLiteral("duration_ms"), a.duration_ms},
      {QStringLiteral("nodes"), nodes},
      {QStringLiteral("namespaces"), namespaces},
      {QStringLiteral("largest"), largest},
      {QStringLiteral("old_generation"),
       QJsonObject{{QStringLiteral("sampled_keys"), static_cast<double>(a.old_generation_keys)},
                   {QStringLiteral("sampled_bytes"), static_cast<double>(a.old_generation_bytes)},
                   {QStringLiteral("keys"), estimateJson(a.old_generation_keys_est)},
                   {QStringLiteral("bytes"), estimateJson(a.old_generation_bytes_est)},
                   {QStringLiteral("reclaimable"), a.old_generation_keys > 0}}},
      {QStringLiteral("generations"), generations},
      {QStringLiteral("hot"), QJsonObject{{QStringLiteral("source"), fromStd(a.hot_source)},
                                          {QStringLiteral("note"), fromStd(a.hot_note)},
                                          {QStringLiteral("maxmemory_policy"), fromStd(a.maxmemory_policy)},
                                          {QStringLiteral("keys"), hot}}},
      {QStringLiteral("unavailable"), unavailable}};
}

// "1,234" when exact, else "≈1,234 (1,100-1,400)".
QString countText(const Estimate& e, bool exact) {
  if (exact) return thousands(std::llround(e.value));
  return QStringLiteral("~%1 (%2-%3)")
      .arg(thousands(std::llround(e.value)), thousands(std::llround(e.low)), thousands(std::llround(e.high)));
}
QString bytesText(const Estimate& e, bool exact) {
  if (exact) return formatBytes(std::llround(e.value));
  return QStringLiteral("~%1 (%2-%3)")
      .arg(formatBytes(std::llround(e.value)), formatBytes(std::llround(e.low)), formatBytes(std::llround(e.high)));
}

void printText(const KeyspaceAnalysis& a) {
  printLine(QStringLiteral("keyspace: %1 keys (DBSIZE over %2 master%3); %4 sampled%5%6")
                .arg(thousands(a.dbsize), QString::number(a.nodes.size()),
                     a.nodes.size() == 1 ? QString() : QStringLiteral("s"), thousands(a.sampled),
                     a.exact ? QStringLiteral(", exact") : QString(),
                     a.truncated ? QStringLiteral(", STOPPED EARLY (time limit or interrupt): a smaller sample")
                                 : QString()));
  printLine(QStringLiteral("sample: ") + fromStd(a.method));
  if (a.vanished > 0)
    printLine(QStringLiteral("%1 keys expired or moved between SCAN and examination (not counted)")
                  .arg(thousands(a.vanished)));
  printLine(QString());
  printLine(QStringLiteral("%1 %2 %3 %4  %5")
                .arg(QStringLiteral("namespace"), -10)
                .arg(QStringLiteral("keys"), -28)
                .arg(QStringLiteral("memory"), -34)
                .arg(QStringLiteral("share"), -8)
                .arg(a.exact ? QStringLiteral("TTL none / <1h / <1d / longer")
                             : QStringLiteral("TTL none / <1h / <1d / longer (in the sample)")));
  for (const auto& ns : a.namespaces)
    printLine(QStringLiteral("%1 %2 %3 %4  %5 / %6 / %7 / %8")
                  .arg(fromStd(ns.ns), -10)
                  .arg(countText(ns.keys, a.exact), -28)
                  .arg(bytesText(ns.bytes, a.exact), -34)
                  .arg(formatPercent(ns.share.value), -8)
                  .arg(thousands(ns.ttl.none), thousands(ns.ttl.under_1h), thousands(ns.ttl.under_1d),
                       thousands(ns.ttl.longer)));
  printLine(QString());
  if (a.old_generation_keys > 0) {
    printLine(
        QStringLiteral("old generation copies (a namespace invalidation left them; never read again, reclaimable): "
                       "%1 keys, %2")
            .arg(countText(a.old_generation_keys_est, a.exact), bytesText(a.old_generation_bytes_est, a.exact)));
    for (const auto& ns : a.namespaces)
      if (ns.old_generation_keys > 0)
        printLine(QStringLiteral("  %1: %2 keys, %3")
                      .arg(fromStd(ns.ns), countText(ns.old_generation_keys_est, a.exact),
                           bytesText(ns.old_generation_bytes_est, a.exact)));
  } else if (a.generations.empty()) {
    printLine(QStringLiteral("old generation copies: not judged (no namespace generation is set in Redis yet)"));
  } else {
    printLine(QStringLiteral("old generation copies: none in the sample"));
  }
  printLine(QString());
  printLine(
      QStringLiteral("largest keys (MEMORY USAGE%1):").arg(a.exact ? QString() : QStringLiteral(", in the sample")));
  for (const auto& k : a.largest)
    printLine(QStringLiteral("  %1  %2").arg(formatBytes(k.bytes), 10).arg(quoteInput(fromStd(k.key))));
  printLine(QString());
  if (a.hot_source == "object_freq" || a.hot_source == "l1_sketch") {
    printLine(QStringLiteral("hot keys (") + fromStd(a.hot_note) + QStringLiteral("):"));
    for (const auto& k : a.hot)
      printLine(QStringLiteral("  %1  %2").arg(QString::number(k.freq), 5).arg(quoteInput(fromStd(k.key))));
  } else {
    printLine(QStringLiteral("hot keys: not available (") + fromStd(a.hot_note) + QStringLiteral(")"));
  }
  for (const auto& u : a.unavailable) printLine(QStringLiteral("refused: ") + fromStd(u));
}

}  // namespace

void addAnalyzeOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("sample"),
                    QStringLiteral("Examine at most N keys (default 100,000; 1 to 10,000,000); the whole keyspace "
                                   "when it is smaller."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("reclaim"),
                    QStringLiteral("Instead of the analysis: delete every copy of an old namespace generation (a full "
                                   "SCAN; audited). With --dry-run: count them only.")});
  parser.addOption({QStringLiteral("dry-run"), QStringLiteral("With --reclaim: count, delete nothing.")});
  parser.addOption({QStringLiteral("yes"), QStringLiteral("With --reclaim: do not ask (required without a terminal "
                                                          "and on a production profile).")});
  parser.addOption({QStringLiteral("max-seconds"),
                    QStringLiteral("Stop sampling after S seconds (default 600) and report the smaller sample."),
                    QStringLiteral("S")});
}

namespace {

int runReclaim(Context& ctx) {
  if (ctx.isSet(QStringLiteral("sample")))
    throw UsageError(QStringLiteral("--reclaim walks every key: --sample does not apply"));
  const bool dryRun = ctx.isSet(QStringLiteral("dry-run"));
  const bool confirmed = ctx.isSet(QStringLiteral("yes"));
  if (!dryRun) {
    ctx.guardDestructive(QStringLiteral("--reclaim deletes old-generation copies"), confirmed,
                         QStringLiteral("count them with --reclaim --dry-run"));
    if (!confirmed && !stdinIsTerminal())
      throw UsageError(
          QStringLiteral("refusing to delete without --yes (stdin is not a terminal); count them with "
                         "--reclaim --dry-run"));
  }
  auto& core = ctx.core();
  if (!dryRun && !confirmed) {
    if (!confirmOnTerminal(QStringLiteral("Delete every copy of an old namespace generation (a full SCAN)? [y/N] "))) {
      reportError("not confirmed; nothing deleted");
      return tier::kExitFailure;
    }
  }
  installInterruptHandler();
  std::function<void(long long, long long)> progress;
  if (stderrIsTerminal())
    progress = [](long long scanned, long long matched) {
      const QByteArray line =
          QStringLiteral("\r\033[Kscanned %1  old-generation %2").arg(thousands(scanned), thousands(matched)).toUtf8();
      std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
      std::fflush(stderr);
    };
  const auto r = tier::ops::reclaimOldGenerations(core, dryRun, &interruptFlag(), progress);
  if (progress) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
  if (ctx.json()) {
    printJson(QJsonObject{{QStringLiteral("dry_run"), r.dry_run},
                          {QStringLiteral("scanned"), static_cast<double>(r.scanned)},
                          {QStringLiteral("matched"), static_cast<double>(r.matched)},
                          {QStringLiteral("deleted"), static_cast<double>(r.deleted)},
                          {QStringLiteral("l1_dropped"), static_cast<double>(r.l1_dropped)},
                          {QStringLiteral("cancelled"), r.cancelled},
                          {QStringLiteral("duration_ms"), r.duration_ms},
                          {QStringLiteral("audit_id"), static_cast<double>(r.audit_id)}});
  } else {
    printLine(QStringLiteral("%1 old-generation copies %2 (%3 keys scanned)")
                  .arg(thousands(r.dry_run ? r.matched : r.deleted),
                       r.dry_run ? QStringLiteral("found, none deleted (dry run)") : QStringLiteral("deleted"),
                       thousands(r.scanned)));
  }
  if (!r.audit_error.empty()) {
    reportError("reclaim done but its audit row was not written: " + r.audit_error);
    return tier::kExitPartial;
  }
  if (r.cancelled) {
    reportError("cancelled: " + std::to_string(r.deleted) + " old-generation copies deleted so far");
    return tier::kExitPartial;
  }
  return tier::kExitOk;
}

}  // namespace

int runAnalyze(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("analyze [--sample N] [--json]"));
  if (ctx.isSet(QStringLiteral("reclaim"))) return runReclaim(ctx);
  if (ctx.isSet(QStringLiteral("dry-run")) || ctx.isSet(QStringLiteral("yes")))
    throw UsageError(QStringLiteral("--dry-run and --yes go with --reclaim"));
  tier::ops::AnalyzeOptions opt;
  opt.sample = ctx.intOption(QStringLiteral("sample"), 1, tier::ops::kMaxAnalyzeSample, opt.sample);
  opt.time_limit = std::chrono::seconds(ctx.intOption(QStringLiteral("max-seconds"), 1, 86400, 600));
  installInterruptHandler();
  opt.cancel = &interruptFlag();
  if (stderrIsTerminal()) {
    opt.progress = [](const tier::ops::AnalyzeOptions::Progress& p) {
      const QByteArray line =
          QStringLiteral("\r\033[Ksampled %1 of %2").arg(thousands(p.sampled), thousands(p.target)).toUtf8();
      std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
      std::fflush(stderr);
    };
  }
  const KeyspaceAnalysis a = tier::ops::analyzeKeyspace(ctx.core(), opt);
  if (opt.progress) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
  if (ctx.json())
    printJson(analysisJson(a));
  else
    printText(a);
  // Stopped early: what is reported is right for the smaller sample, but not what was asked.
  return a.truncated ? tier::kExitPartial : tier::kExitOk;
}

}  // namespace tierctl
