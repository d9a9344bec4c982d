#pragma once
// Epoch-based reclamation for L1's lock-free readers. Private to core/src/l1.
//
// A reader enters by counting itself in its stripe's counter for the current
// epoch's parity and leaves by uncounting; it holds no lock and writes only its
// stripe's line (threads are spread over the stripes, so two threads rarely
// share one). A writer that unlinked an object retires it with the epoch read
// after the unlink; it may free it once the epoch is two further on. The epoch
// moves from g to g+1 only when no reader is counted under the parity of g-1, so
// at g+2 no reader that could have seen the object is left. Advancing never
// waits: a writer tries, and frees later if a reader is still inside.
//
// Every operation on the epoch and the counters is seq_cst (no standalone fences:
// ThreadSanitizer does not model them), and so must be the stores that unlink an
// object and the loads with which readers find one.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tier::l1::detail {

class EpochDomain {
 public:
  explicit EpochDomain(std::size_t stripes) : mask_(stripes - 1), stripes_(std::make_unique<Stripe[]>(stripes)) {}

  // This thread's stripe (threads are numbered round-robin, process-wide). REQUIRES: stripes is a power of 2.
  std::size_t stripe() const noexcept { return threadNumber() & mask_; }
  std::size_t stripes() const noexcept { return mask_ + 1; }

  class Guard {
   public:
    Guard(EpochDomain& d, std::size_t stripe) noexcept : d_(d), stripe_(stripe), parity_(d.enter(stripe)) {}
    ~Guard() { d_.stripes_[stripe_].active[parity_].fetch_sub(1, std::memory_order_seq_cst); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    EpochDomain& d_;
    std::size_t stripe_;
    unsigned parity_;
  };

  std::uint64_t current() const noexcept { return epoch_.load(std::memory_order_seq_cst); }
  // Moves the epoch on if no reader is still inside the one before the current; returns the epoch.
  std::uint64_t tryAdvance() noexcept {
    std::uint64_t g = epoch_.load(std::memory_order_seq_cst);
    const unsigned older = static_cast<unsigned>((g + 1) & 1);
    for (std::size_t i = 0; i <= mask_; ++i)
      if (stripes_[i].active[older].load(std::memory_order_seq_cst) != 0) return g;
    if (epoch_.compare_exchange_strong(g, g + 1, std::memory_order_seq_cst)) return g + 1;
    return g;  // another writer advanced it (g now holds the newer value)
  }
  // True when an object retired at `retiredAt` can no longer be seen by any reader.
  static bool reclaimable(std::uint64_t retiredAt, std::uint64_t now) noexcept { return now >= retiredAt + 2; }

 private:
  struct alignas(64) Stripe {
    std::atomic<std::uint64_t> active[2] = {};
  };

  static std::size_t threadNumber() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t n = next.fetch_add(1, std::memory_order_relaxed);
    return n;
  }

  unsigned enter(std::size_t stripe) noexcept {
    for (;;) {
      const std::uint64_t e = epoch_.load(std::memory_order_seq_cst);
      auto& c = stripes_[stripe].active[e & 1];
      c.fetch_add(1, std::memory_order_seq_cst);
      // Counted before the epoch moved on: a writer's tryAdvance sees us. Else retry under the new parity.
      if (epoch_.load(std::memory_order_seq_cst) == e) return static_cast<unsigned>(e & 1);
      c.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  alignas(64) std::atomic<std::uint64_t> epoch_{2};
  std::size_t mask_;
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace tier::l1::detail
