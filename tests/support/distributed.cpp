#include "distributed.h"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"

namespace tier::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw Error(ErrorKind::Internal, "cannot write " + path);
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

long readPid(const std::string& pidFile) {
  std::ifstream in(pidFile);
  long pid = 0;
  in >> pid;
  return pid;
}

bool portFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The first port the kernel hands out for outgoing connections and port-0 binds.
int ephemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (in >> low && low > 1024) return low;
  return 32768;  // Linux's default
}

// A free loopback port below the ephemeral range (20000-29999), so that neither
// an outgoing connection nor another test's port-0 bind takes it while its
// server is down (the fault tests kill a node and restart it on the same port).
// withBus: P + 10000 (the cluster bus) must be free too, and below the ephemeral
// range as well: a bus port in it (32768+ by default) could be taken by any
// outgoing connection between this check and the node's start, and the node then
// exits unable to bind its bus (seen in CI: "does not answer").
int pickLowPort(std::vector<int>& taken, bool withBus) {
  static std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                          static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  const int high = withBus ? std::min(29999, ephemeralLow() - 1 - 10000) : 29999;
  if (high < 20100) throw Error(ErrorKind::Internal, "the ephemeral port range leaves no room for cluster bus ports");
  std::uniform_int_distribution<int> dist(20000, high);
  for (int i = 0; i < 500; ++i) {
    int p = dist(rng);
    if (std::find(taken.begin(), taken.end(), p) != taken.end()) continue;
    if (portFree(p) && (!withBus || portFree(p + 10000))) {
      taken.push_back(p);
      return p;
    }
  }
  throw Error(ErrorKind::Internal, withBus ? "no free loopback port pair for a Redis Cluster node"
                                           : "no free loopback port below the ephemeral range");
}

int pickPortPair(std::vector<int>& taken) { return pickLowPort(taken, true); }
int pickPort(std::vector<int>& taken) { return pickLowPort(taken, false); }

std::string redisServerBinary() {
  if (::access("/usr/bin/redis-server", X_OK) == 0) return "/usr/bin/redis-server";
  ShellRun r = runShell("command -v redis-server", 10s);
  std::string p = r.output.substr(0, r.output.find('\n'));
  if (r.code != 0 || p.empty()) throw NotFoundError("redis-server not found; install redis-server (scripts/deps)");
  return p;
}

std::string redisCli(int port, const std::string& args, bool cluster = false) {
  ShellRun r = runShell(
      "redis-cli " + std::string(cluster ? "-c " : "") + "-h 127.0.0.1 -p " + std::to_string(port) + " " + args, 20s);
  return r.output;
}

bool pidAlive(const std::string& pidFile) {
  long pid = readPid(pidFile);
  return pid > 0 && tier::sandbox::processAlive(pid);
}

void killPidFile(const std::string& pidFile) {
  long pid = readPid(pidFile);
  if (pid <= 0 || !tier::sandbox::processAlive(pid)) return;
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  for (int i = 0; i < 500 && tier::sandbox::processAlive(pid); ++i) std::this_thread::sleep_for(10ms);
  if (tier::sandbox::processAlive(pid)) throw TimeoutError("redis-server pid " + std::to_string(pid) + " did not die");
}

// Starts redis-server (daemonized) with `conf` written to dir/redis.conf and
// waits until it answers PING.
void startRedis(const std::string& dir, int port, const std::string& extraConf, bool sentinel = false) {
  tier::sandbox::makeDirs(dir);
  std::ostringstream conf;
  conf << "port " << port << "\nbind 127.0.0.1\ndaemonize yes\npidfile " << dir << "/redis.pid\nlogfile " << dir
       << "/redis.log\ndir " << dir << "\n";
  // A replica's first sync must not wait the default 5 s for more replicas to join.
  if (!sentinel) conf << "save \"\"\nappendonly no\nrepl-diskless-sync-delay 0\n";
  conf << extraConf;
  const std::string confPath = dir + (sentinel ? "/sentinel.conf" : "/redis.conf");
  // Sentinel rewrites its configuration: write it only once, keep its state on restart.
  if (!sentinel || !fs::exists(confPath)) writeText(confPath, conf.str());
  ShellRun r = runShell(quote(redisServerBinary()) + " " + quote(confPath) + (sentinel ? " --sentinel" : ""), 20s);
  if (r.code != 0) throw ConnectionError("redis-server on port " + std::to_string(port) + " failed: " + r.output);
  const auto deadline = Clock::now() + 15s;
  while (Clock::now() < deadline) {
    if (redisCli(port, "PING").rfind("PONG", 0) == 0) return;
    std::this_thread::sleep_for(50ms);
  }
  // The log's end says why (a port it could not bind, ...).
  const std::string log = readText(dir + "/redis.log");
  throw TimeoutError("redis-server on port " + std::to_string(port) +
                     " does not answer; log ends: " + log.substr(log.size() > 600 ? log.size() - 600 : 0));
}

std::map<std::string, std::string> infoFields(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

// redis-cli prints a flat array one element a line: key, value, key, value...
std::map<std::string, std::string> pairFields(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string key, value;
  while (std::getline(in, key) && std::getline(in, value)) out[key] = value;
  return out;
}

std::vector<ClusterNode> parseClusterNodes(const std::string& text) {
  std::vector<ClusterNode> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::vector<std::string> fields;
    for (std::string w; f >> w;) fields.push_back(w);
    if (fields.size() < 8 || fields[0].size() != 40) continue;
    ClusterNode n;
    n.id = fields[0];
    std::string addr = fields[1].substr(0, fields[1].find('@'));
    auto colon = addr.rfind(':');
    if (colon == std::string::npos) continue;
    n.host = addr.substr(0, colon);
    n.port = std::atoi(addr.c_str() + colon + 1);
    const std::string& flags = fields[2];
    n.master = flags.find("master") != std::string::npos;
    n.failed = flags.find("fail") != std::string::npos || flags.find("noaddr") != std::string::npos ||
               fields[7] != "connected";
    if (!n.master && fields[3] != "-") n.master_id = fields[3];
    for (size_t i = 8; i < fields.size(); ++i) {
      const std::string& s = fields[i];
      if (s.empty() || s[0] == '[') continue;  // a slot being migrated/imported
      auto dash = s.find('-');
      n.slots += dash == std::string::npos ? 1 : std::atoi(s.c_str() + dash + 1) - std::atoi(s.c_str()) + 1;
    }
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

ShellRun runShell(const std::string& command, std::chrono::seconds timeout) {
  char tmpl[] = "/tmp/tier-sh-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) return {};
  ::close(fd);
  const std::string full = "timeout -k 5 " + std::to_string(timeout.count()) + " /bin/sh -c " + quote(command) + " >" +
                           tmpl + " 2>&1 </dev/null";
  int status = std::system(full.c_str());
  ShellRun r;
  r.output = readText(tmpl);
  ::unlink(tmpl);
  if (status != -1 && WIFEXITED(status)) r.code = WEXITSTATUS(status);
  if (r.code == 124 || r.code == 137) r.code = -1;  // timeout(1) fired
  return r;
}

// ---- TestRedisCluster ------------------------------------------------------------

TestRedisCluster::TestRedisCluster() : dir_(makeTempDir()) {
  try {
    std::vector<int> taken;
    for (int i = 0; i < 6; ++i) ports_.push_back(pickPortPair(taken));
    // One watchdog for the group: it kills whatever pid each node's pid file names, so restarts need no new one.
    watchdog_ = spawnWatchdog(
        ::getpid(),
        {{"/bin/sh", "-c", "for f in " + dir_ + "/node*/redis.pid; do [ -f \"$f\" ] && kill -9 $(cat \"$f\"); done"}},
        dir_);
    for (int i = 0; i < 6; ++i) startNode(i);
    std::string create = "redis-cli --cluster create";
    for (int p : ports_) create += " 127.0.0.1:" + std::to_string(p);
    create += " --cluster-replicas 1 --cluster-yes";
    ShellRun r = runShell(create, 120s);
    if (r.code != 0) throw ConnectionError("redis-cli --cluster create failed: " + r.output.substr(0, 600));
    if (!waitHealthy(60s)) throw TimeoutError("the Redis Cluster did not reach cluster_state:ok in 60 s");
    // Replicas attach asynchronously, and one that never synced will not take over: wait for each link to be up.
    const auto deadline = Clock::now() + 60s;
    while (true) {
      auto all = nodes();
      int withReplica = 0;
      for (const auto& m : all) {
        if (!m.master || m.slots == 0) continue;
        for (const auto& r2 : all)
          if (!r2.master && r2.master_id == m.id && !r2.failed &&
              infoFields(redisCli(r2.port, "INFO replication"))["master_link_status"] == "up") {
            ++withReplica;
            break;
          }
      }
      if (withReplica == 3) break;
      if (Clock::now() > deadline) throw TimeoutError("Redis Cluster replicas did not attach in 60 s");
      std::this_thread::sleep_for(100ms);
    }
  } catch (...) {
    for (int i = 0; i < static_cast<int>(ports_.size()); ++i) {
      try {
        killPidFile(nodeDir(i) + "/redis.pid");
      } catch (...) {
      }
    }
    if (watchdog_ > 0) ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
    removeTree(dir_);
    throw;
  }
}

TestRedisCluster::~TestRedisCluster() {
  if (watchdog_ > 0) ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
  for (int i = 0; i < static_cast<int>(ports_.size()); ++i) {
    try {
      killPidFile(nodeDir(i) + "/redis.pid");
    } catch (...) {
    }
  }
  removeTree(dir_);
}

std::string TestRedisCluster::nodeDir(int index) const {
  return dir_ + "/node" + std::to_string(index);
}

int TestRedisCluster::indexOf(int port) const {
  for (int i = 0; i < static_cast<int>(ports_.size()); ++i)
    if (ports_[i] == port) return i;
  throw BadInputError("no cluster node on port " + std::to_string(port));
}

void TestRedisCluster::startNode(int index) {
  startRedis(nodeDir(index), ports_[index],
             "cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout 5000\n"
             // A replica whose first election failed must keep trying: by
             // default it gives up once its data is 10 node timeouts old.
             "cluster-replica-validity-factor 0\n"
             // Tests kill nodes on purpose: the survivors keep serving their own slots.
             "cluster-require-full-coverage no\n");
}

std::string TestRedisCluster::seedUrl() const {
  return "redis+cluster://127.0.0.1:" + std::to_string(ports_.at(0));
}
std::vector<int> TestRedisCluster::ports() const {
  return ports_;
}

std::vector<ClusterNode> TestRedisCluster::nodes() const {
  for (int i = 0; i < static_cast<int>(ports_.size()); ++i) {
    if (!pidAlive(nodeDir(i) + "/redis.pid")) continue;
    auto out = parseClusterNodes(redisCli(ports_[i], "CLUSTER NODES"));
    if (!out.empty()) return out;
  }
  return {};
}

std::vector<ClusterNode> TestRedisCluster::masters() const {
  std::vector<ClusterNode> out;
  for (auto& n : nodes())
    if (n.master && n.slots > 0) out.push_back(n);
  return out;
}

std::string TestRedisCluster::cli(int port, const std::string& args) const {
  return redisCli(port, args);
}
std::string TestRedisCluster::cliCluster(int port, const std::string& args) const {
  return redisCli(port, args, true);
}

void TestRedisCluster::kill(int port) {
  killPidFile(nodeDir(indexOf(port)) + "/redis.pid");
}

void TestRedisCluster::restart(int port) {
  startNode(indexOf(port));
}

bool TestRedisCluster::healthy() const {
  int alive = 0;
  for (int i = 0; i < static_cast<int>(ports_.size()); ++i) {
    if (!pidAlive(nodeDir(i) + "/redis.pid")) continue;
    ++alive;
    auto info = infoFields(redisCli(ports_[i], "CLUSTER INFO"));
    if (info["cluster_state"] != "ok" || info["cluster_slots_ok"] != "16384") return false;
  }
  if (alive == 0) return false;
  int servingMasters = 0;
  for (const auto& n : nodes())
    if (n.master && n.slots > 0 && !n.failed) ++servingMasters;
  return servingMasters == 3;
}

bool TestRedisCluster::waitHealthy(std::chrono::milliseconds timeout) const {
  // Stable, not merely seen: while a failover propagates, nodes' views differ
  // and healthy() can be true once and false on the next look.
  const auto deadline = Clock::now() + timeout;
  int inARow = 0;
  while (inARow < 5) {
    inARow = healthy() ? inARow + 1 : 0;
    if (inARow < 5 && Clock::now() > deadline) return false;
    std::this_thread::sleep_for(200ms);
  }
  return true;
}

std::string TestRedisCluster::describe() const {
  std::string out;
  for (int i = 0; i < static_cast<int>(ports_.size()); ++i) {
    out += std::to_string(ports_[i]) + ": ";
    if (!pidAlive(nodeDir(i) + "/redis.pid")) {
      out += "down\n";
      continue;
    }
    auto info = infoFields(redisCli(ports_[i], "CLUSTER INFO"));
    out += "state=" + info["cluster_state"] + " slots_ok=" + info["cluster_slots_ok"] +
           " slots_pfail=" + info["cluster_slots_pfail"] + " slots_fail=" + info["cluster_slots_fail"] +
           " epoch=" + info["cluster_current_epoch"] + "\n";
  }
  for (const auto& n : nodes())
    out += n.address() + (n.master ? " master" : " replica") + (n.failed ? " failed" : "") +
           " slots=" + std::to_string(n.slots) + "\n";
  // What each node saw of failures and elections: why a failover did not happen.
  for (int i = 0; i < static_cast<int>(ports_.size()); ++i) {
    std::istringstream log(readText(nodeDir(i) + "/redis.log"));
    std::vector<std::string> events;
    for (std::string line; std::getline(log, line);)
      if (line.find("FAIL") != std::string::npos || line.find("lection") != std::string::npos ||
          line.find("vote") != std::string::npos || line.find("Failover") != std::string::npos ||
          line.find("failover") != std::string::npos)
        events.push_back(line);
    if (events.size() > 8) events.erase(events.begin(), events.end() - 8);
    for (const auto& e : events) out += std::to_string(ports_[i]) + " log: " + e + "\n";
  }
  return out;
}

void TestRedisCluster::reshard(int fromPort, int toPort, int slots) {
  auto id = [&](int port) {
    std::string out = redisCli(port, "CLUSTER MYID");
    out = out.substr(0, out.find('\n'));
    if (out.size() != 40) throw ConnectionError("cannot ask node " + std::to_string(port) + " for its id: " + out);
    return out;
  };
  const std::string cmd = "redis-cli --cluster reshard 127.0.0.1:" + std::to_string(fromPort) + " --cluster-from " +
                          id(fromPort) + " --cluster-to " + id(toPort) + " --cluster-slots " + std::to_string(slots) +
                          " --cluster-yes";
  ShellRun r = runShell(cmd, 300s);
  if (r.code != 0) {
    std::string tail = r.output.size() > 600 ? r.output.substr(r.output.size() - 600) : r.output;
    throw Error(ErrorKind::Internal, "redis-cli --cluster reshard failed: " + tail);
  }
}

std::string slotOwner(const std::vector<redis::NodeInfo>& topology, const std::string& key) {
  const int slot = redis::RedisClient::keySlot(key);
  for (const auto& n : topology)
    for (auto [a, b] : n.slots)
      if (slot >= a && slot <= b) return n.address;
  return {};
}

// ---- TestRedisSentinel -----------------------------------------------------------

TestRedisSentinel::TestRedisSentinel() : dir_(makeTempDir()) {
  try {
    std::vector<int> taken;
    data_ports_[0] = pickPort(taken);
    data_ports_[1] = pickPort(taken);
    for (int i = 0; i < 3; ++i) sentinel_ports_.push_back(pickPort(taken));
    watchdog_ = spawnWatchdog(
        ::getpid(),
        {{"/bin/sh", "-c", "for f in " + dir_ + "/*/redis.pid; do [ -f \"$f\" ] && kill -9 $(cat \"$f\"); done"}},
        dir_);
    startData(0, 0);
    startData(1, data_ports_[0]);
    for (int i = 0; i < 3; ++i) startSentinel(i, data_ports_[0]);
    const auto deadline = Clock::now() + 60s;
    while (!ready()) {
      if (Clock::now() > deadline) throw TimeoutError("the Sentinel group did not see its master and replica in 60 s");
      std::this_thread::sleep_for(100ms);
    }
  } catch (...) {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      try {
        killPidFile(entry.path().string() + "/redis.pid");
      } catch (...) {
      }
    }
    if (watchdog_ > 0) ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
    removeTree(dir_);
    throw;
  }
}

TestRedisSentinel::~TestRedisSentinel() {
  if (watchdog_ > 0) ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    try {
      killPidFile(entry.path().string() + "/redis.pid");
    } catch (...) {
    }
  }
  removeTree(dir_);
}

void TestRedisSentinel::startData(int index, int replicaOfPort) {
  std::string extra;
  if (replicaOfPort) extra = "replicaof 127.0.0.1 " + std::to_string(replicaOfPort) + "\n";
  startRedis(dir_ + "/data" + std::to_string(index), data_ports_[index], extra);
}

void TestRedisSentinel::startSentinel(int index, int masterPort) {
  startRedis(dir_ + "/sentinel" + std::to_string(index), sentinel_ports_[index],
             "sentinel resolve-hostnames no\n"
             "sentinel monitor tiermaster 127.0.0.1 " +
                 std::to_string(masterPort) +
                 " 2\n"
                 "sentinel down-after-milliseconds tiermaster 1000\n"
                 "sentinel failover-timeout tiermaster 5000\n",
             true);
}

std::vector<std::string> TestRedisSentinel::sentinelAddresses() const {
  std::vector<std::string> out;
  for (int p : sentinel_ports_) out.push_back("127.0.0.1:" + std::to_string(p));
  return out;
}

std::string TestRedisSentinel::url() const {
  std::string out = "redis+sentinel://";
  for (size_t i = 0; i < sentinel_ports_.size(); ++i)
    out += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(sentinel_ports_[i]);
  return out + "/" + masterName();
}

std::string TestRedisSentinel::cli(int port, const std::string& args) const {
  return redisCli(port, args);
}

int TestRedisSentinel::currentMasterPort() const {
  for (int s : sentinel_ports_) {
    std::istringstream in(redisCli(s, "SENTINEL get-master-addr-by-name " + masterName()));
    std::string host, port;
    if (std::getline(in, host) && std::getline(in, port) && host == "127.0.0.1") return std::atoi(port.c_str());
  }
  return 0;
}

bool TestRedisSentinel::ready() const {
  for (int s : sentinel_ports_) {
    auto m = pairFields(redisCli(s, "SENTINEL master " + masterName()));
    if (m["flags"] != "master" || m["num-slaves"] != "1" || m["num-other-sentinels"] != "2") return false;
    auto replicas = redisCli(s, "SENTINEL replicas " + masterName());
    if (replicas.find("\nflags\nslave\n") == std::string::npos) return false;
  }
  // A replica that never synced is not promoted: its link must be up.
  const int master = currentMasterPort();
  const int replica = master == data_ports_[0] ? data_ports_[1] : data_ports_[0];
  return infoFields(redisCli(replica, "INFO replication"))["master_link_status"] == "up";
}

int TestRedisSentinel::killMaster() {
  const int port = currentMasterPort();
  for (int i = 0; i < 2; ++i)
    if (data_ports_[i] == port) {
      killPidFile(dir_ + "/data" + std::to_string(i) + "/redis.pid");
      return port;
    }
  throw ConnectionError("no sentinel reports a master on one of our ports");
}

void TestRedisSentinel::restart(int port) {
  for (int i = 0; i < 2; ++i)
    if (data_ports_[i] == port) {
      // Sentinel reconfigures it as a replica of the new master once it is back.
      startData(i, 0);
      return;
    }
  throw BadInputError("no data node on port " + std::to_string(port));
}

int TestRedisSentinel::waitForFailover(int oldMasterPort, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int agreed = 0;
    for (int s : sentinel_ports_) {
      std::istringstream in(redisCli(s, "SENTINEL get-master-addr-by-name " + masterName()));
      std::string host, port;
      if (std::getline(in, host) && std::getline(in, port)) {
        const int p = std::atoi(port.c_str());
        if (p != oldMasterPort && (agreed == 0 || p == agreed))
          agreed = p;
        else {
          agreed = -1;
          break;
        }
      } else {
        agreed = -1;
        break;
      }
    }
    if (agreed > 0 && redisCli(agreed, "ROLE").rfind("master", 0) == 0) return agreed;
    std::this_thread::sleep_for(100ms);
  }
  return 0;
}

// ---- TestPostgresReplica ---------------------------------------------------------

namespace {

std::string pgBinary(const std::string& name) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (::access((e.path() / "bin" / name).c_str(), X_OK) == 0) found.push_back((e.path() / "bin" / name).string());
  if (found.empty())
    throw NotFoundError(name + " not found under /usr/lib/postgresql; install postgresql (scripts/deps)");
  std::sort(found.begin(), found.end());
  return found.back();
}

std::string asPostgres(const std::string& cmd) {
  return ::geteuid() == 0 ? "runuser -u postgres -- " + cmd : cmd;
}

tier::pg::PgOptions probeOptions(const std::string& conninfo) {
  tier::pg::PgOptions o;
  o.conninfo = conninfo + " connect_timeout=2";
  o.pool_size = 1;
  o.statement_timeout = 5s;
  o.application_name = "tier-test-probe";
  return o;
}

}  // namespace

TestPostgresReplica::TestPostgresReplica(TestPostgres& primary) : primary_(primary), dir_(makeTempDir()) {
  try {
    if (primary_.conninfo().find("password=") != std::string::npos)
      throw BadInputError("TestPostgresReplica needs a primary without a password");
    allowReplication();
    const std::string pgdir = dir_ + "/pg";
    tier::sandbox::makeDirs(pgdir);
    ::chmod(pgdir.c_str(), 0700);
    if (::geteuid() == 0) {
      if (passwd* pw = ::getpwnam("postgres")) {
        if (::chown(pgdir.c_str(), pw->pw_uid, pw->pw_gid) != 0)
          throw Error(ErrorKind::Internal, "cannot hand " + pgdir + " to user postgres");
      }
    }
    ShellRun r =
        runShell(asPostgres(quote(pgBinary("pg_basebackup")) + " -h 127.0.0.1 -p " + std::to_string(primary_.port()) +
                            " -U tier -D " + quote(pgdir + "/data") + " -R -X stream -c fast --no-sync"),
                 180s);
    if (r.code != 0) throw ConnectionError("pg_basebackup failed: " + r.output.substr(0, 600));
    start();
    if (!waitCaughtUp(60s)) throw TimeoutError("the PostgreSQL replica did not catch up with its primary in 60 s");
  } catch (...) {
    if (proc_) {
      try {
        proc_->stop();
      } catch (...) {
      }
    }
    if (watchdog_ > 0) ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
    removeTree(dir_);
    throw;
  }
}

TestPostgresReplica::~TestPostgresReplica() {
  if (watchdog_ > 0) ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
  try {
    proc_->stop();
  } catch (...) {
    if (long pid = proc_->pid(); pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  removeTree(dir_);
}

void TestPostgresReplica::allowReplication() const {
  const std::string hba = primary_.process().dataDir() + "/pg_hba.conf";
  const std::string line = "host  replication tier 127.0.0.1/32 trust\n";
  if (readText(hba).find(line) != std::string::npos) return;
  std::ofstream(hba, std::ios::app) << line;
  primary_.psql("SELECT pg_reload_conf()");
}

void TestPostgresReplica::respawnWatchdog() {
  if (watchdog_ > 0) ::kill(static_cast<pid_t>(watchdog_), SIGKILL);
  watchdog_ =
      spawnWatchdog(::getpid(), {proc_->stopImmediateCommand(), {"kill", "-9", std::to_string(proc_->pid())}}, dir_);
}

void TestPostgresReplica::start() {
  allowReplication();
  tier::sandbox::PostgresServerOptions opt;
  opt.dir = dir_ + "/pg";
  opt.port = port_;
  opt.fast_unsafe = true;
  opt.shared_buffers_mb = 32;
  opt.start_timeout = 60s;
  auto next = std::make_unique<tier::sandbox::PostgresServerProcess>(std::move(opt));
  next->start();  // PG_VERSION exists: no initdb; standby.signal makes it a hot standby
  port_ = next->port();
  proc_ = std::move(next);
  respawnWatchdog();
}

void TestPostgresReplica::stop() {
  proc_->stop();
}
bool TestPostgresReplica::running() const {
  return proc_ && proc_->isRunning();
}
int TestPostgresReplica::port() const {
  return port_;
}

std::string TestPostgresReplica::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=tier user=tier";
}

long long TestPostgresReplica::replayLagBytes() const {
  try {
    tier::pg::PgPool primary(probeOptions(primary_.conninfo()));
    tier::pg::PgPool replica(probeOptions(conninfo()));
    const std::string lsn(primary.acquire()->exec("SELECT pg_current_wal_insert_lsn()::text").value(0, 0));
    auto r = replica.acquire()->exec(
        "SELECT GREATEST(0, pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()))::bigint", {lsn});
    return r.toInt(0, 0);
  } catch (const Error&) {
    return -1;
  }
}

double TestPostgresReplica::replayLagSeconds() const {
  try {
    tier::pg::PgPool replica(probeOptions(conninfo()));
    auto r = replica.acquire()->exec(
        "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
        " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8");
    return r.toDouble(0, 0);
  } catch (const Error&) {
    return -1;
  }
}

bool TestPostgresReplica::waitCaughtUp(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (replayLagBytes() != 0) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

}  // namespace tier::test
