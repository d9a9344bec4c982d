#include "tier/l1/l1_cache.h"

#include <time.h>

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <mutex>
#include <thread>

#include "l1/entry.h"
#include "l1/policy.h"
#include "tier/common/error.h"

namespace tier::l1 {
namespace {

using detail::Entry;
using detail::EvictionPolicy;

constexpr std::size_t kMaxShards = 1024;
// Namespace ids fit in Entry::ns; id 0 is "other".
constexpr int kMaxNamespaces = 32;

// A lookup key: the key and its hash.
struct KeyRef {
  std::string_view key;
  std::uint64_t hash;
};

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
    std::lock_guard lock(mu_);
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
  std::mutex mu_;  // serialises interning only
};

struct NsCounters {
  std::uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0, expirations = 0, invalidations = 0;
  std::size_t entries = 0, bytes = 0;
};

enum class Removal { Evicted, Expired, Invalidated };

// The set holds entry pointers (8 bytes a slot); lookups go by key and the hash
// computed once for shard selection, so a lookup hashes the key once.
struct EntryHash {
  using is_transparent = void;
  std::size_t operator()(const Entry* e) const noexcept { return detail::keyHash(e->key()); }
  std::size_t operator()(const KeyRef& k) const noexcept { return k.hash; }
};
struct EntryEq {
  using is_transparent = void;
  bool operator()(const Entry* a, const Entry* b) const noexcept { return a == b; }
  bool operator()(const Entry* a, const KeyRef& b) const noexcept { return a->key() == b.key; }
  bool operator()(const KeyRef& a, const Entry* b) const noexcept { return a.key == b->key(); }
};

struct alignas(64) Shard {
  mutable std::mutex mu;
  bool eager = false;  // policy->eagerAccess(), read on every hit
  // All below guarded by mu.
  absl::flat_hash_set<Entry*, EntryHash, EntryEq> map;
  std::unique_ptr<EvictionPolicy> policy;
  std::size_t entries = 0;
  std::size_t bytes = 0;
  std::array<NsCounters, kMaxNamespaces> ns{};

  ~Shard() {
    for (Entry* e : map) Entry::destroy(e);
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

std::size_t chargeOf(std::size_t keyLen, const Value& v) noexcept { return keyLen + v->size() + kEntryOverheadBytes; }

}  // namespace

struct L1Cache::Impl {
  explicit Impl(L1Options o) : options(std::move(o)) {
    if (!detail::isKnownPolicy(options.policy)) detail::makePolicy(options.policy);  // throws BadInputError
    options.shards = resolveShards(options);
    shard_bits = std::countr_zero(options.shards);
    shard_max_entries = options.max_entries / options.shards;
    shard_max_bytes = options.max_bytes / options.shards;
    shards = std::make_unique<Shard[]>(options.shards);
    for (std::size_t i = 0; i < options.shards; ++i) {
      shards[i].policy = detail::makePolicy(options.policy);
      shards[i].policy->setCapacity(shard_max_entries);
      shards[i].eager = shards[i].policy->eagerAccess();
    }
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

  Shard& shardFor(std::uint64_t h) const noexcept {
    // High bits pick the shard; the map uses the low bits, so the two stay independent.
    return shards[shard_bits == 0 ? 0 : static_cast<std::size_t>(h >> (64 - shard_bits))];
  }

  bool expired(const Entry& e, std::int64_t t) const noexcept {
    const std::uint64_t ms = e.expiresMs();
    return ms != 0 && static_cast<std::int64_t>(ms * 1'000'000) <= sinceEpoch(t);
  }

  // REQUIRES: s.mu held and e in s. Frees e.
  static void remove(Shard& s, Entry* e, Removal why) {
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
    s.policy->onErase(e);
    s.map.erase(e);
    Entry::destroy(e);
  }

  // REQUIRES: s.mu held.
  void enforceBounds(Shard& s, std::int64_t t) const {
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
      std::lock_guard lock(s.mu);
      for (auto it = s.map.begin(); it != s.map.end();) {
        Entry* e = *it++;  // advance first: remove() erases e's slot (erase never rehashes)
        if (!pred(e->key())) continue;
        if (expired(*e, t)) {
          remove(s, e, Removal::Expired);
        } else {
          remove(s, e, Removal::Invalidated);
          ++removed;
        }
      }
    }
    return removed;
  }

  L1Options options;
  int shard_bits = 0;
  std::size_t shard_max_entries = 0;
  std::size_t shard_max_bytes = 0;
  std::int64_t epoch_ns = 0;
  std::unique_ptr<Shard[]> shards;
  NamespaceTable namespaces;
};

L1Cache::L1Cache(L1Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
L1Cache::~L1Cache() = default;

const L1Options& L1Cache::options() const noexcept { return impl_->options; }

Value L1Cache::get(std::string_view key) {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  std::lock_guard lock(s.mu);
  const auto it = s.map.find(KeyRef{key, h});
  if (it == s.map.end()) {
    ++s.ns[impl_->namespaces.idOfKey(key)].misses;
    return nullptr;
  }
  Entry* e = *it;
  if (e->expiresMs() != 0 && impl_->expired(*e, impl_->now())) {
    ++s.ns[e->ns()].misses;
    Impl::remove(s, e, Removal::Expired);
    return nullptr;
  }
  e->touch();
  if (s.eager) s.policy->onAccess(e);
  ++s.ns[e->ns()].hits;
  return e->value;
}

void L1Cache::put(std::string_view key, Value value, std::chrono::milliseconds ttl) {
  if (!value) throw BadInputError("L1 put: null value");
  if (ttl.count() < 0) throw BadInputError("L1 put: negative TTL");
  const std::size_t charge = chargeOf(key.size(), value);
  const std::uint64_t h = detail::keyHash(key);
  const int ns = impl_->namespaces.idOfKey(key);
  const std::int64_t now = impl_->now();
  const std::uint64_t expires = impl_->expiresMsFor(ttl, now);
  Shard& s = impl_->shardFor(h);
  Value old;  // released after the lock: freeing a large value need not block the shard
  std::lock_guard lock(s.mu);
  auto it = s.map.find(KeyRef{key, h});
  if ((impl_->shard_max_bytes != 0 && charge > impl_->shard_max_bytes) || key.size() > Entry::kMaxKeyBytes) {
    if (it != s.map.end()) Impl::remove(s, *it, Removal::Evicted);
    return;
  }
  NsCounters& c = s.ns[ns];
  if (it != s.map.end()) {
    Entry* e = *it;
    const std::size_t oldCharge = chargeOf(e->keyLen(), e->value);
    old = std::move(e->value);
    e->value = std::move(value);
    c.bytes += charge - oldCharge;
    s.bytes += charge - oldCharge;
    e->setExpiresMs(expires);
    s.policy->onUpdate(e);
  } else {
    Entry* e = Entry::create(key, std::move(value), expires, static_cast<unsigned>(ns));
    s.map.insert(e);
    ++c.entries;
    c.bytes += charge;
    ++s.entries;
    s.bytes += charge;
    s.policy->onInsert(e, h);
  }
  ++c.inserts;
  impl_->enforceBounds(s, now);
}

bool L1Cache::contains(std::string_view key) const {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  std::lock_guard lock(s.mu);
  const auto it = s.map.find(KeyRef{key, h});
  return it != s.map.end() && !impl_->expired(**it, impl_->now());
}

std::chrono::milliseconds L1Cache::ttl(std::string_view key) const {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  std::lock_guard lock(s.mu);
  const auto it = s.map.find(KeyRef{key, h});
  if (it == s.map.end()) return std::chrono::milliseconds(-1);
  const Entry& e = **it;
  if (e.expiresMs() == 0) return std::chrono::milliseconds(0);
  const std::int64_t left = static_cast<std::int64_t>(e.expiresMs() * 1'000'000) - impl_->sinceEpoch(impl_->now());
  if (left <= 0) return std::chrono::milliseconds(-1);
  // Round up: a live entry must never read as 0 ("no expiry").
  return std::chrono::milliseconds((left + 999'999) / 1'000'000);
}

bool L1Cache::erase(std::string_view key) {
  const std::uint64_t h = detail::keyHash(key);
  Shard& s = impl_->shardFor(h);
  std::lock_guard lock(s.mu);
  const auto it = s.map.find(KeyRef{key, h});
  if (it == s.map.end()) return false;
  Entry* e = *it;
  if (impl_->expired(*e, impl_->now())) {
    Impl::remove(s, e, Removal::Expired);
    return false;
  }
  Impl::remove(s, e, Removal::Invalidated);
  return true;
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
    std::lock_guard lock(s.mu);
    for (const Entry* e : s.map) {
      if (out.size() >= limit) break;
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
    std::lock_guard lock(s.mu);
    out.entries += s.entries;
    out.bytes += s.bytes;
    for (int n = 0; n < kMaxNamespaces; ++n) {
      const NsCounters& c = s.ns[n];
      NsCounters& t = sum[n];
      t.hits += c.hits;
      t.misses += c.misses;
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
    if (t.hits + t.misses + t.inserts + t.evictions + t.expirations + t.invalidations + t.entries == 0) continue;
    NamespaceStats ns;
    ns.ns = impl_->namespaces.name(n);
    ns.hits = t.hits;
    ns.misses = t.misses;
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
