#include "tier/ops/health.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>

#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/schema/migrations.h"

namespace tier::ops {
namespace {

// INFO text: "key:value" lines; returns value or "".
std::string infoField(const std::string& info, const std::string& key) {
  std::istringstream in(info);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':')
      return line.substr(key.size() + 1);
  }
  return {};
}

long long toLL(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (...) {
    return 0;
  }
}

// SLOWLOG GET reply -> entries of `node`. An entry is
// [id, unix s, µs, [argv], client addr, client name] (the last two since Redis 4).
void parseSlowlog(const redis::Reply& reply, const std::string& node, std::vector<SlowlogEntry>& out) {
  if (reply.type != redis::Reply::Type::Array) return;
  for (const auto& e : reply.elements) {
    if (e.type != redis::Reply::Type::Array || e.elements.size() < 4) continue;
    SlowlogEntry s;
    s.id = e.elements[0].integer;
    s.at_ms = e.elements[1].integer * 1000;
    s.duration_us = e.elements[2].integer;
    std::vector<std::string> argv;
    for (const auto& a : e.elements[3].elements)
      argv.push_back(a.type == redis::Reply::Type::Integer ? std::to_string(a.integer) : a.str);
    s.command = formatSlowlogCommand(argv);
    if (e.elements.size() > 4) s.client = e.elements[4].str;
    if (e.elements.size() > 5) s.client_name = redactSecrets(e.elements[5].str);
    s.node = node;
    out.push_back(std::move(s));
  }
}

// CONFIG GET slowlog-log-slower-than reply ([name, value]) -> value.
std::optional<long long> slowerThan(const redis::Reply& reply) {
  if (reply.type != redis::Reply::Type::Array || reply.elements.size() < 2) return std::nullopt;
  try {
    return std::stoll(reply.elements[1].str);
  } catch (...) {
    return std::nullopt;
  }
}

// The slowlog of every data node that answered the probe. Never throws.
void readSlowlog(const redis::RedisReadView& r, RedisHealth& h) {
  const std::vector<redis::Command> cmds{{"SLOWLOG", "GET", "128"}, {"CONFIG", "GET", "slowlog-log-slower-than"}};
  std::vector<std::pair<std::string, std::vector<redis::Reply>>> answers;
  std::string failure;
  bool configRefused = false;
  std::string configError;
  auto note = [&](const std::string& why) {
    if (failure.empty()) failure = why;
  };
  // Both commands in one round trip; if the ACL refuses one, the pipeline throws
  // after reading every reply, so ask one by one to keep what is allowed.
  auto fetch = [&](const std::string& node, const std::function<std::vector<redis::Reply>(
                                                const std::vector<redis::Command>&)>& send) {
    try {
      answers.emplace_back(node, send(cmds));
      return;
    } catch (const PermissionError&) {
    } catch (const BadInputError&) {
      return;  // a node the client has no pool for (left the deployment since the probe)
    } catch (const Error& e) {
      note(node + ": " + redactSecrets(e.what()));
      return;
    }
    std::vector<redis::Reply> replies(cmds.size());
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      try {
        replies[i] = std::move(send({cmds[i]}).at(0));
      } catch (const PermissionError&) {
        if (i == 0) note("SLOWLOG not permitted");
        if (i == 1) configRefused = true;
      } catch (const Error& e) {
        note(node + ": " + redactSecrets(e.what()));
      }
    }
    answers.emplace_back(node, std::move(replies));
  };
  if (r.mode() == redis::RedisMode::Single) {
    fetch(h.nodes.empty() ? h.endpoint : h.nodes.front().address,
          [&](const std::vector<redis::Command>& c) { return r.pipeline(c); });
  } else {
    for (const auto& n : h.nodes) {
      if (n.role == "sentinel" || !n.up) continue;
      fetch(n.address, [&](const std::vector<redis::Command>& c) { return r.pipelineOn(n.address, c); });
    }
  }
  bool slowlogRead = false;
  for (const auto& [node, replies] : answers) {
    if (replies.size() < 2) continue;
    if (replies[0].type == redis::Reply::Type::Array) {
      parseSlowlog(replies[0], node, h.slowlog);
      slowlogRead = true;
    } else if (replies[0].isError()) {
      note(redactSecrets(replies[0].str));
    }
    if (replies[1].isError() && configError.empty()) configError = redactSecrets(replies[1].str);
    if (auto v = slowerThan(replies[1])) {
      if (!h.slowlog_threshold_known) {
        h.slowlog_threshold_known = true;
        h.slowlog_log_slower_than_us = *v;
      } else if (*v != h.slowlog_log_slower_than_us) {
        h.slowlog_threshold_varies = true;
      }
    }
  }
  if (!h.slowlog_threshold_known)
    h.slowlog_threshold_error = answers.empty() ? "no node answered"
                                : configRefused || configError.rfind("NOPERM", 0) == 0 || configError.empty()
                                    ? "CONFIG not permitted"
                                    : configError;
  if (!slowlogRead || !failure.empty()) h.slowlog_error = failure.empty() ? "SLOWLOG not read" : failure;
  // Newest first over all nodes; within a second by node, then newest id first.
  std::sort(h.slowlog.begin(), h.slowlog.end(), [](const SlowlogEntry& a, const SlowlogEntry& b) {
    if (a.at_ms != b.at_ms) return a.at_ms > b.at_ms;
    return a.node != b.node ? a.node < b.node : a.id > b.id;
  });
}

void checkRedis(TierCore& core, RedisHealth& h) {
  const redis::RedisReadView* r = core.hasRedis() ? &core.redis() : nullptr;
  h.configured = r != nullptr;
  if (!r) {
    h.error = "no Redis configured";
    return;
  }
  h.endpoint = r->options().url.redacted();
  try {
    h.latency_ms = std::chrono::duration<double, std::milli>(r->ping()).count();
    h.ok = true;
    std::string info = r->info();
    h.version = infoField(info, "redis_version");
    h.used_memory = toLL(infoField(info, "used_memory"));
    h.used_memory_human = infoField(info, "used_memory_human");
    h.connected_clients = toLL(infoField(info, "connected_clients"));
    h.keyspace_hits = toLL(infoField(info, "keyspace_hits"));
    h.keyspace_misses = toLL(infoField(info, "keyspace_misses"));
    h.evicted_keys = toLL(infoField(info, "evicted_keys"));
    // Optional sections: an ACL user may not be allowed these; health stays ok.
    try {
      h.latencystats = r->info("latencystats");
    } catch (const Error&) {
    }
    auto replies = r->pipeline({{"DBSIZE"}, {"SLOWLOG", "LEN"}, {"LATENCY", "LATEST"}});
    if (replies.size() == 3) {
      if (replies[0].type == redis::Reply::Type::Integer) h.db_keys = replies[0].integer;
      if (replies[1].type == redis::Reply::Type::Integer) h.slowlog_len = replies[1].integer;
      if (replies[2].type == redis::Reply::Type::Array) {
        std::string out;
        for (const auto& ev : replies[2].elements) {
          if (ev.elements.size() < 4) continue;
          out += ev.elements[0].str + ": latest " + std::to_string(ev.elements[2].integer) + " ms, max " +
                 std::to_string(ev.elements[3].integer) + " ms\n";
        }
        h.latency_latest = out;
      }
    }
  } catch (const Error& e) {
    if (!h.ok) h.error = redactSecrets(e.what());
  }
  h.mode = redis::toString(r->mode());
  h.nodes = r->topology(true);
  long long clusterKeys = 0;
  for (const auto& n : h.nodes) {
    if (!n.up) ++h.nodes_down;
    if (n.role == "master" && n.keys >= 0) clusterKeys += n.keys;
    if (n.role == "master" && r->mode() != redis::RedisMode::Cluster) h.master = n.address;
  }
  if (r->mode() == redis::RedisMode::Cluster) h.db_keys = clusterKeys;
  if (h.ok) readSlowlog(*r, h);
  h.pool = r->poolStats();
}

void checkPostgres(TierCore& core, PostgresHealth& h) {
  h.endpoint = core.pg().redactedConninfo();
  try {
    auto c = core.pg().acquire();
    auto t0 = Clock::now();
    c->exec("SELECT 1");
    h.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    h.ok = true;
    h.version = c->serverVersion();
    h.role = c->user();
    auto r = c->exec(
        "SELECT coalesce(blks_hit, 0), coalesce(blks_read, 0), coalesce(numbackends, 0), "
        "current_setting('max_connections')::bigint FROM pg_stat_database WHERE datname = current_database()");
    if (r.rows() > 0) {
      double hit = r.toDouble(0, 0), read = r.toDouble(0, 1);
      h.cache_hit_ratio = hit + read > 0 ? hit / (hit + read) : 1.0;
      h.connections = r.toInt(0, 2);
      h.max_connections = r.toInt(0, 3);
    }
  } catch (const Error& e) {
    if (!h.ok) h.error = redactSecrets(e.what());
  }
  if (h.ok) {
    try {
      h.schema_version = schema::currentVersion(core.pg());
    } catch (const Error&) {
    }
  }
  h.pool = core.pg().stats();
}

void checkReplica(TierCore& core, ReplicaHealth& h) {
  auto& reads = core.reads();
  h.configured = reads.hasReplica();
  if (!h.configured) {
    h.routing = reads.stats();
    return;
  }
  h.endpoint = reads.replica()->redactedConninfo();
  std::optional<std::string> replayed;
  try {
    auto c = reads.replica()->acquire();
    auto t0 = Clock::now();
    auto r = c->exec(
        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
        "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
        "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8");
    h.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r.value(0, 0) == "t") {
      h.ok = true;
      replayed = r.optional(0, 1);
      h.lag_seconds = r.toDouble(0, 2);
    } else {
      h.error = "not a standby: pg_is_in_recovery() is false, so routed reads use the primary";
    }
  } catch (const Error& e) {
    h.error = redactSecrets(e.what());
  }
  if (replayed) {
    try {
      auto c = core.pg().acquire();
      auto r =
          c->exec("SELECT GREATEST(0, pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn))::bigint", {*replayed});
      h.lag_bytes = r.toInt(0, 0);
    } catch (const Error&) {
      // The primary's own health line reports why it cannot be asked.
    }
  }
  h.routing = reads.stats();
}

// The length of the well-formed UTF-8 sequence starting at s[i] (2-4 bytes,
// no overlongs or surrogates), or 0.
std::size_t utf8Length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  return len;
}

}  // namespace

std::string formatSlowlogCommand(const std::vector<std::string>& argv) {
  const std::vector<std::string> masked = redactCommand(argv);
  std::string out;
  const std::size_t shown = std::min(masked.size(), kSlowlogMaxArgs);
  for (std::size_t i = 0; i < shown; ++i) {
    const std::string& a = masked[i];
    const bool cut = a.size() > kSlowlogMaxArgBytes;
    std::string_view v(a.data(), cut ? kSlowlogMaxArgBytes : a.size());
    // Never cut inside a UTF-8 sequence: back up to a lead byte.
    for (int back = 0; cut && back < 3 && !v.empty() && (static_cast<unsigned char>(a[v.size()]) & 0xC0) == 0x80; ++back)
      v.remove_suffix(1);
    bool quote = a.empty();
    std::string text;
    for (std::size_t k = 0; k < v.size(); ++k) {
      const char c = v[k];
      const auto u = static_cast<unsigned char>(c);
      if (c == ' ' || c == '"' || c == '\\') quote = true;
      if (c == '"' || c == '\\') {
        text += '\\';
        text += c;
      } else if (u >= 0x80 && utf8Length(v, k) > 0) {
        const std::size_t len = utf8Length(v, k);
        text.append(v.substr(k, len));
        k += len - 1;
      } else if (u < 0x20 || u >= 0x7f) {
        // Control bytes and bytes that are not UTF-8 (binary values) as \xHH, so the text stays valid.
        static const char* hex = "0123456789abcdef";
        text += "\\x";
        text += hex[u >> 4];
        text += hex[u & 15];
      } else {
        text += c;
      }
    }
    if (cut) text += "\u2026";
    if (i > 0) out += ' ';
    out += quote ? '"' + text + '"' : text;
  }
  if (masked.size() > shown) out += " \u2026 (+" + std::to_string(masked.size() - shown) + " more)";
  return out;
}

HealthReport checkHealth(TierCore& core) {
  HealthReport r;
  checkRedis(core, r.redis);
  checkPostgres(core, r.postgres);
  checkReplica(core, r.replica);
  if (auto* bp = core.backplane()) {
    bp->l1Usable();  // starts the link if nothing has yet (a CLI health check), waiting once
    r.backplane = bp->stats();
  }
  if (const auto* p = core.publisher()) {
    r.fleet_publishing = true;
    r.fleet_publisher = p->stats();
  }
  return r;
}

}  // namespace tier::ops
