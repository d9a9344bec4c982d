#pragma once
// L1: the in-process memory tier.
//
// Thread-safety: every method may be called concurrently from any thread.
// Sharded by key hash; each shard has its own lock, so a hit on one shard never
// waits for another. Values are immutable, reference-counted byte strings: a get()
// hands back a shared pointer, never a copy of the bytes.
//
// Bounds: a shard evicts (per its EvictionPolicy) until both entry and byte limits
// hold. Byte accounting charges key + value + a fixed per-entry overhead.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tier::l1 {

struct L1Options {
  std::size_t max_entries = 200'000;            // 0 = unbounded by count
  std::size_t max_bytes = 256ull * 1024 * 1024;  // 0 = unbounded by size
  std::size_t shards = 0;                       // 0 = pick from hardware concurrency (power of 2, >= 8)
  // Name of the eviction policy ("lru"). The policy is a seam (see policy.h)
  // so the performance work can swap in W-TinyLFU without touching callers.
  std::string policy = "lru";
};

// Namespace = the key's prefix before the first ':' ("entry", "session", ...).
struct NamespaceStats {
  std::string ns;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t inserts = 0;
  std::uint64_t evictions = 0;     // removed to respect bounds
  std::uint64_t expirations = 0;   // removed because their TTL passed
  std::uint64_t invalidations = 0; // removed by erase / erasePrefix / eraseIf
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

struct L1Stats {
  std::size_t entries = 0;
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
  // Inserts or replaces. ttl 0 = no expiry. A value larger than max_bytes/shards
  // is not admitted (and any old copy is dropped).
  void put(std::string_view key, Value value, std::chrono::milliseconds ttl);
  void put(std::string_view key, std::string value, std::chrono::milliseconds ttl) {
    put(key, std::make_shared<const std::string>(std::move(value)), ttl);
  }
  // True if present and not expired; does not count as a hit, does not touch recency.
  bool contains(std::string_view key) const;
  // Remaining TTL, or -1 if absent; 0 if no expiry is set.
  std::chrono::milliseconds ttl(std::string_view key) const;

  bool erase(std::string_view key);
  // Drops every key starting with prefix; returns how many.
  std::size_t erasePrefix(std::string_view prefix);
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
