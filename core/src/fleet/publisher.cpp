#include "tier/fleet/publisher.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/fleet/wire.h"
#include "tier/l1/l1_cache.h"
#include "tier/metrics/metrics.h"

namespace tier::fleet {
namespace {

constexpr std::int64_t kLiveKeepMs = 120'000;  // the live stream: the last two minutes
// A sample never claims a longer interval than the protocol allows (Redis down for an hour).
constexpr std::int64_t kMaxIntervalMs = 3'600'000;

std::string hostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return {};
  return host;
}

// <host>-<pid>-<8 hex>, the host cut to 40 characters allowed in an id.
std::string defaultInstanceId() {
  std::string h;
  for (char c : hostName()) {
    if (h.size() >= 40) break;
    h += isInstanceIdChar(c) ? c : '_';
  }
  if (h.empty()) h = "host";
  std::random_device rd;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return h + "-" + std::to_string(::getpid()) + "-" + suffix;
}

void appendFields(redis::Command& cmd, const std::vector<std::pair<std::string, std::string>>& fields) {
  for (const auto& [k, v] : fields) {
    cmd.push_back(k);
    cmd.push_back(v);
  }
}

}  // namespace

struct Publisher::Impl {
  PublisherOptions opts;
  redis::RedisClient client;
  metrics::Metrics* metrics;
  const l1::L1Cache* l1;
  InstanceInfo info;

  Mutex publish_mu;  // one publish at a time (thread and publishNow)
  metrics::RawTotals prev TIER_GUARDED_BY(publish_mu);
  std::uint64_t prev_evictions TIER_GUARDED_BY(publish_mu) = 0;
  std::int64_t prev_ms TIER_GUARDED_BY(publish_mu) = 0;
  Sample history TIER_GUARDED_BY(publish_mu);  // the 10 s point being built
  std::int64_t history_start_ms TIER_GUARDED_BY(publish_mu) = 0;

  mutable Mutex stats_mu;
  PublisherStats stats TIER_GUARDED_BY(stats_mu);

  Mutex wake_mu;
  CondVar wake;
  bool stopping TIER_GUARDED_BY(wake_mu) = false;
  std::thread thread;

  static redis::RedisOptions clientOptions(redis::RedisOptions o) {
    o.pool_size = 1;
    o.client_name = "tier-fleet";
    return o;
  }

  Impl(redis::RedisOptions r, metrics::Metrics* m, const l1::L1Cache* c, PublisherOptions o)
      : opts(std::move(o)), client(clientOptions(std::move(r))), metrics(m), l1(c) {}

  // This interval's sample: lifetime totals less the last published ones; `l1Stats` = L1 now (null: no L1).
  Sample take(const metrics::RawTotals& now, const l1::L1Stats* l1Stats, std::uint64_t evictions,
              std::int64_t nowMs) const TIER_REQUIRES(publish_mu) {
    Sample s;
    s.t_ms = nowMs;
    s.dt_ms = std::clamp<std::int64_t>(nowMs - prev_ms, 1, kMaxIntervalMs);
    for (int c = 0; c < kCounters; ++c) s.counters[c] = now.counters[c] - std::min(now.counters[c], prev.counters[c]);
    s.l1_evictions = evictions - std::min(evictions, prev_evictions);
    if (l1Stats) {
      s.l1_bytes = l1Stats->bytes;
      s.l1_entries = l1Stats->entries;
    }
    for (int o = 0; o < kOps; ++o) {
      const auto& a = now.ops[o];
      const auto& b = prev.ops[o];
      auto& d = s.ops[o];
      int highest = -1;
      for (int k = 0; k < metrics::kHistogramBuckets; ++k) {
        d.buckets[k] = a.buckets[k] - std::min(a.buckets[k], b.buckets[k]);
        if (d.buckets[k]) highest = k;
      }
      if (highest < 0) continue;
      d.sum_ns = a.sum_ns - std::min(a.sum_ns, b.sum_ns);
      // The interval's own maximum is not kept; its highest bucket bounds it.
      d.max_ns = std::min(metrics::histogramBucketUpperNs(highest), std::max<std::uint64_t>(a.max_ns, 1));
    }
    return s;
  }

  static std::uint64_t threadCpuNs() noexcept {
    timespec ts{};
    if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
  }

  bool publishOnce() {
    const std::uint64_t cpu0 = threadCpuNs();
    MutexLock lk(publish_mu);
    const bool ok = publishLocked();
    const std::uint64_t cpu1 = threadCpuNs();
    MutexLock sl(stats_mu);
    stats.cpu_ns += cpu1 - std::min(cpu0, cpu1);
    return ok;
  }

  // REQUIRES: publish_mu held.
  bool publishLocked() TIER_REQUIRES(publish_mu) {
    const std::int64_t nowMs = unixMillisNow();
    const metrics::RawTotals totals = metrics->totals();
    // One look at L1 per publish: its gauges and its lifetime evictions (summed over namespaces).
    std::optional<l1::L1Stats> l1Stats;
    std::uint64_t evictions = 0;
    if (l1) {
      l1Stats = l1->stats();
      for (const auto& ns : l1Stats->namespaces) evictions += ns.evictions;
    }
    const Sample s = take(totals, l1Stats ? &*l1Stats : nullptr, evictions, nowMs);
    Sample hist = history;
    std::int64_t histStart = history_start_ms == 0 ? nowMs - s.dt_ms : history_start_ms;
    if (history_start_ms == 0) hist = Sample{};
    hist.accumulate(s);
    const bool flushHistory = nowMs - histStart >= kHistoryIntervalMs;

    info.last_seen_ms = nowMs;
    const std::string retentionMs =
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(opts.retention).count());
    const std::string liveLen = std::to_string(std::max<std::int64_t>(10, kLiveKeepMs / opts.interval.count()));
    const std::string histLen = std::to_string(std::max<std::int64_t>(
        6, std::chrono::duration_cast<std::chrono::milliseconds>(opts.retention).count() / kHistoryIntervalMs));
    std::vector<redis::Command> cmds;
    redis::Command live{"XADD", liveKey(info.id), "MAXLEN", "~", liveLen, "*"};
    appendFields(live, encodeSample(s));
    cmds.push_back(std::move(live));
    if (flushHistory) {
      redis::Command h{"XADD", historyKey(info.id), "MAXLEN", "~", histLen, "*"};
      appendFields(h, encodeSample(hist));
      cmds.push_back(std::move(h));
    }
    redis::Command hset{"HSET", infoKey(info.id)};
    appendFields(hset, encodeInfo(info));
    cmds.push_back(std::move(hset));
    for (const auto& k : {infoKey(info.id), liveKey(info.id), historyKey(info.id)})
      cmds.push_back({"PEXPIRE", k, retentionMs});
    cmds.push_back({"ZADD", registryKey(), std::to_string(nowMs), info.id});
    cmds.push_back(
        {"ZREMRANGEBYSCORE", registryKey(), "-inf",
         "(" + std::to_string(nowMs - std::chrono::duration_cast<std::chrono::milliseconds>(opts.retention).count())});
    std::string error;
    bool refused = false;
    try {
      for (const auto& r : client.pipeline(cmds)) {
        if (!r.isError()) continue;
        if (r.str.rfind("NOPERM", 0) == 0) refused = true;
        if (error.empty()) error = r.str;
      }
    } catch (const PermissionError& e) {
      refused = true;
      error = e.what();
    } catch (const Error& e) {
      error = e.what();
    }
    MutexLock sl(stats_mu);
    if (!error.empty()) {
      ++stats.failed;
      if (refused) ++stats.refused;
      stats.last_error = redactSecrets(error);
      return false;  // the deltas carry over to the next interval
    }
    prev = totals;
    prev_evictions = evictions;
    prev_ms = nowMs;
    if (flushHistory) {
      history = Sample{};
      history_start_ms = nowMs;
    } else {
      history = hist;
      history_start_ms = histStart;
    }
    ++stats.published;
    stats.last_ok_ms = nowMs;
    stats.last_error.clear();
    return true;
  }

  void run() {
    MutexLock lk(wake_mu);
    while (!stopping) {
      const auto until = std::chrono::steady_clock::now() + opts.interval;
      while (!stopping)
        if (!wake.waitUntil(wake_mu, until)) break;
      if (stopping) break;
      lk.unlock();
      publishOnce();
      lk.lock();
    }
  }
};

Publisher::Publisher(redis::RedisOptions redis, metrics::Metrics* metrics, const l1::L1Cache* l1,
                     PublisherOptions options) {
  if (options.interval < std::chrono::milliseconds(100) || options.interval > std::chrono::minutes(1))
    throw BadInputError("metrics publish interval must be between 100 ms and 60 s");
  if (options.retention < std::chrono::minutes(1) || options.retention > std::chrono::hours(24 * 7))
    throw BadInputError("metrics retention must be between 1 minute and 7 days");
  if (options.app_name.empty() || options.app_name.size() > 128)
    throw BadInputError("application name must be 1 to 128 bytes");
  if (options.instance_id.empty()) options.instance_id = defaultInstanceId();
  if (!validInstanceId(options.instance_id))
    throw BadInputError("instance id must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
  if (!metrics) throw BadInputError("the publisher needs the metrics it publishes");
  impl_ = std::make_unique<Impl>(std::move(redis), metrics, l1, std::move(options));
  auto& d = *impl_;
  d.info.version = kProtocolVersion;
  d.info.id = d.opts.instance_id;
  d.info.app = d.opts.app_name;
  d.info.host = hostName().substr(0, 255);
  d.info.pid = ::getpid();
  d.info.core_version = TIER_VERSION;
  d.info.started_at_ms = unixMillisNow();
  d.info.interval_ms = d.opts.interval.count();
  d.stats.instance_id = d.info.id;
  d.prev_ms = d.info.started_at_ms;  // the first sample counts everything since the core started
  d.thread = std::thread([&d] { d.run(); });
}

Publisher::~Publisher() {
  {
    MutexLock lk(impl_->wake_mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

PublisherStats Publisher::stats() const {
  MutexLock lk(impl_->stats_mu);
  return impl_->stats;
}

const PublisherOptions& Publisher::options() const noexcept {
  return impl_->opts;
}

bool Publisher::publishNow() {
  return impl_->publishOnce();
}

}  // namespace tier::fleet
