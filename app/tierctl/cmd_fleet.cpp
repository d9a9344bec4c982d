// tierctl fleet: the instances that publish their metrics (docs/fleet-protocol.md)
// and the fleet's aggregate, once or (--watch) a line a second.
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <chrono>
#include <thread>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/fleet/reader.h"
#include "tier/metrics/thresholds.h"

namespace tierctl {

namespace {

using tier::metrics::Counter;

double hitRateOrNull(const tier::metrics::Snapshot& s) {
  return s.counter(Counter::Read) == 0 ? -1 : s.hitRate();
}

QJsonValue rateJson(double r) {
  return r < 0 ? QJsonValue() : QJsonValue(r);
}

QJsonObject instanceJson(const tier::fleet::InstanceView& i, const tier::Thresholds& limits, std::int64_t nowMs) {
  const auto& s = i.snapshot;
  return QJsonObject{{QStringLiteral("id"), fromStd(i.info.id)},
                     {QStringLiteral("app"), fromStd(i.info.app)},
                     {QStringLiteral("host"), fromStd(i.info.host)},
                     {QStringLiteral("pid"), static_cast<double>(i.info.pid)},
                     {QStringLiteral("core_version"), fromStd(i.info.core_version)},
                     {QStringLiteral("started_at_ms"), static_cast<double>(i.info.started_at_ms)},
                     {QStringLiteral("last_seen_ms"), static_cast<double>(i.info.last_seen_ms)},
                     {QStringLiteral("uptime_s"),
                      static_cast<double>((i.gone ? i.info.last_seen_ms : nowMs) - i.info.started_at_ms) / 1000.0},
                     {QStringLiteral("gone"), i.gone},
                     {QStringLiteral("samples"), static_cast<double>(i.sample_count)},
                     {QStringLiteral("ops_per_s"), i.ops_per_s},
                     {QStringLiteral("reads"), static_cast<double>(s.counter(Counter::Read))},
                     {QStringLiteral("writes"), static_cast<double>(s.counter(Counter::Write))},
                     {QStringLiteral("errors"), static_cast<double>(s.counter(Counter::Error))},
                     {QStringLiteral("stale_served"), static_cast<double>(s.counter(Counter::StaleServed))},
                     {QStringLiteral("hit_rate"), rateJson(hitRateOrNull(s))},
                     {QStringLiteral("l1_bytes"), static_cast<double>(i.total.l1_bytes)},
                     {QStringLiteral("thresholds"), thresholdsJson(tier::metrics::evaluate(s, limits))}};
}

QJsonObject fleetJson(const tier::fleet::FleetView& v, const tier::Thresholds& limits) {
  QJsonArray instances;
  for (const auto& i : v.instances) instances.append(instanceJson(i, limits, v.read_at_ms));
  QJsonObject latency;
  for (int i = 0; i < static_cast<int>(tier::metrics::Op::kCount); ++i) {
    const auto op = static_cast<tier::metrics::Op>(i);
    latency.insert(QLatin1String(tier::metrics::toString(op)), latencyJson(v.snapshot.op(op)));
  }
  QJsonArray reasons;
  for (const auto& r : v.malformed_reasons) reasons.append(fromStd(tier::redactSecrets(r)));
  double ops = 0;
  for (const auto& i : v.instances) ops += i.ops_per_s;
  const auto& s = v.snapshot;
  return QJsonObject{
      {QStringLiteral("read_at_ms"), static_cast<double>(v.read_at_ms)},
      {QStringLiteral("window_s"), static_cast<double>(v.window.count())},
      {QStringLiteral("instances"), instances},
      {QStringLiteral("instances_live"), static_cast<double>(v.live_instances())},
      {QStringLiteral("instances_gone"), static_cast<double>(v.instances.size() - v.live_instances())},
      {QStringLiteral("ops_per_s"), ops},
      {QStringLiteral("reads"), static_cast<double>(s.counter(Counter::Read))},
      {QStringLiteral("writes"), static_cast<double>(s.counter(Counter::Write))},
      {QStringLiteral("errors"), static_cast<double>(s.counter(Counter::Error))},
      {QStringLiteral("hit_rate"), rateJson(hitRateOrNull(s))},
      {QStringLiteral("l1_hit_rate"), s.counter(Counter::Read) ? QJsonValue(s.l1HitRate()) : QJsonValue()},
      {QStringLiteral("l2_hit_rate"), s.counter(Counter::Read) ? QJsonValue(s.l2HitRate()) : QJsonValue()},
      {QStringLiteral("thresholds"), thresholdsJson(tier::metrics::evaluate(s, limits))},
      {QStringLiteral("latency"), latency},
      {QStringLiteral("malformed"), static_cast<double>(v.malformed)},
      {QStringLiteral("malformed_reasons"), reasons}};
}

QString ago(std::int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 120'000) return QStringLiteral("%1 s ago").arg(ms / 1000);
  return QStringLiteral("%1 min ago").arg(ms / 60'000);
}

void printFleetText(const tier::fleet::FleetView& v, const tier::Thresholds& limits) {
  if (v.instances.empty()) {
    printLine(QStringLiteral("no instance publishes to this Redis (see docs/fleet-protocol.md)"));
  } else {
    printLine(QStringLiteral("%1 instances (%2 live, %3 gone), last %4 s")
                  .arg(v.instances.size())
                  .arg(v.live_instances())
                  .arg(v.instances.size() - v.live_instances())
                  .arg(v.window.count()));
    for (const auto& i : v.instances) {
      const auto& s = i.snapshot;
      QString line = QStringLiteral("  %1  %2  %3  pid %4  %5  %6 ops/s  hit %7")
                         .arg(fromStd(i.info.app), fromStd(i.info.id), fromStd(i.info.host))
                         .arg(i.info.pid)
                         .arg(i.gone ? QStringLiteral("gone, last seen ") + ago(v.read_at_ms - i.info.last_seen_ms)
                                     : QStringLiteral("up"),
                              thousands(static_cast<long long>(i.ops_per_s + 0.5)),
                              s.counter(Counter::Read) ? formatPercent(s.hitRate()) : QStringLiteral("-"));
      for (const auto& r : tier::metrics::evaluate(s, limits))
        if (r.name != "hit_rate" && r.status != tier::metrics::Status::NoData)
          line += QStringLiteral("  %1 %2").arg(fromStd(r.name), thresholdValueText(r));
      printLine(line);
    }
  }
  if (v.malformed > 0)
    printLine(
        QStringLiteral("malformed entries skipped: %1 (first: %2)")
            .arg(v.malformed)
            .arg(fromStd(tier::redactSecrets(v.malformed_reasons.empty() ? std::string() : v.malformed_reasons[0]))));
  printLine(QStringLiteral("fleet: hit rate %1")
                .arg(v.snapshot.counter(Counter::Read) ? formatPercent(v.snapshot.hitRate()) : QStringLiteral("-")));
  for (const QString& line : thresholdsTable(tier::metrics::evaluate(v.snapshot, limits))) printLine(line);
}

QString watchLine(const tier::fleet::FleetView& v, const tier::Thresholds& limits) {
  double ops = 0;
  for (const auto& i : v.instances) ops += i.ops_per_s;
  QString line =
      QStringLiteral("%1  %2 instances (%3 gone)  %4 ops/s  hit %5")
          .arg(QDateTime::fromMSecsSinceEpoch(v.read_at_ms).toString(QStringLiteral("HH:mm:ss")))
          .arg(v.live_instances())
          .arg(v.instances.size() - v.live_instances())
          .arg(thousands(static_cast<long long>(ops + 0.5)),
               v.snapshot.counter(Counter::Read) ? formatPercent(v.snapshot.hitRate()) : QStringLiteral("-"));
  for (const auto& r : tier::metrics::evaluate(v.snapshot, limits))
    if (r.name != "hit_rate")
      line += QStringLiteral("  %1 %2 %3")
                  .arg(fromStd(r.name), thresholdValueText(r), QLatin1String(tier::metrics::toString(r.status)));
  if (v.malformed) line += QStringLiteral("  malformed %1").arg(v.malformed);
  return line;
}

}  // namespace

void addFleetOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("watch"), QStringLiteral("Print a line a second until Ctrl-C.")});
  parser.addOption(
      {QStringLiteral("window"),
       QStringLiteral("Seconds of samples the aggregate covers (1-3600, default 10; over 120 reads the 10 s history)."),
       QStringLiteral("S")});
}

int runFleet(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("fleet [--json] [--watch] [--window S]"));
  const long long windowS = ctx.intOption(QStringLiteral("window"), 1, 3600, 10);
  auto& core = ctx.core();
  if (!core.hasRedis()) throw tier::BadInputError("no Redis configured: give --redis URL (or a profile)");
  tier::fleet::ReadOptions o;
  o.window = std::chrono::seconds(windowS);
  o.history = windowS > 120;  // the live stream keeps two minutes
  const auto& limits = core.config().thresholds;
  if (!ctx.isSet(QStringLiteral("watch"))) {
    const auto v = tier::fleet::readFleet(core.redis(), o, tier::unixMillisNow());
    if (ctx.json())
      printJson(fleetJson(v, limits));
    else
      printFleetText(v, limits);
    return tier::kExitOk;
  }
  installInterruptHandler();
  using Clock = std::chrono::steady_clock;
  auto next = Clock::now();
  while (!interruptFlag().load()) {
    const auto v = tier::fleet::readFleet(core.redis(), o, tier::unixMillisNow());
    if (ctx.json())
      printLine(QString::fromUtf8(QJsonDocument(fleetJson(v, limits)).toJson(QJsonDocument::Compact)));
    else
      printLine(watchLine(v, limits));
    next += std::chrono::seconds(1);
    while (!interruptFlag().load() && Clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return tier::kExitOk;
}

}  // namespace tierctl
