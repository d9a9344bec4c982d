// Cross-instance L1 coherence through the invalidation backplane (cache/backplane.h),
// against real servers: two processes sharing keys, the pub/sub link killed and
// Redis restarted, a hung Redis noticed, and fills that never publish.
// TIER_TEST_LABELS: concurrency;reliability
// TIER_TEST_TIMEOUT: 600
// TIER_TEST_RUN_SERIAL
#include <QElapsedTimer>
#include <QProcess>
#include <QTest>
#include <QThread>

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tier/internal/tier_access.h"
#include "coherence_history.h"
#include "core_fixture.h"
#include "reliability_report.h"
#include "timing.h"
#include "test_paths.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/health.h"
#include "tier/ops/invalidation.h"
#include "tier/ops/warming.h"
#include "tier/cache/backplane.h"

using namespace tier;
using namespace std::chrono_literals;

namespace {

using namespace tier::test::coherence;

// The issue's target: a read that starts this long after another instance's
// acknowledged write must see it.
constexpr double kWindowTargetMs = 50.0;
const QString kCommand = QStringLiteral("ctest --test-dir build -R tst_coherence");

QString ms(double v) { return QString::number(v, 'f', v < 10 ? 2 : 1) + QStringLiteral(" ms"); }

long long publishCalls(test::TestRedis& r) {
  const std::string info = r.cli("INFO commandstats");
  const auto at = info.find("cmdstat_publish:calls=");
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + std::strlen("cmdstat_publish:calls=")));
}

cache::BackplaneStats bpStats(TierCore& c) { return c.backplane()->stats(); }

struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, open = false;
  void enterAndWait() {
    std::unique_lock lk(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lk, [&] { return open; });
  }
  void waitEntered() {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return entered; });
  }
  void release() {
    std::lock_guard lk(mu);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

class TestCoherence : public QObject {
  Q_OBJECT
  std::unique_ptr<test::TestRedis> redis;  // our own: some tests kill its clients or restart it

  CoreConfig config() {
    auto c = test::coreConfig("coherence");
    c.redis_url = redis->url();
    return c;
  }

  // Runs two peers (A, B) over `ids` for `durationMs` while `during` runs on
  // this thread; returns their merged history.
  History runPeers(const std::string& redisUrl, const std::vector<int>& ids, int durationMs,
                   const std::function<void(std::int64_t startNs)>& during = {}) {
    const QString peer = QString::fromStdString(test::binaryDir() + "/tests/coherence_peer");
    if (!QFile::exists(peer)) qFatal("coherence_peer not built at %s", qPrintable(peer));
    QStringList idList;
    for (int id : ids) idList << QString::number(id);
    const std::int64_t start = monoNs() + 2000 * kMs;  // both set up (link up, L1 warm) before it
    const std::string dir = test::makeTempDir();
    std::vector<std::unique_ptr<QProcess>> procs;
    std::vector<std::string> outs;
    for (const char* name : {"A", "B"}) {
      outs.push_back(dir + "/history-" + name + ".txt");
      auto p = std::make_unique<QProcess>();
      p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
      p->start(peer, {QStringLiteral("--redis"), QString::fromStdString(redisUrl), QStringLiteral("--pg"),
                      QString::fromStdString(test::seededServers().pgConninfo()), QStringLiteral("--name"),
                      QLatin1String(name), QStringLiteral("--ids"), idList.join(QLatin1Char(',')),
                      QStringLiteral("--start-ns"), QString::number(start), QStringLiteral("--duration-ms"),
                      QString::number(durationMs), QStringLiteral("--out"), QString::fromStdString(outs.back())});
      procs.push_back(std::move(p));
    }
    for (auto& p : procs)
      if (!p->waitForStarted(10000)) qFatal("coherence_peer did not start");
    if (during) during(start);
    for (auto& p : procs) {
      if (!p->waitForFinished(durationMs + 120'000)) qFatal("coherence_peer did not finish");
      if (p->exitStatus() != QProcess::NormalExit || p->exitCode() != 0)
        qFatal("coherence_peer failed (exit %d)", p->exitCode());
    }
    History h;
    for (int i = 0; i < 2; ++i) load(outs[static_cast<std::size_t>(i)], i, h);
    test::removeTree(dir);
    return h;
  }

 private Q_SLOTS:
  void initTestCase() {
    test::seededServers();
    redis = std::make_unique<test::TestRedis>();
  }
  void init() {
    if (!redis->process().isRunning()) redis->restart();
    redis->cli("FLUSHALL");
  }
  void cleanupTestCase() { redis.reset(); }

  void messagesRoundTrip() {
    cache::DecodedInvalidation d;
    const cache::Invalidation inv{cache::Invalidation::Kind::Pattern, "entry:v1:1|2*"};
    QVERIFY(cache::decodeInvalidation(cache::encodeInvalidation(0xfeedULL, 42, 1234567, inv), d));
    QCOMPARE(d.instance, 0xfeedULL);
    QCOMPARE(d.seq, 42ULL);
    QCOMPARE(d.sent_unix_ns, 1234567LL);
    QVERIFY(d.inv.kind == cache::Invalidation::Kind::Pattern);
    QCOMPARE(d.inv.target, inv.target);
    for (const char* bad : {"", "tc1|", "tc2|000000000000feed|1|1|K|k", "tc1|feed|1|1|K|k",
                            "tc1|000000000000feed|x|1|K|k", "tc1|000000000000feed|1|1|Z|k"})
      QVERIFY2(!cache::decodeInvalidation(bad, d), bad);
  }

  // One instance's write drops the other's L1 copy within the window.
  void writeInOneInstanceReachesTheOther() {
    TierCore a(config()), b(config());
    const std::int64_t id = 21;
    QVERIFY(a.entries().get(id).value);
    QCOMPARE(a.entries().get(id).source, cache::Source::L1);
    QVERIFY(a.backplane() && a.backplane()->linked());
    auto before = a.entries().get(id).value->version;
    auto e = b.entries().loadFromDb(id).value();
    const auto t0 = monoNs();
    auto updated = b.entries().update(id, repo::EntryDraft{"from b", e.content, 4, e.tags});
    QVERIFY(updated.version > before);
    QTRY_VERIFY_WITH_TIMEOUT(a.entries().get(id).value->version == updated.version, 2000);
    qInfo("seen by the other instance after %.2f ms", static_cast<double>(monoNs() - t0) / kMs);
    QVERIFY(bpStats(a).received >= 1);
    QCOMPARE(bpStats(b).ignored_own >= 1, true);
    // Health carries the link.
    const auto h = ops::checkHealth(a);
    QVERIFY(h.backplane.enabled);
    QCOMPARE(QLatin1String(cache::toString(h.backplane.link)), QLatin1String("up"));
  }

  // Hand-made messages: a hole in a sender's sequence flushes L1; garbage and
  // our own echo change nothing.
  void sequenceGapFlushesL1() {
    TierCore a(config());
    const auto key = codec::entryKey(51);
    a.entries().get(51);
    QVERIFY(tier::internal::TierAccess::l1(a).contains(key));
    const auto s0 = bpStats(a);
    auto send = [&](std::uint64_t sender, int seq, const std::string& target) {
      char id[17];
      std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(sender));
      redis->cli("PUBLISH tc:inval 'tc1|" + std::string(id) + "|" + std::to_string(seq) + "|1|K|" + target + "'");
    };
    send(0xabcULL, 1, "entry:v1:999999");
    QTRY_COMPARE_WITH_TIMEOUT(bpStats(a).received, s0.received + 1, 2000);
    QVERIFY(tier::internal::TierAccess::l1(a).contains(key));  // another key: nothing else dropped
    send(a.backplane()->instanceId(), 7, key);
    QTRY_COMPARE_WITH_TIMEOUT(bpStats(a).ignored_own, s0.ignored_own + 1, 2000);
    redis->cli("PUBLISH tc:inval 'not a message'");
    QTRY_COMPARE_WITH_TIMEOUT(bpStats(a).malformed, s0.malformed + 1, 2000);
    QVERIFY(tier::internal::TierAccess::l1(a).contains(key));
    send(0xabcULL, 3, "entry:v1:999998");  // 2 never arrived
    QTRY_COMPARE_WITH_TIMEOUT(bpStats(a).gaps, s0.gaps + 1, 2000);
    QVERIFY(bpStats(a).flushes > s0.flushes);
    QVERIFY(!tier::internal::TierAccess::l1(a).contains(key));
    QVERIFY(a.backplane()->linked());
  }

  // Console operations in one instance reach the other instance's L1.
  void operationsReachOtherInstances_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("key") << int(ops::InvalidateKind::Key) << QByteArray("entry:v1:41");
    QTest::newRow("pattern") << int(ops::InvalidateKind::Pattern) << QByteArray("entry:v1:4*");
    QTest::newRow("namespace") << int(ops::InvalidateKind::Namespace) << QByteArray("entry");
  }
  void operationsReachOtherInstances() {
    QFETCH(int, kind);
    QFETCH(QByteArray, target);
    TierCore a(config()), b(config());
    const auto key = codec::entryKey(41);
    a.entries().get(41);
    QCOMPARE(a.entries().get(41).source, cache::Source::L1);
    const auto received = bpStats(a).received;
    ops::invalidate(b, {static_cast<ops::InvalidateKind>(kind), target.toStdString(), false});
    QTRY_VERIFY_WITH_TIMEOUT(bpStats(a).received > received, 2000);
    QVERIFY(!tier::internal::TierAccess::l1(a).contains(key));
    QVERIFY(a.entries().get(41).source != cache::Source::L1);
  }

  void userInvalidationReachesOtherInstances() {
    TierCore a(config()), b(config());
    const auto user = a.entries().get(42).value->user_id;
    const auto key = codec::userKey(user);
    a.users().get(user);
    QVERIFY(tier::internal::TierAccess::l1(a).contains(key));
    ops::invalidate(b, {ops::InvalidateKind::User, std::to_string(user), false});
    QTRY_VERIFY_WITH_TIMEOUT(!tier::internal::TierAccess::l1(a).contains(key), 2000);
  }

  // Two processes write and read the same keys for 20 s; the history shows how
  // long one instance's reads may lag the other's acknowledged writes.
  void twoInstancesSharedKeys() {
    const auto h = runPeers(test::seededServers().redisUrl(), {101, 102, 103, 104, 105, 106, 107, 108}, 20000);
    QVERIFY2(h.errors.empty(), h.errors.empty() ? "" : h.errors.front().c_str());
    QVERIFY(h.writes.size() > 200);
    QVERIFY(h.reads.size() > 2000);
    const auto v = check(h, kWindowTargetMs * test::timingSlack());
    long l1 = 0;
    for (const auto& s : h.stats) l1 += std::stol(s.count("received") ? s.at("received") : std::string("0"));
    qInfo("writes=%zu reads=%zu messages received=%ld window p50=%.2f p99=%.2f max=%.2f ms stale after %.0f ms=%ld own stale=%ld marked stale=%ld",
          h.writes.size(), h.reads.size(), l1, percentile(v.windows_ms, 0.5), v.p99_ms, v.max_ms, kWindowTargetMs,
          v.stale_after_window, v.own_stale, v.marked_stale);
    for (const auto& s : h.stats) QCOMPARE(QString::fromStdString(s.at("link")), QStringLiteral("up"));
    const bool p99ok = v.p99_ms <= kWindowTargetMs * test::timingSlack();
    test::reportFigure({QStringLiteral("Two instances, shared keys (2 processes, 20 s)"),
                        QStringLiteral("staleness window p99 (other instance's write ack → its reads see it)"),
                        ms(v.p99_ms), QStringLiteral("≤ 50 ms"), p99ok, kCommand});
    test::reportFigure({QStringLiteral("Two instances, shared keys (2 processes, 20 s)"),
                        QStringLiteral("stale reads after the window: older than a version the reading instance had "
                                       "already read, or than its own write (of %1 reads)")
                            .arg(h.reads.size()),
                        QString::number(v.regressions + v.own_stale), QStringLiteral("0"),
                        v.regressions + v.own_stale == 0, kCommand});
    test::reportFigure({QStringLiteral("Two instances, shared keys (2 processes, 20 s)"),
                        QStringLiteral("staleness window max; reads stale > 50 ms after the other's ack (the tail "
                                       "beyond p99; 2 cores shared by both processes and both servers)"),
                        QStringLiteral("%1; %2").arg(ms(v.max_ms)).arg(v.stale_after_window), QStringLiteral("—"), true,
                        kCommand});
    QVERIFY2(p99ok, qPrintable(ms(v.p99_ms)));
    QCOMPARE(v.regressions, 0L);
    QCOMPARE(v.own_stale, 0L);
  }

  // The same two processes while the parent kills their subscriber links
  // (CLIENT KILL TYPE pubsub) every 1.5 s and restarts Redis once.
  void pubsubLinkKilled() {
    long kills = 0;
    double restartMs = 0;
    std::int64_t restartAt = 0, restartedAt = 0;
    const auto h = runPeers(redis->url(), {111, 112, 113, 114, 115, 116}, 12000, [&](std::int64_t start) {
      while (monoNs() < start) QThread::msleep(20);
      const auto end = start + 11000 * kMs;
      bool restarted = false;
      while (monoNs() < end) {
        QThread::msleep(1500);
        if (!restarted && monoNs() > start + 5000 * kMs) {
          const auto t = monoNs();
          restartAt = t;
          redis->kill();
          QThread::msleep(500);
          redis->restart();
          restartedAt = monoNs();
          restartMs = static_cast<double>(monoNs() - t) / kMs;
          restarted = true;
          continue;
        }
        redis->cli("CLIENT KILL TYPE pubsub");
        ++kills;
      }
    });
    const auto v = check(h, kWindowTargetMs * test::timingSlack());
    for (std::size_t i = 0; i < std::min<std::size_t>(v.stale_at.size(), 10); ++i)  // where, if any
      qInfo("stale read at %+.0f ms from the Redis kill, %+.0f ms from the restart's return",
            static_cast<double>(v.stale_at[i] - restartAt) / kMs, static_cast<double>(v.stale_at[i] - restartedAt) / kMs);
    long losses = 0, subscribes = 0;
    for (const auto& s : h.stats) {
      losses += std::stol(s.at("link_losses"));
      subscribes += std::stol(s.at("subscribes"));
    }
    qInfo("kills=%ld restart took %.0f ms; writes=%zu reads=%zu errors=%zu link losses=%ld subscribes=%ld "
          "window p99=%.2f max=%.2f ms stale after window=%ld own stale=%ld",
          kills, restartMs, h.writes.size(), h.reads.size(), h.errors.size(), losses, subscribes, v.p99_ms, v.max_ms,
          v.stale_after_window, v.own_stale);
    test::reportFigure({QStringLiteral("Pub/sub link killed (CLIENT KILL TYPE pubsub every 1.5 s, one Redis restart; "
                                       "2 processes, 12 s)"),
                        QStringLiteral("stale reads after the window: older than a version the reading instance had "
                                       "already read, or than its own write (of %1 reads)")
                            .arg(h.reads.size()),
                        QString::number(v.regressions + v.own_stale), QStringLiteral("0"),
                        v.regressions + v.own_stale == 0, kCommand});
    test::reportFigure({QStringLiteral("Pub/sub link killed (CLIENT KILL TYPE pubsub every 1.5 s, one Redis restart; "
                                       "2 processes, 12 s)"),
                        QStringLiteral("staleness window p99 / max; reads stale > 50 ms after the other's ack"),
                        QStringLiteral("%1 / %2; %3").arg(ms(v.p99_ms), ms(v.max_ms)).arg(v.stale_after_window),
                        QStringLiteral("p99 ≤ 50 ms"), v.p99_ms <= kWindowTargetMs, kCommand});
    QVERIFY(losses >= 2 * kills);  // each kill cuts both peers' links
    QVERIFY(subscribes >= losses);  // and each came back
    QVERIFY2(v.p99_ms <= kWindowTargetMs * test::timingSlack(), qPrintable(ms(v.p99_ms)));
    QCOMPARE(v.regressions, 0L);
    QCOMPARE(v.own_stale, 0L);
  }

  // In process, for the timings: a killed link flushes L1 and comes back; so
  // does a restarted Redis; a hung one is noticed.
  void linkLossFlushesAndResubscribes() {
    TierCore a(config()), b(config());
    const std::int64_t id = 31;
    const auto key = codec::entryKey(id);
    a.entries().get(id);
    QCOMPARE(a.entries().get(id).source, cache::Source::L1);
    QVERIFY(a.backplane()->linked());

    // 1. CLIENT KILL TYPE pubsub.
    auto s0 = bpStats(a);
    QElapsedTimer t;
    t.start();
    redis->cli("CLIENT KILL TYPE pubsub");
    QTRY_VERIFY_WITH_TIMEOUT(bpStats(a).subscribes > s0.subscribes, 5000);
    const double killResubMs = bpStats(a).last_resubscribe_ms;  // the backplane's own loss -> up
    auto s1 = bpStats(a);
    QVERIFY(s1.link_losses > s0.link_losses);
    QVERIFY(s1.flushes >= s0.flushes + 2);  // at the loss and at the resubscription
    QVERIFY(!tier::internal::TierAccess::l1(a).contains(key));
    auto e = b.entries().loadFromDb(id).value();
    auto up1 = b.entries().update(id, repo::EntryDraft{"after kill", e.content, 5, e.tags});
    QTRY_COMPARE_WITH_TIMEOUT(a.entries().get(id).value->version, up1.version, 2000);

    // 2. Redis restarted: while it is down the link is down and L1 is bypassed,
    // so a write by the other instance is seen at once (from L3).
    QCOMPARE(a.entries().get(id).source, cache::Source::L1);
    const auto killedAt = monoNs();
    redis->kill();
    QTRY_VERIFY_WITH_TIMEOUT(!a.backplane()->linked(), 3000);
    auto up2 = b.entries().update(id, repo::EntryDraft{"while redis was down", e.content, 6, e.tags});
    auto during = a.entries().get(id);
    QCOMPARE(during.value->version, up2.version);
    QVERIFY(during.source != cache::Source::L1);
    const auto restartCalledAt = monoNs();  // Redis cannot answer before this
    redis->restart();
    QTRY_VERIFY_WITH_TIMEOUT(a.backplane()->linked(), 5000);
    // Loss (the kill) -> up, less the time Redis surely could not answer: an
    // upper bound on "resubscribed after Redis answered again".
    const double restartResubMs =
        bpStats(a).last_resubscribe_ms - static_cast<double>(restartCalledAt - killedAt) / kMs;
    QCOMPARE(a.entries().get(id).value->version, up2.version);

    // 3. Redis hung (SIGSTOP): the unanswered PING gives it away.
    QVERIFY(a.backplane()->linked());
    double hungMs = 0;
    {
      redis->pause();
      t.restart();
      while (a.backplane()->linked() && t.elapsed() < 5000) QThread::msleep(5);
      hungMs = static_cast<double>(t.nsecsElapsed()) / kMs;
      redis->resume();
    }
    QTRY_VERIFY_WITH_TIMEOUT(a.backplane()->linked(), 5000);
    qInfo("resubscribed %.1f ms after CLIENT KILL, %.1f ms after Redis answered again; hung Redis noticed after %.0f ms",
          killResubMs, restartResubMs, hungMs);
    const bool resubOk = killResubMs <= 1000 && restartResubMs <= 1000;
    test::reportFigure({QStringLiteral("Pub/sub link killed"),
                        QStringLiteral("time to resubscribe (after CLIENT KILL / after a restarted Redis answers)"),
                        ms(killResubMs) + QStringLiteral(" / ") + ms(restartResubMs), QStringLiteral("≤ 1 s"),
                        resubOk, kCommand});
    test::reportFigure({QStringLiteral("Redis hung (SIGSTOP) under the backplane"),
                        QStringLiteral("time until the instance notices and bypasses its L1 (PING every 200 ms, "
                                       "800 ms to answer)"),
                        ms(hungMs), QStringLiteral("≤ 1.2 s"), hungMs <= 1200, kCommand});
    QVERIFY2(resubOk, qPrintable(ms(killResubMs) + QStringLiteral(" / ") + ms(restartResubMs)));
    QVERIFY2(hungMs <= 1200, qPrintable(ms(hungMs)));
  }

  // Reads and warming fill caches; they never broadcast an invalidation.
  void fillsDoNotPublish() {
    TierCore a(config()), b(config());
    a.entries().get(1);  // link up
    QVERIFY(a.backplane()->drain(2000ms));
    const long long before = publishCalls(*redis);
    const auto sentBefore = bpStats(a).sent;
    for (int round = 0; round < 3; ++round) {
      for (int id = 1; id <= 60; ++id) {
        a.entries().get(id);
        b.entries().get(id);
      }
      tier::internal::TierAccess::l1(a).clear();
    }
    for (int u = 1; u <= 5; ++u) a.analytics().moodStats(u, 30);
    ops::warm(a, ops::WarmSet::Knowledge);
    ops::warm(b, ops::WarmSet::Entries);
    QVERIFY(a.backplane()->drain(2000ms) && b.backplane()->drain(2000ms));
    const long long afterReads = publishCalls(*redis);
    const long long published = afterReads - before;
    qInfo("PUBLISH calls during the read-only phase: %lld", published);
    test::reportFigure({QStringLiteral("Reads and warming only (2 instances, 360 reads, 2 warm runs)"),
                        QStringLiteral("invalidations published (INFO commandstats cmdstat_publish)"),
                        QString::number(published), QStringLiteral("0"), published == 0, kCommand});
    QCOMPARE(published, 0LL);
    QCOMPARE(bpStats(a).sent, sentBefore);
    // The counter does move for a write (so the check above can fail).
    auto e = a.entries().loadFromDb(2).value();
    a.entries().update(2, repo::EntryDraft{e.title, e.content, e.mood_score, e.tags});
    QVERIFY(a.backplane()->drain(2000ms));
    QVERIFY(publishCalls(*redis) > afterReads);
  }

  // The stale-set race across instances, forced: A loads v1, B writes v2
  // through and publishes, then A's fill runs — once after A applied B's
  // message, once (most likely) before. Nothing of v1 may stay.
  void crossInstanceStaleSetForced_data() {
    QTest::addColumn<bool>("messageFirst");
    QTest::newRow("message applied before the fill") << true;
    QTest::newRow("fill right after the write") << false;
  }
  void crossInstanceStaleSetForced() {
    QFETCH(bool, messageFirst);
    TierCore a(config()), b(config());
    const std::string key = codec::entryKey(messageFirst ? 930001 : 930002);  // no such rows: the loaders are the database
    a.entries().get(1);
    b.entries().get(1);
    Gate gate;
    cache::CacheRead first;
    std::thread reader([&] {
      first = a.cache().read(codec::Namespace::Entry, key, [&]() -> std::optional<cache::Loaded> {
        gate.enterAndWait();
        return cache::Loaded{R"({"v":1})", 1};
      });
    });
    gate.waitEntered();
    const auto received = bpStats(a).received;
    b.cache().writeThrough(codec::Namespace::Entry, key, R"({"v":2})", 2);
    if (messageFirst) QTRY_VERIFY_WITH_TIMEOUT(bpStats(a).received > received, 2000);
    gate.release();
    reader.join();
    QCOMPARE(first.value->payload, std::string(R"({"v":1})"));  // it asked before the write: fine
    QTRY_VERIFY_WITH_TIMEOUT(bpStats(a).received > received, 2000);
    auto never = []() -> std::optional<cache::Loaded> { return cache::Loaded{R"({"v":3})", 3}; };
    auto next = a.cache().read(codec::Namespace::Entry, key, never);
    QCOMPARE(next.value->payload, std::string(R"({"v":2})"));
    auto l1 = a.cache().peekL1(key);
    QVERIFY(!l1 || l1->entity_version == 2);
    QCOMPARE(a.cache().peekL2(codec::Namespace::Entry, key).value->entity_version, 2LL);
  }
};

QTEST_GUILESS_MAIN(TestCoherence)
#include "tst_coherence.moc"
