#include "tier/ops/health.h"

#include <sstream>

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

void checkRedis(TierCore& core, RedisHealth& h) {
  auto* r = core.redis();
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

}  // namespace

HealthReport checkHealth(TierCore& core) {
  HealthReport r;
  checkRedis(core, r.redis);
  checkPostgres(core, r.postgres);
  checkReplica(core, r.replica);
  if (auto* bp = core.backplane()) {
    bp->l1Usable();  // starts the link if nothing has yet (a CLI health check), waiting once
    r.backplane = bp->stats();
  }
  return r;
}

}  // namespace tier::ops
