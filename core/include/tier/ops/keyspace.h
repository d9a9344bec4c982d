#pragma once
// The keyspace as the Keys view and `tierctl analyze` see it: an incremental
// SCAN browser grouped by the namespaces of our key schema (docs/key-schema.md),
// a per-key detail, and a sampled per-namespace analysis.
//
// Everything here reads through TierCore::redis() (the read-only view): SCAN,
// DBSIZE, GET/GETRANGE, PTTL, TYPE, MEMORY USAGE, OBJECT ENCODING/FREQ and
// CONFIG GET, so it works with a read-only ACL user and can change nothing.
// Work is done in SCAN batches (COUNT ~1000) per master and pipelined per
// batch, so Redis is never blocked for more than one batch and a caller can
// stop between pages.
//
// Thread-safety: the functions are reentrant; one KeyspaceCursor must not be
// used by two threads at once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tier {
class TierCore;
}

namespace tier::redis {
class RedisReadView;
}

namespace tier::ops {

// The group a key is listed under: a namespace of our schema ("entry",
// "session", "user", "stats", "knowledge", "search") when codec::parseKey()
// accepts it (any schema version), "tc" for the internal bookkeeping keys, "fleet" for
// the fleet telemetry's keys (tier:fleet:…, docs/fleet-protocol.md), else "other" (not ours).
std::string keyGroup(std::string_view key);
// Every group in display order: the schema's namespaces, then "tc", "fleet", "other".
const std::vector<std::string>& keyGroups();

// What to list. ns "" = every key; otherwise one namespace of the schema or
// "tc" (the prefix "<ns>:" is fixed here, the glob applies to the rest), or "fleet"
// (prefix "tier:fleet:").
struct KeyspaceFilter {
  std::string ns;
  std::string glob;  // Redis glob after the prefix; "" = everything (as "*")
};
// The SCAN MATCH pattern for a filter. BadInputError (one line) for an unknown
// namespace or a glob over 512 bytes, with control characters or invalid
// UTF-8, an unterminated '[' class or a trailing lone '\'. Nothing is escaped:
// a glob is a glob.
std::string keyspaceMatch(const KeyspaceFilter& filter);

// Where a browse stands: one SCAN cursor per master (a single server or a
// Sentinel-managed master is one). Start with a default-constructed cursor;
// pass the same object to every nextKeyspacePage() call.
struct KeyspaceCursor {
  struct Node {
    std::string node;  // "host:port" of the master
    std::string cursor = "0";
    bool done = false;
    long long keys = 0;     // keys listed from this node so far (after de-duplication)
    long long dbsize = -1;  // its DBSIZE at its latest page; -1 before
  };
  std::vector<Node> nodes;  // empty until the first page
  bool started = false;
  std::string match;     // the pattern of the browse (set by the first page)
  long long listed = 0;  // keys listed so far, all nodes
  // SCAN may return a key twice (a rehash in between): the 64-bit hashes of
  // the keys listed so far (8-16 bytes a key), so each is listed once.
  std::shared_ptr<struct KeyspaceSeen> seen;
  bool done() const noexcept;  // started and every node's SCAN is complete
};

struct KeyspacePage {
  std::vector<std::string> keys;            // new keys, each listed once per browse (at most max_keys)
  std::map<std::string, long long> groups;  // keyGroup -> keys of this page (returned or only counted)
  long long listed = 0;                     // keys listed so far, this page included
  long long dbsize = -1;                    // DBSIZE summed over masters ("of ~M"); -1 if unknown
  bool done = false;                        // every master's SCAN is complete
};

struct KeyspaceScanOptions {
  int count = 1000;      // SCAN COUNT hint (1..10000)
  int min_keys = 1;      // keep scanning batches until this many new keys (or done)
  int max_batches = 50;  // ...but at most this many SCAN calls per page, so a sparse
                         // filter still returns (with few or no keys) and shows progress
  // Off: no memory per key (a browse of tens of millions within a row budget), at the
  // price of a key listed twice if Redis rehashes its table during the browse.
  bool dedupe = true;
  // Keys a page returns in KeyspacePage::keys; past this many, the page's keys are
  // only counted (groups, listed), so a view at its row budget can go on counting
  // the whole keyspace without holding it. min_keys counts both.
  int max_keys = std::numeric_limits<int>::max();
};

// The next page of a browse. The filter is validated (BadInputError) on the
// first call; later calls must pass the same filter (BadInputError otherwise).
// ConnectionError if a master of the cursor is gone (a failover: start again).
KeyspacePage nextKeyspacePage(const redis::RedisReadView& redis, const KeyspaceFilter& filter, KeyspaceCursor& cursor,
                              const KeyspaceScanOptions& options = {});

// DBSIZE summed over the masters.
long long keyspaceSize(const redis::RedisReadView& redis);

// One key, as the detail pane shows it.
struct KeyDetail {
  std::string key;
  std::string group;  // keyGroup(key)
  bool exists = false;
  std::string type;             // TYPE: "string", "hash", ... ("none" if absent)
  long long ttl_ms = -2;        // PTTL: -2 absent, -1 no expiry
  long long memory_bytes = -1;  // MEMORY USAGE; -1 if unknown (refused or absent)
  std::string encoding;         // OBJECT ENCODING; empty if unknown
  long long value_bytes = -1;   // STRLEN of a string value; -1 otherwise
  // The envelope (strings of our schema): decoded by codec::decode.
  bool envelope = false;                            // the value decoded as an envelope
  std::string decode_error;                         // why not (a string value that is not one), else empty
  std::uint32_t generation = 0;                     // namespace generation it was filled under
  std::optional<std::uint32_t> current_generation;  // tc:nsgen:{ns} now; nullopt if unset/unknown
  bool generation_current = false;                  // generation == current_generation (an older one is a miss)
  std::int64_t entity_version = 0;
  std::int64_t written_at_ms = 0;
  bool tombstone = false;  // payload null: the row was deleted
  std::string value_json;  // the payload (JSON text), as stored
  bool in_l1 = false;      // this process's L1 holds a copy
  // Commands Redis refused or could not answer (e.g. "MEMORY USAGE: NOPERM ..."): the
  // fields they fill keep their "unknown" value.
  std::vector<std::string> unavailable;
};
// BadInputError for an empty key or one over 64 KiB. Reads only; never fills a tier.
KeyDetail keyDetail(TierCore& core, std::string_view key);

// ---- Analysis (tierctl analyze, the Keys view's Analysis button) ----

struct AnalyzeOptions {
  long long sample = 100000;  // keys to examine (1..10,000,000); the whole keyspace when smaller
  int scan_count = 1000;      // SCAN COUNT per batch
  int pipeline_keys = 200;    // keys per pipeline of PTTL/MEMORY USAGE/GETRANGE(/OBJECT FREQ)
  int top = 10;               // largest and hottest keys listed
  std::chrono::milliseconds time_limit{std::chrono::minutes(10)};  // stops sampling then (truncated)
  const std::atomic<bool>* cancel = nullptr;                       // polled between batches
  struct Progress {
    long long sampled = 0;
    long long target = 0;  // keys the sample will hold (min(sample, DBSIZE))
  };
  std::function<void(const Progress&)> progress;  // at most every 100 ms, and at the end
};

// An estimate with its 95 % interval (exact when the sample is the whole keyspace).
struct Estimate {
  double value = 0;
  double low = 0;
  double high = 0;
};

struct TtlBuckets {
  long long none = 0;  // no expiry
  long long under_1h = 0;
  long long under_1d = 0;
  long long longer = 0;
};

struct NamespaceAnalysis {
  std::string ns;                      // keyGroup
  long long sampled_keys = 0;          // keys of this group in the sample
  long long sampled_bytes = 0;         // their MEMORY USAGE sum
  Estimate share;                      // of all keys (0..1): Wilson interval with finite-population correction
  Estimate keys;                       // share x DBSIZE
  Estimate bytes;                      // DBSIZE x mean bytes a key (normal interval, finite-population corrected)
  TtlBuckets ttl;                      // in the sample
  long long old_generation_keys = 0;   // in the sample: envelopes of an older namespace generation
  long long old_generation_bytes = 0;  // their MEMORY USAGE
  Estimate old_generation_keys_est;    // extrapolated to DBSIZE
  Estimate old_generation_bytes_est;
};

struct KeySize {
  std::string key;
  std::string ns;
  long long bytes = 0;
  long long ttl_ms = -1;
};

struct HotKey {
  std::string key;
  std::string ns;
  long long freq = 0;  // object_freq: Redis's LFU counter (logarithmic, 0..255); l1_sketch: the L1 sketch's 0..15
};

struct NodeSample {
  std::string node;
  long long dbsize = 0;
  long long quota = 0;  // keys to sample there (its share of the sample)
  long long sampled = 0;
  bool complete = false;  // its SCAN went through every key
};

struct KeyspaceAnalysis {
  long long dbsize = 0;    // DBSIZE summed over masters, at the start
  long long sampled = 0;   // distinct keys examined (vanished ones excluded)
  long long vanished = 0;  // listed by SCAN but gone (expired/deleted/moved) before examined
  bool exact = false;      // every master's SCAN went through every key: counts are exact
  bool truncated = false;  // stopped early (time limit or cancel): a smaller sample
  std::string method;      // how the sample was drawn, one sentence
  double confidence = 0.95;
  std::vector<NodeSample> nodes;
  std::vector<NamespaceAnalysis> namespaces;  // keyGroups() order, groups with keys only
  std::vector<KeySize> largest;               // by MEMORY USAGE, descending
  long long old_generation_keys = 0;          // in the sample, all namespaces
  long long old_generation_bytes = 0;
  Estimate old_generation_keys_est;
  Estimate old_generation_bytes_est;
  std::map<std::string, std::uint32_t> generations;  // namespace -> tc:nsgen value (unset ones absent)
  // Hot keys: "object_freq" (maxmemory-policy is an LFU one), else "l1_sketch" (this
  // process's L1 access-frequency sketch knows some sampled keys), else "unavailable".
  std::string hot_source;
  std::string hot_note;          // why unavailable / what the numbers are
  std::string maxmemory_policy;  // empty if CONFIG GET was refused
  std::vector<HotKey> hot;
  std::vector<std::string> unavailable;  // commands refused (e.g. "MEMORY USAGE: NOPERM...")
  double duration_ms = 0;
};

// Samples the keyspace by SCAN (no RANDOMKEY): on each master the first keys
// its SCAN returns, up to its share of the sample in proportion to its DBSIZE
// (SCAN walks hash-table buckets, which hashing spreads independently of key
// names, so these are close to a uniform sample); the whole keyspace when the
// sample is at least DBSIZE. BadInputError for a sample outside
// 1..10,000,000; ConnectionError / TimeoutError if Redis cannot be reached.
KeyspaceAnalysis analyzeKeyspace(TierCore& core, const AnalyzeOptions& options = {});

inline constexpr long long kMaxAnalyzeSample = 10'000'000;

// Reclaim (tierctl analyze --reclaim): walks every master with SCAN (COUNT
// 1000) and removes each copy of our namespaces whose envelope carries another
// generation than tc:nsgen:{ns} holds at the start, page by page through
// TieredCache::invalidateMany (write epoch, L1, pipelined UNLINK, settle) — the
// same ordering as an invalidation. Such a copy is a miss for every reader
// already, so nothing is announced to peers. A key refilled between its header
// read and its UNLINK is dropped too: one extra miss, never a stale read.
// Audited as reclaim.old_generation (a dry run counts only, and is audited too).
// PermissionError before anything is deleted if the audit row cannot be written
// or the ACL refuses UNLINK (then nothing of that page went).
struct ReclaimResult {
  long long scanned = 0;  // keys SCAN listed
  long long matched = 0;  // old-generation copies found
  long long deleted = 0;  // UNLINK's count
  long long l1_dropped = 0;
  bool dry_run = false;
  bool cancelled = false;
  double duration_ms = 0;
  std::int64_t audit_id = 0;
  std::string audit_error;  // the action ran but its audit row was not written
};
ReclaimResult reclaimOldGenerations(TierCore& core, bool dryRun, const std::atomic<bool>* cancel = nullptr,
                                    const std::function<void(long long scanned, long long matched)>& progress = {});

}  // namespace tier::ops
