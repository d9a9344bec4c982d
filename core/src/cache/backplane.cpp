#include "tier/cache/backplane.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tier/common/error.h"
#include "tier/common/thread_annotations.h"
#include "tier/metrics/metrics.h"
#include "tier/redis/connection.h"

namespace tier::cache {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The publisher retries at most this far apart: once Redis answers again, the
// flush and the queued invalidations go out within it.
constexpr milliseconds kPublishRetryMax{200};

std::int64_t unixNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t unixNowMs() { return unixNowNs() / 1'000'000; }

std::uint64_t randomInstanceId() {
  std::random_device rd;
  std::uint64_t id = 0;
  while (id == 0) id = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return id;
}

using redis::Connection;
using redis::Reply;

bool isStr(const Reply& r, std::string_view s) {
  return (r.type == Reply::Type::String || r.type == Reply::Type::Status) && r.str == s;
}

}  // namespace

const char* toString(LinkState s) noexcept {
  switch (s) {
    case LinkState::Off: return "off";
    case LinkState::Connecting: return "connecting";
    case LinkState::Up: return "up";
    case LinkState::Down: return "down";
    case LinkState::Refused: return "refused";
  }
  return "?";
}

struct Backplane::Impl {
  redis::RedisClient* redis;
  BackplaneOptions opt;
  Handlers handlers;
  metrics::Metrics* metrics;
  const std::uint64_t instance = randomInstanceId();

  std::once_flag start_once;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  int wake[2] = {-1, -1};  // self-pipe: wakes the subscriber's poll() on stop
  std::thread subscriber;
  std::thread publisher;

  std::atomic<LinkState> link{LinkState::Connecting};
  std::atomic<bool> first_done{false};
  Mutex first_mu;  // for first_cv only: first_done is atomic
  CondVar first_cv;

  // Publisher queue.
  Mutex q_mu;
  CondVar q_cv;        // work arrived / stopping
  CondVar drained_cv;  // queue emptied
  std::deque<Invalidation> queue TIER_GUARDED_BY(q_mu);
  bool announce TIER_GUARDED_BY(q_mu) = false;  // the next batch starts with a "flush everything"
  bool sending TIER_GUARDED_BY(q_mu) = false;   // a batch is on the wire
  std::uint64_t next_seq TIER_GUARDED_BY(q_mu) = 1;
  SteadyClock::time_point drain_deadline TIER_GUARDED_BY(q_mu) = SteadyClock::time_point::max();

  // Subscriber thread only:
  std::unordered_map<std::uint64_t, std::uint64_t> last_seq;
  SteadyClock::time_point lost_at{};
  bool lost_once = false;

  mutable Mutex st_mu;
  BackplaneStats st TIER_GUARDED_BY(st_mu);  // link, queued, instance filled in stats()

  Impl(redis::RedisClient* r, BackplaneOptions o, Handlers h, metrics::Metrics* m)
      : redis(r), opt(std::move(o)), handlers(std::move(h)), metrics(m) {}

  void count(metrics::Counter c, std::uint64_t n = 1) {
    if (metrics) metrics->count(c, n);
  }

  void setError(std::string msg) {
    MutexLock lk(st_mu);
    st.last_error = redactSecrets(msg);
  }

  void start() {
    std::call_once(start_once, [this] {
      if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) wake[0] = wake[1] = -1;
      subscriber = std::thread([this] { subscribeLoop(); });
      publisher = std::thread([this] { publishLoop(); });
      started.store(true, std::memory_order_release);
    });
  }

  void flush() {
    handlers.flush();
    count(metrics::Counter::BackplaneFlush);
    MutexLock lk(st_mu);
    ++st.flushes;
  }

  void firstAttemptDone() {
    if (first_done.load()) return;
    MutexLock lk(first_mu);
    first_done.store(true);
    first_cv.notify_all();
  }

  // ---- connections -------------------------------------------------------

  enum class Wait { Readable, Timeout, Stop };
  // `stoppable`: the subscriber gives up at once on stop; the publisher drains.
  Wait waitReadable(const Connection& c, milliseconds timeout, bool stoppable) {
    pollfd p[2] = {{c.fd(), POLLIN, 0}, {wake[0], POLLIN, 0}};
    const int n = ::poll(p, stoppable && wake[0] >= 0 ? 2 : 1, static_cast<int>(std::max<long>(0, timeout.count())));
    if (stoppable && stopping.load()) return Wait::Stop;
    if (n <= 0) return Wait::Timeout;  // EINTR counts as a timeout: the caller re-checks
    return (p[0].revents & (POLLIN | POLLHUP | POLLERR)) ? Wait::Readable : Wait::Timeout;
  }

  // Reads `n` replies by `deadline`. Empty on success, else why it failed.
  std::optional<std::string> readReplies(Connection& c, std::size_t n, SteadyClock::time_point deadline,
                                         std::vector<Reply>& out, bool stoppable, bool& stopped) {
    while (out.size() < n) {
      Reply r;
      redis::IoFailure failure;
      switch (c.takeBuffered(r, failure)) {
        case Connection::Take::Reply: out.push_back(std::move(r)); continue;
        case Connection::Take::Failed: return failure.message;
        case Connection::Take::NeedMore: break;
      }
      const auto now = SteadyClock::now();
      if (now >= deadline)
        return c.where() + " did not answer within " + std::to_string(opt.link_timeout.count()) + " ms";
      switch (waitReadable(c, std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1), stoppable)) {
        case Wait::Stop: stopped = true; return "stopping";
        case Wait::Timeout: break;
        case Wait::Readable:
          if (auto f = c.readSocket()) return f->message;
          break;
      }
    }
    return std::nullopt;
  }

  // A dedicated connection (never the pool: the pool's breaker must not hold
  // back invalidations), authenticated, named, on the URL's database if `select`.
  // The handshake is redis::Connection's, read here by polling so a stop does
  // not wait for a server that does not answer.
  Connection open(const char* role, bool select, bool stoppable, std::string& why, bool& stopped) {
    const std::string prefix = std::string("backplane ") + role + ": ";
    try {
      // Cluster / Sentinel: a data node (the current master; a cluster
      // broadcasts PUBLISH to every node, so any master serves the channel).
      const redis::RedisUrl url = redis->dataNodeUrl();
      redis::ConnectOptions co;
      co.connect_timeout =
          redis->options().connect_timeout.count() > 0 ? redis->options().connect_timeout : opt.link_timeout;
      co.command_timeout = opt.link_timeout;  // bounds blocking writes; reads are polled
      co.client_name =
          (redis->options().client_name.empty() ? std::string("tierconsole") : redis->options().client_name) + "-" + role;
      co.select_db = select;
      // Sentinel: the node the sentinels named may have been demoted since (a
      // PUBLISH on a replica reaches only that replica's subscribers).
      co.verify_master = redis->mode() == redis::RedisMode::Sentinel;
      Connection c = Connection::connectOnly(url, co);
      const std::size_t n = c.appendHandshake();
      if (auto f = c.flush()) {
        why = prefix + f->message;
        return {};
      }
      std::vector<Reply> replies;
      if (auto err = readReplies(c, n, SteadyClock::now() + opt.link_timeout, replies, stoppable, stopped)) {
        why = prefix + *err;
        return {};
      }
      c.checkHandshake(replies);
      return c;
    } catch (const Error& e) {
      why = prefix + e.what();
      return {};
    }
  }

  // ---- publisher ------------------------------------------------------------

  void publishLoop() {
    milliseconds backoff{0};
    Connection conn;
    for (;;) {
      std::vector<Invalidation> batch;
      bool withAnnounce = false;
      std::uint64_t firstSeq = 0;
      {
        MutexLock lk(q_mu);
        if (backoff.count() > 0) {
          // After a failure: wait before retrying, unless stopping past the deadline.
          const auto retryAt = SteadyClock::now() + backoff;
          while (!(stopping.load() && SteadyClock::now() >= drain_deadline))
            if (!q_cv.waitUntil(q_mu, retryAt)) break;
        } else {
          while (!(stopping.load() || !queue.empty() || announce)) q_cv.wait(q_mu);
        }
        const bool idle = queue.empty() && !announce;
        if (stopping.load() && (idle || SteadyClock::now() >= drain_deadline)) {
          const auto dropped = queue.size();
          queue.clear();
          announce = false;
          if (dropped > 0) {
            count(metrics::Counter::BackplanePublishFailure, dropped);
            MutexLock sl(st_mu);
            st.send_failures += dropped;
          }
          drained_cv.notify_all();
          return;
        }
        if (idle) continue;
        withAnnounce = announce;
        while (!queue.empty() && batch.size() < 1000) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
        firstSeq = next_seq;
        next_seq += batch.size() + (withAnnounce ? 1 : 0);  // a failed batch leaves a hole: peers flush
        sending = true;
      }
      std::string why;
      const bool ok = sendBatch(conn, batch, withAnnounce, firstSeq, why);
      {
        MutexLock lk(q_mu);
        sending = false;
        if (ok) {
          if (withAnnounce) announce = false;
          backoff = milliseconds(0);
        } else {
          announce = true;
          // Kept for the retry (bounded): a peer must still learn the key, and a
          // key whose L2 copy is stale must still be unlinked.
          std::size_t kept = 0;
          for (auto it = batch.rbegin(); it != batch.rend() && queue.size() < opt.max_queue; ++it, ++kept)
            queue.push_front(std::move(*it));
          const auto lost = batch.size() - kept;
          if (lost > 0) {
            count(metrics::Counter::BackplanePublishFailure, lost);
            MutexLock sl(st_mu);
            st.send_failures += lost;
          }
          backoff = backoff.count() == 0 ? opt.reconnect_min : std::min(backoff * 2, kPublishRetryMax);
        }
        if (queue.empty() && !announce) drained_cv.notify_all();
      }
      MutexLock sl(st_mu);
      if (ok) {
        st.sent += batch.size() + (withAnnounce ? 1 : 0);
      } else {
        ++st.publish_errors;
        st.last_error = redactSecrets(why);
      }
    }
  }

  // One pipeline: UNLINK of the keys whose L2 copy the writer could not
  // replace, then one PUBLISH per message (a peer that drops its L1 copy must
  // not refill it from the stale L2 value).
  bool sendBatch(Connection& c, const std::vector<Invalidation>& batch, bool withAnnounce, std::uint64_t seq,
                 std::string& why) {
    bool stopped = false;
    if (!c) {
      c = open("publish", true, false, why, stopped);
      if (!c) return false;
    }
    std::size_t n = 0;
    std::vector<std::string_view> unlinkKeys;
    // A cluster spreads keys over masters and the dedicated link reaches only
    // one: the fences and UNLINKs go through the routed client first (one
    // single-key command each), and only the PUBLISHes use the link.
    if (redis->mode() == redis::RedisMode::Cluster) {
      std::vector<redis::Command> routed;
      for (const auto& inv : batch) {
        if (!inv.unlink_l2 || inv.kind != Invalidation::Kind::Key) continue;
        if (inv.l2_fence_command.empty())
          routed.push_back({"UNLINK", inv.target});
        else
          routed.push_back(inv.l2_fence_command);
      }
      if (!routed.empty()) {
        try {
          for (const auto& r : redis->pipeline(routed))
            if (r.isError()) {
              why = "backplane publish: refused: " + redactSecrets(r.str);
              return false;
            }
        } catch (const Error& e) {
          why = std::string("backplane publish: ") + e.what();
          return false;
        }
      }
    }
    for (const auto& inv : batch) {
      if (redis->mode() == redis::RedisMode::Cluster) break;  // done above
      if (!inv.unlink_l2 || inv.kind != Invalidation::Kind::Key) continue;
      if (inv.l2_fence_command.empty()) {
        unlinkKeys.push_back(inv.target);
        continue;
      }
      c.append(inv.l2_fence_command);
      ++n;
    }
    if (!unlinkKeys.empty()) {
      unlinkKeys.insert(unlinkKeys.begin(), "UNLINK");
      c.append(unlinkKeys);
      ++n;
    }
    const std::int64_t now = unixNowNs();
    if (withAnnounce) {
      c.append({"PUBLISH", opt.channel, encodeInvalidation(instance, seq++, now, Invalidation{Invalidation::Kind::All, {}})});
      ++n;
    }
    for (const auto& inv : batch) {
      c.append({"PUBLISH", opt.channel, encodeInvalidation(instance, seq++, now, inv)});
      ++n;
    }
    std::vector<Reply> replies;
    std::optional<std::string> err;
    if (auto f = c.flush())
      err = f->message;
    else
      err = readReplies(c, n, SteadyClock::now() + opt.link_timeout, replies, false, stopped);
    if (err) {
      why = "backplane publish: " + *err;
      c = Connection();  // its reply stream is out of sync
      return false;
    }
    for (const auto& r : replies)
      if (r.isError()) {
        why = "backplane publish: refused: " + redactSecrets(r.str);
        return false;  // an ACL refusal: the stream is in sync, keep the connection
      }
    return true;
  }

  void enqueue(Invalidation inv) noexcept {
    try {
      start();
      {
        MutexLock lk(q_mu);
        if (stopping.load()) return;
        if (queue.size() >= opt.max_queue) {
          announce = true;  // the lost message becomes a flush for everyone
        } else {
          queue.push_back(std::move(inv));
          q_cv.notify_one();
          return;
        }
        q_cv.notify_one();
      }
      count(metrics::Counter::BackplanePublishFailure);
      MutexLock sl(st_mu);
      ++st.send_failures;
    } catch (...) {
      // Out of memory or thread creation failure: a write must not fail for this.
      count(metrics::Counter::BackplanePublishFailure);
    }
  }

  // ---- subscriber -----------------------------------------------------------

  // Waits for `ms` or until stopping; true if stopping.
  bool sleepOrStop(milliseconds ms) {
    pollfd p{wake[0], POLLIN, 0};
    const int n = ::poll(&p, wake[0] >= 0 ? 1 : 0, static_cast<int>(ms.count()));
    (void)n;
    return stopping.load();
  }

  enum class Outcome { Stopped, Lost, Refused };

  void subscribeLoop() {
    milliseconds backoff{0};
    while (!stopping.load()) {
      if (backoff.count() > 0 && sleepOrStop(backoff)) break;
      std::string why;
      const Outcome o = session(why);
      if (o == Outcome::Stopped) break;
      const bool wasUp = link.load() == LinkState::Up;
      if (wasUp) {
        link.store(LinkState::Down);
        lost_at = SteadyClock::now();
        lost_once = true;
        {
          MutexLock lk(st_mu);
          ++st.link_losses;
          st.link_up_since_unix_ms = 0;
        }
        flush();  // nothing learnt from now on: no copy from before may be served
      }
      setError(why);
      if (o == Outcome::Refused) {
        link.store(LinkState::Refused);
        backoff = opt.reconnect_max;
      } else {
        if (link.load() != LinkState::Refused || wasUp) link.store(LinkState::Down);
        backoff = wasUp ? opt.reconnect_min : (backoff.count() == 0 ? opt.reconnect_min
                                                                    : std::min(backoff * 2, opt.reconnect_max));
      }
      firstAttemptDone();
    }
    link.store(LinkState::Off);
  }

  // One connection's life: connect, AUTH, SUBSCRIBE, then messages and PINGs
  // until something breaks.
  Outcome session(std::string& why) {
    const auto where = redis->options().url.endpoint();
    bool stopped = false;
    Connection c = open("inval", false, true, why, stopped);
    if (stopped) return Outcome::Stopped;
    if (!c) return Outcome::Lost;
    c.append({"SUBSCRIBE", opt.channel});
    std::vector<Reply> replies;
    if (auto f = c.flush()) {
      why = "backplane: " + f->message;
      return Outcome::Lost;
    }
    if (auto err = readReplies(c, 1, SteadyClock::now() + opt.link_timeout, replies, true, stopped)) {
      if (stopped) return Outcome::Stopped;
      why = "backplane: SUBSCRIBE: " + *err;
      return Outcome::Lost;
    }
    const Reply& r = replies[0];
    if (r.isError()) {
      const std::string text = redactSecrets(r.str);
      why = "backplane: SUBSCRIBE " + opt.channel + " refused at " + where + ": " + text;
      return text.rfind("NOPERM", 0) == 0 ? Outcome::Refused : Outcome::Lost;
    }
    if (r.type != Reply::Type::Array || r.elements.empty() || !isStr(r.elements[0], "subscribe")) {
      why = "backplane: unexpected reply to SUBSCRIBE from " + where;
      return Outcome::Lost;
    }

    // Subscribed: what L1 holds may have missed messages until now.
    last_seq.clear();
    flush();
    {
      MutexLock lk(st_mu);
      ++st.subscribes;
      st.link_up_since_unix_ms = unixNowMs();
      if (lost_once) st.last_resubscribe_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - lost_at).count();
      st.last_error.clear();
    }
    link.store(LinkState::Up);
    firstAttemptDone();

    auto nextPing = SteadyClock::now() + opt.ping_interval;
    bool pingOutstanding = false;
    SteadyClock::time_point pingSent{};
    for (;;) {
      // Every complete reply already buffered.
      for (;;) {
        Reply m;
        redis::IoFailure failure;
        const auto took = c.takeBuffered(m, failure);
        if (took == Connection::Take::Failed) {
          why = "backplane: " + failure.message;
          return Outcome::Lost;
        }
        if (took == Connection::Take::NeedMore) break;
        if (m.isError()) {
          why = "backplane: error from " + where + ": " + redactSecrets(m.str);
          return Outcome::Lost;
        }
        if (m.type != Reply::Type::Array || m.elements.empty()) continue;
        if (isStr(m.elements[0], "pong")) {
          pingOutstanding = false;
        } else if (isStr(m.elements[0], "message") && m.elements.size() >= 3 &&
                   m.elements[2].type == Reply::Type::String) {
          onMessage(m.elements[2].str);
        }
      }
      auto now = SteadyClock::now();
      if (pingOutstanding && now - pingSent >= opt.link_timeout) {
        why = "backplane: " + where + " did not answer PING within " + std::to_string(opt.link_timeout.count()) +
              " ms";
        return Outcome::Lost;
      }
      if (!pingOutstanding && now >= nextPing) {
        c.append({"PING"});
        if (auto f = c.flush()) {
          why = "backplane: " + f->message;
          return Outcome::Lost;
        }
        pingOutstanding = true;
        pingSent = now;
        nextPing = now + opt.ping_interval;
      }
      const auto until = pingOutstanding ? pingSent + opt.link_timeout : nextPing;
      const auto wait = std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1));
      switch (waitReadable(c, wait, true)) {
        case Wait::Stop: return Outcome::Stopped;
        case Wait::Timeout: break;
        case Wait::Readable:
          if (auto f = c.readSocket()) {
            why = "backplane: " + f->message;
            return Outcome::Lost;
          }
          break;
      }
    }
  }

  void onMessage(std::string_view payload) {
    DecodedInvalidation m;
    if (!decodeInvalidation(payload, m)) {
      MutexLock lk(st_mu);
      ++st.malformed;
      return;
    }
    if (m.instance == instance) {
      MutexLock lk(st_mu);
      ++st.ignored_own;
      return;
    }
    bool gap = false;
    auto it = last_seq.find(m.instance);
    if (it != last_seq.end() && m.seq != it->second + 1) gap = true;
    if (last_seq.size() >= 100'000 && it == last_seq.end()) {
      last_seq.clear();  // a flood of one-shot senders: forget them (the flush below covers it)
      gap = true;
    }
    last_seq[m.instance] = m.seq;
    if (gap || m.inv.kind == Invalidation::Kind::All)
      flush();
    else
      handlers.apply(m.inv);
    // Counted after the action, in one step: whoever sees the gap or the
    // message counted also sees its flush done (a test waits on these).
    MutexLock lk(st_mu);
    if (gap) ++st.gaps;
    ++st.received;
    st.last_lag_ms = static_cast<double>(unixNowNs() - m.sent_unix_ns) / 1e6;
  }
};

Backplane::Backplane(redis::RedisClient* redis, BackplaneOptions options, Handlers handlers, metrics::Metrics* metrics)
    : impl_(std::make_unique<Impl>(redis, std::move(options), std::move(handlers), metrics)) {
  if (!redis) throw BadInputError("the invalidation backplane needs Redis");
  if (!impl_->handlers.apply || !impl_->handlers.flush) throw BadInputError("backplane handlers not set");
  if (impl_->opt.channel.empty()) throw BadInputError("backplane channel must not be empty");
  if (impl_->opt.ping_interval.count() <= 0 || impl_->opt.link_timeout.count() <= 0)
    throw BadInputError("backplane ping interval and link timeout must be positive");
  if (impl_->opt.reconnect_max < impl_->opt.reconnect_min) impl_->opt.reconnect_max = impl_->opt.reconnect_min;
  if (impl_->opt.reconnect_min.count() <= 0) impl_->opt.reconnect_min = milliseconds(1);
}

Backplane::~Backplane() {
  auto& d = *impl_;
  if (!d.started.load()) return;
  {
    MutexLock lk(d.q_mu);
    d.drain_deadline = SteadyClock::now() + milliseconds(1000);
    d.stopping.store(true);
    d.q_cv.notify_all();
  }
  if (d.wake[1] >= 0) {
    const char b = 1;
    [[maybe_unused]] auto n = ::write(d.wake[1], &b, 1);
  }
  d.subscriber.join();
  d.publisher.join();
  for (int fd : d.wake)
    if (fd >= 0) ::close(fd);
}

bool Backplane::l1Usable() {
  auto& d = *impl_;
  if (!d.started.load(std::memory_order_acquire)) d.start();
  if (!d.first_done.load(std::memory_order_acquire) && d.opt.first_link_wait.count() > 0) {
    MutexLock lk(d.first_mu);
    const auto until = SteadyClock::now() + d.opt.first_link_wait;
    while (!d.first_done.load())
      if (!d.first_cv.waitUntil(d.first_mu, until)) {
        d.first_done.store(true);  // waited once; from now on nobody waits
        break;
      }
  }
  const auto s = d.link.load(std::memory_order_acquire);
  return s == LinkState::Up || s == LinkState::Refused;
}

bool Backplane::linked() const noexcept { return impl_->link.load(std::memory_order_acquire) == LinkState::Up; }

void Backplane::publish(Invalidation inv) noexcept { impl_->enqueue(std::move(inv)); }

bool Backplane::drain(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  MutexLock lk(d.q_mu);
  const auto until = SteadyClock::now() + timeout;
  for (;;) {
    if (d.queue.empty() && !d.sending && !d.announce) return true;
    if (!d.drained_cv.waitUntil(d.q_mu, until)) return d.queue.empty() && !d.sending && !d.announce;
  }
}

std::uint64_t Backplane::instanceId() const noexcept { return impl_->instance; }

BackplaneStats Backplane::stats() const {
  auto& d = *impl_;
  BackplaneStats s;
  {
    MutexLock lk(d.st_mu);
    s = d.st;
  }
  s.enabled = true;
  s.instance_id = d.instance;
  s.channel = d.opt.channel;
  s.link = d.started.load() ? d.link.load() : LinkState::Connecting;
  {
    MutexLock lk(d.q_mu);
    s.queued = d.queue.size();
  }
  return s;
}

}  // namespace tier::cache
