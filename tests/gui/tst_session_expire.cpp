// The Sessions page's part of the session sweeper (issue 15, item 3) against
// the real servers: Expire on the selected session (asked first, audited, the
// row expired and its copies gone) and the line with the sweeper's last pass.
// TIER_TEST_TIMEOUT: 240
#include <QAction>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>
#include <memory>

#include "common/core_service.h"
#include "core_fixture.h"
#include "operations/confirm_invalidate_dialog.h"
#include "sessions/sessions_page.h"
#include "settings/profile_store.h"
#include "tier/ops/audit.h"
#include "tier/ops/inspect.h"
#include "tier/ops/session_sweeper.h"

using tier::ui::SessionsPage;

namespace {

std::string status(tier::TierCore& core, std::int64_t id) {
  auto c = core.pg().acquire();
  auto r = c->exec("SELECT status FROM chat_sessions WHERE id = $1", {std::to_string(id)});
  return r.rows() ? std::string(r.value(0, 0)) : std::string("absent");
}

QString configDir() {
  return QDir::tempPath() + QStringLiteral("/tst_session_expire-%1").arg(QCoreApplication::applicationPid());
}

}  // namespace

class TestSessionExpire : public QObject {
  Q_OBJECT
 public:
  // Before QApplication: the production profile below goes to a private folder.
  static void initMain() {
    QDir(configDir()).removeRecursively();
    qputenv("XDG_CONFIG_HOME", configDir().toLocal8Bit());
  }

 private:
  std::unique_ptr<tier::TierCore> core_;
  std::unique_ptr<tier::ui::CoreService> service_;
  std::unique_ptr<SessionsPage> page_;

  QAction* expireAction() const { return page_->findChild<QAction*>(QStringLiteral("expireAction")); }

  QPushButton* confirmationButton(const QString& text) const {
    auto* box = page_->findChild<QMessageBox*>(QStringLiteral("expireConfirmation"));
    if (!box) return nullptr;
    for (auto* b : box->findChildren<QPushButton*>())
      if (b->text().remove(QLatin1Char('&')) == text) return b;
    return nullptr;
  }

  void selectAndWait(std::int64_t id) {
    page_->search(QString::number(id));
    QTRY_VERIFY_WITH_TIMEOUT(!page_->searching(), 15000);
    page_->selectSession(id);
    QTRY_VERIFY_WITH_TIMEOUT(page_->inspection().has_value() && page_->inspection()->session_id == id, 15000);
  }

 private Q_SLOTS:
  void initTestCase() {
    tier::test::seededServers();
    tier::test::flushRedis();
    const tier::CoreConfig cfg = tier::test::coreConfig("g-expire");
    core_ = std::make_unique<tier::TierCore>(cfg);
    service_ = std::make_unique<tier::ui::CoreService>();
    tier::ui::ConnectionSettings settings;
    settings.profile = QStringLiteral("g-expire");
    settings.redis_url = QString::fromStdString(cfg.redis_url);
    settings.pg_conninfo = QString::fromStdString(cfg.pg_conninfo);
    QSignalSpy ready(service_.get(), &tier::ui::CoreService::coreReady);
    service_->connectTo(settings);
    QVERIFY(ready.wait(30000));
    QTRY_VERIFY_WITH_TIMEOUT(service_->capabilities().evict.allowed, 30000);
    page_ = std::make_unique<SessionsPage>(service_.get());
    page_->resize(1400, 850);
    page_->show();
    QVERIFY(QTest::qWaitForWindowExposed(page_.get()));
  }

  void cleanupTestCase() {
    page_.reset();
    service_.reset();
    core_.reset();
    QDir(configDir()).removeRecursively();
  }

  void cancelChangesNothing() {
    const auto id = core_->sessions().create(4, "expire from the console: cancelled").id;
    selectAndWait(id);
    QVERIFY(expireAction());
    QTRY_VERIFY(expireAction()->isEnabled());
    expireAction()->trigger();
    QPushButton* cancel = nullptr;
    QTRY_VERIFY((cancel = confirmationButton(QStringLiteral("Cancel"))) != nullptr);
    cancel->click();
    QVERIFY(!page_->busy());
    QCOMPARE(status(*core_, id), std::string("active"));
  }

  void expireSelected() {
    const auto id = core_->sessions().create(4, "expire from the console").id;
    QVERIFY(core_->sessions().get(id).value);  // cached in L2
    selectAndWait(id);
    QVERIFY(page_->inspection()->l2.present);
    QTRY_VERIFY(expireAction()->isEnabled());
    QSignalSpy finished(page_.get(), &SessionsPage::actionFinished);
    QSignalSpy shown(page_.get(), &SessionsPage::inspectionShown);
    expireAction()->trigger();
    QPushButton* yes = nullptr;
    QTRY_VERIFY((yes = confirmationButton(QStringLiteral("Expire"))) != nullptr);
    if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty())
      QVERIFY(page_->grab().save(dir + QStringLiteral("/sessions-expire-confirm.png")));
    yes->click();
    QVERIFY(finished.count() == 1 || finished.wait(15000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY2(page_->resultText().contains(QStringLiteral("was expired")), qPrintable(page_->resultText()));
    QCOMPARE(status(*core_, id), std::string("expired"));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 15000);
    QCOMPARE(page_->inspection()->l3->status, std::string("expired"));
    QVERIFY(!page_->inspection()->l2.present);
    QVERIFY(!expireAction()->isEnabled());  // not active any more
    bool audited = false;
    for (const auto& r : tier::ops::readAudit(*core_, 50, "expire.session"))
      audited = audited || (r.action == "expire.session" && r.args_json.find(std::to_string(id)) != std::string::npos &&
                            r.result == "ok");
    QVERIFY(audited);
  }

  // The console's core runs the sweeper (an untagged profile); the line shows its last pass.
  void sweepLine() {
    const auto idle = core_->sessions().create(4, "idle, for the console's sweeper").id;
    {
      auto c = core_->pg().acquire();
      c->exec("UPDATE chat_sessions SET last_active_at = now() - interval '3 days' WHERE id = $1",
              {std::to_string(idle)});
    }
    QSignalSpy woken(this, &QObject::objectNameChanged);
    service_->run<bool>(
        this, QString(),
        [](tier::TierCore& core, tier::ui::JobContext&) {
          if (!core.sessionSweeper()) return false;
          core.sessionSweeper()->wake();
          return true;
        },
        [this](bool on) { setObjectName(on ? QStringLiteral("woken") : QStringLiteral("no sweeper")); });
    QVERIFY(woken.wait(15000));
    QCOMPARE(objectName(), QStringLiteral("woken"));
    QTRY_COMPARE_WITH_TIMEOUT(status(*core_, idle), std::string("expired"), 30000);
    auto* line = page_->findChild<QLabel*>(QStringLiteral("sweepNote"));
    QVERIFY(line);
    QTRY_VERIFY_WITH_TIMEOUT(line->isVisible() && line->text().contains(QStringLiteral("last pass")), 30000);
    QVERIFY2(line->text().startsWith(QStringLiteral("Session sweeper: last pass ")), qPrintable(line->text()));
    QVERIFY2(line->text().contains(QStringLiteral("idle over 2h")), qPrintable(line->text()));
    if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty())
      QVERIFY(page_->grab().save(dir + QStringLiteral("/sessions-sweep-line.png")));
  }

  // A production profile: the console's core runs no sweeper, and Expire wants the id typed.
  void productionProfile() {
    tier::ui::Profile p;
    p.name = QStringLiteral("g-expire-prod");
    p.production = true;
    tier::ui::ProfileStore().saveProfile(p);
    tier::ui::CoreService service;
    tier::ui::ConnectionSettings settings;
    settings.profile = p.name;
    settings.redis_url = QString::fromStdString(tier::test::redisUrl());
    settings.pg_conninfo = QString::fromStdString(tier::test::seededServers().pgConninfo());
    QSignalSpy ready(&service, &tier::ui::CoreService::coreReady);
    service.connectTo(settings);
    QVERIFY(ready.wait(30000));
    QTRY_VERIFY_WITH_TIMEOUT(service.capabilities().evict.allowed, 30000);
    QSignalSpy answered(this, &QObject::objectNameChanged);
    service.run<bool>(
        this, QString(), [](tier::TierCore& core, tier::ui::JobContext&) { return core.sessionSweeper() != nullptr; },
        [this](bool on) { setObjectName(on ? QStringLiteral("sweeper on") : QStringLiteral("sweeper off")); });
    QVERIFY(answered.wait(15000));
    QCOMPARE(objectName(), QStringLiteral("sweeper off"));

    SessionsPage page(&service);
    page.resize(1200, 700);
    page.show();
    const auto id = core_->sessions().create(4, "expire under production").id;
    QSignalSpy shown(&page, &SessionsPage::inspectionShown);
    page.selectSession(id);
    QVERIFY(shown.wait(20000));
    auto* expire = page.findChild<QAction*>(QStringLiteral("expireAction"));
    QTRY_VERIFY(expire->isEnabled());
    expire->trigger();
    tier::ui::ConfirmInvalidateDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = page.findChild<tier::ui::ConfirmInvalidateDialog*>(QStringLiteral("expireConfirmation"))) !=
                nullptr);
    QVERIFY(dialog->requiresTyping());
    QVERIFY(!dialog->confirmButton()->isEnabled());
    dialog->confirmEdit()->setText(QString::number(id + 1));
    QVERIFY(!dialog->confirmButton()->isEnabled());  // another id does not confirm
    QCOMPARE(status(*core_, id), std::string("active"));
    QSignalSpy finished(&page, &SessionsPage::actionFinished);
    dialog->confirmEdit()->setText(QString::number(id));
    QVERIFY(dialog->confirmButton()->isEnabled());
    dialog->confirmButton()->click();
    QVERIFY(finished.count() == 1 || finished.wait(15000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QCOMPARE(status(*core_, id), std::string("expired"));
  }
};

QTEST_MAIN(TestSessionExpire)
#include "tst_session_expire.moc"
