// The capability probe against real servers: a full user, a read-only Redis ACL
// user with a read-only PostgreSQL role, a user that may run everything but
// UNLINK (answered by ACL DRYRUN), servers that are down, and no Redis at all.
#include <QtTest>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "tier/core.h"
#include "tier/ops/capabilities.h"
#include "tier/redis/redis_client.h"
#include "tier/sandbox/server_process.h"

using namespace tier;

namespace {

int closedPort() { return sandbox::findFreePort(); }  // nothing listens there

std::string pgFor(const std::string& user, const std::string& password) {
  return "host=127.0.0.1 port=" + std::to_string(test::seededServers().postgres().port()) +
         " dbname=tier user=" + user + " password=" + password;
}

std::string redisFor(const std::string& user, const std::string& password) {
  return "redis://" + user + ":" + password + "@127.0.0.1:" + std::to_string(test::seededServers().redis().port()) +
         "/0";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

class TestCapabilities : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    auto& servers = test::seededServers();
    servers.redis().cli("ACL SETUSER ro on '>ropass' '~*' +@read +@connection -@write");
    servers.redis().cli("ACL SETUSER nounlink on '>nupass' '~*' +@all -unlink -del");
    QVERIFY(contains(servers.redis().cli("ACL LIST"), "user ro on"));
    servers.postgres().psql("CREATE ROLE ro LOGIN PASSWORD 'ropw'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ro;");
  }

  void fullUserMayDoEverything() {
    TierCore core(test::coreConfig());
    const auto caps = ops::probeCapabilities(core);
    QCOMPARE(caps.redis_user, std::string("default"));
    QVERIFY(!caps.pg_role.empty());
    for (const auto* c : {&caps.invalidate, &caps.warm, &caps.evict, &caps.write_audit, &caps.read_audit, &caps.inspect}) {
      QVERIFY2(c->allowed, c->reason.c_str());
      QVERIFY(c->reason.empty());
    }
  }

  void probingChangesNoData() {
    test::flushRedis();
    TierCore core(test::coreConfig());
    tier::internal::TierAccess::redis(core)->set("entry:v1:1", "kept", std::chrono::milliseconds(0));
    ops::probeCapabilities(core);
    QCOMPARE(tier::internal::TierAccess::redis(core)->get("entry:v1:1").value_or(""), std::string("kept"));
    QVERIFY(!tier::internal::TierAccess::redis(core)->get("entry:v1:0"));

    // The live probes (a user without ACL DRYRUN) write nothing either.
    auto c = test::coreConfig();
    c.redis_url = redisFor("ro", "ropass");
    TierCore ro(c);
    ops::probeCapabilities(ro);
    QCOMPARE(tier::internal::TierAccess::redis(core)->get("entry:v1:1").value_or(""), std::string("kept"));
    QCOMPARE(tier::internal::TierAccess::redis(core)->command({"DBSIZE"}).integer, 1LL);
  }

  void readOnlyUserIsRefusedWithReasons() {
    auto c = test::coreConfig();
    c.redis_url = redisFor("ro", "ropass");
    c.pg_conninfo = pgFor("ro", "ropw");
    TierCore core(c);
    const auto caps = ops::probeCapabilities(core);
    QCOMPARE(caps.redis_user, std::string("ro"));
    QCOMPARE(caps.pg_role, std::string("ro"));

    QVERIFY(!caps.invalidate.allowed);
    QVERIFY2(contains(caps.invalidate.reason, "Redis user \u2018ro\u2019 may not run UNLINK (ACL)."),
             caps.invalidate.reason.c_str());
    QVERIFY(contains(caps.invalidate.reason, "PostgreSQL role \u2018ro\u2019 may not INSERT into cache_audit."));
    QVERIFY(!caps.warm.allowed);
    QVERIFY2(contains(caps.warm.reason, "may not run SET (ACL)"), caps.warm.reason.c_str());
    QVERIFY(!caps.evict.allowed);
    QVERIFY(contains(caps.evict.reason, "may not run UNLINK (ACL)"));
    QVERIFY(!caps.write_audit.allowed);
    QVERIFY(!contains(caps.write_audit.reason, "Redis"));  // the audit is PostgreSQL's business only

    QVERIFY2(caps.read_audit.allowed, caps.read_audit.reason.c_str());
    QVERIFY2(caps.inspect.allowed, caps.inspect.reason.c_str());
  }

  void dryRunAnswersForAUserWhoMayAskIt() {
    auto c = test::coreConfig();
    c.redis_url = redisFor("nounlink", "nupass");
    TierCore core(c);
    const auto caps = ops::probeCapabilities(core);
    QCOMPARE(caps.redis_user, std::string("nounlink"));
    QVERIFY(!caps.invalidate.allowed);
    QVERIFY2(caps.invalidate.reason == "Redis user \u2018nounlink\u2019 may not run UNLINK (ACL).", caps.invalidate.reason.c_str());
    QVERIFY(!caps.evict.allowed);
    QVERIFY2(caps.warm.allowed, caps.warm.reason.c_str());
    QVERIFY(caps.write_audit.allowed);
  }

  void serversDownAreNotAllowedAndSaySo() {
    auto c = test::coreConfig();
    c.redis_url = "redis://127.0.0.1:" + std::to_string(closedPort()) + "/0";
    c.pg_conninfo = "host=127.0.0.1 port=" + std::to_string(closedPort()) + " dbname=tier user=tier password=hunter2";
    c.pg.connect_timeout = std::chrono::milliseconds(1000);
    TierCore core(c);
    ops::Capabilities caps;
    caps = ops::probeCapabilities(core);  // never throws
    for (const auto* cap : {&caps.invalidate, &caps.warm, &caps.evict, &caps.write_audit, &caps.read_audit, &caps.inspect})
      QVERIFY(!cap->allowed);
    QVERIFY2(contains(caps.invalidate.reason, "Redis could not be asked"), caps.invalidate.reason.c_str());
    QVERIFY2(contains(caps.read_audit.reason, "PostgreSQL could not be reached"), caps.read_audit.reason.c_str());
    QVERIFY(!contains(caps.read_audit.reason, "hunter2"));
    QVERIFY(caps.pg_role.empty());
  }

  void aWrongRedisPasswordIsALoginFailureNotAnAclRefusal() {
    auto c = test::coreConfig();
    c.redis_url = redisFor("ro", "not-the-password");
    TierCore core(c);
    const auto caps = ops::probeCapabilities(core);
    QVERIFY(!caps.invalidate.allowed);
    QVERIFY2(contains(caps.invalidate.reason, "Redis refused the login for user \u2018ro\u2019"), caps.invalidate.reason.c_str());
    QVERIFY(!contains(caps.invalidate.reason, "(ACL)"));
    QVERIFY(!contains(caps.invalidate.reason, "not-the-password"));
    QVERIFY(caps.read_audit.allowed);  // PostgreSQL is fine
  }

  void noRedisMeansNoInvalidateButWarmAndEvictStillWork() {
    auto c = test::coreConfig();
    c.redis_url.clear();
    TierCore core(c);
    const auto caps = ops::probeCapabilities(core);
    QVERIFY(caps.redis_user.empty());
    QVERIFY(!caps.invalidate.allowed);
    QVERIFY(contains(caps.invalidate.reason, "No Redis is configured"));
    QVERIFY(caps.warm.allowed);
    QVERIFY(caps.evict.allowed);
  }
};

QTEST_GUILESS_MAIN(TestCapabilities)
#include "tst_capabilities.moc"
