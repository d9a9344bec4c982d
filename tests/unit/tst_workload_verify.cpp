// The workload's stale-read bookkeeping (AckTracker): what counts as stale,
// out-of-order acknowledgements, and concurrent use.
// TIER_TEST_LABELS: concurrency
#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

#include "tier/workload/workload.h"

using tier::workload::detail::AckTracker;

class TestWorkloadVerify : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void staleRule_data() {
    QTest::addColumn<qint64>("expected");
    QTest::addColumn<qint64>("seen");
    QTest::addColumn<bool>("stale");
    QTest::newRow("never written") << qint64(0) << qint64(1) << false;
    QTest::newRow("sees the acknowledged version") << qint64(7) << qint64(7) << false;
    QTest::newRow("sees a newer version") << qint64(7) << qint64(9) << false;
    QTest::newRow("one behind") << qint64(7) << qint64(6) << true;
    QTest::newRow("the original row") << qint64(7) << qint64(1) << true;
  }
  void staleRule() {
    QFETCH(qint64, expected);
    QFETCH(qint64, seen);
    QFETCH(bool, stale);
    QCOMPARE(AckTracker::isStale(expected, seen), stale);
  }

  void keepsTheHighestAcknowledgement() {
    AckTracker t;
    QCOMPARE(t.expected(42), std::int64_t(0));
    t.ack(42, 3);
    QCOMPARE(t.expected(42), std::int64_t(3));
    t.ack(42, 2);  // a slower writer's older acknowledgement arrives late
    QCOMPARE(t.expected(42), std::int64_t(3));
    t.ack(42, 5);
    QCOMPARE(t.expected(42), std::int64_t(5));
    QCOMPARE(t.expected(43), std::int64_t(0));
    t.ack(-1, 1);  // any id, including odd ones, has its own slot
    QCOMPARE(t.expected(-1), std::int64_t(1));
    QCOMPARE(t.size(), std::size_t(2));
    t.clear();
    QCOMPARE(t.size(), std::size_t(0));
    QCOMPARE(t.expected(42), std::int64_t(0));
  }

  void readThatStartedBeforeTheAckIsNotStale() {
    // The workload samples expected() before the read: a write acknowledged
    // while the read was in flight may be missed without it being stale.
    AckTracker t;
    t.ack(1, 4);
    const auto before = t.expected(1);
    t.ack(1, 5);  // acknowledged during the read
    QVERIFY(!AckTracker::isStale(before, 4));
    QVERIFY(AckTracker::isStale(t.expected(1), 4));  // the next read must see 5
  }

  void concurrentWritersAndReaders() {
    AckTracker t;
    constexpr int kWriters = 4, kIds = 257, kRounds = 2000;
    std::atomic<bool> done{false};
    std::atomic<int> regressions{0};
    std::thread reader([&] {
      std::vector<std::int64_t> last(kIds, 0);
      while (!done.load()) {
        for (int id = 0; id < kIds; ++id) {
          const auto v = t.expected(id);
          if (v < last[id]) regressions.fetch_add(1);  // the maximum never goes back
          last[id] = v;
        }
      }
    });
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w)
      writers.emplace_back([&, w] {
        for (int r = 1; r <= kRounds; ++r)
          for (int id = w; id < kIds; id += 2) t.ack(id, r * kWriters + w);
      });
    for (auto& th : writers) th.join();
    done.store(true);
    reader.join();
    QCOMPARE(regressions.load(), 0);
    QCOMPARE(t.size(), std::size_t(kIds));
    for (int id = 0; id < kIds; ++id) {
      // Writers w with w % 2 == id % 2 and w <= id wrote this id; the last round of the highest wins.
      std::int64_t want = 0;
      for (int w = 0; w < kWriters; ++w)
        if (w <= id && (id - w) % 2 == 0) want = std::max<std::int64_t>(want, kRounds * kWriters + w);
      QCOMPARE(t.expected(id), want);
    }
  }
};

QTEST_APPLESS_MAIN(TestWorkloadVerify)
#include "tst_workload_verify.moc"
