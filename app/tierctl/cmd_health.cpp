#include <QDateTime>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/health.h"
#include "tier/ops/server_series.h"
#include "tier/ops/session_sweeper.h"

namespace tierctl {

namespace {

QJsonObject redisPoolJson(const tier::redis::PoolStats& p) {
  return QJsonObject{{QStringLiteral("size"), p.size},
                     {QStringLiteral("open"), p.open},
                     {QStringLiteral("in_use"), p.in_use},
                     {QStringLiteral("connects"), static_cast<double>(p.connects)},
                     {QStringLiteral("connect_failures"), static_cast<double>(p.connect_failures)},
                     {QStringLiteral("commands"), static_cast<double>(p.commands)},
                     {QStringLiteral("errors"), static_cast<double>(p.errors)},
                     {QStringLiteral("breaker"), QLatin1String(tier::redis::toString(p.breaker))},
                     {QStringLiteral("last_error"), fromStd(tier::redactSecrets(p.last_error))}};
}

QJsonObject pgPoolJson(const tier::pg::PoolStats& p) {
  return QJsonObject{{QStringLiteral("size"), p.size},
                     {QStringLiteral("open"), p.open},
                     {QStringLiteral("in_use"), p.in_use},
                     {QStringLiteral("connects"), static_cast<double>(p.connects)},
                     {QStringLiteral("connect_failures"), static_cast<double>(p.connect_failures)},
                     {QStringLiteral("queries"), static_cast<double>(p.queries)},
                     {QStringLiteral("errors"), static_cast<double>(p.errors)},
                     {QStringLiteral("last_error"), fromStd(tier::redactSecrets(p.last_error))}};
}

// This process's fleet telemetry (docs/fleet-protocol.md); tierctl publishes only while `load` runs.
QJsonObject fleetPublisherJson(const tier::ops::HealthReport& h) {
  const auto& f = h.fleet_publisher;
  return QJsonObject{{QStringLiteral("enabled"), h.fleet_publishing},
                     {QStringLiteral("instance_id"), fromStd(f.instance_id)},
                     {QStringLiteral("published"), static_cast<double>(f.published)},
                     {QStringLiteral("failed"), static_cast<double>(f.failed)},
                     {QStringLiteral("refused"), static_cast<double>(f.refused)},
                     {QStringLiteral("last_ok_ms"), static_cast<double>(f.last_ok_ms)},
                     {QStringLiteral("cpu_ms"), static_cast<double>(f.cpu_ns) / 1e6},
                     {QStringLiteral("last_error"), fromStd(tier::redactSecrets(f.last_error))}};
}

QJsonObject backplaneJson(const tier::cache::BackplaneStats& b) {
  return QJsonObject{{QStringLiteral("enabled"), b.enabled},
                     {QStringLiteral("link"), QLatin1String(tier::cache::toString(b.link))},
                     {QStringLiteral("channel"), fromStd(b.channel)},
                     {QStringLiteral("instance_id"), QString::number(b.instance_id, 16)},
                     {QStringLiteral("messages_sent"), static_cast<double>(b.sent)},
                     {QStringLiteral("send_failures"), static_cast<double>(b.send_failures)},
                     {QStringLiteral("publish_errors"), static_cast<double>(b.publish_errors)},
                     {QStringLiteral("messages_received"), static_cast<double>(b.received)},
                     {QStringLiteral("own_messages_ignored"), static_cast<double>(b.ignored_own)},
                     {QStringLiteral("malformed"), static_cast<double>(b.malformed)},
                     {QStringLiteral("sequence_gaps"), static_cast<double>(b.gaps)},
                     {QStringLiteral("l1_flushes"), static_cast<double>(b.flushes)},
                     {QStringLiteral("link_losses"), static_cast<double>(b.link_losses)},
                     {QStringLiteral("subscribes"), static_cast<double>(b.subscribes)},
                     {QStringLiteral("queued"), static_cast<double>(b.queued)},
                     {QStringLiteral("last_message_lag_ms"), b.last_lag_ms},
                     {QStringLiteral("last_resubscribe_ms"), b.last_resubscribe_ms},
                     {QStringLiteral("link_up_since_unix_ms"), static_cast<double>(b.link_up_since_unix_ms)},
                     {QStringLiteral("last_error"), fromStd(tier::redactSecrets(b.last_error))}};
}

QJsonObject replicaJson(const tier::ops::ReplicaHealth& r) {
  const auto& g = r.routing;
  QJsonObject routing{{QStringLiteral("replica_reads"), static_cast<double>(g.replica_reads)},
                      {QStringLiteral("primary_reads"), static_cast<double>(g.primary_reads)},
                      {QStringLiteral("fallback_down"), static_cast<double>(g.fallback_down)},
                      {QStringLiteral("fallback_lag"), static_cast<double>(g.fallback_lag)},
                      {QStringLiteral("fallback_error"), static_cast<double>(g.fallback_error)},
                      {QStringLiteral("last_error"), fromStd(tier::redactSecrets(g.last_error))}};
  return QJsonObject{{QStringLiteral("configured"), r.configured},
                     {QStringLiteral("ok"), r.ok},
                     {QStringLiteral("error"), fromStd(tier::redactSecrets(r.error))},
                     {QStringLiteral("endpoint"), fromStd(tier::redactSecrets(r.endpoint))},
                     {QStringLiteral("latency_ms"), r.latency_ms},
                     {QStringLiteral("lag_bytes"), static_cast<double>(r.lag_bytes)},
                     {QStringLiteral("lag_seconds"), r.lag_seconds},
                     {QStringLiteral("routing"), routing},
                     {QStringLiteral("pool"), pgPoolJson(g.pool)}};
}

QJsonObject healthJson(const tier::ops::HealthReport& h) {
  const auto& r = h.redis;
  const auto& p = h.postgres;
  QJsonObject redis{{QStringLiteral("configured"), r.configured},
                    {QStringLiteral("ok"), r.ok},
                    {QStringLiteral("error"), fromStd(tier::redactSecrets(r.error))},
                    {QStringLiteral("endpoint"), fromStd(r.endpoint)},
                    {QStringLiteral("version"), fromStd(r.version)},
                    {QStringLiteral("latency_ms"), r.latency_ms},
                    {QStringLiteral("used_memory"), static_cast<double>(r.used_memory)},
                    {QStringLiteral("used_memory_human"), fromStd(r.used_memory_human)},
                    {QStringLiteral("connected_clients"), static_cast<double>(r.connected_clients)},
                    {QStringLiteral("keyspace_hits"), static_cast<double>(r.keyspace_hits)},
                    {QStringLiteral("keyspace_misses"), static_cast<double>(r.keyspace_misses)},
                    {QStringLiteral("evicted_keys"), static_cast<double>(r.evicted_keys)},
                    {QStringLiteral("db_keys"), static_cast<double>(r.db_keys)},
                    {QStringLiteral("latencystats"), fromStd(r.latencystats)},
                    {QStringLiteral("slowlog_len"), static_cast<double>(r.slowlog_len)},
                    {QStringLiteral("latency_latest"), fromStd(r.latency_latest)},
                    {QStringLiteral("pool"), redisPoolJson(r.pool)}};
  redis.insert(QStringLiteral("mode"), fromStd(r.mode));
  redis.insert(QStringLiteral("master"), fromStd(r.master));
  redis.insert(QStringLiteral("nodes_down"), r.nodes_down);
  QJsonArray nodes;
  for (const auto& n : r.nodes) {
    QJsonArray slots;
    for (auto [a, b] : n.slots) slots.append(QJsonArray{a, b});
    nodes.append(QJsonObject{{QStringLiteral("address"), fromStd(n.address)},
                             {QStringLiteral("role"), fromStd(n.role)},
                             {QStringLiteral("id"), fromStd(n.id)},
                             {QStringLiteral("master"), fromStd(n.master)},
                             {QStringLiteral("slots"), slots},
                             {QStringLiteral("slot_count"), n.slot_count},
                             {QStringLiteral("flags"), fromStd(n.flags)},
                             {QStringLiteral("up"), n.up},
                             {QStringLiteral("ping_ms"), n.ping_ms},
                             {QStringLiteral("keys"), static_cast<double>(n.keys)},
                             {QStringLiteral("error"), fromStd(tier::redactSecrets(n.error))}});
  }
  redis.insert(QStringLiteral("nodes"), nodes);
  // Commands arrive masked and shortened from the core (ops::formatSlowlogCommand).
  QJsonArray slowlog;
  for (const auto& e : r.slowlog)
    slowlog.append(QJsonObject{{QStringLiteral("id"), static_cast<double>(e.id)},
                               {QStringLiteral("at_ms"), static_cast<double>(e.at_ms)},
                               {QStringLiteral("duration_us"), static_cast<double>(e.duration_us)},
                               {QStringLiteral("command"), fromStd(e.command)},
                               {QStringLiteral("client"), fromStd(e.client)},
                               {QStringLiteral("client_name"), fromStd(e.client_name)},
                               {QStringLiteral("node"), fromStd(e.node)}});
  redis.insert(QStringLiteral("slowlog"), slowlog);
  redis.insert(QStringLiteral("slowlog_error"), fromStd(r.slowlog_error));
  redis.insert(QStringLiteral("slowlog_log_slower_than_us"),
               r.slowlog_threshold_known ? QJsonValue(static_cast<double>(r.slowlog_log_slower_than_us))
                                         : QJsonValue(QJsonValue::Null));
  redis.insert(QStringLiteral("slowlog_log_slower_than_error"), fromStd(r.slowlog_threshold_error));
  redis.insert(QStringLiteral("slowlog_log_slower_than_varies"), r.slowlog_threshold_varies);
  QJsonObject postgres{{QStringLiteral("ok"), p.ok},
                       {QStringLiteral("error"), fromStd(tier::redactSecrets(p.error))},
                       {QStringLiteral("endpoint"), fromStd(tier::redactSecrets(p.endpoint))},
                       {QStringLiteral("version"), fromStd(p.version)},
                       {QStringLiteral("latency_ms"), p.latency_ms},
                       {QStringLiteral("cache_hit_ratio"), p.cache_hit_ratio},
                       {QStringLiteral("connections"), static_cast<double>(p.connections)},
                       {QStringLiteral("max_connections"), static_cast<double>(p.max_connections)},
                       {QStringLiteral("role"), fromStd(p.role)},
                       {QStringLiteral("schema_version"), p.schema_version},
                       {QStringLiteral("pool"), pgPoolJson(p.pool)}};
  return QJsonObject{{QStringLiteral("redis"), redis},
                     {QStringLiteral("postgres"), postgres},
                     {QStringLiteral("backplane"), backplaneJson(h.backplane)},
                     {QStringLiteral("replica"), replicaJson(h.replica)},
                     {QStringLiteral("fleet_publisher"), fleetPublisherJson(h)}};
}

void printHealthText(const tier::ops::HealthReport& h) {
  const auto& r = h.redis;
  if (!r.configured) {
    printLine(QStringLiteral("redis     not configured (L1 + L3 only)"));
  } else if (!r.ok) {
    printLine(QStringLiteral("redis     DOWN  %1  %2").arg(fromStd(r.endpoint), fromStd(tier::redactSecrets(r.error))));
  } else {
    // The console's words for the same state: "degraded (circuit open)" while the breaker is not closed.
    const QString state = r.pool.breaker == tier::redis::BreakerState::Closed
                              ? QStringLiteral("ok   ")
                              : QStringLiteral("degraded (circuit %1)").arg(QLatin1String(tier::redis::toString(r.pool.breaker)));
    printLine(QStringLiteral("redis     %10 %1  v%2  ping %3  memory %4  clients %5  keys %6  hits %7  misses %8  "
                             "evicted %9")
                  .arg(fromStd(r.endpoint), fromStd(r.version), formatMs(r.latency_ms), fromStd(r.used_memory_human),
                       thousands(r.connected_clients), thousands(r.db_keys), thousands(r.keyspace_hits),
                       thousands(r.keyspace_misses), thousands(r.evicted_keys), state));
    printLine(QStringLiteral("          slowlog %1  pool %2/%3 open, %4 in use, circuit %5")
                  .arg(thousands(r.slowlog_len), QString::number(r.pool.open), QString::number(r.pool.size),
                       QString::number(r.pool.in_use), QLatin1String(tier::redis::toString(r.pool.breaker))));
    const QString threshold =
        r.slowlog_threshold_known
            ? QStringLiteral("%1 µs%2").arg(thousands(r.slowlog_log_slower_than_us),
                                            r.slowlog_threshold_varies ? QStringLiteral(" (varies by node)") : QString())
            : QStringLiteral("unknown (%1)").arg(fromStd(r.slowlog_threshold_error));
    printLine(QStringLiteral("          slowlog-log-slower-than %1%2")
                  .arg(threshold, r.slowlog_error.empty() ? QString() : QStringLiteral("  ") + fromStd(r.slowlog_error)));
    // The newest few; --json carries all (up to 128 per node).
    const std::size_t shown = std::min<std::size_t>(r.slowlog.size(), 10);
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& e = r.slowlog[i];
      printLine(QStringLiteral("          %1  %2 µs  %3  %4%5%6")
                    .arg(QDateTime::fromMSecsSinceEpoch(e.at_ms).toString(QStringLiteral("HH:mm:ss")),
                         thousands(e.duration_us), fromStd(e.command), fromStd(e.client),
                         e.client_name.empty() ? QString() : QStringLiteral(" (%1)").arg(fromStd(e.client_name)),
                         r.mode == "single" ? QString() : QStringLiteral("  on %1").arg(fromStd(e.node))));
    }
    if (r.slowlog.size() > shown)
      printLine(QStringLiteral("          … %1 more (tierctl health --json lists them)").arg(r.slowlog.size() - shown));
  }
  if (r.configured && r.mode != "single") {
    printLine(QStringLiteral("          %1%2, %3 nodes, %4 down")
                  .arg(fromStd(r.mode),
                       r.master.empty() ? QString() : QStringLiteral(" master %1").arg(fromStd(r.master)),
                       QString::number(r.nodes.size()), QString::number(r.nodes_down)));
    for (const auto& n : r.nodes) {
      QString line = QStringLiteral("          %1 %2 %3")
                         .arg(fromStd(n.role), -8)
                         .arg(fromStd(n.address), -22)
                         .arg(n.up ? QStringLiteral("up  ") : QStringLiteral("DOWN"));
      if (n.ping_ms >= 0) line += QStringLiteral("  ping %1").arg(formatMs(n.ping_ms));
      if (n.slot_count > 0) line += QStringLiteral("  slots %1").arg(n.slot_count);
      if (!n.master.empty()) line += QStringLiteral("  replica of %1").arg(fromStd(n.master));
      if (n.keys >= 0) line += QStringLiteral("  keys %1").arg(thousands(n.keys));
      if (!n.up && !n.error.empty()) line += QStringLiteral("  ") + fromStd(tier::redactSecrets(n.error));
      printLine(line);
    }
  }
  const auto& p = h.postgres;
  if (!p.ok) {
    printLine(
        QStringLiteral("postgres  DOWN  %1  %2").arg(fromStd(tier::redactSecrets(p.endpoint)), fromStd(tier::redactSecrets(p.error))));
  } else {
    printLine(QStringLiteral("postgres  ok    %1  v%2  select 1 %3  cache hit %4  connections %5/%6  role %7  schema v%8")
                  .arg(fromStd(tier::redactSecrets(p.endpoint)), fromStd(p.version), formatMs(p.latency_ms),
                       formatPercent(p.cache_hit_ratio), thousands(p.connections), thousands(p.max_connections),
                       fromStd(p.role), QString::number(p.schema_version)));
    printLine(QStringLiteral("          pool %1/%2 open, %3 in use")
                  .arg(QString::number(p.pool.open), QString::number(p.pool.size), QString::number(p.pool.in_use)));
  }
  const auto& rp = h.replica;
  const auto& rg = rp.routing;
  const QString routed =
      QStringLiteral("routed reads: replica %1, primary %2 (down %3, behind %4, failed %5)")
          .arg(thousands(static_cast<long long>(rg.replica_reads)), thousands(static_cast<long long>(rg.primary_reads)),
               thousands(static_cast<long long>(rg.fallback_down)), thousands(static_cast<long long>(rg.fallback_lag)),
               thousands(static_cast<long long>(rg.fallback_error)));
  if (!rp.configured) {
    printLine(QStringLiteral("replica   not configured (every read on the primary)"));
  } else if (!rp.ok) {
    printLine(QStringLiteral("replica   DOWN  %1  %2  (reads fall back to the primary)")
                  .arg(fromStd(tier::redactSecrets(rp.endpoint)), fromStd(tier::redactSecrets(rp.error))));
    printLine(QStringLiteral("          ") + routed);
  } else {
    printLine(QStringLiteral("replica   ok    %1  status query %2  replay lag %3 bytes, %4 s")
                  .arg(fromStd(tier::redactSecrets(rp.endpoint)), formatMs(rp.latency_ms),
                       rp.lag_bytes < 0 ? QStringLiteral("?") : thousands(rp.lag_bytes),
                       QString::number(rp.lag_seconds, 'f', 3)));
    printLine(QStringLiteral("          ") + routed);
  }
  const auto& b = h.backplane;
  if (!b.enabled) {
    printLine(QStringLiteral("backplane off (L1 copies capped, not invalidated across instances)"));
  } else {
    printLine(QStringLiteral("backplane %1  %2  sent %3 (failed %4)  received %5  gaps %6  L1 flushes %7  link losses %8%9")
                  .arg(QLatin1String(tier::cache::toString(b.link)), fromStd(b.channel), thousands(static_cast<long long>(b.sent)),
                       thousands(static_cast<long long>(b.send_failures)), thousands(static_cast<long long>(b.received)),
                       thousands(static_cast<long long>(b.gaps)), thousands(static_cast<long long>(b.flushes)),
                       thousands(static_cast<long long>(b.link_losses)),
                       b.last_error.empty() ? QString() : QStringLiteral("  ") + fromStd(tier::redactSecrets(b.last_error))));
  }
  if (h.fleet_publishing) {
    const auto& f = h.fleet_publisher;
    printLine(QStringLiteral("fleet     %1  published %2  failed %3 (refused %4)%5")
                  .arg(fromStd(f.instance_id), thousands(static_cast<long long>(f.published)),
                       thousands(static_cast<long long>(f.failed)), thousands(static_cast<long long>(f.refused)),
                       f.last_error.empty() ? QString() : QStringLiteral("  ") + fromStd(tier::redactSecrets(f.last_error))));
  }
}

// --server-series (issue 14, item 4): NaN (unknown) is JSON null, never 0.
QJsonValue num(double v) { return std::isnan(v) ? QJsonValue(QJsonValue::Null) : QJsonValue(v); }

QJsonObject serverSeriesJson(const tier::ops::ServerSeriesPoint& p) {
  QJsonObject commands;
  for (const auto& [cmd, l] : p.command_latency)
    commands.insert(fromStd(cmd), QJsonObject{{QStringLiteral("p50_us"), num(l.p50_us)},
                                              {QStringLiteral("p99_us"), num(l.p99_us)},
                                              {QStringLiteral("p99_9_us"), num(l.p999_us)}});
  for (const auto& [cmd, rate] : p.command_calls_per_s) {
    QJsonObject o = commands.value(fromStd(cmd)).toObject();
    o.insert(QStringLiteral("calls_per_s"), num(rate));
    commands.insert(fromStd(cmd), o);
  }
  QJsonObject redis{{QStringLiteral("configured"), p.redis_configured},
                    {QStringLiteral("ok"), p.redis_ok},
                    {QStringLiteral("error"), fromStd(tier::redactSecrets(p.redis_error))},
                    {QStringLiteral("scope"), fromStd(p.redis_scope)},
                    {QStringLiteral("reset"), p.redis_reset},
                    {QStringLiteral("keyspace_hit_rate"), num(p.keyspace_hit_rate)},
                    {QStringLiteral("keyspace_hits"), static_cast<double>(p.keyspace_hits_delta)},
                    {QStringLiteral("keyspace_misses"), static_cast<double>(p.keyspace_misses_delta)},
                    {QStringLiteral("commands_per_s"), num(p.commands_per_s)},
                    {QStringLiteral("evicted_per_s"), num(p.evicted_per_s)},
                    {QStringLiteral("connected_clients"), num(p.connected_clients)},
                    {QStringLiteral("used_memory"), num(p.used_memory)},
                    {QStringLiteral("latency_note"), fromStd(p.latency_note)},
                    {QStringLiteral("malformed"), p.malformed},
                    {QStringLiteral("commands"), commands}};
  QJsonArray top;
  for (const auto& st : p.top_statements)
    top.append(QJsonObject{{QStringLiteral("query"), fromStd(st.query)},
                           {QStringLiteral("calls_per_s"), num(st.calls_per_s)},
                           {QStringLiteral("mean_ms"), num(st.mean_ms)},
                           {QStringLiteral("total_ms"), num(st.total_ms)}});
  QJsonObject pg{{QStringLiteral("ok"), p.pg_ok},
                 {QStringLiteral("error"), fromStd(tier::redactSecrets(p.pg_error))},
                 {QStringLiteral("database"), fromStd(p.pg_database)},
                 {QStringLiteral("reset"), p.pg_reset},
                 {QStringLiteral("transactions_per_s"), num(p.transactions_per_s)},
                 {QStringLiteral("block_hit_ratio"), num(p.block_hit_ratio)},
                 {QStringLiteral("statements"), QLatin1String(tier::ops::toString(p.statements_state))},
                 {QStringLiteral("statements_note"), fromStd(p.statements_note)},
                 {QStringLiteral("top_statements"), top}};
  return QJsonObject{{QStringLiteral("measured_at"), QStringLiteral("server")},
                     {QStringLiteral("interval_s"), p.interval_s},
                     {QStringLiteral("redis"), redis},
                     {QStringLiteral("postgres"), pg}};
}

void printServerSeriesText(const tier::ops::ServerSeriesPoint& p) {
  auto val = [](double v, int prec) { return std::isnan(v) ? QStringLiteral("?") : QString::number(v, 'f', prec); };
  // NaN: nothing to divide (no key read, no block asked for), not 0 %.
  auto pct = [](double v) { return std::isnan(v) ? QStringLiteral("- (none asked)") : formatPercent(v); };
  QString redis;
  if (!p.redis_configured)
    redis = QStringLiteral("redis not configured");
  else if (!p.redis_ok)
    redis = QStringLiteral("redis: ") + fromStd(tier::redactSecrets(p.redis_error));
  else
    redis = QStringLiteral("redis (%1) %2 commands/s, keyspace hit rate %3, evicted %4/s")
                .arg(fromStd(p.redis_scope), val(p.commands_per_s, 0), pct(p.keyspace_hit_rate),
                     val(p.evicted_per_s, 1));
  printLine(QStringLiteral("server    measured at the server over %1 s: %2")
                .arg(QString::number(p.interval_s, 'f', 1), redis));
  if (p.redis_ok) {
    QStringList lat;
    for (const char* c : {"get", "set", "eval", "evalsha", "unlink"})
      if (auto it = p.command_latency.find(c); it != p.command_latency.end())
        lat << QStringLiteral("%1 %2 µs").arg(QLatin1String(c).toString().toUpper(), val(it->second.p99_us, 1));
    printLine(QStringLiteral("          p99 since server start: %1")
                  .arg(lat.isEmpty() ? fromStd(p.latency_note) : lat.join(QStringLiteral(", "))));
  }
  if (!p.pg_ok) {
    printLine(QStringLiteral("          postgres: ") + fromStd(tier::redactSecrets(p.pg_error)));
    return;
  }
  printLine(QStringLiteral("          postgres %1 transactions/s, block hit ratio %2%3")
                .arg(val(p.transactions_per_s, 1), pct(p.block_hit_ratio),
                     p.statements_note.empty() ? QString() : QStringLiteral("; ") + fromStd(p.statements_note)));
  for (const auto& st : p.top_statements)
    printLine(QStringLiteral("          %1 calls/s  mean %2  %3")
                  .arg(val(st.calls_per_s, 1), formatMs(st.mean_ms), fromStd(st.query).simplified()));
}

// The session sweeper (issue 15): this process's job, and who holds the lock per pg_locks.
QJsonObject sessionSweeperJson(const tier::ops::SessionSweeperStatus& s) {
  const auto& t = s.stats;
  return QJsonObject{{QStringLiteral("enabled"), t.enabled},
                     {QStringLiteral("holder"), t.holder},
                     {QStringLiteral("lock_holder"), fromStd(s.lock_holder)},
                     {QStringLiteral("lock_holder_pid"), s.lock_holder_pid},
                     {QStringLiteral("idle_limit_s"), static_cast<double>(t.idle_limit_s)},
                     {QStringLiteral("interval_ms"), static_cast<double>(t.interval_ms)},
                     {QStringLiteral("last_run_ms"), static_cast<double>(t.last_run_ms)},
                     {QStringLiteral("last_expired"), static_cast<double>(t.last_expired)},
                     {QStringLiteral("total_expired"), static_cast<double>(t.total_expired)},
                     {QStringLiteral("runs"), static_cast<double>(t.runs)},
                     {QStringLiteral("last_duration_ms"), t.last_duration_ms},
                     {QStringLiteral("last_error"), fromStd(tier::redactSecrets(t.last_error))},
                     {QStringLiteral("lock_error"), fromStd(tier::redactSecrets(s.lock_error))}};
}

void printSessionSweeperText(const tier::ops::SessionSweeperStatus& s) {
  const auto& t = s.stats;
  const QString lock = s.lock_holder_pid > 0 ? QStringLiteral("lock: %1 (pid %2)").arg(fromStd(s.lock_holder)).arg(s.lock_holder_pid)
                                             : QStringLiteral("lock: %1").arg(fromStd(s.lock_holder));
  const QString idle = fromStd(tier::ops::formatDuration(std::chrono::seconds(t.idle_limit_s)));
  if (!t.enabled) {
    printLine(QStringLiteral("sweeper   off in this process  idle limit %1  %2").arg(idle, lock));
    return;
  }
  const QString last = t.last_run_ms > 0 ? QStringLiteral("last run %1, %2 expired").arg(isoTime(t.last_run_ms), thousands(t.last_expired))
                                         : QStringLiteral("no run yet");
  printLine(QStringLiteral("sweeper   %1  idle limit %2  every %3 s  %4  total %5  %6%7")
                .arg(t.holder ? QStringLiteral("holder") : QStringLiteral("standby"), idle,
                     QString::number(static_cast<double>(t.interval_ms) / 1000.0), last, thousands(t.total_expired), lock,
                     t.last_error.empty() ? QString() : QStringLiteral("  ") + fromStd(tier::redactSecrets(t.last_error))));
}

// The report only carries text; one typed probe tells connect (3) from permission (4).
int failureExitCode(tier::TierCore& core, const tier::ops::HealthReport& h) {
  if (h.redis.configured && !h.redis.ok && core.hasRedis()) {
    try {
      core.redis().ping();
    } catch (const tier::Error& e) {
      return tier::exitCodeFor(e.kind());
    }
  }
  if (!h.postgres.ok) {
    try {
      auto lease = core.pg().acquire();
      lease->exec("SELECT 1");
    } catch (const tier::Error& e) {
      return tier::exitCodeFor(e.kind());
    }
  }
  return tier::kExitConnect;
}

}  // namespace

void addHealthOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("server-series"),
                    QStringLiteral("Also what the servers count themselves over ~1 s: Redis INFO (commands/s, keyspace "
                                   "hit rate, p99 per command) and PostgreSQL (transactions/s, block hit ratio, "
                                   "pg_stat_statements).")});
}

int runHealth(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("health"));
  auto& core = ctx.core();
  const bool series = ctx.isSet(QStringLiteral("server-series"));
  tier::ops::ServerSeriesPoller poller;
  // The first of two polls: rates are their difference. The second starts a second
  // after the first *ended*, so a slow first poll does not shorten the interval.
  if (series) poller.poll(core);
  const auto firstPollEnded = std::chrono::steady_clock::now();
  const tier::ops::HealthReport h = tier::ops::checkHealth(core);
  // pg_locks only when PostgreSQL answered: a down server is not waited for twice.
  tier::ops::SessionSweeperStatus sweeper;
  if (h.postgres.ok) {
    sweeper = tier::ops::sessionSweeperStatus(core);
  } else {
    const auto& sc = core.config().session_sweeper;
    sweeper.stats.idle_limit_s = (sc.idle_limit.count() > 0 ? sc.idle_limit : core.config().policies.session.ttl).count();
    sweeper.stats.interval_ms = sc.interval.count();
    if (auto* s = core.sessionSweeper()) sweeper.stats = s->stats();
    sweeper.lock_holder = "unknown";
    sweeper.lock_error = "PostgreSQL is down";
  }
  std::optional<tier::ops::ServerSeriesPoint> point;
  if (series) {
    std::this_thread::sleep_until(firstPollEnded + std::chrono::seconds(1));
    point = poller.poll(core);
  }
  if (ctx.json()) {
    QJsonObject o = healthJson(h);
    if (point) o.insert(QStringLiteral("server_series"), serverSeriesJson(*point));
    o.insert(QStringLiteral("session_sweeper"), sessionSweeperJson(sweeper));
    printJson(o);
  } else {
    printHealthText(h);
    printSessionSweeperText(sweeper);
    if (point) printServerSeriesText(*point);
  }
  const bool redisDown = h.redis.configured && !h.redis.ok;
  if (!redisDown && h.postgres.ok) return tier::kExitOk;
  std::string message;
  if (redisDown) message = "redis: " + h.redis.error;
  if (!h.postgres.ok) message += (message.empty() ? "" : "; ") + std::string("postgres: ") + h.postgres.error;
  const int code = failureExitCode(core, h);
  reportError(message);
  return code;
}

}  // namespace tierctl
