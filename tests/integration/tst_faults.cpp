// Fault injection under load (issue 4, "Faults"): private Redis and PostgreSQL
// servers that this test kills, hangs, slows, stops and flushes while the
// synthetic workload (or, for the database outage, a driver of our own) runs
// through TierCore and verifies every read. Each scenario is bounded in time and
// reports its figures for docs/reliability.md.
// TIER_TEST_LABELS: reliability;concurrency
// TIER_TEST_TIMEOUT: 600
// TIER_TEST_RUN_SERIAL
#include <QTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "fault_proxy.h"
#include "reliability_report.h"
#include "timing.h"
#include "servers.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/deployment.h"
#include "tier/schema/migrations.h"
#include "tier/workload/workload.h"

using namespace tier;
using namespace std::chrono_literals;
using metrics::Counter;
using metrics::Op;
using SteadyClock = std::chrono::steady_clock;
using workload::Workload;
using workload::WorkloadCounters;

namespace {

const QString kCommand = QStringLiteral("ctest -R tst_faults");

void figure(const char* fault, const char* measured, const QString& value, const char* target, bool met) {
  test::reportFigure({QString::fromUtf8(fault), QString::fromUtf8(measured), value, QString::fromUtf8(target), met,
                      kCommand});
}

QString ms(double v) { return QStringLiteral("%1 ms").arg(v, 0, 'f', 1); }

double elapsedMs(SteadyClock::time_point since) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - since).count();
}

// The worst p99 over the read operations that ran in the snapshot's window.
double readP99(const metrics::Snapshot& s, std::uint64_t* reads = nullptr) {
  double worst = 0;
  std::uint64_t n = 0;
  for (Op op : {Op::EntryRead, Op::SessionRetrieval, Op::KnowledgeLookup, Op::StatsRead, Op::UserRead}) {
    const auto& l = s.op(op);
    n += l.count;
    if (l.count > 0) worst = std::max(worst, l.p99_ms);
  }
  if (reads) *reads = n;
  return worst;
}

QString describe(const WorkloadCounters& c) {
  return QStringLiteral("ops=%1 reads=%2 writes=%3 failed_reads=%4 failed_writes=%5 stale=%6 last_error=%7")
      .arg(c.operations).arg(c.reads).arg(c.writes).arg(c.failed_reads).arg(c.failed_writes).arg(c.stale_reads)
      .arg(QString::fromStdString(c.last_error));
}

// Caps how long L1 keeps a copy, the backplane's (longer) linked cap included:
// the fault scenarios want L2 to carry real traffic.
void capL1(CachePolicies& p, std::chrono::seconds cap) {
  p.l1_max_ttl = cap;
  p.l1_max_ttl_linked = cap;
}

// Polls `done` every 2 ms until it holds or `limit` passes; returns the ms it took, or -1.
template <typename F>
double waitFor(F&& done, std::chrono::milliseconds limit) {
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < limit) {
    if (done()) return elapsedMs(start);
    std::this_thread::sleep_for(2ms);
  }
  return -1;
}

// Reads through the core every 2 ms (entries, sessions, articles in turn) next
// to the workload and keeps each read's latency: exact percentiles over all
// reads of a window, where the per-operation histograms of the metrics hold
// too few samples of the rarer reads for a stable p99.
class ReadProbe {
 public:
  explicit ReadProbe(TierCore& core) : core_(core) {
    auto c = core.pg().acquire();
    auto e = c->exec("SELECT id FROM journal_entries ORDER BY id LIMIT 400");
    for (int i = 0; i < e.rows(); ++i) entries_.push_back(e.toInt(i, 0));
    auto s = c->exec("SELECT id FROM chat_sessions ORDER BY id");
    for (int i = 0; i < s.rows(); ++i) sessions_.push_back(s.toInt(i, 0));
    slugs_ = core.knowledge().allSlugs();
    thread_ = std::thread([this] { run(); });
  }
  ~ReadProbe() {
    stop_.store(true);
    thread_.join();
  }
  void begin() {
    std::lock_guard lk(mu_);
    samples_ms_.clear();
  }
  // The p99 (ms) of the reads since begin(); their number in *n.
  double p99(std::size_t* n) const {
    std::vector<double> v;
    {
      std::lock_guard lk(mu_);
      v = samples_ms_;
    }
    *n = v.size();
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(v.size()))) - 1];
  }
  std::uint64_t failures() const { return failures_.load(); }

 private:
  void run() {
    std::size_t i = 0;
    while (!stop_.load()) {
      const std::size_t k = i++;
      const auto start = SteadyClock::now();
      try {
        switch (k % 3) {
          case 0: core_.entries().get(entries_[(k / 3) % entries_.size()]); break;
          case 1: core_.sessions().get(sessions_[(k / 3) % sessions_.size()]); break;
          default: core_.knowledge().get(slugs_[(k / 3) % slugs_.size()]); break;
        }
      } catch (const std::exception&) {
        failures_.fetch_add(1);
      }
      const double took = elapsedMs(start);
      {
        std::lock_guard lk(mu_);
        samples_ms_.push_back(took);
      }
      std::this_thread::sleep_for(2ms);
    }
  }
  TierCore& core_;
  std::vector<std::int64_t> entries_, sessions_;
  std::vector<std::string> slugs_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> failures_{0};
  mutable std::mutex mu_;
  std::vector<double> samples_ms_;  // guarded by mu_
  std::thread thread_;
};

// The synthetic workload on its own core, paced so a loaded machine keeps up.
struct Load {
  TierCore core;
  Workload work;
  Load(const CoreConfig& c, std::uint64_t seed) : core(c), work(core, options(seed)) { work.start(); }
  ~Load() { work.stop(); }
  static workload::WorkloadOptions options(std::uint64_t seed) {
    workload::WorkloadOptions o;
    o.virtual_users = 50;
    o.threads = 4;
    o.rate = 400;
    o.duration = 0s;  // until stop()
    o.seed = seed;
    return o;
  }
  WorkloadCounters stop() {
    work.stop();
    return work.counters();
  }
};

}  // namespace

class TestFaults : public QObject {
  Q_OBJECT
  std::unique_ptr<test::TestRedis> redis_;
  std::unique_ptr<test::TestPostgres> pg_;

  // Short timeouts, as a latency-bound service runs them; the L1 cap is short
  // so that L2 carries real traffic while the faults hit it.
  CoreConfig config() const {
    CoreConfig c;
    c.profile = "faults";
    c.redis_url = redis_->url();
    c.pg_conninfo = pg_->conninfo();
    c.redis.connect_timeout = 50ms;
    c.redis.command_timeout = 50ms;
    c.pg.pool_size = 8;
    capL1(c.policies, 2s);
    return c;
  }

 private Q_SLOTS:
  void initTestCase() {
    redis_ = std::make_unique<test::TestRedis>();
    pg_ = std::make_unique<test::TestPostgres>();
    pg::PgOptions o;
    o.conninfo = pg_->conninfo();
    pg::PgPool pool(o);
    schema::migrate(pool);
    sandbox::Seeder(pool).seed(test::smallSeed());
    // Private servers: marked like the sandbox, so the load writes (the faults are measured under writes too).
    ops::markSandbox(pool);
  }
  void cleanupTestCase() {
    pg_.reset();
    redis_.reset();
  }
  void init() { redis_->cli("FLUSHALL"); }

  void redisKilled() {
    const char* fault = "Redis killed (SIGKILL) 10 s";
    Load load(config(), 11);
    std::this_thread::sleep_for(3s);
    redis_->kill();
    std::this_thread::sleep_for(10s);
    redis_->restart();  // returns once it answers PING
    const auto answered = SteadyClock::now();
    auto* r = tier::internal::TierAccess::redis(load.core);
    const auto answeredBefore = r->poolStats().commands;
    const auto l2HitsBefore = load.core.metrics().snapshot(0s).counter(Counter::L2Hit);
    // Back on L2: the breaker closed and the core's commands are answered again.
    const double back = waitFor(
        [&] { return r->breakerState() == redis::BreakerState::Closed && r->poolStats().commands > answeredBefore; },
        10s);
    const double firstHit =
        waitFor([&] { return load.core.metrics().snapshot(0s).counter(Counter::L2Hit) > l2HitsBefore; }, 10s);
    const double sinceAnswered = elapsedMs(answered);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max<long>(0, 3000 - static_cast<long>(sinceAnswered))));
    const auto c = load.stop();
    qInfo("%s back_on_l2=%.1f ms first_l2_hit=%.1f ms", qPrintable(describe(c)), back, firstHit);

    figure(fault, "failed reads", QString::number(c.failed_reads), "0", c.failed_reads == 0);
    figure(fault, "stale reads", QString::number(c.stale_reads), "0", c.stale_reads == 0);
    figure(fault, "back on L2 after Redis answers", back < 0 ? QStringLiteral("never") : ms(back), "≤ 1000 ms",
           back >= 0 && back <= 1000);
    figure(fault, "first L2 hit after Redis answers", firstHit < 0 ? QStringLiteral("never") : ms(firstHit), "—",
           firstHit >= 0);
    QVERIFY2(c.reads > 0 && c.writes > 0, qPrintable(describe(c)));
    QCOMPARE(c.failed_reads, 0u);
    QCOMPARE(c.stale_reads, 0u);
    QCOMPARE(c.failed_writes, 0u);  // the database was up: writes never depend on Redis
    QVERIFY2(back >= 0 && back <= 1000 * test::timingSlack(), qPrintable(QString::number(back)));
    QVERIFY(firstHit >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(load.core.cache().pendingRepairs(), 0u, 5000);  // the repairer's thread, 100 ms turns
  }

  void redisHung() {
    const char* fault = "Redis hung (SIGSTOP) 5 s";
    Load load(config(), 12);
    ReadProbe probe(load.core);
    std::this_thread::sleep_for(3s);
    load.core.metrics().reset();
    probe.begin();
    redis_->pause();
    struct Resume {
      test::TestRedis* r;
      ~Resume() { r->resume(); }
    } resume{redis_.get()};
    std::this_thread::sleep_for(5s);
    const auto hang = load.core.metrics().snapshot(0s);
    std::size_t reads = 0;
    const double p99 = probe.p99(&reads);
    redis_->resume();
    const auto resumed = SteadyClock::now();
    auto* r = tier::internal::TierAccess::redis(load.core);
    const double closed = waitFor([&] { return r->breakerState() == redis::BreakerState::Closed; }, 10s);
    std::this_thread::sleep_for(2s);
    const auto c = load.stop();
    const auto failed = c.failed_reads + probe.failures();
    std::uint64_t workloadReads = 0;
    const double worstOpP99 = readP99(hang, &workloadReads);
    const auto skipped = hang.counter(Counter::BreakerOpenSkip);
    qInfo("%s hang: probe reads=%zu p99=%.1f ms (all reads %llu, worst per-op p99 %.1f ms) breaker_skips=%llu "
          "closed_after=%.1f ms (%.0f ms since SIGCONT)",
          qPrintable(describe(c)), reads, p99, static_cast<unsigned long long>(workloadReads), worstOpP99,
          static_cast<unsigned long long>(skipped), closed, elapsedMs(resumed));

    figure(fault, "failed reads", QString::number(failed), "0", failed == 0);
    figure(fault, "stale reads", QString::number(c.stale_reads), "0", c.stale_reads == 0);
    figure(fault, "read p99 during hang", ms(p99), "≤ 60 ms", p99 <= 60);
    figure(fault, "breaker opened / closed after SIGCONT",
           QStringLiteral("%1 / %2").arg(skipped > 0 ? QStringLiteral("yes") : QStringLiteral("no"),
                                         closed < 0 ? QStringLiteral("no") : ms(closed)),
           "yes / yes", skipped > 0 && closed >= 0);
    QVERIFY2(reads > 0, "no reads during the hang");
    QCOMPARE(failed, 0u);
    QCOMPARE(c.stale_reads, 0u);
    QVERIFY2(skipped > 0, "the breaker never opened");
    QVERIFY2(closed >= 0, "the breaker did not close after SIGCONT");
    QVERIFY2(p99 <= 60 * test::timingSlack(), qPrintable(ms(p99)));
  }

  void redisSlowAndDropping() {
    const char* fault = "Redis slow / dropping (fault proxy)";
    test::FaultProxy proxy(redis_->port());
    CoreConfig cfg = config();
    cfg.redis_url = "redis://127.0.0.1:" + std::to_string(proxy.port()) + "/0";
    Load load(cfg, 13);
    ReadProbe probe(load.core);
    std::this_thread::sleep_for(3s);

    // Slow: every chunk 80 ms late, beyond the 50 ms command timeout.
    load.core.metrics().reset();
    probe.begin();
    proxy.setLatency(80ms);
    std::this_thread::sleep_for(4s);
    const auto slow = load.core.metrics().snapshot(0s);
    std::size_t slowReads = 0;
    const double slowP99 = probe.p99(&slowReads);

    // Dropping: no latency, but every connection cut every 300 ms.
    proxy.setLatency(0ms);
    load.core.metrics().reset();
    probe.begin();
    const auto dropUntil = SteadyClock::now() + 4s;
    int drops = 0;
    while (SteadyClock::now() < dropUntil) {
      proxy.dropAll();
      ++drops;
      std::this_thread::sleep_for(300ms);
    }
    const auto dropping = load.core.metrics().snapshot(0s);
    std::size_t dropReads = 0;
    const double dropP99 = probe.p99(&dropReads);

    proxy.passThrough();
    auto* r = tier::internal::TierAccess::redis(load.core);
    const double closed = waitFor([&] { return r->breakerState() == redis::BreakerState::Closed; }, 10s);
    std::this_thread::sleep_for(2s);
    const auto c = load.stop();
    const auto failed = c.failed_reads + probe.failures();
    qInfo("%s slow: probe reads=%zu p99=%.1f ms (worst per-op p99 %.1f ms) skips=%llu; dropping (%d cuts): probe "
          "reads=%zu p99=%.1f ms (worst per-op p99 %.1f ms); closed after %.1f ms",
          qPrintable(describe(c)), slowReads, slowP99, readP99(slow),
          static_cast<unsigned long long>(slow.counter(Counter::BreakerOpenSkip)), drops, dropReads, dropP99,
          readP99(dropping), closed);

    figure(fault, "failed reads", QString::number(failed), "0", failed == 0);
    figure(fault, "stale reads", QString::number(c.stale_reads), "0", c.stale_reads == 0);
    figure(fault, "read p99, 80 ms added latency", ms(slowP99), "≤ 60 ms", slowP99 <= 60);
    figure(fault, "read p99, connections cut every 300 ms", ms(dropP99), "≤ 60 ms", dropP99 <= 60);
    QCOMPARE(failed, 0u);
    QCOMPARE(c.stale_reads, 0u);
    QVERIFY(slowReads > 0 && dropReads > 0);
    QVERIFY2(slow.counter(Counter::BreakerOpenSkip) > 0, "the breaker never opened on the slow link");
    QVERIFY2(closed >= 0, "the breaker did not close once the link healed");
    QVERIFY2(slowP99 <= 60 * test::timingSlack(), qPrintable(ms(slowP99)));
    QVERIFY2(dropP99 <= 60 * test::timingSlack(), qPrintable(ms(dropP99)));
  }

  void postgresStopped() {
    const char* fault = "PostgreSQL stopped (pg_ctl stop -m fast)";
    CoreConfig cfg = config();
    // Copies expire during the outage: 2 s TTL, 1 s in L1, held 120 s past that.
    for (auto* p : {&cfg.policies.entry, &cfg.policies.session, &cfg.policies.user, &cfg.policies.stats,
                    &cfg.policies.knowledge}) {
      p->ttl = 2s;
      p->ttl_jitter = 0;
    }
    capL1(cfg.policies, 1s);
    cfg.policies.max_stale = 120s;
    TierCore core(cfg);

    // The cached data: the first 150 entries, every session, every article, read once.
    std::vector<std::int64_t> entryIds, sessionIds;
    std::map<std::int64_t, std::int64_t> lastAcked;  // entry id -> version (only the writer thread, then main)
    {
      auto conn = core.pg().acquire();
      auto e = conn->exec("SELECT id, version FROM journal_entries ORDER BY id LIMIT 150");
      for (int i = 0; i < e.rows(); ++i) {
        entryIds.push_back(e.toInt(i, 0));
        lastAcked[e.toInt(i, 0)] = e.toInt(i, 1);
      }
      auto s = conn->exec("SELECT id FROM chat_sessions ORDER BY id");
      for (int i = 0; i < s.rows(); ++i) sessionIds.push_back(s.toInt(i, 0));
    }
    const auto slugs = core.knowledge().allSlugs();
    for (auto id : entryIds) QVERIFY(core.entries().get(id).value);
    for (auto id : sessionIds) QVERIFY(core.sessions().get(id).value);
    for (const auto& s : slugs) QVERIFY(core.knowledge().get(s).value);
    const std::vector<std::int64_t> writeIds(entryIds.begin(), entryIds.begin() + 20);
    core.metrics().reset();

    struct Ack {
      std::int64_t id, version;
      std::string title;
    };
    std::vector<Ack> acked;  // writer thread only until joined
    workload::detail::AckTracker tracker;
    std::atomic<bool> stop{false};
    std::atomic<int> phase{0};  // 0 before, 1 outage, 2 after restart
    std::atomic<std::uint64_t> reads{0}, failedReads{0}, staleMarked{0}, staleVersions{0}, outageReads{0};
    std::atomic<std::uint64_t> writes{0}, typedFailures{0}, untypedFailures{0}, halfApplied{0};
    std::mutex errMu;
    std::string firstError;  // guarded by errMu
    auto note = [&](const std::string& e) {
      std::lock_guard lk(errMu);
      if (firstError.empty()) firstError = e;
    };

    auto reader = [&](std::size_t offset) {
      std::size_t i = offset;
      const std::size_t n = entryIds.size() + sessionIds.size() + slugs.size();
      while (!stop.load()) {
        const std::size_t k = i++ % n;
        try {
          bool stale = false;
          if (k < entryIds.size()) {
            const auto id = entryIds[k];
            const auto expected = tracker.expected(id);
            auto f = core.entries().get(id);
            if (!f.value) throw NotFoundError("entry " + std::to_string(id) + " read as absent");
            if (workload::detail::AckTracker::isStale(expected, f.value->version)) {
              staleVersions.fetch_add(1);
              note("entry " + std::to_string(id) + " older than acknowledged");
            }
            stale = f.stale;
          } else if (k < entryIds.size() + sessionIds.size()) {
            auto f = core.sessions().get(sessionIds[k - entryIds.size()]);
            if (!f.value) throw NotFoundError("session read as absent");
            stale = f.stale;
          } else {
            auto f = core.knowledge().get(slugs[k - entryIds.size() - sessionIds.size()]);
            if (!f.value) throw NotFoundError("article read as absent");
            stale = f.stale;
          }
          reads.fetch_add(1);
          if (phase.load() == 1) outageReads.fetch_add(1);
          if (stale) staleMarked.fetch_add(1);
        } catch (const std::exception& e) {
          failedReads.fetch_add(1);
          note(std::string("read: ") + e.what());
        }
        std::this_thread::sleep_for(1ms);  // pacing: ~500 reads/s per reader
      }
    };
    auto writer = [&] {
      std::uint64_t n = 0;
      while (!stop.load()) {
        const auto id = writeIds[n % writeIds.size()];
        repo::EntryDraft d;
        d.title = "fault test " + std::to_string(id) + " #" + std::to_string(n++);
        d.content = "written while the database comes and goes";
        d.mood_score = 5;
        try {
          const auto e = core.entries().update(id, d);
          acked.push_back({id, e.version, d.title});
          tracker.ack(id, e.version);
          lastAcked[id] = e.version;
          writes.fetch_add(1);
        } catch (const Error& e) {
          if (e.kind() == ErrorKind::Connection || e.kind() == ErrorKind::Timeout) {
            typedFailures.fetch_add(1);
          } else {
            untypedFailures.fetch_add(1);
            note(std::string("write: ") + e.what());
          }
          // Not half-applied: no tier holds anything newer than the last acknowledged version.
          const auto key = codec::entryKey(id);
          auto l1 = core.cache().peekL1(key);
          bool ahead = l1 && l1->entity_version > lastAcked[id];
          try {
            auto l2 = core.cache().peekL2(codec::Namespace::Entry, key);
            ahead = ahead || (l2.value && l2.value->entity_version > lastAcked[id]);
          } catch (const Error&) {
          }
          if (ahead) {
            halfApplied.fetch_add(1);
            note("a failed write of entry " + std::to_string(id) + " reached the cache");
          }
        } catch (const std::exception& e) {
          untypedFailures.fetch_add(1);
          note(std::string("write: ") + e.what());
        }
        std::this_thread::sleep_for(20ms);
      }
    };

    std::vector<std::thread> threads;
    threads.emplace_back(reader, 0);
    threads.emplace_back(reader, 97);
    threads.emplace_back(writer);
    struct Join {
      std::atomic<bool>& stop;
      std::vector<std::thread>& t;
      ~Join() {
        stop.store(true);
        for (auto& th : t)
          if (th.joinable()) th.join();
      }
    } join{stop, threads};

    std::this_thread::sleep_for(2s);
    const auto writesBefore = writes.load();
    phase.store(1);
    pg_->stop();
    std::this_thread::sleep_for(6s);  // every copy passes its 2 s TTL
    const auto writesDuringOutage = writes.load() - writesBefore;
    const auto staleServed = core.metrics().snapshot(0s).counter(Counter::StaleServed);
    phase.store(2);
    pg_->start();
    const auto restarted = writes.load();
    const double recovered = waitFor([&] { return writes.load() > restarted; }, 30s);
    std::this_thread::sleep_for(2s);
    stop.store(true);
    for (auto& th : threads) th.join();

    // Every acknowledged write is in the database, row by row.
    std::uint64_t missing = 0, committedDespiteError = 0;
    {
      auto conn = core.pg().acquire();
      std::map<std::int64_t, const Ack*> latest;
      for (const auto& a : acked) {
        auto r = conn->exec("SELECT version, title FROM journal_entries WHERE id = $1", {std::to_string(a.id)});
        if (r.rows() != 1 || r.toInt(0, 0) < a.version) ++missing;
        auto& l = latest[a.id];
        if (!l || l->version < a.version) l = &a;
      }
      for (const auto& [id, a] : latest) {
        auto r = conn->exec("SELECT version, title FROM journal_entries WHERE id = $1", {std::to_string(id)});
        if (r.rows() != 1) continue;  // counted above
        if (r.toInt(0, 0) == a->version && std::string(r.value(0, 1)) != a->title) ++missing;
        if (r.toInt(0, 0) > a->version) ++committedDespiteError;  // an unacknowledged write that did commit
      }
    }
    const auto totalStale = core.metrics().snapshot(0s).counter(Counter::StaleServed);
    qInfo("reads=%llu (outage %llu) failed=%llu stale_marked=%llu stale_served_metric=%llu (%llu by end of outage) "
          "stale_versions=%llu writes=%llu (during outage %llu) typed_failures=%llu untyped=%llu half_applied=%llu "
          "acked=%zu missing=%llu committed_despite_error=%llu recovered_after=%.0f ms first_error=%s",
          static_cast<unsigned long long>(reads.load()), static_cast<unsigned long long>(outageReads.load()),
          static_cast<unsigned long long>(failedReads.load()), static_cast<unsigned long long>(staleMarked.load()),
          static_cast<unsigned long long>(totalStale), static_cast<unsigned long long>(staleServed),
          static_cast<unsigned long long>(staleVersions.load()), static_cast<unsigned long long>(writes.load()),
          static_cast<unsigned long long>(writesDuringOutage), static_cast<unsigned long long>(typedFailures.load()),
          static_cast<unsigned long long>(untypedFailures.load()), static_cast<unsigned long long>(halfApplied.load()),
          acked.size(), static_cast<unsigned long long>(missing),
          static_cast<unsigned long long>(committedDespiteError), recovered, firstError.c_str());

    const auto failedWrites = typedFailures.load() + untypedFailures.load();
    figure(fault, "writes failed with a typed error",
           QStringLiteral("%1 of %2").arg(typedFailures.load()).arg(failedWrites), "all", untypedFailures == 0);
    figure(fault, "failed writes half-applied (in L1/L2)", QString::number(halfApplied.load()), "0",
           halfApplied == 0);
    figure(fault, "reads of cached data failed", QString::number(failedReads.load()), "0", failedReads == 0);
    figure(fault, "stale reads served (marked)",
           QStringLiteral("%1 (metric %2)").arg(staleMarked.load()).arg(totalStale), "> 0, all marked",
           staleMarked > 0 && staleMarked == totalStale);
    figure(fault, "acknowledged writes missing after restart",
           QStringLiteral("%1 of %2").arg(missing).arg(acked.size()), "0", missing == 0);

    QVERIFY2(failedWrites > 0, "no write was attempted during the outage");
    QCOMPARE(untypedFailures.load(), 0u);
    QCOMPARE(halfApplied.load(), 0u);
    QVERIFY2(failedReads == 0, firstError.c_str());
    QCOMPARE(staleVersions.load(), 0u);
    QVERIFY2(outageReads > 0, "no reads during the outage");
    QVERIFY2(staleServed > 0, "no stale copy was served although every TTL passed");
    QCOMPARE(staleMarked.load(), totalStale);
    QVERIFY2(recovered >= 0, "writes did not succeed again after the restart");
    QVERIFY(!acked.empty());
    QCOMPARE(missing, 0u);
  }

  void redisFlushed() {
    const char* fault = "Redis flushed (FLUSHALL)";
    Load load(config(), 15);
    std::this_thread::sleep_for(5s);
    const auto before = load.core.metrics().snapshot(3s);
    redis_->cli("FLUSHALL");
    std::this_thread::sleep_for(5s);
    const auto after = load.core.metrics().snapshot(3s);  // the last 3 s: refilled
    const auto keys = std::stoll("0" + redis_->cli("DBSIZE"));
    const auto c = load.stop();
    qInfo("%s hit rate before %.3f (L2 %.3f), after refill %.3f (L2 %.3f), %lld keys", qPrintable(describe(c)),
          before.hitRate(), before.l2HitRate(), after.hitRate(), after.l2HitRate(), keys);

    const auto errors = c.failed_reads + c.failed_writes;
    figure(fault, "errors", QString::number(errors), "0", errors == 0);
    figure(fault, "stale reads", QString::number(c.stale_reads), "0", c.stale_reads == 0);
    figure(fault, "L2 hit rate after refill (before the flush)",
           QStringLiteral("%1 % (%2 %)").arg(after.l2HitRate() * 100, 0, 'f', 1).arg(before.l2HitRate() * 100, 0, 'f', 1),
           "> 0", after.l2HitRate() > 0);
    figure(fault, "cache hit rate after refill", QStringLiteral("%1 %").arg(after.hitRate() * 100, 0, 'f', 1),
           "≥ 80 %", after.hitRate() >= 0.8);
    QCOMPARE(errors, 0u);
    QCOMPARE(c.stale_reads, 0u);
    QVERIFY(keys > 0);
    QVERIFY(after.l2HitRate() > 0);
    QVERIFY2(after.hitRate() >= 0.8, qPrintable(QString::number(after.hitRate())));
  }
};

QTEST_GUILESS_MAIN(TestFaults)
#include "tst_faults.moc"
