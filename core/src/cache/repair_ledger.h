#pragma once
// The tiered cache's repair ledger: the keys whose L2 copy may be older than
// what PostgreSQL holds because a write or invalidation did not reach Redis,
// each with the lowest version an L2 copy must have to be served (kNever: no
// L2 copy is). Bounded: past kMaxKeys it stops tracking keys one by one and
// says overflowed (the repair then retires every namespace instead).
//
// Thread-safety: every method may be called concurrently. size() and the
// fast paths of forget()/trusted() are one atomic load while the ledger is
// empty (the common case: nothing on the read path takes the lock).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cache/l1_value.h"
#include "tier/common/thread_annotations.h"

namespace tier::cache::detail {

class RepairLedger {
 public:
  static constexpr std::size_t kMaxKeys = 100'000;

  // An L2 copy of key older than minVersion must not be served (kNever: none may).
  void remember(const std::string& key, std::int64_t minVersion) {
    MutexLock lk(mu_);
    if (keys_.size() >= kMaxKeys && !keys_.count(key)) {
      overflow_ = true;
    } else {
      auto& v = keys_[key];
      v = std::max(v, minVersion);
    }
    publishSize();
  }
  // L2 holds key at version or newer (kNever: L2 has no copy at all); a
  // remembered minimum above that stays.
  void forget(const std::string& key, std::int64_t version = kNever) {
    if (size() == 0) return;
    MutexLock lk(mu_);
    auto it = keys_.find(key);
    if (it == keys_.end() || it->second > version) return;
    keys_.erase(it);
    publishSize();
  }
  // True if an L2 copy of key at version may be served.
  bool trusted(const std::string& key, std::int64_t version) const {
    if (size() == 0) return true;
    MutexLock lk(mu_);
    if (overflow_) return false;
    auto it = keys_.find(key);
    return it == keys_.end() || version >= it->second;
  }
  // Keys waiting; kMaxKeys once overflowed.
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  bool full() const noexcept { return size() >= kMaxKeys; }

  // Up to max keys with their minimum versions, for one repair; empty with
  // overflowed set when the ledger lost track of keys.
  struct Batch {
    bool overflowed = false;
    std::vector<std::pair<std::string, std::int64_t>> keys;
  };
  Batch take(std::size_t max) const {
    Batch b;
    MutexLock lk(mu_);
    b.overflowed = overflow_;
    if (b.overflowed) return b;
    for (const auto& kv : keys_) {
      if (b.keys.size() >= max) break;
      b.keys.push_back(kv);
    }
    return b;
  }
  // The batch's keys are repaired at the versions taken; a key remembered
  // again since at a higher version stays.
  void repaired(const Batch& b) {
    MutexLock lk(mu_);
    for (const auto& [key, version] : b.keys) {
      auto it = keys_.find(key);
      if (it != keys_.end() && it->second <= version) keys_.erase(it);
    }
    publishSize();
  }
  // Everything was retired (after an overflow): start again empty.
  void clear() {
    MutexLock lk(mu_);
    keys_.clear();
    overflow_ = false;
    publishSize();
  }

 private:
  void publishSize() TIER_REQUIRES(mu_) { size_.store(overflow_ ? kMaxKeys : keys_.size()); }

  mutable Mutex mu_;
  std::unordered_map<std::string, std::int64_t> keys_ TIER_GUARDED_BY(mu_);
  bool overflow_ TIER_GUARDED_BY(mu_) = false;
  std::atomic<std::size_t> size_{0};
};

}  // namespace tier::cache::detail
