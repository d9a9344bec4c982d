// NamespaceGenerations (cache/tiered_cache.h): each namespace's generation,
// read from Redis at most every refresh interval, bumped by invalidateNamespace.
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>

#include "cache/scripts.h"
#include "tier/cache/tiered_cache.h"
#include "tier/common/clock.h"
#include "tier/common/error.h"

namespace tier::cache {
namespace {

using codec::Namespace;
using detail::kBumpGeneration;
using detail::kReadGeneration;

std::int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::string randomSeed() {
  std::random_device rd;
  // Leave head room below 2^32 so INCR stays in range for ~2^30 bumps.
  return std::to_string(rd() % (1u << 31));
}

std::uint32_t toGeneration(const std::string& s) {
  return static_cast<std::uint32_t>(std::strtoull(s.c_str(), nullptr, 10));
}

}  // namespace

NamespaceGenerations::NamespaceGenerations(redis::RedisClient* redis, std::chrono::milliseconds refresh)
    : redis_(redis), refresh_(refresh) {}

std::uint32_t NamespaceGenerations::current(Namespace ns) {
  Slot& s = slots_[static_cast<int>(ns)];
  if (!redis_) return s.gen.load(std::memory_order_relaxed);
  const auto now = steadyNowNs();
  const auto at = s.refreshed_at_ns.load(std::memory_order_relaxed);
  if (at >= 0 && now - at < std::chrono::duration_cast<std::chrono::nanoseconds>(refresh_).count())
    return s.gen.load(std::memory_order_acquire);
  // One thread refreshes; the others keep using the value they have.
  bool expected = false;
  if (!s.refreshing.compare_exchange_strong(expected, true)) return s.gen.load(std::memory_order_acquire);
  auto before = s.gen.load();
  try {
    if (redis_->breakerState() != redis::BreakerState::Open) {
      auto r = redis_->command({"EVAL", kReadGeneration, "1", codec::namespaceGenerationKey(ns), randomSeed()});
      if (r.type == redis::Reply::Type::String || r.type == redis::Reply::Type::Status) {
        // Adopt Redis's value as it is (it may have been reset), unless a bump
        // from this instance changed it meanwhile (then that value is newer).
        s.gen.compare_exchange_strong(before, toGeneration(r.str));
        s.refreshed_at_ns.store(now, std::memory_order_relaxed);
      }
    }
  } catch (const Error&) {
    // Redis unreachable or the user may not run scripts: keep the last known value.
  }
  s.refreshing.store(false);
  return s.gen.load(std::memory_order_acquire);
}

std::uint32_t NamespaceGenerations::bump(Namespace ns) {
  Slot& s = slots_[static_cast<int>(ns)];
  if (!redis_) return s.gen.fetch_add(1) + 1;
  auto r = redis_->command({"EVAL", kBumpGeneration, "1", codec::namespaceGenerationKey(ns), randomSeed()});
  if (r.type != redis::Reply::Type::Integer) throw DataError("bumping the namespace generation failed: " + r.str);
  const auto g = static_cast<std::uint32_t>(r.integer);
  s.gen.store(g);
  s.refreshed_at_ns.store(steadyNowNs());
  return g;
}

void NamespaceGenerations::expire() {
  for (auto& s : slots_) s.refreshed_at_ns.store(-1);
}

}  // namespace tier::cache
