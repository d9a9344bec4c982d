// Threshold evaluations become raised/cleared alert events with durations.
#include <QTest>

#include "tier/metrics/alerts.h"

using namespace tier::metrics;

namespace {
ThresholdResult latency(double v, Status s) { return {"redis_p99", v, 5.0, "ms", s}; }
ThresholdResult hit(double v, Status s) { return {"hit_rate", v, 0.8, "ratio", s}; }
}  // namespace

class TestAlerts : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void raiseAndClear() {
    AlertMonitor m;
    QVERIFY(m.update({latency(1, Status::Ok)}, 1000).empty());
    auto e1 = m.update({latency(7, Status::Violation)}, 2000);
    QCOMPARE(e1.size(), 1u);
    QCOMPARE(e1[0].kind, AlertEvent::Kind::Raised);
    QCOMPARE(e1[0].name, std::string("redis_p99"));
    QCOMPARE(e1[0].started_ms, 2000);
    QVERIFY(m.update({latency(9, Status::Violation)}, 3000).empty());  // still raised: no new event
    QCOMPARE(m.active().size(), 1u);
    auto e2 = m.update({latency(2, Status::Ok)}, 5000);
    QCOMPARE(e2.size(), 1u);
    QCOMPARE(e2[0].kind, AlertEvent::Kind::Cleared);
    QCOMPARE(e2[0].at_ms - e2[0].started_ms, 3000);
    QCOMPARE(e2[0].worst, 9.0);
    QVERIFY(m.active().empty());
  }

  void warnDoesNotRaiseByDefault() {
    AlertMonitor m;
    QVERIFY(m.update({latency(4.5, Status::Warn)}, 1).empty());
    AlertMonitor amber(Status::Warn);
    auto e = amber.update({latency(4.5, Status::Warn)}, 1);
    QCOMPARE(e.size(), 1u);
    auto esc = amber.update({latency(6, Status::Violation)}, 2);
    QCOMPARE(esc.size(), 1u);
    QCOMPARE(esc[0].previous, Status::Warn);
    QCOMPARE(esc[0].status, Status::Violation);
  }

  void noDataNeitherRaisesNorClears() {
    AlertMonitor m;
    m.update({latency(7, Status::Violation)}, 1);
    QVERIFY(m.update({latency(0, Status::NoData)}, 2).empty());
    QCOMPARE(m.active().size(), 1u);
  }

  void worstOfARatioIsTheLowest() {
    AlertMonitor m;
    m.update({hit(0.7, Status::Violation)}, 1);
    m.update({hit(0.5, Status::Violation)}, 2);
    m.update({hit(0.6, Status::Violation)}, 3);
    auto e = m.update({hit(0.9, Status::Ok)}, 4);
    QCOMPARE(e.size(), 1u);
    QCOMPARE(e[0].worst, 0.5);
  }
};

QTEST_APPLESS_MAIN(TestAlerts)
#include "tst_alerts.moc"
