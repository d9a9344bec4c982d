// RedisClient behind Redis Sentinel (client_impl.h): the master is asked of
// the sentinels (each in turn, SENTINEL get-master-addr-by-name), re-asked
// every 2 s and at once on a network failure or a READONLY reply; a call is
// retried once on the new master when the answer changed (a failover).
#include <algorithm>
#include <charconv>
#include <thread>

#include "redis/client_impl.h"

namespace tier::redis {
namespace {

using client_detail::isNetwork;
using client_detail::kSentinelResolveEvery;
using client_detail::kSentinelResolveMinGap;
using cluster::parseAddress;

}  // namespace

RedisNodePool* RedisClient::Impl::sentinelMaster(bool force) {
  {
    ReaderLock sl(map_mu);
    const auto age = Clock::now() - resolved_at;
    if (master && age < (force ? kSentinelResolveMinGap : kSentinelResolveEvery)) return master;
  }
  bool have;
  {
    ReaderLock sl(map_mu);
    have = master != nullptr;
  }
  const bool waitForOthers = !have || force;
  if (waitForOthers) {
    resolve_mu.lock();
  } else if (!resolve_mu.try_lock()) {
    ReaderLock sl(map_mu);
    return master;
  }
  MutexLock lk(resolve_mu, std::adopt_lock);
  if (waitForOthers) {
    ReaderLock sl(map_mu);
    if (master && Clock::now() - resolved_at < kSentinelResolveMinGap) return master;
  }
  const auto& sentinels = opt.url.seeds;
  std::string lastError = "no sentinel given";
  std::size_t denied = 0;
  std::size_t start;
  {
    ReaderLock sl(map_mu);
    start = good_sentinel;
  }
  for (std::size_t k = 0; k < sentinels.size(); ++k) {
    const std::size_t i = (start + k) % sentinels.size();
    RedisNodePool* s = sentinelNode(sentinels[i]);
    try {
      Batch b;
      b.add({"SENTINEL", "get-master-addr-by-name", opt.url.master_name});
      auto r = s->execute(b, "SENTINEL get-master-addr-by-name");
      const Reply& a = r.at(0);
      if (a.isNil()) {
        lastError = "sentinel " + sentinels[i].endpoint() + " does not know master '" + opt.url.master_name + "'";
        continue;
      }
      if (a.type != Reply::Type::Array || a.elements.size() != 2) {
        lastError = "sentinel " + sentinels[i].endpoint() + ": " +
                    (a.isError() ? redactSecrets(a.str) : std::string("unexpected reply"));
        continue;
      }
      auto hp = parseAddress(a.elements[0].str + ":" + a.elements[1].str);
      if (!hp) {
        lastError = "sentinel " + sentinels[i].endpoint() + " gave a malformed address";
        continue;
      }
      RedisNodePool* m = dataNode(*hp);
      WriterLock ul(map_mu);
      master = m;
      master_addr = *hp;
      resolved_at = Clock::now();
      good_sentinel = i;
      return m;
    } catch (const Error& e) {
      lastError = e.what();
      denied += e.kind() == ErrorKind::Permission ? 1 : 0;
    }
  }
  WriterLock ul(map_mu);
  resolved_at = Clock::now();
  if (master) return master;                     // keep the last known master; its own errors tell
  if (denied > 0 && denied == sentinels.size())  // every sentinel refused our credentials
    throw PermissionError("Redis Sentinel: every sentinel (" + opt.url.endpoint() + ") refused AUTH: " + lastError);
  throw ConnectionError("Redis Sentinel: no sentinel (" + opt.url.endpoint() + ") named a master for '" +
                        opt.url.master_name + "': " + lastError);
}

std::vector<Reply> RedisClient::Impl::executeSentinel(const Batch& batch, std::string_view what) {
  RedisNodePool* m = sentinelMaster(false);
  Batch attempt = batch;  // execute() rewrites scripts in place: a retry starts from the original
  try {
    auto r = m->execute(attempt, what);
    bool readonlyReply = false;
    for (const auto& x : r) readonlyReply = readonlyReply || (x.isError() && x.str.starts_with("READONLY"));
    if (!readonlyReply) return r;
    // Demoted: the sentinels know the new master.
    RedisNodePool* now = sentinelMaster(true);
    if (now == m) return r;
    Batch again = batch;
    return now->execute(again, what);
  } catch (const Error& e) {
    if (!isNetwork(e)) throw;
    RedisNodePool* now = nullptr;
    try {
      now = sentinelMaster(true);
    } catch (const Error&) {
    }
    if (!now || now == m) throw;
    Batch again = batch;
    return now->execute(again, what);
  }
}

}  // namespace tier::redis
