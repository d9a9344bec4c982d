#include "tier/l1/l1_cache.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <new>
#include <thread>

#include "l1/entry.h"
#include "l1/epoch.h"
#include "l1/policy.h"
#include "l1/tinylfu_policy.h"
#include "l1/slab.h"
#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"

namespace tier::l1 {
namespace {

using detail::Entry;
using detail::EpochDomain;
using detail::EvictionPolicy;

__extension__ using Uint128 = unsigned __int128;  // the table's multiply-shift range reduction

constexpr std::size_t kMaxShards = 1024;
// Namespace ids fit in Entry::ns; id 0 is "other".
constexpr int kMaxNamespaces = 32;

std::int64_t coarseMonotonicNs() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string_view namespaceOf(std::string_view key) noexcept {
  const auto colon = key.find(':');
  return colon == std::string_view::npos ? std::string_view{} : key.substr(0, colon);
}

// Interns namespace names into small ids. Lookups are lock-free: a name is written
// before size_ is published (release) and never changes afterwards.
class NamespaceTable {
 public:
  NamespaceTable() {
    names_[0] = "other";
    int n = 1;
    for (const char* name : {"entry", "session", "user", "stats", "knowledge"}) names_[n++] = name;
    size_.store(n, std::memory_order_release);
  }

  int idOfKey(std::string_view key) {
    const std::string_view ns = namespaceOf(key);
    if (ns.empty()) return 0;
    if (int id = find(ns); id >= 0) return id;
    MutexLock lock(mu_);
    if (int id = find(ns); id >= 0) return id;
    const int n = size_.load(std::memory_order_relaxed);
    if (n >= kMaxNamespaces) return 0;
    names_[n] = std::string(ns);
    size_.store(n + 1, std::memory_order_release);
    return n;
  }

  int size() const noexcept { return size_.load(std::memory_order_acquire); }
  const std::string& name(int id) const noexcept { return names_[id]; }

 private:
  int find(std::string_view ns) const noexcept {
    const int n = size_.load(std::memory_order_acquire);
    for (int i = 1; i < n; ++i)
      if (names_[i] == ns) return i;
    return -1;
  }

  std::array<std::string, kMaxNamespaces> names_;
  std::atomic<int> size_{1};
  Mutex mu_;  // serialises interning only
};

// Hits and misses live in striped counters (see Impl::counts); the rest change under the shard lock.
struct NsCounters {
  std::uint64_t inserts = 0, evictions = 0, expirations = 0, invalidations = 0;
  std::size_t entries = 0, bytes = 0;
};

enum class Removal { Evicted, Expired, Invalidated };

// A shard's open-addressing table (linear probing) of tagged entry handles, read
// without the lock. A slot is 4 bytes: 0 (never used: ends a probe), kTombstone (an
// entry left: probes go on) or the entry's slab handle (slab.h, 28 bits) with 4
// hash bits above it, so a probe decodes and dereferences an entry only when those
// bits match (1 in 16 of the other keys it passes). Written only under the shard
// lock, with seq_cst stores (see epoch.h); a reader decodes a handle through the
// slab's directory, which never moves. It grows by 1.5x (or is rebuilt at the same
// size when tombstones fill it) into a new table, published by swapping the shard's
// pointer; the old one is freed after the grace period.
struct Table {
  std::size_t cap;
  std::size_t pad_;  // keeps the slots 16-aligned

  using Slot = std::uint32_t;
  static constexpr Slot kTombstone = 1;
  static constexpr int kTagShift = detail::Slab::kHandleBits;
  static constexpr Slot kHandleMask = (Slot{1} << kTagShift) - 1;

  std::atomic<Slot>* slots() noexcept { return reinterpret_cast<std::atomic<Slot>*>(this + 1); }

  static Table* make(std::size_t cap) {
    void* mem = std::malloc(sizeof(Table) + cap * sizeof(std::atomic<Slot>));
    if (!mem) throw std::bad_alloc();
    Table* t = new (mem) Table{cap, 0};
    for (std::size_t i = 0; i < cap; ++i) new (&t->slots()[i]) std::atomic<Slot>(0);
    return t;
  }
  static void destroy(Table* t) noexcept { std::free(t); }

  static Slot tagOf(std::uint64_t h) noexcept { return static_cast<Slot>(h & 0xf) << kTagShift; }
  static Slot pack(detail::Handle e, std::uint64_t h) noexcept { return e | tagOf(h); }
  static bool live(Slot v) noexcept { return v > kTombstone; }  // a handle is >= 2 (slab.h)
  static detail::Handle handleOf(Slot v) noexcept { return v & kHandleMask; }

  // First slot of a key's probe. shardBits: the hash's top bits pick the shard, so they are shifted out.
  std::size_t home(std::uint64_t h, int shardBits) const noexcept {
    const std::uint64_t x = h << shardBits;
    return static_cast<std::size_t>((static_cast<Uint128>(x) * cap) >> 64);
  }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // The slot holding key, or npos; *found = its entry, as that one load saw it
  // (without the lock the slot may change right after: use *found, not the slot).
  std::size_t find(std::string_view key, std::uint64_t h, int shardBits, const detail::Slab& slab,
                   Entry** found = nullptr) noexcept {
    const Slot tag = tagOf(h);
    std::size_t i = home(h, shardBits);
    for (std::size_t n = 0; n < cap; ++n) {
      const Slot v = slots()[i].load(std::memory_order_seq_cst);
      if (v == 0) return npos;
      if (live(v) && (v & ~kHandleMask) == tag) {
        Entry* e = static_cast<Entry*>(slab.at(handleOf(v)));
        if (e->key() == key) {
          if (found) *found = e;
          return i;
        }
      }
      if (++i == cap) i = 0;
    }
    return npos;
  }
  // The slot holding the entry with handle e (whose key hashes to h), or npos.
  std::size_t slotOf(detail::Handle e, std::uint64_t h, int shardBits) noexcept {
    std::size_t i = home(h, shardBits);
    for (std::size_t n = 0; n < cap; ++n) {
      const Slot v = slots()[i].load(std::memory_order_relaxed);
      if (v == 0) return npos;
      if (live(v) && handleOf(v) == e) return i;
      if (++i == cap) i = 0;
    }
    return npos;
  }
  // The first free or tombstone slot of h's probe. REQUIRES: the table has a free slot.
  std::size_t freeSlot(std::uint64_t h, int shardBits) noexcept {
    std::size_t i = home(h, shardBits);
    while (live(slots()[i].load(std::memory_order_relaxed)))
      if (++i == cap) i = 0;
    return i;
  }
};

std::size_t chargeOf(std::size_t keyLen, const Value& v) noexcept { return keyLen + v->size() + kEntryOverheadBytes; }

// Entries the policy released, waiting out the readers' grace period, oldest
// first: chained through Entry::next, in batches by the epoch they were retired
// at. A fixed ring of batches, so retiring never allocates: when it is full the
// newest batch takes the later epoch (its older entries then wait a little longer).
struct RetiredEntries {
  struct Batch {
    Entry* first;
    std::uint64_t epoch;
  };
  static constexpr std::size_t kBatches = 16;
  std::array<Batch, kBatches> batches{};
  std::size_t first = 0;  // index of the oldest batch
  std::size_t count = 0;  // batches in use (0 iff no entry waits)
  Entry* head = nullptr;
  Entry* tail = nullptr;
};

struct alignas(64) Shard final : detail::EntryReleaser {
  mutable Mutex mu;
  bool eager = false;  // policy->eagerAccess(), read on every hit (set once, before any use)
  const EpochDomain* epochs = nullptr;  // set once, before any use
  std::unique_ptr<EvictionPolicy> policy TIER_GUARDED_BY(mu);
  std::size_t entries TIER_GUARDED_BY(mu) = 0;  // live slots
  std::size_t used TIER_GUARDED_BY(mu) = 0;     // live + tombstone slots
  std::size_t bytes TIER_GUARDED_BY(mu) = 0;
  std::array<NsCounters, kMaxNamespaces> ns TIER_GUARDED_BY(mu){};
  // Allocation and release under mu; at() (handle -> address) is lock-free for
  // the optimistic readers, so the slab itself is not marked guarded.
  detail::Slab slab;
  // Charges of entries erased but not yet released by the policy (they keep their
  // values alive meanwhile): past a bound, reclaim() has the policy sweep (markedLimit).
  std::size_t markedBytes TIER_GUARDED_BY(mu) = 0;
  // Entries unpublished and released by the policy but maybe still read by a lock-free get.
  RetiredEntries retired TIER_GUARDED_BY(mu);
  std::vector<std::pair<Table*, std::uint64_t>> retiredTables TIER_GUARDED_BY(mu);
  bool tearingDown = false;  // ~Shard: released entries are freed at once
  // Readers load this without the lock: on its own line, away from the mutex.
  alignas(64) std::atomic<Table*> table{nullptr};

  Entry* entryOf(Table::Slot v) const noexcept { return static_cast<Entry*>(slab.at(Table::handleOf(v))); }
  Entry* entryAt(detail::Handle h) const noexcept { return h ? static_cast<Entry*>(slab.at(h)) : nullptr; }

  void freeEntry(Entry* e) noexcept {
    const std::size_t bytes = Entry::blockBytes(e->keyLen());
    Entry::destroy(e);
    slab.release(e, bytes);
  }

  // The policy is only ever called under mu, and it is what calls this.
  TIER_NO_THREAD_SAFETY_ANALYSIS void release(Entry* e) noexcept override {
    if (tearingDown) {
      freeEntry(e);
      return;
    }
    markedBytes -= chargeOf(e->keyLen(), e->value);
    RetiredEntries& r = retired;
    e->next = 0;
    if (r.tail) r.tail->next = slab.handleOf(e); else r.head = e;
    r.tail = e;
    const std::uint64_t now = epochs->current();
    if (r.count == 0) {
      r.batches[r.first] = {e, now};
      r.count = 1;
      return;
    }
    auto& last = r.batches[(r.first + r.count - 1) % RetiredEntries::kBatches];
    if (last.epoch == now) return;
    if (r.count == RetiredEntries::kBatches) {
      last.epoch = now;
      return;
    }
    r.batches[(r.first + r.count) % RetiredEntries::kBatches] = {e, now};
    ++r.count;
  }

  ~Shard() TIER_NO_THREAD_SAFETY_ANALYSIS {
    tearingDown = true;
    if (policy) policy->releaseErased();  // before the live entries go: the sweep reads their links
    if (Table* t = table.load(std::memory_order_relaxed)) {
      for (std::size_t i = 0; i < t->cap; ++i) {
        const Table::Slot v = t->slots()[i].load(std::memory_order_relaxed);
        if (Table::live(v)) freeEntry(entryOf(v));
      }
      Table::destroy(t);
    }
    while (Entry* e = retired.head) {
      retired.head = entryAt(e->next);
      freeEntry(e);
    }
    for (auto& [t, at] : retiredTables) Table::destroy(t);
  }
};

std::size_t resolveShards(const L1Options& o) {
  std::size_t n = o.shards;
  if (n == 0) {
    const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
    n = std::clamp<std::size_t>(std::bit_ceil(hw * 2), 8, 64);
  }
  n = std::bit_ceil(std::min(n, kMaxShards));
  // Every shard needs a non-zero share of the entry bound, else it could never hold anything.
  while (n > 1 && o.max_entries != 0 && o.max_entries / n == 0) n /= 2;
  return n;
}

constexpr std::size_t kFirstTable = 16;

}  // namespace

struct L1Cache::Impl {
  explicit Impl(L1Options o)
      : options(std::move(o)),
        epochs(std::clamp<std::size_t>(std::bit_ceil(std::max(1u, std::thread::hardware_concurrency()) * 4), 4, 64)) {
    if (!detail::isKnownPolicy(options.policy)) detail::makePolicy(options.policy);  // throws BadInputError
    options.shards = resolveShards(options);
    shard_bits = std::countr_zero(options.shards);
    shard_max_entries = options.max_entries / options.shards;
    shard_max_bytes = options.max_bytes / options.shards;
    shards = std::make_unique<Shard[]>(options.shards);
    for (std::size_t i = 0; i < options.shards; ++i) {
      shards[i].epochs = &epochs;
      shards[i].policy = detail::makePolicy(options.policy);
      shards[i].policy->setSlab(&shards[i].slab, &shards[i]);
      shards[i].policy->setCapacity(shard_max_entries);
      shards[i].eager = shards[i].policy->eagerAccess();
      shards[i].table.store(Table::make(kFirstTable), std::memory_order_seq_cst);
    }
    // Per stripe: hits and misses per namespace, then per shard; whole cache lines per stripe.
    count_stride = (2 * kMaxNamespaces + 2 * options.shards + 7) & ~std::size_t{7};
    const std::size_t n = epochs.stripes() * count_stride;
    counts.reset(new (std::align_val_t{64}) std::atomic<std::uint64_t>[n]);
    for (std::size_t i = 0; i < n; ++i) counts[i].store(0, std::memory_order_relaxed);
    epoch_ns = now();
  }

  std::int64_t now() const { return options.now_ns ? options.now_ns() : coarseMonotonicNs(); }
  // Nanoseconds since the cache's epoch (never negative).
  std::int64_t sinceEpoch(std::int64_t t) const noexcept { return std::max<std::int64_t>(t - epoch_ns, 0); }

  // Expiry in whole milliseconds after the epoch, rounded up (so at most 1 ms late); 0 = never.
  std::uint64_t expiresMsFor(std::chrono::milliseconds ttl, std::int64_t t) const noexcept {
    if (ttl.count() == 0) return 0;
    if (static_cast<std::uint64_t>(ttl.count()) >= Entry::kMaxExpiryMs) return Entry::kMaxExpiryMs;
    const auto at = static_cast<std::uint64_t>(sinceEpoch(t)) + static_cast<std::uint64_t>(ttl.count()) * 1'000'000;
    return std::min<std::uint64_t>((at + 999'999) / 1'000'000, Entry::kMaxExpiryMs);
  }

  std::size_t shardIndex(std::uint64_t h) const noexcept {
    // High bits pick the shard; the table uses the bits below them.
    return shard_bits == 0 ? 0 : static_cast<std::size_t>(h >> (64 - shard_bits));
  }
  Shard& shardFor(std::uint64_t h) const noexcept { return shards[shardIndex(h)]; }

  bool expired(const Entry& e, std::int64_t t) const noexcept {
    const std::uint64_t ms = e.expiresMs();
    return ms != 0 && static_cast<std::int64_t>(ms * 1'000'000) <= sinceEpoch(t);
  }

  // Striped hit/miss counters: a get adds to its thread's stripe only.
  void countGet(std::size_t stripe, std::size_t shard, unsigned ns, bool hit) noexcept {
    std::atomic<std::uint64_t>* c = &counts[stripe * count_stride];
    c[2 * ns + (hit ? 0 : 1)].fetch_add(1, std::memory_order_relaxed);
    c[2 * kMaxNamespaces + 2 * shard + (hit ? 0 : 1)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t sumCount(std::size_t index) const noexcept {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < epochs.stripes(); ++i) s += counts[i * count_stride + index].load(std::memory_order_relaxed);
    return s;
  }
  // The shard's cumulative hits and misses (sums the stripes).
  std::pair<std::uint64_t, std::uint64_t> shardHitsMisses(std::size_t shard) const noexcept {
    return {sumCount(2 * kMaxNamespaces + 2 * shard), sumCount(2 * kMaxNamespaces + 2 * shard + 1)};
  }

  Table* tableOf(const Shard& s) const noexcept { return s.table.load(std::memory_order_relaxed); }  // shard lock held

  // REQUIRES: s.mu held. Makes room for one more slot: grows by 1.5x when live
  // entries would pass 60 % of the slots, else drops tombstones at the same size.
  void reserveSlot(Shard& s) TIER_REQUIRES(s.mu) {
    Table* t = tableOf(s);
    if ((s.used + 1) * 5 <= t->cap * 4) return;  // load (tombstones included) stays <= 0.8
    std::size_t cap = t->cap;
    if ((s.entries + 1) * 5 > cap * 3) cap = cap + cap / 2;
    Table* nt = Table::make(cap);
    for (std::size_t i = 0; i < t->cap; ++i) {
      const Table::Slot v = t->slots()[i].load(std::memory_order_relaxed);
      if (!Table::live(v)) continue;
      Entry* e = s.entryOf(v);
      const std::uint64_t h = detail::keyHash(e->key());
      nt->slots()[nt->freeSlot(h, shard_bits)].store(v, std::memory_order_relaxed);
    }
    s.table.store(nt, std::memory_order_seq_cst);  // publishes the slots written above
    s.used = s.entries;
    s.retiredTables.emplace_back(t, epochs.current());
  }

  // Erased entries a policy may keep linked before it must sweep: their values are
  // memory the shard no longer counts. An eighth of the byte bound (else a quarter
  // of what the shard holds), and at least 64 KiB so small shards do not sweep for
  // every few erases. The policy's own count bound (policy.h) applies as well.
  std::size_t markedLimit(const Shard& s) const noexcept TIER_REQUIRES(s.mu) {
    return std::max<std::size_t>(shard_max_bytes != 0 ? shard_max_bytes / 8 : s.bytes / 4, std::size_t{64} << 10);
  }

  // REQUIRES: s.mu held. Frees what no reader can still see.
  void reclaim(Shard& s) noexcept TIER_REQUIRES(s.mu) {
    if (s.markedBytes > markedLimit(s)) s.policy->releaseErased();
    RetiredEntries& r = s.retired;
    if (r.count == 0 && s.retiredTables.empty()) return;
    std::uint64_t now = epochs.current();
    const bool ready = r.count != 0 ? EpochDomain::reclaimable(r.batches[r.first].epoch, now)
                                    : EpochDomain::reclaimable(s.retiredTables.front().second, now);
    if (!ready) now = epochs.tryAdvance();
    while (r.count != 0 && EpochDomain::reclaimable(r.batches[r.first].epoch, now)) {
      Entry* stop = r.count > 1 ? r.batches[(r.first + 1) % RetiredEntries::kBatches].first : nullptr;
      while (r.head != stop) {
        Entry* e = r.head;
        r.head = s.entryAt(e->next);
        s.freeEntry(e);
      }
      if (!r.head) r.tail = nullptr;
      r.first = (r.first + 1) % RetiredEntries::kBatches;
      --r.count;
    }
    std::size_t kept = 0;
    for (auto& rt : s.retiredTables) {
      if (EpochDomain::reclaimable(rt.second, now))
        Table::destroy(rt.first);
      else
        s.retiredTables[kept++] = rt;
    }
    s.retiredTables.resize(kept);
  }

  // REQUIRES: s.mu held and slot holds e. Unpublishes e, then hands it to the
  // policy, which releases it (Shard::release) for freeing after the grace period.
  void remove(Shard& s, std::size_t slot, Entry* e, Removal why) TIER_REQUIRES(s.mu) {
    NsCounters& c = s.ns[e->ns()];
    switch (why) {
      case Removal::Evicted: ++c.evictions; break;
      case Removal::Expired: ++c.expirations; break;
      case Removal::Invalidated: ++c.invalidations; break;
    }
    const std::size_t charge = chargeOf(e->keyLen(), e->value);
    --c.entries;
    c.bytes -= charge;
    --s.entries;
    s.bytes -= charge;
    // Unpublished before the policy may release it: a release records the epoch
    // the grace period counts from, so no reader may find e after it.
    tableOf(s)->slots()[slot].store(Table::kTombstone, std::memory_order_seq_cst);
    s.markedBytes += charge;  // until released (Shard::release)
    s.policy->onErase(e);
  }
  void remove(Shard& s, Entry* e, Removal why) TIER_REQUIRES(s.mu) {
    const std::size_t slot = tableOf(s)->slotOf(s.slab.handleOf(e), detail::keyHash(e->key()), shard_bits);
    if (slot == Table::npos) std::abort();  // the policy named an entry the shard does not hold
    remove(s, slot, e, why);
  }

  // REQUIRES: s.mu held.
  void enforceBounds(Shard& s, std::int64_t t) TIER_REQUIRES(s.mu) {
    while ((shard_max_entries != 0 && s.entries > shard_max_entries) ||
           (shard_max_bytes != 0 && s.bytes > shard_max_bytes)) {
      Entry* v = s.policy->victim();
      if (!v) break;
      remove(s, v, expired(*v, t) ? Removal::Expired : Removal::Evicted);
    }
    // Opportunistic cleanup: the cold end is where untouched (and so likely expired) entries gather.
    for (int i = 0; i < 2; ++i) {
      Entry* v = s.policy->coldest();
      if (!v || !expired(*v, t)) break;
      remove(s, v, Removal::Expired);
    }
  }

  // Removes matching entries from every shard; returns the live ones removed.
  template <typename Pred>
  std::size_t removeWhere(Pred&& pred) {
    std::size_t removed = 0;
    const std::int64_t t = now();
    for (std::size_t i = 0; i < options.shards; ++i) {
      Shard& s = shards[i];
      MutexLock lock(s.mu);
      // One sweep of the policy's queues at the end instead of one per fifth removed
      // (released even if pred throws).
      struct Hold {
        EvictionPolicy& p;
        explicit Hold(EvictionPolicy& policy) : p(policy) { p.holdSweeps(true); }
        ~Hold() { p.holdSweeps(false); }
        Hold(const Hold&) = delete;
        Hold& operator=(const Hold&) = delete;
      };
      {
        Hold hold(*s.policy);
        Table* tab = tableOf(s);
        for (std::size_t k = 0; k < tab->cap; ++k) {
          const Table::Slot v = tab->slots()[k].load(std::memory_order_relaxed);
          if (!Table::live(v)) continue;
          Entry* e = s.entryOf(v);
          if (!pred(e->key())) continue;
          if (expired(*e, t)) {
            remove(s, k, e, Removal::Expired);
          } else {
            remove(s, k, e, Removal::Invalidated);
            ++removed;
          }
        }
      }
      reclaim(s);
    }
    return removed;
  }

  // The get of a shard whose policy wants every hit (exact LRU): under the lock.
  Value getLocked(Shard& s, std::size_t shard, std::string_view key, std::uint64_t h) TIER_EXCLUDES(s.mu) {
    const std::size_t stripe = epochs.stripe();
    MutexLock lock(s.mu);
    Table* t = tableOf(s);
    const std::size_t slot = t->find(key, h, shard_bits, s.slab);
    if (slot == Table::npos) {
      countGet(stripe, shard, static_cast<unsigned>(namespaces.idOfKey(key)), false);
      return nullptr;
    }
    Entry* e = s.entryOf(t->slots()[slot].load(std::memory_order_relaxed));
    if (e->expiresMs() != 0 && expired(*e, now())) {
      countGet(stripe, shard, e->ns(), false);
      remove(s, slot, e, Removal::Expired);
      reclaim(s);
      return nullptr;
    }
    e->touch();
    s.policy->onAccess(e);
    countGet(stripe, shard, e->ns(), true);
    return e->value;
  }

  L1Options options;
  int shard_bits = 0;
  std::size_t shard_max_entries = 0;
  std::size_t shard_max_bytes = 0;
  std::int64_t epoch_ns = 0;
  // Before shards: a shard's teardown must not outlive the epochs it was given.
  EpochDomain epochs;
  std::unique_ptr<Shard[]> shards;
  NamespaceTable namespaces;
  struct AlignedDelete {
    void operator()(std::atomic<std::uint64_t>* p) const noexcept { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::size_t count_stride = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[], AlignedDelete> counts;
};

L1Cache::L1Cache(L1Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
L1Cache::~L1Cache() = default;

const L1Options& L1Cache::options() const noexcept { return impl_->options; }

// The hit path takes no lock and writes no line another thread writes: it enters
// the epoch in its thread's stripe, probes the shard's table with plain loads,
// bumps the entry's access mark unless saturated, and counts in its stripe.
Value L1Cache::get(std::string_view key) {
  Impl& im = *impl_;
  const std::uint64_t h = detail::keyHash(key);
  const std::size_t shard = im.shardIndex(h);
  Shard& s = im.shards[shard];
  if (s.eager) return im.getLocked(s, shard, key, h);
  const std::size_t stripe = im.epochs.stripe();
  Entry* stale = nullptr;
  {
    EpochDomain::Guard guard(im.epochs, stripe);
    Table* t = s.table.load(std::memory_order_seq_cst);
    Entry* e = nullptr;
    if (t->find(key, h, im.shard_bits, s.slab, &e) == Table::npos) {
      im.countGet(stripe, shard, static_cast<unsigned>(im.namespaces.idOfKey(key)), false);
      return nullptr;
    }
    if (e->expiresMs() == 0 || !im.expired(*e, im.now())) {
      e->touch();
      im.countGet(stripe, shard, e->ns(), true);
      return e->value;
    }
    im.countGet(stripe, shard, e->ns(), false);
    stale = e;
  }
  // Expired: dropped under the lock, if no put or erase has replaced it meanwhile
  // (stale is compared as an address only: it may be freed by now).
  MutexLock lock(s.mu);
  Table* t = im.tableOf(s);
  const std::size_t slot = t->find(key, h, im.shard_bits, s.slab);
  if (slot == Table::npos) return nullptr;
  Entry* e = s.entryOf(t->slots()[slot].load(std::memory_order_relaxed));
  if (e == stale && im.expired(*e, im.now())) {
    im.remove(s, slot, e, Removal::Expired);
    im.reclaim(s);
  }
  return nullptr;
}

void L1Cache::put(std::string_view key, Value value, std::chrono::milliseconds ttl) {
  if (!value) throw BadInputError("L1 put: null value");
  if (ttl.count() < 0) throw BadInputError("L1 put: negative TTL");
  Impl& im = *impl_;
  const std::size_t charge = chargeOf(key.size(), value);
  const std::uint64_t h = detail::keyHash(key);
  const int ns = im.namespaces.idOfKey(key);
  const std::int64_t now = im.now();
  const std::uint64_t expires = im.expiresMsFor(ttl, now);
  Shard& s = im.shardFor(h);
  MutexLock lock(s.mu);
  Table* t = im.tableOf(s);
  const std::size_t slot = t->find(key, h, im.shard_bits, s.slab);
  const bool oversize = (im.shard_max_bytes != 0 && charge > im.shard_max_bytes) || key.size() > Entry::kMaxKeyBytes;
  // A full slab (2 GiB of entries in this shard, slab.h) does not admit it either.
  void* mem = oversize ? nullptr : s.slab.allocate(Entry::blockBytes(key.size()));
  if (!mem) {
    if (slot != Table::npos) {
      im.remove(s, slot, s.entryOf(t->slots()[slot].load(std::memory_order_relaxed)), Removal::Evicted);
      im.reclaim(s);
    }
    return;
  }
  NsCounters& c = s.ns[ns];
  const detail::Handle fh = s.slab.handleOf(mem);
  Entry* fresh = Entry::construct(mem, key, std::move(value), expires, static_cast<unsigned>(ns));
  if (slot != Table::npos) {
    // Readers may hold the old entry: publish the new one in its slot and retire the old.
    Entry* old = s.entryOf(t->slots()[slot].load(std::memory_order_relaxed));
    const std::size_t oldCharge = chargeOf(old->keyLen(), old->value);
    t->slots()[slot].store(Table::pack(fh, h), std::memory_order_seq_cst);
    c.bytes += charge - oldCharge;
    s.bytes += charge - oldCharge;
    s.markedBytes += oldCharge;  // until released (Shard::release)
    s.policy->onReplace(old, fresh, h);  // old is released by the policy
  } else {
    try {
      im.reserveSlot(s);
      s.policy->onInsert(fresh, h);  // before it is published: if it throws, nothing changed
    } catch (...) {
      s.freeEntry(fresh);
      throw;
    }
    t = im.tableOf(s);
    const std::size_t at = t->freeSlot(h, im.shard_bits);
    if (t->slots()[at].load(std::memory_order_relaxed) == 0) ++s.used;
    t->slots()[at].store(Table::pack(fh, h), std::memory_order_seq_cst);
    ++c.entries;
    c.bytes += charge;
    ++s.entries;
    s.bytes += charge;
  }
  ++c.inserts;
  // Every 64th put of a namespace: the shard's hit/miss totals for the policy's window climber.
  if ((c.inserts & 63) == 0) {
    const auto [hits, misses] = im.shardHitsMisses(im.shardIndex(h));
    s.policy->onCounts(hits, misses);
  }
  im.enforceBounds(s, now);
  im.reclaim(s);
}

bool L1Cache::contains(std::string_view key) const {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  MutexLock lock(s.mu);
  Table* t = impl_->tableOf(s);
  const std::size_t slot = t->find(key, h, impl_->shard_bits, s.slab);
  return slot != Table::npos &&
         !impl_->expired(*s.entryOf(t->slots()[slot].load(std::memory_order_relaxed)), impl_->now());
}

unsigned L1Cache::accessFrequency(std::string_view key) const {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  MutexLock lock(s.mu);  // the sketch belongs to the policy (shard lock)
  const auto* lfu = dynamic_cast<const detail::TinyLfuPolicy*>(s.policy.get());
  if (!lfu) return 0;
  // A held entry's latest hits are still pending on it (folded into the sketch
  // when it reaches its list's end): they count too.
  Table* t = impl_->tableOf(s);
  const std::size_t slot = t->find(key, h, impl_->shard_bits, s.slab);
  const unsigned pending =
      slot == Table::npos ? 0u : s.entryOf(t->slots()[slot].load(std::memory_order_relaxed))->pendingHits();
  return lfu->frequency(key) + pending;
}

std::chrono::milliseconds L1Cache::ttl(std::string_view key) const {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  MutexLock lock(s.mu);
  Table* t = impl_->tableOf(s);
  const std::size_t slot = t->find(key, h, impl_->shard_bits, s.slab);
  if (slot == Table::npos) return std::chrono::milliseconds(-1);
  const Entry& e = *s.entryOf(t->slots()[slot].load(std::memory_order_relaxed));
  if (e.expiresMs() == 0) return std::chrono::milliseconds(0);
  const std::int64_t left = static_cast<std::int64_t>(e.expiresMs() * 1'000'000) - impl_->sinceEpoch(impl_->now());
  if (left <= 0) return std::chrono::milliseconds(-1);
  // Round up: a live entry must never read as 0 ("no expiry").
  return std::chrono::milliseconds((left + 999'999) / 1'000'000);
}

bool L1Cache::erase(std::string_view key) {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  MutexLock lock(s.mu);
  Table* t = impl_->tableOf(s);
  const std::size_t slot = t->find(key, h, impl_->shard_bits, s.slab);
  if (slot == Table::npos) return false;
  Entry* e = s.entryOf(t->slots()[slot].load(std::memory_order_relaxed));
  const bool live = !impl_->expired(*e, impl_->now());
  impl_->remove(s, slot, e, live ? Removal::Invalidated : Removal::Expired);
  impl_->reclaim(s);
  return live;
}

std::size_t L1Cache::erasePrefix(std::string_view prefix) {
  return impl_->removeWhere([prefix](std::string_view k) { return k.starts_with(prefix); });
}

std::size_t L1Cache::eraseIf(const std::function<bool(std::string_view key)>& predicate) {
  return impl_->removeWhere([&predicate](std::string_view k) { return predicate(k); });
}

void L1Cache::clear() {
  impl_->removeWhere([](std::string_view) { return true; });
}

std::vector<std::string> L1Cache::keys(std::size_t limit) const {
  std::vector<std::string> out;
  const std::int64_t t = impl_->now();
  for (std::size_t i = 0; i < impl_->options.shards && out.size() < limit; ++i) {
    Shard& s = impl_->shards[i];
    MutexLock lock(s.mu);
    Table* tab = impl_->tableOf(s);
    for (std::size_t k = 0; k < tab->cap && out.size() < limit; ++k) {
      const Table::Slot v = tab->slots()[k].load(std::memory_order_relaxed);
      if (!Table::live(v)) continue;
      const Entry* e = s.entryOf(v);
      if (!impl_->expired(*e, t)) out.emplace_back(e->key());
    }
  }
  return out;
}

L1Stats L1Cache::stats() const {
  L1Stats out;
  out.max_entries = impl_->options.max_entries;
  out.max_bytes = impl_->options.max_bytes;
  std::array<NsCounters, kMaxNamespaces> sum{};
  for (std::size_t i = 0; i < impl_->options.shards; ++i) {
    const Shard& s = impl_->shards[i];
    MutexLock lock(s.mu);
    out.entries += s.entries;
    out.bytes += s.bytes;
    for (int n = 0; n < kMaxNamespaces; ++n) {
      const NsCounters& c = s.ns[n];
      NsCounters& t = sum[n];
      t.inserts += c.inserts;
      t.evictions += c.evictions;
      t.expirations += c.expirations;
      t.invalidations += c.invalidations;
      t.entries += c.entries;
      t.bytes += c.bytes;
    }
  }
  const int names = impl_->namespaces.size();
  for (int n = 0; n < names; ++n) {
    const NsCounters& t = sum[n];
    const std::uint64_t hits = impl_->sumCount(2 * static_cast<std::size_t>(n));
    const std::uint64_t misses = impl_->sumCount(2 * static_cast<std::size_t>(n) + 1);
    if (hits + misses + t.inserts + t.evictions + t.expirations + t.invalidations + t.entries == 0) continue;
    NamespaceStats ns;
    ns.ns = impl_->namespaces.name(n);
    ns.hits = hits;
    ns.misses = misses;
    ns.inserts = t.inserts;
    ns.evictions = t.evictions;
    ns.expirations = t.expirations;
    ns.invalidations = t.invalidations;
    ns.entries = t.entries;
    ns.bytes = t.bytes;
    out.namespaces.push_back(std::move(ns));
  }
  std::sort(out.namespaces.begin(), out.namespaces.end(),
            [](const NamespaceStats& a, const NamespaceStats& b) { return a.ns < b.ns; });
  return out;
}

}  // namespace tier::l1
