#pragma once
// A migrated, small-seeded pair of test servers and TierCore configs pointing at
// them. Seeding happens once per test binary.
#include <memory>

#include "servers.h"
#include "tier/core.h"
#include "tier/sandbox/seeder.h"

namespace tier::test {

// Small, deterministic data: 40 users, 400 entries, 30 sessions (5-12 messages), 20 articles.
tier::sandbox::SeedOptions smallSeed();
// TestServers::shared(), seeded with smallSeed() on first call.
TestServers& seededServers();
// A config for the shared servers with short timeouts suited to tests.
tier::CoreConfig coreConfig(const std::string& profile = "test");
// Flushes Redis (FLUSHALL) so each test starts with empty L2.
void flushRedis();

}  // namespace tier::test
