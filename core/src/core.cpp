#include "tier/core.h"

#include "tier/common/error.h"
#include "tier/internal/tier_access.h"

namespace tier {

struct TierCore::Impl {
  CoreConfig config;
  metrics::Metrics metrics;
  l1::L1Cache l1;
  std::unique_ptr<redis::RedisClient> redis;
  pg::PgPool pg;
  pg::ReadRouter reads;
  cache::TieredCache cache;
  repo::UserRepository users;
  repo::JournalRepository entries;
  repo::SessionRepository sessions;
  repo::KnowledgeRepository knowledge;
  repo::AnalyticsRepository analytics;
  redis::RedisReadView redisView{redis.get()};
  std::unique_ptr<fleet::Publisher> publisher;  // after metrics and l1, which it reads
  std::unique_ptr<cache::Backplane> backplane;  // last: its thread calls into cache, so it stops first
  // Started once the core is whole and stopped first (~TierCore): its thread uses all of the above.
  std::unique_ptr<ops::SessionSweeper> sweeper;

  static redis::RedisOptions redisOptions(const CoreConfig& c) {
    redis::RedisOptions o = c.redis;
    o.url = redis::RedisUrl::parse(c.redis_url);
    if (o.url.connect_timeout_ms) o.connect_timeout = std::chrono::milliseconds(*o.url.connect_timeout_ms);
    if (o.url.command_timeout_ms) o.command_timeout = std::chrono::milliseconds(*o.url.command_timeout_ms);
    return o;
  }
  static pg::PgOptions pgOptions(const CoreConfig& c) {
    pg::PgOptions o = c.pg;
    o.conninfo = c.pg_conninfo;
    return o;
  }
  static pg::ReplicaOptions replicaOptions(const CoreConfig& c) {
    pg::ReplicaOptions o = c.pg_replica;
    o.conninfo = c.pg_replica_conninfo;
    return o;
  }

  explicit Impl(CoreConfig c)
      : config(std::move(c)),
        l1(config.l1),
        redis(config.redis_url.empty() ? nullptr
                                       : std::make_unique<redis::RedisClient>(redisOptions(config), &metrics)),
        pg(pgOptions(config), &metrics),
        reads(pg, replicaOptions(config), pgOptions(config), &metrics),
        cache(&l1, redis.get(), &metrics, config.policies),
        users(cache, pg),
        entries(cache, pg, &reads),
        sessions(cache, pg, config.session_recent_messages, &reads),
        knowledge(cache, pg, &reads),
        analytics(cache, pg, &reads) {
    if (redis && config.backplane.enabled) {
      backplane = std::make_unique<cache::Backplane>(
          redis.get(), config.backplane,
          cache::Backplane::Handlers{[this](const cache::Invalidation& inv) { cache.applyRemote(inv); },
                                    [this] { cache.flushLocal(); }},
          &metrics);
      cache.attachBackplane(backplane.get());
    }
    if (redis && config.fleet.enabled) publisher = std::make_unique<fleet::Publisher>(redisOptions(config), &metrics, &l1, config.fleet);
  }
};

TierCore::TierCore(CoreConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  if (impl_->config.session_sweeper.enabled)
    impl_->sweeper = std::make_unique<ops::SessionSweeper>(*this, impl_->config.session_sweeper);
}
TierCore::~TierCore() {
  if (!impl_) return;
  impl_->sweeper.reset();
  impl_->cache.stopRepairs();  // its thread publishes to the backplane, destroyed before the cache
}

const CoreConfig& TierCore::config() const noexcept { return impl_->config; }
metrics::Metrics& TierCore::metrics() noexcept { return impl_->metrics; }
const l1::L1Cache& TierCore::l1() const noexcept { return impl_->l1; }
bool TierCore::hasRedis() const noexcept { return impl_->redis != nullptr; }
const redis::RedisReadView& TierCore::redis() const noexcept { return impl_->redisView; }
pg::PgPool& TierCore::pg() noexcept { return impl_->pg; }
pg::ReadRouter& TierCore::reads() noexcept { return impl_->reads; }
cache::TieredCache& TierCore::cache() noexcept { return impl_->cache; }
cache::Backplane* TierCore::backplane() noexcept { return impl_->backplane.get(); }
const fleet::Publisher* TierCore::publisher() const noexcept { return impl_->publisher.get(); }
ops::SessionSweeper* TierCore::sessionSweeper() noexcept { return impl_->sweeper.get(); }
repo::UserRepository& TierCore::users() noexcept { return impl_->users; }
repo::JournalRepository& TierCore::entries() noexcept { return impl_->entries; }
repo::SessionRepository& TierCore::sessions() noexcept { return impl_->sessions; }
repo::KnowledgeRepository& TierCore::knowledge() noexcept { return impl_->knowledge; }
repo::AnalyticsRepository& TierCore::analytics() noexcept { return impl_->analytics; }

}  // namespace tier

namespace tier::internal {
l1::L1Cache& TierAccess::l1(TierCore& core) noexcept { return core.impl_->l1; }
redis::RedisClient* TierAccess::redis(TierCore& core) noexcept { return core.impl_->redis.get(); }
}  // namespace tier::internal
