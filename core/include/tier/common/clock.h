#pragma once
#include <chrono>
#include <cstdint>

namespace tier {
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using Micros = std::chrono::microseconds;
using Nanos = std::chrono::nanoseconds;

// Wall-clock milliseconds since the Unix epoch (for value envelopes, audit).
std::int64_t unixMillisNow() noexcept;
}  // namespace tier
