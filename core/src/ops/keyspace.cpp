#include "tier/ops/keyspace.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <queue>

#include "tier/codec/envelope.h"
#include "tier/codec/keys.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/fleet/wire.h"
#include "tier/ops/audit.h"
#include "tier/redis/redis_view.h"

namespace tier::ops {

struct KeyspaceSeen {
  absl::flat_hash_set<std::uint64_t> hashes;
};

namespace {

using redis::Command;
using redis::Reply;

constexpr std::size_t kMaxDetailKeyBytes = 64 * 1024;
constexpr double kZ95 = 1.959963984540054;

std::uint64_t keyHash(std::string_view k) {
  return static_cast<std::uint64_t>(std::hash<std::string_view>{}(k));
}

// pipelineOn() names an unknown node with BadInputError: for a browse that
// means a master went away (a failover or reshard), which the caller retries.
std::vector<Reply> onNode(const redis::RedisReadView& r, const std::string& node, const std::vector<Command>& cmds) {
  try {
    return r.pipelineOn(node, cmds);
  } catch (const BadInputError&) {
    throw ConnectionError("Redis node " + node + " is no longer a master: start the scan again");
  }
}

// [cursor, [key...]] -> keys appended, next cursor returned; DataError/PermissionError otherwise.
std::string takeScan(Reply& r, std::vector<std::string>& out) {
  if (r.isError()) {
    if (r.str.rfind("NOPERM", 0) == 0) throw PermissionError("Redis refused SCAN: " + r.str);
    throw DataError("SCAN failed: " + r.str);
  }
  if (r.type != Reply::Type::Array || r.elements.size() != 2 || r.elements[1].type != Reply::Type::Array)
    throw DataError("SCAN returned an unexpected reply");
  for (auto& k : r.elements[1].elements)
    if (k.type == Reply::Type::String) out.push_back(std::move(k.str));
  return std::move(r.elements[0].str);
}

long long dbsizeOf(const Reply& r) {
  if (r.type != Reply::Type::Integer) throw DataError("DBSIZE failed: " + r.str);
  return r.integer;
}

std::string commandName(const Command& c) {
  std::string n = c.empty() ? std::string() : c[0];
  if (c.size() > 2 && (c[0] == "MEMORY" || c[0] == "OBJECT" || c[0] == "CONFIG")) n += " " + c[1];
  return n;
}

// Runs a pipeline; if the ACL refuses any command of it, runs them one by one so
// the others still answer, and names the refused ones in `unavailable`.
std::vector<std::optional<Reply>> tolerantPipeline(const redis::RedisReadView& r, const std::vector<Command>& cmds,
                                                   std::vector<std::string>& unavailable) {
  std::vector<std::optional<Reply>> out;
  try {
    for (auto& rep : r.pipeline(cmds)) out.emplace_back(std::move(rep));
    return out;
  } catch (const PermissionError&) {
  }
  out.clear();
  for (const auto& c : cmds) {
    try {
      out.emplace_back(r.command(c));
    } catch (const PermissionError& e) {
      unavailable.push_back(commandName(c) + ": " + e.what());
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

std::optional<std::uint32_t> parseGeneration(const std::optional<Reply>& r) {
  if (!r || r->type != Reply::Type::String) return std::nullopt;
  long long v = 0;
  auto [p, ec] = std::from_chars(r->str.data(), r->str.data() + r->str.size(), v);
  if (ec != std::errc() || p != r->str.data() + r->str.size() || v < 0) return std::nullopt;
  // INCR past 2^32 wraps the same way the cache's u32 does.
  return static_cast<std::uint32_t>(static_cast<unsigned long long>(v));
}

// The namespace generation an envelope was filled under, from its first 8
// bytes (GETRANGE 0 7: magic "TC", version, type, u32 LE generation; layout in
// codec/envelope.h): the analysis reads only the header, not whole values.
std::optional<std::uint32_t> headerGeneration(const Reply& r) {
  if (r.type != Reply::Type::String || r.str.size() < 8) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(r.str.data());
  if (b[0] != 'T' || b[1] != 'C' || b[2] != codec::kEnvelopeVersion) return std::nullopt;
  return static_cast<std::uint32_t>(b[4]) | (static_cast<std::uint32_t>(b[5]) << 8) |
         (static_cast<std::uint32_t>(b[6]) << 16) | (static_cast<std::uint32_t>(b[7]) << 24);
}

// Wilson score interval of a proportion x/n, the sample drawn without
// replacement from `population` (finite-population correction: a sample of
// everything has no error).
Estimate shareEstimate(long long x, long long n, double population, bool exact) {
  Estimate e;
  if (n <= 0) return e;
  const double p = static_cast<double>(x) / static_cast<double>(n);
  e.value = e.low = e.high = p;
  if (exact || population <= static_cast<double>(n)) return e;
  const double fpc = (population - static_cast<double>(n)) / std::max(1.0, population - 1);
  const double nEff = static_cast<double>(n) / fpc;
  const double z2 = kZ95 * kZ95;
  const double denom = 1 + z2 / nEff;
  const double center = (p + z2 / (2 * nEff)) / denom;
  const double half = kZ95 * std::sqrt(p * (1 - p) / nEff + z2 / (4 * nEff * nEff)) / denom;
  e.low = std::max(0.0, center - half);
  e.high = std::min(1.0, center + half);
  return e;
}

// A population total from per-key values y (sum s1, sum of squares s2 over n
// sampled keys): N x mean, with a normal 95 % interval, finite-population corrected.
Estimate totalEstimate(double s1, double s2, long long n, double population, bool exact) {
  Estimate e;
  if (n <= 0) return e;
  if (exact || population <= static_cast<double>(n)) {
    e.value = e.low = e.high = s1;
    return e;
  }
  const double dn = static_cast<double>(n);
  const double mean = s1 / dn;
  const double var = n > 1 ? std::max(0.0, (s2 - dn * mean * mean) / (dn - 1)) : 0.0;
  const double fpc = (population - dn) / std::max(1.0, population - 1);
  const double se = population * std::sqrt(var / dn * fpc);
  e.value = population * mean;
  e.low = std::max(s1, e.value - kZ95 * se);  // at least what the sample saw
  e.high = std::max(e.low, e.value + kZ95 * se);
  return e;
}

Estimate scaled(const Estimate& share, double population, long long seen) {
  return Estimate{share.value * population, std::max(static_cast<double>(seen), share.low * population),
                  std::max(static_cast<double>(seen), share.high * population)};
}

}  // namespace

// ---- Groups and filter ----

std::string keyGroup(std::string_view key) {
  if (auto p = codec::parseKey(key)) return codec::toString(p->ns);
  if (key.rfind("tc:", 0) == 0) return "tc";
  if (key.starts_with(fleet::kKeyPrefix)) return "fleet";
  return "other";
}

const std::vector<std::string>& keyGroups() {
  static const std::vector<std::string> groups = [] {
    std::vector<std::string> g;
    for (auto ns : codec::allNamespaces()) g.emplace_back(codec::toString(ns));
    g.emplace_back("tc");
    g.emplace_back("fleet");
    g.emplace_back("other");
    return g;
  }();
  return groups;
}

std::string keyspaceMatch(const KeyspaceFilter& f) {
  if (f.glob.size() > codec::kMaxKeyBytes)
    throw BadInputError("filter too long (" + std::to_string(f.glob.size()) + " bytes; limit " +
                        std::to_string(codec::kMaxKeyBytes) + ")");
  const std::string glob = f.glob.empty() ? std::string("*") : f.glob;
  if (f.ns.empty()) {
    try {
      codec::validatePattern(glob, true);
    } catch (const BadInputError& e) {
      throw BadInputError(std::string("filter: ") + e.what());
    }
    return glob;
  }
  if (f.ns != "tc" && f.ns != "fleet" && !codec::parseNamespace(f.ns))
    throw BadInputError("unknown namespace (expected entry, session, user, stats, knowledge, search, tc or fleet)");
  const std::string pattern = (f.ns == "fleet" ? std::string(fleet::kKeyPrefix) : f.ns + ":") + glob;
  try {
    codec::validatePattern(pattern, true);
  } catch (const BadInputError& e) {
    throw BadInputError(std::string("filter: ") + e.what());
  }
  return pattern;
}

// ---- Browse ----

bool KeyspaceCursor::done() const noexcept {
  if (!started) return false;
  for (const auto& n : nodes)
    if (!n.done) return false;
  return true;
}

long long keyspaceSize(const redis::RedisReadView& r) {
  long long total = 0;
  for (const auto& node : r.masters()) total += dbsizeOf(onNode(r, node, {{"DBSIZE"}}).at(0));
  return total;
}

KeyspacePage nextKeyspacePage(const redis::RedisReadView& r, const KeyspaceFilter& filter, KeyspaceCursor& cur,
                              const KeyspaceScanOptions& opt) {
  const std::string match = keyspaceMatch(filter);
  const std::string count = std::to_string(std::clamp(opt.count, 1, 10000));
  if (!cur.started) {
    cur.nodes.clear();
    for (const auto& node : r.masters()) cur.nodes.push_back(KeyspaceCursor::Node{node});
    cur.match = match;
    cur.listed = 0;
    cur.seen = std::make_shared<KeyspaceSeen>();
    cur.started = true;
  } else if (match != cur.match) {
    throw BadInputError("the filter changed during a browse: start a new one");
  }
  if (!cur.seen) cur.seen = std::make_shared<KeyspaceSeen>();
  KeyspacePage page;
  std::vector<std::string> batch;
  const int minKeys = std::max(1, opt.min_keys);
  const std::size_t maxKeys = static_cast<std::size_t>(std::max(0, opt.max_keys));
  long long thisPage = 0;  // keys listed by this page, returned or only counted
  for (int calls = 0; calls < std::max(1, opt.max_batches) && thisPage < minKeys; ++calls) {
    auto it = std::find_if(cur.nodes.begin(), cur.nodes.end(), [](const auto& n) { return !n.done; });
    if (it == cur.nodes.end()) break;
    // The node's DBSIZE rides along with its SCAN: "scanned N of ~M" stays current at no extra round trip.
    auto replies = onNode(r, it->node, {{"SCAN", it->cursor, "MATCH", match, "COUNT", count}, {"DBSIZE"}});
    batch.clear();
    it->cursor = takeScan(replies.at(0), batch);
    it->dbsize = dbsizeOf(replies.at(1));
    if (it->cursor == "0") it->done = true;
    for (auto& k : batch) {
      if (opt.dedupe && !cur.seen->hashes.insert(keyHash(k)).second) continue;
      ++page.groups[keyGroup(k)];
      ++it->keys;
      ++cur.listed;
      ++thisPage;
      if (page.keys.size() < maxKeys) page.keys.push_back(std::move(k));
    }
  }
  page.listed = cur.listed;
  page.done = cur.done();
  bool known = true;
  long long total = 0;
  for (const auto& n : cur.nodes) {
    if (n.dbsize < 0) known = false;
    total += std::max(0LL, n.dbsize);
  }
  page.dbsize = known ? total : -1;
  if (!known) page.dbsize = keyspaceSize(r);
  return page;
}

// ---- Detail ----

KeyDetail keyDetail(TierCore& core, std::string_view keyView) {
  if (keyView.empty()) throw BadInputError("empty key");
  if (keyView.size() > kMaxDetailKeyBytes)
    throw BadInputError("key too long (" + std::to_string(keyView.size()) + " bytes; limit " +
                        std::to_string(kMaxDetailKeyBytes) + ")");
  if (!core.hasRedis()) throw BadInputError("no Redis configured: give --redis URL (or a profile)");
  const auto& r = core.redis();
  KeyDetail d;
  d.key = std::string(keyView);
  d.group = keyGroup(d.key);
  d.in_l1 = core.l1().contains(d.key);
  const auto ns = codec::parseKey(d.key);
  std::vector<Command> cmds{
      {"TYPE", d.key}, {"PTTL", d.key}, {"MEMORY", "USAGE", d.key}, {"OBJECT", "ENCODING", d.key}, {"STRLEN", d.key}};
  if (ns) cmds.push_back({"GET", codec::namespaceGenerationKey(ns->ns)});
  auto rep = tolerantPipeline(r, cmds, d.unavailable);
  if (rep[0] && rep[0]->type == Reply::Type::Status) d.type = rep[0]->str;
  if (rep[1] && rep[1]->type == Reply::Type::Integer) d.ttl_ms = rep[1]->integer;
  if (rep[2] && rep[2]->type == Reply::Type::Integer) d.memory_bytes = rep[2]->integer;
  if (rep[3] && rep[3]->type == Reply::Type::String) d.encoding = rep[3]->str;
  const bool isString = d.type == "string" || (d.type.empty() && rep[4] && rep[4]->type == Reply::Type::Integer);
  if (isString && rep[4] && rep[4]->type == Reply::Type::Integer) d.value_bytes = rep[4]->integer;
  if (ns) d.current_generation = parseGeneration(rep[5]);
  d.exists = (!d.type.empty() && d.type != "none") || d.ttl_ms != -2;
  if (!d.exists || !isString) return d;
  if (d.value_bytes > static_cast<long long>(codec::kDefaultMaxValueBytes)) {
    d.decode_error = codec::toString(codec::DecodeError::TooLarge);
    return d;
  }
  std::vector<std::string> refused;
  auto value = tolerantPipeline(r, {{"GET", d.key}}, refused);
  d.unavailable.insert(d.unavailable.end(), refused.begin(), refused.end());
  if (!value[0] || value[0]->type != Reply::Type::String) {
    if (value[0] && value[0]->isNil()) d.exists = false;  // gone in between
    return d;
  }
  auto dec = codec::decode(value[0]->str, codec::kDefaultMaxValueBytes, true);
  if (!dec.envelope) {
    d.decode_error = codec::toString(dec.error);
    return d;
  }
  d.envelope = true;
  d.generation = dec.envelope->ns_generation;
  d.generation_current = d.current_generation && *d.current_generation == d.generation;
  d.entity_version = dec.envelope->entity_version;
  d.written_at_ms = dec.envelope->written_at_ms;
  d.tombstone = dec.envelope->payload == "null";
  d.value_json = std::move(dec.envelope->payload);
  return d;
}

// ---- Analysis ----

namespace {

struct GroupAcc {
  long long keys = 0;
  double bytes = 0, bytes2 = 0;
  TtlBuckets ttl;
  long long old_keys = 0;
  double old_bytes = 0, old_bytes2 = 0;
};

struct Probe {
  bool memory = true;
  bool getrange = true;
  bool freq = false;
};

}  // namespace

KeyspaceAnalysis analyzeKeyspace(TierCore& core, const AnalyzeOptions& opt) {
  if (opt.sample < 1 || opt.sample > kMaxAnalyzeSample) throw BadInputError("sample must be from 1 to 10,000,000 keys");
  if (!core.hasRedis()) throw BadInputError("no Redis configured: give --redis URL (or a profile)");
  const auto& r = core.redis();
  const auto started = Clock::now();
  KeyspaceAnalysis a;

  // Per master: DBSIZE, then its share of the sample.
  for (const auto& node : r.masters()) {
    NodeSample ns;
    ns.node = node;
    ns.dbsize = dbsizeOf(onNode(r, node, {{"DBSIZE"}}).at(0));
    a.dbsize += ns.dbsize;
    a.nodes.push_back(std::move(ns));
  }
  const bool everything = opt.sample >= a.dbsize;
  long long assigned = 0;
  for (auto& n : a.nodes) {
    n.quota = everything ? LLONG_MAX
                         : static_cast<long long>(static_cast<double>(opt.sample) * static_cast<double>(n.dbsize) /
                                                  static_cast<double>(std::max(1LL, a.dbsize)));
    if (!everything) assigned += n.quota;
  }
  // Rounding leftovers go to the largest masters, so the quotas sum to the sample.
  if (!everything) {
    std::vector<NodeSample*> bySize;
    for (auto& n : a.nodes) bySize.push_back(&n);
    std::sort(bySize.begin(), bySize.end(), [](auto* x, auto* y) { return x->dbsize > y->dbsize; });
    for (std::size_t i = 0; assigned < opt.sample && !bySize.empty(); i = (i + 1) % bySize.size(), ++assigned)
      ++bySize[i]->quota;
  }
  const long long target = everything ? a.dbsize : opt.sample;
  a.method = everything ? "every key: SCAN through each master to the end (counts are exact, not estimated)"
                        : "SCAN (COUNT " + std::to_string(opt.scan_count) +
                              ") from the start of each master, its first keys up to its DBSIZE share of " +
                              std::to_string(opt.sample) +
                              " (hash-bucket order, close to a uniform sample without replacement); "
                              "95 % intervals: Wilson for shares, normal for bytes, finite-population corrected";

  // The namespace generations now (unset counters: no copy is judged old).
  {
    std::vector<Command> cmds;
    for (auto ns : codec::allNamespaces()) cmds.push_back({"GET", codec::namespaceGenerationKey(ns)});
    auto reps = tolerantPipeline(r, cmds, a.unavailable);
    for (std::size_t i = 0; i < reps.size(); ++i)
      if (auto g = parseGeneration(reps[i])) a.generations[codec::toString(codec::allNamespaces()[i])] = *g;
  }
  Probe probe;
  // Hot keys need an LFU policy: OBJECT FREQ refuses to answer otherwise.
  if (!a.nodes.empty()) {
    try {
      auto rep = onNode(r, a.nodes.front().node, {{"CONFIG", "GET", "maxmemory-policy"}});
      if (!rep.empty() && rep[0].type == Reply::Type::Array && rep[0].elements.size() == 2)
        a.maxmemory_policy = rep[0].elements[1].str;
    } catch (const PermissionError& e) {
      a.unavailable.push_back(std::string("CONFIG GET: ") + e.what());
    }
  }
  probe.freq = a.maxmemory_policy.find("lfu") != std::string::npos;
  if (probe.freq) {
    a.hot_source = "object_freq";
    a.hot_note = "OBJECT FREQ of the sampled keys (maxmemory-policy " + a.maxmemory_policy +
                 "): Redis's logarithmic LFU counter, decaying over time";
  } else {
    // The fallback: this process's own L1 access-frequency sketch (W-TinyLFU),
    // which counts every time the core was asked for a key, hit or miss. Decided
    // at the end: "l1_sketch" if it knows any sampled key, else unavailable.
    a.hot_source = "unavailable";
    a.hot_note = (a.maxmemory_policy.empty()
                      ? std::string("maxmemory-policy unknown (CONFIG GET refused), so OBJECT FREQ cannot be used")
                      : "maxmemory-policy is " + a.maxmemory_policy + ", not an LFU one, so OBJECT FREQ is unavailable");
  }
  const bool fromL1 = !probe.freq;
  const l1::L1Cache& l1cache = core.l1();

  std::map<std::string, GroupAcc> acc;
  absl::flat_hash_set<std::uint64_t> seen;
  auto bySizeDesc = [](const KeySize& x, const KeySize& y) { return x.bytes > y.bytes; };
  std::priority_queue<KeySize, std::vector<KeySize>, decltype(bySizeDesc)> largest(bySizeDesc);
  auto byFreqDesc = [](const HotKey& x, const HotKey& y) { return x.freq > y.freq; };
  std::priority_queue<HotKey, std::vector<HotKey>, decltype(byFreqDesc)> hottest(byFreqDesc);
  const std::size_t top = static_cast<std::size_t>(std::max(0, opt.top));
  auto lastReport = Clock::now();
  auto report = [&](bool force) {
    if (!opt.progress) return;
    const auto now = Clock::now();
    if (!force && now - lastReport < std::chrono::milliseconds(100)) return;
    lastReport = now;
    opt.progress(AnalyzeOptions::Progress{a.sampled, target});
  };
  auto stop = [&] {
    return (opt.cancel && opt.cancel->load(std::memory_order_relaxed)) || Clock::now() - started >= opt.time_limit;
  };

  // One pipeline for a chunk of keys of one node: PTTL, MEMORY USAGE, the
  // envelope header (our namespaces) and OBJECT FREQ (LFU), as allowed.
  auto examine = [&](NodeSample& node, const std::vector<std::string>& keys) {
    std::vector<Command> cmds;
    std::vector<std::string> groups;
    auto build = [&] {
      cmds.clear();
      groups.clear();
      for (const auto& k : keys) {
        groups.push_back(keyGroup(k));
        cmds.push_back({"PTTL", k});
        if (probe.memory) cmds.push_back({"MEMORY", "USAGE", k});
        if (probe.getrange && a.generations.count(groups.back())) cmds.push_back({"GETRANGE", k, "0", "7"});
        if (probe.freq) cmds.push_back({"OBJECT", "FREQ", k});
      }
    };
    build();
    std::vector<Reply> reps;
    try {
      reps = onNode(r, node.node, cmds);
    } catch (const PermissionError&) {
      // Find which of the optional commands the ACL refuses, drop them, and go on without.
      const std::string& k = keys.front();
      const std::pair<bool*, Command> optional[] = {{&probe.memory, {"MEMORY", "USAGE", k}},
                                                    {&probe.getrange, {"GETRANGE", k, "0", "7"}},
                                                    {&probe.freq, {"OBJECT", "FREQ", k}}};
      for (const auto& [flag, c] : optional) {
        if (!*flag) continue;
        try {
          onNode(r, node.node, {c});
        } catch (const PermissionError& e) {
          *flag = false;
          a.unavailable.push_back(commandName(c) + ": " + e.what());
        }
      }
      if (probe.freq == false && a.hot_source == "object_freq") {
        a.hot_source = "unavailable";
        a.hot_note = "OBJECT FREQ refused by the ACL";
      }
      build();
      reps = onNode(r, node.node, cmds);  // PTTL itself refused: the PermissionError goes to the caller
    }
    std::size_t at = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const Reply& ttl = reps.at(at++);
      const Reply* mem = probe.memory ? &reps.at(at++) : nullptr;
      const Reply* head = probe.getrange && a.generations.count(groups[i]) ? &reps.at(at++) : nullptr;
      const Reply* freq = probe.freq ? &reps.at(at++) : nullptr;
      // Gone since the SCAN (expired, deleted) or moved to another master (MOVED): not in the sample.
      if (ttl.type != Reply::Type::Integer || ttl.integer == -2 || (mem && mem->type != Reply::Type::Integer)) {
        ++a.vanished;
        continue;
      }
      const long long bytes = mem ? mem->integer : 0;
      GroupAcc& g = acc[groups[i]];
      ++g.keys;
      g.bytes += static_cast<double>(bytes);
      g.bytes2 += static_cast<double>(bytes) * static_cast<double>(bytes);
      if (ttl.integer == -1)
        ++g.ttl.none;
      else if (ttl.integer < 3'600'000)
        ++g.ttl.under_1h;
      else if (ttl.integer < 86'400'000)
        ++g.ttl.under_1d;
      else
        ++g.ttl.longer;
      if (head) {
        const auto gen = headerGeneration(*head);
        if (gen && *gen != a.generations.at(groups[i])) {
          ++g.old_keys;
          g.old_bytes += static_cast<double>(bytes);
          g.old_bytes2 += static_cast<double>(bytes) * static_cast<double>(bytes);
        }
      }
      if (top > 0 && mem) {
        largest.push(KeySize{keys[i], groups[i], bytes, ttl.integer});
        if (largest.size() > top) largest.pop();
      }
      if (top > 0 && freq && freq->type == Reply::Type::Integer) {
        hottest.push(HotKey{keys[i], groups[i], freq->integer});
        if (hottest.size() > top) hottest.pop();
      } else if (top > 0 && fromL1 && a.hot_source != "object_freq") {
        // Twice or more: a key this process only filled once (a put counts one) is not hot.
        if (const unsigned f = l1cache.accessFrequency(keys[i]); f >= 2) {
          hottest.push(HotKey{keys[i], groups[i], static_cast<long long>(f)});
          if (hottest.size() > top) hottest.pop();
        }
      }
      ++a.sampled;
      ++node.sampled;
    }
  };

  const std::string count = std::to_string(std::clamp(opt.scan_count, 1, 10000));
  const std::size_t chunk = static_cast<std::size_t>(std::clamp(opt.pipeline_keys, 1, 5000));
  std::vector<std::string> page, fresh;
  for (auto& node : a.nodes) {
    std::string cursor = "0";
    bool first = true;
    long long taken = 0;  // keys of this node handed to examine (vanished ones included)
    while ((first || cursor != "0") && taken < node.quota) {
      if (stop()) {
        a.truncated = true;
        break;
      }
      first = false;
      page.clear();
      cursor = takeScan(onNode(r, node.node, {{"SCAN", cursor, "COUNT", count}}).at(0), page);
      fresh.clear();
      bool cut = false;
      for (auto& k : page) {
        if (taken >= node.quota) {
          cut = true;
          break;
        }
        if (!seen.insert(keyHash(k)).second) continue;
        fresh.push_back(std::move(k));
        ++taken;
      }
      for (std::size_t i = 0; i < fresh.size(); i += chunk) {
        std::vector<std::string> part(
            std::make_move_iterator(fresh.begin() + static_cast<std::ptrdiff_t>(i)),
            std::make_move_iterator(fresh.begin() + static_cast<std::ptrdiff_t>(std::min(fresh.size(), i + chunk))));
        examine(node, part);
      }
      report(false);
      if (cursor == "0" && !cut) node.complete = true;
    }
    if (a.truncated) break;
  }
  a.exact = !a.truncated && std::all_of(a.nodes.begin(), a.nodes.end(), [](const auto& n) { return n.complete; });

  // Extrapolation: the population is DBSIZE (or the sample itself when it was everything).
  const long long n = a.sampled;
  const double population =
      a.exact ? static_cast<double>(n) : std::max(static_cast<double>(a.dbsize), static_cast<double>(n));
  double oldS1 = 0, oldS2 = 0;
  for (const auto& name : keyGroups()) {
    auto it = acc.find(name);
    if (it == acc.end()) continue;
    const GroupAcc& g = it->second;
    NamespaceAnalysis na;
    na.ns = name;
    na.sampled_keys = g.keys;
    na.sampled_bytes = static_cast<long long>(g.bytes);
    na.share = shareEstimate(g.keys, n, population, a.exact);
    na.keys = scaled(na.share, population, g.keys);
    na.bytes = totalEstimate(g.bytes, g.bytes2, n, population, a.exact);
    na.ttl = g.ttl;
    na.old_generation_keys = g.old_keys;
    na.old_generation_bytes = static_cast<long long>(g.old_bytes);
    na.old_generation_keys_est = scaled(shareEstimate(g.old_keys, n, population, a.exact), population, g.old_keys);
    na.old_generation_bytes_est = totalEstimate(g.old_bytes, g.old_bytes2, n, population, a.exact);
    a.old_generation_keys += g.old_keys;
    a.old_generation_bytes += static_cast<long long>(g.old_bytes);
    oldS1 += g.old_bytes;
    oldS2 += g.old_bytes2;
    a.namespaces.push_back(std::move(na));
  }
  a.old_generation_keys_est =
      scaled(shareEstimate(a.old_generation_keys, n, population, a.exact), population, a.old_generation_keys);
  a.old_generation_bytes_est = totalEstimate(oldS1, oldS2, n, population, a.exact);
  while (!largest.empty()) {
    a.largest.push_back(largest.top());
    largest.pop();
  }
  std::reverse(a.largest.begin(), a.largest.end());
  while (!hottest.empty()) {
    a.hot.push_back(hottest.top());
    hottest.pop();
  }
  std::reverse(a.hot.begin(), a.hot.end());
  if (fromL1) {
    if (!a.hot.empty()) {
      a.hot_source = "l1_sketch";
      a.hot_note += "; estimated instead from this process's L1 access-frequency sketch (W-TinyLFU, 0-15, halved "
                    "every aging period, plus a held entry's hits not yet folded in): the sampled keys this process "
                    "asked for at least twice lately";
    } else {
      a.hot_note += "; and this process's L1 access-frequency sketch (the fallback) has seen none of the sampled "
                    "keys asked for twice or more: run the analysis where traffic goes through the core (the console "
                    "with its load)";
    }
  }
  report(true);
  a.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  return a;
}

// ---- Reclaim ----

ReclaimResult reclaimOldGenerations(TierCore& core, bool dryRun, const std::atomic<bool>* cancel,
                                    const std::function<void(long long, long long)>& progress) {
  if (!core.hasRedis()) throw BadInputError("no Redis configured: give --redis URL (or a profile)");
  const auto started = Clock::now();
  const auto& r = core.redis();
  ReclaimResult res;
  res.dry_run = dryRun;
  const std::string action = "reclaim.old_generation";
  if (!dryRun) requireAuditWritable(core, action);
  std::map<std::string, std::uint32_t> gens;
  {
    std::vector<Command> cmds;
    for (auto ns : codec::allNamespaces()) cmds.push_back({"GET", codec::namespaceGenerationKey(ns)});
    auto reps = r.pipeline(cmds);
    for (std::size_t i = 0; i < reps.size(); ++i)
      if (auto g = parseGeneration(reps[i])) gens[codec::toString(codec::allNamespaces()[i])] = *g;
  }
  absl::flat_hash_set<std::uint64_t> seen;
  std::string outcome = "ok";
  auto lastReport = Clock::now();
  try {
    std::vector<std::string> page, ours, old;
    for (const auto& node : r.masters()) {
      std::string cursor = "0";
      bool first = true;
      while (first || cursor != "0") {
        if (cancel && cancel->load(std::memory_order_relaxed)) {
          res.cancelled = true;
          break;
        }
        first = false;
        page.clear();
        cursor = takeScan(onNode(r, node, {{"SCAN", cursor, "COUNT", "1000"}}).at(0), page);
        res.scanned += static_cast<long long>(page.size());
        ours.clear();
        std::vector<Command> heads;
        for (auto& k : page)
          if (gens.count(keyGroup(k)) && seen.insert(keyHash(k)).second) {
            heads.push_back({"GETRANGE", k, "0", "7"});
            ours.push_back(std::move(k));
          }
        if (ours.empty()) continue;
        auto reps = onNode(r, node, heads);
        old.clear();
        for (std::size_t i = 0; i < ours.size(); ++i) {
          const auto gen = headerGeneration(reps.at(i));
          if (gen && *gen != gens.at(keyGroup(ours[i]))) old.push_back(std::move(ours[i]));
        }
        res.matched += static_cast<long long>(old.size());
        if (!dryRun && !old.empty()) {
          try {
            const auto dropped = core.cache().invalidateMany(old, 500, false);
            res.deleted += dropped.deleted;
            res.l1_dropped += dropped.l1_dropped;
          } catch (const PermissionError& e) {
            throw PermissionError(std::string("Redis refused UNLINK: ") + e.what());
          }
        }
        if (progress && Clock::now() - lastReport >= std::chrono::milliseconds(100)) {
          lastReport = Clock::now();
          progress(res.scanned, res.matched);
        }
      }
      if (res.cancelled) break;
    }
    if (res.cancelled) outcome = "cancelled";
  } catch (const Error& e) {
    outcome = std::string("error: ") + e.what();
    res.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    try {
      writeAudit(core, AuditRecord{action, "{\"scope\":\"all namespaces\"}", dryRun, res.matched, res.deleted, outcome,
                                   res.duration_ms});
    } catch (const Error&) {
    }
    throw;
  }
  if (progress) progress(res.scanned, res.matched);
  res.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  try {
    res.audit_id = writeAudit(core, AuditRecord{action, "{\"scope\":\"all namespaces\"}", dryRun, res.matched,
                                                res.deleted, outcome, res.duration_ms});
  } catch (const Error& e) {
    res.audit_error = redactSecrets(e.what());
  }
  return res;
}

}  // namespace tier::ops
