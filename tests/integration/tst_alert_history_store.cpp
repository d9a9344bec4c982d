// The alert_history store (issue 15 item 5) against the real PostgreSQL: the
// migration runs again without harm; the list's filters are parameters, so SQL
// text, LIKE wildcards, 100 kB and non-UTF-8 filters are a clear error or no
// match and nothing is changed; bad records are refused before any write.
#include <QtTest>

#include "core_fixture.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/alert_history.h"
#include "tier/schema/migrations.h"

using namespace tier;

namespace {
long long countRows(TierCore& core) {
  auto c = core.pg().acquire();
  return c->exec("SELECT count(*) FROM alert_history").toInt(0, 0);
}
}  // namespace

class TestAlertHistoryStore : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> core_;
  std::int64_t base_ = 0;

  ops::AlertRecord record(const std::string& metric, std::int64_t started) const {
    ops::AlertRecord r;
    r.recorder = ops::alertRecorderId();
    r.metric = metric;
    r.source = "This console";
    r.value = r.worst = 0.6;
    r.limit = 0.8;
    r.unit = "ratio";
    r.started_ms = started;
    return r;
  }

 private Q_SLOTS:
  void initTestCase() {
    test::seededServers();
    core_ = std::make_unique<TierCore>(test::coreConfig("tst_alert_history_store"));
    base_ = QDateTime::currentMSecsSinceEpoch() - 7'200'000;
    ops::recordAlertRaised(*core_, record("hit_rate", base_));
  }
  void cleanupTestCase() { core_.reset(); }

  // Run by hand a second time (as a restore of an old dump and a re-run would): no error, no row lost.
  void theMigrationIsIdempotent() {
    const auto& all = schema::embeddedMigrations();
    const auto it = std::find_if(all.begin(), all.end(), [](const auto& m) { return m.version == 5; });
    QVERIFY(it != all.end());
    QCOMPARE(std::string(it->name), std::string("005_alert_history"));
    const long long before = countRows(*core_);
    QVERIFY(before >= 1);
    test::seededServers().postgres().psql(it->sql);
    QCOMPARE(countRows(*core_), before);
  }

  void hostileFiltersMatchNothingAndChangeNothing_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("sql") << QByteArray("'; DROP TABLE alert_history; --");
    QTest::newRow("wildcards") << QByteArray("%_%");
    QTest::newRow("backslash") << QByteArray("\\");
    QTest::newRow("100 kB") << QByteArray(100 * 1024, 'x');
  }
  void hostileFiltersMatchNothingAndChangeNothing() {
    QFETCH(QByteArray, text);
    const long long before = countRows(*core_);
    for (int field = 0; field < 3; ++field) {
      ops::AlertHistoryFilter f;
      (field == 0 ? f.metric : field == 1 ? f.source : f.text) = text.toStdString();
      QVERIFY(ops::listAlertHistory(*core_, f).empty());
    }
    QCOMPARE(countRows(*core_), before);
  }

  void nonUtf8IsAClearError() {
    ops::AlertHistoryFilter f;
    f.text = std::string("caf\xe9");
    try {
      ops::listAlertHistory(*core_, f);
      QFAIL("a non-UTF-8 filter was accepted");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::BadInput);
      QVERIFY2(std::string(e.what()).find("UTF-8") != std::string::npos, e.what());
    }
  }

  void badRecordsAreRefusedBeforeAnyWrite() {
    const long long before = countRows(*core_);
    auto nonUtf8 = record("hit_rate", base_ + 4);
    nonUtf8.source = std::string("\xff\xfe console");
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::recordAlertRaised(*core_, nonUtf8));
    auto truncated = record("hit_rate\xe2\x82", base_ + 5);
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::recordAlertRaised(*core_, truncated));
    auto noMetric = record("", base_ + 1);
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::recordAlertRaised(*core_, noMetric));
    auto badKind = record("hit_rate", base_ + 2);
    badKind.source_kind = "console'; DROP TABLE alert_history; --";
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::recordAlertRaised(*core_, badKind));
    auto noStart = record("hit_rate", 0);
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::recordAlertEnded(*core_, noStart));
    auto noRecorder = record("hit_rate", base_ + 3);
    noRecorder.recorder.clear();
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::recordAlertRaised(*core_, noRecorder));
    QCOMPARE(countRows(*core_), before);
  }

  void validUtf8IsStoredAndFound() {
    auto fine = record("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5", base_ + 6);  // UTF-8 of "café € 🔥": accepted
    ops::recordAlertRaised(*core_, fine);
    ops::AlertHistoryFilter f;
    f.text = "\xe2\x82\xac \xf0\x9f\x94\xa5";
    QCOMPARE(int(ops::listAlertHistory(*core_, f).size()), 1);
  }

  // The console's writes run on workers in no fixed order: an escalation that lands before its raise
  // leaves the row red with the worse value; an end that lands first is kept.
  void writesCommuteWhateverTheOrder() {
    auto red = record("db_query_p99", base_ + 200'000);
    red.unit = "ms";
    red.status = "violation";
    red.value = 25;
    red.worst = 40;
    auto amber = red;
    amber.status = "warn";
    amber.worst = 25;
    ops::recordAlertRaised(*core_, red);
    ops::recordAlertRaised(*core_, amber);
    auto ratio = record("hit_rate", base_ + 200'000);  // lower is worse for a ratio
    ratio.worst = 0.4;
    ops::recordAlertRaised(*core_, ratio);
    ratio.worst = 0.7;
    ops::recordAlertRaised(*core_, ratio);
    ops::AlertHistoryFilter f;
    f.since_ms = base_ + 200'000;
    auto rows = ops::listAlertHistory(*core_, f);
    QCOMPARE(int(rows.size()), 2);
    for (const auto& r : rows) {
      QVERIFY(!r.ended_ms);
      if (r.metric == "db_query_p99") {
        QCOMPARE(r.status, std::string("violation"));
        QCOMPARE(r.worst, 40.0);
        QCOMPARE(r.value, 25.0);
      } else {
        QCOMPARE(r.worst, 0.4);
      }
    }
    red.worst = 55;
    red.ended_ms = base_ + 260'000;
    ops::recordAlertEnded(*core_, red);
    ops::recordAlertRaised(*core_, amber);  // a late raise does not reopen it or lower its worst
    f.metric = "db_query_p99";
    rows = ops::listAlertHistory(*core_, f);
    QCOMPARE(int(rows.size()), 1);
    QCOMPARE(rows[0].worst, 55.0);
    QCOMPARE(rows[0].ended_ms.value_or(0), base_ + 260'000);
    QCOMPARE(rows[0].duration_ms.value_or(0), std::int64_t(60'000));
  }

  void sinceAndLimit() {
    for (int i = 1; i <= 5; ++i) ops::recordAlertRaised(*core_, record("knowledge_p99", base_ + 100'000 + i));
    ops::AlertHistoryFilter f;
    f.metric = "knowledge_p99";
    f.since_ms = base_ + 100'003;
    auto rows = ops::listAlertHistory(*core_, f);
    QCOMPARE(int(rows.size()), 3);
    QCOMPARE(rows.front().started_ms, base_ + 100'005);  // newest first
    QCOMPARE(rows.back().started_ms, base_ + 100'003);
    f.limit = 2;
    rows = ops::listAlertHistory(*core_, f);
    QCOMPARE(int(rows.size()), 2);
    QCOMPARE(rows.front().started_ms, base_ + 100'005);
  }
};

QTEST_MAIN(TestAlertHistoryStore)
#include "tst_alert_history_store.moc"
