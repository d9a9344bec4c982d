// Cross-instance L1 invalidation over a Redis Cluster (issue 6, "many app
// instances"): three coherence_peer processes (each one TierCore with its own
// L1) write and read the same journal entries through the harness cluster for
// 20 s. Classic pub/sub is broadcast by the cluster to every node, so each
// backplane subscribes on one master and publishes on one master (maybe
// another): a write's invalidation must still reach the other two instances.
// The history check is tst_coherence's (same peer, same record format).
// TIER_TEST_LABELS: distributed;reliability
// TIER_TEST_TIMEOUT: 600
// TIER_TEST_RUN_SERIAL
#include <time.h>

#include <QFile>
#include <QProcess>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core_fixture.h"
#include "distributed.h"
#include "reliability_report.h"
#include "servers.h"
#include "test_paths.h"
#include "timing.h"

using namespace tier::test;

namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr double kWindowTargetMs = 50.0;  // the reliability issue's target, as in tst_coherence
const QString kCommand = QStringLiteral("ctest -R tst_distributed_coherence");

std::int64_t monoNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Op {
  int proc = 0;
  std::int64_t id = 0, version = 0, t0 = 0, t1 = 0;
};

struct History {
  std::vector<Op> writes, reads;
  std::vector<std::string> errors;
  std::vector<std::map<std::string, std::string>> stats;
};

void load(const std::string& path, int proc, History& h) {
  std::ifstream in(path);
  std::string line;
  std::map<std::string, std::string> st;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "W" || tag == "R") {
      Op o;
      o.proc = proc;
      ls >> o.id >> o.version >> o.t0 >> o.t1;
      (tag == "W" ? h.writes : h.reads).push_back(o);
    } else if (tag == "E") {
      h.errors.push_back(line);
    } else if (tag == "S") {
      std::string kv;
      while (ls >> kv)
        if (const auto eq = kv.find('='); eq != std::string::npos) st[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  h.stats.push_back(st);
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(idx, v.size() - 1)];
}

struct Verdict {
  std::vector<double> windows_ms;  // per (write, other process): ack -> end of its last stale read (0 if none)
  long own_stale = 0;              // a read older than the reader's own acknowledged write
  long regressions = 0;            // a read older than a version the same process had already read
  long stale_after_window = 0;     // older than another process's write acknowledged > window before
};

Verdict check(const History& h, double windowMs) {
  Verdict v;
  const auto window = static_cast<std::int64_t>(windowMs * kMs);
  std::map<std::pair<std::int64_t, int>, std::vector<Op>> writesBy;
  for (const auto& w : h.writes) writesBy[{w.id, w.proc}].push_back(w);
  for (auto& [k, ws] : writesBy) std::sort(ws.begin(), ws.end(), [](const Op& a, const Op& b) { return a.t1 < b.t1; });
  auto newestAckedBefore = [&](std::int64_t id, int proc, std::int64_t t) {
    std::int64_t m = 0;
    auto it = writesBy.find({id, proc});
    if (it == writesBy.end()) return m;
    for (const auto& w : it->second) {
      if (w.t1 >= t) break;
      m = std::max(m, w.version);
    }
    return m;
  };
  std::set<int> procs;
  for (const auto& r : h.reads) procs.insert(r.proc);
  for (const auto& w : h.writes) procs.insert(w.proc);
  for (const auto& r : h.reads) {
    if (r.version < newestAckedBefore(r.id, r.proc, r.t0)) ++v.own_stale;
    for (int q : procs)
      if (q != r.proc && r.version < newestAckedBefore(r.id, q, r.t0 - window)) {
        ++v.stale_after_window;
        break;
      }
  }
  std::map<std::pair<std::int64_t, int>, std::vector<Op>> readsBy;
  for (const auto& r : h.reads) readsBy[{r.id, r.proc}].push_back(r);
  for (auto& [k, rs] : readsBy) {
    std::sort(rs.begin(), rs.end(), [](const Op& a, const Op& b) { return a.t0 < b.t0; });
    std::vector<Op> ends = rs;
    std::sort(ends.begin(), ends.end(), [](const Op& a, const Op& b) { return a.t1 < b.t1; });
    std::size_t e = 0;
    std::int64_t seen = 0;
    for (const auto& r : rs) {
      for (; e < ends.size() && ends[e].t1 < r.t0; ++e) seen = std::max(seen, ends[e].version);
      if (r.version < seen) ++v.regressions;
    }
  }
  for (const auto& w : h.writes)
    for (int q : procs) {
      if (q == w.proc) continue;
      double win = 0;
      if (auto it = readsBy.find({w.id, q}); it != readsBy.end())
        for (const auto& r : it->second)
          if (r.t0 >= w.t1 && r.t0 < w.t1 + 2000 * kMs && r.version < w.version)
            win = std::max(win, static_cast<double>(r.t1 - w.t1) / kMs);
      v.windows_ms.push_back(win);
    }
  return v;
}

QString ms(double v) {
  return QString::number(v, 'f', v < 10 ? 2 : 1) + QStringLiteral(" ms");
}

}  // namespace

class TestDistributedCoherence : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { seededServers(); }
  void threeInstancesOnCluster();
};

void TestDistributedCoherence::threeInstancesOnCluster() {
  TestRedisCluster cluster;
  const QString peer = QString::fromStdString(binaryDir() + "/tests/coherence_peer");
  QVERIFY2(QFile::exists(peer), qPrintable(peer));
  const int durationMs = 20000;
  const QString ids = QStringLiteral("101,102,103,104,105,106,107,108");
  const std::int64_t start = monoNs() + 3000 * kMs;  // all three set up (link up, L1 warm) before it
  const std::string dir = makeTempDir();
  std::vector<std::unique_ptr<QProcess>> procs;
  std::vector<std::string> outs;
  for (const char* name : {"A", "B", "C"}) {
    outs.push_back(dir + "/history-" + name + ".txt");
    auto p = std::make_unique<QProcess>();
    p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p->start(peer, {QStringLiteral("--redis"), QString::fromStdString(cluster.seedUrl()), QStringLiteral("--pg"),
                    QString::fromStdString(seededServers().pgConninfo()), QStringLiteral("--name"), QLatin1String(name),
                    QStringLiteral("--ids"), ids, QStringLiteral("--start-ns"), QString::number(start),
                    QStringLiteral("--duration-ms"), QString::number(durationMs), QStringLiteral("--out"),
                    QString::fromStdString(outs.back())});
    procs.push_back(std::move(p));
  }
  for (auto& p : procs) QVERIFY(p->waitForStarted(10000));
  // While they run: their backplane connections (subscriber "-inval",
  // publisher "-publish") sit on more than one master, so messages do cross
  // nodes through the cluster's pub/sub broadcast.
  while (monoNs() < start + 2000 * kMs) QTest::qWait(100);
  std::set<int> backplaneNodes;
  int subscribers = 0;
  for (const auto& m : cluster.masters()) {
    const auto list = cluster.cli(m.port, "CLIENT LIST");
    if (list.find("-inval ") != std::string::npos || list.find("-publish ") != std::string::npos)
      backplaneNodes.insert(m.port);
    for (auto at = list.find("-inval "); at != std::string::npos; at = list.find("-inval ", at + 1)) ++subscribers;
  }
  qInfo("backplane connections on %zu masters, %d subscribers", backplaneNodes.size(), subscribers);
  QCOMPARE(subscribers, 3);
  QVERIFY(backplaneNodes.size() >= 2);
  for (auto& p : procs) {
    QVERIFY(p->waitForFinished(durationMs + 120'000));
    QCOMPARE(p->exitCode(), 0);
  }
  History h;
  for (int i = 0; i < 3; ++i) load(outs[static_cast<std::size_t>(i)], i, h);
  removeTree(dir);

  QVERIFY2(h.errors.empty(), h.errors.empty() ? "" : h.errors.front().c_str());
  QVERIFY(h.writes.size() > 200);
  QVERIFY(h.reads.size() > 2000);
  for (const auto& s : h.stats) QCOMPARE(QString::fromStdString(s.at("link")), QStringLiteral("up"));
  long received = 0;
  for (const auto& s : h.stats) received += std::stol(s.count("received") ? s.at("received") : std::string("0"));
  QVERIFY(received > 0);
  const auto v = check(h, kWindowTargetMs * timingSlack());
  const double p99 = percentile(v.windows_ms, 0.99), max = percentile(v.windows_ms, 1.0);
  qInfo(
      "3 instances on the cluster: writes=%zu reads=%zu messages received=%ld window p50=%.2f p99=%.2f max=%.2f ms "
      "stale after %.0f ms=%ld own stale=%ld regressions=%ld",
      h.writes.size(), h.reads.size(), received, percentile(v.windows_ms, 0.5), p99, max, kWindowTargetMs,
      v.stale_after_window, v.own_stale, v.regressions);
  const QString fault = QStringLiteral("Three instances on a Redis Cluster, shared keys (3 processes, 20 s)");
  const bool p99ok = p99 <= kWindowTargetMs * timingSlack();
  reportFigure({fault, QStringLiteral("staleness window p99 (another instance's write ack → this one's reads see it)"),
                ms(p99), QStringLiteral("≤ 50 ms"), p99ok, kCommand});
  reportFigure({fault,
                QStringLiteral("stale reads after the window: older than a version the reading instance had already "
                               "read, or than its own write (of %1 reads)")
                    .arg(h.reads.size()),
                QString::number(v.regressions + v.own_stale), QStringLiteral("0"), v.regressions + v.own_stale == 0,
                kCommand});
  reportFigure({fault, QStringLiteral("staleness window max; reads stale > 50 ms after another's ack"),
                QStringLiteral("%1; %2").arg(ms(max)).arg(v.stale_after_window), QStringLiteral("—"), true, kCommand});
  QVERIFY2(p99ok, qPrintable(ms(p99)));
  QCOMPARE(v.regressions, 0L);
  QCOMPARE(v.own_stale, 0L);
}

QTEST_GUILESS_MAIN(TestDistributedCoherence)
#include "tst_distributed_coherence.moc"
