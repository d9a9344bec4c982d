#pragma once
// Reading the fleet back: the instances that publish (fleet/publisher.h, or
// any service following docs/fleet-protocol.md), their recent samples and
// the aggregates, for the console and `tierctl fleet`.
//
// Everything read is untrusted: a malformed entry, a key of the wrong type,
// an unsupported version or an oversized value is counted (and the first
// reasons kept) and skipped, never thrown. Reads are bounded: at most
// max_instances ids, and per instance at most the entries the window can
// hold. Blocking (Redis round trips): call from a worker thread.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tier/fleet/wire.h"
#include "tier/metrics/metrics.h"

namespace tier::redis {
class RedisReadView;
}

namespace tier::fleet {

struct ReadOptions {
  // Samples whose end lies within (now - window, now] count.
  std::chrono::seconds window{10};
  // false: the live stream (1 s samples, the last two minutes);
  // true: the history stream (10 s points, up to the retention).
  bool history = false;
  std::chrono::seconds gone_after{10};  // silent longer than this: gone
  std::size_t max_instances = 1000;
  bool keep_samples = false;  // fill InstanceView::samples (charts)
};

struct InstanceView {
  InstanceInfo info;
  bool gone = false;  // last seen more than gone_after ago
  Sample total;       // the window's samples accumulated (counters, histograms; the newest gauges)
  std::size_t sample_count = 0;
  std::vector<Sample> samples;  // oldest first; with keep_samples
  metrics::Snapshot snapshot;   // total as a Snapshot over the window (thresholds, hit rate)
  double ops_per_s = 0;         // reads + writes per second over the samples' span
};

struct FleetView {
  std::int64_t read_at_ms = 0;
  std::chrono::seconds window{0};
  std::vector<InstanceView> instances;         // by application, then id
  Sample total;                                // every instance's window combined
  metrics::Snapshot snapshot;                  // the fleet's aggregate over the window
  std::size_t malformed = 0;                   // entries, hashes or keys skipped
  std::vector<std::string> malformed_reasons;  // the first few, one line each
  std::size_t live_instances() const;
};

// Throws tier::Error only if Redis itself cannot be asked (down, not configured,
// the registry read refused); everything malformed is counted instead.
FleetView readFleet(const redis::RedisReadView& redis, const ReadOptions& options, std::int64_t nowMs);

}  // namespace tier::fleet
