// The Users page (issue 15 item 1) end-to-end against real Redis and
// PostgreSQL from the test harness: find by id and email (hostile text too),
// the overview's sessions, entries and mood with where each lives, the Stale
// banner with both values of a changed field, Refresh and Evict (audited), and
// the full-text search tab. Saves a screenshot when TIER_SCREENSHOT_DIR is set.
// TIER_TEST_TIMEOUT: 300
#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTreeWidget>
#include <QtTest>

#include <memory>

#include "common/core_service.h"
#include "core_fixture.h"
#include "gui_fixture.h"
#include "tier/ops/audit.h"
#include "users/users_page.h"

using tier::ui::UsersPage;

class TestUsersPage : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<tier::TierCore> core_;  // the test's own view of the servers
  std::unique_ptr<tier::ui::CoreService> service_;
  std::unique_ptr<UsersPage> page_;
  std::int64_t userId_ = 0;
  std::string email_;

  bool openAndWait(std::int64_t id) {
    QSignalSpy shown(page_.get(), &UsersPage::overviewShown);
    page_->openUser(id);
    return shown.wait(15000) || shown.count() > 0;
  }

  int auditCount(const std::string& action) {
    int n = 0;
    for (const auto& r : tier::ops::readAudit(*core_, 200, action)) n += r.action == action;
    return n;
  }

  // Answers the open confirmation box with its destructive button.
  void confirmEvict() {
    QMessageBox* box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = page_->findChild<QMessageBox*>(QStringLiteral("userEvictConfirmation"))), 5000);
    for (auto* b : box->buttons())
      if (box->buttonRole(b) == QMessageBox::DestructiveRole) b->click();
  }

 private Q_SLOTS:
  void initTestCase() {
    tier::test::seededServers();
    tier::test::flushRedis();
    const tier::CoreConfig cfg = tier::test::coreConfig("g-users");
    core_ = std::make_unique<tier::TierCore>(cfg);
    // A user with entries and sessions.
    auto c = core_->pg().acquire();
    auto r = c->exec(
        "SELECT u.id, u.email FROM users u WHERE EXISTS (SELECT 1 FROM chat_sessions s WHERE s.user_id = u.id) "
        "AND (SELECT count(*) FROM journal_entries e WHERE e.user_id = u.id) >= 2 ORDER BY u.id LIMIT 1");
    QCOMPARE(r.rows(), 1);
    userId_ = r.toInt(0, 0);
    email_ = std::string(r.value(0, 1));

    service_ = std::make_unique<tier::ui::CoreService>();
    QVERIFY(tier::test::connectAndProbe(*service_, cfg, QStringLiteral("g-users")));
    page_ = std::make_unique<UsersPage>(service_.get());
    page_->resize(1400, 850);
    page_->show();
    QVERIFY(QTest::qWaitForWindowExposed(page_.get()));
  }

  void cleanupTestCase() {
    page_.reset();
    service_.reset();
    core_.reset();
  }

  void findByIdOpensTheUser() {
    QSignalSpy shown(page_.get(), &UsersPage::overviewShown);
    page_->find(QString::number(userId_));
    QVERIFY(shown.wait(15000));
    QCOMPARE(page_->currentUserId(), userId_);
    QCOMPARE(page_->matchesView()->topLevelItemCount(), 1);
    const auto& ov = *page_->overview();
    QCOMPARE(ov.user.user_id, userId_);
    // Sessions and entries are the user's own, as the database counts them.
    auto c = core_->pg().acquire();
    const auto sessions = c->exec("SELECT count(*) FROM chat_sessions WHERE user_id = $1", {std::to_string(userId_)});
    const auto entries = c->exec("SELECT count(*) FROM journal_entries WHERE user_id = $1", {std::to_string(userId_)});
    QCOMPARE(ov.session_count, sessions.toInt(0, 0));
    QCOMPARE(ov.entry_count, entries.toInt(0, 0));
    QCOMPARE(page_->sessionsView()->topLevelItemCount(), static_cast<int>(std::min<long long>(ov.session_count, 50)));
    QCOMPARE(page_->entriesView()->topLevelItemCount(), static_cast<int>(std::min<long long>(ov.entry_count, 20)));
    QCOMPARE(page_->moodView()->topLevelItemCount(), 3);
    // Nothing read it through the cache yet: the database only.
    QVERIFY2(page_->userFactsText().startsWith(QStringLiteral("Not cached")), qPrintable(page_->userFactsText()));
  }

  // A session read through the cache shows where it lives; one changed behind the cache shows stale.
  void sessionsShowWhereTheyLive() {
    auto c = core_->pg().acquire();
    const std::int64_t sessionId =
        c->exec("SELECT min(id) FROM chat_sessions WHERE user_id = $1", {std::to_string(userId_)}).toInt(0, 0);
    QVERIFY(core_->sessions().get(sessionId).value);  // fills L2
    QVERIFY(openAndWait(userId_));
    auto row = [&]() -> QTreeWidgetItem* {
      for (int i = 0; i < page_->sessionsView()->topLevelItemCount(); ++i)
        if (page_->sessionsView()->topLevelItem(i)->data(0, Qt::UserRole).toLongLong() == sessionId)
          return page_->sessionsView()->topLevelItem(i);
      return nullptr;
    };
    QVERIFY(row());
    QVERIFY2(row()->text(5).contains(QStringLiteral("L2")) && !row()->text(5).contains(QStringLiteral("stale")),
             qPrintable(row()->text(5)));
    QVERIFY(row()->text(6) != QStringLiteral("-"));
    c->exec("UPDATE chat_sessions SET title = title || ' (renamed)' WHERE id = $1", {std::to_string(sessionId)});
    QVERIFY(openAndWait(userId_));
    QVERIFY2(row()->text(5).contains(QStringLiteral("stale")), qPrintable(row()->text(5)));
  }

  void findByEmailPartAndHostileText() {
    const QString local = QString::fromStdString(email_.substr(0, email_.find('@'))).toUpper();
    QSignalSpy matches(page_.get(), &UsersPage::matchesShown);
    page_->find(local);
    QVERIFY(matches.wait(15000));
    bool listed = false;
    for (int i = 0; i < page_->matchesView()->topLevelItemCount(); ++i)
      listed |= page_->matchesView()->topLevelItem(i)->data(0, Qt::UserRole).toLongLong() == userId_;
    QVERIFY(listed);
    for (const QString& hostile : {QStringLiteral("'; DROP TABLE users; --"), QStringLiteral("%"), QStringLiteral("_"),
                                   QStringLiteral("99999999999999999999999")}) {
      matches.clear();
      page_->find(hostile);
      QVERIFY2(matches.wait(15000), qPrintable(hostile));
      QCOMPARE(matches.first().first().toInt(), 0);  // literal: no email has these
      QVERIFY(page_->statusText().startsWith(QStringLiteral("No user matches")));
    }
    // Too long: a clear sentence, nothing listed.
    page_->find(QString(400, QLatin1Char('x')));
    QTRY_VERIFY_WITH_TIMEOUT(page_->statusText().contains(QStringLiteral("longer than 320")), 15000);
    auto c = core_->pg().acquire();
    QVERIFY(c->exec("SELECT count(*) FROM users").toInt(0, 0) > 0);
  }

  void staleEntryShowsBothValuesAndRefreshMendsIt() {
    QVERIFY(openAndWait(userId_));
    const std::int64_t entryId = page_->overview()->entries.front().entry_id;
    QVERIFY(core_->entries().get(entryId).value);  // fills L2 (the page's core shares it)
    auto c = core_->pg().acquire();
    c->exec("UPDATE journal_entries SET title = 'Changed by a DBA' WHERE id = $1", {std::to_string(entryId)});
    QVERIFY(openAndWait(userId_));
    page_->tabs()->setCurrentIndex(1);
    auto* view = page_->entriesView();
    for (int i = 0; i < view->topLevelItemCount(); ++i)
      if (view->topLevelItem(i)->data(0, Qt::UserRole).toLongLong() == entryId) view->setCurrentItem(view->topLevelItem(i));
    const QString facts = page_->detailFactsText();
    QVERIFY2(facts.startsWith(QStringLiteral("Stale:")), qPrintable(facts));
    QVERIFY2(facts.contains(QStringLiteral("title: cached \"")) && facts.contains(QStringLiteral("database \"Changed by a DBA\"")),
             qPrintable(facts));
    QVERIFY(view->currentItem()->text(4).contains(QStringLiteral("stale")));

    const int before = auditCount("refresh.entry");
    QVERIFY(page_->refreshButton()->isEnabled());
    QVERIFY(page_->refreshButton()->text().contains(QString::number(entryId)));
    QSignalSpy done(page_.get(), &UsersPage::actionFinished);
    QSignalSpy shown(page_.get(), &UsersPage::overviewShown);
    page_->refreshButton()->click();
    QVERIFY(done.wait(15000));
    QVERIFY2(done.first().first().toBool(), qPrintable(done.first().at(1).toString()));
    QVERIFY(shown.wait(15000));  // the row shows the new state
    QTRY_VERIFY_WITH_TIMEOUT(page_->detailFactsText().startsWith(QStringLiteral("Current:")), 5000);
    QCOMPARE(auditCount("refresh.entry"), before + 1);
    QCOMPARE(view->currentItem()->text(1), QStringLiteral("Changed by a DBA"));
  }

  void evictTheMoodStatistics() {
    QVERIFY(core_->analytics().moodStats(userId_, 30).value);
    QVERIFY(openAndWait(userId_));
    page_->tabs()->setCurrentIndex(3);
    QVERIFY(page_->evictButton()->text().contains(QStringLiteral("mood")));
    const int before = auditCount("evict.stats");
    QSignalSpy done(page_.get(), &UsersPage::actionFinished);
    page_->evictButton()->click();
    confirmEvict();
    QVERIFY(done.wait(15000));
    QVERIFY(done.first().first().toBool());
    QCOMPARE(auditCount("evict.stats"), before + 1);
    QVERIFY(!core_->cache().peekL2(tier::codec::Namespace::Stats, tier::codec::statsKey(userId_, "30d")).present);
  }

  void searchTabFindsAnEntryAndOpensIt() {
    auto c = core_->pg().acquire();
    const auto r = c->exec("SELECT id, user_id, title FROM journal_entries WHERE user_id <> $1 ORDER BY id LIMIT 1",
                           {std::to_string(userId_)});
    const std::int64_t entryId = r.toInt(0, 0), owner = r.toInt(0, 1);
    c->exec("UPDATE journal_entries SET title = 'Quokkas at dawn' WHERE id = $1", {std::to_string(entryId)});
    page_->find(QString::number(owner));
    QTRY_COMPARE_WITH_TIMEOUT(page_->currentUserId(), owner, 15000);
    QSignalSpy hits(page_.get(), &UsersPage::searchShown);
    page_->searchEntries(QStringLiteral("quokkas"));
    QVERIFY(hits.wait(15000));
    QVERIFY(hits.first().first().toInt() >= 1);
    auto* results = page_->searchResultsView();
    QCOMPARE(results->topLevelItem(0)->data(0, Qt::UserRole).toLongLong(), entryId);
    QVERIFY2(results->topLevelItem(0)->text(4).contains(QStringLiteral("«Quokkas»")),
             qPrintable(results->topLevelItem(0)->text(4)));
    QVERIFY(page_->searchStatusText().contains(QStringLiteral("user %1").arg(owner)));
    // Off "Only this user": every user's entries.
    page_->onlyThisUser()->setChecked(false);
    hits.clear();
    page_->searchEntries(QStringLiteral("quokkas"));
    QVERIFY(hits.wait(15000));
    QVERIFY(page_->searchStatusText().contains(QStringLiteral("every user")));
    QCOMPARE(page_->searchResultsView()->topLevelItem(0)->data(0, Qt::UserRole).toLongLong(), entryId);
    page_->onlyThisUser()->setChecked(true);
    // Websearch oddities are a result or a sentence, never a failure of the page.
    QSignalSpy failed(page_.get(), &UsersPage::searchFailed);
    hits.clear();
    page_->searchEntries(QStringLiteral("\"unclosed -( OR"));
    QTRY_VERIFY_WITH_TIMEOUT(hits.count() + failed.count() == 1, 15000);
    if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty()) {
      hits.clear();
      page_->searchEntries(QStringLiteral("quokkas"));
      QVERIFY(hits.wait(15000));
      QVERIFY(page_->grab().save(dir + QStringLiteral("/users-search.png")));
    }
  }

  void screenshotOfTheOverview() {
    const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("TIER_SCREENSHOT_DIR not set");
    QVERIFY(openAndWait(userId_));
    QVERIFY(core_->entries().get(page_->overview()->entries.front().entry_id).value);  // one cached, one stale below
    QVERIFY(openAndWait(userId_));
    page_->tabs()->setCurrentIndex(1);
    QTest::qWait(100);
    QVERIFY(page_->grab().save(dir + QStringLiteral("/users-entries.png")));
  }
};

QTEST_MAIN(TestUsersPage)
#include "tst_users_page.moc"
