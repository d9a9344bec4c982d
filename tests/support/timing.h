// Latency targets and sanitizer builds.
//
// ASan makes the core 2-3x slower and TSan 5-15x; a test that checks a
// latency target (ms) there would measure the sanitizer, not the code. Tests
// multiply their latency bounds by timingSlack(): 1 in plain builds (the
// issue's targets, which scripts/reliability reports), larger under a
// sanitizer, where the same scenarios still check correctness (no failed or
// stale reads beyond the stretched window, nothing lost).
#pragma once

namespace tier::test {

#if defined(__SANITIZE_THREAD__)
inline constexpr double kTimingSlack = 10.0;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr double kTimingSlack = 4.0;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr double kTimingSlack = 10.0;
#elif __has_feature(address_sanitizer)
inline constexpr double kTimingSlack = 4.0;
#else
inline constexpr double kTimingSlack = 1.0;
#endif
#else
inline constexpr double kTimingSlack = 1.0;
#endif

inline constexpr double timingSlack() { return kTimingSlack; }

}  // namespace tier::test
