#pragma once
// A migrated, small-seeded pair of test servers and TierCore configs pointing at
// them. Seeding happens once per test binary.
#include <memory>
#include <string>
#include <vector>

#include "servers.h"
#include "tier/core.h"
#include "tier/sandbox/seeder.h"

namespace tier::test {

// Small, deterministic data: 40 users, 400 entries, 30 sessions (5-12 messages), 20 articles.
tier::sandbox::SeedOptions smallSeed();
// TestServers::shared(), seeded with smallSeed() and marked as a sandbox
// (ops/deployment.h: the synthetic load writes there) on first call.
TestServers& seededServers();
// True when the environment says TIER_TEST_REDIS=cluster: the shared fixtures
// below then point at a 3-master/3-replica harness Redis Cluster (started once
// per test binary, stopped at exit) instead of the single node. CMake adds a
// "<test>_on_cluster" CTest entry that sets it for every file marked with a
// line "// TIER_TEST_ON_CLUSTER" (issue 6: the integration suite runs against
// the cluster as well as a single node).
bool onCluster();
// The shared Redis: redis://… for the single node, redis+cluster://… on the cluster.
std::string redisUrl();
// A config for the shared servers with short timeouts suited to tests.
tier::CoreConfig coreConfig(const std::string& profile = "test");
// Flushes Redis (FLUSHALL, on every master of the cluster) so each test starts with empty L2.
void flushRedis();
// The keys matching `pattern` in the shared Redis (every master of the
// cluster), listed by redis-cli --scan: the test's own view, not the core's.
std::vector<std::string> scanKeys(const std::string& pattern);

}  // namespace tier::test
