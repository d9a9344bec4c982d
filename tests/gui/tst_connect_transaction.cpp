// File ▸ Connect… is a transaction (issue 19, item 1), end to end in the
// console's window against real Redis and PostgreSQL from the test harness:
// bad input (`nonsense`, `garbage:/not a url@@`, a malformed conninfo) is
// refused beside its field before anything is tried; a refused and a
// blackholed server are tried beside the working connection and fail with the
// reason in the dialog. In every case the previous connection stays (its core
// still answers, its charts and its load go on), the profile file is byte for
// byte unchanged, and no typed password is shown. A good connection does
// switch and save. Also: the Dashboard header stops saying "Live" when
// refreshes stop, and Operations never waits for ever on "Checking…".
// TIER_TEST_TIMEOUT: 400
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabWidget>
#include <QtTest>
#include <memory>
#include <optional>

#include "common/core_service.h"
#include "core_fixture.h"
#include "dashboard/dashboard_page.h"
#include "fault_proxy.h"
#include "main_window.h"
#include "operations/operations_page.h"
#include "pages.h"
#include "settings/connection_dialog.h"
#include "settings/profile_store.h"
#include "tier/ops/health.h"

using namespace tier;
using namespace tier::ui;

namespace {

constexpr const char* kRedisSecret = "Zq9-redis-typed";
constexpr const char* kPgSecret = "Zq9-pg-typed";
constexpr const char* kUrlSecret = "Zq9-in-url";

QString configDir() {
  return QDir::tempPath() + QStringLiteral("/tst_connect_transaction-%1").arg(QCoreApplication::applicationPid());
}

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

QString settingsText() {
  ProfileStore().sync();
  QFile f(ProfileStore().fileName());
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll());
}

void screenshot(QWidget* w, const QString& name) {
  const QByteArray dir = qgetenv("TIER_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  QTest::qWait(200);  // what the user sees: after the layout settled
  w->grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + name);
}

// A loopback port nobody listens on (bound, read, released).
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 1;  // fallback: nobody listens on tcpmux either
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

QString goodRedis() {
  return qs(test::redisUrl());
}
QString goodPg() {
  return qs(test::TestServers::shared().pgConninfo());
}

// Every text a user can read in the widget's tree: labels, line edits' tooltips aside.
QString visibleTexts(QWidget* root) {
  QStringList out;
  for (auto* l : root->findChildren<QLabel*>()) out << l->text() << l->toolTip();
  return out.join(QLatin1Char('\n'));
}

}  // namespace

class TestConnectTransaction : public QObject {
  Q_OBJECT

 public:
  // Before QApplication: the settings file goes to a private folder.
  static void initMain() {
    QDir(configDir()).removeRecursively();
    qputenv("XDG_CONFIG_HOME", configDir().toLocal8Bit());
    qunsetenv("PGPASSWORD");
    qunsetenv("TIER_REDIS_URL");
  }

 private:
  std::unique_ptr<CoreService> service_;
  std::unique_ptr<MainWindow> window_;
  DashboardPage* dashboard_ = nullptr;

  // The window as the application builds it, connected to the "good" profile,
  // which is also saved as the last one.
  void openConsole() {
    service_ = std::make_unique<CoreService>();
    window_ = std::make_unique<MainWindow>(service_.get());
    addAllPages(window_.get(), service_.get());
    dashboard_ = window_->findChild<DashboardPage*>();
    QVERIFY(dashboard_);
    window_->show();
    ProfileStore store;
    Profile good;
    good.name = QStringLiteral("good");
    good.redis_url = goodRedis();
    good.pg_conninfo = goodPg();
    store.saveProfile(good);
    store.setLastProfile(QStringLiteral("good"));
    ConnectionSettings s = store.loadSettings();
    s.profile = QStringLiteral("good");
    s.redis_url = goodRedis();
    s.pg_conninfo = goodPg();
    QSignalSpy connected(service_.get(), &CoreService::connected);
    service_->connectTo(s);
    QVERIFY(connected.wait(30'000));
    QTRY_VERIFY_WITH_TIMEOUT(dashboard_->statusText().startsWith(QStringLiteral("Live")), 10'000);
  }

  ConnectionDialog* openDialog() {
    window_->findChild<QAction*>(QStringLiteral("connectAction"))->trigger();
    auto* d = window_->findChild<ConnectionDialog*>();
    if (!d || !QTest::qWaitFor([d] { return d->isVisible(); }, 5000)) return nullptr;
    return d;
  }

  static void fill(ConnectionDialog* d, const QString& profile, const QString& redis, const QString& pg) {
    d->findChild<QComboBox*>(QStringLiteral("profileCombo"))->setCurrentText(profile);
    d->findChild<QLineEdit*>(QStringLiteral("redisUrl"))->setText(redis);
    d->findChild<QLineEdit*>(QStringLiteral("pgConninfo"))->setText(pg);
    d->findChild<QLineEdit*>(QStringLiteral("redisPassword"))->setText(QLatin1String(kRedisSecret));
    d->findChild<QLineEdit*>(QStringLiteral("pgPassword"))->setText(QLatin1String(kPgSecret));
  }

  // The current core answers a real round trip to both servers (on a worker, as the console would ask).
  void verifyCoreAnswers() {
    std::optional<bool> ok;
    QObject ctx;
    service_->run<bool>(
        &ctx, {},
        [](TierCore& core, JobContext&) {
          const auto r = ops::checkHealth(core);
          return r.redis.ok && r.postgres.ok;
        },
        [&](bool v) { ok = v; }, [&](ErrorKind, QString) { ok = false; });
    QTRY_VERIFY_WITH_TIMEOUT(ok.has_value(), 20'000);
    QVERIFY(*ok);
  }

  void verifyNoSecret(QWidget* w) {
    const QString texts = visibleTexts(w) + window_->statusBar()->currentMessage();
    for (const char* secret : {kRedisSecret, kPgSecret, kUrlSecret})
      QVERIFY2(!texts.contains(QLatin1String(secret)), secret);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(ProfileStore().fileName().startsWith(configDir()));
    (void)test::seededServers();  // started (and seeded) once, before any timing matters
  }
  void cleanupTestCase() { QDir(configDir()).removeRecursively(); }

  void init() { openConsole(); }
  void cleanup() {
    window_.reset();
    service_.reset();
  }

  // Malformed input: refused beside the field before anything is tried; the
  // text stays as typed; nothing else changes.
  void badInputIsRefusedBesideTheField_data() {
    QTest::addColumn<QString>("redis");
    QTest::addColumn<QString>("pg");
    QTest::addColumn<QString>("errorLabel");
    QTest::newRow("nonsense") << QStringLiteral("nonsense") << goodPg() << QStringLiteral("redisUrlError");
    QTest::newRow("garbage url") << QStringLiteral("garbage:/not a url@@") << goodPg()
                                 << QStringLiteral("redisUrlError");
    QTest::newRow("garbage url with password")
        << QStringLiteral("redis://ops:%1@@cache:xx/0").arg(QLatin1String(kUrlSecret)) << goodPg()
        << QStringLiteral("redisUrlError");
    QTest::newRow("malformed conninfo") << goodRedis() << QStringLiteral("host=127.0.0.1 port")
                                        << QStringLiteral("pgConninfoError");
    QTest::newRow("malformed conninfo with password")
        << goodRedis() << QStringLiteral("host=127.0.0.1 password='%1 dbname=tier").arg(QLatin1String(kUrlSecret))
        << QStringLiteral("pgConninfoError");
  }
  void badInputIsRefusedBesideTheField() {
    QFETCH(QString, redis);
    QFETCH(QString, pg);
    QFETCH(QString, errorLabel);
    const QString before = settingsText();
    const auto generation = service_->currentGeneration();
    QSignalSpy attempts(service_.get(), &CoreService::attemptFinished);
    const std::size_t samples = dashboard_->history().size();

    auto* d = openDialog();
    QVERIFY(d);
    fill(d, QStringLiteral("bad"), redis, pg);
    d->findChild<QPushButton*>(QStringLiteral("connectButton"))->click();

    QVERIFY(d->isVisible());    // not closed
    QVERIFY(!d->attempting());  // nothing tried: refused as typed
    auto* error = d->findChild<QLabel*>(errorLabel);
    QVERIFY(error && error->isVisible());
    QVERIFY2(!error->text().isEmpty(), qPrintable(errorLabel));
    QCOMPARE(d->findChild<QLineEdit*>(QStringLiteral("redisUrl"))->text(), redis);  // as typed
    QCOMPARE(d->findChild<QLineEdit*>(QStringLiteral("pgConninfo"))->text(), pg);
    verifyNoSecret(d);
    if (QTest::currentTestFailed()) return;
    if (QLatin1String(QTest::currentDataTag()) == QLatin1String("garbage url"))
      screenshot(d, QStringLiteral("connect_dialog_inline_error.png"));

    // Save refuses it too: a malformed profile is never written.
    d->findChild<QPushButton*>(QStringLiteral("saveButton"))->click();
    QCOMPARE(settingsText(), before);
    QVERIFY(!ProfileStore().profile(QStringLiteral("bad")));
    QCOMPARE(ProfileStore().lastProfile(), QStringLiteral("good"));

    // The working connection is untouched: same core, still answering, charts going on.
    QCOMPARE(attempts.count(), 0);
    QCOMPARE(service_->currentGeneration(), generation);
    QCOMPARE(service_->settings().profile, QStringLiteral("good"));
    verifyCoreAnswers();
    if (QTest::currentTestFailed()) return;
    QTRY_VERIFY_WITH_TIMEOUT(dashboard_->history().size() > samples, 5000);
    QVERIFY(dashboard_->statusText().startsWith(QStringLiteral("Live")));
    QVERIFY(!window_->findChild<QLabel*>(QStringLiteral("redisChip"))->text().contains(QStringLiteral("down")));
    QVERIFY(!window_->findChild<QLabel*>(QStringLiteral("postgresChip"))->text().contains(QStringLiteral("down")));
    d->reject();
  }

  // A profile saved malformed before this check existed says so as soon as it is chosen.
  void aMalformedSavedProfileSaysSoWhenChosen() {
    ProfileStore store;
    Profile old;
    old.name = QStringLiteral("legacy");
    old.redis_url = QStringLiteral("nonsense");
    old.pg_conninfo = goodPg();
    store.saveProfile(old);
    auto* d = openDialog();
    QVERIFY(d);
    auto* combo = d->findChild<QComboBox*>(QStringLiteral("profileCombo"));
    combo->setCurrentIndex(combo->findText(QStringLiteral("legacy")));
    QCOMPARE(d->findChild<QLineEdit*>(QStringLiteral("redisUrl"))->text(), QStringLiteral("nonsense"));
    QVERIFY(d->findChild<QLabel*>(QStringLiteral("redisUrlError"))->isVisible());
    combo->setCurrentIndex(combo->findText(QStringLiteral("good")));
    QVERIFY(!d->findChild<QLabel*>(QStringLiteral("redisUrlError"))->isVisible());
    d->reject();
    store.removeProfile(QStringLiteral("legacy"));
  }

  // The worker checks the same input itself (tryConnect is public API): a bad URL
  // never becomes a core, and says which field.
  void tryConnectRefusesBadInputItself() {
    const auto generation = service_->currentGeneration();
    QSignalSpy attempts(service_.get(), &CoreService::attemptFinished);
    ConnectionSettings s = service_->settings();
    s.profile = QStringLiteral("bad");
    s.redis_url = QStringLiteral("garbage:/not a url@@");
    const auto id = service_->tryConnect(s);
    QVERIFY(attempts.wait(10'000));
    QCOMPARE(attempts.at(0).at(0).value<std::uint64_t>(), id);
    const auto r = attempts.at(0).at(1).value<ConnectAttemptResult>();
    QVERIFY(!r.ok);
    QCOMPARE(r.field, ConnectAttemptResult::Field::Redis);
    QVERIFY(!r.redis_error.isEmpty());
    QCOMPARE(service_->currentGeneration(), generation);
    QCOMPARE(service_->settings().profile, QStringLiteral("good"));
  }

  // A server that refuses or never answers: tried beside the working
  // connection, which keeps serving meanwhile and afterwards.
  void unreachableServersLeaveThePreviousConnection_data() {
    QTest::addColumn<QString>("server");  // which one is unreachable
    QTest::addColumn<QString>("mode");    // refused | blackhole
    QTest::newRow("redis refused") << QStringLiteral("redis") << QStringLiteral("refused");
    QTest::newRow("postgres refused") << QStringLiteral("postgres") << QStringLiteral("refused");
    QTest::newRow("redis blackholed") << QStringLiteral("redis") << QStringLiteral("blackhole");
    QTest::newRow("postgres blackholed") << QStringLiteral("postgres") << QStringLiteral("blackhole");
  }
  void unreachableServersLeaveThePreviousConnection() {
    QFETCH(QString, server);
    QFETCH(QString, mode);
    const bool redis = server == QLatin1String("redis");
    std::unique_ptr<test::FaultProxy> proxy;
    int port = freePort();
    if (mode == QLatin1String("blackhole")) {
      proxy = std::make_unique<test::FaultProxy>(redis ? test::TestServers::shared().redis().port()
                                                       : test::TestServers::shared().postgres().port());
      proxy->setMode(test::FaultProxy::Mode::Blackhole);
      port = proxy->port();
    }
    const QString redisUrl = redis ? QStringLiteral("redis://127.0.0.1:%1/0").arg(port) : goodRedis();
    const QString pg = redis ? goodPg() : QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tier").arg(port);

    // A little load on the working connection: it must still run afterwards.
    workload::WorkloadOptions load;
    load.virtual_users = 4;
    load.rate = 40;
    load.threads = 1;
    QSignalSpy loadState(service_.get(), &CoreService::workloadStateChanged);
    service_->startWorkload(load);
    QTRY_VERIFY_WITH_TIMEOUT(service_->workloadRunning(), 10'000);

    const QString before = settingsText();
    const auto generation = service_->currentGeneration();
    const std::size_t samples = dashboard_->history().size();
    QSignalSpy stats(service_.get(), &CoreService::statsAvailable);
    QSignalSpy connected(service_.get(), &CoreService::connected);

    auto* d = openDialog();
    QVERIFY(d);
    fill(d, QStringLiteral("unreachable"), redisUrl, pg);
    // A password only for the server that fails (the harness's good one needs none and would refuse one).
    d->findChild<QLineEdit*>(redis ? QStringLiteral("pgPassword") : QStringLiteral("redisPassword"))->clear();
    QSignalSpy ended(d, &ConnectionDialog::attemptEnded);
    d->findChild<QPushButton*>(QStringLiteral("connectButton"))->click();
    QVERIFY(d->attempting());
    QVERIFY(!d->findChild<QLineEdit*>(QStringLiteral("redisUrl"))->isEnabled());  // what is tried is what was typed
    QVERIFY(ended.wait(30'000));
    QCOMPARE(ended.at(0).at(0).toBool(), false);

    // The reason, beside the field at fault and below; the text as typed; no password.
    QVERIFY(d->isVisible());
    auto* error = d->findChild<QLabel*>(redis ? QStringLiteral("redisUrlError") : QStringLiteral("pgConninfoError"));
    QVERIFY(error->isVisible());
    QVERIFY(!error->text().isEmpty());
    // Only the server at fault is blamed.
    QVERIFY(!d->findChild<QLabel*>(redis ? QStringLiteral("pgConninfoError") : QStringLiteral("redisUrlError"))
                 ->isVisible());
    const QString status = d->findChild<QLabel*>(QStringLiteral("attemptStatus"))->text();
    QVERIFY2(status.startsWith(QStringLiteral("Not connected")), qPrintable(status));
    QVERIFY2(status.contains(QStringLiteral("“good”")) && status.contains(QStringLiteral("unchanged")),
             qPrintable(status));
    QCOMPARE(d->findChild<QLineEdit*>(QStringLiteral("redisUrl"))->text(), redisUrl);
    QCOMPARE(d->findChild<QLineEdit*>(QStringLiteral("pgConninfo"))->text(), pg);
    QVERIFY(d->findChild<QLineEdit*>(QStringLiteral("redisUrl"))->isEnabled());  // editable again
    QCOMPARE(d->findChild<QLineEdit*>(redis ? QStringLiteral("redisPassword") : QStringLiteral("pgPassword"))->text(),
             QLatin1String(redis ? kRedisSecret : kPgSecret));
    verifyNoSecret(d);
    if (QTest::currentTestFailed()) return;
    if (QLatin1String(QTest::currentDataTag()) == QLatin1String("postgres blackholed"))
      screenshot(d, QStringLiteral("connect_dialog_attempt_failed.png"));

    // Nothing saved, nothing switched; the old core, its charts and its load go on.
    QCOMPARE(settingsText(), before);
    QVERIFY(!ProfileStore().profile(QStringLiteral("unreachable")));
    QCOMPARE(ProfileStore().lastProfile(), QStringLiteral("good"));
    QCOMPARE(service_->currentGeneration(), generation);
    QCOMPARE(service_->settings().profile, QStringLiteral("good"));
    QCOMPARE(connected.count(), 0);
    QVERIFY(!window_->statusBar()->currentMessage().contains(QStringLiteral("unreachable")));
    QVERIFY(service_->workloadRunning());
    verifyCoreAnswers();
    if (QTest::currentTestFailed()) return;
    QTRY_VERIFY_WITH_TIMEOUT(stats.count() >= 2, 5000);
    QVERIFY(dashboard_->history().size() > samples);  // charts kept and growing, not cleared
    QVERIFY(dashboard_->statusText().startsWith(QStringLiteral("Live")));
    d->reject();
    service_->stopWorkload();
  }

  // Closing the dialog while an attempt runs drops it: nothing switches later.
  void cancellingAnAttemptDropsIt() {
    test::FaultProxy proxy(test::TestServers::shared().postgres().port());
    proxy.setMode(test::FaultProxy::Mode::Blackhole);
    const auto generation = service_->currentGeneration();
    auto* d = openDialog();
    QVERIFY(d);
    fill(d, QStringLiteral("dropped"), goodRedis(),
         QStringLiteral("host=127.0.0.1 port=%1 dbname=tier").arg(proxy.port()));
    d->findChild<QPushButton*>(QStringLiteral("connectButton"))->click();
    QVERIFY(service_->attemptRunning());
    d->reject();
    QVERIFY(!service_->attemptRunning());
    proxy.passThrough();  // would now succeed: its result must still be dropped
    QTest::qWait(5000);
    QCOMPARE(service_->currentGeneration(), generation);
    QVERIFY(!ProfileStore().profile(QStringLiteral("dropped")));
  }

  // A refused login is said beside the field; the password typed there then connects, in memory only.
  void aRefusedLoginIsSaidAndThePasswordTypedThereConnects() {
    test::TestServers::shared().postgres().psql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tst_txn') THEN "
        "CREATE ROLE tst_txn LOGIN PASSWORD 'Zq9-role-pw'; END IF; END $$; "
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO tst_txn;");
    const QString pg = QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tst_txn")
                           .arg(test::TestServers::shared().postgres().port());
    const auto generation = service_->currentGeneration();
    auto* d = openDialog();
    QVERIFY(d);
    fill(d, QStringLiteral("needs-password"), goodRedis(), pg);
    d->findChild<QLineEdit*>(QStringLiteral("redisPassword"))->clear();
    auto* pgPassword = d->findChild<QLineEdit*>(QStringLiteral("pgPassword"));
    auto* error = d->findChild<QLabel*>(QStringLiteral("pgConninfoError"));
    auto* connect = d->findChild<QPushButton*>(QStringLiteral("connectButton"));
    QSignalSpy ended(d, &ConnectionDialog::attemptEnded);

    for (const QString& wrong : {QString(), QStringLiteral("Zq9-wrong-pw")}) {
      pgPassword->setText(wrong);
      ended.clear();
      connect->click();
      QVERIFY(ended.wait(30'000));
      QCOMPARE(ended.at(0).at(0).toBool(), false);
      QVERIFY2(error->isVisible() && error->text().contains(QStringLiteral("authentication")),
               qPrintable(error->text()));
      QVERIFY(!visibleTexts(d).contains(QStringLiteral("Zq9-wrong-pw")));
      QCOMPARE(service_->currentGeneration(), generation);
      QVERIFY(!ProfileStore().profile(QStringLiteral("needs-password")));
    }

    pgPassword->setText(QStringLiteral("Zq9-role-pw"));
    ended.clear();
    connect->click();
    QVERIFY(ended.wait(30'000));
    QCOMPARE(ended.at(0).at(0).toBool(), true);
    QCOMPARE(service_->settings().profile, QStringLiteral("needs-password"));
    QVERIFY(service_->settings().pg_conninfo.contains(QStringLiteral("Zq9-role-pw")));  // in memory
    QVERIFY(ProfileStore().profile(QStringLiteral("needs-password")));
    QVERIFY(!settingsText().contains(QStringLiteral("Zq9-role-pw")));  // never on disk
    QCOMPARE(ProfileStore().lastProfile(), QStringLiteral("needs-password"));
  }

  // A good connection switches the views and only then is saved and made the last profile.
  void aGoodConnectionSwitchesAndSaves() {
    const auto generation = service_->currentGeneration();
    QSignalSpy connected(service_.get(), &CoreService::connected);
    auto* d = openDialog();
    QVERIFY(d);
    fill(d, QStringLiteral("second"), goodRedis(), goodPg());
    d->findChild<QLineEdit*>(QStringLiteral("redisPassword"))->clear();  // the harness servers need none
    d->findChild<QLineEdit*>(QStringLiteral("pgPassword"))->clear();
    QSignalSpy ended(d, &ConnectionDialog::attemptEnded);
    // An accepted dialog deletes itself (the window opened it with WA_DeleteOnClose): watch, do not touch it.
    QSignalSpy finished(d, &QDialog::finished);
    d->findChild<QPushButton*>(QStringLiteral("connectButton"))->click();
    QVERIFY(ended.wait(30'000));
    QCOMPARE(ended.at(0).at(0).toBool(), true);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 5000);
    QCOMPARE(finished.at(0).at(0).toInt(), int(QDialog::Accepted));
    QVERIFY(service_->currentGeneration() > generation);
    QCOMPARE(service_->settings().profile, QStringLiteral("second"));
    QVERIFY(ProfileStore().profile(QStringLiteral("second")));
    QCOMPARE(ProfileStore().profile(QStringLiteral("second"))->redis_url, goodRedis());
    QCOMPARE(ProfileStore().lastProfile(), QStringLiteral("second"));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, 5000);
    QCOMPARE(connected.at(0).at(0).toString(), QStringLiteral("second"));
    QVERIFY(window_->statusBar()->currentMessage().contains(QStringLiteral("Connected as profile “second”")));
    QVERIFY(window_->findChild<QLabel*>(QStringLiteral("postgresChip"))->text().contains(QStringLiteral("ms")));
    verifyCoreAnswers();
    if (QTest::currentTestFailed()) return;
    QTRY_VERIFY_WITH_TIMEOUT(dashboard_->statusText().startsWith(QStringLiteral("Live")), 10'000);
  }

  // When refreshes stop (here: a reconnect whose core cannot be built), the
  // header says since when and why instead of "Live".
  void theDashboardSaysStaleWhenRefreshesStop() {
    QVERIFY(dashboard_->statusText().startsWith(QStringLiteral("Live")));
    ConnectionSettings s = service_->settings();
    s.redis_url = QStringLiteral("nonsense");
    QSignalSpy failed(service_.get(), &CoreService::coreFailed);
    service_->connectTo(s);  // the start-up path, which has no previous connection to keep
    QVERIFY(failed.wait(10'000));
    // Only the server whose input is malformed is called down.
    QCOMPARE(window_->findChild<QLabel*>(QStringLiteral("redisChip"))->text(), QStringLiteral("Redis down"));
    QCOMPARE(window_->findChild<QLabel*>(QStringLiteral("postgresChip"))->text(),
             QStringLiteral("PostgreSQL not connected"));
    QTRY_VERIFY_WITH_TIMEOUT(dashboard_->statusText().startsWith(QStringLiteral("Stale since")),
                             int(dashboard_->staleAfterMs()) + 3000);
    const QString text = dashboard_->statusText();
    QVERIFY2(text.contains(QStringLiteral("not connected")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("Redis URL")) || text.contains(QStringLiteral("redis")), qPrintable(text));
    QVERIFY(!text.contains(QStringLiteral("Live")));
    window_->resize(1400, 900);
    window_->findChild<QTabWidget*>()->setCurrentWidget(dashboard_);
    screenshot(window_.get(), QStringLiteral("dashboard_stale_header.png"));

    // Operations says why it cannot check, and offers to try again.
    auto* ops = window_->findChild<OperationsPage*>();
    QVERIFY(ops);
    QTRY_VERIFY_WITH_TIMEOUT(ops->credentialsText().startsWith(QStringLiteral("Could not check")), 5000);
    QVERIFY2(ops->credentialsText().contains(QStringLiteral("not connected")), qPrintable(ops->credentialsText()));
    QVERIFY(ops->retryButton()->isVisibleTo(ops));
    // Retrying with the same broken settings fails again, and says so again (not "Checking…" for ever).
    failed.clear();
    ops->retryButton()->click();
    QVERIFY(failed.wait(10'000));
    QTRY_VERIFY_WITH_TIMEOUT(ops->credentialsText().startsWith(QStringLiteral("Could not check")), 5000);
    QVERIFY(ops->retryButton()->isVisibleTo(ops));

    // A good connection brings "Live" and the capabilities back.
    QSignalSpy connected(service_.get(), &CoreService::connected);
    s.redis_url = goodRedis();
    service_->connectTo(s);
    QVERIFY(connected.wait(30'000));
    QTRY_VERIFY_WITH_TIMEOUT(dashboard_->statusText().startsWith(QStringLiteral("Live")), 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(ops->capabilitiesKnown(), 20'000);
    QVERIFY(!ops->retryButton()->isVisibleTo(ops));
    QVERIFY(ops->credentialsText().startsWith(QStringLiteral("Acting as")));
  }
};

QTEST_MAIN(TestConnectTransaction)
#include "tst_connect_transaction.moc"
