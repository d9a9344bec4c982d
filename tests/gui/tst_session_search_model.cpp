// SessionSearchModel: model contract under QAbstractItemModelTester, 10,000-row
// resets, and sorting through QSortFilterProxyModel by raw values.
#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QtTest>

#include <algorithm>
#include <random>

#include "sessions/session_search_model.h"

using tier::repo::SessionSummary;
using tier::ui::SessionSearchModel;

namespace {

// Deterministic rows in shuffled order so that every column's sort does work.
std::vector<SessionSummary> syntheticRows(int n, std::uint32_t seed = 1) {
  std::vector<SessionSummary> rows;
  rows.reserve(static_cast<std::size_t>(n));
  const char* statuses[] = {"active", "closed", "expired"};
  for (int i = 0; i < n; ++i) {
    SessionSummary s;
    s.id = 1000 + i * 7;
    s.user_id = 1 + (i * 37) % 997;
    s.user_email = (i % 2 ? "User" : "user") + std::to_string(s.user_id) + "@Example.com";
    s.title = "Session about topic " + std::to_string((i * 13) % 101);
    s.status = statuses[i % 3];
    s.message_count = (i * 11) % 120;
    s.last_active_at = 1'700'000'000'000LL + static_cast<std::int64_t>((i * 7919) % n) * 60'000;
    rows.push_back(std::move(s));
  }
  std::mt19937 rng(seed);
  std::shuffle(rows.begin(), rows.end(), rng);
  return rows;
}

}  // namespace

class TestSessionSearchModel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void emptyModel() {
    SessionSearchModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(SessionSearchModel::ColumnCount));
    QCOMPARE(model.headerData(SessionSearchModel::EmailColumn, Qt::Horizontal).toString(), QStringLiteral("Email"));
    QCOMPARE(model.headerData(SessionSearchModel::LastActiveColumn, Qt::Horizontal).toString(), QStringLiteral("Last active"));
    QVERIFY(!model.data(model.index(0, 0)).isValid());
    QCOMPARE(model.rowOf(42), -1);
  }

  void valuesAndRoles() {
    SessionSearchModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    SessionSummary s{123456, 42, "Ana.Lima.3@example.com", "Sleep & stress", "expired", 1234, 1'700'000'000'000LL};
    model.resetData({s});
    QCOMPARE(model.rowCount(), 1);
    auto at = [&](int col, int role = Qt::DisplayRole) { return model.data(model.index(0, col), role); };
    QCOMPARE(at(SessionSearchModel::IdColumn).toString(), QStringLiteral("123456"));
    QCOMPARE(at(SessionSearchModel::UserColumn).toString(), QStringLiteral("42"));
    QCOMPARE(at(SessionSearchModel::EmailColumn).toString(), QStringLiteral("Ana.Lima.3@example.com"));
    QCOMPARE(at(SessionSearchModel::TitleColumn).toString(), QStringLiteral("Sleep & stress"));
    QCOMPARE(at(SessionSearchModel::StatusColumn).toString(), QStringLiteral("expired"));
    QCOMPARE(at(SessionSearchModel::MessagesColumn).toString(), QLocale().toString(1234));
    QCOMPARE(at(SessionSearchModel::LastActiveColumn).toString(), tier::ui::formatTimestamp(1'700'000'000'000LL));
    QVERIFY(!at(SessionSearchModel::LastActiveColumn).toString().isEmpty());
    // Sorting sees numbers as numbers and text without case.
    QCOMPARE(at(SessionSearchModel::IdColumn, SessionSearchModel::SortRole).toLongLong(), 123456LL);
    QCOMPARE(at(SessionSearchModel::MessagesColumn, SessionSearchModel::SortRole).toInt(), 1234);
    QCOMPARE(at(SessionSearchModel::LastActiveColumn, SessionSearchModel::SortRole).toLongLong(), 1'700'000'000'000LL);
    QCOMPARE(at(SessionSearchModel::EmailColumn, SessionSearchModel::SortRole).toString(), QStringLiteral("ana.lima.3@example.com"));
    for (int c = 0; c < model.columnCount(); ++c) QCOMPARE(at(c, SessionSearchModel::SessionIdRole).toLongLong(), 123456LL);
    QVERIFY(at(SessionSearchModel::StatusColumn, Qt::ForegroundRole).isValid());  // expired is amber
    QVERIFY(!at(SessionSearchModel::TitleColumn, Qt::ForegroundRole).isValid());  // palette text
    QCOMPARE(model.rowOf(123456), 0);
    QCOMPARE(model.summaryAt(0).user_email, s.user_email);
  }

  void tenThousandRowsResetAndReplace() {
    SessionSearchModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(SessionSearchModel::SortRole);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserts(&model, &QAbstractItemModel::rowsInserted);

    auto rows = syntheticRows(10'000);
    const auto first = rows.front();
    model.resetData(std::move(rows));
    QCOMPARE(resets.count(), 1);  // one reset, no per-row signals
    QCOMPARE(inserts.count(), 0);
    QCOMPARE(model.rowCount(), 10'000);
    QCOMPARE(proxy.rowCount(), 10'000);
    QCOMPARE(model.summaryAt(0).id, first.id);

    model.resetData(syntheticRows(5'000, 2));
    QCOMPARE(resets.count(), 2);
    QCOMPARE(model.rowCount(), 5'000);
    QCOMPARE(proxy.rowCount(), 5'000);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(proxy.rowCount(), 0);
  }

  void tenThousandRowsStaySmooth() {
    // The GUI-thread cost of a 10,000-row result: one reset plus a proxy sort.
    SessionSearchModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(SessionSearchModel::SortRole);
    proxy.sort(SessionSearchModel::LastActiveColumn, Qt::DescendingOrder);
    auto rows = syntheticRows(10'000);
    QElapsedTimer t;
    t.start();
    model.resetData(std::move(rows));
    const qint64 resetMs = t.elapsed();
    t.restart();
    proxy.sort(SessionSearchModel::EmailColumn, Qt::AscendingOrder);
    const qint64 sortMs = t.elapsed();
    qInfo("10,000 rows: reset + re-sort by last active %lld ms, sort by email %lld ms", resetMs, sortMs);
    QCOMPARE(proxy.rowCount(), 10'000);
    // Generous for a Debug build on a shared machine; a per-row or quadratic path would blow it.
    QVERIFY2(resetMs < 2000, qPrintable(QString::number(resetMs)));
    QVERIFY2(sortMs < 2000, qPrintable(QString::number(sortMs)));
  }

  void sortingProxy_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<bool>("ascending");
    for (int c = 0; c < SessionSearchModel::ColumnCount; ++c) {
      const QByteArray name = SessionSearchModel().headerData(c, Qt::Horizontal).toString().toUtf8();
      QTest::newRow(QByteArray(name + " asc").constData()) << c << true;
      QTest::newRow(QByteArray(name + " desc").constData()) << c << false;
    }
  }

  void sortingProxy() {
    QFETCH(int, column);
    QFETCH(bool, ascending);
    SessionSearchModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(SessionSearchModel::SortRole);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.resetData(syntheticRows(2'000));
    proxy.sort(column, ascending ? Qt::AscendingOrder : Qt::DescendingOrder);

    auto key = [&](int proxyRow) { return proxy.index(proxyRow, column).data(SessionSearchModel::SortRole); };
    for (int r = 1; r < proxy.rowCount(); ++r) {
      const QVariant a = key(r - 1), b = key(r);
      const auto order = QVariant::compare(a, b);
      QVERIFY2(ascending ? order <= 0 : order >= 0, qPrintable(QStringLiteral("row %1: %2 vs %3").arg(r).arg(a.toString(), b.toString())));
    }
    if (column == SessionSearchModel::MessagesColumn) {
      // Numeric, not text: 9 sorts before 10 ascending.
      const int firstCount = proxy.index(0, column).data(SessionSearchModel::SortRole).toInt();
      QCOMPARE(firstCount, ascending ? 0 : 119);
    }
    // Resetting a sorted proxy keeps it sorted.
    model.resetData(syntheticRows(1'000, 9));
    for (int r = 1; r < proxy.rowCount(); ++r) {
      const auto order = QVariant::compare(key(r - 1), key(r));
      QVERIFY(ascending ? order <= 0 : order >= 0);
    }
    // Unsorted (-1) gives back the source order.
    proxy.sort(-1);
    for (int r = 0; r < 50; ++r) QCOMPARE(proxy.mapToSource(proxy.index(r, 0)).row(), r);
  }
};

QTEST_MAIN(TestSessionSearchModel)
#include "tst_session_search_model.moc"
