#include "tier/workload/threads.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/redis/redis_url.h"

namespace tier::workload {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// An address of one of this machine's interfaces (getifaddrs: no network I/O).
bool isInterfaceAddress(int family, const void* addr) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != family) continue;
    if (family == AF_INET)
      found = std::memcmp(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, addr, sizeof(in_addr)) == 0;
    else
      found = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, addr, sizeof(in6_addr)) == 0;
  }
  ::freeifaddrs(list);
  return found;
}

// A host name or literal address that means this machine (see threads.h).
bool isThisHost(std::string host) {
  host = lower(host);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return false;
  if (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"))) return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    if ((a >> 24) == 127 || a == 0) return true;  // loopback /8; 0.0.0.0 connects to this host on Linux
    return isInterfaceAddress(AF_INET, &v4);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_UNSPECIFIED(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127) return true;
    return isInterfaceAddress(AF_INET6, &v6);
  }
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') {
    const std::string self = lower(name);
    if (host == self || (host.starts_with(self + ".") && self.find('.') == std::string::npos)) return true;
  }
  return false;
}

// libpq's host list: "a,b,/run/postgresql"; a path (or an abstract socket, '@') is a unix socket.
bool anyPostgresHostHere(const std::string& list) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string h = list.substr(start, comma - start);
    if (!h.empty() && (h.front() == '/' || h.front() == '@' || isThisHost(h))) return true;
    start = comma + 1;
  }
  return false;
}

}  // namespace

ThreadChoice defaultThreads(int cpus, bool redisOnHost, bool postgresOnHost) {
  cpus = std::max(cpus, 1);
  const int servers = (redisOnHost ? 1 : 0) + (postgresOnHost ? 1 : 0);
  ThreadChoice c;
  c.threads = std::max(1, cpus - servers);
  c.reason = "default: " + std::to_string(cpus) + (cpus == 1 ? " CPU" : " CPUs");
  if (servers == 2)
    c.reason += " minus 1 each for the Redis and PostgreSQL servers on this host";
  else if (redisOnHost)
    c.reason += " minus 1 for the Redis server on this host";
  else if (postgresOnHost)
    c.reason += " minus 1 for the PostgreSQL server on this host";
  else
    c.reason += ", no cache server on this host";
  if (cpus - servers < 1) c.reason += ", at least 1";
  return c;
}

ThreadChoice defaultThreads(const CoreConfig& config) {
  return defaultThreads(usableCpus(), redisOnThisHost(config.redis_url), postgresOnThisHost(config.pg_conninfo));
}

int usableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

bool redisOnThisHost(const std::string& redisUrl) {
  if (redisUrl.empty()) return false;
  try {
    const auto u = redis::RedisUrl::parse(redisUrl);
    if (u.isUnix()) return true;
    if (u.seeds.empty()) return isThisHost(u.host);
    // Cluster seeds / sentinels: any of them here is a server sharing the CPUs.
    return std::any_of(u.seeds.begin(), u.seeds.end(), [](const redis::HostPort& h) { return isThisHost(h.host); });
  } catch (const Error&) {
    return false;  // the core reports a bad URL itself
  }
}

bool postgresOnThisHost(const std::string& conninfo) {
  std::string host, hostaddr;
  if (!conninfo.empty()) {
    char* err = nullptr;
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> opts(PQconninfoParse(conninfo.c_str(), &err),
                                                                      &PQconninfoFree);
    if (err) PQfreemem(err);  // never shown: it may quote the password
    if (!opts) return false;
    for (PQconninfoOption* o = opts.get(); o->keyword; ++o) {
      if (!o->val) continue;
      if (std::strcmp(o->keyword, "host") == 0) host = o->val;
      if (std::strcmp(o->keyword, "hostaddr") == 0) hostaddr = o->val;
    }
  }
  // libpq's own fallbacks: the environment, then the default unix socket.
  if (host.empty() && hostaddr.empty()) {
    if (const char* h = std::getenv("PGHOST")) host = h;
    if (const char* a = std::getenv("PGHOSTADDR")) hostaddr = a;
    if (host.empty() && hostaddr.empty()) return true;
  }
  // hostaddr, when given, is where libpq connects; host is then only a name.
  return hostaddr.empty() ? anyPostgresHostHere(host) : anyPostgresHostHere(hostaddr);
}

}  // namespace tier::workload
