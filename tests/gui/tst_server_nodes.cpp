// The server panel's Redis nodes: synthetic health reports (cluster, Sentinel,
// single node, a node down) through the RedisNodesModel, and the console's
// CoreService connected to the harness's real Redis Cluster (3 masters + 3
// replicas) and Sentinel group, showing every node and a killed master as DOWN.
// TIER_TEST_LABELS: distributed
// TIER_TEST_RUN_SERIAL
// TIER_TEST_TIMEOUT: 400
#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QDir>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>
#include <memory>

#include "common/core_service.h"
#include "dashboard/redis_nodes_model.h"
#include "dashboard/server_panel.h"
#include "distributed.h"
#include "servers.h"

using tier::redis::NodeInfo;
using tier::test::TestRedisCluster;
using tier::test::TestRedisSentinel;
using tier::test::TestServers;
using tier::ui::CoreService;
using tier::ui::RedisNodesModel;
using tier::ui::ServerPanel;

namespace {

NodeInfo node(const std::string& address, const std::string& role, bool up, int slots = 0,
              const std::string& master = {}) {
  NodeInfo n;
  n.address = address;
  n.role = role;
  n.up = up;
  n.master = master;
  n.slot_count = slots;
  if (slots > 0) n.slots = {{0, slots - 1}};
  n.ping_ms = up ? 0.25 : -1;
  n.keys = up ? 42 : -1;
  if (!up) n.error = "connection refused";
  return n;
}

QString cell(const QAbstractItemModel& m, int row, int column) {
  return m.index(row, column).data().toString();
}

// Saves what the panel shows (TIER_SCREENSHOT_DIR, if set) for a person to look at.
void screenshot(ServerPanel& panel, const QString& name) {
  const QByteArray dir = qgetenv("TIER_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  panel.resize(760, 1100);
  QDir().mkpath(QString::fromLocal8Bit(dir));
  panel.grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + name + QStringLiteral(".png"));
}

}  // namespace

class TestServerNodes : public QObject {
  Q_OBJECT

 private:
  // Connects a CoreService to `redisUrl` (and the shared PostgreSQL) and
  // returns the first health report whose node list satisfies `until`.
  template <typename Pred>
  tier::ops::HealthReport connectAndWait(CoreService& svc, const std::string& redisUrl, Pred until, int timeoutMs) {
    tier::ui::ConnectionSettings s;
    s.profile = QStringLiteral("tst_server_nodes");
    s.redis_url = QString::fromStdString(redisUrl);
    s.pg_conninfo = QString::fromStdString(TestServers::shared().pgConninfo());
    QSignalSpy ready(&svc, &CoreService::coreReady);
    svc.connectTo(s);
    [&] { QVERIFY(ready.wait(30'000)); }();
    return waitReport(svc, until, timeoutMs);
  }

  template <typename Pred>
  tier::ops::HealthReport waitReport(CoreService& svc, Pred until, int timeoutMs) {
    tier::ops::HealthReport last;
    bool got = false;
    auto c = connect(&svc, &CoreService::healthAvailable, this, [&](const tier::ops::HealthReport& r) {
      last = r;
      if (until(r)) got = true;
    });
    QDeadlineTimer deadline(timeoutMs);
    while (!got && !deadline.hasExpired()) QTest::qWait(100);
    disconnect(c);
    if (!got) qWarning("no matching health report in %d ms (last had %zu nodes)", timeoutMs, last.redis.nodes.size());
    return last;
  }

 private Q_SLOTS:
  void modelFromSyntheticReports() {
    RedisNodesModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ServerPanel panel;

    tier::ops::HealthReport r;
    r.redis.configured = r.redis.ok = true;
    r.redis.mode = "cluster";
    r.redis.nodes = {node("127.0.0.1:7004", "replica", true, 0, "127.0.0.1:7001"),
                     node("127.0.0.1:7001", "master", true, 5461), node("127.0.0.1:7003", "master", false, 5461),
                     node("127.0.0.1:7002", "master", true, 5462),
                     node("127.0.0.1:7005", "replica", true, 0, "127.0.0.1:7002")};
    model.setNodes(r.redis.nodes);
    QCOMPARE(model.rowCount(), 5);
    // Masters first (by address), then replicas.
    QCOMPARE(cell(model, 0, RedisNodesModel::Node), QStringLiteral("127.0.0.1:7001"));
    QCOMPARE(cell(model, 2, RedisNodesModel::Node), QStringLiteral("127.0.0.1:7003"));
    QCOMPARE(cell(model, 3, RedisNodesModel::Role), QStringLiteral("replica of 127.0.0.1:7001"));
    QCOMPARE(cell(model, 0, RedisNodesModel::Slots), QStringLiteral("5,461 (0-5460)"));
    QCOMPARE(cell(model, 3, RedisNodesModel::Slots), QStringLiteral("—"));
    QCOMPARE(cell(model, 2, RedisNodesModel::State), QStringLiteral("DOWN: connection refused"));
    QCOMPARE(cell(model, 2, RedisNodesModel::Ping), QStringLiteral("—"));
    QCOMPARE(cell(model, 0, RedisNodesModel::Ping), QStringLiteral("0.25 ms"));
    QCOMPARE(cell(model, 0, RedisNodesModel::State), QStringLiteral("up"));
    r.redis.nodes[1].flags = "myself,master,nofailover";
    model.setNodes(r.redis.nodes);
    QCOMPARE(cell(model, 0, RedisNodesModel::State), QStringLiteral("up · nofailover"));
    QVERIFY(model.index(2, RedisNodesModel::State).data(Qt::ForegroundRole).isValid());
    QVERIFY(!model.index(0, RedisNodesModel::State).data(Qt::ForegroundRole).isValid());

    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(panel.field(QStringLiteral("redis.mode")),
             QStringLiteral("Redis Cluster: 3 masters, 2 replicas · 1 DOWN"));
    QCOMPARE(panel.nodesModel()->rowCount(), 5);
    QVERIFY(!panel.nodesBox()->isHidden());

    r.redis.mode = "sentinel";
    r.redis.master = "127.0.0.1:7001";
    r.redis.nodes = {node("127.0.0.1:7001", "master", true), node("127.0.0.1:7002", "replica", true),
                     node("127.0.0.1:26379", "sentinel", true), node("127.0.0.1:26380", "sentinel", true),
                     node("127.0.0.1:26381", "sentinel", true)};
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(panel.field(QStringLiteral("redis.mode")),
             QStringLiteral("Sentinel: master 127.0.0.1:7001, 1 replicas, 3 sentinels"));
    QCOMPARE(panel.nodesModel()->rowCount(), 5);
    QCOMPARE(cell(*panel.nodesModel(), 4, RedisNodesModel::Role), QStringLiteral("sentinel"));

    r.redis.mode = "single";
    r.redis.nodes = {node("127.0.0.1:6379", "master", true)};
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(panel.field(QStringLiteral("redis.mode")), QStringLiteral("Single node"));
    QVERIFY(panel.nodesBox()->isHidden());

    r.redis.configured = false;
    panel.setReport(r, QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(panel.nodesModel()->rowCount(), 0);
  }

  void consoleOnARealCluster() {
    TestRedisCluster cluster;
    CoreService svc;
    ServerPanel panel;
    connect(&svc, &CoreService::healthAvailable, &panel,
            [&](const tier::ops::HealthReport& r) { panel.setReport(r, QDateTime::currentMSecsSinceEpoch()); });
    auto report = connectAndWait(
        svc, cluster.seedUrl(), [](const tier::ops::HealthReport& r) { return r.redis.nodes.size() == 6; }, 30'000);
    QCOMPARE(report.redis.mode, std::string("cluster"));
    auto* model = panel.nodesModel();
    QCOMPARE(model->rowCount(), 6);
    int masters = 0, slotSum = 0;
    for (const auto& n : model->nodes()) {
      QVERIFY2(n.up, n.address.c_str());
      if (n.role == "master") {
        ++masters;
        slotSum += n.slot_count;
      }
    }
    QCOMPARE(masters, 3);
    QCOMPARE(slotSum, 16384);
    QVERIFY(!panel.nodesBox()->isHidden());
    QCOMPARE(panel.field(QStringLiteral("redis.mode")), QStringLiteral("Redis Cluster: 3 masters, 3 replicas"));
    screenshot(panel, QStringLiteral("server-panel-cluster"));

    // A master killed: the next reports show it DOWN (before and after its
    // replica takes over), without the GUI thread waiting on it.
    const auto victim = cluster.masters().at(0);
    cluster.kill(victim.port);
    report = waitReport(
        svc,
        [&](const tier::ops::HealthReport& r) {
          for (const auto& n : r.redis.nodes)
            if (n.address == victim.address()) return !n.up;
          return false;
        },
        60'000);
    bool shownDown = false;
    for (int row = 0; row < model->rowCount(); ++row)
      if (cell(*model, row, RedisNodesModel::Node) == QString::fromStdString(victim.address()))
        shownDown = cell(*model, row, RedisNodesModel::State).startsWith(QStringLiteral("DOWN"));
    QVERIFY2(shownDown, qPrintable(panel.field(QStringLiteral("redis.mode"))));
    QVERIFY(panel.field(QStringLiteral("redis.mode")).contains(QStringLiteral("DOWN")));
    screenshot(panel, QStringLiteral("server-panel-cluster-master-down"));
  }

  void consoleOnSentinel() {
    TestRedisSentinel group;
    CoreService svc;
    ServerPanel panel;
    connect(&svc, &CoreService::healthAvailable, &panel,
            [&](const tier::ops::HealthReport& r) { panel.setReport(r, QDateTime::currentMSecsSinceEpoch()); });
    const std::string master = "127.0.0.1:" + std::to_string(group.currentMasterPort());
    auto report = connectAndWait(
        svc, group.url(), [](const tier::ops::HealthReport& r) { return r.redis.nodes.size() >= 5; }, 30'000);
    QCOMPARE(report.redis.mode, std::string("sentinel"));
    QCOMPARE(report.redis.master, master);
    QVERIFY2(panel.field(QStringLiteral("redis.mode"))
                 .startsWith(QStringLiteral("Sentinel: master ") + QString::fromStdString(master)),
             qPrintable(panel.field(QStringLiteral("redis.mode"))));
    int sentinels = 0;
    for (const auto& n : panel.nodesModel()->nodes()) sentinels += n.role == "sentinel" ? 1 : 0;
    QCOMPARE(sentinels, 3);
    screenshot(panel, QStringLiteral("server-panel-sentinel"));

    // Failover: the panel names the promoted replica as master.
    QCOMPARE(group.killMaster(), group.dataPorts()[0]);
    const int promoted = group.waitForFailover(group.dataPorts()[0], std::chrono::seconds(60));
    QVERIFY(promoted > 0);
    const std::string next = "127.0.0.1:" + std::to_string(promoted);
    report = waitReport(
        svc, [&](const tier::ops::HealthReport& r) { return r.redis.master == next; }, 30'000);
    QCOMPARE(report.redis.master, next);
    QVERIFY(panel.field(QStringLiteral("redis.mode")).contains(QString::fromStdString(next)));
  }
};

QTEST_MAIN(TestServerNodes)
#include "tst_server_nodes.moc"
