#pragma once
// Per-shard slab for entry blocks: size classes in 8-byte steps, carved from
// chunks of up to 64 KiB, so an entry costs its bytes rounded to 8 and no malloc
// header or size-class rounding of its own. Freed blocks go to their class's free
// list and are reused by the next entry of that size. Private to core/src/l1.
//
// A block is also named by a 28-bit handle (chunk index << 13 | offset in 8-byte
// granules), which is what the shard's table slots and the policy's queue link
// hold instead of 64-bit addresses. at() turns a handle back into an address
// without a lock: chunks sit in a fixed two-level directory of atomic pointers
// that never moves, a chunk's pointer is stored before any handle into it is
// published (the table's seq_cst stores order it for readers), and chunks are
// freed only with the slab. So a handle stays valid, and at() race-free, for the
// slab's lifetime; whether the block still holds the entry is the epochs' concern.
// Everything else (allocate, release, handleOf) is not thread-safe: one slab per
// shard, used under the shard lock.
//
// Limit: 2^15 chunks of 64 KiB, i.e. 2 GiB of entry blocks per shard; past it
// allocate() returns nullptr (the shard does not admit the entry).
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// Free and not yet carved bytes are poisoned, so ASan still catches a read of a
// freed entry (one past its grace period) although the slab, not malloc, frees it.
#define TIER_SLAB_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TIER_SLAB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TIER_SLAB_POISON(p, n) ((void)(p), (void)(n))
#define TIER_SLAB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace tier::l1::detail {

// 0 = no block; the first two granules of chunk 0 are never handed out, so 1 is free for a tombstone.
using Handle = std::uint32_t;

class Slab {
 public:
  static constexpr int kHandleBits = 28;
  static constexpr int kOffsetBits = 13;  // 8-byte granules in a chunk of <= 64 KiB
  static constexpr std::size_t kMaxChunk = std::size_t{8} << kOffsetBits;  // 64 KiB
  static constexpr std::size_t kMaxChunks = std::size_t{1} << (kHandleBits - kOffsetBits);
  static constexpr std::size_t kMaxBlock = kMaxChunk / 8;  // far above any entry (4095-byte keys)

  Slab() = default;
  Slab(const Slab&) = delete;
  Slab& operator=(const Slab&) = delete;
  ~Slab() {
    for (std::size_t i = 0; i < chunkCount_; ++i) std::free(chunkAt(i));  // free() unpoisons: ASan owns malloc's state
    for (auto& leaf : dir_) delete[] leaf.load(std::memory_order_relaxed);
  }

  // A block of `bytes`, or nullptr if the slab is at its limit. Throws std::bad_alloc.
  // REQUIRES: bytes is a non-zero multiple of 8, <= kMaxBlock.
  void* allocate(std::size_t bytes) {
    const std::size_t cls = bytes / 8;
    if (cls < free_.size() && free_[cls]) {
      void* p = free_[cls];
      TIER_SLAB_UNPOISON(p, bytes);
      free_[cls] = *static_cast<void**>(p);
      return p;
    }
    if (static_cast<std::size_t>(end_ - cur_) < bytes && !refill(bytes)) return nullptr;
    void* p = cur_;
    cur_ += bytes;
    TIER_SLAB_UNPOISON(p, bytes);
    return p;
  }

  // REQUIRES: p came from allocate(bytes) of this slab.
  void release(void* p, std::size_t bytes) noexcept {
    const std::size_t cls = bytes / 8;
    if (cls >= free_.size()) {
      try {
        free_.resize(cls + 1, nullptr);
      } catch (...) {
        return;  // leaked to the chunk until the slab goes; cannot happen past the first free of a class
      }
    }
    TIER_SLAB_UNPOISON(p, bytes);  // a chunk's tail arrives here poisoned
    *static_cast<void**>(p) = free_[cls];
    free_[cls] = p;
    TIER_SLAB_POISON(p, bytes);
  }

  // The block a handle names. Lock-free (see the header comment). REQUIRES: h != 0 came from handleOf.
  void* at(Handle h) const noexcept {
    const std::size_t c = h >> kOffsetBits;
    char* base = dir_[c / kLeaf].load(std::memory_order_relaxed)[c % kLeaf].load(std::memory_order_relaxed);
    return base + (static_cast<std::size_t>(h) & ((std::size_t{1} << kOffsetBits) - 1)) * 8;
  }

  // The handle of a block of this slab (a binary search over the chunks). REQUIRES: p came from allocate.
  Handle handleOf(const void* p) const noexcept {
    const char* q = static_cast<const char*>(p);
    auto it = std::upper_bound(byAddress_.begin(), byAddress_.end(), q,
                               [](const char* a, const std::pair<const char*, Handle>& b) { return a < b.first; });
    --it;  // the last chunk starting at or before q
    return static_cast<Handle>((std::size_t{it->second} << kOffsetBits) | static_cast<std::size_t>(q - it->first) / 8);
  }

 private:
  static constexpr std::size_t kFirstChunk = 4096;  // a small cache stays small
  static constexpr std::size_t kLeaf = 1024;        // chunk pointers per directory leaf
  static_assert(kMaxChunks % kLeaf == 0);

  char* chunkAt(std::size_t i) const noexcept {
    return dir_[i / kLeaf].load(std::memory_order_relaxed)[i % kLeaf].load(std::memory_order_relaxed);
  }

  bool refill(std::size_t bytes) {
    if (chunkCount_ == kMaxChunks) return false;
    if (cur_ != end_) release(cur_, static_cast<std::size_t>(end_ - cur_));  // the tail serves its own size class
    // Chunk 0 skips two granules so that handles 0 and 1 never name a block.
    const std::size_t skip = chunkCount_ == 0 ? 16 : 0;
    const std::size_t size = std::min(std::max(next_, bytes + skip), kMaxChunk);
    auto& leaf = dir_[chunkCount_ / kLeaf];
    if (!leaf.load(std::memory_order_relaxed)) {
      auto fresh = std::make_unique<std::atomic<char*>[]>(kLeaf);  // value-initialised: all null
      leaf.store(fresh.release(), std::memory_order_relaxed);
    }
    byAddress_.reserve(chunkCount_ + 1);
    char* c = static_cast<char*>(std::malloc(size));
    if (!c) throw std::bad_alloc();
    // Readers learn of the chunk only through a handle published by a later seq_cst
    // store (the table slot), which orders this store before their loads.
    leaf.load(std::memory_order_relaxed)[chunkCount_ % kLeaf].store(c, std::memory_order_relaxed);
    byAddress_.insert(std::upper_bound(byAddress_.begin(), byAddress_.end(), std::pair<const char*, Handle>{c, 0},
                                       [](const auto& a, const auto& b) { return a.first < b.first; }),
                      {c, static_cast<Handle>(chunkCount_)});
    ++chunkCount_;
    TIER_SLAB_POISON(c, size);
    cur_ = c + skip;
    end_ = c + size;
    next_ = std::min(next_ * 2, kMaxChunk);
    return true;
  }

  std::vector<void*> free_;  // free list heads by size in 8-byte granules
  // Directory: leaves of chunk pointers, allocated as needed, never moved or freed
  // before the slab. Read by lock-free readers: on lines of its own, away from the
  // fields every put writes.
  alignas(64) std::array<std::atomic<std::atomic<char*>*>, kMaxChunks / kLeaf> dir_{};
  alignas(64) std::size_t chunkCount_ = 0;
  std::vector<std::pair<const char*, Handle>> byAddress_;  // chunks by start address, for handleOf
  char* cur_ = nullptr;
  char* end_ = nullptr;
  std::size_t next_ = kFirstChunk;
};

}  // namespace tier::l1::detail
