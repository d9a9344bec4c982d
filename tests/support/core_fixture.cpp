#include "core_fixture.h"

#include <cstdlib>
#include <cstring>

#include "distributed.h"
#include "tier/ops/deployment.h"
#include "tier/pg/pg_pool.h"
#include "tier/redis/redis_client.h"

namespace tier::test {
namespace {

TestRedisCluster& sharedCluster() {
  static TestRedisCluster cluster;
  return cluster;
}

std::vector<std::string> lines(const std::string& out) {
  std::vector<std::string> v;
  std::size_t at = 0;
  while (at < out.size()) {
    auto nl = out.find('\n', at);
    if (nl == std::string::npos) nl = out.size();
    if (nl > at) v.push_back(out.substr(at, nl - at));
    at = nl + 1;
  }
  return v;
}

}  // namespace

bool onCluster() {
  const char* v = std::getenv("TIER_TEST_REDIS");
  return v && std::strcmp(v, "cluster") == 0;
}

std::string redisUrl() {
  return onCluster() ? sharedCluster().seedUrl() : seededServers().redisUrl();
}

tier::sandbox::SeedOptions smallSeed() {
  tier::sandbox::SeedOptions o;
  o.users = 40;
  o.entries = 400;
  o.sessions = 30;
  o.min_messages = 5;
  o.max_messages = 12;
  o.knowledge = 20;
  o.random_seed = 7;
  return o;
}

TestServers& seededServers() {
  auto& s = TestServers::shared();
  static bool seeded = [&] {
    tier::pg::PgOptions o;
    o.conninfo = s.pgConninfo();
    tier::pg::PgPool pool(o);
    tier::sandbox::Seeder seeder(pool);
    if (!seeder.isSeeded()) seeder.seed(smallSeed());
    // Private, disposable servers: marked like the sandbox, so the workload writes
    // here as on the demo (tst_load_safety makes its own unmarked database).
    tier::ops::markSandbox(pool);
    return true;
  }();
  (void)seeded;
  return s;
}

tier::CoreConfig coreConfig(const std::string& profile) {
  auto& s = seededServers();
  tier::CoreConfig c;
  c.profile = profile;
  c.redis_url = redisUrl();
  c.pg_conninfo = s.pgConninfo();
  c.redis.connect_timeout = std::chrono::milliseconds(200);
  c.redis.command_timeout = std::chrono::milliseconds(500);
  c.pg.pool_size = 4;
  // Tests that count keys or commands must not see fleet telemetry; the fleet tests turn it on.
  c.fleet.enabled = false;
  return c;
}

void flushRedis() {
  if (onCluster()) {
    for (const auto& m : sharedCluster().masters()) sharedCluster().cli(m.port, "FLUSHALL");
    return;
  }
  tier::redis::RedisOptions o;
  o.url = tier::redis::RedisUrl::parse(seededServers().redisUrl());
  tier::redis::RedisClient r(o);
  r.command({"FLUSHALL"});
}

std::vector<std::string> scanKeys(const std::string& pattern) {
  // The pattern is quoted for the shell redis-cli runs under; tests pass plain globs.
  const std::string args = "--scan --pattern '" + pattern + "'";
  if (!onCluster()) return lines(seededServers().redis().cli(args));
  std::vector<std::string> all;
  for (const auto& m : sharedCluster().masters())
    for (auto& k : lines(sharedCluster().cli(m.port, args))) all.push_back(std::move(k));
  return all;
}

}  // namespace tier::test
