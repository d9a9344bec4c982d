// The Sessions page end-to-end against real Redis and PostgreSQL from the test
// harness: search (including hostile text), the detail's thread and tier
// states, the stale flag, refresh and evict (audited), keyboard shortcuts.
// TIER_TEST_TIMEOUT: 300
#include <QAction>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QtTest>

#include <memory>

#include "common/core_service.h"
#include "core_fixture.h"
#include "sessions/session_detail_widgets.h"
#include "sessions/session_search_model.h"
#include "sessions/sessions_page.h"
#include "tier/ops/audit.h"
#include "tier/ops/inspect.h"

using tier::repo::SessionSummary;
using tier::ui::SessionSearchModel;
using tier::ui::SessionsPage;

namespace {

QString q(std::int64_t v) { return QString::number(v); }

bool containsSession(const SessionSearchModel* m, std::int64_t id) { return m->rowOf(id) >= 0; }

}  // namespace

class TestSessionsPage : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<tier::TierCore> core_;  // the test's own view of the servers
  std::unique_ptr<tier::ui::CoreService> service_;
  std::unique_ptr<SessionsPage> page_;
  SessionSummary sample_;

  // Runs a search and waits until it has settled; returns whether it succeeded.
  bool searchAndWait(const QString& text) {
    QSignalSpy done(page_.get(), &SessionsPage::searchFinished);
    QSignalSpy failed(page_.get(), &SessionsPage::searchFailed);
    page_->search(text);
    if (!page_->searching()) return true;  // empty query: nothing to wait for
    if (!QTest::qWaitFor([&] { return done.count() + failed.count() > 0; }, 15000)) return false;
    return done.count() == 1;
  }

  void waitInspected(std::int64_t id) {
    QTRY_VERIFY_WITH_TIMEOUT(page_->inspection().has_value() && page_->inspection()->session_id == id, 15000);
  }

  std::vector<tier::ops::AuditRow> auditFor(const std::string& action, std::int64_t id) {
    std::vector<tier::ops::AuditRow> out;
    for (auto& r : tier::ops::readAudit(*core_, 200, action))
      if (r.action == action && r.args_json.find(std::to_string(id)) != std::string::npos) out.push_back(r);
    return out;
  }

 private Q_SLOTS:
  void initTestCase() {
    tier::test::seededServers();
    tier::test::flushRedis();
    const tier::CoreConfig cfg = tier::test::coreConfig("g2-sessions");
    core_ = std::make_unique<tier::TierCore>(cfg);
    auto all = core_->sessions().find("@", 50);
    QVERIFY(!all.empty());
    // A session whose user has several sessions makes the user-id search meaningful.
    sample_ = all.front();
    for (const auto& s : all) {
      if (std::count_if(all.begin(), all.end(), [&](const SessionSummary& o) { return o.user_id == s.user_id; }) > 1 &&
          s.message_count > 0) {
        sample_ = s;
        break;
      }
    }

    service_ = std::make_unique<tier::ui::CoreService>();
    tier::ui::ConnectionSettings settings;
    settings.profile = QStringLiteral("g2-sessions");
    settings.redis_url = QString::fromStdString(cfg.redis_url);
    settings.pg_conninfo = QString::fromStdString(cfg.pg_conninfo);
    QSignalSpy ready(service_.get(), &tier::ui::CoreService::coreReady);
    service_->connectTo(settings);
    QVERIFY(ready.wait(30000));
    // The test servers' credentials may do everything, once the probe has answered.
    QTRY_VERIFY_WITH_TIMEOUT(service_->capabilities().evict.allowed && service_->capabilities().warm.allowed, 30000);
    page_ = std::make_unique<SessionsPage>(service_.get());
    page_->resize(1400, 850);
    page_->show();
    QVERIFY(QTest::qWaitForWindowExposed(page_.get()));
  }

  void cleanupTestCase() {
    page_.reset();
    service_.reset();
    core_.reset();
  }

  void searchBySessionId() {
    QVERIFY(searchAndWait(q(sample_.id)));
    auto* m = page_->model();
    QVERIFY(m->rowCount() >= 1);
    // The exact session-id match comes first in the server's order (the view shows it unsorted).
    QCOMPARE(m->summaryAt(0).id, sample_.id);
    QCOMPARE(page_->proxy()->index(0, SessionSearchModel::IdColumn).data().toString(), q(sample_.id));
    for (int r = 0; r < m->rowCount(); ++r)
      QVERIFY(m->summaryAt(r).id == sample_.id || m->summaryAt(r).user_id == sample_.id);
    QVERIFY(page_->statusText().contains(QStringLiteral("session")));
    // The first row is selected and inspected without a click.
    waitInspected(sample_.id);
  }

  void searchByEmail() {
    QVERIFY(searchAndWait(QString::fromStdString(sample_.user_email).toUpper()));  // case does not matter
    auto* m = page_->model();
    QVERIFY(containsSession(m, sample_.id));
    for (int r = 0; r < m->rowCount(); ++r)
      QCOMPARE(QString::fromStdString(m->summaryAt(r).user_email).toLower(), QString::fromStdString(sample_.user_email).toLower());
    const auto expected = core_->sessions().find(sample_.user_email, 1000).size();
    QCOMPARE(std::size_t(m->rowCount()), expected);
    QCOMPARE(page_->statusText(), expected == 1 ? QStringLiteral("1 session") : QStringLiteral("%1 sessions").arg(expected));
  }

  void searchByEmailPart() {
    const std::string email = sample_.user_email;
    const std::string local = email.substr(0, email.find('@'));
    QVERIFY(searchAndWait(QString::fromStdString(local)));
    QVERIFY(containsSession(page_->model(), sample_.id));
  }

  void searchByUserId() {
    QVERIFY(searchAndWait(q(sample_.user_id)));
    auto* m = page_->model();
    QVERIFY(containsSession(m, sample_.id));
    int ofUser = 0;
    for (int r = 0; r < m->rowCount(); ++r) {
      const auto& s = m->summaryAt(r);
      // Digits are a user id or session id, or part of an email (the seed's emails end in a number).
      QVERIFY(s.user_id == sample_.user_id || s.id == sample_.user_id ||
              s.user_email.find(std::to_string(sample_.user_id)) != std::string::npos);
      ofUser += s.user_id == sample_.user_id;
    }
    QVERIFY(ofUser >= 2);
  }

  void noMatch() {
    QVERIFY(searchAndWait(QStringLiteral("nobody-at-all@nowhere.invalid")));
    QCOMPARE(page_->model()->rowCount(), 0);
    QVERIFY(page_->statusText().startsWith(QStringLiteral("No session matches")));
  }

  void typingIsDebouncedAndStaleResultsDropped() {
    auto* edit = page_->searchEdit();
    edit->clear();
    QSignalSpy done(page_.get(), &SessionsPage::searchFinished);
    edit->setFocus();
    QTest::keyClicks(edit, QString::fromStdString(sample_.user_email));
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 15000);
    QVERIFY(containsSession(page_->model(), sample_.id));
    QCOMPARE(page_->model()->rowCount(), int(core_->sessions().find(sample_.user_email, 1000).size()));

    // Three searches in a row: only the last one's result is shown.
    done.clear();
    page_->search(QStringLiteral("example"));
    page_->search(q(sample_.user_id));
    page_->search(q(sample_.id));
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 15000);
    QCOMPARE(page_->model()->summaryAt(0).id, sample_.id);
    // A further search in the same slot proves the older ones were dropped, not late.
    QVERIFY(searchAndWait(q(sample_.user_id)));
    QCOMPARE(done.count(), 2);
    QVERIFY(containsSession(page_->model(), sample_.id));
  }

  void hostileSearchText_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("sql injection") << QStringLiteral("'; DROP TABLE users; --");
    QTest::newRow("or 1=1") << QStringLiteral("x' OR '1'='1");
    QTest::newRow("percent") << QStringLiteral("%");
    QTest::newRow("underscore") << QStringLiteral("_");
    QTest::newRow("backslash") << QStringLiteral("\\%\\");
    QTest::newRow("10 KB") << QString(10 * 1024, QLatin1Char('x'));
    QTest::newRow("latin1 bytes") << QString::fromLatin1("\xff\xfe\xe9\x80\x81 caf\xe9", 10);
    QTest::newRow("nul byte") << QString::fromLatin1("ab\0cd", 5);
    QTest::newRow("digits overflow") << QStringLiteral("99999999999999999999999");
    QTest::newRow("regex") << QStringLiteral(".*");
  }

  void hostileSearchText() {
    QFETCH(QString, text);
    const bool ok = searchAndWait(text);
    QVERIFY(!page_->searching());
    auto* m = page_->model();
    if (!ok) {
      // Refused with a sentence, and nothing half-shown.
      QCOMPARE(m->rowCount(), 0);
      QVERIFY(!page_->statusText().isEmpty());
      QVERIFY(page_->statusText().endsWith(QLatin1Char('.')) || page_->statusText().contains(QLatin1Char(':')));
    } else {
      // Just text: every row matches it literally (an email containing it), if any.
      const QString needle = text.trimmed().toLower();
      for (int r = 0; r < m->rowCount(); ++r)
        QVERIFY2(QString::fromStdString(m->summaryAt(r).user_email).toLower().contains(needle),
                 qPrintable(QString::fromStdString(m->summaryAt(r).user_email)));
    }
    // The users table is still there and still answers.
    QVERIFY(core_->users().loadFromDb(sample_.user_id).has_value());
    auto c = core_->pg().acquire();
    QVERIFY(c->exec("SELECT count(*) FROM users").toInt(0, 0) > 0);
  }

  void pageStillWorksAfterHostileText() {
    QVERIFY(searchAndWait(q(sample_.id)));
    QCOMPARE(page_->model()->summaryAt(0).id, sample_.id);
  }

  void selectingShowsThreadAndTiers() {
    tier::test::flushRedis();
    QVERIFY(searchAndWait(q(sample_.user_id)));
    page_->selectSession(sample_.id);
    QCOMPARE(page_->currentSessionId(), sample_.id);
    page_->inspectAction()->trigger();  // the flush happened after any earlier inspection
    waitInspected(sample_.id);
    const auto& in = *page_->inspection();
    QVERIFY(in.l3_present);
    QVERIFY(!in.l2.present);
    QVERIFY(page_->tierPanel()->tierText(1).startsWith(QStringLiteral("absent")));
    QVERIFY(page_->tierPanel()->tierText(2).startsWith(QStringLiteral("present")));
    QVERIFY(page_->tierPanel()->tierText(2).contains(QStringLiteral("version %1").arg(in.l3_version)));
    QVERIFY(page_->tierPanel()->bannerText().startsWith(QStringLiteral("Not cached")));

    // The thread: the latest messages with their seq, in order.
    const auto& msgs = in.l3->messages;
    QVERIFY(!msgs.empty());
    QCOMPARE(page_->threadView()->messageCount(), int(msgs.size()));
    const QString plain = page_->threadView()->toPlainText();
    QVERIFY(plain.contains(QStringLiteral("#%1").arg(msgs.back().seq)));
    const QString lastWords = QString::fromStdString(msgs.back().content).left(30);
    QVERIFY2(plain.contains(lastWords), qPrintable(lastWords));
    QVERIFY(plain.indexOf(QStringLiteral("#%1 ").arg(msgs.front().seq)) < plain.indexOf(QStringLiteral("#%1 ").arg(msgs.back().seq)));

    // A read through the platform's path fills L2; the detail shows TTL and size.
    QVERIFY(core_->sessions().get(sample_.id).value.has_value());
    QSignalSpy shown(page_.get(), &SessionsPage::inspectionShown);
    page_->inspectAction()->trigger();
    QVERIFY(shown.wait(15000));
    const auto& again = *page_->inspection();
    QVERIFY(again.l2.present);
    QVERIFY(again.l2_ttl_s > 0);
    QVERIFY(again.l2.bytes > 0);
    QVERIFY(again.l2_generation_current);
    QVERIFY(!again.stale);
    const QString l2 = page_->tierPanel()->tierText(1);
    QVERIFY2(l2.startsWith(QStringLiteral("present")) && l2.contains(QStringLiteral("TTL")) &&
                 l2.contains(QStringLiteral("current generation")),
             qPrintable(l2));
    QVERIFY(page_->tierPanel()->bannerText().startsWith(QStringLiteral("In sync")));
  }

  void staleFlagThenRefreshFromDatabase() {
    // Change the row behind the cache's back, as another writer without invalidation would.
    {
      auto c = core_->pg().acquire();
      c->exec("UPDATE chat_sessions SET title = title || ' (edited)', version = version + 1 WHERE id = $1",
              {std::to_string(sample_.id)});
    }
    QSignalSpy shown(page_.get(), &SessionsPage::inspectionShown);
    page_->inspectAction()->trigger();
    QVERIFY(shown.wait(15000));
    const auto& in = *page_->inspection();
    QVERIFY(in.stale);
    QVERIFY(std::find(in.diff.begin(), in.diff.end(), "title") != in.diff.end());
    const QString banner = page_->tierPanel()->bannerText();
    QVERIFY2(banner.startsWith(QStringLiteral("Stale")) && banner.contains(QStringLiteral("title")), qPrintable(banner));
    if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty())
      QVERIFY(page_->grab().save(dir + QStringLiteral("/sessions-stale.png")));

    const auto auditBefore = auditFor("refresh.session", sample_.id).size();
    QSignalSpy finished(page_.get(), &SessionsPage::actionFinished);
    shown.clear();
    page_->refreshAction()->trigger();
    QVERIFY(page_->busy());
    QVERIFY(!page_->refreshAction()->isEnabled());  // one action at a time
    QVERIFY(!page_->evictAction()->isEnabled());
    QVERIFY(finished.wait(15000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY(page_->resultText().contains(QStringLiteral("reloaded from the database")));
    QVERIFY(!page_->busy());
    QVERIFY(shown.count() > 0 || shown.wait(15000));  // re-inspected after the action
    const auto& after = *page_->inspection();
    QVERIFY(after.l1.present);
    QVERIFY(after.l2.present);
    QVERIFY(!after.stale);
    QCOMPARE(after.l2.version, after.l3_version);
    QVERIFY(page_->tierPanel()->bannerText().startsWith(QStringLiteral("In sync")));
    QVERIFY(QString::fromStdString(after.l3->title).endsWith(QStringLiteral("(edited)")));
    const auto audit = auditFor("refresh.session", sample_.id);
    QCOMPARE(audit.size(), auditBefore + 1);
    QCOMPARE(QString::fromStdString(audit.front().result), QStringLiteral("ok"));
  }

  void evictAsksFirst() {
    QVERIFY(page_->inspection()->l2.present);
    page_->evictAction()->trigger();
    QMessageBox* box = nullptr;
    QTRY_VERIFY((box = page_->findChild<QMessageBox*>(QStringLiteral("evictConfirmation"))) != nullptr);
    QVERIFY(box->isVisible());
    QVERIFY(box->text().contains(q(sample_.id)));
    box->button(QMessageBox::Cancel)->click();
    QVERIFY(!page_->busy());
    QVERIFY(tier::ops::inspectSession(*core_, sample_.id).l2.present);  // nothing evicted
  }

  void evictThenL2Absent() {
    const auto auditBefore = auditFor("evict.session", sample_.id).size();
    QSignalSpy finished(page_.get(), &SessionsPage::actionFinished);
    QSignalSpy shown(page_.get(), &SessionsPage::inspectionShown);
    page_->evictAction()->trigger();
    QPushButton* evict = nullptr;
    QTRY_VERIFY([&] {
      auto* box = page_->findChild<QMessageBox*>(QStringLiteral("evictConfirmation"));
      if (!box) return false;
      for (auto* b : box->findChildren<QPushButton*>())
        if (b->text().remove(QLatin1Char('&')) == QLatin1String("Evict")) evict = b;
      return evict != nullptr;
    }());
    evict->click();
    QVERIFY(finished.count() == 1 || finished.wait(15000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY2(page_->resultText().contains(QStringLiteral("Redis held a copy")), qPrintable(page_->resultText()));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 15000);
    const auto& in = *page_->inspection();
    QVERIFY(!in.l1.present);
    QVERIFY(!in.l2.present);
    QVERIFY(in.l3_present);
    QVERIFY(page_->tierPanel()->tierText(1).startsWith(QStringLiteral("absent")));
    // Checked through another client of the same Redis, too.
    const auto seen = tier::ops::inspectSession(*core_, sample_.id);
    QVERIFY(!seen.l2.present);
    QCOMPARE(seen.l2_ttl_s, -2LL);
    const auto audit = auditFor("evict.session", sample_.id);
    QCOMPARE(audit.size(), auditBefore + 1);
    QCOMPARE(audit.front().affected, 1LL);
    QCOMPARE(QString::fromStdString(audit.front().result), QStringLiteral("ok"));
  }

  void actionOnVanishedSessionSaysWhy() {
    // A session id that exists nowhere: refresh fails with a sentence, not a crash.
    const std::int64_t missing = 9'000'000'000'000LL;
    QSignalSpy failed(page_.get(), &SessionsPage::inspectionFailed);
    page_->selectSession(missing);
    QVERIFY(failed.wait(15000));
    QVERIFY(page_->tierPanel()->bannerText().startsWith(QStringLiteral("Not found")));
    QSignalSpy finished(page_.get(), &SessionsPage::actionFinished);
    page_->refreshAction()->trigger();
    QVERIFY(finished.wait(15000));
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QVERIFY2(page_->resultText().startsWith(QStringLiteral("Not found")), qPrintable(page_->resultText()));
  }

  void refusedByCredentials() {
    // What the probe says the credentials may not do is disabled, with the reason.
    QVERIFY(searchAndWait(q(sample_.id)));
    waitInspected(sample_.id);
    QVERIFY(page_->evictAction()->isEnabled());
    QVERIFY(page_->permissionText().isEmpty());
    tier::ops::Capabilities refused = service_->capabilities();
    refused.evict = {false, "Redis user 'ro' may not run UNLINK (ACL)."};
    Q_EMIT service_->capabilitiesAvailable(refused);
    QVERIFY(!page_->evictAction()->isEnabled());
    QVERIFY(!page_->refreshAction()->isEnabled());  // refresh drops the key too
    QVERIFY(page_->inspectAction()->isEnabled());
    QVERIFY(page_->evictAction()->toolTip().contains(QStringLiteral("may not run UNLINK")));
    QVERIFY(page_->permissionText().contains(QStringLiteral("Evict: Redis user 'ro' may not run UNLINK (ACL).")));
    if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty())
      QVERIFY(page_->grab().save(dir + QStringLiteral("/sessions-refused.png")));
    page_->evictAction()->trigger();  // a disabled action does nothing: no confirmation, no eviction
    QVERIFY(page_->findChild<QMessageBox*>(QStringLiteral("evictConfirmation")) == nullptr);
    Q_EMIT service_->capabilitiesAvailable(service_->capabilities());
    QVERIFY(page_->evictAction()->isEnabled());
    QVERIFY(page_->refreshAction()->isEnabled());
    QVERIFY(page_->permissionText().isEmpty());
    QVERIFY(!page_->evictAction()->toolTip().contains(QStringLiteral("Not allowed")));
  }

  void keyboard() {
    QCOMPARE(page_->refreshAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_R));
    QCOMPARE(page_->inspectAction()->shortcut(), QKeySequence(Qt::Key_F5));
    QCOMPARE(page_->evictAction()->shortcut(), QKeySequence(QKeySequence::Delete));
    for (QAction* a : {page_->refreshAction(), page_->inspectAction(), page_->evictAction()})
      QVERIFY2(a->toolTip().contains(a->shortcut().toString(QKeySequence::NativeText)), qPrintable(a->toolTip()));

    page_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(page_.get()));
    QVERIFY(searchAndWait(q(sample_.id)));
    waitInspected(sample_.id);
    page_->resultsView()->setFocus();
    // Ctrl+F goes to the search box; Down goes back to the results.
    QTest::keyClick(page_->resultsView(), Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY(page_->searchEdit()->hasFocus());
    QTest::keyClick(page_->searchEdit(), Qt::Key_Down);
    QTRY_VERIFY(page_->resultsView()->hasFocus());
    // F5 re-inspects.
    QSignalSpy shown(page_.get(), &SessionsPage::inspectionShown);
    QTest::keyClick(page_->resultsView(), Qt::Key_F5);
    QVERIFY(shown.wait(15000));
    // Delete asks before evicting.
    QTest::keyClick(page_->resultsView(), Qt::Key_Delete);
    QMessageBox* box = nullptr;
    QTRY_VERIFY((box = page_->findChild<QMessageBox*>(QStringLiteral("evictConfirmation"))) != nullptr);
    QTest::keyClick(box, Qt::Key_Escape);
    QTRY_VERIFY(page_->findChild<QMessageBox*>(QStringLiteral("evictConfirmation")) == nullptr);
    QVERIFY(!page_->busy());
  }

  void screenshot() {
    // TIER_SCREENSHOT_DIR=/some/dir writes sessions.png of the page after a search and a selection.
    const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("set TIER_SCREENSHOT_DIR to write a screenshot");
    tier::ops::refreshSession(*core_, sample_.id);  // cached in L2 (written through by another instance)
    QVERIFY(searchAndWait(QStringLiteral("example.com")));
    page_->selectSession(sample_.id);
    QSignalSpy shown(page_.get(), &SessionsPage::inspectionShown);
    page_->inspectAction()->trigger();
    QVERIFY(shown.wait(15000));
    QVERIFY(page_->grab().save(dir + QStringLiteral("/sessions.png")));
    // The same page on a dark palette: text must stay on palette roles.
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
    dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Button, QColor(0x3a, 0x3a, 0x3a));
    dark.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
    dark.setColor(QPalette::Highlight, QColor(0x2a, 0x6f, 0xbf));
    dark.setColor(QPalette::HighlightedText, Qt::white);
    const QPalette before = page_->palette();
    page_->setPalette(dark);
    QVERIFY(page_->grab().save(dir + QStringLiteral("/sessions-dark.png")));
    page_->setPalette(before);
  }
};

QTEST_MAIN(TestSessionsPage)
#include "tst_sessions_page.moc"
