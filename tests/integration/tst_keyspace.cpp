// TIER_TEST_LABELS: operations
// TIER_TEST_TIMEOUT: 600
// TIER_TEST_ON_CLUSTER
// The keyspace browser, key detail and analysis (ops/keyspace.h, tierctl
// analyze; issue 18) against real servers, single node and cluster.
//
// A few thousand keys are seeded across the namespaces through the cache's own
// write path (TieredCache::fillMany), an entry generation is bumped so 1,200
// old-generation copies remain, and "other" keys get TTLs of each bucket.
// The truth each check compares with is computed here from the seeded key list
// (and redis-cli --scan), never from the code under test.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>
#include <map>
#include <set>

#include "core_fixture.h"
#include "data_digest.h"
#include "process_runner.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/keyspace.h"
#include "tier/redis/redis_client.h"

using namespace tier;

namespace {

constexpr int kOldEntries = 1200;
constexpr int kNewEntries = 300;
constexpr int kSessions = 500;
constexpr int kUsers = 300;
constexpr int kStats = 200;
constexpr int kKnowledge = 100;
constexpr int kOtherPerTtl = 100;  // x 4 TTL buckets
constexpr int kOtherHashes = 10;

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

std::string payloadOf(long long id, std::size_t pad) {
  return "{\"id\":" + std::to_string(id) + ",\"pad\":\"" + std::string(pad, 'x') + "\"}";
}

struct Truth {
  long long keys = 0;
  long long bytes = 0;
  ops::TtlBuckets ttl;
  long long nearHourOrDay = 0;  // keys within a minute of a bucket boundary
};

}  // namespace

class TstKeyspace : public QObject {
  Q_OBJECT

  std::unique_ptr<TierCore> core_;
  std::unique_ptr<redis::RedisClient> admin_;  // the test's own connection (setup, truth)
  std::set<std::string> seeded_;
  QTemporaryDir config_;

  std::vector<std::string> allKeys() {
    auto v = test::scanKeys("*");
    std::sort(v.begin(), v.end());
    return v;
  }

  // Per group: key count, MEMORY USAGE sum and TTL buckets, read key by key here.
  std::map<std::string, Truth> truth() {
    std::map<std::string, Truth> out;
    const auto keys = allKeys();
    std::vector<redis::Command> cmds;
    for (const auto& k : keys) {
      cmds.push_back({"PTTL", k});
      cmds.push_back({"MEMORY", "USAGE", k});
    }
    std::vector<redis::Reply> reps;
    for (std::size_t i = 0; i < cmds.size(); i += 400) {
      std::vector<redis::Command> part(cmds.begin() + static_cast<long>(i),
                                       cmds.begin() + static_cast<long>(std::min(cmds.size(), i + 400)));
      for (auto& r : admin_->pipeline(part)) reps.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      Truth& t = out[ops::keyGroup(keys[i])];
      ++t.keys;
      const long long ttl = reps[2 * i].integer;
      t.bytes += reps[2 * i + 1].integer;
      if (ttl == -1)
        ++t.ttl.none;
      else if (ttl < 3'600'000)
        ++t.ttl.under_1h;
      else if (ttl < 86'400'000)
        ++t.ttl.under_1d;
      else
        ++t.ttl.longer;
      if (std::llabs(ttl - 3'600'000) < 60'000 || std::llabs(ttl - 86'400'000) < 60'000) ++t.nearHourOrDay;
    }
    return out;
  }

  void fill(codec::Namespace ns, const std::vector<std::string>& keys, std::size_t padBase) {
    std::vector<cache::TieredCache::FillItem> items;
    long long i = 0;
    for (const auto& k : keys) {
      items.push_back({k, payloadOf(i, padBase + static_cast<std::size_t>(i % 7) * 40), 1 + i});
      ++i;
      seeded_.insert(k);
    }
    const auto r = core_->cache().fillMany(ns, items);
    QCOMPARE(r.stored, keys.size());
  }

  test::ProcessRun tierctl(QStringList args, const std::string& redisUrl = test::redisUrl()) {
    args << QStringLiteral("--redis") << qs(redisUrl) << QStringLiteral("--pg")
         << qs(test::seededServers().pgConninfo());
    return test::runProcess(test::tierctlProgram(), args, test::isolatedEnvironment(config_.path()), 120000);
  }

  std::vector<std::string> browseAll(const ops::KeyspaceFilter& f, int count, long long* lastDbsize = nullptr,
                                     std::map<std::string, long long>* groups = nullptr) {
    ops::KeyspaceCursor cur;
    std::vector<std::string> out;
    ops::KeyspaceScanOptions opt;
    opt.count = count;
    opt.min_keys = 50;
    for (int guard = 0; guard < 100000; ++guard) {
      auto page = ops::nextKeyspacePage(core_->redis(), f, cur, opt);
      for (auto& k : page.keys) out.push_back(std::move(k));
      if (groups)
        for (const auto& [g, n] : page.groups) (*groups)[g] += n;
      if (lastDbsize) *lastDbsize = page.dbsize;
      if (page.listed != static_cast<long long>(out.size())) {
        qWarning("listed %lld vs %zu", page.listed, out.size());
        return {};
      }
      if (page.done) break;
    }
    return out;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(config_.isValid());
    test::seededServers();
    test::flushRedis();
    auto cfg = test::coreConfig("keyspace");
    cfg.redis.command_timeout = std::chrono::milliseconds(5000);
    core_ = std::make_unique<TierCore>(cfg);
    redis::RedisOptions o;
    o.url = redis::RedisUrl::parse(test::redisUrl());
    o.command_timeout = std::chrono::milliseconds(5000);
    admin_ = std::make_unique<redis::RedisClient>(o);

    std::vector<std::string> keys;
    for (int i = 1; i <= kOldEntries; ++i) keys.push_back(codec::entryKey(i));
    fill(codec::Namespace::Entry, keys, 100);
    // A namespace invalidation: every entry copy above is now an old generation.
    core_->cache().invalidateNamespace(codec::Namespace::Entry);
    keys.clear();
    for (int i = kOldEntries + 1; i <= kOldEntries + kNewEntries; ++i) keys.push_back(codec::entryKey(i));
    fill(codec::Namespace::Entry, keys, 100);
    keys.clear();
    for (int i = 1; i <= kSessions; ++i) keys.push_back(codec::sessionKey(i));
    fill(codec::Namespace::Session, keys, 2000);
    keys.clear();
    for (int i = 1; i <= kUsers; ++i) keys.push_back(codec::userKey(i));
    fill(codec::Namespace::User, keys, 50);
    keys.clear();
    for (int i = 1; i <= kStats; ++i) keys.push_back(codec::statsKey(i, "7d"));
    fill(codec::Namespace::Stats, keys, 30);
    keys.clear();
    for (int i = 1; i <= kKnowledge; ++i) keys.push_back(codec::knowledgeKey("article-" + std::to_string(i)));
    fill(codec::Namespace::Knowledge, keys, 5000);
    // Keys outside the schema, one set per TTL bucket, and a few hashes.
    std::vector<redis::Command> cmds;
    const char* ttls[] = {"", "1800000", "18000000", "259200000"};
    for (int b = 0; b < 4; ++b)
      for (int i = 0; i < kOtherPerTtl; ++i) {
        const std::string k = "other:b" + std::to_string(b) + ":" + std::to_string(i);
        if (*ttls[b])
          cmds.push_back({"SET", k, std::string(20 + i, 'o'), "PX", ttls[b]});
        else
          cmds.push_back({"SET", k, std::string(20 + i, 'o')});
      }
    for (int i = 0; i < kOtherHashes; ++i) cmds.push_back({"HSET", "legacy:h" + std::to_string(i), "f", "v"});
    for (const auto& r : admin_->pipeline(cmds)) QVERIFY2(!r.isError(), r.str.c_str());
  }

  void cleanupTestCase() {
    core_.reset();
    admin_.reset();
  }

  void groupsFollowTheSchema() {
    QCOMPARE(ops::keyGroup(codec::entryKey(5)), std::string("entry"));
    QCOMPARE(ops::keyGroup(codec::statsKey(5, "30d")), std::string("stats"));
    QCOMPARE(ops::keyGroup("tc:nsgen:entry"), std::string("tc"));
    QCOMPARE(ops::keyGroup("tier:fleet:instances"), std::string("fleet"));
    QCOMPARE(ops::keyspaceMatch({"fleet", "m:*"}), std::string("tier:fleet:m:*"));
    QCOMPARE(ops::keyGroup("entry:v2:5"), std::string("entry"));  // another schema version: same namespace
    QCOMPARE(ops::keyGroup("entryx:v1:5"), std::string("other"));
    QCOMPARE(ops::keyGroup("whatever"), std::string("other"));
  }

  void browseListsEveryKeyExactlyOnce() {
    const auto want = allKeys();
    QVERIFY(want.size() > 3000);
    long long dbsize = -1;
    std::map<std::string, long long> groups;
    // COUNT 100: many pages (and on a cluster, several per master), each resumed from the cursor.
    auto got = browseAll({}, 100, &dbsize, &groups);
    const std::set<std::string> unique(got.begin(), got.end());
    QCOMPARE(unique.size(), got.size());  // no duplicates
    QCOMPARE(got.size(), want.size());    // no misses
    QVERIFY(std::equal(unique.begin(), unique.end(), want.begin()));
    QCOMPARE(dbsize, static_cast<long long>(want.size()));
    QCOMPARE(groups["entry"], static_cast<long long>(kOldEntries + kNewEntries));
    QCOMPARE(groups["session"], static_cast<long long>(kSessions));
    QCOMPARE(groups["knowledge"], static_cast<long long>(kKnowledge));
    QCOMPARE(groups["other"], static_cast<long long>(4 * kOtherPerTtl + kOtherHashes));
  }

  void browseWithoutDedupeStillListsEveryKey() {
    ops::KeyspaceCursor cur;
    ops::KeyspaceScanOptions opt;
    opt.dedupe = false;
    std::vector<std::string> got;
    while (true) {
      auto page = ops::nextKeyspacePage(core_->redis(), {}, cur, opt);
      for (auto& k : page.keys) got.push_back(std::move(k));
      if (page.done) break;
    }
    const auto want = allKeys();
    QVERIFY(got.size() >= want.size());  // a rehash may repeat a key; none is missed
    const std::set<std::string> unique(got.begin(), got.end());
    QVERIFY(std::equal(unique.begin(), unique.end(), want.begin(), want.end()));
  }

  void browseResumesAcrossCallsAndMasters() {
    ops::KeyspaceCursor cur;
    ops::KeyspaceScanOptions opt;
    opt.count = 50;
    opt.min_keys = 1;
    opt.max_batches = 1;  // one SCAN call a page: the cursor must carry everything
    std::set<std::string> seen;
    int pages = 0;
    while (true) {
      auto page = ops::nextKeyspacePage(core_->redis(), {"session", ""}, cur, opt);
      ++pages;
      for (const auto& k : page.keys) QVERIFY2(seen.insert(k).second, k.c_str());
      if (page.done) break;
      QVERIFY(pages < 100000);
    }
    QCOMPARE(static_cast<int>(seen.size()), kSessions);
    QVERIFY(pages > 5);
    QCOMPARE(cur.nodes.size(), core_->redis().masters().size());
    // Changing the filter in the middle of a browse is refused, not silently mixed.
    ops::KeyspaceCursor mid;
    ops::nextKeyspacePage(core_->redis(), {"session", ""}, mid, opt);
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::nextKeyspacePage(core_->redis(), {"entry", ""}, mid, opt));
  }

  void filterIsAGlobWithinTheNamespace() {
    // entry:v1:1* — ids starting with 1.
    std::set<std::string> want;
    for (int i = 1; i <= kOldEntries + kNewEntries; ++i)
      if (std::to_string(i)[0] == '1') want.insert(codec::entryKey(i));
    auto got = browseAll({"entry", "v1:1*"}, 1000);
    QCOMPARE(std::set<std::string>(got.begin(), got.end()), want);
    QCOMPARE(got.size(), want.size());
    // The prefix is fixed by the namespace: a glob cannot reach another namespace.
    got = browseAll({"stats", "*"}, 1000);
    QCOMPARE(static_cast<int>(got.size()), kStats);
    for (const auto& k : got) QVERIFY2(k.rfind("stats:", 0) == 0, k.c_str());
    got = browseAll({"user", "v1:[12]?"}, 1000);  // user ids 10-29
    QCOMPARE(static_cast<int>(got.size()), 20);
    // No namespace: the glob is the whole pattern.
    got = browseAll({"", "knowledge:*"}, 1000);
    QCOMPARE(static_cast<int>(got.size()), kKnowledge);
    got = browseAll({"", ""}, 1000);  // empty = everything
    QCOMPARE(got.size(), allKeys().size());
  }

  void hostileFiltersAreRefusedAndChangeNothing() {
    const auto before = test::redisDigest(*core_);
    const std::string controls = std::string("ab") + '\x01' + "c";
    const std::string nul = std::string("a") + '\0' + "b";
    const std::vector<ops::KeyspaceFilter> bad = {
        {"", "*["},
        {"entry", "*["},
        {"", "\\"},
        {"entry", "v1:\\"},
        {"", std::string(600, 'a')},
        {"entry", std::string(513, '*')},
        {"", controls},
        {"session", nul},
        {"", "\xff\xfe*"},
        {"entry", "v1:\xc3("},
        {"bogus", "*"},
        {"Entry", "*"},
        {"", "a\nb"},
        {"other", "*"},
    };
    for (const auto& f : bad) {
      ops::KeyspaceCursor cur;
      try {
        ops::nextKeyspacePage(core_->redis(), f, cur);
        QFAIL(qPrintable(QStringLiteral("accepted ns '%1' glob of %2 bytes").arg(qs(f.ns)).arg(f.glob.size())));
      } catch (const BadInputError& e) {
        const std::string m = e.what();
        QVERIFY2(!m.empty() && m.find('\n') == std::string::npos && m.size() < 200, m.c_str());
      }
      QVERIFY(!cur.started);
    }
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::keyDetail(*core_, ""));
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::keyDetail(*core_, std::string(70000, 'k')));
    QCOMPARE(test::redisDigest(*core_), before);
  }

  void detailDecodesTheEnvelope() {
    const std::string fresh = codec::entryKey(kOldEntries + 7);
    auto d = ops::keyDetail(*core_, fresh);
    QVERIFY(d.exists);
    QCOMPARE(d.group, std::string("entry"));
    QCOMPARE(d.type, std::string("string"));
    QVERIFY2(d.ttl_ms > 0, std::to_string(d.ttl_ms).c_str());
    QVERIFY(d.memory_bytes > d.value_bytes && d.value_bytes > 32);
    QVERIFY(!d.encoding.empty());
    QVERIFY2(d.envelope, d.decode_error.c_str());
    QCOMPARE(d.entity_version, static_cast<std::int64_t>(1 + 6));  // fill(): version 1 + index
    QCOMPARE(d.value_json, payloadOf(6, 100 + 6 * 40));
    QVERIFY(d.written_at_ms > 1'600'000'000'000);
    QVERIFY(d.current_generation.has_value());
    QVERIFY(d.generation_current);
    QVERIFY(d.in_l1);  // fillMany put it into this process's L1 too
    QVERIFY(!d.tombstone);
    QVERIFY(d.unavailable.empty());

    auto old = ops::keyDetail(*core_, codec::entryKey(3));
    QVERIFY(old.envelope);
    QVERIFY(!old.generation_current);
    QVERIFY(old.generation != *old.current_generation);

    auto other = ops::keyDetail(*core_, "other:b1:5");
    QVERIFY(other.exists);
    QVERIFY(!other.envelope);
    QCOMPARE(other.decode_error, std::string(codec::toString(codec::DecodeError::TooShort)));
    QVERIFY(!other.in_l1);
    QVERIFY(other.ttl_ms > 0 && other.ttl_ms <= 1'800'000);

    auto hash = ops::keyDetail(*core_, "legacy:h1");
    QCOMPARE(hash.type, std::string("hash"));
    QVERIFY(!hash.envelope);
    QCOMPARE(hash.ttl_ms, -1LL);

    auto none = ops::keyDetail(*core_, codec::entryKey(999999));
    QVERIFY(!none.exists);
    QCOMPARE(none.ttl_ms, -2LL);
  }

  void analysisOfEverythingIsExact() {
    const auto before = test::redisDigest(*core_);
    ops::AnalyzeOptions opt;
    opt.sample = ops::kMaxAnalyzeSample;
    opt.scan_count = 200;
    opt.pipeline_keys = 150;
    long long progressCalls = 0;
    opt.progress = [&](const ops::AnalyzeOptions::Progress&) { ++progressCalls; };
    const auto a = ops::analyzeKeyspace(*core_, opt);
    const auto t = truth();
    QVERIFY(a.exact);
    QVERIFY(!a.truncated);
    QVERIFY(progressCalls >= 1);
    QCOMPARE(a.vanished, 0LL);
    long long total = 0;
    for (const auto& [g, tr] : t) total += tr.keys;
    QCOMPARE(a.sampled, total);
    QCOMPARE(a.dbsize, total);
    QCOMPARE(a.nodes.size(), core_->redis().masters().size());
    QCOMPARE(a.namespaces.size(), t.size());
    for (const auto& ns : a.namespaces) {
      const Truth& tr = t.at(ns.ns);
      QCOMPARE(ns.sampled_keys, tr.keys);
      QCOMPARE(static_cast<long long>(ns.keys.value + 0.5), tr.keys);
      QCOMPARE(ns.keys.low, ns.keys.high);  // exact: no interval
      QCOMPARE(ns.sampled_bytes, tr.bytes);
      QCOMPARE(static_cast<long long>(ns.bytes.value + 0.5), tr.bytes);
      QCOMPARE(ns.ttl.none, tr.ttl.none);
      const long long drift = std::llabs(ns.ttl.under_1h - tr.ttl.under_1h) +
                              std::llabs(ns.ttl.under_1d - tr.ttl.under_1d) + std::llabs(ns.ttl.longer - tr.ttl.longer);
      QVERIFY2(drift <= 2 * tr.nearHourOrDay, qPrintable(qs(ns.ns)));
    }
    const auto& other = t.at("other");
    QCOMPARE(other.ttl.none, static_cast<long long>(kOtherPerTtl + kOtherHashes));
    QCOMPARE(other.ttl.under_1h, static_cast<long long>(kOtherPerTtl));
    QCOMPARE(other.ttl.under_1d, static_cast<long long>(kOtherPerTtl));
    QCOMPARE(other.ttl.longer, static_cast<long long>(kOtherPerTtl));
    // Old generation: exactly the entry copies filled before the bump.
    QCOMPARE(a.old_generation_keys, static_cast<long long>(kOldEntries));
    for (const auto& ns : a.namespaces)
      QCOMPARE(ns.old_generation_keys, ns.ns == "entry" ? static_cast<long long>(kOldEntries) : 0LL);
    long long oldBytes = 0;
    for (int i = 1; i <= kOldEntries; ++i) oldBytes += admin_->command({"MEMORY", "USAGE", codec::entryKey(i)}).integer;
    QCOMPARE(a.old_generation_bytes, oldBytes);
    QVERIFY(a.generations.count("entry"));
    // The 10 largest: the same sizes as the test's own top 10 (keys of equal size may swap).
    std::vector<long long> sizes;
    for (const auto& k : allKeys()) sizes.push_back(admin_->command({"MEMORY", "USAGE", k}).integer);
    std::sort(sizes.rbegin(), sizes.rend());
    QCOMPARE(a.largest.size(), std::size_t(10));
    for (std::size_t i = 0; i < 10; ++i) QCOMPARE(a.largest[i].bytes, sizes[i]);
    QCOMPARE(a.largest.front().ns, std::string("knowledge"));  // the 5 KB articles
    // The test servers run maxmemory-policy noeviction: no OBJECT FREQ. This core's L1
    // may know keys it filled (hotKeysFallBackToTheL1Sketch checks that fallback on a
    // fresh core); either way the note says why OBJECT FREQ was not used.
    QVERIFY2(a.hot_source == "unavailable" || a.hot_source == "l1_sketch", a.hot_source.c_str());
    QVERIFY(a.hot_source == "l1_sketch" || a.hot.empty());
    for (const auto& h : a.hot) QVERIFY(h.freq >= 2);
    QVERIFY2(a.hot_note.find("noeviction") != std::string::npos, a.hot_note.c_str());
    QCOMPARE(test::redisDigest(*core_), before);
  }

  void sampledAnalysisIsWithinItsStatedError() {
    ops::AnalyzeOptions opt;
    opt.sample = 1000;
    const auto a = ops::analyzeKeyspace(*core_, opt);
    const auto t = truth();
    QVERIFY(!a.exact);
    QVERIFY(a.sampled + a.vanished <= 1000 && a.sampled >= 990);
    long long quotas = 0;
    for (const auto& n : a.nodes) quotas += n.quota;
    QCOMPARE(quotas, 1000LL);
    QVERIFY(!a.method.empty());
    for (const auto& ns : a.namespaces) {
      const double exact = static_cast<double>(t.at(ns.ns).keys);
      QVERIFY(ns.keys.low <= ns.keys.value && ns.keys.value <= ns.keys.high);
      // The stated 95 % interval, widened to ~4.5 sigma so this check fails about once in 100,000 runs.
      const double half = (ns.keys.high - ns.keys.low) / 2 * (4.5 / 1.96) + 2;
      QVERIFY2(std::abs(ns.keys.value - exact) <= half, qPrintable(QStringLiteral("%1: estimated %2 (%3-%4), exact %5")
                                                                       .arg(qs(ns.ns))
                                                                       .arg(ns.keys.value)
                                                                       .arg(ns.keys.low)
                                                                       .arg(ns.keys.high)
                                                                       .arg(exact)));
      const double bytes = static_cast<double>(t.at(ns.ns).bytes);
      const double bhalf = (ns.bytes.high - ns.bytes.low) / 2 * (4.5 / 1.96) + 1000;
      QVERIFY2(std::abs(ns.bytes.value - bytes) <= bhalf, qPrintable(qs(ns.ns)));
    }
    // Old generation share: entries are ~40 % of the keyspace, old ones ~38 %.
    const double oldHalf = (a.old_generation_keys_est.high - a.old_generation_keys_est.low) / 2 * (4.5 / 1.96) + 2;
    QVERIFY(std::abs(a.old_generation_keys_est.value - kOldEntries) <= oldHalf);
  }

  void refusedSampleSizes() {
    ops::AnalyzeOptions opt;
    for (long long bad : {0LL, -1LL, ops::kMaxAnalyzeSample + 1}) {
      opt.sample = bad;
      QVERIFY_THROWS_EXCEPTION(BadInputError, ops::analyzeKeyspace(*core_, opt));
    }
  }

  void tierctlAnalyze() {
    const auto before = test::redisDigest(*core_);
    auto r = tierctl(
        {QStringLiteral("analyze"), QStringLiteral("--json"), QStringLiteral("--sample"), QStringLiteral("10000000")});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto o = QJsonDocument::fromJson(r.out).object();
    QVERIFY(o.value(QStringLiteral("exact")).toBool());
    const auto t = truth();
    QCOMPARE(o.value(QStringLiteral("namespaces")).toArray().size(), static_cast<qsizetype>(t.size()));
    for (const auto& v : o.value(QStringLiteral("namespaces")).toArray()) {
      const auto ns = v.toObject();
      const auto& tr = t.at(ns.value(QStringLiteral("namespace")).toString().toStdString());
      QCOMPARE(
          static_cast<long long>(ns.value(QStringLiteral("keys")).toObject().value(QStringLiteral("value")).toDouble()),
          tr.keys);
      QCOMPARE(static_cast<long long>(ns.value(QStringLiteral("sampled_bytes")).toDouble()), tr.bytes);
      QCOMPARE(
          static_cast<long long>(ns.value(QStringLiteral("ttl")).toObject().value(QStringLiteral("none")).toDouble()),
          tr.ttl.none);
    }
    QCOMPARE(static_cast<long long>(
                 o.value(QStringLiteral("old_generation")).toObject().value(QStringLiteral("sampled_keys")).toDouble()),
             static_cast<long long>(kOldEntries));
    QVERIFY(o.value(QStringLiteral("old_generation")).toObject().value(QStringLiteral("reclaimable")).toBool());
    QCOMPARE(o.value(QStringLiteral("largest")).toArray().size(), 10);
    QCOMPARE(o.value(QStringLiteral("hot")).toObject().value(QStringLiteral("source")).toString(),
             QStringLiteral("unavailable"));
    // Text output: one row per namespace.
    r = tierctl({QStringLiteral("analyze"), QStringLiteral("--sample"), QStringLiteral("500")});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(r.out.contains("namespace") && r.out.contains("entry") && r.out.contains("old generation"));

    // Bad --sample: exit 2, one line, nothing sent.
    for (const QString& bad : {QStringLiteral("0"), QStringLiteral("-5"), QStringLiteral("junk"),
                               QStringLiteral("10000001"), QStringLiteral("1e3"), QString()}) {
      r = tierctl({QStringLiteral("analyze"), QStringLiteral("--sample"), bad});
      QVERIFY2(r.code == 2, qPrintable(bad + QStringLiteral(": ") + QString::fromUtf8(r.err)));
      QVERIFY2(test::isOneLineError(r.err), r.err.constData());
    }
    r = tierctl({QStringLiteral("analyze"), QStringLiteral("extra")});
    QCOMPARE(r.code, 2);
    // Unreachable Redis: exit 3.
    r = tierctl({QStringLiteral("analyze")}, "redis://127.0.0.1:1");
    QVERIFY2(r.code == 3, r.err.constData());
    QVERIFY2(test::isOneLineError(r.err), r.err.constData());
    QCOMPARE(test::redisDigest(*core_), before);
  }

  void readOnlyAclUserBrowsesAndAnalyzes() {
    if (test::onCluster()) QSKIP("the ACL user is created on the single node (per-node ACLs: tst_least_privilege)");
    auto& servers = test::seededServers();
    servers.redis().cli("ACL SETUSER ks_ro reset on '>ks-ro-pw-18' '~*' +@read +@connection -@write");
    auto cfg = test::coreConfig("keyspace-ro");
    cfg.redis_url = "redis://ks_ro:ks-ro-pw-18@127.0.0.1:" + std::to_string(servers.redis().port()) + "/0";
    TierCore ro(cfg);
    const auto before = test::redisDigest(*core_);
    ops::KeyspaceCursor cur;
    std::size_t listed = 0;
    while (true) {
      auto page = ops::nextKeyspacePage(ro.redis(), {"user", ""}, cur);
      listed += page.keys.size();
      if (page.done) break;
    }
    QCOMPARE(static_cast<int>(listed), kUsers);
    auto d = ops::keyDetail(ro, codec::userKey(4));
    QVERIFY2(d.envelope, d.decode_error.c_str());
    QVERIFY(d.memory_bytes > 0);
    ops::AnalyzeOptions opt;
    opt.sample = ops::kMaxAnalyzeSample;
    const auto a = ops::analyzeKeyspace(ro, opt);
    QVERIFY(a.exact);
    QCOMPARE(a.old_generation_keys, static_cast<long long>(kOldEntries));
    // CONFIG is not a read command: the policy (and so hot keys) is unknown, and said so.
    QVERIFY(a.maxmemory_policy.empty());
    QCOMPARE(a.hot_source, std::string("unavailable"));
    QVERIFY(!a.unavailable.empty());
    QCOMPARE(test::redisDigest(*core_), before);
    auto r = tierctl({QStringLiteral("analyze"), QStringLiteral("--json")}, cfg.redis_url);
    QVERIFY2(r.code == 0, r.err.constData());
  }

  void hotKeysUnderAnLfuPolicy() {
    // CONFIG SET on every master; restored at the end. lfu-log-factor 0: every access counts
    // one, so 300 GETs take the key's counter to its ceiling (255) whatever it held before
    // (an LRU clock read as an LFU counter just after the switch).
    const auto masters = admin_->masters();
    for (const auto& m : masters) {
      QCOMPARE(admin_->pipelineOn(m, {{"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"}}).at(0).str,
               std::string("OK"));
      admin_->pipelineOn(m, {{"CONFIG", "SET", "lfu-log-factor", "0"}});
    }
    const std::string hot = codec::userKey(42);
    for (int i = 0; i < 300; ++i) admin_->get(hot);
    ops::AnalyzeOptions opt;
    opt.sample = ops::kMaxAnalyzeSample;
    const auto a = ops::analyzeKeyspace(*core_, opt);
    const long long hotFreq = admin_->command({"OBJECT", "FREQ", hot}).integer;
    for (const auto& m : masters) {
      admin_->pipelineOn(m, {{"CONFIG", "SET", "maxmemory-policy", "noeviction"}});
      admin_->pipelineOn(m, {{"CONFIG", "SET", "lfu-log-factor", "10"}});
    }
    QCOMPARE(a.hot_source, std::string("object_freq"));
    QCOMPARE(a.maxmemory_policy, std::string("allkeys-lfu"));
    QCOMPARE(hotFreq, 255LL);
    QCOMPARE(a.hot.size(), std::size_t(10));
    QCOMPARE(a.hot.front().freq, 255LL);
    for (std::size_t i = 1; i < a.hot.size(); ++i) QVERIFY(a.hot[i - 1].freq >= a.hot[i].freq);
    // The hot key is listed unless ten keys tie with it at the ceiling.
    const bool listed = std::any_of(a.hot.begin(), a.hot.end(), [&](const auto& h) { return h.key == hot; });
    QVERIFY(listed || a.hot.back().freq == 255);
  }

  // Without an LFU policy, hot keys come from this process's own L1 access
  // sketch: none for a core that was asked for nothing (and the note says why),
  // the keys it was asked for most once it has been.
  void hotKeysFallBackToTheL1Sketch() {
    TierCore fresh(test::coreConfig("keyspace-hot"));
    ops::AnalyzeOptions opt;
    opt.sample = ops::kMaxAnalyzeSample;
    const auto before = ops::analyzeKeyspace(fresh, opt);
    QCOMPARE(before.hot_source, std::string("unavailable"));
    QVERIFY(before.hot.empty());
    QVERIFY2(before.hot_note.find("noeviction") != std::string::npos, before.hot_note.c_str());
    QVERIFY2(before.hot_note.find("sketch") != std::string::npos, before.hot_note.c_str());
    // Reads through the fresh core's cache (L2 holds both: the loader is never called).
    const std::string hot = codec::sessionKey(1), warm = codec::sessionKey(2);
    const cache::TieredCache::Loader never = [] () -> std::optional<cache::Loaded> {
      throw std::runtime_error("the loader ran: the key was not in L2");
    };
    for (int i = 0; i < 12; ++i) QVERIFY(fresh.cache().read(codec::Namespace::Session, hot, never).value);
    for (int i = 0; i < 3; ++i) QVERIFY(fresh.cache().read(codec::Namespace::Session, warm, never).value);
    QVERIFY(fresh.l1().accessFrequency(hot) > fresh.l1().accessFrequency(warm));
    QCOMPARE(fresh.l1().accessFrequency("no:such:key"), 0u);
    const auto a = ops::analyzeKeyspace(fresh, opt);
    QCOMPARE(a.hot_source, std::string("l1_sketch"));
    QCOMPARE(a.hot.size(), std::size_t(2));
    QCOMPARE(a.hot[0].key, hot);
    QCOMPARE(a.hot[1].key, warm);
    QCOMPARE(a.hot[0].freq, static_cast<long long>(fresh.l1().accessFrequency(hot)));
    QVERIFY2(a.hot_note.find("L1 access-frequency sketch") != std::string::npos, a.hot_note.c_str());
  }

  // Runs after every other check: it removes the old-generation copies.
  void reclaimIsGuardedAndCountsFirst() {
    const auto before = test::redisDigest(*core_);
    auto r = tierctl({QStringLiteral("analyze"), QStringLiteral("--reclaim"), QStringLiteral("--yes"),
                      QStringLiteral("--read-only")});
    QVERIFY2(r.code == 4, r.err.constData());
    QVERIFY2(test::isOneLineError(r.err), r.err.constData());
    {
      // Profile tags, as the console writes them (tst_tierctl::profileTagsGuardDestructiveCommands).
      QSettings settings(config_.path() + QStringLiteral("/TierConsole/tierconsole.conf"), QSettings::IniFormat);
      for (const QString& name : {QStringLiteral("ro"), QStringLiteral("prod")}) {
        settings.setValue(QStringLiteral("profiles/%1/redis_url").arg(name), qs(test::redisUrl()));
        settings.setValue(QStringLiteral("profiles/%1/pg_conninfo").arg(name), qs(test::seededServers().pgConninfo()));
      }
      settings.setValue(QStringLiteral("profiles/ro/read_only"), true);
      settings.setValue(QStringLiteral("profiles/prod/production"), true);
      settings.sync();
      QCOMPARE(settings.status(), QSettings::NoError);
    }
    r = tierctl({QStringLiteral("analyze"), QStringLiteral("--reclaim"), QStringLiteral("--yes"),
                 QStringLiteral("--profile"), QStringLiteral("ro")});
    QVERIFY2(r.code == 4, r.err.constData());
    QVERIFY2(r.err.contains("profile 'ro' is marked read-only"), r.err.constData());
    r = tierctl(
        {QStringLiteral("analyze"), QStringLiteral("--reclaim"), QStringLiteral("--profile"), QStringLiteral("prod")});
    QVERIFY2(r.code == 2, r.err.constData());
    QVERIFY2(r.err.contains("tagged production") && r.err.contains("--yes"), r.err.constData());
    // The analysis itself changes nothing: allowed on a read-only profile.
    r = tierctl(
        {QStringLiteral("analyze"), QStringLiteral("--profile"), QStringLiteral("ro"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    r = tierctl({QStringLiteral("analyze"), QStringLiteral("--reclaim")});  // no terminal, no --yes
    QVERIFY2(r.code == 2, r.err.constData());
    r = tierctl({QStringLiteral("analyze"), QStringLiteral("--reclaim"), QStringLiteral("--yes"),
                 QStringLiteral("--sample"), QStringLiteral("5")});
    QVERIFY2(r.code == 2, r.err.constData());
    r = tierctl({QStringLiteral("analyze"), QStringLiteral("--yes")});
    QVERIFY2(r.code == 2, r.err.constData());
    if (!test::onCluster()) {
      // A read-only ACL user: UNLINK is refused before anything goes.
      test::seededServers().redis().cli("ACL SETUSER ks_ro reset on '>ks-ro-pw-18' '~*' +@read +@connection -@write");
      r = tierctl({QStringLiteral("analyze"), QStringLiteral("--reclaim"), QStringLiteral("--yes")},
                  "redis://ks_ro:ks-ro-pw-18@127.0.0.1:" + std::to_string(test::seededServers().redis().port()) + "/0");
      QVERIFY2(r.code == 4, r.err.constData());
      QVERIFY2(!r.err.contains("ks-ro-pw-18"), r.err.constData());
    }
    r = tierctl({QStringLiteral("analyze"), QStringLiteral("--reclaim"), QStringLiteral("--dry-run"),
                 QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto o = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(static_cast<long long>(o.value(QStringLiteral("matched")).toDouble()),
             static_cast<long long>(kOldEntries));
    QCOMPARE(o.value(QStringLiteral("deleted")).toDouble(), 0.0);
    QCOMPARE(test::redisDigest(*core_), before);
  }

  void reclaimDeletesOnlyOldGenerationCopies() {
    const auto before = allKeys();
    auto r = tierctl(
        {QStringLiteral("analyze"), QStringLiteral("--reclaim"), QStringLiteral("--yes"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto o = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(static_cast<long long>(o.value(QStringLiteral("matched")).toDouble()),
             static_cast<long long>(kOldEntries));
    QCOMPARE(static_cast<long long>(o.value(QStringLiteral("deleted")).toDouble()),
             static_cast<long long>(kOldEntries));
    const auto auditId = static_cast<std::int64_t>(o.value(QStringLiteral("audit_id")).toDouble());
    QVERIFY(auditId > 0);
    std::set<std::string> want(before.begin(), before.end());
    for (int i = 1; i <= kOldEntries; ++i) QVERIFY(want.erase(codec::entryKey(i)) == 1);
    const auto after = allKeys();
    QCOMPARE(std::set<std::string>(after.begin(), after.end()), want);
    bool audited = false;
    for (const auto& row : ops::readAudit(*core_, 50, "reclaim"))
      if (row.id == auditId) {
        audited = true;
        QCOMPARE(row.action, std::string("reclaim.old_generation"));
        QCOMPARE(row.matched, static_cast<long long>(kOldEntries));
        QCOMPARE(row.affected, static_cast<long long>(kOldEntries));
        QCOMPARE(row.result, std::string("ok"));
        QVERIFY(!row.dry_run);
      }
    QVERIFY(audited);
    ops::AnalyzeOptions opt;
    opt.sample = ops::kMaxAnalyzeSample;
    QCOMPARE(ops::analyzeKeyspace(*core_, opt).old_generation_keys, 0LL);
  }
};

QTEST_GUILESS_MAIN(TstKeyspace)
#include "tst_keyspace.moc"
