#pragma once
// Publisher: this process's metrics, published to Redis every interval in the
// fleet protocol (fleet/wire.h, docs/fleet-protocol.md), so that the console
// can chart the whole platform and not only itself.
//
// Thread-safety: all methods may be called from any thread. It runs on its
// own thread and its own Redis connection (pool of 1, the core's timeouts and
// breaker), so publishing never takes a connection a cache read wants and
// never blocks or fails a read or a write: a failed or refused publish (Redis
// down, an ACL without XADD…) is counted, kept as last_error (redacted) and
// tried again at the next interval.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tier/redis/redis_client.h"

namespace tier::metrics {
class Metrics;
}
namespace tier::l1 {
class L1Cache;
}

namespace tier::fleet {

struct PublisherOptions {
  bool enabled = true;                       // CoreConfig: publish whenever Redis is configured
  std::chrono::milliseconds interval{1000};  // live sample interval, >= 100 ms
  // How long an instance's keys outlive its last publish (info, streams) and
  // how much history its 10 s stream keeps; >= 1 min.
  std::chrono::seconds retention{3600};
  std::string app_name = "tier-core";  // shown in the console, e.g. "journal-api"; <= 128 bytes
  std::string instance_id;             // empty = <host>-<pid>-<random>; validInstanceId()
};

struct PublisherStats {
  std::string instance_id;
  std::uint64_t published = 0;  // intervals written
  std::uint64_t failed = 0;     // intervals not written: Redis down, slow, or an error reply
  std::uint64_t refused = 0;    // of those, refused by the ACL (NOPERM)
  std::int64_t last_ok_ms = 0;  // unix ms of the last written interval; 0 = never
  std::string last_error;       // one line, redacted; empty after a success
  std::uint64_t cpu_ns = 0;     // CPU time spent publishing (thread CPU clock, every attempt):
                                // what publishing costs the process, without the noise of a throughput run
};

class Publisher {
 public:
  // Starts the thread. REQUIRES: metrics and l1 outlive the publisher; l1 may be null.
  // Throws BadInputError for an invalid interval, retention, app name or instance id.
  Publisher(redis::RedisOptions redis, metrics::Metrics* metrics, const l1::L1Cache* l1, PublisherOptions options);
  ~Publisher();  // stops the thread (one last publish is not attempted)
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  PublisherStats stats() const;
  const PublisherOptions& options() const noexcept;
  // Publishes one interval now, on the caller's thread (tests); false if it failed.
  bool publishNow();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::fleet
