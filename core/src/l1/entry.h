#pragma once
// One cached item as a shard holds it: a block from the shard's slab with the key
// inline. Private to core/src/l1.
//
// Layout (28 bytes + key, rounded to 8): the value's shared pointer, one packed
// atomic word (expiry, key length, namespace, policy segment, pending hits) and one
// 32-bit slab handle (slab.h; 0 = none) that chains the entry in its policy queue,
// then the key bytes. Once published in the shard's table an entry's key, value,
// expiry and namespace never change (a put of a held key publishes a new entry),
// so a lock-free reader may read them while the entry is reachable or within the
// grace period after it was unlinked. Only the segment (under the shard lock) and
// the pending hits (by readers, lossily) change afterwards, both by atomic
// read-modify-writes of the one word. next belongs to the policy (shard lock),
// then to the shard's queue of retired entries.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include "tier/l1/l1_cache.h"

namespace tier::l1::detail {

class Entry {
 public:
  static constexpr std::size_t kMaxKeyBytes = tier::l1::kMaxKeyBytes;  // fits 12 bits
  static constexpr std::uint64_t kMaxExpiryMs = (1ull << 40) - 1;  // ~34 years after the cache's epoch
  static constexpr unsigned kMaxPendingHits = 31;

  // The fixed part: the key starts right after next (key_), in the struct's last 4 bytes.
  static constexpr std::size_t kFixedBytes = 28;
  // Bytes of the block an entry with this key length needs (8-byte granules: the slab's size classes).
  static constexpr std::size_t blockBytes(std::size_t keyLen) noexcept { return (kFixedBytes + keyLen + 7) & ~std::size_t{7}; }

  // Builds an entry in mem (blockBytes(key.size()) bytes, 8-aligned).
  // REQUIRES: key.size() <= kMaxKeyBytes, ns < 32.
  static Entry* construct(void* mem, std::string_view key, Value value, std::uint64_t expiresMs, unsigned ns) {
    Entry* e = new (mem) Entry(std::move(value), key.size(), expiresMs, ns);
    std::memcpy(e->keyData(), key.data(), key.size());
    return e;
  }
  // Runs the destructor (releases the value); the block goes back to the slab.
  static void destroy(Entry* e) noexcept { e->~Entry(); }

  std::string_view key() const noexcept { return {keyData(), keyLen()}; }
  std::size_t keyLen() const noexcept { return static_cast<std::size_t>((meta() >> kKeyShift) & kKeyMask); }
  unsigned ns() const noexcept { return static_cast<unsigned>((meta() >> kNsShift) & 31u); }

  // Milliseconds after the cache's epoch, rounded up; 0 = never expires.
  std::uint64_t expiresMs() const noexcept { return meta() & kMaxExpiryMs; }

  // Policy-owned: which list the entry is on (0..3; a queue marks a removed entry
  // it still links with kRemovedSegment, policy.h). Shard lock held.
  unsigned segment() const noexcept { return static_cast<unsigned>((meta() >> kSegShift) & 3u); }
  void setSegment(unsigned s) noexcept {
    std::uint64_t m = meta_.load(std::memory_order_relaxed);
    while (!meta_.compare_exchange_weak(m, (m & ~(3ull << kSegShift)) | (std::uint64_t{s & 3u} << kSegShift),
                                        std::memory_order_relaxed)) {
    }
  }

  // Hits not yet seen by the policy (saturating). A hit only bumps this: the
  // policy folds it into recency and frequency when the entry reaches a list's end.
  // Lossy by design: two racing hits may count once, and a saturated count is not
  // written at all, so a hot entry's line stays clean in every core's cache.
  unsigned pendingHits() const noexcept { return static_cast<unsigned>(meta() >> kHitShift); }
  void touch() noexcept {
    std::uint64_t m = meta_.load(std::memory_order_relaxed);
    if ((m >> kHitShift) < kMaxPendingHits)
      meta_.compare_exchange_strong(m, m + (std::uint64_t{1} << kHitShift), std::memory_order_relaxed);
  }
  unsigned takePendingHits() noexcept {
    return static_cast<unsigned>(meta_.fetch_and(~(std::uint64_t{31} << kHitShift), std::memory_order_relaxed) >> kHitShift);
  }

 private:
  // meta_: expiry 0..39 | key length 40..51 | namespace 52..56 | segment 57..58 | pending hits 59..63
  static constexpr int kKeyShift = 40;
  static constexpr std::uint64_t kKeyMask = kMaxKeyBytes;
  static constexpr int kNsShift = 52;
  static constexpr int kSegShift = 57;
  static constexpr int kHitShift = 59;

  Entry(Value v, std::size_t keyLen, std::uint64_t expiresMs, unsigned ns) noexcept
      : value(std::move(v)),
        meta_((expiresMs & kMaxExpiryMs) | (std::uint64_t{keyLen} << kKeyShift) | (std::uint64_t{ns & 31u} << kNsShift)) {}
  ~Entry() = default;

  std::uint64_t meta() const noexcept { return meta_.load(std::memory_order_relaxed); }
  char* keyData() noexcept { return key_; }
  const char* keyData() const noexcept { return key_; }

 public:
  Value value;  // immutable once published

 private:
  std::atomic<std::uint64_t> meta_;

 public:
  // A slab handle, owned by the shard's EvictionPolicy (its queue's link, policy.h);
  // nothing else touches it until the policy hands the entry back, after which
  // it chains the shard's queue of retired entries.
  std::uint32_t next = 0;

 private:
  // The key's first bytes (the struct's last 4); the rest follow in the slab block.
  char key_[4];
};

static_assert(Entry::kMaxKeyBytes < (1u << 12));
static_assert(sizeof(Entry) == 32, "28 bytes and the 4 the key starts in");
static_assert(Entry::blockBytes(0) >= sizeof(Entry), "every block holds the whole struct");
static_assert(alignof(Entry) == 8, "slab blocks are 8-aligned");

}  // namespace tier::l1::detail
