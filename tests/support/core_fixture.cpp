#include "core_fixture.h"

#include "tier/pg/pg_pool.h"
#include "tier/redis/redis_client.h"

namespace tier::test {

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
    return true;
  }();
  (void)seeded;
  return s;
}

tier::CoreConfig coreConfig(const std::string& profile) {
  auto& s = seededServers();
  tier::CoreConfig c;
  c.profile = profile;
  c.redis_url = s.redisUrl();
  c.pg_conninfo = s.pgConninfo();
  c.redis.connect_timeout = std::chrono::milliseconds(200);
  c.redis.command_timeout = std::chrono::milliseconds(500);
  c.pg.pool_size = 4;
  return c;
}

void flushRedis() {
  tier::redis::RedisOptions o;
  o.url = tier::redis::RedisUrl::parse(seededServers().redisUrl());
  tier::redis::RedisClient r(o);
  r.command({"FLUSHALL"});
}

}  // namespace tier::test
