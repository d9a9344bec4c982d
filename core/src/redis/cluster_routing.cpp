// RedisClient on a Redis Cluster (client_impl.h): the slot map, loaded from
// CLUSTER NODES (a known node, then the seeds) and refreshed every few seconds,
// on a MOVED and (rate-limited) after a node's network failure; commands routed
// by the CRC16 hash slot of their key, MOVED followed, ASK with ASKING,
// TRYAGAIN retried after a short sleep, DEL/UNLINK/EXISTS/TOUCH over several
// slots split per slot and their counts summed.
#include <algorithm>
#include <charconv>
#include <thread>

#include "redis/client_impl.h"

namespace tier::redis {
namespace {

using client_detail::isNetwork;
using client_detail::kClusterRefreshEvery;
using client_detail::kClusterRefreshMinGap;
using client_detail::kMaxRedirects;
using cluster::ClusterLine;
using cluster::KeySpec;
using cluster::keySpec;
using cluster::kSlots;
using cluster::parseAddress;
using cluster::parseClusterNodes;
using cluster::replicaReadable;

}  // namespace

void RedisClient::Impl::refreshCluster(bool force) {
  const auto asked = Clock::now();
  if (force)
    refresh_mu.lock();
  else if (!refresh_mu.try_lock())
    return;
  MutexLock lk(refresh_mu, std::adopt_lock);
  std::vector<HostPort> candidates;
  {
    ReaderLock sl(map_mu);
    if (refreshed_at >= asked && !cluster_lines.empty()) return;  // another thread just did it
    if (!force && !stale && Clock::now() - refreshed_at < kClusterRefreshEvery) return;
    if (!force && Clock::now() - refreshed_at < kClusterRefreshMinGap) return;
    for (const auto& l : cluster_lines)
      if (l.info.role == "master" && !l.failed) candidates.push_back(l.hp);
    for (const auto& l : cluster_lines)
      if (l.info.role != "master" || l.failed) candidates.push_back(l.hp);
  }
  for (const auto& s : opt.url.seeds) candidates.push_back(s);
  std::string lastError = "no node to ask";
  std::vector<std::string> tried;
  for (const auto& hp : candidates) {
    const std::string ep = hp.endpoint();
    if (std::find(tried.begin(), tried.end(), ep) != tried.end()) continue;
    tried.push_back(ep);
    RedisNodePool* n = dataNode(hp);
    if (n->breaker() == BreakerState::Open) {
      lastError = ep + ": circuit open";
      continue;
    }
    try {
      Batch b;
      b.add({"CLUSTER", "NODES"});
      auto r = n->execute(b, "CLUSTER NODES");
      if (r.empty() || r[0].type != Reply::Type::String) {
        lastError = ep + ": " +
                    (r.empty() || r[0].str.empty() ? std::string("no CLUSTER NODES answer") : redactSecrets(r[0].str));
        continue;
      }
      auto lines = parseClusterNodes(r[0].str, hp);
      if (install(std::move(lines), asked)) return;
      lastError = ep + ": its CLUSTER NODES lists no master with slots";
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Permission) throw;
      lastError = e.what();
    }
  }
  {
    WriterLock ul(map_mu);
    refreshed_at = Clock::now();
  }
  ReaderLock sl(map_mu);
  if (cluster_lines.empty())
    throw ConnectionError("Redis Cluster: no node answered CLUSTER NODES (seeds " + opt.url.endpoint() +
                          "): " + lastError);
}

bool RedisClient::Impl::install(std::vector<ClusterLine> lines, Clock::time_point asked) {
  std::vector<RedisNodePool*> owners(kSlots, nullptr);
  std::map<RedisNodePool*, std::vector<RedisNodePool*>> reps;
  std::map<std::string, RedisNodePool*> byId;
  bool any = false;
  for (const auto& l : lines) {
    if (l.info.role != "master" || l.info.slot_count == 0) continue;
    RedisNodePool* n = dataNode(l.hp);
    byId[l.info.id] = n;
    for (auto [a, b] : l.info.slots)
      for (int s = a; s <= b; ++s) owners[static_cast<std::size_t>(s)] = n;
    any = true;
  }
  if (!any) return false;
  if (opt.url.replica_reads)
    for (const auto& l : lines)
      if (l.info.role == "replica" && !l.failed)
        if (auto it = byId.find(l.master_id); it != byId.end()) reps[it->second].push_back(replicaNode(l.hp));
  // Masters first, then by address: a stable order for topology() and masters().
  std::sort(lines.begin(), lines.end(), [](const ClusterLine& a, const ClusterLine& b) {
    if ((a.info.role == "master") != (b.info.role == "master")) return a.info.role == "master";
    return a.info.address < b.info.address;
  });
  for (auto& l : lines) {
    if (l.info.role != "replica") continue;
    for (const auto& m : lines)
      if (m.info.id == l.master_id) l.info.master = m.info.address;
  }
  WriterLock ul(map_mu);
  for (std::size_t s = 0; s < kSlots; ++s)
    if (moved_at[s] > asked && slot_owner[s]) owners[s] = slot_owner[s];
  slot_owner = std::move(owners);
  replicas_of = std::move(reps);
  cluster_lines = std::move(lines);
  refreshed_at = Clock::now();
  stale = false;
  return true;
}

void RedisClient::Impl::ensureMap() {
  bool empty, due;
  {
    ReaderLock sl(map_mu);
    empty = cluster_lines.empty();
    const auto age = Clock::now() - refreshed_at;
    due = (stale && age >= kClusterRefreshMinGap) || age >= kClusterRefreshEvery;
  }
  if (empty)
    refreshCluster(true);
  else if (due)
    refreshCluster(false);
}

void RedisClient::Impl::markStale() {
  WriterLock ul(map_mu);
  stale = true;
}

RedisNodePool* RedisClient::Impl::ownerOf(int slot) const {
  ReaderLock sl(map_mu);
  return slot_owner[static_cast<std::size_t>(slot)];
}

RedisNodePool* RedisClient::Impl::anyMaster() {
  std::vector<HostPort> ms;
  {
    ReaderLock sl(map_mu);
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& l : cluster_lines)
        if (l.info.role == "master" && l.info.slot_count > 0 && l.failed == (pass == 1)) ms.push_back(l.hp);
  }
  RedisNodePool* first = nullptr;
  for (const auto& hp : ms) {
    RedisNodePool* n = dataNode(hp);
    if (!first) first = n;
    if (n->breaker() != BreakerState::Open) return n;
  }
  if (!first) throw ConnectionError("Redis Cluster: no master known (seeds " + opt.url.endpoint() + ")");
  return first;
}

std::vector<Reply> RedisClient::Impl::executeCluster(const Batch& batch, std::string_view what, bool replicaOk) {
  ensureMap();
  std::vector<Reply> out(batch.size());
  std::vector<char> summed(batch.size(), 0);
  std::vector<Part> parts;
  parts.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const int argc = batch.argc(i);
    Part p;
    p.orig = i;
    p.no_replica = !replicaOk;
    for (int j = 0; j < argc; ++j) p.argv.push_back(batch.arg(i, j));
    switch (keySpec(batch.name(i), argc)) {
      case KeySpec::None: break;
      case KeySpec::First: p.slot = keySlot(batch.arg(i, 1)); break;
      case KeySpec::Second: p.slot = keySlot(batch.arg(i, 2)); break;
      case KeySpec::Script: {
        int n = 0;
        const auto nk = argc > 2 ? batch.arg(i, 2) : std::string_view{};
        std::from_chars(nk.data(), nk.data() + nk.size(), n);
        if (n > 0 && argc > 3) p.slot = keySlot(batch.arg(i, 3));
        break;
      }
      case KeySpec::Multi: {
        std::map<int, std::vector<std::string_view>> bySlot;
        for (int j = 1; j < argc; ++j) bySlot[keySlot(batch.arg(i, j))].push_back(batch.arg(i, j));
        if (bySlot.size() == 1) {
          p.slot = bySlot.begin()->first;
          break;
        }
        summed[i] = 1;
        out[i].type = Reply::Type::Integer;
        for (auto& [slot, keys] : bySlot) {
          Part q;
          q.orig = i;
          q.no_replica = !replicaOk;
          q.slot = slot;
          q.argv.push_back(batch.name(i));
          q.argv.insert(q.argv.end(), keys.begin(), keys.end());
          parts.push_back(std::move(q));
        }
        continue;
      }
    }
    parts.push_back(std::move(p));
  }
  runParts(parts, out, summed, what, 0);
  return out;
}

void RedisClient::Impl::deliver(const Part& p, Reply&& r, std::vector<Reply>& out, const std::vector<char>& summed) {
  Reply& o = out[p.orig];
  if (!summed[p.orig]) {
    o = std::move(r);
  } else if (o.type == Reply::Type::Integer) {
    if (r.type == Reply::Type::Integer)
      o.integer += r.integer;
    else
      o = std::move(r);  // an error reply of one slot's part is the command's
  }
}

void RedisClient::Impl::runParts(std::vector<Part>& parts, std::vector<Reply>& out, const std::vector<char>& summed,
                                 std::string_view what, int depth) {
  // Target per part, grouped per node in first-seen order.
  std::vector<std::pair<RedisNodePool*, std::vector<std::size_t>>> groups;
  auto addTo = [&groups](RedisNodePool* n, std::size_t idx) {
    for (auto& g : groups)
      if (g.first == n) {
        g.second.push_back(idx);
        return;
      }
    groups.push_back({n, {idx}});
  };
  RedisNodePool* keyless = nullptr;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    Part& p = parts[k];
    RedisNodePool* target = p.pinned;
    if (!target && p.slot < 0) target = keyless ? keyless : (keyless = anyMaster());
    if (!target) {
      ReaderLock sl(map_mu);
      target = slot_owner[static_cast<std::size_t>(p.slot)];
      if (target && opt.url.replica_reads && !p.no_replica &&
          replicaReadable(p.argv[0], static_cast<int>(p.argv.size()))) {
        auto it = replicas_of.find(target);
        if (it != replicas_of.end() && !it->second.empty()) {
          RedisNodePool* r = it->second[round_robin.fetch_add(1, std::memory_order_relaxed) % it->second.size()];
          if (r->breaker() != BreakerState::Open) target = r;
        }
      }
    }
    if (!target) {
      markStale();
      throw ConnectionError("Redis Cluster: no node serves hash slot " + std::to_string(p.slot) +
                            " (the cluster map is incomplete)");
    }
    addTo(target, k);
  }

  std::vector<Part> retry;
  std::exception_ptr failed;
  for (auto& [node, idxs] : groups) {
    Batch b;
    for (auto idx : idxs) {
      if (parts[idx].asking) b.add({"ASKING"});
      b.add(parts[idx].argv);
    }
    std::vector<Reply> rep;
    try {
      rep = node->execute(b, what);
    } catch (const Error& e) {
      if (!isNetwork(e)) throw;
      if (node->readonly) {  // a replica read: the master answers instead
        for (auto idx : idxs) {
          parts[idx].no_replica = true;
          retry.push_back(parts[idx]);
        }
        continue;
      }
      // Refresh (rate-limited); commands whose slot now has another owner
      // (a failover, a migration) are retried there once.
      markStale();
      try {
        refreshCluster(false);
      } catch (const Error&) {
      }
      bool allMoved = depth == 0;
      for (auto idx : idxs) {
        const Part& p = parts[idx];
        if (p.slot < 0 || p.pinned || ownerOf(p.slot) == node) allMoved = false;
      }
      if (allMoved) {
        for (auto idx : idxs) retry.push_back(parts[idx]);
        continue;
      }
      if (!failed) failed = std::current_exception();
      continue;
    }
    std::size_t k = 0;
    for (auto idx : idxs) {
      Part& p = parts[idx];
      if (p.asking) ++k;  // ASKING's +OK
      Reply& r = rep[k++];
      if (r.isError()) {
        const std::string_view msg = r.str;
        const bool moved = msg.starts_with("MOVED "), ask = msg.starts_with("ASK ");
        if (moved || ask) {
          // "MOVED <slot> <host:port>"
          const auto sp = msg.find(' ', moved ? 6 : 4);
          auto hp = sp == std::string_view::npos ? std::nullopt : parseAddress(msg.substr(sp + 1));
          if (hp && hp->host.empty()) hp->host = node->opt.url.host;  // "MOVED 3999 :6381": same host
          if (hp) {
            RedisNodePool* to = dataNode(*hp);
            Part q = p;
            q.last = std::move(r);
            q.no_replica = true;
            if (moved) {
              q.pinned = nullptr;
              q.asking = false;
              WriterLock ul(map_mu);
              if (q.slot >= 0) {
                slot_owner[static_cast<std::size_t>(q.slot)] = to;
                moved_at[static_cast<std::size_t>(q.slot)] = Clock::now();
              }
              stale = true;
              if (q.slot < 0) q.pinned = to;
            } else {
              q.pinned = to;
              q.asking = true;
            }
            retry.push_back(std::move(q));
            continue;
          }
        } else if (msg.starts_with("TRYAGAIN")) {
          Part q = p;
          q.last = std::move(r);
          retry.push_back(std::move(q));
          continue;
        }
      }
      deliver(p, std::move(r), out, summed);
    }
  }
  if (failed) std::rethrow_exception(failed);
  if (retry.empty()) return;
  if (depth >= kMaxRedirects) {
    for (auto& p : retry) deliver(p, std::move(p.last), out, summed);
    return;
  }
  bool tryAgain = false;
  for (const auto& p : retry) tryAgain = tryAgain || p.last.str.starts_with("TRYAGAIN");
  if (tryAgain) std::this_thread::sleep_for(milliseconds(10 << depth));
  runParts(retry, out, summed, what, depth + 1);
}

}  // namespace tier::redis
