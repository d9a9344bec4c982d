#pragma once
// One cached item as a shard holds it. Private to core/src/l1.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tier/l1/l1_cache.h"

namespace tier::l1::detail {

struct Entry {
  std::string key;
  Value value;
  std::uint64_t hash = 0;       // absl::Hash of key; high bits pick the shard
  std::int64_t expires_ns = 0;  // on the cache's monotonic clock; 0 = never
  std::size_t charge = 0;       // key + value + kEntryOverheadBytes
  std::uint8_t ns = 0;          // interned namespace id

  // Owned by the shard's EvictionPolicy (list links, segment tag); nothing else touches them.
  Entry* prev = nullptr;
  Entry* next = nullptr;
  std::uint32_t policy_tag = 0;
};

}  // namespace tier::l1::detail
