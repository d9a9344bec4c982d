#include "tier/ops/server_series.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <set>

#include "tier/common/error.h"
#include "tier/core.h"

namespace tier::ops {
namespace {

std::string_view trimCr(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  return line;
}

template <typename F>
void forEachLine(std::string_view text, F&& f) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    f(trimCr(text.substr(0, nl)));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::optional<long long> toLong(std::string_view s) {
  long long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// strtod needs a terminated string; the values are short.
std::optional<double> toDouble(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  const std::string z(s);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(z.c_str(), &end);
  if (end != z.c_str() + z.size() || errno == ERANGE || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

// "a=1,b=2" -> {a: "1", b: "2"}; nullopt if an item has no '='.
std::optional<std::map<std::string, std::string_view>> parseKv(std::string_view v) {
  std::map<std::string, std::string_view> out;
  while (!v.empty()) {
    const auto comma = v.find(',');
    const std::string_view item = v.substr(0, comma);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    out.emplace(std::string(item.substr(0, eq)), item.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

long long field(const std::map<std::string, std::string>& info, const char* key, bool* missing = nullptr) {
  const auto it = info.find(key);
  if (it != info.end())
    if (auto v = toLong(it->second)) return *v;
  if (missing) *missing = true;
  return 0;
}

const redis::Reply* replyAt(const std::vector<redis::Reply>& r, std::size_t i) {
  return i < r.size() && r[i].type == redis::Reply::Type::String ? &r[i] : nullptr;
}

RedisCounters readRedis(const redis::RedisReadView& r) {
  RedisCounters c;
  const std::vector<redis::Command> cmds{{"INFO"}, {"INFO", "commandstats"}, {"INFO", "latencystats"}};
  try {
    const redis::RedisMode mode = r.mode();
    if (mode == redis::RedisMode::Cluster) {
      std::vector<std::string> masters = r.masters();
      std::sort(masters.begin(), masters.end());
      if (masters.empty()) throw ConnectionError("the cluster has no reachable master");
      for (const auto& m : masters) accumulateRedisNode(m, r.pipelineOn(m, cmds), c);
      c.scope = "sum over " + std::to_string(masters.size()) + " masters";
    } else {
      const std::string node = mode == redis::RedisMode::Sentinel ? r.currentMaster() : r.options().url.redacted();
      accumulateRedisNode(node, r.pipeline(cmds), c);
      c.scope = mode == redis::RedisMode::Sentinel ? "master " + node : "1 server";
    }
    if (!c.latency.empty()) c.latency_note.clear();
    c.ok = true;
  } catch (const Error& e) {
    c = RedisCounters{};
    c.error = redactSecrets(e.what());
  }
  return c;
}

void readStatements(pg::Connection& conn, PgCounters& c) {
  // The extension's schema, quoted by the server (quote_ident): the one name
  // this code puts into SQL text; every other part of the statements is fixed.
  auto ext = conn.exec(
      "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname = 'pg_stat_statements'");
  if (ext.rows() == 0) {
    c.statements_state = StatementsState::NotInstalled;
    c.statements_note = "pg_stat_statements not installed";
    return;
  }
  const std::string schema(ext.value(0, 0));
  auto ver = conn.exec("SELECT current_setting('server_version_num')::int");
  // PostgreSQL 13 renamed total_time to total_exec_time.
  const char* total = ver.rows() > 0 && ver.toInt(0, 0) >= 130000 ? "total_exec_time" : "total_time";
  try {
    auto r = conn.exec(std::string("SELECT s.userid::text || ':' || s.queryid::text, left(s.query, 200), s.calls, s.") +
                       total + "::float8 FROM " + schema +
                       ".pg_stat_statements s WHERE s.queryid IS NOT NULL AND s.dbid = "
                       "(SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY s." +
                       total + " DESC LIMIT 100");
    for (int i = 0; i < r.rows(); ++i) {
      StatementTotals s;
      s.key = std::string(r.value(i, 0));
      s.query = maskStatementText(r.value(i, 1));
      s.calls = r.toInt(i, 2);
      s.total_ms = r.toDouble(i, 3);
      c.statements.push_back(std::move(s));
    }
    c.statements_state = StatementsState::Available;
  } catch (const Error& e) {
    // Typically "must be loaded via shared_preload_libraries", or a privilege.
    c.statements_state = StatementsState::Unreadable;
    c.statements_note = "pg_stat_statements unreadable: " + redactSecrets(e.what());
  }
}

PgCounters readPg(TierCore& core) {
  PgCounters c;
  try {
    auto conn = core.pg().acquire();
    auto r = conn->exec(
        "SELECT current_database(), coalesce(xact_commit, 0), coalesce(xact_rollback, 0), coalesce(blks_hit, 0), "
        "coalesce(blks_read, 0), coalesce((extract(epoch FROM stats_reset) * 1000)::bigint, 0) "
        "FROM pg_stat_database WHERE datname = current_database()");
    if (r.rows() == 0) throw DataError("pg_stat_database has no row for this database");
    c.database = std::string(r.value(0, 0));
    c.xact_commit = r.toInt(0, 1);
    c.xact_rollback = r.toInt(0, 2);
    c.blks_hit = r.toInt(0, 3);
    c.blks_read = r.toInt(0, 4);
    c.stats_reset_ms = r.toInt(0, 5);
    c.ok = true;
    readStatements(*conn, c);
  } catch (const Error& e) {
    if (!c.ok) c.error = redactSecrets(e.what());
  }
  return c;
}

double perSecond(long long delta, double seconds) {
  return seconds > 0 ? static_cast<double>(delta) / seconds : kNaN;
}

}  // namespace

void accumulateRedisNode(const std::string& node, const std::vector<redis::Reply>& replies, RedisCounters& c) {
  const redis::Reply* main = replyAt(replies, 0);
  if (!main) {
    const std::string why = !replies.empty() && replies[0].isError() ? replies[0].str : "no INFO reply";
    throw DataError("INFO on " + node + ": " + why);
  }
  const auto info = parseInfo(main->str, &c.malformed);
  bool missing = false;
  c.keyspace_hits += field(info, "keyspace_hits", &missing);
  c.keyspace_misses += field(info, "keyspace_misses", &missing);
  c.total_commands += field(info, "total_commands_processed", &missing);
  c.evicted_keys += field(info, "evicted_keys", &missing);
  c.connected_clients += field(info, "connected_clients", &missing);
  c.used_memory += field(info, "used_memory", &missing);
  if (missing) ++c.malformed;
  const auto run = info.find("run_id");
  // The run id changes when the server restarts: the counters start again from 0.
  c.nodes.push_back(node + "/" + (run == info.end() ? std::string() : run->second));
  if (const redis::Reply* cs = replyAt(replies, 1)) {
    for (const auto& [cmd, t] : parseCommandStats(cs->str, &c.malformed)) {
      auto& sum = c.commands[cmd];
      sum.calls += t.calls;
      sum.usec += t.usec;
    }
  }
  const redis::Reply* ls = replyAt(replies, 2);
  const auto lat = ls ? parseLatencyStats(ls->str, &c.malformed) : std::map<std::string, CommandLatency>{};
  if (lat.empty()) {
    c.latency_note = ls || replies.size() < 3 || !replies[2].isError()
                         ? "no INFO latencystats (Redis before 7.0, or latency-tracking off)"
                         : "INFO latencystats refused: " + redactSecrets(replies[2].str);
  }
  for (const auto& [cmd, l] : lat) {
    // The worst master's percentile: an upper bound of the cluster-wide one.
    auto& w = c.latency[cmd];
    auto worst = [](double a, double b) { return std::isnan(a) ? b : std::isnan(b) ? a : std::max(a, b); };
    w.p50_us = worst(w.p50_us, l.p50_us);
    w.p99_us = worst(w.p99_us, l.p99_us);
    w.p999_us = worst(w.p999_us, l.p999_us);
  }
}

std::string maskStatementText(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'') {
      // To the closing quote; '' inside is an escaped quote, \' (E'' strings) too.
      std::size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == '\\') {
          j += 2;
        } else if (sql[j] == '\'') {
          if (j + 1 < sql.size() && sql[j + 1] == '\'') {
            j += 2;
          } else {
            break;
          }
        } else {
          ++j;
        }
      }
      out += "'***'";
      i = j + 1;
      continue;
    }
    if (c == '$' && (i == 0 || !word(sql[i - 1]))) {
      // $tag$ … $tag$ (tag empty or an identifier not starting with a digit); $1 is a parameter.
      std::size_t j = i + 1;
      while (j < sql.size() && word(sql[j])) ++j;
      const bool tag =
          j < sql.size() && sql[j] == '$' && (j == i + 1 || !std::isdigit(static_cast<unsigned char>(sql[i + 1])));
      if (tag) {
        const std::string_view delim = sql.substr(i, j - i + 1);
        const std::size_t close = sql.find(delim, j + 1);
        out.append(delim).append("***").append(delim);
        i = close == std::string_view::npos ? sql.size() : close + delim.size();
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return redactSecrets(out);
}

const char* toString(StatementsState s) noexcept {
  switch (s) {
    case StatementsState::NotInstalled: return "not_installed";
    case StatementsState::Unreadable: return "unreadable";
    case StatementsState::Available: return "available";
  }
  return "?";
}

std::map<std::string, std::string> parseInfo(std::string_view text, int* malformed) {
  std::map<std::string, std::string> out;
  forEachLine(text, [&](std::string_view line) {
    if (line.empty() || line.front() == '#') return;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      if (malformed) ++*malformed;
      return;
    }
    out.insert_or_assign(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  });
  return out;
}

std::map<std::string, CommandLatency> parseLatencyStats(std::string_view text, int* malformed) {
  static constexpr std::string_view prefix = "latency_percentiles_usec_";
  std::map<std::string, CommandLatency> out;
  for (const auto& [key, value] : parseInfo(text, malformed)) {
    if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0) {
      if (malformed) ++*malformed;
      continue;
    }
    const auto kv = parseKv(value);
    CommandLatency l;
    bool bad = !kv;
    if (kv) {
      for (const auto& [p, v] : *kv) {
        const auto d = toDouble(v);
        if (!d) {
          bad = true;
          break;
        }
        if (p == "p50") l.p50_us = *d;
        if (p == "p99") l.p99_us = *d;
        if (p == "p99.9") l.p999_us = *d;
      }
    }
    if (bad || std::isnan(l.p99_us)) {
      if (malformed) ++*malformed;
      continue;
    }
    out.emplace(key.substr(prefix.size()), l);
  }
  return out;
}

std::map<std::string, CommandTotals> parseCommandStats(std::string_view text, int* malformed) {
  static constexpr std::string_view prefix = "cmdstat_";
  std::map<std::string, CommandTotals> out;
  for (const auto& [key, value] : parseInfo(text, malformed)) {
    const auto kv =
        key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 ? parseKv(value) : std::nullopt;
    std::optional<long long> calls, usec;
    if (kv) {
      if (auto it = kv->find("calls"); it != kv->end()) calls = toLong(it->second);
      if (auto it = kv->find("usec"); it != kv->end()) usec = toLong(it->second);
    }
    if (!calls || !usec || *calls < 0 || *usec < 0) {
      if (malformed) ++*malformed;
      continue;
    }
    out.emplace(key.substr(prefix.size()), CommandTotals{*calls, *usec});
  }
  return out;
}

ServerSeriesPoint derivePoint(const ServerCounters* prev, const ServerCounters& cur, std::size_t top_n) {
  ServerSeriesPoint p;
  p.at_ms = cur.at_ms;
  if (prev && cur.at_ms > prev->at_ms) p.interval_s = static_cast<double>(cur.at_ms - prev->at_ms) / 1000.0;
  const double secs = p.interval_s;

  // Redis
  const RedisCounters& r = cur.redis;
  p.redis_configured = cur.redis_configured;
  p.redis_ok = r.ok;
  p.redis_error = r.error;
  p.redis_scope = r.scope;
  p.latency_note = r.latency_note;
  p.malformed = r.malformed;
  if (r.ok) {
    p.connected_clients = static_cast<double>(r.connected_clients);
    p.used_memory = static_cast<double>(r.used_memory);
    p.command_latency = r.latency;
  }
  if (r.ok && prev && prev->redis.ok && secs > 0) {
    const RedisCounters& q = prev->redis;
    const long long dh = r.keyspace_hits - q.keyspace_hits, dm = r.keyspace_misses - q.keyspace_misses;
    const long long dc = r.total_commands - q.total_commands, de = r.evicted_keys - q.evicted_keys;
    p.redis_reset = r.nodes != q.nodes || dh < 0 || dm < 0 || dc < 0 || de < 0;
    if (!p.redis_reset) {
      p.keyspace_hits_delta = dh;
      p.keyspace_misses_delta = dm;
      if (dh + dm > 0) p.keyspace_hit_rate = static_cast<double>(dh) / static_cast<double>(dh + dm);
      p.commands_per_s = perSecond(dc, secs);
      p.evicted_per_s = perSecond(de, secs);
      for (const auto& [cmd, t] : r.commands) {
        const auto it = q.commands.find(cmd);
        const long long before = it == q.commands.end() ? 0 : it->second.calls;
        // CONFIG RESETSTAT zeroes commandstats alone: skip the command, keep the rest.
        if (t.calls >= before) p.command_calls_per_s[cmd] = perSecond(t.calls - before, secs);
      }
    }
  }

  // PostgreSQL
  const PgCounters& g = cur.pg;
  p.pg_ok = g.ok;
  p.pg_error = g.error;
  p.pg_database = g.database;
  p.statements_state = g.statements_state;
  p.statements_note = g.statements_note;
  if (g.ok && prev && prev->pg.ok && secs > 0) {
    const PgCounters& q = prev->pg;
    const long long dx = (g.xact_commit + g.xact_rollback) - (q.xact_commit + q.xact_rollback);
    const long long dhit = g.blks_hit - q.blks_hit, dread = g.blks_read - q.blks_read;
    p.pg_reset = g.database != q.database || g.stats_reset_ms != q.stats_reset_ms || dx < 0 || dhit < 0 || dread < 0;
    if (!p.pg_reset) {
      p.transactions_per_s = perSecond(dx, secs);
      if (dhit + dread > 0) p.block_hit_ratio = static_cast<double>(dhit) / static_cast<double>(dhit + dread);
    }
    if (g.statements_state == StatementsState::Available && q.statements_state == StatementsState::Available) {
      std::map<std::string, const StatementTotals*> before;
      for (const auto& s : q.statements) before.emplace(s.key, &s);
      for (const auto& s : g.statements) {
        const auto it = before.find(s.key);
        // A statement new in the top 100 may have run before: its lifetime
        // totals are no interval figure, so it waits for the next poll.
        if (it == before.end()) continue;
        const long long dcalls = s.calls - it->second->calls;
        const double dms = s.total_ms - it->second->total_ms;
        if (dcalls <= 0 || dms < 0) continue;  // idle, or pg_stat_statements_reset()
        p.top_statements.push_back({s.query, perSecond(dcalls, secs), dms / static_cast<double>(dcalls), dms});
      }
      std::sort(p.top_statements.begin(), p.top_statements.end(),
                [](const StatementRate& a, const StatementRate& b) { return a.total_ms > b.total_ms; });
      if (p.top_statements.size() > top_n) p.top_statements.resize(top_n);
    }
  }
  return p;
}

ServerCounters readServerCounters(TierCore& core) {
  ServerCounters c;
  c.redis_configured = core.hasRedis();
  if (c.redis_configured)
    c.redis = readRedis(core.redis());
  else
    c.redis.error = "no Redis configured";
  c.pg = readPg(core);
  c.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  return c;
}

ServerSeriesPoint ServerSeriesPoller::poll(TierCore& core) {
  std::lock_guard lock(mu_);
  ServerCounters cur = readServerCounters(core);
  ServerSeriesPoint p = derivePoint(prev_ ? &*prev_ : nullptr, cur, top_n_);
  prev_ = std::move(cur);
  return p;
}

void ServerSeriesPoller::reset() {
  std::lock_guard lock(mu_);
  prev_.reset();
}

}  // namespace tier::ops
