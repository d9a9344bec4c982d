#include "tier/redis/redis_client.h"

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "redis/batch.h"
#include "redis/client_impl.h"
#include "redis/cluster_nodes.h"
#include "redis/node_pool.h"
#include "tier/common/error.h"
#include "tier/metrics/metrics.h"
#include "tier/redis/connection.h"

namespace tier::redis {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

const char* toString(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half-open";
  }
  return "unknown";
}

namespace {

using cluster::ClusterLine;
using cluster::crc16;
using cluster::kSlots;
using cluster::parseAddress;
using cluster::parseClusterNodes;

}  // namespace

std::map<std::string, std::unique_ptr<RedisNodePool>>& RedisClient::Impl::pools(PoolKind kind) {
  switch (kind) {
    case PoolKind::Data: return data_nodes;
    case PoolKind::Replica: return replica_nodes;
    case PoolKind::Sentinel: return sentinel_nodes;
    case PoolKind::SentinelReplica: return sentinel_replicas;
  }
  return data_nodes;
}

RedisNodePool* RedisClient::Impl::pool(PoolKind kind, const std::string& key, const RedisOptions& o, bool ro,
                                       bool verifyMaster) {
  MutexLock lk(nodes_mu);
  auto& slot = pools(kind)[key];
  if (!slot) slot = std::make_unique<RedisNodePool>(o, metrics, ro, verifyMaster);
  return slot.get();
}

RedisNodePool* RedisClient::Impl::dataNode(const HostPort& hp) {
  RedisOptions o = opt;
  o.url = opt.url.forNode(hp);
  return pool(PoolKind::Data, hp.endpoint(), o, false, mode == RedisMode::Sentinel);
}

RedisNodePool* RedisClient::Impl::replicaNode(const HostPort& hp) {
  RedisOptions o = opt;
  o.url = opt.url.forNode(hp);
  return pool(PoolKind::Replica, hp.endpoint(), o, true);
}

RedisNodePool* RedisClient::Impl::sentinelNode(const HostPort& hp) {
  RedisOptions o = opt;
  o.url = RedisUrl{};
  o.url.host = hp.host;
  o.url.port = hp.port;
  o.url.username = opt.url.sentinel_username;
  o.url.password = opt.url.sentinel_password;
  o.pool_size = 2;
  return pool(PoolKind::Sentinel, hp.endpoint(), o, false);
}

RedisNodePool* RedisClient::Impl::sentinelReplica(const HostPort& hp) {
  RedisOptions o = opt;
  o.url = opt.url.forNode(hp);
  o.pool_size = 2;
  return pool(PoolKind::SentinelReplica, hp.endpoint(), o, false);
}

RedisNodePool* RedisClient::Impl::findData(const std::string& address) {
  if (single) return address == single->where ? single.get() : nullptr;
  if (mode == RedisMode::Sentinel) {
    bool isMaster;
    {
      ReaderLock sl(map_mu);
      isMaster = master && master_addr.endpoint() == address;
    }
    if (!isMaster) {
      MutexLock lk(nodes_mu);
      auto it = sentinel_replicas.find(address);
      return it == sentinel_replicas.end() ? nullptr : it->second.get();
    }
  }
  MutexLock lk(nodes_mu);
  auto it = data_nodes.find(address);
  return it == data_nodes.end() ? nullptr : it->second.get();
}

std::vector<Reply> RedisClient::Impl::execute(Batch& batch, std::string_view what, ReadFrom from) {
  switch (mode) {
    case RedisMode::Single: return single->execute(batch, what);
    case RedisMode::Cluster: return executeCluster(batch, what, from == ReadFrom::Replica);
    case RedisMode::Sentinel: return executeSentinel(batch, what);
  }
  return {};
}

Reply RedisClient::Impl::one(Batch& batch) {
  auto replies = execute(batch, batch.name(0));
  return std::move(replies.front());
}

RedisNodePool* RedisClient::Impl::nodeFor(const std::string& address) {
  if (mode == RedisMode::Cluster) ensureMap();
  if (mode == RedisMode::Sentinel) sentinelMaster(false);
  RedisNodePool* n = findData(address);
  if (!n) throw BadInputError("Redis node " + address + " is not part of this deployment");
  return n;
}

std::vector<std::string> RedisClient::Impl::masterList() {
  switch (mode) {
    case RedisMode::Single: return {single->where};
    case RedisMode::Sentinel: return {sentinelMaster(false)->where};
    case RedisMode::Cluster: {
      ensureMap();
      std::vector<std::string> out;
      ReaderLock sl(map_mu);
      for (const auto& l : cluster_lines)
        if (l.info.role == "master" && l.info.slot_count > 0) out.push_back(l.info.address);
      return out;
    }
  }
  return {};
}

void RedisClient::Impl::probe(RedisNodePool* n, NodeInfo& info, bool data) {
  try {
    Batch b;
    b.add({"PING"});
    if (data) b.add({"DBSIZE"});
    const auto t0 = Clock::now();
    auto r = n->execute(b, "PING");
    info.ping_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    info.up = !r.empty() && !r[0].isError();
    if (!info.up && !r.empty()) info.error = redactSecrets(r[0].str);
    if (data && r.size() > 1 && r[1].type == Reply::Type::Integer) info.keys = r[1].integer;
  } catch (const Error& e) {
    info.up = false;
    info.ping_ms = -1;
    info.error = redactSecrets(e.what());
  }
}

std::vector<NodeInfo> RedisClient::Impl::topology(bool doProbe) {
  std::vector<NodeInfo> out;
  if (mode == RedisMode::Single) {
    NodeInfo n;
    n.address = single->where;
    n.role = "master";
    n.up = single->breaker() != BreakerState::Open;
    if (doProbe) probe(single.get(), n, true);
    out.push_back(std::move(n));
    return out;
  }
  if (mode == RedisMode::Cluster) {
    std::string error;
    try {
      ensureMap();
    } catch (const Error& e) {
      error = redactSecrets(e.what());
    }
    std::vector<ClusterLine> lines;
    {
      ReaderLock sl(map_mu);
      lines = cluster_lines;
    }
    if (lines.empty()) {
      for (const auto& s : opt.url.seeds) {
        NodeInfo n;
        n.address = s.endpoint();
        n.role = "seed";
        n.error = error;
        out.push_back(std::move(n));
      }
      return out;
    }
    for (auto& l : lines) {
      NodeInfo n = std::move(l.info);
      n.up = !l.failed;
      if (doProbe) probe(dataNode(l.hp), n, true);
      if (!doProbe && l.failed) n.error = "flagged " + n.flags;
      out.push_back(std::move(n));
    }
    return out;
  }
  // Sentinel: the master, its replicas as a sentinel reports them, the sentinels.
  NodeInfo m;
  m.role = "master";
  RedisNodePool* mp = nullptr;
  try {
    mp = sentinelMaster(false);
    m.address = mp->where;
    m.up = mp->breaker() != BreakerState::Open;
    if (doProbe) probe(mp, m, true);
  } catch (const Error& e) {
    m.address = "?";
    m.error = redactSecrets(e.what());
  }
  out.push_back(m);
  std::size_t first;
  {
    ReaderLock sl(map_mu);
    first = good_sentinel;
  }
  bool replicasListed = false;
  std::vector<NodeInfo> sentinels;
  for (std::size_t k = 0; k < opt.url.seeds.size(); ++k) {
    const std::size_t i = (first + k) % opt.url.seeds.size();
    RedisNodePool* s = sentinelNode(opt.url.seeds[i]);
    NodeInfo n;
    n.address = opt.url.seeds[i].endpoint();
    n.role = "sentinel";
    n.up = s->breaker() != BreakerState::Open;
    if (doProbe) probe(s, n, false);
    if (!replicasListed && (n.up || !doProbe)) {
      try {
        Batch b;
        b.add({"SENTINEL", "replicas", opt.url.master_name});
        auto r = s->execute(b, "SENTINEL replicas");
        if (!r.empty() && r[0].type == Reply::Type::Array) {
          replicasListed = true;
          for (const auto& rep : r[0].elements) {
            std::string ip, port, flags;
            for (std::size_t f = 0; f + 1 < rep.elements.size(); f += 2) {
              if (rep.elements[f].str == "ip") ip = rep.elements[f + 1].str;
              if (rep.elements[f].str == "port") port = rep.elements[f + 1].str;
              if (rep.elements[f].str == "flags") flags = rep.elements[f + 1].str;
            }
            auto hp = parseAddress(ip + ":" + port);
            if (!hp) continue;
            NodeInfo ri;
            ri.address = hp->endpoint();
            ri.role = "replica";
            ri.master = m.address;
            ri.flags = flags;
            ri.up = flags.find("down") == std::string::npos && flags.find("disconnected") == std::string::npos;
            if (doProbe) probe(sentinelReplica(*hp), ri, true);
            out.push_back(std::move(ri));
          }
        }
      } catch (const Error&) {
      }
    }
    sentinels.push_back(std::move(n));
  }
  for (auto& s : sentinels) out.push_back(std::move(s));
  return out;
}

namespace {

[[noreturn]] void unexpected(std::string_view cmd, const Reply& r) {
  if (r.isError()) throw DataError("Redis " + std::string(cmd) + " failed: " + redactSecrets(r.str));
  throw DataError("Redis " + std::string(cmd) + " returned an unexpected reply type");
}

// SCAN cursor [MATCH match] [COUNT countArg]; an empty match or countArg is left out.
// REQUIRES: the arguments outlive the batch (it points into them).
void addScan(Batch& b, std::string_view cursor, std::string_view match, std::string_view countArg) {
  if (!match.empty() && !countArg.empty())
    b.add({"SCAN", cursor, "MATCH", match, "COUNT", countArg});
  else if (!match.empty())
    b.add({"SCAN", cursor, "MATCH", match});
  else if (!countArg.empty())
    b.add({"SCAN", cursor, "COUNT", countArg});
  else
    b.add({"SCAN", cursor});
}

// A SCAN reply ([cursor, [key...]]) as a page; anything else throws DataError.
ScanPage scanPage(Reply r) {
  if (r.type != Reply::Type::Array || r.elements.size() != 2 || r.elements[0].type != Reply::Type::String ||
      r.elements[1].type != Reply::Type::Array)
    unexpected("SCAN", r);
  ScanPage page;
  page.cursor = std::move(r.elements[0].str);
  page.keys.reserve(r.elements[1].elements.size());
  for (auto& k : r.elements[1].elements) {
    if (k.type != Reply::Type::String) unexpected("SCAN", r);
    page.keys.push_back(std::move(k.str));
  }
  return page;
}

}  // namespace

long long RedisClient::Impl::integerCommand(std::string_view cmd, std::string_view key) {
  Batch b;
  b.add({cmd, key});
  const Reply r = one(b);
  if (r.type != Reply::Type::Integer) unexpected(cmd, r);
  return r.integer;
}

namespace {

RedisOptions normalized(RedisOptions o) {
  if (o.url.connect_timeout_ms) o.connect_timeout = milliseconds(*o.url.connect_timeout_ms);
  if (o.url.command_timeout_ms) o.command_timeout = milliseconds(*o.url.command_timeout_ms);
  if (o.pool_size < 1) throw BadInputError("Redis pool_size must be at least 1");
  if (o.reconnect_max < o.reconnect_min) o.reconnect_max = o.reconnect_min;
  return o;
}

}  // namespace

RedisClient::RedisClient(RedisOptions options, metrics::Metrics* metrics)
    : impl_(std::make_unique<Impl>(normalized(std::move(options)), metrics)) {
  ignoreSigpipeOnce();
}

RedisClient::~RedisClient() = default;

Reply RedisClient::command(const Command& argv) {
  if (argv.empty()) throw BadInputError("empty Redis command");
  Batch b;
  b.add(argv);
  return impl_->one(b);
}

std::vector<Reply> RedisClient::pipeline(const std::vector<Command>& commands, ReadFrom from) {
  if (commands.empty()) return {};
  Batch b;
  for (const auto& c : commands) {
    if (c.empty()) throw BadInputError("empty Redis command in a pipeline");
    b.add(c);
  }
  return impl_->execute(b, "pipeline", from);
}

std::vector<Reply> RedisClient::pipelineViews(const std::vector<std::vector<std::string_view>>& commands) {
  if (commands.empty()) return {};
  Batch b;
  for (const auto& c : commands) {
    if (c.empty()) throw BadInputError("empty Redis command in a pipeline");
    b.add(c);
  }
  return impl_->execute(b, "pipeline");
}

std::optional<std::string> RedisClient::get(std::string_view key, ReadFrom from) {
  Batch b;
  b.add({"GET", key});
  Reply r = std::move(impl_->execute(b, "GET", from).front());
  if (r.isNil()) return std::nullopt;
  if (r.type != Reply::Type::String) unexpected("GET", r);
  return std::move(r.str);
}

void RedisClient::set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  if (ttl.count() < 0) throw BadInputError("Redis SET: negative TTL");
  Batch b;
  const std::string px = std::to_string(ttl.count());
  if (ttl.count() > 0)
    b.add({"SET", key, value, "PX", px});
  else
    b.add({"SET", key, value});
  const Reply r = impl_->one(b);
  if (r.type != Reply::Type::Status) unexpected("SET", r);
}

long long RedisClient::unlink(const std::vector<std::string>& keys) {
  if (keys.empty()) return 0;
  Batch b;
  b.add({"UNLINK"});
  b.addAll(keys);
  const Reply r = impl_->one(b);
  if (r.type != Reply::Type::Integer) unexpected("UNLINK", r);
  return r.integer;
}

long long RedisClient::ttlMillis(std::string_view key) {
  return impl_->integerCommand("PTTL", key);
}

long long RedisClient::strlen(std::string_view key) {
  return impl_->integerCommand("STRLEN", key);
}

ScanPage RedisClient::scan(std::string_view cursor, std::string_view match, int count) {
  if (impl_->mode == RedisMode::Cluster) {
    // "<node cursor>@<host:port>" over masters() in address order; "0" starts
    // and ends. Keyed by the node, not by its position: if that node is no
    // longer a master (a failover), its cursor means nothing elsewhere.
    const auto ms = masters();
    std::size_t index = 0;
    std::string nodeCursor = "0";
    if (cursor != "0") {
      const auto at = cursor.find('@');
      if (at == std::string_view::npos || at == 0)
        throw BadInputError("not a cluster SCAN cursor (expected <cursor>@<host:port>)");
      const std::string node(cursor.substr(at + 1));
      index = static_cast<std::size_t>(std::find(ms.begin(), ms.end(), node) - ms.begin());
      if (index == ms.size())
        throw ConnectionError("the cluster changed during the scan: " + node +
                              " is no longer a master; start the scan again");
      nodeCursor = std::string(cursor.substr(0, at));
    }
    if (ms.empty()) return ScanPage{"0", {}};
    ScanPage page = scanNode(ms[index], nodeCursor, match, count);
    if (page.cursor == "0") {
      ++index;
      page.cursor = index >= ms.size() ? "0" : "0@" + ms[index];
    } else {
      page.cursor += "@" + ms[index];
    }
    return page;
  }
  if (impl_->mode == RedisMode::Sentinel) return scanNode(currentMaster(), cursor, match, count);
  Batch b;
  const std::string countArg = count > 0 ? std::to_string(count) : std::string();
  addScan(b, cursor, match, countArg);
  return scanPage(impl_->one(b));
}

std::string RedisClient::info(std::string_view section) {
  Batch b;
  if (section.empty())
    b.add({"INFO"});
  else
    b.add({"INFO", section});
  Reply r = impl_->one(b);
  if (r.type != Reply::Type::String) unexpected("INFO", r);
  return std::move(r.str);
}

std::chrono::microseconds RedisClient::ping() {
  Batch b;
  b.add({"PING"});
  const auto t0 = Clock::now();
  const Reply r = impl_->one(b);
  const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
  if (r.type != Reply::Type::Status || r.str != "PONG") unexpected("PING", r);
  return rtt;
}

bool RedisClient::isAvailable() {
  try {
    ping();
    return true;
  } catch (const Error&) {
    return false;
  }
}

PoolStats RedisClient::poolStats() const {
  PoolStats s;
  if (impl_->single) {
    impl_->single->addStats(s);
    s.breaker = impl_->single->breaker();
    return s;
  }
  s.breaker = breakerState();
  MutexLock lk(impl_->nodes_mu);
  for (const auto* m : {&impl_->data_nodes, &impl_->replica_nodes})
    for (const auto& [k, n] : *m) n->addStats(s);
  s.size = std::max(s.size, impl_->opt.pool_size);
  return s;
}

BreakerState RedisClient::breakerState() const {
  // Past its open period the breaker lets the next call probe: report that,
  // so callers that check the state first don't keep L2 off for good.
  if (impl_->single) return impl_->single->breaker();
  if (impl_->mode == RedisMode::Sentinel) {
    ReaderLock sl(impl_->map_mu);
    return impl_->master ? impl_->master->breaker() : BreakerState::Closed;
  }
  std::vector<RedisNodePool*> masters;
  {
    ReaderLock sl(impl_->map_mu);
    for (auto* n : impl_->slot_owner)
      if (n && std::find(masters.begin(), masters.end(), n) == masters.end()) masters.push_back(n);
  }
  int open = 0;
  for (auto* n : masters) open += n->breaker() == BreakerState::Open ? 1 : 0;
  if (masters.empty() || open == 0) return BreakerState::Closed;
  return open == static_cast<int>(masters.size()) ? BreakerState::Open : BreakerState::HalfOpen;
}

RedisMode RedisClient::mode() const noexcept {
  return impl_->mode;
}

std::vector<NodeInfo> RedisClient::topology(bool probe) {
  return impl_->topology(probe);
}

std::vector<std::string> RedisClient::masters() {
  return impl_->masterList();
}

RedisClient::SlotMapState RedisClient::slotMapState() {
  SlotMapState st;
  if (impl_->mode != RedisMode::Cluster) return st;
  impl_->ensureMap();
  Batch b;
  b.add({"CLUSTER", "NODES"});
  const auto r = impl_->anyMaster()->execute(b, "CLUSTER NODES");
  if (r.empty() || r[0].type != Reply::Type::String)
    throw DataError("CLUSTER NODES returned an unexpected reply" +
                    (r.empty() ? std::string() : ": " + redactSecrets(r[0].str)));
  // Per master: its id and slot ranges.
  std::vector<std::string> lines;
  for (const auto& l : parseClusterNodes(r[0].str, HostPort{})) {
    if (l.info.role != "master") continue;
    st.migrating = st.migrating || l.migrating;
    std::string entry = l.info.id;
    for (auto [lo, hi] : l.info.slots) entry += ' ' + std::to_string(lo) + '-' + std::to_string(hi);
    lines.push_back(std::move(entry));
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) st.fingerprint += l + '\n';
  return st;
}

std::vector<Reply> RedisClient::pipelineOn(const std::string& node, const std::vector<Command>& commands) {
  if (commands.empty()) return {};
  Batch b;
  for (const auto& c : commands) {
    if (c.empty()) throw BadInputError("empty Redis command in a pipeline");
    b.add(c);
  }
  return impl_->nodeFor(node)->execute(b, "pipeline");
}

ScanPage RedisClient::scanNode(const std::string& node, std::string_view cursor, std::string_view match, int count) {
  Batch b;
  const std::string countArg = count > 0 ? std::to_string(count) : std::string();
  addScan(b, cursor, match, countArg);
  auto replies = impl_->nodeFor(node)->execute(b, "SCAN");
  return scanPage(std::move(replies.front()));
}

std::string RedisClient::currentMaster() {
  switch (impl_->mode) {
    case RedisMode::Single: return impl_->single->where;
    case RedisMode::Sentinel: return impl_->sentinelMaster(false)->where;
    case RedisMode::Cluster: return {};
  }
  return {};
}

RedisUrl RedisClient::dataNodeUrl() {
  switch (impl_->mode) {
    case RedisMode::Single: return impl_->opt.url;
    // Asked of the sentinels again (at most every 100 ms): a dedicated
    // connection opens after a link loss, which a failover causes.
    case RedisMode::Sentinel: return impl_->sentinelMaster(true)->opt.url;
    case RedisMode::Cluster: {
      // In turn over the live masters: an instance's dedicated connections
      // (the backplane's subscriber and publisher) spread over the nodes; the
      // cluster broadcasts PUBLISH to every node, so any one serves.
      impl_->ensureMap();
      std::vector<HostPort> live;
      {
        ReaderLock sl(impl_->map_mu);
        for (const auto& l : impl_->cluster_lines)
          if (l.info.role == "master" && l.info.slot_count > 0 && !l.failed) live.push_back(l.hp);
      }
      for (std::size_t k = 0; k < live.size(); ++k) {
        const auto& hp = live[impl_->round_robin.fetch_add(1, std::memory_order_relaxed) % live.size()];
        RedisNodePool* n = impl_->dataNode(hp);
        if (n->breaker() != BreakerState::Open) return n->opt.url;
      }
      return impl_->anyMaster()->opt.url;
    }
  }
  return impl_->opt.url;
}

int RedisClient::keySlot(std::string_view key) noexcept {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return crc16(key) & (kSlots - 1);
}

const RedisOptions& RedisClient::options() const noexcept {
  return impl_->opt;
}

}  // namespace tier::redis
