#include "tier/cache/tiered_cache.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <future>
#include <limits>
#include <random>
#include <thread>
#include <unordered_map>

#include "cache/l1_value.h"
#include "cache/repair_ledger.h"
#include "cache/scripts.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/l1/l1_cache.h"
#include "tier/redis/redis_client.h"

namespace tier::cache {
namespace {

using codec::Namespace;
using metrics::Counter;
using namespace detail;  // scripts.h, l1_value.h: this file's own pieces

// splitmix64's finaliser: spreads a key hash and a timestamp over 64 bits.
std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

const char* toString(Source s) noexcept {
  switch (s) {
    case Source::None: return "none";
    case Source::L1: return "l1";
    case Source::L2: return "l2";
    case Source::L3: return "l3";
  }
  return "?";
}


// ---- TieredCache -----------------------------------------------------------

struct TieredCache::Impl {
  l1::L1Cache* l1;
  redis::RedisClient* redis;
  metrics::Metrics* metrics;
  CachePolicies policies;
  std::size_t max_value_bytes;
  NamespaceGenerations gens;
  Backplane* backplane = nullptr;  // set once before use (attachBackplane)

  // The backplane's rule (backplane.h): without a live link, L1 is bypassed.
  bool l1Usable() { return !backplane || backplane->l1Usable(); }
  // After the L2 change, never before: a peer that drops its copy must not refill it from the old L2 value.
  // unlinkL2: our L2 write failed; the publisher removes the stale L2 copy first.
  // fenceVersion > 0: fence the key at that version instead of the UNLINK.
  void publishKey(const std::string& key, bool unlinkL2 = false, std::int64_t fenceVersion = 0) {
    if (!backplane) return;
    Invalidation inv{Invalidation::Kind::Key, key, unlinkL2, {}};
    if (unlinkL2 && fenceVersion > 0) inv.l2_fence_command = fenceCommand(key, 0, fenceVersion);
    backplane->publish(std::move(inv));
  }

  struct Flight {
    std::promise<std::optional<Loaded>> promise;
    std::shared_future<std::optional<Loaded>> future{promise.get_future().share()};
  };
  Mutex flights_mu;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights TIER_GUARDED_BY(flights_mu);

  // Per key stripe: the version check and the L1 put are one step (fill_mu), and
  // every write or invalidation advances the stripe's epoch so that a fill that
  // started earlier knows not to store what it loaded.
  static constexpr std::size_t kStripes = 64;
  std::array<Mutex, kStripes> fill_mu;  // guards no member: it makes check + put one step
  std::array<std::atomic<std::uint64_t>, kStripes> epoch{};

  // L2 writes/invalidations that did not reach Redis (repair_ledger.h).
  RepairLedger ledger;
  static constexpr std::chrono::milliseconds kRepairEvery{100};
  static constexpr std::chrono::milliseconds kRepairBackoffMax{2000};  // after repeated failures
  static constexpr std::size_t kRepairBatch = 1000;  // keys per repair pipeline

  // The repairer: a thread of its own, started by the first key remembered (a
  // Redis failure, or a fill made moot by a concurrent write), so that no read
  // or write ever waits on a repair's pipeline. stopRepairs() ends it; it
  // publishes to the backplane, so it must stop before the backplane goes.
  Mutex repair_mu;
  CondVar repair_cv;  // a key was remembered, or stop
  bool repair_stop TIER_GUARDED_BY(repair_mu) = false;
  std::thread repairer TIER_GUARDED_BY(repair_mu);

  Mutex rng_mu;
  std::mt19937_64 rng TIER_GUARDED_BY(rng_mu){std::random_device{}()};

  // Search generations (see searchGeneration): without Redis, the tokens live
  // here; with it, a bump that failed to reach Redis counts in
  // search_bump_failures until the search namespace generation has been bumped
  // instead (search_repaired_upto catches up).
  Mutex search_mu;
  std::unordered_map<std::int64_t, std::string> local_search_gen TIER_GUARDED_BY(search_mu);
  std::atomic<std::uint64_t> search_bump_failures{0};
  std::atomic<std::uint64_t> search_repaired_upto{0};  // written under search_mu

  std::string randomToken() {
    MutexLock lk(rng_mu);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
  }

  Impl(l1::L1Cache* a, redis::RedisClient* r, metrics::Metrics* m, CachePolicies p, std::size_t max)
      : l1(a), redis(r), metrics(m), policies(p), max_value_bytes(max), gens(r) {}

  void count(Counter c) {
    if (metrics) metrics->count(c);
  }
  // The Redis client already counts its connection/timeout failures.
  void countRedisFailure(const Error& e) {
    if (e.kind() != ErrorKind::Connection && e.kind() != ErrorKind::Timeout) count(Counter::RedisError);
  }

  static std::size_t stripe(const std::string& key) { return std::hash<std::string>{}(key) % kStripes; }

  const NamespacePolicy& policy(Namespace ns) const {
    switch (ns) {
      case Namespace::Entry: return policies.entry;
      case Namespace::Session: return policies.session;
      case Namespace::User: return policies.user;
      case Namespace::Stats: return policies.stats;
      case Namespace::Knowledge: return policies.knowledge;
      case Namespace::Search: return policies.search;
    }
    return policies.entry;
  }

  std::chrono::milliseconds ttlFor(Namespace ns) {
    const auto& p = policy(ns);
    auto base = std::chrono::duration_cast<std::chrono::milliseconds>(p.ttl);
    if (base.count() <= 0 || p.ttl_jitter <= 0) return base;
    std::uniform_real_distribution<double> d(-p.ttl_jitter, p.ttl_jitter);
    double f;
    {
      MutexLock lk(rng_mu);
      f = d(rng);
    }
    return std::chrono::milliseconds(std::max<std::int64_t>(1000, static_cast<std::int64_t>(base.count() * (1.0 + f))));
  }

  // For an L2 hit: the namespace TTL without jitter (no RNG, no lock on the read path).
  std::chrono::milliseconds l1TtlFor(Namespace ns) const {
    return l1Ttl(std::chrono::duration_cast<std::chrono::milliseconds>(policy(ns).ttl));
  }

  std::chrono::milliseconds maxStale() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(policies.max_stale);
  }

  // The logical TTL of a copy of `key` written at `writtenAtMs`: the namespace
  // TTL with a jitter derived from both, so every reader (in any instance)
  // knows when the writer's copy stops being fresh. 0 = no expiry.
  std::chrono::milliseconds freshTtl(Namespace ns, std::string_view key, std::int64_t writtenAtMs) const {
    const auto& p = policy(ns);
    const auto base = std::chrono::duration_cast<std::chrono::milliseconds>(p.ttl);
    if (base.count() <= 0 || p.ttl_jitter <= 0) return base;
    const auto h = mix64(std::hash<std::string_view>{}(key) ^ static_cast<std::uint64_t>(writtenAtMs));
    const double f = (static_cast<double>(h >> 11) * 0x1.0p-53 * 2.0 - 1.0) * p.ttl_jitter;  // [-jitter, jitter)
    return std::chrono::milliseconds(std::max<std::int64_t>(1000, static_cast<std::int64_t>(base.count() * (1.0 + f))));
  }

  // Redis PX for a copy with logical TTL `fresh`: held max_stale longer.
  std::chrono::milliseconds physicalTtl(std::chrono::milliseconds fresh) const {
    return fresh.count() > 0 ? fresh + maxStale() : fresh;
  }

  // How long an L2 copy stays fresh from `nowMs` (<= 0: past its TTL by that
  // much); kNever if it never expires or serve-stale is off.
  std::int64_t freshLeftMs(Namespace ns, std::string_view key, const codec::Envelope& e, std::int64_t nowMs) const {
    if (maxStale().count() <= 0) return kNever;
    const auto ttl = freshTtl(ns, key, e.written_at_ms);
    if (ttl.count() <= 0) return kNever;
    return e.written_at_ms + ttl.count() - nowMs;
  }

  std::chrono::milliseconds l1Ttl(std::chrono::milliseconds l2ttl) const {
    auto cap = std::chrono::duration_cast<std::chrono::milliseconds>(
        backplane && backplane->linked() ? policies.l1_max_ttl_linked : policies.l1_max_ttl);
    if (cap.count() <= 0) return l2ttl;
    if (l2ttl.count() <= 0) return cap;
    return std::min(cap, l2ttl);
  }

  // L2 is worth asking: configured, and not carrying more unrepaired writes
  // than we could track. The breaker itself fails fast without I/O. No repair
  // runs here: that is the repairer's thread.
  bool redisUsable() const {
    if (!redis) return false;
    return !ledger.full();
  }

  // The version of L1's entry for `key` (a floor counts), or -1. Under the stripe lock.
  std::int64_t l1Version(const std::string& key) {
    auto cur = l1->get(key);
    if (!cur) return -1;
    auto w = l1Unwrap(*cur);
    if (!w) return -1;
    auto d = codec::decode(w->envelope, max_value_bytes, false);
    return d.envelope ? d.envelope->entity_version : -1;
  }

  // Writes the envelope to L1, fresh for `ttl` (0 = no expiry), unless L1
  // holds a newer version. A put whose epoch is moot (a write or invalidation
  // of this key's stripe since `fillEpoch` was taken) stores a floor at
  // `version` instead: the value may be older than that write, but `version`
  // was returned to a caller, so no older version may be put after it (an
  // instance's reads never go back; seen on a Redis Cluster under ASan).
  void putL1(const std::string& key, const std::string& bytes, std::int64_t version, std::chrono::milliseconds ttl,
             std::optional<std::uint64_t> fillEpoch = std::nullopt) {
    if (!l1Usable()) return;  // may wait once, for the first subscription: not under the lock
    const auto st = stripe(key);
    MutexLock lk(fill_mu[st]);
    if (!l1Usable()) return;  // the link dropped meanwhile: its flush waits for this lock
    const bool moot = fillEpoch && epoch[st].load() != *fillEpoch;
    const std::int64_t have = l1Version(key);
    if (have > version || (moot && have >= version)) return;
    if (moot) {
      l1->put(key, l1Wrap(kFloor, codec::encode(codec::Envelope{0, version, 0, {}})), physicalTtl(ttl));
      return;
    }
    const bool expires = ttl.count() > 0;
    const std::int64_t freshUntil =
        expires ? coarseNowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count() : kNever;
    l1->put(key, l1Wrap(freshUntil, bytes), physicalTtl(ttl));
  }

  // A write or invalidation of `key`: fills that began before it must not store,
  // and readers from now on must not join them.
  void beginWrite(const std::string& key) {
    {
      // Under the stripe lock: a fill's epoch check and L1 put are then either
      // wholly before this (and the caller's erase removes the put) or after it.
      MutexLock lk(fill_mu[stripe(key)]);
      epoch[stripe(key)].fetch_add(1);
    }
    MutexLock lk(flights_mu);
    flights.erase(key);
  }

  // After a write's (or invalidation's) L2 change. Between beginWrite and the
  // L2 change, L1 may have lost the writer's copy (a peer's invalidation, a
  // flush) and a reader may have filled it again from the old L2 copy, with
  // an epoch taken after beginWrite. So: advance the epoch again (fills that
  // read L2 before the change do not store) and drop an L1 copy older than
  // `version` (INT64_MAX: any copy). Seen on a Redis Cluster under ASan: an
  // instance read its previous version from L1 after its own acknowledged write.
  void settleWrite(const std::string& key, std::int64_t version) {
    {
      MutexLock lk(fill_mu[stripe(key)]);
      epoch[stripe(key)].fetch_add(1);
      if (l1Version(key) < version) l1->erase(key);  // also an entry that does not decode
    }
    MutexLock lk(flights_mu);
    flights.erase(key);
  }

  // Drops this instance's L1 copies that `match` selects, after making every
  // fill in flight moot (each stripe's epoch advances under its lock, as in
  // beginWrite): a read that fetched an old copy before this cannot put it
  // into L1 after it. Returns the copies dropped.
  std::size_t retireLocal(const std::function<bool(std::string_view)>& match) {
    for (std::size_t st = 0; st < kStripes; ++st) {
      MutexLock lk(fill_mu[st]);
      epoch[st].fetch_add(1);
    }
    {
      MutexLock lk(flights_mu);
      flights.clear();
    }
    return l1->eraseIf(match);
  }

  bool guardedSetL2(const std::string& key, const std::string& bytes, std::int64_t version,
                    std::chrono::milliseconds ttl) {
    auto r = redis->command(guardedSetCommand(key, bytes, version, ttl));
    if (r.isError()) throw DataError("guarded SET failed: " + r.str);
    return r.integer == 1;
  }

  // ---- the read path (TieredCache::read) ----
  // What a read carries from one tier down to the next.
  struct ReadState {
    Namespace ns;
    const std::string& key;
    std::uint32_t gen;
    bool serve_stale;
    std::int64_t floor = -1;  // a version this instance has returned: no older copy is served
    std::optional<codec::Envelope> stale_copy{};  // the newest copy past its TTL: served only if L3 cannot be reached
    Source stale_from = Source::None;
    std::size_t stripe = 0;
    std::uint64_t fill_epoch = 0;  // epoch[stripe] before L2 was read
  };
  std::optional<CacheRead> readL1(ReadState& r);
  std::optional<CacheRead> readL2(ReadState& r, const Validator& valid);
  CacheRead loadAndFill(ReadState& r, const Loader& loader);
  void fill(const ReadState& r, const Loaded& loaded);

  // ---- pending repairs ----
  void remember(const std::string& key, std::int64_t minVersion) {
    ledger.remember(key, minVersion);
    wakeRepairer();
  }
  void forget(const std::string& key, std::int64_t version = kNever) { ledger.forget(key, version); }
  bool trusted(const std::string& key, std::int64_t version) const { return ledger.trusted(key, version); }

  // Never throws: it runs inside reads, writes and invalidateAfterWrite. If
  // the thread cannot be started, the key stays remembered (its L2 copy
  // untrusted) and the next remember() tries again.
  void wakeRepairer() noexcept {
    MutexLock lk(repair_mu);
    if (repair_stop) return;  // stopping: the keys stay remembered (and their L2 copies untrusted)
    if (!repairer.joinable()) {
      try {
        repairer = std::thread([this] { repairLoop(); });
      } catch (const std::exception&) {
        return;
      }
    }
    repair_cv.notify_one();
  }

  // While keys are remembered: one repairOnce() (up to kRepairBatch keys) a
  // turn, unless the breaker is open. A turn is kRepairEvery; after a failed
  // one the next waits twice as long, up to kRepairBackoffMax, so a key Redis
  // keeps refusing costs one pipeline every 2 s, not ten a second.
  void repairLoop() {
    MutexLock lk(repair_mu);
    auto every = kRepairEvery;
    for (;;) {
      while (!repair_stop && ledger.size() == 0) repair_cv.wait(repair_mu);
      const auto turn = std::chrono::steady_clock::now() + every;
      while (!repair_stop)
        if (!repair_cv.waitUntil(repair_mu, turn)) break;
      if (repair_stop) return;
      lk.unlock();
      bool failed = false;
      try {
        if (redis->breakerState() != redis::BreakerState::Open) repairOnce();
      } catch (const std::exception&) {
        failed = true;  // unreachable, or refused: the keys not repaired stay remembered
      }
      every = failed ? std::min(every * 2, kRepairBackoffMax) : kRepairEvery;
      lk.lock();
    }
  }

  void stopRepairs() {
    std::thread t;
    {
      MutexLock lk(repair_mu);
      repair_stop = true;
      t = std::move(repairer);
    }
    repair_cv.notify_all();
    if (t.joinable()) t.join();
  }
  ~Impl() { stopRepairs(); }

  // UNLINKs (or fences) up to kRepairBatch remembered keys in one pipeline;
  // after an overflow, bumps every namespace generation instead. Repairer
  // thread only.
  void repairOnce() {
    const auto batch = ledger.take(kRepairBatch);
    if (batch.overflowed) {
      // Lost track of individual keys: retire everything cached before now.
      for (auto ns : codec::allNamespaces()) gens.bump(ns);
      l1->clear();
      if (backplane) backplane->publish(Invalidation{Invalidation::Kind::All, {}});
      ledger.clear();
      return;
    }
    if (batch.keys.empty()) return;
    // A key whose new version is known gets a fence at that version rather
    // than an UNLINK: another instance's fill of a row it loaded before our
    // write would otherwise land in the empty key (the guarded SET has no
    // newer value to compare against).
    // Each command's keys (batch indexes): a key whose command Redis refused
    // stays remembered, the others are settled.
    std::vector<redis::Command> cmds;
    std::vector<std::vector<std::size_t>> keysOf;
    redis::Command unlink{"UNLINK"};
    std::vector<std::size_t> unlinked;
    for (std::size_t i = 0; i < batch.keys.size(); ++i) {
      const auto& [key, version] = batch.keys[i];
      if (version == kNever) {
        unlink.push_back(key);
        unlinked.push_back(i);
      } else {
        cmds.push_back(fenceCommand(key, 0, version));
        keysOf.push_back({i});
      }
    }
    if (!unlinked.empty()) {
      cmds.push_back(std::move(unlink));
      keysOf.push_back(std::move(unlinked));
    }
    const auto replies = redis->pipeline(cmds);
    RepairLedger::Batch done;
    std::string refused;
    for (std::size_t c = 0; c < cmds.size(); ++c) {
      if (c < replies.size() && !replies[c].isError()) {
        for (auto i : keysOf[c]) done.keys.push_back(batch.keys[i]);
      } else if (refused.empty()) {
        refused = c < replies.size() ? replies[c].str : std::string("no reply");
      }
    }
    // Peers may have refilled their L1 from the copy just removed.
    for (const auto& kv : done.keys) publishKey(kv.first);
    ledger.repaired(done);
    if (!refused.empty()) throw DataError("repair refused: " + refused);
  }
};

TieredCache::TieredCache(l1::L1Cache* l1, redis::RedisClient* redis, metrics::Metrics* metrics, CachePolicies policies,
                         std::size_t maxValueBytes)
    : impl_(std::make_unique<Impl>(l1, redis, metrics, policies, maxValueBytes)) {}
TieredCache::~TieredCache() = default;

// A read, top down: L1 (readL1), L2 (readL2), then PostgreSQL through the
// loader, single-flight, and the fill of both tiers (loadAndFill, fill).
CacheRead TieredCache::read(Namespace ns, const std::string& key, const Loader& loader, const Validator& valid) {
  auto& d = *impl_;
  d.count(Counter::Read);
  Impl::ReadState r{ns, key, d.gens.current(ns), d.maxStale().count() > 0};
  if (auto hit = d.readL1(r)) return std::move(*hit);
  d.count(Counter::L1Miss);
  // Taken before looking at L2: a write from here on makes this read's fill moot.
  r.stripe = Impl::stripe(key);
  r.fill_epoch = d.epoch[r.stripe].load();
  if (auto hit = d.readL2(r, valid)) return std::move(*hit);
  d.count(Counter::L2Miss);
  return d.loadAndFill(r, loader);
}

// L1: our own bytes, no checksum needed; another generation is a miss.
std::optional<CacheRead> TieredCache::Impl::readL1(ReadState& r) {
  auto v = l1Usable() ? l1->get(r.key) : l1::Value{};
  if (!v) return std::nullopt;
  auto w = l1Unwrap(*v);
  auto dec = w ? codec::decode(w->envelope, max_value_bytes, false) : codec::Decoded{};
  if (w && w->fresh_until_ns == kFloor) {
    // A floor: a miss that stays, so that no older version is put here or served from L2.
    if (dec.envelope) r.floor = dec.envelope->entity_version;
  } else if (dec.envelope && dec.envelope->ns_generation == r.gen) {
    if (!r.serve_stale || coarseNowNs() < w->fresh_until_ns) {
      count(Counter::L1Hit);
      if (dec.envelope->payload == "null") return CacheRead{std::nullopt, Source::L1};
      return CacheRead{std::move(dec.envelope), Source::L1};
    }
    r.stale_copy = std::move(dec.envelope);
    r.stale_from = Source::L1;
  } else {
    l1->erase(r.key);
  }
  return std::nullopt;
}

// L2: untrusted bytes. A hit also fills L1; a copy past its TTL is kept in r
// for serve-stale; a fence is a miss; bytes that are not ours are removed.
std::optional<CacheRead> TieredCache::Impl::readL2(ReadState& r, const Validator& valid) {
  if (!redisUsable()) return std::nullopt;
  try {
    auto v = redis->get(r.key);
    if (!v) return std::nullopt;
    auto dec = codec::decode(*v, max_value_bytes, true);
    const bool tombstone = dec.envelope && dec.envelope->payload == "null";
    if (dec.envelope && dec.envelope->payload == codec::kFencePayload) {
      // A version fence: a miss; the fill replaces it if it is not older.
    } else if (!dec.envelope || (!tombstone && valid && !valid(dec.envelope->payload))) {
      // Not ours or corrupt: drop it (unless a writer replaced it meanwhile)
      // so the fill can replace it.
      count(Counter::DecodeReject);
      redis->command({"EVAL", kCompareAndUnlink, "1", r.key, *v});
    } else if (dec.envelope->ns_generation == r.gen && dec.envelope->entity_version >= r.floor &&
               trusted(r.key, dec.envelope->entity_version)) {
      const std::int64_t left = freshLeftMs(r.ns, r.key, *dec.envelope, unixMillisNow());
      if (left > 0) {
        count(Counter::L2Hit);
        const auto ttl = left == kNever ? l1TtlFor(r.ns) : l1Ttl(std::chrono::milliseconds(left));
        putL1(r.key, *v, dec.envelope->entity_version, ttl, r.fill_epoch);
        if (tombstone) return CacheRead{std::nullopt, Source::L2};
        return CacheRead{std::move(dec.envelope), Source::L2};
      }
      if (-left <= maxStale().count() &&
          (!r.stale_copy || dec.envelope->entity_version > r.stale_copy->entity_version)) {
        r.stale_copy = std::move(dec.envelope);
        r.stale_from = Source::L2;
      }
    }
  } catch (const Error& e) {
    countRedisFailure(e);
  }
  return std::nullopt;
}

// L3, single-flight per key: one loader call, its result (or exception) shared
// with the readers that asked meanwhile; then the fill.
CacheRead TieredCache::Impl::loadAndFill(ReadState& r, const Loader& loader) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    MutexLock lk(flights_mu);
    auto it = flights.find(r.key);
    if (it != flights.end()) {
      flight = it->second;
    } else {
      flight = std::make_shared<Flight>();
      flights.emplace(r.key, flight);
      leader = true;
    }
  }
  auto finish = [&](const std::optional<Loaded>& loaded) -> CacheRead {
    if (!loaded || loaded->payload == "null") return {std::nullopt, Source::L3};
    return {codec::Envelope{r.gen, loaded->version, unixMillisNow(), loaded->payload}, Source::L3};
  };
  // L3 unreachable (not "not found", not a bad query): the copy past its TTL is better than nothing.
  auto served = [&](const Error& e) -> std::optional<CacheRead> {
    if (!r.stale_copy || (e.kind() != ErrorKind::Connection && e.kind() != ErrorKind::Timeout)) return std::nullopt;
    count(Counter::StaleServed);
    CacheRead out;
    out.source = r.stale_from;
    out.stale = true;
    if (r.stale_copy->payload != "null") out.value = std::move(r.stale_copy);
    return out;
  };
  if (!leader) {
    count(Counter::SingleFlightShared);
    try {
      return finish(flight->future.get());  // rethrows the leader's exception
    } catch (const Error& e) {
      if (auto out = served(e)) return std::move(*out);
      throw;
    }
  }

  auto release = [&] {
    MutexLock lk(flights_mu);
    auto it = flights.find(r.key);
    if (it != flights.end() && it->second == flight) flights.erase(it);
  };
  std::optional<Loaded> loaded;
  try {
    loaded = loader();
    count(Counter::L3Read);
  } catch (const Error& e) {
    flight->promise.set_exception(std::current_exception());
    release();
    if (auto out = served(e)) return std::move(*out);
    throw;
  } catch (...) {
    flight->promise.set_exception(std::current_exception());
    release();
    throw;
  }
  if (loaded && loaded->payload != "null") fill(r, *loaded);
  flight->promise.set_value(loaded);
  release();
  return finish(loaded);
}

// Fill, unless a write to this key happened while loading (it would be older).
// Whenever the fill does not certainly leave L2 at least at the version we
// return, remember that version: L2 may still hold an older copy (a writer
// between its commit and its L2 SET, or an L2 we could not reach), and a
// later read of this instance must not go back to it (monotonic reads).
void TieredCache::Impl::fill(const ReadState& r, const Loaded& loaded) {
  if (epoch[r.stripe].load() != r.fill_epoch) {
    if (redisUsable()) remember(r.key, loaded.version);
    putL1(r.key, {}, loaded.version, l1TtlFor(r.ns), r.fill_epoch);  // moot: a floor (see putL1)
    return;
  }
  const std::int64_t writtenAt = unixMillisNow();
  const std::string bytes = codec::encode(codec::Envelope{r.gen, loaded.version, writtenAt, loaded.payload});
  if (bytes.size() > max_value_bytes) return;
  const auto ttl = freshTtl(r.ns, r.key, writtenAt);
  bool l2ok = true;
  if (redisUsable()) {
    try {
      l2ok = guardedSetL2(r.key, bytes, loaded.version, physicalTtl(ttl));
      if (l2ok) forget(r.key);
    } catch (const Error& e) {
      countRedisFailure(e);
      // Timed out or cut: L2 may hold a newer version that this instance
      // has already returned, so ours stays out of L1 as well. (With the
      // breaker open, redisUsable() is false and L1 still fills.)
      l2ok = false;
      remember(r.key, loaded.version);
    }
  }
  // L2 holding a newer version means ours is already stale: keep it out of L1 too.
  if (l2ok) putL1(r.key, bytes, loaded.version, l1Ttl(ttl), r.fill_epoch);
}

void TieredCache::writeThrough(Namespace ns, const std::string& key, const std::string& payload, std::int64_t version) {
  auto& d = *impl_;
  d.beginWrite(key);
  const std::int64_t writtenAt = unixMillisNow();
  const std::string bytes = codec::encode(codec::Envelope{d.gens.current(ns), version, writtenAt, payload});
  const auto ttl = d.freshTtl(ns, key, writtenAt);
  if (bytes.size() > d.max_value_bytes) {
    // Too large to cache: make sure no older copy survives anywhere.
    d.l1->erase(key);
    invalidateAfterWrite(key);
    return;
  }
  // L1 gets the new copy only once L2 has it (or cannot): until then a peer's
  // invalidation could drop it from L1 and a reader here fall back to the
  // older L2 copy, after having read the new one (reads must not go back).
  const std::uint64_t putEpoch = d.epoch[Impl::stripe(key)].load();
  bool stored = false, newer = false;
  if (d.redisUsable()) {
    try {
      newer = !d.guardedSetL2(key, bytes, version, d.physicalTtl(ttl));
      stored = true;
      d.forget(key, version);
    } catch (const Error& e) {
      d.countRedisFailure(e);
    }
  }
  if (!stored && d.redis) d.remember(key, version);
  // An even newer version in L2: ours is stale already, and L1 must not hold it.
  if (!newer) d.putL1(key, bytes, version, d.l1Ttl(ttl), putEpoch);
  d.settleWrite(key, newer ? version + 1 : version);
  d.publishKey(key, !stored, version);
}

TieredCache::FillResult TieredCache::fillMany(Namespace ns, const std::vector<FillItem>& items) {
  auto& d = *impl_;
  d.l1Usable();  // a first call waits here for the backplane link, before the fill epochs below are taken
  FillResult res;
  const auto gen = d.gens.current(ns);
  std::vector<std::pair<const FillItem*, std::string>> filled;
  std::vector<std::uint64_t> epochs;
  std::vector<std::chrono::milliseconds> ttls;
  std::vector<std::chrono::milliseconds> physical;
  for (const auto& it : items) {
    const std::int64_t writtenAt = unixMillisNow();
    std::string bytes = codec::encode(codec::Envelope{gen, it.version, writtenAt, it.payload});
    if (bytes.size() > d.max_value_bytes) {
      ++res.too_large;
      continue;
    }
    epochs.push_back(d.epoch[Impl::stripe(it.key)].load());
    const auto ttl = d.freshTtl(ns, it.key, writtenAt);
    ttls.push_back(ttl);
    physical.push_back(d.physicalTtl(ttl));
    filled.emplace_back(&it, std::move(bytes));
  }
  std::vector<bool> storedFlags(filled.size(), true);
  if (d.redis && !filled.empty()) {
    // First a plain SET NX per item: a key nobody holds (warming a cold cache) costs what a
    // SET costs and can overwrite nothing. Only keys already present go through the
    // version-guarded script, one Lua call per 100 of them (its overhead is per call).
    std::vector<std::string> px(filled.size());
    std::vector<std::vector<std::string_view>> nx;  // views into filled/px: no value is copied
    nx.reserve(filled.size());
    for (std::size_t j = 0; j < filled.size(); ++j) {
      const std::string_view key = filled[j].first->key;
      px[j] = std::to_string(physical[j].count());
      if (physical[j].count() > 0)
        nx.push_back({"SET", key, filled[j].second, "PX", px[j], "NX"});
      else
        nx.push_back({"SET", key, filled[j].second, "NX"});
    }
    const auto first = d.redis->pipelineViews(nx);
    std::vector<std::size_t> present;
    for (std::size_t j = 0; j < first.size(); ++j) {
      if (first[j].isError()) throw DataError("SET NX failed: " + first[j].str);
      if (first[j].isNil()) present.push_back(j);
    }
    // One Lua call per up to 100 present keys. On a Redis Cluster a script may
    // only touch keys of one slot: there the calls are cut per hash slot.
    constexpr std::size_t kPerCall = 100;
    const bool cluster = d.redis->mode() == redis::RedisMode::Cluster;
    std::vector<std::vector<std::size_t>> calls;  // indices into filled, per call
    if (cluster) {
      std::vector<std::pair<int, std::size_t>> bySlot;
      bySlot.reserve(present.size());
      for (auto j : present) bySlot.emplace_back(redis::RedisClient::keySlot(filled[j].first->key), j);
      std::stable_sort(bySlot.begin(), bySlot.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t k = 0; k < bySlot.size(); ++k) {
        if (k == 0 || bySlot[k].first != bySlot[k - 1].first || calls.back().size() >= kPerCall) calls.emplace_back();
        calls.back().push_back(bySlot[k].second);
      }
    } else {
      for (std::size_t i = 0; i < present.size(); i += kPerCall)
        calls.emplace_back(present.begin() + static_cast<std::ptrdiff_t>(i),
                           present.begin() + static_cast<std::ptrdiff_t>(std::min(present.size(), i + kPerCall)));
    }
    std::vector<redis::Command> cmds;
    for (const auto& call : calls) {
      redis::Command c{"EVAL", kGuardedSetMany, std::to_string(call.size())};
      c.reserve(3 + 5 * call.size());
      for (auto j : call) c.push_back(filled[j].first->key);
      for (auto j : call) {
        const auto u = static_cast<std::uint64_t>(filled[j].first->version);
        c.push_back(filled[j].second);
        c.push_back(std::to_string(physical[j].count()));
        c.push_back(std::to_string(static_cast<std::int32_t>(static_cast<std::uint32_t>(u >> 32))));
        c.push_back(std::to_string(u & 0xffffffffu));
      }
      cmds.push_back(std::move(c));
    }
    if (!cmds.empty()) {
      const auto replies = d.redis->pipeline(cmds);
      for (std::size_t k = 0; k < replies.size(); ++k) {
        const auto& r = replies[k];
        const std::size_t n = calls[k].size();
        if (r.isError()) throw DataError("guarded SET failed: " + r.str);
        if (r.type != redis::Reply::Type::Array || r.elements.size() != n)
          throw DataError("guarded SET returned an unexpected reply");
        for (std::size_t m = 0; m < n; ++m) storedFlags[calls[k][m]] = r.elements[m].integer == 1;
      }
    }
  }
  for (std::size_t i = 0; i < filled.size(); ++i) {
    const auto& [item, bytes] = filled[i];
    const bool stored = storedFlags[i];
    if (stored) {
      ++res.stored;
      d.forget(item->key);
      d.putL1(item->key, bytes, item->version, d.l1Ttl(ttls[i]), epochs[i]);
    } else {
      ++res.newer;
    }
  }
  return res;
}

bool TieredCache::invalidate(const std::string& key) {
  impl_->beginWrite(key);
  impl_->l1->erase(key);
  if (!impl_->redis) return false;
  bool had = false;
  try {
    had = impl_->redis->unlink({key}) > 0;
  } catch (const Error&) {
    impl_->settleWrite(key, std::numeric_limits<std::int64_t>::max());
    impl_->publishKey(key);  // peers drop their L1 copies even if our UNLINK failed
    throw;
  }
  impl_->forget(key);
  impl_->settleWrite(key, std::numeric_limits<std::int64_t>::max());
  impl_->publishKey(key);
  return had;
}

TieredCache::BatchInvalidation TieredCache::invalidateMany(const std::vector<std::string>& keys, std::size_t batch,
                                                           bool publishEach) {
  auto& d = *impl_;
  BatchInvalidation res;
  if (keys.empty()) return res;
  batch = std::max<std::size_t>(batch, 1);
  for (const auto& k : keys) {
    d.beginWrite(k);
    if (d.l1->erase(k)) ++res.l1_dropped;
  }
  auto settleAll = [&] {
    for (const auto& k : keys) {
      d.settleWrite(k, std::numeric_limits<std::int64_t>::max());
      if (publishEach) d.publishKey(k);
    }
  };
  if (!d.redis) {
    settleAll();
    return res;
  }
  // One UNLINK per `batch` keys; on a cluster each command holds one slot's keys, so it routes as it is.
  const bool cluster = d.redis->mode() == redis::RedisMode::Cluster;
  std::vector<std::pair<int, const std::string*>> order;
  order.reserve(keys.size());
  for (const auto& k : keys) order.emplace_back(cluster ? redis::RedisClient::keySlot(k) : 0, &k);
  if (cluster)
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<redis::Command> cmds;
  int lastSlot = -1;
  for (const auto& [slot, key] : order) {
    if (cmds.empty() || slot != lastSlot || cmds.back().size() - 1 >= batch) cmds.push_back({"UNLINK"});
    lastSlot = slot;
    cmds.back().push_back(*key);
  }
  try {
    for (const auto& r : d.redis->pipeline(cmds)) {
      if (r.isError()) throw DataError("UNLINK failed: " + r.str);
      res.deleted += r.integer;
    }
  } catch (const Error&) {
    settleAll();  // peers drop their L1 copies even if our UNLINK failed
    throw;
  }
  for (const auto& k : keys) d.forget(k);
  settleAll();
  return res;
}

std::size_t TieredCache::invalidateMatching(const std::string& pattern) {
  auto& d = *impl_;
  const std::size_t dropped = d.retireLocal([&](std::string_view key) { return codec::globMatch(pattern, key); });
  if (d.backplane) d.backplane->publish(Invalidation{Invalidation::Kind::Pattern, pattern});
  return dropped;
}

std::uint32_t TieredCache::invalidateNamespace(Namespace ns) {
  auto& d = *impl_;
  // Copies of the old generation (in L1 here, in L2, in peers' L1) are misses
  // from now on and freed when met: no sweep, so this stays O(1).
  const std::uint32_t g = d.gens.bump(ns);
  if (d.backplane) d.backplane->publish(Invalidation{Invalidation::Kind::Namespace, std::string(codec::toString(ns))});
  return g;
}

void TieredCache::invalidateAfterWrite(const std::string& key) {
  auto& d = *impl_;
  d.beginWrite(key);
  d.l1->erase(key);
  if (!d.redis) return;
  try {
    if (!d.redisUsable()) throw ConnectionError("Redis repairs pending");
    d.redis->unlink({key});
    d.forget(key);
  } catch (const Error& e) {
    d.countRedisFailure(e);
    d.remember(key, std::numeric_limits<std::int64_t>::max());
    d.settleWrite(key, std::numeric_limits<std::int64_t>::max());
    d.publishKey(key, true);
    return;
  }
  d.settleWrite(key, std::numeric_limits<std::int64_t>::max());
  d.publishKey(key);
}

void TieredCache::invalidateLocal(const std::string& key) {
  impl_->beginWrite(key);
  impl_->l1->erase(key);
}

void TieredCache::attachBackplane(Backplane* backplane) { impl_->backplane = backplane; }
Backplane* TieredCache::backplane() const noexcept { return impl_->backplane; }

void TieredCache::applyRemote(const Invalidation& inv) {
  auto& d = *impl_;
  switch (inv.kind) {
    case Invalidation::Kind::Key:
      invalidateLocal(inv.target);
      break;
    case Invalidation::Kind::Namespace:
      d.gens.expire();  // the bump is in Redis: re-read it before the next read
      d.l1->erasePrefix(inv.target + ":");
      break;
    case Invalidation::Kind::Pattern:
      d.retireLocal([&](std::string_view key) { return codec::globMatch(inv.target, key); });
      break;
    case Invalidation::Kind::All:
      flushLocal();
      break;
  }
}

void TieredCache::flushLocal() {
  auto& d = *impl_;
  // Each stripe's epoch advances under its lock (see beginWrite), so a fill is
  // either refused or put before the clear below removes it.
  for (std::size_t st = 0; st < Impl::kStripes; ++st) {
    MutexLock lk(d.fill_mu[st]);
    d.epoch[st].fetch_add(1);
  }
  {
    MutexLock lk(d.flights_mu);
    d.flights.clear();
  }
  d.gens.expire();
  d.l1->clear();
}

std::size_t TieredCache::pendingRepairs() const { return impl_->ledger.size(); }
void TieredCache::stopRepairs() { impl_->stopRepairs(); }

std::optional<codec::Envelope> TieredCache::peekL1(const std::string& key) const {
  auto v = impl_->l1->get(key);  // counted as an L1 access, harmless for inspection
  if (!v) return std::nullopt;
  auto w = l1Unwrap(*v);
  if (!w || w->fresh_until_ns == kFloor) return std::nullopt;
  return codec::decode(w->envelope, impl_->max_value_bytes, false).envelope;
}

TieredCache::L2Peek TieredCache::peekL2(Namespace ns, const std::string& key) {
  L2Peek p;
  if (!impl_->redis) return p;
  // Inspection: a replica may answer (replica_reads=1), a replication delay behind.
  auto replies = impl_->redis->pipeline({{"GET", key}, {"PTTL", key}}, redis::ReadFrom::Replica);
  if (replies.size() != 2) throw DataError("unexpected pipeline reply");
  if (replies[0].isError()) throw DataError("GET failed: " + replies[0].str);
  if (replies[0].isNil()) return p;
  p.present = true;
  p.bytes = replies[0].str.size();
  p.ttl_ms = replies[1].integer;
  auto dec = codec::decode(replies[0].str, impl_->max_value_bytes, true);
  if (!dec.envelope) {
    p.decode_error = codec::toString(dec.error);
  } else {
    p.generation_current = dec.envelope->ns_generation == impl_->gens.current(ns);
    p.value = std::move(dec.envelope);
  }
  return p;
}

namespace {
// Generation tokens outlive the results keyed by them (60 s by default) by far;
// one that expires comes back as a new random token, never an old one.
constexpr const char* kSearchGenTtlMs = "86400000";
}  // namespace

std::optional<std::string> TieredCache::searchGeneration(std::int64_t userId) {
  auto& d = *impl_;
  if (!d.redis) {
    MutexLock lk(d.search_mu);
    auto [it, inserted] = d.local_search_gen.try_emplace(userId);
    if (inserted) it->second = d.randomToken();
    return it->second;
  }
  try {
    if (d.search_bump_failures.load() != d.search_repaired_upto.load()) {
      // A bump of ours never reached Redis: no token there can be trusted until
      // every search copy is retired. A failure after `f` is repaired next time.
      MutexLock lk(d.search_mu);
      const auto f = d.search_bump_failures.load();
      if (f != d.search_repaired_upto.load()) {
        d.gens.bump(Namespace::Search);
        d.search_repaired_upto.store(f);
      }
    }
    const std::string key = codec::searchGenerationKey(userId);
    if (auto g = d.redis->get(key)) return *g;
    // First search of this scope (or its token expired): seed a random one; a
    // concurrent seeder may win, so read back what is there.
    d.redis->command({"SET", key, d.randomToken(), "NX", "PX", kSearchGenTtlMs});
    if (auto g = d.redis->get(key)) return *g;
    return std::nullopt;
  } catch (const Error& e) {
    d.countRedisFailure(e);
    return std::nullopt;
  }
}

void TieredCache::bumpSearchGenerations(std::int64_t userId) {
  auto& d = *impl_;
  if (!d.redis) {
    MutexLock lk(d.search_mu);
    d.local_search_gen[userId] = d.randomToken();
    d.local_search_gen[0] = d.randomToken();
    return;
  }
  try {
    auto replies =
        d.redis->pipeline({{"SET", codec::searchGenerationKey(userId), d.randomToken(), "PX", kSearchGenTtlMs},
                           {"SET", codec::searchGenerationKey(0), d.randomToken(), "PX", kSearchGenTtlMs}});
    for (const auto& r : replies)
      if (r.isError()) throw DataError("replacing a search generation failed: " + r.str);
  } catch (const Error& e) {
    d.countRedisFailure(e);
    d.search_bump_failures.fetch_add(1);
  }
}

std::uint32_t TieredCache::currentGeneration(Namespace ns) { return impl_->gens.current(ns); }
metrics::Metrics* TieredCache::metrics() const noexcept { return impl_->metrics; }
const CachePolicies& TieredCache::policies() const noexcept { return impl_->policies; }
std::chrono::milliseconds TieredCache::ttlFor(Namespace ns) { return impl_->ttlFor(ns); }

}  // namespace tier::cache
