#pragma once
// The invalidation backplane: keeps every instance's L1 coherent through Redis
// pub/sub.
//
// Thread-safety: every method may be called concurrently from any thread. The
// handlers run on the backplane's own subscriber thread, one at a time.
//
// Messages. Each TierCore has a random 64-bit instance id and numbers the
// messages it sends 1, 2, 3... (per sender, in send order: one publisher
// thread sends them, pipelined, on its own hiredis connection — not the pool,
// whose breaker could hold invalidations back after an outage). A message
// names a key, a namespace, a glob pattern or "everything". Writes, deletes
// and invalidations publish one; fills (reads, warming) never do. Messages
// from our own instance id are ignored.
//
// Publishing never blocks or fails the caller: publish() appends to a bounded
// queue (max_queue; overflow drops the message). A failed round trip keeps its
// messages for the retry (every reconnect_min doubling up to 200 ms) and the
// retry starts with a "flush everything"; the failed attempt leaves a hole in
// the sender's sequence. So every receiver either sees the hole or the flush
// and drops its whole L1, and then the keys again.
//
// Receiving. A dedicated hiredis connection (not from the pool) SUBSCRIBEs to
// `channel` and PINGs every `ping_interval`; no answer within `link_timeout`
// (a hung Redis), an I/O error, EOF (restart, CLIENT KILL) or a refused AUTH
// all count as losing the link.
//
// The rule for L1 (what l1Usable() answers):
//  * Link up: L1 serves; copies live at most CachePolicies::l1_max_ttl_linked.
//  * Link down (never confirmed yet, lost, or reconnecting): L1 is bypassed —
//    no lookups, no puts — so no copy older than the link loss, and no copy
//    filled while messages could be missed, is ever served. On losing the link
//    the whole L1 is flushed; on every (re)subscription, once SUBSCRIBE is
//    confirmed, it is flushed again before the link counts as up (a fill that
//    raced the loss cannot survive it). Reconnects back off from
//    reconnect_min doubling to reconnect_max.
//  * A gap in any sender's sequence, or a "flush everything" message: L1 is
//    flushed, the link stays up.
//  * SUBSCRIBE refused by the server's ACL (NOPERM): the backplane cannot work
//    with these credentials; L1 serves with the plain l1_max_ttl cap (30 s),
//    the behaviour without a backplane, and health says "refused".
// The first cache call waits (once, at most first_link_wait) for the first
// subscription attempt, so a fresh instance does not start with L1 bypassed.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tier/redis/redis_client.h"

namespace tier::metrics {
class Metrics;
}

namespace tier::cache {

struct BackplaneOptions {
  bool enabled = true;                              // false: no backplane; L1 capped by l1_max_ttl
  std::string channel = "tc:inval";                 // pub/sub channel (not a key; SELECT does not scope it)
  std::chrono::milliseconds ping_interval{200};     // keepalive PING on the subscriber link
  std::chrono::milliseconds link_timeout{800};      // a PING (or SUBSCRIBE) unanswered this long = link lost
  std::chrono::milliseconds reconnect_min{50};      // first resubscribe delay after a loss
  std::chrono::milliseconds reconnect_max{1000};    // backoff ceiling
  std::chrono::milliseconds first_link_wait{500};   // the first cache call waits this long, once; 0 = no wait
  std::size_t max_queue = 100'000;                  // messages waiting to be published; overflow drops (and flushes peers)
};

// One invalidation on the wire.
struct Invalidation {
  enum class Kind : char { Key = 'K', Namespace = 'N', Pattern = 'P', All = 'A' };
  Kind kind = Kind::Key;
  std::string target;  // key, namespace name, glob; empty for All
  // Key only, not sent: the writer could not replace the key's L2 copy, so the
  // publisher UNLINKs it (on its own connection, before the PUBLISH) — peers
  // must not refill their L1 from the stale L2 value.
  bool unlink_l2 = false;
  // With unlink_l2: if non-empty, the command the publisher runs instead of the
  // UNLINK (a version-guarded SET of a fence, see codec::kFencePayload), so an
  // older fill from another instance cannot land in the emptied key.
  std::vector<std::string> l2_fence_command{};
};

// Wire format (one PUBLISH payload, text):
//   tc1|<instance id, 16 hex>|<seq, decimal>|<sent at, unix ns>|<kind char>|<target...>
// The target is the rest of the payload (it may contain '|').
std::string encodeInvalidation(std::uint64_t instance, std::uint64_t seq, std::int64_t sentUnixNs,
                               const Invalidation& inv);
struct DecodedInvalidation {
  std::uint64_t instance = 0;
  std::uint64_t seq = 0;
  std::int64_t sent_unix_ns = 0;
  Invalidation inv;
};
// False for anything that is not a well-formed message.
bool decodeInvalidation(std::string_view payload, DecodedInvalidation& out);

enum class LinkState { Off, Connecting, Up, Down, Refused };
const char* toString(LinkState s) noexcept;  // off, connecting, up, down, refused

struct BackplaneStats {
  bool enabled = false;
  LinkState link = LinkState::Off;
  std::uint64_t instance_id = 0;
  std::string channel;
  std::uint64_t sent = 0;              // messages Redis accepted (PUBLISH answered)
  std::uint64_t send_failures = 0;     // messages dropped (queue full); their peers flush instead
  std::uint64_t publish_errors = 0;    // failed publish round trips (retried, the batch kept)
  std::uint64_t received = 0;          // messages from other instances applied
  std::uint64_t ignored_own = 0;       // our own messages, echoed back
  std::uint64_t malformed = 0;         // payloads that did not decode
  std::uint64_t gaps = 0;              // sequence holes seen (each flushed L1)
  std::uint64_t flushes = 0;           // whole-L1 flushes (link loss, resubscribe, gap, flush message)
  std::uint64_t link_losses = 0;
  std::uint64_t subscribes = 0;        // successful (re)subscriptions
  std::size_t queued = 0;              // messages waiting to be published
  double last_lag_ms = -1;             // last received message: receive - send wall time; -1 = none yet
  double last_resubscribe_ms = -1;     // last loss -> link up again; -1 = never lost
  std::int64_t link_up_since_unix_ms = 0;  // 0 = not up
  std::string last_error;              // one line, redacted; empty if none
};

class Backplane {
 public:
  struct Handlers {
    std::function<void(const Invalidation&)> apply;  // another instance's message
    std::function<void()> flush;                      // drop every L1 copy and in-flight fill
  };
  // Does not connect: the threads start on the first l1Usable()/publish().
  // `redis` (the shared pool, for PUBLISH) must outlive the backplane.
  // REQUIRES: options.enabled; handlers set.
  Backplane(redis::RedisClient* redis, BackplaneOptions options, Handlers handlers,
            metrics::Metrics* metrics = nullptr);
  // Stops the subscriber and, for at most ~1 s, drains the publish queue (a
  // short-lived CLI's invalidation still reaches the others).
  ~Backplane();
  Backplane(const Backplane&) = delete;
  Backplane& operator=(const Backplane&) = delete;

  // May L1 be used now (see the rule above)? Starts the threads on first use
  // and, that once, waits for the first subscription attempt.
  bool l1Usable();
  // True while subscribed (then L1 copies may live up to l1_max_ttl_linked).
  bool linked() const noexcept;
  // Queues a message; never blocks on the network, never throws.
  void publish(Invalidation inv) noexcept;
  // Waits until every message queued so far was sent or failed (tests, CLI
  // exit). Returns false on timeout.
  bool drain(std::chrono::milliseconds timeout);

  std::uint64_t instanceId() const noexcept;
  BackplaneStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tier::cache
