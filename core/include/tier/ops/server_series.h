#pragma once
// Server-side series (issue 14, item 4): what Redis and PostgreSQL themselves
// count, polled over time, so the console shows traffic that no instance of
// the core instruments (a service that does not embed the core, a cron job).
//
// One poll reads raw counters (Redis INFO, INFO commandstats, INFO
// latencystats; PostgreSQL pg_stat_database and, when installed,
// pg_stat_statements). A point needs two polls: rates and ratios are deltas
// between them. A counter that went down (server restart, CONFIG RESETSTAT,
// pg_stat_reset, a cluster's masters changing) makes that point's deltas
// unknown (NaN), never negative; the next poll starts again from there.
//
// Redis Cluster: the counters are summed over the masters (INFO asked of each
// through pipelineOn); per-command p99 is the worst master's, an upper bound of
// the cluster-wide p99 (a mixture's p99 never exceeds its parts' largest).
// Sentinel: the current master. Every figure is measured at the server:
// Redis latencies are command execution time inside the server (no network,
// no queueing in the client), and latencystats percentiles cover the time
// since the server started or CONFIG RESETSTAT, not the last interval.
//
// Thread-safety: ServerSeriesPoller::poll blocks on the network (worker
// threads only) and serializes itself; the parse/derive functions are pure.
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tier/redis/redis_client.h"

namespace tier {
class TierCore;
}

namespace tier::ops {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// INFO text -> "field" -> "value" (section headers, blank lines and lines
// without ':' skipped and counted in *malformed, if given).
std::map<std::string, std::string> parseInfo(std::string_view text, int* malformed = nullptr);

// One command's latency percentiles from INFO latencystats, microseconds (NaN = absent).
struct CommandLatency {
  double p50_us = kNaN;
  double p99_us = kNaN;
  double p999_us = kNaN;
};

// INFO latencystats: "latency_percentiles_usec_get:p50=5.023,p99=8.031,p99.9=9.1"
// -> {"get": {...}}. Command names lowercase ("client|list" for subcommands).
// A line that does not parse (no value, a non-number, no p99) is skipped and
// counted in *malformed.
std::map<std::string, CommandLatency> parseLatencyStats(std::string_view text, int* malformed = nullptr);

// One command's totals from INFO commandstats ("cmdstat_get:calls=3,usec=15,…").
struct CommandTotals {
  long long calls = 0;
  long long usec = 0;  // total execution time
};
std::map<std::string, CommandTotals> parseCommandStats(std::string_view text, int* malformed = nullptr);

// Raw counters of one poll. Lifetime counters, not rates.
struct RedisCounters {
  bool ok = false;
  std::string error;               // one line, redacted; empty when ok
  std::string scope;               // "1 server", "sum over 3 masters", "master host:port"
  std::vector<std::string> nodes;  // the nodes asked (a change is a reset)
  long long keyspace_hits = 0;
  long long keyspace_misses = 0;
  long long total_commands = 0;  // total_commands_processed
  long long evicted_keys = 0;
  long long connected_clients = 0;
  long long used_memory = 0;                      // bytes
  std::map<std::string, CommandLatency> latency;  // worst master's
  std::map<std::string, CommandTotals> commands;  // summed
  std::string latency_note;                       // why latencystats is missing (e.g. Redis < 7), empty if read
  int malformed = 0;                              // INFO lines that did not parse
};

// Adds one node's replies to {INFO, INFO commandstats, INFO latencystats} to c:
// counters summed, per-command percentiles the worst of the nodes. Throws
// DataError when the INFO reply is missing or an error. A missing or refused
// latencystats only sets latency_note. (readServerCounters calls it per master.)
void accumulateRedisNode(const std::string& node, const std::vector<redis::Reply>& replies, RedisCounters& c);

// pg_stat_statements keeps the text of utility statements as run (constants
// are $n only in planned ones), e.g. ALTER ROLE … PASSWORD 'x'. Every
// single-quoted literal becomes '***', every dollar-quoted body $$***$$ (an
// unterminated one to the end: the text is cut at 200 bytes), and
// redactSecrets() runs on the rest, so no secret reaches a chart or a log.
std::string maskStatementText(std::string_view sql);

struct StatementTotals {
  std::string key;    // queryid (with userid): identity across polls
  std::string query;  // normalized text, cut to 200 bytes, literals masked (maskStatementText)
  long long calls = 0;
  double total_ms = 0;
};

enum class StatementsState { NotInstalled, Unreadable, Available };
const char* toString(StatementsState s) noexcept;

struct PgCounters {
  bool ok = false;
  std::string error;  // one line, redacted
  std::string database;
  long long xact_commit = 0;
  long long xact_rollback = 0;
  long long blks_hit = 0;
  long long blks_read = 0;
  long long stats_reset_ms = 0;  // pg_stat_database.stats_reset, unix ms (0 = never)
  StatementsState statements_state = StatementsState::NotInstalled;
  std::string statements_note;              // "pg_stat_statements not installed", or why it cannot be read
  std::vector<StatementTotals> statements;  // the busiest by lifetime total time
};

struct ServerCounters {
  long long at_ms = 0;  // when read, unix ms
  bool redis_configured = false;
  RedisCounters redis;
  PgCounters pg;
};

// One statement's activity over the interval.
struct StatementRate {
  std::string query;
  double calls_per_s = 0;
  double mean_ms = kNaN;  // total time / calls within the interval
  double total_ms = 0;    // within the interval
};

// One chart point: values at at_ms; rates over (at_ms - interval_s, at_ms].
// Every rate/ratio is NaN when unknown (first poll, a reset, no traffic).
struct ServerSeriesPoint {
  long long at_ms = 0;
  double interval_s = 0;  // 0 on the first poll
  // Redis
  bool redis_configured = false;
  bool redis_ok = false;
  std::string redis_error;
  std::string redis_scope;
  bool redis_reset = false;         // a counter went down: deltas skipped
  double keyspace_hit_rate = kNaN;  // 0..1: hits / (hits + misses) in the interval
  double commands_per_s = kNaN;
  double evicted_per_s = kNaN;
  double connected_clients = kNaN;  // gauge
  double used_memory = kNaN;        // gauge, bytes
  long long keyspace_hits_delta = 0;
  long long keyspace_misses_delta = 0;
  std::map<std::string, CommandLatency> command_latency;  // since server start (latencystats)
  std::map<std::string, double> command_calls_per_s;      // commandstats delta
  std::string latency_note;
  int malformed = 0;
  // PostgreSQL
  bool pg_ok = false;
  std::string pg_error;
  std::string pg_database;
  bool pg_reset = false;
  double transactions_per_s = kNaN;  // commits + rollbacks
  double block_hit_ratio = kNaN;     // 0..1 over the interval; NaN when no block was asked for
  StatementsState statements_state = StatementsState::NotInstalled;
  std::string statements_note;
  std::vector<StatementRate> top_statements;  // by total time in the interval, at most top_n
};

// The point between two polls (prev may be null: the first poll). Pure.
ServerSeriesPoint derivePoint(const ServerCounters* prev, const ServerCounters& cur, std::size_t top_n = 5);

// Reads the raw counters now. Never throws: a server that cannot be asked is
// reported in ok/error. Blocking: worker threads only.
ServerCounters readServerCounters(TierCore& core);

class ServerSeriesPoller {
 public:
  explicit ServerSeriesPoller(std::size_t top_n = 5) : top_n_(top_n) {}
  // Reads the counters and returns the point since the previous poll.
  ServerSeriesPoint poll(TierCore& core);
  // Forgets the previous poll (a new connection: nothing to subtract from).
  void reset();

 private:
  std::mutex mu_;
  std::size_t top_n_;
  std::optional<ServerCounters> prev_;
};

}  // namespace tier::ops
