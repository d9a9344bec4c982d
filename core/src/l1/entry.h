#pragma once
// One cached item as a shard holds it: a single heap block with the key inline.
// Private to core/src/l1.
//
// Layout (40 bytes + key): the value's shared pointer, the policy's list links,
// and one packed word (expiry, key length, namespace, policy segment, pending
// hits). Everything a hit reads or writes is in the first cache line, which the
// key comparison has just loaded.
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

  // REQUIRES: key.size() <= kMaxKeyBytes, ns < 32.
  static Entry* create(std::string_view key, Value value, std::uint64_t expiresMs, unsigned ns) {
    void* mem = ::operator new(sizeof(Entry) + key.size());
    Entry* e = new (mem) Entry(std::move(value), key.size(), expiresMs, ns);
    std::memcpy(e->keyData(), key.data(), key.size());
    return e;
  }
  static void destroy(Entry* e) noexcept {
    e->~Entry();
    ::operator delete(e);
  }

  std::string_view key() const noexcept { return {keyData(), keyLen()}; }
  std::size_t keyLen() const noexcept { return static_cast<std::size_t>((meta_ >> kKeyShift) & kKeyMask); }
  unsigned ns() const noexcept { return static_cast<unsigned>((meta_ >> kNsShift) & 31u); }

  // Milliseconds after the cache's epoch, rounded up; 0 = never expires.
  std::uint64_t expiresMs() const noexcept { return meta_ & kMaxExpiryMs; }
  void setExpiresMs(std::uint64_t ms) noexcept { meta_ = (meta_ & ~kMaxExpiryMs) | (ms & kMaxExpiryMs); }

  // Policy-owned: which list the entry is on (0..3).
  unsigned segment() const noexcept { return static_cast<unsigned>((meta_ >> kSegShift) & 3u); }
  void setSegment(unsigned s) noexcept { meta_ = (meta_ & ~(3ull << kSegShift)) | (std::uint64_t{s & 3u} << kSegShift); }

  // Hits not yet seen by the policy (saturating). A hit only bumps this: the
  // policy folds it into recency and frequency when the entry reaches a list's end.
  unsigned pendingHits() const noexcept { return static_cast<unsigned>(meta_ >> kHitShift); }
  void touch() noexcept {
    if (pendingHits() < kMaxPendingHits) meta_ += std::uint64_t{1} << kHitShift;
  }
  unsigned takePendingHits() noexcept {
    const unsigned n = pendingHits();
    meta_ &= ~(std::uint64_t{31} << kHitShift);
    return n;
  }

  Value value;
  // Owned by the shard's EvictionPolicy; nothing else touches them.
  Entry* prev = nullptr;
  Entry* next = nullptr;

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

  char* keyData() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* keyData() const noexcept { return reinterpret_cast<const char*>(this + 1); }

  std::uint64_t meta_;
};

static_assert(Entry::kMaxKeyBytes < (1u << 12));
static_assert(sizeof(Entry) == 40, "an entry's fixed part is what the byte overhead budget is built on");

}  // namespace tier::l1::detail
