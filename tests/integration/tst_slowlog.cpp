// The server panel's SLOWLOG entries (issue 13, item 4) from a real Redis:
// with slowlog-log-slower-than 0 every command is logged, and the health
// report must carry them with passwords masked (also the ones Redis itself
// logs verbatim, e.g. a redis:// URL inside a value) and long arguments cut;
// a user that may not run CONFIG sees the threshold as unknown, not an error.
// TIER_TEST_ON_CLUSTER
#include <QtTest>

#include "core_fixture.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/health.h"
#include "tier/redis/redis_client.h"

using namespace tier;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The test's own client (not the core's): it changes server settings.
std::unique_ptr<redis::RedisClient> adminClient() {
  redis::RedisOptions o;
  o.url = redis::RedisUrl::parse(test::redisUrl());
  return std::make_unique<redis::RedisClient>(o);
}

// Masters and replicas alike: health reads the slowlog of every data node.
void onEveryNode(redis::RedisClient& r, const std::vector<redis::Command>& cmds) {
  std::vector<std::string> nodes;
  for (const auto& n : r.topology(true))  // probing opens the replicas' pools too
    if (n.role != "sentinel") nodes.push_back(n.address);
  for (const auto& m : nodes) {
    for (const auto& c : cmds) {
      try {
        r.pipelineOn(m, {c});
      } catch (const PermissionError&) {
        // AUTH with a wrong password: refused, as intended (it is still logged or not, per Redis).
      }
    }
  }
}

const ops::SlowlogEntry* find(const std::vector<ops::SlowlogEntry>& entries, const std::string& needle) {
  for (const auto& e : entries)
    if (contains(e.command, needle)) return &e;
  return nullptr;
}

}  // namespace

class TestSlowlog : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { test::seededServers(); }

  void cleanupTestCase() {
    auto r = adminClient();
    onEveryNode(*r, {{"CONFIG", "SET", "slowlog-log-slower-than", "10000"}, {"SLOWLOG", "RESET"}});
  }

  void entriesAreMaskedAndCut() {
    auto r = adminClient();
    onEveryNode(*r, {{"CONFIG", "SET", "slowlog-log-slower-than", "0"}, {"SLOWLOG", "RESET"}});
    const std::string longValue(300, 'x');
    onEveryNode(*r, {{"AUTH", "hunter2-secret"},
                       {"CONFIG", "SET", "masterauth", "s3cretpw"},
                       {"CONFIG", "SET", "masterauth", ""},
                       {"ECHO", "redis://app:hunter2-secret@db.example:6379/0"},
                       {"ECHO", "slowlog-test-long:" + longValue}});

    TierCore core(test::coreConfig("tst_slowlog"));
    const auto h = ops::checkHealth(core);
    QVERIFY2(h.redis.ok, h.redis.error.c_str());
    QVERIFY2(h.redis.slowlog_error.empty(), h.redis.slowlog_error.c_str());
    QVERIFY(h.redis.slowlog_threshold_known);
    QCOMPARE(h.redis.slowlog_log_slower_than_us, 0LL);
    QVERIFY(!h.redis.slowlog.empty());

    for (const auto& e : h.redis.slowlog) {
      QVERIFY2(!contains(e.command, "hunter2"), e.command.c_str());
      QVERIFY2(!contains(e.command, "s3cretpw"), e.command.c_str());
      QVERIFY2(!contains(e.client_name, "hunter2"), e.client_name.c_str());
      QVERIFY(!e.node.empty());
      QVERIFY(e.at_ms > 0);
      QVERIFY(e.duration_us >= 0);
    }
    // Redis logs an argument inside a value as it is; the core masks it.
    const auto* url = find(h.redis.slowlog, "redis://app:");
    QVERIFY2(url, "the ECHO with a URL is not in the slowlog");
    QVERIFY2(contains(url->command, "redis://app:***@db.example:6379/0"), url->command.c_str());
    QVERIFY2(!url->client.empty(), "no client address");
    // CONFIG SET masterauth was logged (Redis 7 marks the value "(redacted)"; an older one does not).
    QVERIFY2(find(h.redis.slowlog, "masterauth"), "CONFIG SET masterauth is not in the slowlog");

    const auto* cut = find(h.redis.slowlog, "slowlog-test-long:");
    QVERIFY2(cut, "the long ECHO is not in the slowlog");
    const std::string expected = "ECHO slowlog-test-long:" + std::string(64 - 18, 'x') + "\u2026";
    QCOMPARE(cut->command, expected);

    // Every master's entries are there, each named by its node.
    for (const auto& m : r->masters()) {
      bool seen = false;
      for (const auto& e : h.redis.slowlog) seen = seen || (e.node == m && contains(e.command, "slowlog-test-long:"));
      QVERIFY2(seen, ("no entry from " + m).c_str());
    }
    // Newest first.
    for (std::size_t i = 1; i < h.redis.slowlog.size(); ++i)
      QVERIFY(h.redis.slowlog[i - 1].at_ms >= h.redis.slowlog[i].at_ms);
  }

  void thresholdOffIsReported() {
    auto r = adminClient();
    onEveryNode(*r, {{"CONFIG", "SET", "slowlog-log-slower-than", "-1"}});
    TierCore core(test::coreConfig("tst_slowlog"));
    const auto h = ops::checkHealth(core);
    QVERIFY(h.redis.slowlog_threshold_known);
    QCOMPARE(h.redis.slowlog_log_slower_than_us, -1LL);
    QVERIFY(!h.redis.slowlog_threshold_varies);
    onEveryNode(*r, {{"CONFIG", "SET", "slowlog-log-slower-than", "10000"}});
  }

  // An ACL user without CONFIG: entries still read, the threshold "unknown (CONFIG not permitted)".
  void configRefusedByAcl() {
    if (test::onCluster()) QSKIP("the ACL user is created on the single node only");
    auto& servers = test::seededServers();
    servers.redis().cli("ACL SETUSER slowro on '>slowpw' '~*' +@read +@connection +slowlog -config");
    servers.redis().cli("CONFIG SET slowlog-log-slower-than 0");
    servers.redis().cli("ECHO slowlog-test-acl");
    auto cfg = test::coreConfig("tst_slowlog");
    cfg.redis_url = "redis://slowro:slowpw@127.0.0.1:" + std::to_string(servers.redis().port()) + "/0";
    TierCore core(cfg);
    const auto h = ops::checkHealth(core);
    servers.redis().cli("CONFIG SET slowlog-log-slower-than 10000");
    QVERIFY2(h.redis.ok, h.redis.error.c_str());
    QVERIFY(!h.redis.slowlog_threshold_known);
    QCOMPARE(h.redis.slowlog_threshold_error, std::string("CONFIG not permitted"));
    QVERIFY2(h.redis.slowlog_error.empty(), h.redis.slowlog_error.c_str());
    QVERIFY2(find(h.redis.slowlog, "slowlog-test-acl"), "entries missing for a user without CONFIG");

    // Without SLOWLOG as well: no entries, a reason, health still ok.
    servers.redis().cli("ACL SETUSER slowro -slowlog");
    TierCore core2(cfg);
    const auto h2 = ops::checkHealth(core2);
    QVERIFY2(h2.redis.ok, h2.redis.error.c_str());
    QVERIFY(h2.redis.slowlog.empty());
    QVERIFY2(contains(h2.redis.slowlog_error, "not permitted"), h2.redis.slowlog_error.c_str());
    servers.redis().cli("ACL DELUSER slowro");
  }
};

QTEST_GUILESS_MAIN(TestSlowlog)
#include "tst_slowlog.moc"
