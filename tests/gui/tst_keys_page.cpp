// The Keys view (issue 18 item 1) against the harness's real Redis: keys are
// seeded across the namespaces through the cache's own write path (fillMany),
// plus keys outside the schema; a scan must list exactly what redis-cli --scan
// lists per group, a glob must narrow to what the same glob matches, hostile
// globs must be refused before anything is scanned, the detail must show the
// decoded envelope, and a small row budget must cap the table and say so while
// the scan goes on counting every key by namespace.
// Saves screenshots when TIER_SCREENSHOT_DIR is set.
// TIER_TEST_ON_CLUSTER
// TIER_TEST_TIMEOUT: 300
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QtTest>
#include <map>
#include <memory>

#include "common/core_service.h"
#include "common/stall_probe.h"
#include "core_fixture.h"
#include "gui_fixture.h"
#include "keys/key_list_model.h"
#include "keys/keys_page.h"
#include "main_window.h"
#include "operations/confirm_invalidate_dialog.h"
#include "pages.h"
#include "settings/profile_store.h"
#include "tier/codec/keys.h"
#include "tier/core.h"
#include "tier/ops/keyspace.h"
#include "tier/redis/redis_client.h"
#include "tier/redis/redis_url.h"
#include "users/users_page.h"

using tier::ui::KeysPage;

namespace {
constexpr int kEntries = 1500;
constexpr int kSessions = 300;
constexpr int kUsers = 200;
constexpr int kStats = 100;
constexpr int kOther = 120;
}  // namespace

class TestKeysPage : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<tier::TierCore> core_;  // the test's own view of the servers
  std::unique_ptr<tier::ui::CoreService> service_;
  std::unique_ptr<KeysPage> page_;

  void fill(tier::codec::Namespace ns, const std::vector<std::string>& keys) {
    std::vector<tier::cache::TieredCache::FillItem> items;
    std::int64_t i = 0;
    for (const auto& k : keys) {
      ++i;
      items.push_back(
          {k, "{\"id\":" + std::to_string(i) + ",\"user_id\":1,\"title\":\"seeded " + std::to_string(i) + "\"}", i});
    }
    QCOMPARE(core_->cache().fillMany(ns, items).stored, keys.size());
  }

  // Runs a scan to its end; false if it did not finish in time.
  bool scanAndWait(bool* complete = nullptr) {
    QSignalSpy finished(page_.get(), &KeysPage::scanFinished);
    page_->startScan();
    if (!finished.wait(60'000) && finished.isEmpty()) return false;
    if (complete) *complete = finished.first().at(1).toBool();
    return true;
  }

  // The test's own count per group, from redis-cli --scan.
  static std::map<std::string, long long> truth(const std::string& pattern = "*") {
    std::map<std::string, long long> out;
    for (const auto& k : tier::test::scanKeys(pattern)) ++out[tier::ops::keyGroup(k)];
    return out;
  }

 public:
  static void initMain() { tier::test::usePrivateConfig("tst_keys_page"); }

 private Q_SLOTS:
  void initTestCase() {
    tier::test::seededServers();
    tier::test::flushRedis();
    const tier::CoreConfig cfg = tier::test::coreConfig("g-keys");
    core_ = std::make_unique<tier::TierCore>(cfg);
    std::vector<std::string> keys;
    for (int i = 1; i <= kEntries; ++i) keys.push_back(tier::codec::entryKey(i));
    fill(tier::codec::Namespace::Entry, keys);
    keys.clear();
    for (int i = 1; i <= kSessions; ++i) keys.push_back(tier::codec::sessionKey(i));
    fill(tier::codec::Namespace::Session, keys);
    keys.clear();
    for (int i = 1; i <= kUsers; ++i) keys.push_back(tier::codec::userKey(i));
    fill(tier::codec::Namespace::User, keys);
    keys.clear();
    for (int i = 1; i <= kStats; ++i) keys.push_back(tier::codec::statsKey(i, "7d"));
    fill(tier::codec::Namespace::Stats, keys);
    // Keys outside our schema, in one pipeline routed by slot (a cluster's masters too).
    tier::redis::RedisOptions o;
    o.url = tier::redis::RedisUrl::parse(tier::test::redisUrl());
    tier::redis::RedisClient admin(o);
    std::vector<tier::redis::Command> sets;
    for (int i = 0; i < kOther; ++i) sets.push_back({"SET", "legacy:thing:" + std::to_string(i), "v"});
    for (const auto& r : admin.pipeline(sets)) QCOMPARE(r.str, std::string("OK"));

    service_ = std::make_unique<tier::ui::CoreService>();
    QVERIFY(tier::test::connectAndProbe(*service_, cfg, QStringLiteral("g-keys")));
    page_ = std::make_unique<KeysPage>(service_.get());
    page_->resize(1400, 850);
    page_->show();
    QVERIFY(QTest::qWaitForWindowExposed(page_.get()));
  }

  void cleanupTestCase() {
    page_.reset();
    service_.reset();
    core_.reset();
  }

  void scanListsEveryNamespace() {
    page_->selectGroup(QString());
    page_->setFilterText(QString());
    bool complete = false;
    QVERIFY(scanAndWait(&complete));
    QVERIFY2(complete, qPrintable(page_->statusText()));
    QVERIFY2(page_->statusText().startsWith(QStringLiteral("Done: scanned")), qPrintable(page_->statusText()));
    const auto t = truth();
    // The seeded groups: nothing else writes them while the test runs.
    for (const char* g : {"entry", "session", "user", "stats"})
      QCOMPARE(page_->loadedCount(QString::fromLatin1(g)), t.at(g));
    QCOMPARE(page_->loadedCount(QStringLiteral("entry")), kEntries);
    QCOMPARE(page_->loadedCount(QStringLiteral("session")), kSessions);
    QCOMPARE(page_->loadedCount(QStringLiteral("user")), kUsers);
    QCOMPARE(page_->loadedCount(QStringLiteral("stats")), kStats);
    // "other" may also hold the fleet's tier:fleet:* keys, published on the service's own clock: count ours.
    long long legacy = 0;
    for (int r = 0; r < page_->model()->rowCount(); ++r) {
      const auto& row = page_->model()->row(r);
      legacy += row.key.startsWith(QStringLiteral("legacy:thing:")) && tier::ops::keyGroups()[row.group] == "other";
    }
    QCOMPARE(legacy, static_cast<long long>(kOther));
    QVERIFY(page_->loadedCount(QStringLiteral("other")) >= kOther);
    QCOMPARE(page_->model()->rowCount(), page_->loadedTotal());
    // Sorted by key once the scan is done (unsorted while pages arrive).
    QCOMPARE(page_->proxy()->sortColumn(), 0);
    for (int r = 0; r + 1 < page_->proxy()->rowCount(); ++r)
      QVERIFY(page_->proxy()->index(r, 0).data().toString() <= page_->proxy()->index(r + 1, 0).data().toString());
    // The list on the left says the same.
    QVERIFY(page_->groupList()->item(1)->text().contains(QLocale().toString(kEntries)));
    // Selecting a namespace shows its loaded keys only, instantly.
    page_->selectGroup(QStringLiteral("session"));
    QCOMPARE(page_->proxy()->rowCount(), kSessions);
    for (int r = 0; r < page_->proxy()->rowCount(); r += 37)
      QVERIFY(page_->proxy()->index(r, 0).data().toString().startsWith(QStringLiteral("session:")));
    page_->selectGroup(QString());
    QCOMPARE(page_->proxy()->rowCount(), page_->loadedTotal());
    // By namespace, descending: group names never rise, and within a group keys never rise either.
    page_->table()->sortByColumn(tier::ui::KeyListModel::GroupColumn, Qt::DescendingOrder);
    for (int r = 0; r + 1 < page_->proxy()->rowCount(); ++r) {
      const QString g0 = page_->proxy()->index(r, 1).data().toString(), g1 = page_->proxy()->index(r + 1, 1).data().toString();
      QVERIFY(g0 >= g1);
      if (g0 == g1)
        QVERIFY(page_->proxy()->index(r, 0).data().toString() >= page_->proxy()->index(r + 1, 0).data().toString());
    }
    page_->table()->sortByColumn(tier::ui::KeyListModel::KeyColumn, Qt::AscendingOrder);
  }

  void globNarrowsWithinTheNamespace() {
    page_->selectGroup(QStringLiteral("entry"));
    page_->setFilterText(QStringLiteral("v1:1?"));  // entry:v1:10 .. entry:v1:19
    QVERIFY(scanAndWait());
    QCOMPARE(page_->loadedTotal(), 10LL);
    QCOMPARE(page_->loadedTotal(), static_cast<long long>(tier::test::scanKeys("entry:v1:1?").size()));
    for (int r = 0; r < page_->model()->rowCount(); ++r)
      QVERIFY(page_->model()->row(r).key.startsWith(QStringLiteral("entry:v1:1")));
    QVERIFY2(page_->statusText().contains(QStringLiteral("entry:v1:1?")), qPrintable(page_->statusText()));
    page_->setFilterText(QStringLiteral("v1:[2-3]*"));
    QVERIFY(scanAndWait());
    QCOMPARE(page_->loadedTotal(), static_cast<long long>(tier::test::scanKeys("entry:v1:[2-3]*").size()));
    QCOMPARE(page_->loadedCount(QStringLiteral("session")), 0LL);
  }

  void hostileGlobsScanNothing() {
    const long long before = page_->model()->rowCount();
    for (const QString& hostile : {QStringLiteral("[abc"), QString(600, QLatin1Char('a')), QStringLiteral("a\u0001b"),
                                   QStringLiteral("abc\\")}) {
      QSignalSpy rejected(page_.get(), &KeysPage::scanRejected);
      QSignalSpy finished(page_.get(), &KeysPage::scanFinished);
      page_->setFilterText(hostile);
      page_->startScan();
      QCOMPARE(rejected.count(), 1);
      QVERIFY(!page_->scanning());
      QVERIFY2(page_->filterErrorText().startsWith(QStringLiteral("Invalid filter: ")), qPrintable(hostile));
      QVERIFY(page_->filterErrorText().size() > 20);
      QTest::qWait(50);
      QCOMPARE(finished.count(), 0);
      QCOMPARE(page_->model()->rowCount(), before);  // the last scan's rows, untouched
    }
    page_->setFilterText(QString());
    QVERIFY(page_->filterErrorText().isEmpty());
  }

  void detailShowsTheEnvelope() {
    const QString key = QString::fromStdString(tier::codec::entryKey(7));
    QSignalSpy shown(page_.get(), &KeysPage::detailShown);
    page_->showKey(key);
    QVERIFY(shown.wait(15'000));
    const QString d = page_->detailText();
    QVERIFY2(d.contains(QStringLiteral("Namespace: entry")), qPrintable(d));
    QVERIFY2(d.contains(QStringLiteral("Envelope: version 7 · generation")), qPrintable(d));
    QVERIFY2(d.contains(QStringLiteral("(current)")), qPrintable(d));
    QVERIFY2(d.contains(QStringLiteral("Type: string")), qPrintable(d));
    QVERIFY2(d.contains(QStringLiteral("In this console's L1: no")), qPrintable(d));
    QVERIFY2(d.contains(QStringLiteral("Written at: 20")), qPrintable(d));
    QVERIFY2(page_->valueText().contains(QStringLiteral("\"title\": \"seeded 7\"")), qPrintable(page_->valueText()));
    QVERIFY(page_->openButton()->isVisibleTo(page_.get()));
    QVERIFY(page_->openButton()->text().contains(QStringLiteral("entry 7")));
    // A key outside the schema: no envelope, no link.
    shown.clear();
    page_->showKey(QStringLiteral("legacy:thing:3"));
    QVERIFY(shown.wait(15'000));
    QVERIFY2(page_->detailText().contains(QStringLiteral("Not an envelope of ours")), qPrintable(page_->detailText()));
    QVERIFY(!page_->openButton()->isVisibleTo(page_.get()));
  }

  // The table stops at the budget; the scan does not: it counts the rest by
  // namespace, so the group list's counts are those of the whole keyspace.
  void rowBudgetCapsTheTableAndTheScanCountsTheRest() {
    page_->selectGroup(QString());
    page_->setFilterText(QString());
    page_->setRowBudget(50);
    QSignalSpy reached(page_.get(), &KeysPage::rowBudgetReached);
    bool complete = false;
    QVERIFY(scanAndWait(&complete));
    QVERIFY(complete);
    QCOMPARE(reached.size(), 1);
    QCOMPARE(reached.first().at(0).toLongLong(), 50LL);
    QVERIFY(page_->budgetReached());
    QCOMPARE(page_->model()->rowCount(), 50);
    QCOMPARE(page_->loadedTotal(), 50LL);
    // The seeded groups, counted past the budget: nothing else writes them while
    // the test runs (the fleet's keys and the bookkeeping ones do change).
    const auto t = truth();
    for (const char* g : {"entry", "session", "user", "stats", "other"})
      QCOMPARE(page_->foundCount(QString::fromLatin1(g)), t.at(g));
    long long all = 0;
    for (const auto& g : tier::ops::keyGroups()) all += page_->foundCount(QString::fromStdString(g));
    QCOMPARE(page_->foundCount(QString()), all);
    QVERIFY(all >= kEntries + kSessions + kUsers + kStats + kOther);
    QVERIFY2(page_->groupList()->item(0)->text().contains(QLocale().toString(all)),
             qPrintable(page_->groupList()->item(0)->text()));
    QVERIFY2(
        page_->statusText().startsWith(QStringLiteral("Showing the first 50 keys (row budget); narrow the filter")),
        qPrintable(page_->statusText()));
    QVERIFY2(page_->statusText().contains(QStringLiteral("Done: scanned %1").arg(QLocale().toString(all))),
             qPrintable(page_->statusText()));
    // Stop while counting: the scan ends between pages, incomplete, rows kept.
    page_->setRowBudget(10);
    QSignalSpy finished(page_.get(), &KeysPage::scanFinished);
    connect(page_.get(), &KeysPage::rowBudgetReached, page_.get(), [this] { page_->stopScan(); },
            Qt::SingleShotConnection);
    page_->startScan();
    QVERIFY(finished.wait(60'000) || !finished.isEmpty());
    QCOMPARE(page_->model()->rowCount(), 10);
    if (!finished.first().at(1).toBool())  // a keyspace of one page is done before Stop is seen
      QVERIFY2(page_->statusText().contains(QStringLiteral("Stopped: ")), qPrintable(page_->statusText()));
    page_->setRowBudget(KeysPage::kDefaultRowBudget);
  }

  void invalidateTheSelectionThroughTheAuditedPath() {
    page_->selectGroup(QStringLiteral("entry"));
    page_->setFilterText(QStringLiteral("v1:4?"));
    QVERIFY(scanAndWait());
    QCOMPARE(page_->loadedTotal(), 10LL);
    page_->table()->clearSelection();
    QVERIFY(!page_->invalidateButton()->isEnabled());  // nothing selected
    page_->table()->selectAll();
    QCOMPARE(page_->selectedKeys().size(), 10);
    QVERIFY(page_->invalidateButton()->isEnabled());
    QSignalSpy done(page_.get(), &KeysPage::actionFinished);
    page_->invalidateButton()->click();
    QMessageBox* box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = page_->findChild<QMessageBox*>(QStringLiteral("keysInvalidateConfirmation"))),
                             5000);
    for (auto* b : box->buttons())
      if (box->buttonRole(b) == QMessageBox::DestructiveRole) b->click();
    QVERIFY(done.wait(30'000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(page_->resultText()));
    QVERIFY2(page_->resultText().startsWith(QStringLiteral("Invalidated 10 key(s): 10 removed")),
             qPrintable(page_->resultText()));
    QVERIFY(tier::test::scanKeys("entry:v1:4?").empty());
    QCOMPARE(tier::test::scanKeys("entry:v1:5?").size(), std::size_t(10));  // the neighbours stay
  }

  void refreshReloadsFromTheDatabase() {
    auto c = core_->pg().acquire();
    const std::int64_t user = c->exec("SELECT min(id) FROM users").toInt(0, 0);
    QVERIFY(user > 0 && user <= kUsers);  // a seeded (fake) copy exists for it
    page_->selectGroup(QStringLiteral("user"));
    page_->setFilterText(QStringLiteral("v1:%1").arg(user));
    QVERIFY(scanAndWait());
    QCOMPARE(page_->loadedTotal(), 1LL);
    QSignalSpy shown(page_.get(), &KeysPage::detailShown);
    page_->table()->selectRow(0);
    QVERIFY(shown.wait(15'000));
    QVERIFY(!page_->valueText().contains(QStringLiteral("email")));  // the seeded stand-in
    QVERIFY(page_->refreshButton()->isEnabled());
    QSignalSpy done(page_.get(), &KeysPage::actionFinished);
    shown.clear();
    page_->refreshButton()->click();
    QVERIFY(done.wait(30'000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(page_->resultText()));
    QVERIFY(!shown.isEmpty() || shown.wait(15'000));
    QVERIFY2(page_->valueText().contains(QStringLiteral("\"email\"")), qPrintable(page_->valueText()));
    QVERIFY2(page_->detailText().contains(QStringLiteral("In this console's L1: yes")),
             qPrintable(page_->detailText()));
  }

  // A read-only profile greys both actions and says why; production asks for the key typed.
  void profileTagsGateTheActions() {
    using tier::ui::Profile;
    using tier::ui::ProfileStore;
    page_->selectGroup(QString());
    page_->setFilterText(QStringLiteral("legacy:thing:1?"));
    QVERIFY(scanAndWait());
    QCOMPARE(page_->loadedTotal(), 10LL);
    Profile tagged;
    tagged.name = QStringLiteral("g-keys");  // the profile the service connected with
    tagged.read_only = true;
    ProfileStore().saveProfile(tagged);
    struct Untag {
      ~Untag() { tier::ui::ProfileStore().removeProfile(QStringLiteral("g-keys")); }
    } untag;
    page_->table()->selectRow(0);
    QVERIFY(!page_->invalidateButton()->isEnabled());
    auto* why = page_->findChild<QLabel*>(QStringLiteral("keysPermission"));
    QVERIFY(why && why->isVisibleTo(page_.get()));
    QVERIFY2(why->text().contains(QStringLiteral("read-only")), qPrintable(why->text()));
    page_->invalidateButton()->click();  // disabled: nothing asks
    QVERIFY(!page_->findChild<QDialog*>(QStringLiteral("keysInvalidateConfirmation")));

    tagged.read_only = false;
    tagged.production = true;
    ProfileStore().saveProfile(tagged);
    page_->table()->selectRow(1);
    QVERIFY(page_->invalidateButton()->isEnabled());
    const QString key = page_->selectedKeys().value(0);
    page_->invalidateButton()->click();
    auto* dialog = page_->findChild<tier::ui::ConfirmInvalidateDialog*>(QStringLiteral("keysInvalidateConfirmation"));
    QVERIFY(dialog && dialog->isVisible());
    QVERIFY(dialog->requiresTyping());
    QVERIFY(!dialog->confirmButton()->isEnabled());
    dialog->confirmEdit()->setText(key);
    QVERIFY(dialog->confirmButton()->isEnabled());
    dialog->reject();
    QTest::qWait(200);
    QCOMPARE(tier::test::scanKeys(key.toStdString()).size(), std::size_t(1));  // cancelled: still there
  }

  void screenshot() {
    const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("TIER_SCREENSHOT_DIR not set");
    page_->selectGroup(QString());
    page_->setFilterText(QString());
    QVERIFY(scanAndWait());
    QSignalSpy shown(page_.get(), &KeysPage::detailShown);
    page_->table()->selectRow(3);
    const QModelIndex src = page_->proxy()->mapToSource(page_->proxy()->index(3, 0));
    page_->showKey(page_->model()->row(src.row()).key);
    QVERIFY(shown.wait(15'000));
    QTest::qWait(300);  // the layout settles around the new detail
    QVERIFY(page_->grab().save(dir + QStringLiteral("/keys-browse.png")));
    page_->setFilterText(QStringLiteral("[abc"));
    page_->startScan();
    QTest::qWait(300);
    QVERIFY(page_->grab().save(dir + QStringLiteral("/keys-bad-filter.png")));
  }

  // In the main window: Ctrl+6 is listed in Help ▸ Keyboard shortcuts, and an
  // entry key's "Open … in Users" brings the Users page forward with the entry's user.
  void mainWindowShortcutAndOpenInUsers() {
    tier::ui::MainWindow window(service_.get());
    tier::ui::addAllPages(&window, service_.get());
    bool listed = false;
    for (const auto& e : window.shortcutEntries())
      listed |= e.keys == QKeySequence(QStringLiteral("Ctrl+6")).toString(QKeySequence::NativeText) &&
                e.what.contains(QStringLiteral("Keys"));
    QVERIFY(listed);
    auto* keys = window.findChild<KeysPage*>();
    auto* users = window.findChild<tier::ui::UsersPage*>();
    QVERIFY(keys && users);
    window.tabs()->setCurrentWidget(keys);
    QSignalSpy shown(keys, &KeysPage::detailShown);
    keys->showKey(QString::fromStdString(tier::codec::entryKey(8)));  // its value says user_id 1
    QVERIFY(shown.wait(15'000));
    QVERIFY(keys->openButton()->isVisibleTo(keys));
    QSignalSpy opened(users, &tier::ui::UsersPage::overviewShown);
    keys->openButton()->click();
    QCOMPARE(window.tabs()->currentWidget(), static_cast<QWidget*>(users));
    QVERIFY(!opened.isEmpty() || opened.wait(15'000));
    QCOMPARE(users->currentUserId(), std::int64_t(1));
  }

  // A read-only ACL user browses and reads details; Invalidate and Refresh are greyed with the reason.
  void readOnlyAclUserBrowsesWithActionsGreyed() {
    if (tier::test::onCluster())
      QSKIP("the ACL user is created on the single node (per-node ACLs: tst_least_privilege)");
    const tier::test::ScopedAclUser user("keys_ro_gui", "keys-ro-gui-pw", "'~*' +@read +@connection -@write");
    tier::ui::CoreService ro;
    QVERIFY(tier::test::connectAsAclUser(ro, user, QStringLiteral("g-keys-ro")));
    QVERIFY(!ro.capabilities().invalidate.allowed);
    KeysPage page(&ro);
    page.resize(1200, 700);
    page.show();
    page.selectGroup(QStringLiteral("user"));
    page.setFilterText(QString());
    QSignalSpy finished(&page, &KeysPage::scanFinished);
    page.startScan();
    QVERIFY(!finished.isEmpty() || finished.wait(60'000));
    QVERIFY2(finished.first().at(1).toBool(), qPrintable(page.statusText()));
    QCOMPARE(page.loadedCount(QStringLiteral("user")), static_cast<long long>(tier::test::scanKeys("user:*").size()));
    QSignalSpy shown(&page, &KeysPage::detailShown);
    page.table()->selectRow(0);
    QVERIFY(!shown.isEmpty() || shown.wait(15'000));
    QVERIFY2(page.detailText().contains(QStringLiteral("Envelope: version")), qPrintable(page.detailText()));
    QVERIFY(!page.invalidateButton()->isEnabled());
    QVERIFY(!page.refreshButton()->isEnabled());
    auto* why = page.findChild<QLabel*>(QStringLiteral("keysPermission"));
    QVERIFY(why && why->isVisibleTo(&page));
    QVERIFY2(why->text().contains(QStringLiteral("Invalidate: ")), qPrintable(why->text()));
    QVERIFY(!why->text().contains(QStringLiteral("keys-ro-gui-pw")));
  }

  // Many keys past the row budget: the table holds exactly the budget, the scan
  // counts every key to the end, and the GUI thread's stalls are reported (not
  // asserted: 2 shared cores, sanitizers). TIER_KEYS_BULK sets the key count.
  void bigScanFillsTheBudgetAndCountsTheRest() {
    const int bulk =
        qEnvironmentVariableIsSet("TIER_KEYS_BULK") ? qEnvironmentVariableIntValue("TIER_KEYS_BULK") : 12'000;
    const int budget = bulk * 5 / 6;
    std::vector<tier::cache::TieredCache::FillItem> items;
    for (int i = 0; i < bulk; ++i) {
      items.push_back({tier::codec::knowledgeKey("bulk-" + std::to_string(i)), "{\"n\":" + std::to_string(i) + "}", 1});
      if (items.size() == 5000 || i + 1 == bulk) {
        QCOMPARE(core_->cache().fillMany(tier::codec::Namespace::Knowledge, items).stored, items.size());
        items.clear();
      }
    }
    page_->selectGroup(QString());
    page_->setFilterText(QString());
    page_->setRowBudget(budget);
    tier::ui::StallProbe probe(5);
    probe.start();
    QElapsedTimer firstRows;
    firstRows.start();
    QSignalSpy finished(page_.get(), &KeysPage::scanFinished);
    qint64 firstMs = -1;  // when the first page's rows went in (not a polling interval)
    auto conn = connect(page_->model(), &QAbstractItemModel::rowsInserted, this, [&] {
      if (firstMs < 0) firstMs = firstRows.elapsed();
    });
    page_->startScan();
    QVERIFY(!finished.isEmpty() || finished.wait(120'000));
    probe.stop();
    disconnect(conn);
    QVERIFY(firstMs >= 0);
    QVERIFY(finished.first().at(1).toBool());  // complete: counted to the end
    QCOMPARE(page_->model()->rowCount(), budget);
    QCOMPARE(page_->foundCount(QStringLiteral("knowledge")),
             static_cast<long long>(tier::test::scanKeys("knowledge:*").size()));
    QCOMPARE(page_->foundCount(QString()), static_cast<long long>(tier::test::scanKeys("*").size()));
    QVERIFY2(page_->statusText().startsWith(
                 QStringLiteral("Showing the first %1 keys (row budget)").arg(QLocale().toString(budget))),
             qPrintable(page_->statusText()));
    page_->table()->scrollToBottom();
    const auto r = probe.report();
    qInfo(
        "keys view: %d keys, budget %d: first rows after %lld ms; GUI stall p50 %.1f ms, p99 %.1f ms, max %.1f ms "
        "over %.1f s",
        bulk, budget, static_cast<long long>(firstMs), r.p50_ms, r.p99_ms, r.max_ms, r.seconds);
    page_->setRowBudget(KeysPage::kDefaultRowBudget);
  }
};

QTEST_MAIN(TestKeysPage)
#include "tst_keys_page.moc"
