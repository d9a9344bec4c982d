#include <QJsonArray>
#include <chrono>
#include <thread>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/common/clock.h"
#include "tier/metrics/alerts.h"
#include "tier/ops/warming.h"
#include "tier/metrics/thresholds.h"
#include "tier/workload/threads.h"
#include "tier/workload/workload.h"

namespace tierctl {

namespace {

using Clock = std::chrono::steady_clock;
using tier::workload::Workload;
using tier::workload::WorkloadCounters;
using tier::workload::WorkloadOptions;

struct RunResult {
  WorkloadCounters counters;
  tier::metrics::Snapshot lifetime;
  std::vector<tier::metrics::ThresholdResult> thresholds;
  int virtual_users = 0;
  int threads = 0;
  std::string threads_reason;  // "--threads 4" or the default rule's sentence (workload/threads.h)
  bool interrupted = false;
  std::vector<tier::metrics::AlertEvent> alerts;  // raised/cleared over the 10 s window, in order
};

// "ALERT raised redis_p99 violation 6.2ms (limit < 5ms)" / "ALERT cleared redis_p99 after 12 s (worst 9.1ms)"
QString alertLine(const tier::metrics::AlertEvent& e) {
  const tier::metrics::ThresholdResult now{e.name, e.value, e.limit, e.unit, e.status};
  const tier::metrics::ThresholdResult worst{e.name, e.worst, e.limit, e.unit, e.status};
  const tier::metrics::ThresholdResult limit{e.name, e.limit, e.limit, e.unit, e.status};
  if (e.kind == tier::metrics::AlertEvent::Kind::Raised)
    return QStringLiteral("ALERT raised %1 %2 %3 (limit %4 %5)")  // the Phase 0B operator, as in the table
        .arg(fromStd(e.name), QLatin1String(tier::metrics::toString(e.status)), thresholdValueText(now),
             e.unit == "ratio" ? QStringLiteral(">") : QStringLiteral("<"), thresholdValueText(limit));
  return QStringLiteral("ALERT cleared %1 after %2 s (worst %3)")
      .arg(fromStd(e.name), QString::number((e.at_ms - e.started_ms) / 1000.0, 'f', 0), thresholdValueText(worst));
}

QJsonObject alertJson(const tier::metrics::AlertEvent& e) {
  return QJsonObject{{QStringLiteral("event"), QLatin1String(tier::metrics::toString(e.kind))},
                     {QStringLiteral("name"), fromStd(e.name)},
                     {QStringLiteral("status"), QLatin1String(tier::metrics::toString(e.status))},
                     {QStringLiteral("value"), e.value},
                     {QStringLiteral("limit"), e.limit},
                     {QStringLiteral("unit"), fromStd(e.unit)},
                     {QStringLiteral("at_ms"), static_cast<double>(e.at_ms)},
                     {QStringLiteral("started_ms"), static_cast<double>(e.started_ms)},
                     {QStringLiteral("worst"), e.worst}};
}

QString shortName(const std::string& threshold) {
  if (threshold == "redis_p99") return QStringLiteral("redis");
  if (threshold == "session_retrieval_p99") return QStringLiteral("session");
  if (threshold == "db_query_p99") return QStringLiteral("db");
  if (threshold == "knowledge_p99") return QStringLiteral("knowledge");
  return fromStd(threshold);
}

// "12s  3,412 ops/s  hit 96.1%  redis p99 0.41ms ok  ...  failed 0 stale 0"
QString liveLine(double elapsedS, double opsPerS, const tier::metrics::Snapshot& window,
                 const std::vector<tier::metrics::ThresholdResult>& results, const WorkloadCounters& c) {
  QString line = QStringLiteral("%1s  %2 ops/s  hit %3")
                     .arg(QString::number(static_cast<long long>(elapsedS + 0.5)), thousands(static_cast<long long>(opsPerS + 0.5)),
                          window.counter(tier::metrics::Counter::Read) == 0 ? QStringLiteral("-")
                                                                             : formatPercent(window.hitRate()));
  for (const auto& r : results) {
    if (r.name == "hit_rate") {
      // The documented line shows the hit rate bare; only a problem is spelled out.
      if (r.status == tier::metrics::Status::Warn || r.status == tier::metrics::Status::Violation)
        line += QLatin1Char(' ') + QLatin1String(tier::metrics::toString(r.status));
      continue;
    }
    line += QStringLiteral("  %1 p99 %2 %3")
                .arg(shortName(r.name), thresholdValueText(r), QLatin1String(tier::metrics::toString(r.status)));
  }
  line += QStringLiteral("  failed %1 stale %2").arg(thousands(static_cast<long long>(c.failed_reads)),
                                                       thousands(static_cast<long long>(c.stale_reads)));
  if (c.failed_writes > 0) line += QStringLiteral(" write-errors %1").arg(thousands(static_cast<long long>(c.failed_writes)));
  return line;
}

// "write mode: read-only: not a sandbox database (Not a sandbox: ...)"
QString writeModeLine(const WorkloadCounters& c) {
  return QStringLiteral("write mode: %1 — %2")
      .arg(fromStd(c.write_mode_reason), fromStd(tier::redactSecrets(c.write_mode_detail)));
}

// "threads: 1 (default: 2 CPUs minus 1 each for the Redis and PostgreSQL servers on this host, at least 1)"
QString threadsLine(int threads, const std::string& reason) {
  return QStringLiteral("threads: %1 (%2)").arg(threads).arg(fromStd(reason));
}

// Runs the workload until its duration passes or Ctrl-C; `live` prints one line per second there.
RunResult runWorkload(Context& ctx, const WorkloadOptions& options, const std::string& threadsReason, std::FILE* live) {
  ctx.setMinPoolSize(options.threads);
  auto& core = ctx.core();
  installInterruptHandler();
  Workload workload(core, options);
  workload.start();
  if (live) {
    printTo(live, writeModeLine(workload.counters()));
    printTo(live, threadsLine(options.threads, threadsReason));
  }
  const auto started = Clock::now();
  auto nextTick = started + std::chrono::seconds(1);
  auto lastTick = started;
  std::uint64_t lastOps = 0;
  const auto deadline = options.duration.count() > 0 ? started + options.duration : Clock::time_point::max();
  RunResult out;
  tier::metrics::AlertMonitor alerts;
  while (workload.running() && Clock::now() < deadline) {
    if (interruptFlag().load()) {
      out.interrupted = true;
      break;
    }
    const auto now = Clock::now();
    if (now >= nextTick) {
      const WorkloadCounters c = workload.counters();
      const std::uint64_t ops = c.reads + c.writes;
      const double dt = std::chrono::duration<double>(now - lastTick).count();
      const tier::metrics::Snapshot window = core.metrics().snapshot(std::chrono::seconds(10));
      const auto results = tier::metrics::evaluate(window, core.config().thresholds);
      if (live)
        printTo(live, liveLine(std::chrono::duration<double>(now - started).count(),
                               dt > 0 ? static_cast<double>(ops - lastOps) / dt : 0, window, results, c));
      // The first seconds are warm-up on a cold cache: alert from the 10th on, a full window.
      if (now - started >= std::chrono::seconds(10)) {
        for (const auto& e : alerts.update(results, tier::unixMillisNow())) {
          if (live) printTo(live, alertLine(e));
          out.alerts.push_back(e);
        }
      }
      lastOps = ops;
      lastTick = now;
      while (nextTick <= now) nextTick += std::chrono::seconds(1);
    }
    // Polling keeps Ctrl-C responsive without a second thread.
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50), nextTick - Clock::now()));
  }
  workload.stop();
  out.counters = workload.counters();
  out.lifetime = core.metrics().snapshot(std::chrono::seconds(0));
  out.thresholds = tier::metrics::evaluate(out.lifetime, core.config().thresholds);
  out.virtual_users = options.virtual_users;
  out.threads = options.threads;
  out.threads_reason = threadsReason;
  return out;
}

QJsonObject resultJson(const RunResult& r) {
  const auto& c = r.counters;
  const double ops = static_cast<double>(c.reads + c.writes);
  QJsonObject latency;
  for (int i = 0; i < static_cast<int>(tier::metrics::Op::kCount); ++i) {
    const auto op = static_cast<tier::metrics::Op>(i);
    latency.insert(QLatin1String(tier::metrics::toString(op)), latencyJson(r.lifetime.op(op)));
  }
  QJsonObject o{{QStringLiteral("reads"), static_cast<double>(c.reads)},
                     {QStringLiteral("writes"), static_cast<double>(c.writes)},
                     {QStringLiteral("failed_reads"), static_cast<double>(c.failed_reads)},
                     {QStringLiteral("failed_writes"), static_cast<double>(c.failed_writes)},
                     {QStringLiteral("stale_reads"), static_cast<double>(c.stale_reads)},
                     {QStringLiteral("stale_served"),
                      static_cast<double>(r.lifetime.counter(tier::metrics::Counter::StaleServed))},
                     {QStringLiteral("errors"), static_cast<double>(c.errors)},
                     {QStringLiteral("hit_rate"), r.lifetime.hitRate()},
                     {QStringLiteral("l1_hit_rate"), r.lifetime.l1HitRate()},
                     {QStringLiteral("l2_hit_rate"), r.lifetime.l2HitRate()},
                     {QStringLiteral("thresholds"), thresholdsJson(r.thresholds)},
                     {QStringLiteral("duration_s"), c.elapsed_s},
                     {QStringLiteral("ops_per_s"), c.elapsed_s > 0 ? ops / c.elapsed_s : 0.0},
                     {QStringLiteral("virtual_users"), r.virtual_users},
                     {QStringLiteral("threads"), r.threads},
                     {QStringLiteral("threads_reason"), fromStd(r.threads_reason)},
                     {QStringLiteral("interrupted"), r.interrupted},
                     {QStringLiteral("searches"), static_cast<double>(c.searches)},
                     {QStringLiteral("write_mode"), fromStd(c.write_mode)},
                     {QStringLiteral("write_mode_reason"), fromStd(c.write_mode_reason)},
                     {QStringLiteral("write_mode_detail"), fromStd(tier::redactSecrets(c.write_mode_detail))},
                     {QStringLiteral("write_share"), c.write_share},
                     {QStringLiteral("synthetic_rows_created"), static_cast<double>(c.synthetic_rows_created)},
                     {QStringLiteral("synthetic_rows_removed"), static_cast<double>(c.synthetic_rows_removed)},
                     {QStringLiteral("audit_start_id"), static_cast<double>(c.audit_start_id)},
                     {QStringLiteral("audit_end_id"), static_cast<double>(c.audit_end_id)},
                     {QStringLiteral("alerts"), [&] {
                        QJsonArray a;
                        for (const auto& e : r.alerts) a.append(alertJson(e));
                        return a;
                      }()},
                     {QStringLiteral("latency"), latency}};
  if (!c.run_id.empty()) o.insert(QStringLiteral("run_id"), fromStd(c.run_id));
  if (!c.cleanup_error.empty()) o.insert(QStringLiteral("cleanup_error"), fromStd(tier::redactSecrets(c.cleanup_error)));
  if (!c.audit_error.empty()) o.insert(QStringLiteral("audit_error"), fromStd(tier::redactSecrets(c.audit_error)));
  return o;
}

void printResultText(const RunResult& r) {
  const auto& c = r.counters;
  const long long ops = static_cast<long long>(c.reads + c.writes);
  printLine(QStringLiteral("%1 s, %2 virtual users, %3 operations (%4 ops/s)%5")
                .arg(QString::number(c.elapsed_s, 'f', 1), thousands(r.virtual_users), thousands(ops),
                     thousands(c.elapsed_s > 0 ? static_cast<long long>(static_cast<double>(ops) / c.elapsed_s + 0.5) : 0),
                     r.interrupted ? QStringLiteral(", interrupted") : QString()));
  printLine(threadsLine(r.threads, r.threads_reason));
  printLine(QStringLiteral("reads %1  writes %2  failed_reads %3  stale_reads %4  errors %5")
                .arg(thousands(static_cast<long long>(c.reads)), thousands(static_cast<long long>(c.writes)),
                     thousands(static_cast<long long>(c.failed_reads)), thousands(static_cast<long long>(c.stale_reads)),
                     thousands(static_cast<long long>(c.errors))));
  printLine(QStringLiteral("hit rate %1 (L1 %2, L2 %3)")
                .arg(formatPercent(r.lifetime.hitRate()), formatPercent(r.lifetime.l1HitRate()),
                     formatPercent(r.lifetime.l2HitRate())));
  if (const auto stale = r.lifetime.counter(tier::metrics::Counter::StaleServed); stale > 0)
    printLine(QStringLiteral("served stale %1 (PostgreSQL unreachable)").arg(thousands(static_cast<long long>(stale))));
  for (const QString& line : thresholdsTable(r.thresholds)) printLine(line);
  printLine(QStringLiteral("write mode: %1 (write share %2)")
                .arg(fromStd(c.write_mode_reason), formatPercent(c.write_share)));
  if (c.write_mode == "synthetic")
    printLine(QStringLiteral("synthetic rows (run %1): created %2, removed %3")
                  .arg(fromStd(c.run_id), thousands(static_cast<long long>(c.synthetic_rows_created)),
                       thousands(static_cast<long long>(c.synthetic_rows_removed))));
}

int finish(Context& ctx, const RunResult& r) {
  if (ctx.json())
    printJson(resultJson(r));
  else
    printResultText(r);
  const auto& c = r.counters;
  int code = tier::kExitOk;
  if (!c.cleanup_error.empty()) {
    reportError(tier::redactSecrets(c.cleanup_error));
    code = tier::kExitPartial;
  }
  if (!c.audit_error.empty()) {
    reportError(tier::redactSecrets(c.audit_error));
    // A run that changed rows must be on record; a read-only one changed nothing.
    if (c.write_mode != "read-only") code = tier::kExitPartial;
  }
  if (c.failed_reads > 0 || c.stale_reads > 0) {
    reportError(std::to_string(c.failed_reads) + " failed and " + std::to_string(c.stale_reads) + " stale reads");
    code = tier::kExitPartial;
  }
  return code;
}

void addWorkloadOptions(QCommandLineParser& parser, const QString& usersDefault, const QString& durationHelp) {
  parser.addOption({QStringLiteral("users"), QStringLiteral("Virtual users (default %1).").arg(usersDefault),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("duration"), durationHelp, QStringLiteral("S")});
  parser.addOption({QStringLiteral("rate"), QStringLiteral("Target operations per second; 0 = as fast as possible (default 0)."),
                    QStringLiteral("R")});
  parser.addOption({QStringLiteral("threads"),
                    QStringLiteral("Worker threads, 1 to 256; the virtual users take turns on them (default: the CPUs this "
                                   "process may use, minus 1 for each of the Redis and PostgreSQL servers on this host, at "
                                   "least 1; the output says which number and why)."),
                    QStringLiteral("T")});
  parser.addOption({QStringLiteral("random-seed"), QStringLiteral("Seed of the item choice (default 1)."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("mix"),
                    QStringLiteral("Operation weights, e.g. entry_read=60,knowledge_lookup=40 (names: entry_read, "
                                   "session_read, message_append, knowledge_lookup, analytics_read, entry_edit, search; "
                                   "the ones not named keep their defaults)."),
                    QStringLiteral("NAME=W,...")});
}

// "--mix entry_read=60,search=5": the named weights replace the defaults.
void applyMix(const Context& ctx, tier::workload::Mix& m) {
  if (!ctx.isSet(QStringLiteral("mix"))) return;
  const QString text = ctx.value(QStringLiteral("mix"));
  const std::pair<const char*, int*> names[] = {{"entry_read", &m.entry_read},         {"session_read", &m.session_read},
                                                {"message_append", &m.message_append}, {"knowledge_lookup", &m.knowledge_lookup},
                                                {"analytics_read", &m.analytics_read}, {"entry_edit", &m.entry_edit},
                                                {"search", &m.search}};
  for (const QString& item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    const auto eq = item.indexOf(QLatin1Char('='));
    bool ok = false;
    const int w = eq > 0 ? item.mid(eq + 1).trimmed().toInt(&ok) : -1;
    int* target = nullptr;
    for (const auto& [name, field] : names)
      if (eq > 0 && item.left(eq).trimmed() == QLatin1String(name)) target = field;
    if (!target || !ok || w < 0 || w > 1'000'000)
      throw UsageError(QStringLiteral("--mix expects NAME=WEIGHT pairs (weights 0 to 1000000) with NAME one of entry_read, "
                                      "session_read, message_append, knowledge_lookup, analytics_read, entry_edit, "
                                      "search; not '%1'")
                           .arg(quoteInput(item)));
    *target = w;
  }
}

// `threadsReason` receives why o.threads is what it is ("--threads N" or the default rule's sentence).
WorkloadOptions workloadOptionsFrom(Context& ctx, int usersDefault, long long durationDefault, long long durationMin,
                                    std::string& threadsReason) {
  WorkloadOptions o;
  o.virtual_users = static_cast<int>(ctx.intOption(QStringLiteral("users"), 1, 10'000'000, usersDefault));
  o.duration = std::chrono::seconds(ctx.intOption(QStringLiteral("duration"), durationMin, 366LL * 86400, durationDefault));
  o.rate = ctx.doubleOption(QStringLiteral("rate"), 0, 1e9, 0);
  if (ctx.isSet(QStringLiteral("threads"))) {
    o.threads = static_cast<int>(ctx.intOption(QStringLiteral("threads"), 1, 256, o.threads));
    threadsReason = "--threads " + std::to_string(o.threads);
  } else {
    // Where the servers are decides it; resolving reads settings only (no connection).
    const tier::workload::ThreadChoice c = tier::workload::defaultThreads(ctx.resolveConfig());
    o.threads = std::min(c.threads, 256);
    threadsReason = c.reason;
  }
  o.seed = static_cast<std::uint64_t>(ctx.intOption(QStringLiteral("random-seed"), 0,
                                                     std::numeric_limits<long long>::max(), static_cast<long long>(o.seed)));
  applyMix(ctx, o.mix);
  return o;
}

}  // namespace

void addLoadOptions(QCommandLineParser& parser) {
  addWorkloadOptions(parser, QStringLiteral("1000"), QStringLiteral("Seconds to run; 0 = until Ctrl-C (default 60)."));
  parser.addOption({QStringLiteral("no-warm"),
                    QStringLiteral("Do not warm before starting (default: the profile's warm_on_start sets, "
                                   "knowledge articles unless the profile says otherwise).")});
  parser.addOption({QStringLiteral("allow-writes"),
                    QStringLiteral("On a database that is not the sandbox, write, but only to synthetic rows the run "
                                   "creates and removes again (default: read-only there).")});
  parser.addOption({QStringLiteral("cleanup"),
                    QStringLiteral("Remove the synthetic rows left by --allow-writes runs that are no longer alive, then "
                                   "exit.")});
  parser.addOption({QStringLiteral("yes"), QStringLiteral("Confirm --allow-writes on a profile tagged production.")});
}

namespace {

int runCleanup(Context& ctx) {
  const tier::workload::CleanupResult r = tier::workload::cleanupSyntheticRuns(ctx.core());
  if (ctx.json()) {
    QJsonArray ids;
    for (const auto& id : r.run_ids) ids.append(fromStd(id));
    QJsonObject o{{QStringLiteral("runs_cleaned"), r.runs_cleaned},
                  {QStringLiteral("runs_alive"), r.runs_alive},
                  {QStringLiteral("synthetic_rows_removed"), static_cast<double>(r.rows_removed)},
                  {QStringLiteral("run_ids"), ids}};
    if (!r.audit_error.empty()) o.insert(QStringLiteral("audit_error"), fromStd(tier::redactSecrets(r.audit_error)));
    printJson(o);
  } else {
    printLine(QStringLiteral("removed %1 synthetic rows of %2 finished load runs%3")
                  .arg(thousands(static_cast<long long>(r.rows_removed)), thousands(r.runs_cleaned),
                       r.runs_alive > 0 ? QStringLiteral("; %1 runs still alive were left alone").arg(r.runs_alive)
                                        : QString()));
  }
  if (!r.audit_error.empty()) {
    reportError(tier::redactSecrets(r.audit_error));
    return tier::kExitPartial;
  }
  return tier::kExitOk;
}

}  // namespace

int runLoad(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("load [--users N] [--duration S] [--rate R] [--threads T]"));
  if (ctx.isSet(QStringLiteral("cleanup"))) {
    if (ctx.isSet(QStringLiteral("allow-writes")))
      throw UsageError(QStringLiteral("--cleanup and --allow-writes do not go together: --cleanup runs no load"));
    // It deletes only the load's own rows: no --yes on production, but a read-only profile writes nothing.
    ctx.guardDestructive(QStringLiteral("--cleanup deletes the synthetic rows of earlier runs"), true);
    return runCleanup(ctx);
  }
  std::string threadsReason;
  WorkloadOptions o = workloadOptionsFrom(ctx, 1000, 60, 0, threadsReason);
  o.allow_writes = ctx.isSet(QStringLiteral("allow-writes"));
  if (o.allow_writes)
    ctx.guardDestructive(QStringLiteral("--allow-writes writes synthetic rows to the database"),
                         ctx.isSet(QStringLiteral("yes")), QStringLiteral("without --allow-writes the load only reads"));
  // Warm on start, as the platform does: the profile's warm_on_start sets
  // (default knowledge, read-heavy reference data; audited like tierctl warm).
  if (!ctx.isSet(QStringLiteral("no-warm")) && ctx.core().hasRedis()) {
    for (const auto set : ctx.warmOnStart()) {
      try {
        const auto w = tier::ops::warm(ctx.core(), set);
        printTo(stderr, QStringLiteral("warmed %1 %2 in %3 ms")
                            .arg(thousands(w.warmed + w.already), QLatin1String(tier::ops::toString(set)),
                                 QString::number(w.duration_ms, 'f', 0)));
      } catch (const tier::BadInputError&) {
        throw;
      } catch (const tier::Error& e) {
        // Warming is an optimisation; the load measures the cold cache instead.
        printTo(stderr, QStringLiteral("%1 not warmed: %2")
                            .arg(QLatin1String(tier::ops::toString(set)), fromStd(tier::redactSecrets(e.what()))));
      }
    }
  }
  // In JSON mode stdout carries only the final document.
  const RunResult r = runWorkload(ctx, o, threadsReason, ctx.json() ? stderr : stdout);
  return finish(ctx, r);
}

void addStatsOptions(QCommandLineParser& parser) {
  addWorkloadOptions(parser, QStringLiteral("100"), QStringLiteral("Seconds to probe (default 5)."));
}

int runStats(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("stats [--duration S]"));
  std::string threadsReason;
  WorkloadOptions o = workloadOptionsFrom(ctx, 100, 5, 1, threadsReason);
  // Read-only: the probe must not change the data it measures.
  o.mix.message_append = 0;
  o.mix.entry_edit = 0;
  o.audit_action.clear();  // a five-second probe that changes nothing, not a load run
  const RunResult r = runWorkload(ctx, o, threadsReason, nullptr);
  return finish(ctx, r);
}

}  // namespace tierctl
