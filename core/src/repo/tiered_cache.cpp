#include "tier/repo/tiered_cache.h"

#include <array>
#include <future>
#include <mutex>
#include <random>
#include <unordered_map>

#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/l1/l1_cache.h"
#include "tier/redis/redis_client.h"

namespace tier::repo {
namespace {

using codec::Namespace;
using metrics::Counter;

// SET KEYS[1] ARGV[1] PX ARGV[3] unless the stored envelope's entity version
// (bytes 9..16, little-endian i64) is newer than ARGV[2]. Returns 1 if written.
constexpr const char* kGuardedSet = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur and string.len(cur) >= 32 and string.sub(cur, 1, 2) == 'TC' then
  local v = struct.unpack('<i8', cur, 9)
  if v > tonumber(ARGV[2]) then return 0 end
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
)lua";

std::int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
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

// ---- NamespaceGenerations --------------------------------------------------

NamespaceGenerations::NamespaceGenerations(redis::RedisClient* redis, std::chrono::milliseconds refresh)
    : redis_(redis), refresh_(refresh) {}

std::uint32_t NamespaceGenerations::current(Namespace ns) {
  Slot& s = slots_[static_cast<int>(ns)];
  if (!redis_) return s.gen.load(std::memory_order_relaxed);
  auto now = steadyNowNs();
  auto at = s.refreshed_at_ns.load(std::memory_order_relaxed);
  if (at >= 0 && now - at < std::chrono::duration_cast<std::chrono::nanoseconds>(refresh_).count())
    return s.gen.load(std::memory_order_acquire);
  // One thread refreshes; the others keep using the value they have.
  bool expected = false;
  if (!s.refreshing.compare_exchange_strong(expected, true)) return s.gen.load(std::memory_order_acquire);
  try {
    if (redis_->breakerState() != redis::BreakerState::Open) {
      auto v = redis_->get(codec::namespaceGenerationKey(ns));
      std::uint32_t g = v ? static_cast<std::uint32_t>(std::strtoull(v->c_str(), nullptr, 10)) : 0;
      // Generations only move forward.
      auto old = s.gen.load();
      while (g > old && !s.gen.compare_exchange_weak(old, g)) {
      }
      s.refreshed_at_ns.store(now, std::memory_order_relaxed);
    }
  } catch (const Error&) {
    // Redis unreachable: L2 is being skipped anyway; keep the last known value.
  }
  s.refreshing.store(false);
  return s.gen.load(std::memory_order_acquire);
}

std::uint32_t NamespaceGenerations::bump(Namespace ns) {
  Slot& s = slots_[static_cast<int>(ns)];
  if (!redis_) return s.gen.fetch_add(1) + 1;
  auto r = redis_->command({"INCR", codec::namespaceGenerationKey(ns)});
  if (r.type != redis::Reply::Type::Integer) throw DataError("INCR of the namespace generation failed: " + r.str);
  auto g = static_cast<std::uint32_t>(r.integer);
  auto old = s.gen.load();
  while (g > old && !s.gen.compare_exchange_weak(old, g)) {
  }
  s.refreshed_at_ns.store(steadyNowNs());
  return g;
}

// ---- TieredCache -----------------------------------------------------------

struct TieredCache::Impl {
  l1::L1Cache* l1;
  redis::RedisClient* redis;
  metrics::Metrics* metrics;
  CachePolicies policies;
  std::size_t max_value_bytes;
  NamespaceGenerations gens;

  std::mutex flights_mu;
  std::unordered_map<std::string, std::shared_future<std::optional<Loaded>>> flights;  // guarded by flights_mu

  // The version check and the L1 put must be one step, or two writers of one
  // key can interleave and leave the older version in L1.
  static constexpr std::size_t kFillStripes = 64;
  std::array<std::mutex, kFillStripes> fill_mu;

  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};  // guarded by rng_mu

  Impl(l1::L1Cache* a, redis::RedisClient* r, metrics::Metrics* m, CachePolicies p, std::size_t max)
      : l1(a), redis(r), metrics(m), policies(p), max_value_bytes(max), gens(r) {}

  void count(Counter c) {
    if (metrics) metrics->count(c);
  }
  // The Redis client already counts its connection/timeout failures.
  void countRedisFailure(const Error& e) {
    if (e.kind() != ErrorKind::Connection && e.kind() != ErrorKind::Timeout) count(Counter::RedisError);
  }

  const NamespacePolicy& policy(Namespace ns) const {
    switch (ns) {
      case Namespace::Entry: return policies.entry;
      case Namespace::Session: return policies.session;
      case Namespace::User: return policies.user;
      case Namespace::Stats: return policies.stats;
      case Namespace::Knowledge: return policies.knowledge;
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
      std::lock_guard lk(rng_mu);
      f = d(rng);
    }
    return std::chrono::milliseconds(std::max<std::int64_t>(1000, static_cast<std::int64_t>(base.count() * (1.0 + f))));
  }

  std::chrono::milliseconds l1Ttl(std::chrono::milliseconds l2ttl) const {
    auto cap = std::chrono::duration_cast<std::chrono::milliseconds>(policies.l1_max_ttl);
    if (cap.count() <= 0) return l2ttl;
    if (l2ttl.count() <= 0) return cap;
    return std::min(cap, l2ttl);
  }

  bool redisUsable() {
    if (!redis) return false;
    if (redis->breakerState() == redis::BreakerState::Open) {
      count(Counter::BreakerOpenSkip);
      return false;
    }
    return true;
  }

  // Writes the envelope to L1 unless L1 holds a newer version.
  void putL1(const std::string& key, const std::string& bytes, std::int64_t version, std::chrono::milliseconds ttl) {
    std::lock_guard lk(fill_mu[std::hash<std::string>{}(key) % kFillStripes]);
    if (auto cur = l1->get(key)) {
      auto d = codec::decode(*cur, max_value_bytes, false);
      if (d.envelope && d.envelope->entity_version > version) return;
    }
    l1->put(key, bytes, ttl);
  }

  bool guardedSetL2(const std::string& key, const std::string& bytes, std::int64_t version,
                    std::chrono::milliseconds ttl) {
    auto r = redis->command({"EVAL", kGuardedSet, "1", key, bytes, std::to_string(version), std::to_string(ttl.count())});
    if (r.isError()) throw DataError("guarded SET failed: " + r.str);
    return r.integer == 1;
  }
};

TieredCache::TieredCache(l1::L1Cache* l1, redis::RedisClient* redis, metrics::Metrics* metrics, CachePolicies policies,
                         std::size_t maxValueBytes)
    : impl_(std::make_unique<Impl>(l1, redis, metrics, policies, maxValueBytes)) {}
TieredCache::~TieredCache() = default;

CacheRead TieredCache::read(Namespace ns, const std::string& key, const Loader& loader, const Validator& valid) {
  auto& d = *impl_;
  d.count(Counter::Read);
  const std::uint32_t gen = d.gens.current(ns);

  // L1: our own bytes, no checksum needed; an older generation is a miss.
  if (auto v = d.l1->get(key)) {
    auto dec = codec::decode(*v, d.max_value_bytes, false);
    if (dec.envelope && dec.envelope->ns_generation >= gen) {
      d.count(Counter::L1Hit);
      if (dec.envelope->payload == "null") return {std::nullopt, Source::L1};
      return {std::move(dec.envelope), Source::L1};
    }
    d.l1->erase(key);
  }
  d.count(Counter::L1Miss);

  // L2: untrusted bytes.
  if (d.redisUsable()) {
    try {
      if (auto v = d.redis->get(key)) {
        auto dec = codec::decode(*v, d.max_value_bytes, true);
        bool tombstone = dec.envelope && dec.envelope->payload == "null";
        if (!dec.envelope || (!tombstone && valid && !valid(dec.envelope->payload))) {
          // Not ours or corrupt: drop it so the fill below can replace it
          // (a bogus "newer" version would otherwise block the guarded SET).
          d.count(Counter::DecodeReject);
          d.redis->unlink({key});
        } else if (dec.envelope->ns_generation >= gen) {
          d.count(Counter::L2Hit);
          auto ttl = d.l1Ttl(d.ttlFor(ns));
          d.putL1(key, *v, dec.envelope->entity_version, ttl);
          if (tombstone) return {std::nullopt, Source::L2};
          return {std::move(dec.envelope), Source::L2};
        }
      }
    } catch (const Error& e) {
      d.countRedisFailure(e);
    }
  }
  d.count(Counter::L2Miss);

  // L3, single-flight per key.
  std::promise<std::optional<Loaded>> promise;
  std::shared_future<std::optional<Loaded>> fut;
  bool leader = false;
  {
    std::lock_guard lk(d.flights_mu);
    auto it = d.flights.find(key);
    if (it != d.flights.end()) {
      fut = it->second;
    } else {
      fut = promise.get_future().share();
      d.flights.emplace(key, fut);
      leader = true;
    }
  }
  if (!leader) {
    d.count(Counter::SingleFlightShared);
    auto loaded = fut.get();  // rethrows the leader's exception
    if (!loaded || loaded->payload == "null") return {std::nullopt, Source::L3};
    return {codec::Envelope{gen, loaded->version, unixMillisNow(), loaded->payload}, Source::L3};
  }

  std::optional<Loaded> loaded;
  try {
    loaded = loader();
    d.count(Counter::L3Read);
    if (loaded && loaded->payload != "null") {
      codec::Envelope env{gen, loaded->version, unixMillisNow(), loaded->payload};
      std::string bytes = codec::encode(env);
      if (bytes.size() <= d.max_value_bytes) {
        auto ttl = d.ttlFor(ns);
        d.putL1(key, bytes, loaded->version, d.l1Ttl(ttl));
        if (d.redisUsable()) {
          try {
            d.guardedSetL2(key, bytes, loaded->version, ttl);
          } catch (const Error& e) {
            d.countRedisFailure(e);
          }
        }
      }
    }
    promise.set_value(loaded);
  } catch (...) {
    promise.set_exception(std::current_exception());
    std::lock_guard lk(d.flights_mu);
    d.flights.erase(key);
    throw;
  }
  {
    std::lock_guard lk(d.flights_mu);
    d.flights.erase(key);
  }
  if (!loaded || loaded->payload == "null") return {std::nullopt, Source::L3};
  return {codec::Envelope{gen, loaded->version, unixMillisNow(), loaded->payload}, Source::L3};
}

void TieredCache::writeThrough(Namespace ns, const std::string& key, const std::string& payload, std::int64_t version) {
  auto& d = *impl_;
  codec::Envelope env{d.gens.current(ns), version, unixMillisNow(), payload};
  std::string bytes = codec::encode(env);
  auto ttl = d.ttlFor(ns);
  if (bytes.size() > d.max_value_bytes) {
    // Too large to cache: make sure no older copy survives.
    d.l1->erase(key);
    if (d.redisUsable()) {
      try {
        d.redis->unlink({key});
      } catch (const Error& e) {
        d.countRedisFailure(e);
      }
    }
    return;
  }
  d.putL1(key, bytes, version, d.l1Ttl(ttl));
  if (d.redisUsable()) {
    try {
      d.guardedSetL2(key, bytes, version, ttl);
    } catch (const Error& e) {
      d.countRedisFailure(e);
    }
  }
}

std::size_t TieredCache::fillMany(Namespace ns, const std::vector<FillItem>& items) {
  auto& d = *impl_;
  const auto gen = d.gens.current(ns);
  std::vector<redis::Command> cmds;
  cmds.reserve(items.size());
  for (const auto& it : items) {
    std::string bytes = codec::encode(codec::Envelope{gen, it.version, unixMillisNow(), it.payload});
    if (bytes.size() > d.max_value_bytes) continue;
    auto ttl = d.ttlFor(ns);
    d.putL1(it.key, bytes, it.version, d.l1Ttl(ttl));
    if (d.redis)
      cmds.push_back({"EVAL", kGuardedSet, "1", it.key, std::move(bytes), std::to_string(it.version),
                      std::to_string(ttl.count())});
  }
  if (!d.redis || cmds.empty()) return 0;
  std::size_t accepted = 0;
  for (const auto& r : d.redis->pipeline(cmds)) {
    if (r.isError()) throw DataError("guarded SET failed: " + r.str);
    if (r.integer == 1) ++accepted;
  }
  return accepted;
}

bool TieredCache::invalidate(const std::string& key) {
  impl_->l1->erase(key);
  if (!impl_->redis) return false;
  return impl_->redis->unlink({key}) > 0;
}

void TieredCache::invalidateLocal(const std::string& key) { impl_->l1->erase(key); }

std::optional<codec::Envelope> TieredCache::peekL1(const std::string& key) const {
  if (!impl_->l1->contains(key)) return std::nullopt;
  auto v = impl_->l1->get(key);  // counted as an L1 access, harmless for inspection
  if (!v) return std::nullopt;
  return codec::decode(*v, impl_->max_value_bytes, false).envelope;
}

TieredCache::L2Peek TieredCache::peekL2(Namespace ns, const std::string& key) {
  L2Peek p;
  if (!impl_->redis) return p;
  auto replies = impl_->redis->pipeline({{"GET", key}, {"PTTL", key}});
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
    p.generation_current = dec.envelope->ns_generation >= impl_->gens.current(ns);
    p.value = std::move(dec.envelope);
  }
  return p;
}

NamespaceGenerations& TieredCache::generations() noexcept { return impl_->gens; }
l1::L1Cache* TieredCache::l1() const noexcept { return impl_->l1; }
redis::RedisClient* TieredCache::redis() const noexcept { return impl_->redis; }
metrics::Metrics* TieredCache::metrics() const noexcept { return impl_->metrics; }
const CachePolicies& TieredCache::policies() const noexcept { return impl_->policies; }
std::chrono::milliseconds TieredCache::ttlFor(Namespace ns) { return impl_->ttlFor(ns); }

}  // namespace tier::repo
