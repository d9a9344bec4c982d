#pragma once
// The read path L1 -> L2 -> L3 and the write-through path, shared by every
// repository.
//
// Thread-safety: all methods may be called concurrently.
//
// Guarantees:
// - A cache failure never fails a read: any L2 error (down, slow, breaker
//   open, garbage value) is counted and the read goes on to L3.
// - Single-flight: concurrent misses on one key run the loader once; the
//   others wait for and share its result (or its exception).
// - Fills never overwrite a newer copy: L2 fills and write-throughs go through
//   a version-guarded SET (a Lua script comparing the envelope's entity
//   version), so a reader that loaded before a concurrent write cannot put the
//   older row back over the writer's value.
// - Namespace invalidation is O(1): a generation counter per namespace lives in
//   Redis (tc:nsgen:{ns}, seeded with a random 32-bit value so a lost counter
//   never comes back at an old value); every envelope records the generation it
//   was filled under, and a copy from any other generation is a miss.
// - No stale read after an acknowledged write from this instance:
//   * a fill started before a write (or invalidation) of the same key is not
//     stored (a per-key-stripe write epoch), and later readers never join it;
//   * the epoch advances again once the write's L2 change is done, and an L1
//     copy older than the written version is dropped then: a reader that
//     filled L1 from the old L2 copy while the writer's SET was on the wire
//     (after a peer's invalidation or a flush emptied L1) leaves nothing behind;
//   * a write-through or invalidation that could not reach Redis is remembered
//     (key -> minimum version); until it is repaired, an older L2 copy of that
//     key is a miss. Repairs (UNLINK) run once Redis answers again; if too many
//     pile up, every namespace generation is bumped instead.
// - Serve-stale (CachePolicies::max_stale > 0): a copy has a logical expiry
//   (its TTL) and a physical one (TTL + max_stale). A read meeting a copy past
//   its logical expiry goes to L3; only if L3 fails with a connection or
//   timeout error is the copy served, as CacheRead::stale, counted
//   StaleServed. Generation and pending-repair checks apply to stale copies
//   too, so an invalidated or superseded copy is never served. The logical
//   expiry of an L2 copy is written_at + the namespace TTL with a jitter
//   derived from the key and write time (every instance computes the same);
//   L1 values carry their own fresh-until (see tiered_cache.cpp).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tier/codec/envelope.h"
#include "tier/codec/keys.h"
#include "tier/common/config.h"
#include "tier/metrics/metrics.h"
#include "tier/cache/backplane.h"

namespace tier::l1 {
class L1Cache;
}
namespace tier::redis {
class RedisClient;
}

namespace tier::cache {

// What the loader (L3) returned for a key.
struct Loaded {
  std::string payload;        // JSON; "null" for a tombstone
  std::int64_t version = 0;   // the row's version
};

enum class Source { None, L1, L2, L3 };
const char* toString(Source s) noexcept;

struct CacheRead {
  std::optional<codec::Envelope> value;  // nullopt: not found in L3 either
  Source source = Source::None;
  // Served from a copy past its TTL because L3 could not be reached
  // (CachePolicies::max_stale); source says which tier held it.
  bool stale = false;
};

// Per-namespace generations, cached locally and refreshed from Redis at most
// every `refresh` (so another instance's namespace invalidation is seen within
// that bound). Thread-safe; current() is an atomic load on the fast path.
class NamespaceGenerations {
 public:
  explicit NamespaceGenerations(redis::RedisClient* redis, std::chrono::milliseconds refresh = std::chrono::milliseconds(1000));
  std::uint32_t current(codec::Namespace ns);
  // INCR in Redis; returns the new generation. Throws tier::Error if Redis fails.
  std::uint32_t bump(codec::Namespace ns);
  // Re-reads every namespace on the next current() call.
  void expire();

 private:
  struct Slot {
    std::atomic<std::uint32_t> gen{0};
    std::atomic<std::int64_t> refreshed_at_ns{-1};  // steady clock; -1 = never
    std::atomic<bool> refreshing{false};
  };
  redis::RedisClient* redis_;
  std::chrono::milliseconds refresh_;
  Slot slots_[6];
};

class TieredCache {
 public:
  // redis may be null (L1 + L3 only). All pointers must outlive the cache.
  TieredCache(l1::L1Cache* l1, redis::RedisClient* redis, metrics::Metrics* metrics, CachePolicies policies,
              std::size_t maxValueBytes = codec::kDefaultMaxValueBytes);
  ~TieredCache();

  using Loader = std::function<std::optional<Loaded>()>;
  // Checks that a cached payload decodes as the expected entity; a payload that
  // fails is treated like a corrupt value (counted, a miss).
  using Validator = std::function<bool(std::string_view payload)>;
  // Read-through. The loader may throw; the exception reaches the caller (and
  // every single-flight waiter) and nothing is cached. A tombstone (a deleted
  // row's marker) reads as not found.
  CacheRead read(codec::Namespace ns, const std::string& key, const Loader& loader, const Validator& valid = {});

  // After a committed database write: replace the copy in L1 and L2 (guarded by
  // version). L2 failures are absorbed, counted and remembered for repair
  // (see above), never thrown.
  void writeThrough(codec::Namespace ns, const std::string& key, const std::string& payload, std::int64_t version);
  // Bulk fill (warming): L1 puts plus one pipeline of SET NX; the keys that were
  // present then take the version-guarded script (one Lua call per 100 keys).
  // Throws tier::Error if Redis fails.
  struct FillItem {
    std::string key;
    std::string payload;
    std::int64_t version = 0;
  };
  struct FillResult {
    std::size_t stored = 0;     // L2 accepted
    std::size_t newer = 0;      // L2 already held a newer version
    std::size_t too_large = 0;  // over the value size limit: not cached
  };
  FillResult fillMany(codec::Namespace ns, const std::vector<FillItem>& items);

  // Drop a key from L1 and L2 (UNLINK). Returns whether L2 held it. Throws if
  // Redis fails (callers of explicit invalidation must know).
  bool invalidate(const std::string& key);
  // invalidate() for many keys, with the same ordering per key: its write
  // epoch advances and its L1 copy goes before the UNLINK (a read that fetched
  // the old L2 copy cannot put it back into L1), the UNLINKs go in one
  // pipeline (at most `batch` keys a command; on a Redis Cluster one command
  // per hash slot), then each key settles. publishEach: peers are told per
  // key; false when the caller announces the whole set itself (a pattern,
  // see invalidateMatching). Throws tier::Error if Redis fails; the L1 copies
  // are gone and peers told even then. REQUIRES: batch >= 1.
  struct BatchInvalidation {
    long long deleted = 0;     // UNLINK's count: keys L2 held
    long long l1_dropped = 0;  // keys this instance's L1 held
  };
  BatchInvalidation invalidateMany(const std::vector<std::string>& keys, std::size_t batch = 500,
                                   bool publishEach = true);
  // After a pattern's L2 keys went through invalidateMany(publishEach=false):
  // retires this instance's L1 copies matching the glob (fills in flight
  // become moot first, so none lands afterwards) and tells the peers to do
  // the same. Returns the L1 copies dropped. Never blocks on Redis.
  std::size_t invalidateMatching(const std::string& pattern);
  // O(1) namespace invalidation: bumps the generation in Redis (every copy
  // filled under an older one is a miss everywhere), then tells the peers.
  // Returns the new generation. Throws tier::Error if Redis fails.
  std::uint32_t invalidateNamespace(codec::Namespace ns);
  // The same after a database change: never throws; if Redis cannot be reached
  // the key is remembered and its L2 copy treated as a miss until repaired.
  void invalidateAfterWrite(const std::string& key);
  // Keys waiting for an L2 repair (for health and tests). A background thread
  // of the cache (started by the first such key) repairs them every 100 ms
  // while Redis answers; reads and writes never run a repair themselves.
  std::size_t pendingRepairs() const;
  // Stops that thread, waiting for a repair in flight (bounded by Redis's
  // command timeout). Keys still pending stay pending: their L2 copies stay
  // untrusted. The owner calls it before what the repairer uses (the attached
  // backplane) goes; the destructor calls it too. Idempotent.
  void stopRepairs();
  // L1 only (e.g. after a cross-instance invalidation message).
  void invalidateLocal(const std::string& key);

  // Cross-instance coherence (see cache/backplane.h). Attach once, before the
  // cache is used; null = none. With one attached, writes and invalidations
  // publish a message after their L2 change, and L1 is used only while
  // backplane->l1Usable(). REQUIRES: stopRepairs() before the backplane is
  // destroyed (the repairer publishes to it).
  void attachBackplane(Backplane* backplane);
  Backplane* backplane() const noexcept;
  // Applies another instance's message to this instance's L1.
  void applyRemote(const Invalidation& inv);
  // Drops every L1 copy and makes every in-flight fill moot (it will not be
  // stored); namespace generations are re-read on next use.
  void flushLocal();

  // Raw lookups for inspection (no metrics, no fills).
  std::optional<codec::Envelope> peekL1(const std::string& key) const;
  struct L2Peek {
    bool present = false;
    long long ttl_ms = -2;      // -2 absent, -1 no expiry
    std::size_t bytes = 0;
    std::optional<codec::Envelope> value;  // nullopt if absent or undecodable
    std::string decode_error;  // non-empty if present but undecodable
    bool generation_current = true;
  };
  L2Peek peekL2(codec::Namespace ns, const std::string& key);  // throws if Redis fails

  // Search results (repo/search.h) carry their scope's generation in their key:
  // an opaque random token per scope (a user id; 0 = every user) kept in Redis
  // (tc:searchgen:{scope}) and replaced after each committed entry write, so a
  // result filled before the write is never read after it returns, on any
  // instance. nullopt: Redis could not be asked, or a bump from this instance
  // has not reached Redis yet; then the caller must not use the cache.
  std::optional<std::string> searchGeneration(std::int64_t userId);
  // After a committed entry write of `userId`: new tokens for that user's scope
  // and for "all". Never throws; if Redis fails, this instance caches no search
  // until the search namespace generation could be bumped instead.
  void bumpSearchGenerations(std::int64_t userId);

  // Generations can be read here; bumping one is invalidateNamespace().
  std::uint32_t currentGeneration(codec::Namespace ns);
  metrics::Metrics* metrics() const noexcept;
  const CachePolicies& policies() const noexcept;
  std::chrono::milliseconds ttlFor(codec::Namespace ns);  // with jitter

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::cache
