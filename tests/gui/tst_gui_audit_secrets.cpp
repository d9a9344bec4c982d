// TIER_TEST_LABELS: reliability
// TIER_TEST_TIMEOUT: 600
// The console's window, headless, against the harness's servers:
// - an invalidation run from the Operations page writes an audit row with every
//   field filled, and when the audit table refuses the insert the page says so
//   ("not written: ...") instead of staying silent;
// - with passwords in the Redis URL and the conninfo, for good credentials,
//   wrong passwords (and a wrong answer typed into the password prompt),
//   unreachable servers, malformed input, rediss:// and a read-only user, no
//   text anywhere in the window or its dialogs (labels, tooltips, status bar,
//   item views) contains a password.
#include <QAbstractButton>
#include <QAbstractItemView>
#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTextEdit>
#include <QtTest>
#include <memory>

#include "tier/internal/tier_access.h"
#include "common/core_service.h"
#include "core_fixture.h"
#include "main_window.h"
#include "operations/confirm_invalidate_dialog.h"
#include "operations/invalidate_panel.h"
#include "operations/operations_page.h"
#include "pages.h"
#include "reliability_report.h"
#include "settings/password_prompt.h"
#include "tier/codec/keys.h"
#include "tier/ops/audit.h"
#include "tier/sandbox/server_process.h"

using namespace tier::ui;
using tier::test::TestServers;

namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

const QString kRedisPw = QStringLiteral("Gr7-LEAKCHECK-guiredis-6112");
const QString kPgPw = QStringLiteral("Gp7-LEAKCHECK-guipg-4409");
const QString kWrongPw = QStringLiteral("Gw7-LEAKCHECK-guiwrong-8830");
const QString kTypedPw = QStringLiteral("Gt7-LEAKCHECK-typed-2291");

template <typename T>
T* child(QObject* parent, const char* name) {
  return parent->findChild<T*>(QString::fromLatin1(name));
}

// Every piece of text a person could see or hover in this widget tree.
void collectText(QWidget* w, QStringList& out) {
  QList<QWidget*> widgets = w->findChildren<QWidget*>();
  widgets.prepend(w);
  for (QWidget* x : widgets) {
    out << x->toolTip() << x->statusTip() << x->whatsThis() << x->windowTitle() << x->accessibleName();
    if (auto* l = qobject_cast<QLabel*>(x)) out << l->text();
    if (auto* b = qobject_cast<QAbstractButton*>(x)) out << b->text();
    if (auto* e = qobject_cast<QLineEdit*>(x)) out << e->text() << e->placeholderText();
    if (auto* t = qobject_cast<QTextEdit*>(x)) out << t->toPlainText();
    if (auto* t = qobject_cast<QPlainTextEdit*>(x)) out << t->toPlainText();
    if (auto* c = qobject_cast<QComboBox*>(x))
      for (int i = 0; i < c->count(); ++i) out << c->itemText(i);
    if (auto* m = qobject_cast<QMainWindow*>(x))
      if (m->statusBar()) out << m->statusBar()->currentMessage();
    if (auto* v = qobject_cast<QAbstractItemView*>(x); v && v->model()) {
      auto* model = v->model();
      for (int r = 0; r < std::min(model->rowCount(), 500); ++r)
        for (int c = 0; c < model->columnCount(); ++c)
          for (int role : {int(Qt::DisplayRole), int(Qt::ToolTipRole)})
            out << model->data(model->index(r, c), role).toString();
    }
    for (QAction* a : x->actions()) out << a->text() << a->toolTip() << a->statusTip();
  }
}

}  // namespace

class TestGuiAuditSecrets : public QObject {
  Q_OBJECT
  std::unique_ptr<tier::TierCore> core_;
  int redisPort_ = 0, pgPort_ = 0;
  long long leaks_ = 0;
  int cases_ = 0;

  long long leaksIn(const QStringList& texts, const QString& where) {
    long long n = 0;
    for (const QString& t : texts)
      for (const QString& s : {kRedisPw, kPgPw, kWrongPw, kTypedPw})
        if (t.contains(s)) {
          ++n;
          qWarning("LEAK of %s in %s: %s", qPrintable(s), qPrintable(where), qPrintable(t.left(200)));
        }
    return n;
  }

  long long scanWindowAndDialogs(MainWindow& window, const QString& where) {
    QStringList texts;
    collectText(&window, texts);
    for (QWidget* top : QApplication::topLevelWidgets())
      if (top != &window && top->isVisible()) collectText(top, texts);
    return leaksIn(texts, where);
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("tier-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_gui_audit_secrets"));
    QSettings().clear();
    auto& servers = tier::test::seededServers();
    redisPort_ = servers.redis().port();
    pgPort_ = servers.postgres().port();
    servers.redis().cli("ACL SETUSER gui_user on '>" + kRedisPw.toStdString() + "' '~*' '&*' '+@all'");
    servers.redis().cli("ACL SETUSER gui_ro on '>" + kRedisPw.toStdString() +
                        "' '~*' '&*' +@read +@connection +info +subscribe -@write");
    servers.postgres().psql("CREATE ROLE gui_role LOGIN PASSWORD '" + kPgPw.toStdString() +
                            "'; GRANT ALL ON ALL TABLES IN SCHEMA public TO gui_role; "
                            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO gui_role");
    core_ = std::make_unique<tier::TierCore>(tier::test::coreConfig("tst_gui_audit_secrets"));
  }

  void cleanupTestCase() {
    if (cases_ > 0)
      tier::test::reportFigure(
          {QStringLiteral("Passwords in the GUI's connection (%1 cases: good, wrong, typed into the prompt, "
                          "unreachable, malformed, rediss, read-only)")
               .arg(cases_),
           QStringLiteral("password occurrences in any window or dialog text"), QString::number(leaks_),
           QStringLiteral("0"), leaks_ == 0, QStringLiteral("ctest -R tst_gui_audit_secrets")});
    core_.reset();
  }

  void operationsPageAuditsAndReportsAuditFailure() {
    CoreService service;
    QSignalSpy ready(&service, &CoreService::coreReady);
    ConnectionSettings s;
    s.profile = QStringLiteral("gui-audit");
    s.redis_url = QStringLiteral("redis://gui_user:%1@127.0.0.1:%2/0").arg(kRedisPw).arg(redisPort_);
    s.pg_conninfo =
        QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=gui_role password=%2").arg(pgPort_).arg(kPgPw);
    service.connectTo(s);
    QVERIFY(ready.wait(30'000));
    OperationsPage page(&service);
    page.resize(1280, 820);
    page.show();
    QSignalSpy probed(&page, &OperationsPage::capabilitiesProbed);
    QVERIFY(page.capabilitiesKnown() || probed.wait(20'000));
    InvalidatePanel::setConfirmThreshold(1000);
    auto* panel = page.invalidatePanel();

    auto runKey = [&](std::int64_t entry) -> bool {
      tier::internal::TierAccess::l1(*core_).clear();
      (void)core_->entries().get(entry);  // fills L2
      child<QRadioButton>(panel, "kind_key")->setChecked(true);
      child<QLineEdit>(panel, "targetEdit")->setText(qs(tier::codec::entryKey(entry)));
      QSignalSpy ran(panel, &InvalidatePanel::runFinished);
      panel->runAction()->trigger();
      ConfirmInvalidateDialog* dialog = nullptr;
      for (int i = 0; i < 3000 && !dialog; ++i) {
        auto* d = panel->findChild<ConfirmInvalidateDialog*>();
        if (d && d->isVisible())
          dialog = d;
        else
          QTest::qWait(20);
      }
      if (!dialog) return false;
      dialog->confirmButton()->click();
      return ran.wait(30'000) && panel->lastRun().has_value();
    };

    // An audited run: every field of the row, as the GUI's connection wrote it.
    QVERIFY(runKey(8));
    const auto r = *panel->lastRun();
    QCOMPARE(r.deleted, 1LL);
    QVERIFY(r.audit_id > 0);
    tier::ops::AuditRow row;
    for (const auto& a : tier::ops::readAudit(*core_, 50))
      if (a.id == r.audit_id) row = a;
    QCOMPARE(row.action, std::string("invalidate.key"));
    QCOMPARE(row.os_user, tier::ops::osUserName());
    QCOMPARE(row.pg_role, std::string("gui_role"));
    QCOMPARE(row.redis_user, std::string("gui_user"));
    QCOMPARE(row.profile, std::string("gui-audit"));
    QVERIFY2(row.args_json.find(tier::codec::entryKey(8)) != std::string::npos, row.args_json.c_str());
    QCOMPARE(row.matched, 1LL);
    QCOMPARE(row.affected, 1LL);
    QCOMPARE(row.result, std::string("ok"));
    QVERIFY(row.duration_ms > 0);
    QCOMPARE(child<QLabel>(panel, "auditValue")->text(), QStringLiteral("row #%1").arg(r.audit_id));

    // The audit table refuses the insert: the page says the row was not written.
    struct DropTrigger {
      ~DropTrigger() {
        TestServers::shared().postgres().psql(
            "DROP TRIGGER IF EXISTS tst_gui_refuse_audit ON cache_audit; DROP FUNCTION IF EXISTS "
            "tst_gui_refuse_audit()");
      }
    } guard;
    TestServers::shared().postgres().psql(
        "CREATE FUNCTION tst_gui_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'audit store offline for the test'; END$$; "
        "CREATE TRIGGER tst_gui_refuse_audit BEFORE INSERT ON cache_audit FOR EACH ROW EXECUTE FUNCTION "
        "tst_gui_refuse_audit()");
    QVERIFY(runKey(9));
    const auto f = *panel->lastRun();
    QCOMPARE(f.deleted, 1LL);
    QCOMPARE(f.audit_id, 0);
    QVERIFY2(f.audit_error.find("audit store offline for the test") != std::string::npos, f.audit_error.c_str());
    const QString shown = child<QLabel>(panel, "auditValue")->text();
    QVERIFY2(shown.startsWith(QStringLiteral("not written: ")) && shown.contains(QStringLiteral("audit store offline")),
             qPrintable(shown));
    tier::test::reportFigure({QStringLiteral("GUI: an audit insert that fails (trigger raises) after an invalidation"),
                              QStringLiteral("failures not shown on the Operations page"), QStringLiteral("0"),
                              QStringLiteral("0"), true, QStringLiteral("ctest -R tst_gui_audit_secrets")});
  }

  void passwordsNeverShown_data() {
    QTest::addColumn<QString>("redis");
    QTest::addColumn<QString>("pg");
    QTest::addColumn<bool>("answerPrompt");
    const int closed = tier::sandbox::findFreePort();
    const QString goodRedis = QStringLiteral("redis://gui_user:%1@127.0.0.1:%2/0").arg(kRedisPw).arg(redisPort_);
    const QString goodPg =
        QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=gui_role password=%2").arg(pgPort_).arg(kPgPw);
    QTest::newRow("good") << goodRedis << goodPg << false;
    QTest::newRow("good URI") << goodRedis
                              << QStringLiteral("postgresql://gui_role:%1@127.0.0.1:%2/tier").arg(kPgPw).arg(pgPort_)
                              << false;
    QTest::newRow("read-only Redis user")
        << QStringLiteral("redis://gui_ro:%1@127.0.0.1:%2/0").arg(kRedisPw).arg(redisPort_) << goodPg << false;
    QTest::newRow("wrong Redis password")
        << QStringLiteral("redis://gui_user:%1@127.0.0.1:%2/0").arg(kWrongPw).arg(redisPort_) << goodPg << true;
    QTest::newRow("wrong PostgreSQL password")
        << goodRedis
        << QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=gui_role password=%2").arg(pgPort_).arg(kWrongPw)
        << true;
    QTest::newRow("unreachable") << QStringLiteral("redis://gui_user:%1@127.0.0.1:%2/0").arg(kRedisPw).arg(closed)
                                 << QStringLiteral(
                                        "host=127.0.0.1 port=%1 dbname=tier user=gui_role password=%2 "
                                        "connect_timeout=2")
                                        .arg(closed)
                                        .arg(kPgPw)
                                 << false;
    QTest::newRow("malformed") << QStringLiteral("redis://gui_user:%1@127.0.0.1:notaport/0").arg(kRedisPw)
                               << QStringLiteral("host=127.0.0.1 password=%1 port").arg(kPgPw) << false;
    QTest::newRow("rediss") << QStringLiteral("rediss://gui_user:%1@127.0.0.1:%2/0").arg(kRedisPw).arg(redisPort_)
                            << goodPg << false;
  }
  void passwordsNeverShown() {
    QFETCH(QString, redis);
    QFETCH(QString, pg);
    QFETCH(bool, answerPrompt);
    ++cases_;
    CoreService service;
    MainWindow window(&service);
    addAllPages(&window, &service);
    window.resize(1280, 820);
    window.show();
    auto* prompter = window.findChild<PasswordPrompter*>();
    QVERIFY(prompter);
    QSignalSpy prompted(prompter, &PasswordPrompter::promptShown);
    QSignalSpy ready(&service, &CoreService::coreReady);
    QSignalSpy failed(&service, &CoreService::coreFailed);
    QSignalSpy caps(&service, &CoreService::capabilitiesAvailable);
    ConnectionSettings s;
    s.profile = QStringLiteral("gui-secrets");
    s.redis_url = redis;
    s.pg_conninfo = pg;
    service.connectTo(s);
    QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 30'000);
    // Let the health and capability probes report what they found.
    QTRY_VERIFY_WITH_TIMEOUT(!caps.isEmpty() || !failed.isEmpty() || !prompted.isEmpty(), 15'000);
    QTest::qWait(1500);
    for (const auto& args : failed) leaks_ += leaksIn({args.at(0).toString()}, QStringLiteral("coreFailed"));
    leaks_ += scanWindowAndDialogs(window, QString::fromLatin1(QTest::currentDataTag()));
    if (answerPrompt) {
      QTRY_VERIFY_WITH_TIMEOUT(!prompted.isEmpty(), 15'000);
      auto* dialog = qobject_cast<QDialog*>(prompted.first().at(0).value<QWidget*>());
      QVERIFY(dialog);
      auto* edit = dialog->findChild<QLineEdit*>();
      QVERIFY(edit);
      edit->setText(kTypedPw);  // wrong as well: the next refusal must not quote it
      dialog->accept();
      QTRY_VERIFY_WITH_TIMEOUT(prompted.size() >= 2 || failed.size() >= 1, 20'000);
      QTest::qWait(1000);
      leaks_ +=
          scanWindowAndDialogs(window, QString::fromLatin1(QTest::currentDataTag()) + QStringLiteral(" after typing"));
    }
    for (QWidget* top : QApplication::topLevelWidgets())
      if (auto* d = qobject_cast<QDialog*>(top); d && d->isVisible()) d->reject();
    QCOMPARE(leaks_, 0LL);
  }
};

QTEST_MAIN(TestGuiAuditSecrets)
#include "tst_gui_audit_secrets.moc"
