// The scenarios of tierctl bench (tier/bench/scenarios.h). Every tier is
// measured side by side with its physical baseline, in one process run,
// interleaved (A,B,A,B...), after a warm-up, repeated: only ratios hold on a
// shared, noisy machine.
#include "tier/bench/scenarios.h"

#include <libpq-fe.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <QJsonArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "l1_bench.h"
#include "tier/codec/envelope.h"
#include "tier/codec/keys.h"
#include "tier/fleet/publisher.h"
#include "tier/internal/tier_access.h"
#include "tier/metrics/latency_json.h"
#include "tier/ops/invalidation.h"
#include "tier/ops/warming.h"
#include "tier/redis/connection.h"
#include "tier/sandbox/server_process.h"
#include "tier/workload/threads.h"
#include "tier/workload/workload.h"

namespace tier::bench {
namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

using Clock = std::chrono::steady_clock;

// ---- statistics ---------------------------------------------------------------

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1),
                                                           p * static_cast<double>(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

double microsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

QJsonArray toArray(const std::vector<double>& v, int decimals = 4) {
  QJsonArray a;
  for (double x : v) a.append(QString::number(x, 'f', decimals).toDouble());
  return a;
}

// A latency distribution as p50/p90/p99/max in microseconds, plus a coarse
// log-spaced histogram for the plots.
QJsonObject distributionJson(const std::vector<double>& us) {
  QJsonObject o{{QStringLiteral("samples"), static_cast<double>(us.size())},
                {QStringLiteral("p50_us"), percentile(us, 0.50)},
                {QStringLiteral("p90_us"), percentile(us, 0.90)},
                {QStringLiteral("p99_us"), percentile(us, 0.99)},
                {QStringLiteral("max_us"), percentile(us, 1.0)}};
  QJsonArray cdf;  // latency at each of these quantiles
  for (double q : {0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999})
    cdf.append(QJsonArray{q, percentile(us, q)});
  o.insert(QStringLiteral("quantiles_us"), cdf);
  return o;
}

// ---- raw clients: the baselines ------------------------------------------------

// A bare connection: the L2 baseline and the "other client". One
// redis::Connection (the hiredis context the core's pool uses) with nothing of
// the client around it: no pool lease, breaker, routing, script cache or
// metrics; the baseline GET does not even convert its reply.
class RawRedis {
 public:
  explicit RawRedis(const tier::redis::RedisUrl& u) {
    tier::redis::ConnectOptions o;
    o.connect_timeout = std::chrono::seconds(2);
    o.command_timeout = std::chrono::seconds(30);
    c_ = tier::redis::Connection::open(u, o);
  }

  tier::redis::Reply run(const std::vector<std::string>& argv) {
    std::vector<std::string_view> a(argv.begin(), argv.end());
    return c_.command(a);
  }
  // The baseline GET: one round trip, the reply freed, nothing copied.
  void get(const char* key, std::size_t len) {
    if (c_.commandReplyType({"GET", std::string_view(key, len)}) != tier::redis::Reply::Type::String)
      throw tier::DataError("raw GET failed");
  }
  static void check(const tier::redis::Reply& r, const char* what) {
    if (r.isError()) throw tier::DataError(std::string("raw Redis ") + what + ": " + r.str);
  }

 private:
  tier::redis::Connection c_;
};

// A bare libpq connection: the L3 baseline.
class RawPg {
 public:
  explicit RawPg(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK)
      throw tier::ConnectionError(tier::redactSecrets(std::string("raw libpq connect failed: ") + PQerrorMessage(c_)));
  }
  ~RawPg() { PQfinish(c_); }
  RawPg(const RawPg&) = delete;
  RawPg& operator=(const RawPg&) = delete;
  PGconn* get() const { return c_; }
  void prepare(const char* name, const char* sql, int params) {
    PGresult* r = PQprepare(c_, name, sql, params, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string err = ok ? std::string() : PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) throw tier::DataError("raw libpq prepare failed: " + err);
  }
  std::vector<long long> ids(const char* sql) {
    PGresult* r = PQexec(c_, sql);
    std::vector<long long> out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i) out.push_back(std::atoll(PQgetvalue(r, i, 0)));
    PQclear(r);
    return out;
  }

 private:
  PGconn* c_;
};

// Runs a program to completion; throws with its stderr if it fails.
QByteArray runProgram(const QString& program, const QStringList& args, const QProcessEnvironment& env,
                      int timeoutMs = 600'000) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(program, args);
  if (!p.waitForStarted(10'000)) throw tier::Error(tier::ErrorKind::Internal, "cannot start " + program.toStdString());
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished(5000);
    throw tier::TimeoutError(program.toStdString() + " did not finish");
  }
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
    throw tier::Error(tier::ErrorKind::Internal, program.toStdString() + " failed: " +
                                                     QString::fromUtf8(p.readAllStandardError()).trimmed().toStdString());
  return p.readAllStandardOutput();
}

// ---- the scenarios ---------------------------------------------------------------

// L2: the core's GET (pooled client, breaker, metrics) against a bare hiredis GET
// on one redis::Connection (no pool, breaker or metrics; the reply not converted).
void benchL2(Run& run) {
  // The bench measures the tier itself, on servers it started: it may hold the client.
  auto* client = tier::internal::TierAccess::redis(*run.core);
  RawRedis raw(run.redis.url);
  const std::string key = "bench:l2:get";
  const std::string value(512, 'v');
  RawRedis::check(raw.run({"SET", key, value}), "SET");
  const int n = run.plan.get_ops;
  std::vector<double> core, base, ratios;
  auto coreBlock = [&](std::vector<double>* out) {
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      auto v = client->get(key);
      const double us = microsSince(t0);
      if (!v || v->size() != value.size()) throw tier::DataError("core GET returned the wrong value");
      if (out) out->push_back(us);
    }
  };
  auto rawBlock = [&](std::vector<double>* out) {
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      raw.get(key.data(), key.size());
      if (out) out->push_back(microsSince(t0));
    }
  };
  coreBlock(nullptr);  // warm-up: connections open, caches hot
  rawBlock(nullptr);
  for (int rep = 0; rep < run.plan.reps; ++rep) {
    run.checkInterrupted();
    std::vector<double> a, b;
    if (rep % 2 == 0) {
      coreBlock(&a);
      rawBlock(&b);
    } else {
      rawBlock(&b);
      coreBlock(&a);
    }
    ratios.push_back(median(a) / median(b));
    core.insert(core.end(), a.begin(), a.end());
    base.insert(base.end(), b.begin(), b.end());
    run.progress(QStringLiteral("l2 get %1/%2").arg(rep + 1).arg(run.plan.reps));
  }
  raw.run({"UNLINK", key});
  run.fields.insert(QStringLiteral("l2_get_vs_hiredis_p50"), median(ratios));
  run.details.insert(QStringLiteral("l2_get"),
                     QJsonObject{{QStringLiteral("transport"), run.redis.transport()},
                                 {QStringLiteral("value_bytes"), static_cast<double>(value.size())},
                                 {QStringLiteral("ops_per_block"), n},
                                 {QStringLiteral("ratio_per_rep"), toArray(ratios)},
                                 {QStringLiteral("core"), distributionJson(core)},
                                 {QStringLiteral("hiredis"), distributionJson(base)}});
}

double serverUsec(RawRedis& raw, const std::string& cmd);

// Warming: the core's fillMany (version-guarded SETs, pipelined) against
// redis-benchmark's plain pipelined SET of the same value size, one connection each.
void benchWarm(Run& run) {
  auto& cache = run.core->cache();
  RawRedis raw(run.redis.url);
  const int n = run.plan.warm_items;
  constexpr std::size_t kChunk = 100;  // as ops::warm fills
  // Ids far above any seeded row, so bench copies never pass for real ones.
  constexpr std::int64_t kBase = 8'000'000'000'000LL;
  const std::string payload = QStringLiteral("{\"bench\":\"%1\"}").arg(QString(460, QLatin1Char('x'))).toStdString();
  const std::size_t valueBytes = tier::codec::encode(tier::codec::Envelope{1, 1, 1, payload}).size();
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back(tier::codec::entryKey(kBase + i));
  std::int64_t version = 1;
  double coreServerUs = 0, benchServerUs = 0;  // Redis CPU inside SET/EVALSHA, summed over the blocks
  auto unlinkAll = [&]() {
    for (std::size_t i = 0; i < keys.size(); i += 1000) {
      std::vector<std::string> argv{"UNLINK"};
      for (std::size_t j = i; j < std::min(keys.size(), i + 1000); ++j) argv.push_back(keys[j]);
      raw.run(argv);
    }
  };
  // cold: the keys are absent (warming at start, or after an invalidation), the common case;
  // refresh: every key holds an older version, so each one takes the version-guarded script.
  auto coreBlock = [&](bool cold) {
    ++version;
    if (cold) unlinkAll();
    std::vector<tier::cache::TieredCache::FillItem> items;
    const double s0 = serverUsec(raw, "evalsha") + serverUsec(raw, "eval") + serverUsec(raw, "set");
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < keys.size(); i += kChunk) {
      items.clear();
      for (std::size_t j = i; j < std::min(keys.size(), i + kChunk); ++j) items.push_back({keys[j], payload, version});
      const auto r = cache.fillMany(tier::codec::Namespace::Entry, items);
      if (r.stored != items.size()) throw tier::DataError("fillMany stored fewer items than given");
    }
    const double rate = static_cast<double>(keys.size()) / (microsSince(t0) / 1e6);
    if (cold) coreServerUs += serverUsec(raw, "evalsha") + serverUsec(raw, "eval") + serverUsec(raw, "set") - s0;
    return rate;
  };
  auto benchBlock = [&]() {
    QStringList args = run.redis.cliArgs();
    args << QStringLiteral("-t") << QStringLiteral("set") << QStringLiteral("-P") << QStringLiteral("16")
         << QStringLiteral("-c") << QStringLiteral("1") << QStringLiteral("-n") << QString::number(n)
         << QStringLiteral("-d") << QString::number(valueBytes) << QStringLiteral("-r") << QString::number(n)
         << QStringLiteral("--csv");
    const double s0 = serverUsec(raw, "set");
    const QString out = QString::fromUtf8(runProgram(QStringLiteral("redis-benchmark"), args, run.redis.env()));
    benchServerUs += serverUsec(raw, "set") - s0;
    for (const QString& line : out.split(QLatin1Char('\n'))) {
      if (!line.startsWith(QLatin1String("\"SET\""))) continue;
      const QStringList cols = line.split(QLatin1Char(','));
      if (cols.size() > 1) return QString(cols[1]).remove(QLatin1Char('"')).toDouble();
    }
    throw tier::DataError("redis-benchmark printed no SET rate: " + out.left(200).toStdString());
  };
  coreBlock(true);  // warm-up (also loads the Lua script)
  coreBlock(false);
  benchBlock();
  std::vector<double> coreRates, benchRates, ratios, refreshRates, refreshRatios;
  for (int rep = 0; rep < run.plan.reps; ++rep) {
    run.checkInterrupted();
    double a = 0, b = 0, c = 0;
    if (rep % 2 == 0) {
      a = coreBlock(true);
      c = coreBlock(false);
      b = benchBlock();
    } else {
      b = benchBlock();
      c = coreBlock(false);
      a = coreBlock(true);
    }
    coreRates.push_back(a);
    benchRates.push_back(b);
    ratios.push_back(a / b);
    refreshRates.push_back(c);
    refreshRatios.push_back(c / b);
    run.progress(QStringLiteral("warm %1/%2").arg(rep + 1).arg(run.plan.reps));
  }
  // Clean up: our copies and redis-benchmark's key:NNN keys.
  unlinkAll();
  tier::ops::InvalidateRequest del;
  del.kind = tier::ops::InvalidateKind::Pattern;
  del.target = "key:*";
  del.allow_any_namespace = true;
  del.scan_count = 5000;
  tier::ops::invalidate(*run.core, del);
  tier::internal::TierAccess::l1(*run.core).clear();

  // The whole warming path, database included (one set, end to end).
  QJsonObject endToEnd;
  for (auto set : {tier::ops::WarmSet::Knowledge, tier::ops::WarmSet::Sessions}) {
    const auto w = tier::ops::warm(*run.core, set);
    endToEnd.insert(QLatin1String(tier::ops::toString(set)),
                    QJsonObject{{QStringLiteral("items"), static_cast<double>(w.candidates)},
                                {QStringLiteral("ms"), w.duration_ms},
                                {QStringLiteral("items_per_s"), w.duration_ms > 0 ? w.candidates / (w.duration_ms / 1e3) : 0.0}});
  }
  run.fields.insert(QStringLiteral("warm_vs_redis_benchmark"), median(ratios));
  run.details.insert(QStringLiteral("warm"),
                     QJsonObject{{QStringLiteral("transport"), run.redis.transport()},
                                 {QStringLiteral("value_bytes"), static_cast<double>(valueBytes)},
                                 {QStringLiteral("items_per_block"), n},
                                 {QStringLiteral("core_pipeline_items"), static_cast<double>(kChunk)},
                                 {QStringLiteral("redis_benchmark_args"),
                                  QStringLiteral("-t set -P 16 -c 1 -n %1 -d %2 -r %1").arg(n).arg(valueBytes)},
                                 {QStringLiteral("core_sets_per_s"), toArray(coreRates, 0)},
                                 {QStringLiteral("core_refresh_sets_per_s"), toArray(refreshRates, 0)},
                                 {QStringLiteral("refresh_ratio_per_rep"), toArray(refreshRatios)},
                                 {QStringLiteral("refresh_ratio"), median(refreshRatios)},
                                 {QStringLiteral("redis_benchmark_sets_per_s"), toArray(benchRates, 0)},
                                 {QStringLiteral("ratio_per_rep"), toArray(ratios)},
                                 // Redis CPU per key: the guarded script (header read, compare, SET) vs a plain SET.
                                 {QStringLiteral("server_us_per_key_core_cold"), coreServerUs / (static_cast<double>(n) * (run.plan.reps + 1))},
                                 {QStringLiteral("server_us_per_key_redis_benchmark"), benchServerUs / (static_cast<double>(n) * (run.plan.reps + 1))},
                                 {QStringLiteral("warm_end_to_end"), endToEnd}});
}

// L3: a session with its recent messages, through the repository (cache
// bypassed) against the same prepared SELECT in bare libpq.
void benchSession(Run& run) {
  auto& sessions = run.core->sessions();
  RawPg raw(run.config.pg_conninfo);
  raw.prepare("bench_session", tier::repo::SessionRepository::retrievalSql(), 2);
  auto ids = raw.ids("SELECT id FROM chat_sessions ORDER BY md5(id::text) LIMIT 2000");
  if (ids.empty()) throw tier::NotFoundError("the bench database holds no chat sessions");
  const std::string recent = std::to_string(run.config.session_recent_messages);
  const int n = run.plan.session_ops;
  std::size_t cursor = 0;
  std::size_t bytes = 0;
  auto nextIds = [&]() {
    std::vector<long long> v;
    for (int i = 0; i < n; ++i) v.push_back(ids[(cursor + static_cast<std::size_t>(i)) % ids.size()]);
    cursor += static_cast<std::size_t>(n);
    return v;
  };
  auto coreBlock = [&](const std::vector<long long>& block, std::vector<double>* out) {
    for (long long id : block) {
      const auto t0 = Clock::now();
      auto s = sessions.loadFromDb(id);
      const double us = microsSince(t0);
      if (!s) throw tier::DataError("session vanished during the bench");
      if (out) out->push_back(us);
    }
  };
  auto rawBlock = [&](const std::vector<long long>& block, std::vector<double>* out) {
    for (long long id : block) {
      const std::string sid = std::to_string(id);
      const char* params[2] = {sid.c_str(), recent.c_str()};
      const auto t0 = Clock::now();
      PGresult* r = PQexecPrepared(raw.get(), "bench_session", 2, params, nullptr, nullptr, 0);
      if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
        PQclear(r);
        throw tier::DataError("raw libpq session query failed");
      }
      // The baseline copies every field of every row out, as any caller must.
      std::vector<std::string> cols;
      for (int row = 0; row < PQntuples(r); ++row)
        for (int c = 0; c < PQnfields(r); ++c) cols.emplace_back(PQgetvalue(r, row, c), PQgetlength(r, row, c));
      PQclear(r);
      const double us = microsSince(t0);
      for (const auto& c : cols) bytes += c.size();
      if (out) out->push_back(us);
    }
  };
  {
    auto w = nextIds();
    coreBlock(w, nullptr);
    rawBlock(w, nullptr);
  }
  std::vector<double> core, base, ratios;
  for (int rep = 0; rep < run.plan.reps; ++rep) {
    run.checkInterrupted();
    const auto block = nextIds();  // both sides read the same sessions
    std::vector<double> a, b;
    if (rep % 2 == 0) {
      coreBlock(block, &a);
      rawBlock(block, &b);
    } else {
      rawBlock(block, &b);
      coreBlock(block, &a);
    }
    ratios.push_back(percentile(a, 0.99) / percentile(b, 0.99));
    core.insert(core.end(), a.begin(), a.end());
    base.insert(base.end(), b.begin(), b.end());
    run.progress(QStringLiteral("session %1/%2").arg(rep + 1).arg(run.plan.reps));
  }
  // The read path with every tier cold (L1 and L2 miss, L3 load, fills), for context.
  std::vector<double> cold;
  for (std::size_t i = 0; i < std::min<std::size_t>(ids.size(), static_cast<std::size_t>(n)); ++i) {
    run.core->cache().invalidate(tier::codec::sessionKey(ids[i]));
    const auto t0 = Clock::now();
    sessions.get(ids[i]);
    cold.push_back(microsSince(t0));
  }
  run.fields.insert(QStringLiteral("session_cold_vs_libpq_p99"), percentile(core, 0.99) / percentile(base, 0.99));
  run.details.insert(
      QStringLiteral("session"),
      QJsonObject{{QStringLiteral("recent_messages"), run.config.session_recent_messages},
                  {QStringLiteral("ops_per_block"), n},
                  {QStringLiteral("mean_result_bytes"), static_cast<double>(bytes) / std::max(1.0, static_cast<double>(base.size()) + n)},
                  {QStringLiteral("p99_ratio_per_rep"), toArray(ratios)},
                  {QStringLiteral("p50_ratio"), percentile(core, 0.5) / percentile(base, 0.5)},
                  {QStringLiteral("core"), distributionJson(core)},
                  {QStringLiteral("libpq"), distributionJson(base)},
                  {QStringLiteral("read_path_cold"), distributionJson(cold)}});
}

// Fills `count` keys prefix0..prefixN-1 server-side (Lua, 50k per call), fast and without KEYS.
void fillKeys(RawRedis& raw, const std::string& prefix, long long count) {
  static const char* kFill =
      "for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do redis.call('SET', ARGV[1] .. i, ARGV[4]) end return 1";
  const std::string value(48, 'k');
  for (long long i = 0; i < count; i += 50'000) {
    const long long last = std::min(count, i + 50'000) - 1;
    RawRedis::check(raw.run({"EVAL", kFill, "0", prefix, std::to_string(i), std::to_string(last), value}), "fill");
  }
}

// Server-side microseconds spent in `cmd` so far (INFO commandstats), for the profile in the details.
double serverUsec(RawRedis& raw, const std::string& cmd) {
  const auto r = raw.run({"INFO", "commandstats"});
  const std::string& info = r.str;
  const std::string tag = "cmdstat_" + cmd + ":";
  const auto at = info.find(tag);
  if (at == std::string::npos) return 0;
  const auto u = info.find("usec=", at);
  return u == std::string::npos ? 0 : std::atof(info.c_str() + u + 5);
}

long long dbSize(RawRedis& raw) { return raw.run({"DBSIZE"}).integer; }

// GETs from another client while `work` runs; returns the latencies (us).
std::vector<double> probeDuring(const tier::redis::RedisUrl& url, const std::function<void()>& work) {
  RawRedis probe(url);
  RawRedis::check(probe.run({"SET", "bench:probe", std::string(64, 'p')}), "SET");
  std::atomic<bool> stop{false};
  std::vector<double> lat;
  lat.reserve(1 << 20);
  std::thread t([&] {
    const std::string key = "bench:probe";
    while (!stop.load(std::memory_order_relaxed)) {
      const auto t0 = Clock::now();
      probe.get(key.data(), key.size());
      lat.push_back(microsSince(t0));
    }
  });
  try {
    work();
  } catch (...) {
    stop = true;
    t.join();
    throw;
  }
  stop = true;
  t.join();
  return lat;
}

// Pattern invalidation of 1M keys against the shell recipe, the GET latency of
// another client meanwhile, and the namespace generation bump with 1M keys.
void benchInvalidate(Run& run) {
  RawRedis raw(run.redis.url);
  const long long n = run.plan.inv_keys;
  const std::string prefix = "entry:v1:bench:";
  const std::string pattern = prefix + "*";
  std::vector<double> coreMs, recipeMs, ratios, coreGets, recipeGets;
  QJsonArray coreRuns;
  tier::ops::InvalidateRequest req;
  req.kind = tier::ops::InvalidateKind::Pattern;
  req.target = pattern;
  auto coreRun = [&]() {
    fillKeys(raw, prefix, n);
    tier::ops::InvalidateResult res;
    const auto t0 = Clock::now();
    auto lat = probeDuring(run.redis.url, [&] { res = tier::ops::invalidate(*run.core, req); });
    const double ms = microsSince(t0) / 1e3;
    if (res.deleted != n) throw tier::DataError("pattern invalidation deleted " + std::to_string(res.deleted) + " of " + std::to_string(n) + " keys");
    coreGets.insert(coreGets.end(), lat.begin(), lat.end());
    coreRuns.append(QJsonObject{{QStringLiteral("ms"), ms},
                                {QStringLiteral("get_p99_us"), percentile(lat, 0.99)},
                                {QStringLiteral("gets"), static_cast<double>(lat.size())}});
    return ms;
  };
  auto recipeRun = [&]() {
    fillKeys(raw, prefix, n);
    QString cli = QStringLiteral("redis-cli");
    for (const QString& a : run.redis.cliArgs()) cli += QStringLiteral(" '") + a + QLatin1Char('\'');
    // The documented shell recipe, verbatim but for the connection flags (-r: no empty UNLINK).
    const QString script = QStringLiteral("%1 --scan --pattern \"$TIER_BENCH_PATTERN\" | xargs -r %1 unlink >/dev/null").arg(cli);
    auto env = run.redis.env();
    env.insert(QStringLiteral("TIER_BENCH_PATTERN"), fromStd(pattern));
    const auto t0 = Clock::now();
    auto lat = probeDuring(run.redis.url, [&] { runProgram(QStringLiteral("bash"), {QStringLiteral("-c"), script}, env); });
    const double ms = microsSince(t0) / 1e3;
    recipeGets.insert(recipeGets.end(), lat.begin(), lat.end());
    return ms;
  };
  for (int rep = 0; rep < run.plan.inv_reps; ++rep) {
    run.checkInterrupted();
    double a = 0, b = 0;
    if (rep % 2 == 0) {
      a = coreRun();
      b = recipeRun();
    } else {
      b = recipeRun();
      a = coreRun();
    }
    coreMs.push_back(a);
    recipeMs.push_back(b);
    ratios.push_back(a / b);
    run.progress(QStringLiteral("invalidate %1/%2").arg(rep + 1).arg(run.plan.inv_reps));
  }
  run.fields.insert(QStringLiteral("invalidate_1m_vs_recipe"), median(ratios));
  run.fields.insert(QStringLiteral("invalidate_concurrent_get_p99_ms"), percentile(coreGets, 0.99) / 1e3);

  // Namespace invalidation: 1M keys in the namespace, L1 holding its share.
  fillKeys(raw, prefix, n);
  const long long keysInDb = dbSize(raw);
  auto& l1 = tier::internal::TierAccess::l1(*run.core);
  const std::size_t l1Fill = std::min<std::size_t>(static_cast<std::size_t>(n), l1.options().max_entries > 0 ? l1.options().max_entries : 100'000);
  std::vector<double> nsMs, nsWallMs;
  tier::ops::InvalidateRequest ns;
  ns.kind = tier::ops::InvalidateKind::Namespace;
  ns.target = "entry";
  long long dropped = 0;
  const std::string l1Value(48, 'l');
  for (int rep = 0; rep < run.plan.ns_reps; ++rep) {
    run.checkInterrupted();
    for (std::size_t i = 0; i < l1Fill; ++i) l1.put(prefix + std::to_string(i), l1Value, std::chrono::seconds(60));
    const auto t0 = Clock::now();
    const auto res = tier::ops::invalidate(*run.core, ns);
    nsWallMs.push_back(microsSince(t0) / 1e3);
    nsMs.push_back(res.duration_ms);
    dropped = res.l1_dropped;
  }
  run.progress(QStringLiteral("namespace invalidation %1 runs").arg(run.plan.ns_reps));
  run.fields.insert(QStringLiteral("namespace_invalidate_ms"), median(nsMs));
  // Leave no bench keys behind.
  tier::ops::invalidate(*run.core, req);

  run.details.insert(QStringLiteral("invalidate"),
                     QJsonObject{{QStringLiteral("keys"), static_cast<double>(n)},
                                 {QStringLiteral("pattern"), fromStd(pattern)},
                                 {QStringLiteral("transport"), run.redis.transport()},
                                 {QStringLiteral("scan_count"), req.scan_count},
                                 {QStringLiteral("unlink_batch"), req.unlink_batch},
                                 {QStringLiteral("core_ms"), toArray(coreMs, 1)},
                                 {QStringLiteral("recipe_ms"), toArray(recipeMs, 1)},
                                 {QStringLiteral("ratio_per_rep"), toArray(ratios)},
                                 {QStringLiteral("core_runs"), coreRuns},
                                 {QStringLiteral("get_during_core"), distributionJson(coreGets)},
                                 {QStringLiteral("get_during_recipe"), distributionJson(recipeGets)},
                                 {QStringLiteral("namespace_keys_in_db"), static_cast<double>(keysInDb)},
                                 {QStringLiteral("namespace_l1_entries"), static_cast<double>(l1Fill)},
                                 {QStringLiteral("namespace_l1_dropped"), static_cast<double>(dropped)},
                                 {QStringLiteral("namespace_ms"), toArray(nsMs, 3)},
                                 {QStringLiteral("namespace_with_audit_ms"), toArray(nsWallMs, 3)}});
}

// What publishing fleet metrics costs the cache: the same 1,000-user load on
// one core in interleaved blocks, with a publisher on
// its metrics and L1 for the "publishing" blocks and none for the others, so
// nothing but the publishing differs. Blocks not publishing come before and
// after every publishing one (see below). Beside the throughput ratio (noisy: the
// cost sought is far below the load's own block-to-block spread), the
// publisher's own CPU time over the whole process's in the publishing blocks.
void benchFleet(Run& run) {
  tier::workload::WorkloadOptions o;
  o.virtual_users = run.plan.load_users;
  o.duration = std::chrono::seconds(0);
  tier::CoreConfig cfg = run.config;
  cfg.fleet.enabled = false;
  cfg.redis.pool_size = std::max(cfg.redis.pool_size, o.threads);
  cfg.pg.pool_size = std::max(cfg.pg.pool_size, o.threads);
  tier::TierCore core(cfg);
  tier::ops::warm(core, tier::ops::WarmSet::Knowledge);
  tier::fleet::PublisherOptions po;
  po.app_name = "tierctl-bench";
  struct Block {
    double ops_per_s = 0;
    double session_p99_ms = 0;
    std::uint64_t publishes = 0, failures = 0;
    double publish_cpu_s = 0, process_cpu_s = 0;
  };
  auto processCpuS = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  auto block = [&](bool publish, int seconds) {
    std::unique_ptr<tier::fleet::Publisher> pub;
    if (publish)
      pub = std::make_unique<tier::fleet::Publisher>(core.redis().options(), &core.metrics(),
                                                     &tier::internal::TierAccess::l1(core), po);
    tier::workload::Workload load(core, o);
    load.start();
    const auto before = load.counters();
    const double cpu0 = processCpuS();
    const auto t0 = Clock::now();
    while (microsSince(t0) < seconds * 1e6) {
      if (run.interrupted && run.interrupted()) {
        load.stop();
        run.checkInterrupted();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto snap = core.metrics().snapshot(std::chrono::seconds(seconds));
    const auto after = load.counters();
    const double s = microsSince(t0) / 1e6;
    const double cpu1 = processCpuS();
    load.stop();
    if (after.failed_reads > 0) throw tier::DataError("the workload saw failed reads: " + after.last_error);
    Block b{static_cast<double>(after.operations - before.operations) / s,
            snap.op(tier::metrics::Op::SessionRetrieval).p99_ms};
    b.process_cpu_s = cpu1 - cpu0;
    if (pub) {
      const auto st = pub->stats();
      b.publishes = st.published;
      b.failures = st.failed;
      b.publish_cpu_s = static_cast<double>(st.cpu_ns) / 1e9;
    }
    return b;
  };
  block(false, run.plan.fleet_block_s);  // warm-up: L1 and L2
  // off, on, off, on, …, off: each publishing block is compared with the mean of
  // the blocks on either side, which cancels the load's own linear drift (its
  // throughput falls a few per cent a minute as sessions and messages grow).
  std::vector<double> onOps, offOps, onP99, offP99, ratios, cpuShares;
  std::uint64_t publishes = 0, failures = 0;
  Block before = block(false, run.plan.fleet_block_s);
  offOps.push_back(before.ops_per_s);
  offP99.push_back(before.session_p99_ms);
  for (int rep = 0; rep < run.plan.fleet_reps; ++rep) {
    const Block a = block(true, run.plan.fleet_block_s);
    const Block after = block(false, run.plan.fleet_block_s);
    publishes += a.publishes;
    failures += a.failures;
    onOps.push_back(a.ops_per_s);
    onP99.push_back(a.session_p99_ms);
    offOps.push_back(after.ops_per_s);
    offP99.push_back(after.session_p99_ms);
    const double around = (before.ops_per_s + after.ops_per_s) / 2;
    ratios.push_back(around > 0 ? a.ops_per_s / around : 0);
    cpuShares.push_back(a.process_cpu_s > 0 ? a.publish_cpu_s / a.process_cpu_s : 0);
    run.progress(QStringLiteral("fleet rep %1: %2 ops/s publishing, %3 and %4 not (before, after)")
                     .arg(rep + 1)
                     .arg(a.ops_per_s, 0, 'f', 0)
                     .arg(before.ops_per_s, 0, 'f', 0)
                     .arg(after.ops_per_s, 0, 'f', 0));
    before = after;
  }
  run.fields.insert(QStringLiteral("fleet_publish_throughput_ratio"), median(ratios));
  run.fields.insert(QStringLiteral("fleet_publish_cpu_share"), median(cpuShares));
  run.details.insert(QStringLiteral("fleet"),
                     QJsonObject{{QStringLiteral("virtual_users"), o.virtual_users},
                                 {QStringLiteral("block_s"), run.plan.fleet_block_s},
                                 {QStringLiteral("ops_per_s_publishing"), toArray(onOps, 1)},
                                 {QStringLiteral("ops_per_s_not_publishing"), toArray(offOps, 1)},
                                 {QStringLiteral("ratio_per_rep"), toArray(ratios, 4)},
                                 {QStringLiteral("session_p99_ms_publishing"), toArray(onP99, 3)},
                                 {QStringLiteral("session_p99_ms_not_publishing"), toArray(offP99, 3)},
                                 {QStringLiteral("publish_cpu_share_per_rep"), toArray(cpuShares, 6)},
                                 {QStringLiteral("publishes"), static_cast<double>(publishes)},
                                 {QStringLiteral("publish_failures"), static_cast<double>(failures)}});
}

// 1,000 virtual users of the synthetic workload, measured after a warm-up:
// first on the default worker threads (workload/threads.h: no more blocking
// workers than free CPUs, so the tail is the core's), then, on the same core
// and warm cache, on 8 threads, the figure earlier runs reported (on a small
// machine, the tail of oversubscription: workers preempted mid-operation).
// The warm-up runs on at least 8 threads whatever the default: its settling
// rule is per 10 s, and fewer operations per second would stop it on a cache
// that is still filling (a hit rate that depends on the warm-up, not the threads).
void benchLoad(Run& run) {
  constexpr int kOversubscribedThreads = 8;
  // A fresh core: nothing the other measurements cached or counted.
  tier::CoreConfig cfg = run.config;
  const tier::workload::ThreadChoice threads = tier::workload::defaultThreads(cfg);
  tier::workload::WorkloadOptions o;
  o.virtual_users = run.plan.load_users;
  o.duration = std::chrono::seconds(0);
  o.threads = threads.threads;
  tier::workload::WorkloadOptions o8 = o;
  o8.threads = kOversubscribedThreads;
  cfg.redis.pool_size = std::max({cfg.redis.pool_size, o.threads, o8.threads});
  cfg.pg.pool_size = std::max({cfg.pg.pool_size, o.threads, o8.threads});
  tier::TierCore core(cfg);
  const auto warmed = tier::ops::warm(core, tier::ops::WarmSet::Knowledge);
  tier::workload::WorkloadOptions oWarm = o;
  oWarm.threads = std::max(o.threads, o8.threads);
  auto load = std::make_unique<tier::workload::Workload>(core, oWarm);
  load->start();
  auto waitFor = [&](int seconds) {
    const auto until = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < until) {
      if (run.interrupted && run.interrupted()) {
        load->stop();
        run.checkInterrupted();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  // Warm-up: a Zipf tail keeps bringing first reads (compulsory misses) for minutes;
  // steady state is when the hit rate stops climbing.
  const auto warmStart = Clock::now();
  QJsonArray warmCurve;  // hit rate of each 10 s window of the warm-up
  waitFor(std::min(run.plan.load_warmup_min_s, 10));
  double last = -1;
  for (;;) {
    const double elapsed = microsSince(warmStart) / 1e6;
    const double h = core.metrics().snapshot(std::chrono::seconds(10)).hitRate();
    warmCurve.append(QJsonArray{std::round(elapsed), h});
    if (elapsed >= run.plan.load_warmup_max_s) break;
    if (elapsed >= run.plan.load_warmup_min_s && last >= 0 && std::abs(h - last) < run.plan.load_settle) break;
    last = h;
    run.progress(QStringLiteral("load warm-up %1 s, hit rate %2").arg(std::round(elapsed)).arg(h, 0, 'f', 4));
    waitFor(std::min(10, std::max(1, run.plan.load_warmup_max_s - static_cast<int>(elapsed))));
  }
  const double warmupS = microsSince(warmStart) / 1e6;
  auto checkReads = [](const tier::workload::WorkloadCounters& c) {
    if (c.failed_reads > 0 || c.stale_reads > 0)
      throw tier::DataError("the workload saw " + std::to_string(c.failed_reads) + " failed and " +
                            std::to_string(c.stale_reads) + " stale reads: " + c.last_error);
  };
  auto latencyOf = [](const tier::metrics::Snapshot& s) {
    QJsonObject l;
    for (int i = 0; i < static_cast<int>(tier::metrics::Op::kCount); ++i) {
      const auto op = static_cast<tier::metrics::Op>(i);
      l.insert(QLatin1String(tier::metrics::toString(op)), metrics::latencyJson(s.op(op)));
    }
    return l;
  };
  load->stop();
  checkReads(load->counters());
  // One measured block on `opts.threads`: a fresh workload on the warm core,
  // a few seconds for its workers' first operations, then the metrics from zero.
  struct Block {
    tier::metrics::Snapshot snap;
    tier::workload::WorkloadCounters before, after;
  };
  auto measure = [&](const tier::workload::WorkloadOptions& opts) {
    load = std::make_unique<tier::workload::Workload>(core, opts);
    load->start();
    waitFor(run.plan.load_switch_settle_s);
    Block b;
    b.before = load->counters();
    core.metrics().reset();
    waitFor(run.plan.load_measure_s);
    b.snap = core.metrics().snapshot(std::chrono::seconds(0));
    load->stop();
    b.after = load->counters();
    checkReads(b.after);
    return b;
  };
  run.progress(QStringLiteral("load on the default %1 threads ...").arg(o.threads));
  const Block atDefault = measure(o);
  const auto& snap = atDefault.snap;
  const auto& before = atDefault.before;
  const auto& after = atDefault.after;
  const auto& session = snap.op(tier::metrics::Op::SessionRetrieval);
  const auto& knowledge = snap.op(tier::metrics::Op::KnowledgeLookup);
  run.fields.insert(QStringLiteral("load_1000_hit_rate"), snap.hitRate());
  run.fields.insert(QStringLiteral("load_1000_session_p99_ms"), session.p99_ms);
  run.fields.insert(QStringLiteral("load_1000_knowledge_p99_ms"), knowledge.p99_ms);
  const QJsonObject latency = latencyOf(snap);

  // The same load on 8 threads, same core and cache: only the thread count differs.
  run.progress(QStringLiteral("load on %1 threads ...").arg(o8.threads));
  const Block eight = measure(o8);
  const auto& snap8 = eight.snap;
  const auto& before8 = eight.before;
  const auto& after8 = eight.after;
  run.fields.insert(QStringLiteral("load_1000_8t_hit_rate"), snap8.hitRate());
  run.fields.insert(QStringLiteral("load_1000_8t_session_p99_ms"), snap8.op(tier::metrics::Op::SessionRetrieval).p99_ms);
  run.fields.insert(QStringLiteral("load_1000_8t_knowledge_p99_ms"), snap8.op(tier::metrics::Op::KnowledgeLookup).p99_ms);
  QJsonObject counters;
  for (int i = 0; i < static_cast<int>(tier::metrics::Counter::kCount); ++i) {
    const auto c = static_cast<tier::metrics::Counter>(i);
    counters.insert(QLatin1String(tier::metrics::toString(c)), static_cast<double>(snap.counter(c)));
  }
  // Where the misses are: L1 per namespace over the whole run (warm-up included).
  QJsonObject l1ns;
  for (const auto& n : core.l1().stats().namespaces)
    l1ns.insert(fromStd(n.ns), QJsonObject{{QStringLiteral("hits"), static_cast<double>(n.hits)},
                                           {QStringLiteral("misses"), static_cast<double>(n.misses)},
                                           {QStringLiteral("inserts"), static_cast<double>(n.inserts)},
                                           {QStringLiteral("evictions"), static_cast<double>(n.evictions)},
                                           {QStringLiteral("expirations"), static_cast<double>(n.expirations)},
                                           {QStringLiteral("invalidations"), static_cast<double>(n.invalidations)},
                                           {QStringLiteral("entries"), static_cast<double>(n.entries)}});
  const double ops = static_cast<double>(after.operations - before.operations);
  const double ops8 = static_cast<double>(after8.operations - before8.operations);
  run.details.insert(QStringLiteral("load"),
                     QJsonObject{{QStringLiteral("virtual_users"), o.virtual_users},
                                 {QStringLiteral("threads"), o.threads},
                                 {QStringLiteral("threads_reason"), fromStd(threads.reason)},
                                 {QStringLiteral("order"),
                                  QStringLiteral("warm-up on %1 threads; then on the default threads %2 s settling and "
                                                 "%3 s measured; then the same on %4 threads; one core and cache")
                                      .arg(oWarm.threads)
                                      .arg(run.plan.load_switch_settle_s)
                                      .arg(run.plan.load_measure_s)
                                      .arg(o8.threads)},
                                 {QStringLiteral("warmup_threads"), oWarm.threads},
                                 {QStringLiteral("at_8_threads"),
                                  QJsonObject{{QStringLiteral("threads"), o8.threads},
                                              {QStringLiteral("ops_per_s"), ops8 / run.plan.load_measure_s},
                                              {QStringLiteral("hit_rate"), snap8.hitRate()},
                                              {QStringLiteral("l1_hit_rate"), snap8.l1HitRate()},
                                              {QStringLiteral("l2_hit_rate"), snap8.l2HitRate()},
                                              {QStringLiteral("workload_misses"),
                                               static_cast<double>(after8.misses - before8.misses)},
                                              {QStringLiteral("latency"), latencyOf(snap8)}}},
                                 {QStringLiteral("zipf_s"), o.zipf_s},
                                 {QStringLiteral("warmup_s"), warmupS},
                                 {QStringLiteral("warmup_hit_rate_10s"), warmCurve},
                                 {QStringLiteral("warmup_rule"),
                                  QStringLiteral("at least %1 s, then until the 10 s hit rate moves < %2 between windows, at most %3 s")
                                      .arg(run.plan.load_warmup_min_s).arg(run.plan.load_settle).arg(run.plan.load_warmup_max_s)},
                                 {QStringLiteral("measured_s"), run.plan.load_measure_s},
                                 {QStringLiteral("ops_per_s"), ops / run.plan.load_measure_s},
                                 {QStringLiteral("knowledge_warmed"), static_cast<double>(warmed.warmed + warmed.already)},
                                 {QStringLiteral("l1_hit_rate"), snap.l1HitRate()},
                                 {QStringLiteral("l2_hit_rate"), snap.l2HitRate()},
                                 {QStringLiteral("counters"), counters},
                                 {QStringLiteral("l1_namespaces"), l1ns},
                                 {QStringLiteral("workload_misses"), static_cast<double>(after.misses - before.misses)},
                                 {QStringLiteral("latency"), latency}});
}

// The L1 half: in-process, no server (l1_bench.cpp).
void benchL1(Run& run) {
  L1BenchOptions o;
  o.quick = run.plan.quick;
  o.progress = [&run](const std::string& line) { run.progress(fromStd(line)); };
  const auto r = runL1Bench(o);
  run.fields.insert(QStringLiteral("l1_hit_vs_hashmap"), r.l1_hit_vs_hashmap);
  run.fields.insert(QStringLiteral("l1_scaling_2t"), r.l1_scaling_2t);
  run.fields.insert(QStringLiteral("hit_ratio_vs_opt_zipf"), r.hit_ratio_vs_opt_zipf);
  run.fields.insert(QStringLiteral("hit_ratio_vs_top_k"), r.hit_ratio_vs_top_k);
  run.fields.insert(QStringLiteral("hit_ratio_vs_lru_scan"), r.hit_ratio_vs_lru_scan);
  run.fields.insert(QStringLiteral("l1_bytes_per_entry_overhead"), r.l1_bytes_per_entry_overhead);
  run.details.insert(QStringLiteral("l1"), r.details);
}

}  // namespace

// ---- the plan, the targets ----------------------------------------------------

constexpr Target kTargets[] = {
    {"l1_hit_vs_hashmap", "l1", "<=", 1.5},
    {"l1_scaling_2t", "l1", ">=", 1.8},
    {"l2_get_vs_hiredis_p50", "l2", "<=", 1.10},
    {"warm_vs_redis_benchmark", "warm", ">=", 0.8},
    {"session_cold_vs_libpq_p99", "session", "<=", 1.2},
    {"hit_ratio_vs_top_k", "l1", ">=", 0.97},
    {"hit_ratio_vs_lru_scan", "l1", ">=", 1.0},
    {"invalidate_1m_vs_recipe", "invalidate", "<=", 0.5},
    {"invalidate_concurrent_get_p99_ms", "invalidate", "<", 5},
    {"namespace_invalidate_ms", "invalidate", "<", 1},
    {"load_1000_hit_rate", "load", ">=", 0.95},
    {"load_1000_session_p99_ms", "load", "<=", 2},
    {"load_1000_knowledge_p99_ms", "load", "<=", 0.1},
    {"l1_bytes_per_entry_overhead", "l1", "<=", 48},
    {"fleet_publish_throughput_ratio", "fleet", ">=", 0.99},
    {"fleet_publish_cpu_share", "fleet", "<=", 0.01},
};

constexpr InfoField kInfoFields[] = {
    // Against Belady-OPT: no online policy reaches it on IID traces; the ceiling is the
    // row's static_top_k / opt (details.l1.hit_ratio), which hit_ratio_vs_top_k targets.
    {"hit_ratio_vs_opt_zipf", "l1"},
    // The load at 8 worker threads, next to the default threads' figures above.
    {"load_1000_8t_hit_rate", "load"},
    {"load_1000_8t_session_p99_ms", "load"},
    {"load_1000_8t_knowledge_p99_ms", "load"},
};

std::span<const Target> targets() { return kTargets; }
std::span<const InfoField> infoFields() { return kInfoFields; }

bool meets(const Target& t, double v) {
  const std::string op = t.op;
  if (op == "<=") return v <= t.target;
  if (op == ">=") return v >= t.target;
  return v < t.target;
}

Plan planFor(bool quick) {
  Plan p;
  if (!quick) return p;
  p.quick = true;
  p.reps = 1;
  p.get_ops = 200;
  p.warm_items = 1000;
  p.session_ops = 40;
  p.inv_keys = 10'000;
  p.inv_reps = 1;
  p.ns_reps = 3;
  p.load_warmup_min_s = 2;
  p.load_warmup_max_s = 3;
  p.load_measure_s = 3;
  p.load_switch_settle_s = 1;
  p.fleet_reps = 1;
  p.fleet_block_s = 2;
  return p;
}

QString RedisEndpoint::transport() const { return url.isUnix() ? QStringLiteral("unix") : QStringLiteral("tcp"); }

QStringList RedisEndpoint::cliArgs() const {
  QStringList a;
  if (url.isUnix())
    a << QStringLiteral("-s") << fromStd(url.unix_path);
  else
    a << QStringLiteral("-h") << fromStd(url.host) << QStringLiteral("-p") << QString::number(url.port);
  if (url.db != 0) a << QStringLiteral("-n") << QString::number(url.db);
  if (!url.username.empty()) a << QStringLiteral("--user") << fromStd(url.username);
  return a;
}

QProcessEnvironment RedisEndpoint::env() const {
  auto e = QProcessEnvironment::systemEnvironment();
  if (!url.password.empty()) e.insert(QStringLiteral("REDISCLI_AUTH"), fromStd(url.password));
  return e;
}

void Run::checkInterrupted() const {
  if (interrupted && interrupted()) throw Error(ErrorKind::Internal, "interrupted");
}

std::span<const Scenario> scenarios() {
  static constexpr Scenario kOrder[] = {{"l1", benchL1},
                                        {"l2", benchL2},
                                        {"warm", benchWarm},
                                        {"session", benchSession},
                                        {"invalidate", benchInvalidate},
                                        {"load", benchLoad},
                                        {"fleet", benchFleet}};
  return kOrder;
}

// ---- servers and machine ------------------------------------------------------

OwnServers::OwnServers(const sandbox::SeedOptions& seed, const std::function<void(const QString&)>& progress) {
  std::string tmpl = "/tmp/tierctl-bench-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw Error(ErrorKind::Internal, "cannot create a temp folder");
  ::chmod(tmpl.c_str(), 0755);  // user postgres must traverse it when we are root
  dir_ = tmpl;
  sandbox::SandboxOptions o;
  o.dir = dir_;
  o.seed = seed;
  sandbox_ = std::make_unique<sandbox::Sandbox>(o);
  try {
    status_ = sandbox_->up([&progress](const sandbox::SandboxProgress& p) {
                if ((p.stage != "seed" || p.done == p.total) && progress)
                  progress(fromStd(p.message.empty() ? p.stage : p.message));
              }).status;
  } catch (...) {
    cleanup();
    throw;
  }
}

OwnServers::~OwnServers() { cleanup(); }

void OwnServers::cleanup() noexcept {
  try {
    if (sandbox_) sandbox_->down();
  } catch (...) {
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  sandbox_.reset();
  dir_.clear();
}

namespace {
QString firstLine(const QString& text) { return text.section(QLatin1Char('\n'), 0, 0).trimmed(); }
}  // namespace

QJsonObject machineJson(Run& run) {
  QString cpu;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      cpu = fromStd(line.substr(line.find(':') + 2));
      break;
    }
  utsname u{};
  ::uname(&u);
  QString redisVersion;
  try {
    const std::string info = run.core->redis().info("server");
    const auto at = info.find("redis_version:");
    if (at != std::string::npos) redisVersion = fromStd(info.substr(at + 14, info.find('\r', at) - at - 14));
  } catch (const tier::Error&) {
  }
  QString pgVersion;
  try {
    pgVersion = fromStd(run.core->pg().acquire()->serverVersion());
  } catch (const tier::Error&) {
  }
  QString commit = qEnvironmentVariable("TIER_BENCH_COMMIT");
  if (commit.isEmpty()) {
    QProcess git;
    git.start(QStringLiteral("git"), {QStringLiteral("rev-parse"), QStringLiteral("--short"), QStringLiteral("HEAD")});
    if (git.waitForFinished(5000) && git.exitCode() == 0) commit = firstLine(QString::fromUtf8(git.readAllStandardOutput()));
  }
  return QJsonObject{{QStringLiteral("cpu"), cpu},
                     {QStringLiteral("cores"), static_cast<int>(std::thread::hardware_concurrency())},
                     {QStringLiteral("kernel"), QStringLiteral("%1 %2").arg(QLatin1String(u.sysname), QLatin1String(u.release))},
                     {QStringLiteral("load_average"), [] {
                        double l[3] = {0, 0, 0};
                        ::getloadavg(l, 3);
                        return QJsonArray{l[0], l[1], l[2]};
                      }()},
                     {QStringLiteral("redis_version"), redisVersion},
                     {QStringLiteral("postgres_version"), pgVersion},
                     {QStringLiteral("commit"), commit.isEmpty() ? QStringLiteral("unknown") : commit}};
}

}  // namespace tier::bench
