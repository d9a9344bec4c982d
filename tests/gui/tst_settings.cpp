// Settings and connection profiles: no password ever reaches the settings file
// (read back as text), thresholds and cache settings round-trip, stripPassword
// and the in-memory password insertion, the keychain's absence is said in the
// dialog, the capability gate, and the password prompt reconnecting a profile
// whose PostgreSQL login needs a password.
// TIER_TEST_LABELS: concurrency
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QtTest>

#include "common/capability_gate.h"
#include "common/core_service.h"
#include "core_fixture.h"
#include "settings/connection_dialog.h"
#include "settings/credentials.h"
#include "settings/password_prompt.h"
#include "settings/profile_store.h"
#include "settings/settings_dialog.h"
#include "tier/redis/redis_url.h"

using namespace tier;
using namespace tier::ui;

namespace {
QString configDir() { return QDir::tempPath() + QStringLiteral("/tst_settings-%1").arg(QCoreApplication::applicationPid()); }

QString settingsText() {
  ProfileStore().sync();
  QFile f(ProfileStore().fileName());
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll());
}

void screenshot(QWidget* w, const QString& name) {
  const QByteArray dir = qgetenv("TIER_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  w->grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + name);
}
}  // namespace

class TestSettings : public QObject {
  Q_OBJECT

 public:
  // Before QApplication: the settings file goes to a private folder.
  static void initMain() {
    QDir(configDir()).removeRecursively();
    qputenv("XDG_CONFIG_HOME", configDir().toLocal8Bit());
    qunsetenv("PGPASSWORD");
    qunsetenv("TIER_REDIS_URL");
  }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(ProfileStore().fileName().startsWith(configDir())); }
  void cleanupTestCase() { QDir(configDir()).removeRecursively(); }

  void stripPassword_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("redis user+pw") << QStringLiteral("redis://u:pw@h:1/0") << QStringLiteral("redis://u@h:1/0");
    QTest::newRow("redis legacy pw") << QStringLiteral("redis://:pw@h:6379/2") << QStringLiteral("redis://h:6379/2");
    QTest::newRow("redis no pw") << QStringLiteral("redis://h:6379/0") << QStringLiteral("redis://h:6379/0");
    QTest::newRow("redis encoded") << QStringLiteral("redis://u:p%40ss@h/0") << QStringLiteral("redis://u@h/0");
    QTest::newRow("postgres uri") << QStringLiteral("postgresql://tier:s3cret@db:5432/tier")
                                  << QStringLiteral("postgresql://tier@db:5432/tier");
    QTest::newRow("conninfo") << QStringLiteral("host=h password=pw dbname=d") << QStringLiteral("host=h dbname=d");
    QTest::newRow("conninfo quoted") << QStringLiteral("host=h password='a b\\'c' user=u") << QStringLiteral("host=h user=u");
    QTest::newRow("conninfo spaces") << QStringLiteral("host=h  PASSWORD = pw") << QStringLiteral("host=h");
    QTest::newRow("conninfo last") << QStringLiteral("password=pw") << QString();
    QTest::newRow("no password word") << QStringLiteral("host=h passwordfile=x") << QStringLiteral("host=h passwordfile=x");
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("redis query pw") << QStringLiteral("redis://h:6379/0?password=s3cret") << QStringLiteral("redis://h:6379/0");
    QTest::newRow("unix query pw") << QStringLiteral("unix:///run/r.sock?db=2&password=s3cret")
                                   << QStringLiteral("unix:///run/r.sock?db=2");
    QTest::newRow("pg uri query pw") << QStringLiteral("postgresql://tier@h/db?sslmode=require&PASSWORD=s3cret")
                                     << QStringLiteral("postgresql://tier@h/db?sslmode=require");
  }
  void stripPassword() {
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(ui::stripPassword(input), expected);
  }

  void savingAProfileNeverWritesAPassword_data() {
    QTest::addColumn<QString>("redis");
    QTest::addColumn<QString>("pg");
    QTest::addColumn<QString>("secret");
    QTest::newRow("redis url") << QStringLiteral("redis://ops:Zq9-secret@cache:6379/0") << QStringLiteral("host=db") << QStringLiteral("Zq9-secret");
    QTest::newRow("redis legacy") << QStringLiteral("redis://:Zq9-legacy@cache:6379/0") << QString() << QStringLiteral("Zq9-legacy");
    QTest::newRow("conninfo") << QString() << QStringLiteral("host=db user=tier password=Zq9-kv dbname=tier") << QStringLiteral("Zq9-kv");
    QTest::newRow("conninfo quoted") << QString() << QStringLiteral("host=db password='Zq9 quoted' user=tier") << QStringLiteral("Zq9 quoted");
    QTest::newRow("uri") << QString() << QStringLiteral("postgresql://tier:Zq9-uri@db/tier") << QStringLiteral("Zq9-uri");
    QTest::newRow("encoded") << QStringLiteral("redis://u:Zq9%2Fenc@h/0") << QString() << QStringLiteral("Zq9");
  }
  void savingAProfileNeverWritesAPassword() {
    QFETCH(QString, redis);
    QFETCH(QString, pg);
    QFETCH(QString, secret);
    ProfileStore store;
    Profile profile;
    profile.name = QStringLiteral("prod");
    profile.redis_url = redis;
    profile.pg_conninfo = pg;
    profile.pg_replica_conninfo = pg;  // pg also as the read replica
    const Profile saved = store.saveProfile(profile);
    QVERIFY(!saved.redis_url.contains(secret));
    QVERIFY(!saved.pg_conninfo.contains(secret));
    QVERIFY(!saved.pg_replica_conninfo.contains(secret));
    const QString text = settingsText();
    QVERIFY(text.contains(QStringLiteral("[profiles]")) || text.contains(QStringLiteral("prod")));
    QVERIFY2(!text.contains(secret), qPrintable(text));
    QVERIFY(!text.contains(QString::fromLatin1(QUrl::toPercentEncoding(secret))));
    QCOMPARE(store.profile(QStringLiteral("prod"))->redis_url, saved.redis_url);
  }

  void profileTagsRoundTripWithoutPasswords() {
    ProfileStore store;
    Profile p;
    p.name = QStringLiteral("tagged");
    p.redis_url = QStringLiteral("redis://ops:Zq9-tagged@cache:6379/0");
    p.pg_conninfo = QStringLiteral("host=db user=tier password=Zq9-tagged-pg dbname=tier");
    p.production = true;
    p.colour = QStringLiteral("#6B46C1");
    p.read_only = true;
    store.saveProfile(p);
    const auto back = store.profile(QStringLiteral("tagged"));
    QVERIFY(back);
    QVERIFY(back->production);
    QVERIFY(back->read_only);
    QCOMPARE(back->colour, QStringLiteral("#6b46c1"));
    const QString text = settingsText();
    QVERIFY2(!text.contains(QStringLiteral("Zq9-tagged")), qPrintable(text));
    // The keys tierctl --profile reads.
    QSettings raw(ProfileStore().fileName(), QSettings::IniFormat);
    QCOMPARE(raw.value(QStringLiteral("profiles/tagged/production")).toBool(), true);
    QCOMPARE(raw.value(QStringLiteral("profiles/tagged/read_only")).toBool(), true);

    ConnectionSettings s;
    s.profile = QStringLiteral("tagged");
    const ProfileTags tags = profileTags(s);
    QVERIFY(tags.production && tags.read_only);
    QCOMPARE(tags.colour.name(), QStringLiteral("#6b46c1"));
    s.sandbox = true;
    QVERIFY(!profileTags(s).any());

    // Untagged again, and a colour Qt cannot read falls back to the default red.
    p.read_only = false;
    p.colour = QStringLiteral("not-a-colour");
    store.saveProfile(p);
    s.sandbox = false;
    QVERIFY(!profileTags(s).read_only);
    QCOMPARE(profileTags(s).colour.name(), QLatin1String(kDefaultProductionColour));
    store.removeProfile(QStringLiteral("tagged"));
    QVERIFY(!profileTags(s).any());
  }

  // The dialog's keychain probe answers later and calls back into it: let it answer before the dialog goes.
  static void waitForKeychainProbe(ConnectionDialog& dialog) {
    auto* status = dialog.findChild<QLabel*>(QStringLiteral("keychainStatus"));
    QTRY_VERIFY_WITH_TIMEOUT(!status->text().startsWith(QStringLiteral("Checking")), 10'000);
    QTest::qWait(50);  // the profile's own keychain reads, if any, after the probe
  }

  void theConnectionDialogEditsTheTags() {
    CoreService service;
    {
      ConnectionDialog dialog(&service);
      dialog.findChild<QComboBox*>(QStringLiteral("profileCombo"))->setCurrentText(QStringLiteral("live"));
      dialog.findChild<QLineEdit*>(QStringLiteral("redisUrl"))->setText(QStringLiteral("redis://cache:6379/0"));
      auto* colour = dialog.findChild<QComboBox*>(QStringLiteral("colourCombo"));
      QVERIFY(!colour->isEnabled());  // only for production
      dialog.findChild<QCheckBox*>(QStringLiteral("productionCheck"))->setChecked(true);
      QVERIFY(colour->isEnabled());
      colour->setCurrentIndex(colour->findText(QStringLiteral("Blue")));
      dialog.findChild<QCheckBox*>(QStringLiteral("readOnlyCheck"))->setChecked(true);
      dialog.saveProfile();
      waitForKeychainProbe(dialog);
    }
    const auto saved = ProfileStore().profile(QStringLiteral("live"));
    QVERIFY(saved);
    QVERIFY(saved->production);
    QVERIFY(saved->read_only);
    QCOMPARE(saved->colour, QStringLiteral("#2b6cb0"));
    {
      // Choosing the profile shows its tags.
      ConnectionDialog dialog(&service);
      auto* combo = dialog.findChild<QComboBox*>(QStringLiteral("profileCombo"));
      combo->setCurrentIndex(-1);  // "live" may already be the current item: choose it afresh
      combo->setCurrentIndex(combo->findText(QStringLiteral("live")));
      QVERIFY(dialog.findChild<QCheckBox*>(QStringLiteral("productionCheck"))->isChecked());
      QVERIFY(dialog.findChild<QCheckBox*>(QStringLiteral("readOnlyCheck"))->isChecked());
      QCOMPARE(dialog.findChild<QComboBox*>(QStringLiteral("colourCombo"))->currentText(), QStringLiteral("Blue"));
      screenshot(&dialog, QStringLiteral("connection_dialog_tags.png"));
      waitForKeychainProbe(dialog);
    }
    ProfileStore().removeProfile(QStringLiteral("live"));
  }

  void theConnectionDialogSavesNoPasswordAndSaysThereIsNoKeychain() {
    CoreService service;
    ConnectionDialog dialog(&service);
    dialog.show();
    dialog.findChild<QComboBox*>(QStringLiteral("profileCombo"))->setCurrentText(QStringLiteral("staging"));
    dialog.findChild<QLineEdit*>(QStringLiteral("redisUrl"))->setText(QStringLiteral("redis://ops:Zq9-inurl@cache:6379/0"));
    dialog.findChild<QLineEdit*>(QStringLiteral("redisPassword"))->setText(QStringLiteral("Zq9-typed-redis"));
    dialog.findChild<QLineEdit*>(QStringLiteral("pgConninfo"))->setText(QStringLiteral("host=db user=tier dbname=tier"));
    dialog.findChild<QLineEdit*>(QStringLiteral("pgPassword"))->setText(QStringLiteral("Zq9-typed-pg"));

    // No D-Bus secret service on this machine: the dialog finds out and says so.
    auto* status = dialog.findChild<QLabel*>(QStringLiteral("keychainStatus"));
    auto* remember = dialog.findChild<QCheckBox*>(QStringLiteral("rememberCheck"));
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS")) {
      QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QStringLiteral("Passwords are not stored")), 10'000);
      QVERIFY(!remember->isEnabled());
      QVERIFY(!KeychainStore::available());
    }
    screenshot(&dialog, QStringLiteral("connection_dialog.png"));

    dialog.saveProfile();
    const QString text = settingsText();
    QVERIFY(text.contains(QStringLiteral("staging")));
    for (const char* secret : {"Zq9-inurl", "Zq9-typed-redis", "Zq9-typed-pg"}) QVERIFY2(!text.contains(QLatin1String(secret)), secret);

    // Connecting uses the typed passwords, in memory only.
    const ConnectionSettings s = dialog.connectionSettings();
    QCOMPARE(redis::RedisUrl::parse(s.redis_url.toStdString()).password, std::string("Zq9-typed-redis"));
    QVERIFY(s.pg_conninfo.contains(QStringLiteral("password='Zq9-typed-pg'")));
    QCOMPARE(s.profile, QStringLiteral("staging"));
  }

  void thresholdsRoundTrip() {
    ProfileStore store;
    ConnectionSettings c;
    c.thresholds.hit_rate_min = 0.875;
    c.thresholds.redis_p99_ms = 3.25;
    c.thresholds.session_p99_ms = 12.5;
    c.thresholds.db_query_p99_ms = 40;
    c.thresholds.knowledge_p99_ms = 1.5;
    c.thresholds.warn_ratio = 0.7;
    c.policies.entry.ttl = std::chrono::seconds(1800);
    c.policies.session.ttl = std::chrono::seconds(600);
    c.policies.user.ttl = std::chrono::seconds(601);
    c.policies.stats.ttl = std::chrono::seconds(602);
    c.policies.knowledge.ttl = std::chrono::seconds(603);
    c.l1_max_entries = 12345;
    c.l1_max_bytes = 64ull << 20;
    c.refresh_ms = 2500;
    c.metrics_publish = false;
    store.saveSettings(c);
    const ConnectionSettings back = ProfileStore().loadSettings();
    QCOMPARE(back.thresholds.hit_rate_min, 0.875);
    QCOMPARE(back.thresholds.redis_p99_ms, 3.25);
    QCOMPARE(back.thresholds.session_p99_ms, 12.5);
    QCOMPARE(back.thresholds.db_query_p99_ms, 40.0);
    QCOMPARE(back.thresholds.knowledge_p99_ms, 1.5);
    QCOMPARE(back.thresholds.warn_ratio, 0.7);
    QCOMPARE(back.policies.entry.ttl.count(), 1800);
    QCOMPARE(back.policies.session.ttl.count(), 600);
    QCOMPARE(back.policies.user.ttl.count(), 601);
    QCOMPARE(back.policies.stats.ttl.count(), 602);
    QCOMPARE(back.policies.knowledge.ttl.count(), 603);
    QCOMPARE(back.l1_max_entries, std::size_t(12345));
    QCOMPARE(back.l1_max_bytes, std::size_t(64ull << 20));
    QCOMPARE(back.refresh_ms, 2500);
    QCOMPARE(back.metrics_publish, false);
  }

  void theSettingsDialogAppliesAndPersists() {
    CoreService service;
    SettingsDialog dialog(&service);
    dialog.show();
    ConnectionSettings v = dialog.values();
    v.thresholds.redis_p99_ms = 4.5;
    v.thresholds.hit_rate_min = 0.9;
    v.refresh_ms = 500;
    v.policies.session.ttl = std::chrono::seconds(4000);
    dialog.setValues(v);
    screenshot(&dialog, QStringLiteral("settings_dialog.png"));
    dialog.apply();
    QCOMPARE(service.settings().thresholds.redis_p99_ms, 4.5);  // applied at once
    QCOMPARE(service.settings().thresholds.hit_rate_min, 0.9);
    QCOMPARE(service.settings().refresh_ms, 500);
    const ConnectionSettings saved = ProfileStore().loadSettings();
    QCOMPARE(saved.thresholds.redis_p99_ms, 4.5);
    QCOMPARE(saved.policies.session.ttl.count(), 4000);
    QCOMPARE(saved.refresh_ms, 500);

    dialog.setValues(ConnectionSettings{});  // Restore defaults
    QCOMPARE(dialog.values().thresholds.redis_p99_ms, 5.0);
    QCOMPARE(dialog.values().refresh_ms, 1000);
  }

  void passwordInsertion_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("password");
    QTest::newRow("plain") << QStringLiteral("redis://cache:6379/0") << QStringLiteral("pw");
    QTest::newRow("user kept") << QStringLiteral("redis://ops@cache:6379/0") << QStringLiteral("p@ss:w/rd?#%");
    QTest::newRow("replaces") << QStringLiteral("redis://ops:old@cache/0") << QStringLiteral("new");
    QTest::newRow("unix") << QStringLiteral("unix:///run/redis.sock?db=2") << QStringLiteral("p&w=d+x");
  }
  void passwordInsertion() {
    QFETCH(QString, url);
    QFETCH(QString, password);
    const QString with = withRedisPassword(url, password);
    const auto parsed = redis::RedisUrl::parse(with.toStdString());
    QCOMPARE(QString::fromStdString(parsed.password), password);
    QCOMPARE(ui::stripPassword(with).contains(password), false);
    QCOMPARE(withRedisPassword(url, QString()), url);
  }

  void pgPasswordInsertion_data() {
    QTest::addColumn<QString>("conninfo");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("expected");
    QTest::newRow("kv") << QStringLiteral("host=h user=u") << QStringLiteral("pw") << QStringLiteral("host=h user=u password='pw'");
    QTest::newRow("kv replaces") << QStringLiteral("host=h password=old user=u") << QStringLiteral("new")
                                 << QStringLiteral("host=h user=u password='new'");
    QTest::newRow("kv quotes") << QStringLiteral("host=h") << QStringLiteral("it's a\\b")
                               << QStringLiteral("host=h password='it\\'s a\\\\b'");
    QTest::newRow("env only") << QString() << QStringLiteral("pw") << QStringLiteral("password='pw'");
    QTest::newRow("uri") << QStringLiteral("postgresql://tier@db/tier") << QStringLiteral("p@ss")
                         << QStringLiteral("postgresql://tier:p%40ss@db/tier");
  }
  void pgPasswordInsertion() {
    QFETCH(QString, conninfo);
    QFETCH(QString, password);
    QFETCH(QString, expected);
    QCOMPARE(withPgPassword(conninfo, password), expected);
    QVERIFY(!ui::stripPassword(withPgPassword(conninfo, password)).contains(password));
  }

  void authenticationFailures_data() {
    QTest::addColumn<QString>("message");
    QTest::addColumn<bool>("auth");
    QTest::newRow("pg") << QStringLiteral("FATAL:  password authentication failed for user \"ro\"") << true;
    QTest::newRow("pg none") << QStringLiteral("fe_sendauth: no password supplied") << true;
    QTest::newRow("redis") << QStringLiteral("Redis authentication failed for user ro at h:1 (WRONGPASS invalid username-password pair)") << true;
    QTest::newRow("noauth") << QStringLiteral("NOAUTH Authentication required.") << true;
    QTest::newRow("down") << QStringLiteral("Connection refused") << false;
    QTest::newRow("acl") << QStringLiteral("NOPERM this user has no permissions to run the 'unlink' command") << false;
  }
  void authenticationFailures() {
    QFETCH(QString, message);
    QFETCH(bool, auth);
    QCOMPARE(isAuthenticationFailure(message), auth);
  }

  void theCapabilityGateDisablesWithTheReason() {
    QPushButton button(QStringLiteral("Invalidate"));
    button.setToolTip(QStringLiteral("Delete the matching keys (Ctrl+I)"));
    applyCapability(&button, {false, "Redis user \u2018ro\u2019 may not run UNLINK (ACL)."});
    QVERIFY(!button.isEnabled());
    QCOMPARE(button.toolTip(), QStringLiteral("Delete the matching keys (Ctrl+I)\nNot allowed: Redis user ‘ro’ may not run UNLINK (ACL)."));
    applyCapability(&button, {true, {}});
    QVERIFY(button.isEnabled());
    QCOMPARE(button.toolTip(), QStringLiteral("Delete the matching keys (Ctrl+I)"));

    QAction action(QStringLiteral("Warm"));
    applyCapability(&action, {false, {}});
    QVERIFY(!action.isEnabled());
    QCOMPARE(action.toolTip(), QStringLiteral("Warm\nNot allowed with these credentials."));  // QAction: text is the tooltip
  }

  void aReadOnlyProfileIsOneMoreReasonToRefuse() {
    ProfileTags tags;
    tags.profile = QStringLiteral("prod");
    const ops::Capability allowed{true, {}};
    const ops::Capability refused{false, "Redis user \u2018ro\u2019 may not run UNLINK (ACL)."};
    QVERIFY(gateByProfile(allowed, tags).allowed);  // untagged: unchanged
    QCOMPARE(refusalText(refused, tags), QStringLiteral("Not allowed with these credentials: Redis user \u2018ro\u2019 may not run UNLINK (ACL)."));
    tags.read_only = true;
    const ops::Capability c = gateByProfile(allowed, tags);
    QVERIFY(!c.allowed);
    QCOMPARE(QString::fromStdString(c.reason),
             QStringLiteral("Profile \u2018prod\u2019 is marked read-only (File \u25b8 Connect\u2026 to change it)."));
    // Both reasons, the profile's first.
    QVERIFY(QString::fromStdString(gateByProfile(refused, tags).reason).endsWith(QStringLiteral("(ACL).")));
    QVERIFY(refusalText(refused, tags).startsWith(QStringLiteral("Not allowed: Profile \u2018prod\u2019 is marked read-only")));
    QPushButton button(QStringLiteral("Evict"));
    applyCapability(&button, c);
    QVERIFY(!button.isEnabled());
    QVERIFY(button.toolTip().contains(QStringLiteral("marked read-only")));
  }

  void aRefusedLoginPromptsAndReconnectsWithThePassword() {
    auto& servers = test::seededServers();
    servers.postgres().psql("CREATE ROLE tst_prompt LOGIN PASSWORD 'Zq9-prompt'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO tst_prompt;");
    CoreService service;
    QWidget window;
    PasswordPrompter prompter(&service, &window);
    QSignalSpy prompts(&prompter, &PasswordPrompter::promptShown);
    QSignalSpy pgLinks(&service, &CoreService::postgresLinkChanged);

    ConnectionSettings s;
    s.profile = QStringLiteral("needs-password");
    s.redis_url = QString::fromStdString(servers.redisUrl());
    s.pg_conninfo = QStringLiteral("host=127.0.0.1 port=%1 dbname=tier user=tst_prompt").arg(servers.postgres().port());
    service.connectTo(s);
    QTRY_COMPARE_WITH_TIMEOUT(prompts.count(), 1, 20'000);
    auto* dialog = qobject_cast<QInputDialog*>(prompts.at(0).at(0).value<QWidget*>());
    QVERIFY(dialog);
    QVERIFY(dialog->labelText().contains(QStringLiteral("PostgreSQL refused the login")));
    QCOMPARE(dialog->textEchoMode(), QLineEdit::Password);
    screenshot(dialog, QStringLiteral("password_prompt.png"));
    dialog->setTextValue(QStringLiteral("Zq9-prompt"));
    dialog->accept();

    pgLinks.clear();
    QTRY_VERIFY_WITH_TIMEOUT(!pgLinks.isEmpty() && pgLinks.last().at(0).value<LinkStatus>().state == LinkState::Connected, 20'000);
    QVERIFY(service.settings().pg_conninfo.contains(QStringLiteral("Zq9-prompt")));  // in memory
    QVERIFY(!settingsText().contains(QStringLiteral("Zq9-prompt")));               // never on disk
    QCOMPARE(prompts.count(), 1);
  }
};

QTEST_MAIN(TestSettings)
#include "tst_settings.moc"
