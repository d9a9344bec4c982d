#pragma once
// L1: the in-process memory tier.
//
// Thread-safety: every method may be called concurrently from any thread.
// Sharded by key hash; each shard has its own lock for writes. A get() takes no
// lock and writes no line another thread writes (unless the policy is "lru", whose
// hits relink under the lock): entries are immutable once published, and freed
// only after every reader that could see them has left. Values are immutable,
// reference-counted byte strings: a get() hands back a shared pointer, never a
// copy of the bytes.
//
// Policy: W-TinyLFU by default (a 1 % LRU window, then a segmented LRU main space
// guarded by a frequency-sketch admission filter; scan-resistant), "lru" on request.
// A hit only marks the entry; the policy applies it lazily (see core/src/l1/).
//
// Bounds: the limits are split evenly across shards (floor); a shard evicts (per
// its EvictionPolicy) until both its entry and byte shares hold, so the cache as a
// whole never exceeds max_entries / max_bytes. Byte accounting charges
// key.size() + value->size() + kEntryOverheadBytes per entry.
//
// Expiry is lazy: an expired entry is dropped when a get/contains/ttl/keys meets it,
// and each put also drops a few expired entries from the eviction end of its shard.
// Expiry times are kept in whole milliseconds (rounded up): an entry may outlive its
// TTL by under 1 ms. Keys longer than kMaxKeyBytes are not cached (put is a no-op).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tier::l1 {

// Fixed bytes charged per entry on top of key and value: an upper bound of the heap
// an entry costs beyond its key and value bytes under the default policy, as
// `tierctl bench` measures it (46.1 B at 1M entries with 18-19 byte keys, where the
// table's load is 0.7): the 28-byte entry block from the shard's slab with the key
// inline, rounded to 8 bytes (up to 7 B); the 4-byte table slot at the table's load
// (0.53-0.8); the frequency sketch's share (~10.5 B). The "lru" policy keeps its
// links in a map of its own and costs more.
inline constexpr std::size_t kEntryOverheadBytes = 56;
inline constexpr std::size_t kMaxKeyBytes = 4095;

struct L1Options {
  std::size_t max_entries = 200'000;            // 0 = unbounded by count
  std::size_t max_bytes = 256ull * 1024 * 1024;  // 0 = unbounded by size
  // 0 = pick from hardware concurrency (power of 2, >= 8). Other values are rounded
  // up to a power of two (max 1024), then lowered while a shard's share of
  // max_entries would be zero; options() reports the effective count.
  std::size_t shards = 0;
  // Name of the eviction policy: "tinylfu" (W-TinyLFU; "wtinylfu" is an alias)
  // or "lru" (exact LRU, for comparison). Unknown names make the constructor
  // throw BadInputError.
  std::string policy = "tinylfu";
  // Monotonic time source for TTLs, in nanoseconds. Empty = CLOCK_MONOTONIC_COARSE
  // (a few ns per call; its ~4 ms granularity is fine for TTLs). Tests inject a fake.
  std::function<std::int64_t()> now_ns;
};

// Namespace = the key's prefix before the first ':' ("entry", "session", ...).
// Keys without ':' and namespaces beyond the first 31 distinct ones count as "other".
struct NamespaceStats {
  std::string ns;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t inserts = 0;       // admitted puts, new keys and replacements
  std::uint64_t evictions = 0;     // removed to respect bounds (incl. an old copy dropped by an oversize put)
  std::uint64_t expirations = 0;   // removed because their TTL passed
  std::uint64_t invalidations = 0; // removed by erase / erasePrefix / eraseIf / clear
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

struct L1Stats {
  std::size_t entries = 0;  // held, including expired entries not yet met (expiry is lazy)
  std::size_t bytes = 0;
  std::size_t max_entries = 0;
  std::size_t max_bytes = 0;
  std::vector<NamespaceStats> namespaces;  // sorted by ns
};

using Value = std::shared_ptr<const std::string>;

class L1Cache {
 public:
  explicit L1Cache(L1Options options = {});
  ~L1Cache();
  L1Cache(const L1Cache&) = delete;
  L1Cache& operator=(const L1Cache&) = delete;

  // Returns the value, or nullptr on a miss (absent or expired).
  Value get(std::string_view key);
  // Inserts or replaces. ttl 0 = no expiry. An entry whose charge exceeds a
  // shard's byte share (max_bytes/shards) is not admitted (and any old copy is dropped).
  // REQUIRES: value != nullptr and ttl >= 0, else throws BadInputError.
  void put(std::string_view key, Value value, std::chrono::milliseconds ttl);
  void put(std::string_view key, std::string value, std::chrono::milliseconds ttl) {
    put(key, std::make_shared<const std::string>(std::move(value)), ttl);
  }
  // True if present and not expired; does not count as a hit, does not touch recency.
  bool contains(std::string_view key) const;
  // Remaining TTL, or -1 if absent; 0 if no expiry is set.
  std::chrono::milliseconds ttl(std::string_view key) const;
  // How often this cache was asked for key lately: the W-TinyLFU frequency
  // sketch's estimate (0..15, halved every aging period) plus the hits a held
  // entry has not yet folded into it (0..31); 0 under a policy without a sketch
  // (lru). Does not count as an access.
  unsigned accessFrequency(std::string_view key) const;

  bool erase(std::string_view key);
  // Drops every key starting with prefix; returns how many (live ones; expired
  // matches are dropped too but count as expirations). O(entries).
  std::size_t erasePrefix(std::string_view prefix);
  // Drops every key for which predicate returns true; returns how many.
  // REQUIRES: predicate does not call back into this cache (it runs under a shard lock).
  std::size_t eraseIf(const std::function<bool(std::string_view key)>& predicate);
  void clear();

  // Keys currently held (for inspection, bounded by limit).
  std::vector<std::string> keys(std::size_t limit = SIZE_MAX) const;

  L1Stats stats() const;
  const L1Options& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::l1
