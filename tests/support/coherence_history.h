#pragma once
// The history format coherence_peer writes and the check both coherence tests
// (tst_coherence: two instances on one Redis; tst_distributed_coherence: three
// on a Redis Cluster) run over it. Times are CLOCK_MONOTONIC nanoseconds.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tier::test::coherence {

constexpr std::int64_t kMs = 1'000'000;

std::int64_t monoNs();

struct Op {
  int proc = 0;
  std::int64_t id = 0, version = 0, t0 = 0, t1 = 0;
  std::string source;  // reads: the tier that answered (l1, l2, l3; "+stale" if served past its TTL)
};

struct History {
  std::vector<Op> writes, reads;
  std::vector<std::string> errors;
  std::vector<std::map<std::string, std::string>> stats;  // per process, from the S line
};

// Appends process `proc`'s history file (coherence_peer --out) to h.
void load(const std::string& path, int proc, History& h);

struct Verdict {
  std::vector<double> windows_ms;  // per (write, other process): ack -> end of its last stale read (0 if none)
  long stale_after_window = 0;     // reads started > window after another instance's newer ack
  long own_stale = 0;              // reads started after this instance's own newer ack
  // Copies served past their TTL because PostgreSQL failed (CacheRead::stale,
  // counted StaleServed): old by design and marked, so outside the counts above.
  long marked_stale = 0;
  // Reads older than a version this instance had already read (a read that
  // completed before this one started): staleness after the window closed,
  // i.e. a copy coming back once the invalidation had been seen.
  long regressions = 0;
  std::vector<std::int64_t> stale_at;  // start times of the stale reads (every kind)
  double p99_ms = 0, max_ms = 0;
};

double percentile(std::vector<double> v, double q);

// For every read by process P of key k that started at t: stale if some other
// process acknowledged a newer version of k before t - window (or P itself did
// before t), or P had already read a newer one. Every own-stale read and
// regression is described with qInfo (which read, from which tier, after what).
Verdict check(const History& h, double windowMs);

}  // namespace tier::test::coherence
