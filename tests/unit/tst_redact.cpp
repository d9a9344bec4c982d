// Secrets never survive into a message: URLs and conninfo strings are redacted.
#include <QTest>

#include "tier/common/error.h"
#include "tier/ops/health.h"

namespace {
QStringList L(std::initializer_list<const char*> items) {
  QStringList out;
  for (const char* i : items) out << QString::fromUtf8(i);
  return out;
}
QString S(const char* s) { return QString::fromUtf8(s); }
}  // namespace

class TestRedact : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void redact_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("secret");
    QTest::addColumn<QString>("kept");
    QTest::newRow("redis url") << QStringLiteral("cannot connect to redis://app:hunter2@db:6379/0") << QStringLiteral("hunter2") << QStringLiteral("redis://app:***@db");
    QTest::newRow("legacy auth") << QStringLiteral("redis://:hunter2@127.0.0.1:6379") << QStringLiteral("hunter2") << QStringLiteral("127.0.0.1:6379");
    QTest::newRow("raw @ in password") << QStringLiteral("redis://u:p@ss@word@host:1/0 failed") << QStringLiteral("ss@word") << QStringLiteral("@host:1/0 failed");
    QTest::newRow("postgres uri") << QStringLiteral("postgresql://tier:s3cret@h/db") << QStringLiteral("s3cret") << QStringLiteral("postgresql://tier:***@h/db");
    QTest::newRow("conninfo") << QStringLiteral("host=h password=s3cret dbname=x") << QStringLiteral("s3cret") << QStringLiteral("dbname=x");
    QTest::newRow("quoted conninfo") << QStringLiteral("host=h password='se cret' user=u") << QStringLiteral("se cret") << QStringLiteral("user=u");
    // Found by tests/fuzz/fuzz_conninfo: forms libpq reads a password from.
    QTest::newRow("percent-encoded keyword") << QStringLiteral("postgresql://h/db?pass%77ord=hunter22&sslmode=require") << QStringLiteral("hunter22") << QStringLiteral("sslmode=require");
    QTest::newRow("space in libpq userinfo") << QStringLiteral("postgresql://tier:se cret@h/db") << QStringLiteral("se cret") << QStringLiteral("@h/db");
    QTest::newRow("escaped space") << QStringLiteral("password=se\\ cret host=h") << QStringLiteral("cret") << QStringLiteral("host=h");
    QTest::newRow("blanks in a uri query password") << QStringLiteral("postgres://h/db?password=\f\fse cret\t1&sslmode=require") << QStringLiteral("cret") << QStringLiteral("sslmode=require");
    QTest::newRow("uri query password, more text") << QStringLiteral("postgres://h/db?password=se cret failed\nnext line") << QStringLiteral("cret") << QStringLiteral("\nnext line");
    QTest::newRow("two urls") << QStringLiteral("a redis://u:one@h1 b redis://v:two@h2") << QStringLiteral("two") << QStringLiteral("redis://v:***@h2");
  }
  void redact() {
    QFETCH(QString, text);
    QFETCH(QString, secret);
    QFETCH(QString, kept);
    const QString out = QString::fromStdString(tier::redactSecrets(text.toStdString()));
    QVERIFY2(!out.contains(secret), qPrintable(out));
    QVERIFY2(out.contains(kept), qPrintable(out));
  }

  // Commands read back from a server (SLOWLOG): every password form Redis takes.
  void redactCommand_data() {
    QTest::addColumn<QStringList>("argv");
    QTest::addColumn<QString>("secret");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("auth password") << L({"AUTH", "hunter2-secret"}) << S("hunter2-secret") << L({"AUTH", "***"});
    QTest::newRow("auth user password") << L({"auth", "app", "hunter2-secret"}) << S("hunter2-secret")
                                        << L({"auth", "app", "***"});
    QTest::newRow("hello auth") << L({"HELLO", "3", "AUTH", "app", "hunter2-secret", "SETNAME", "c1"})
                                << S("hunter2-secret") << L({"HELLO", "3", "AUTH", "app", "***", "SETNAME", "c1"});
    QTest::newRow("acl setuser") << L({"ACL", "SETUSER", "bob", "on", ">hunter2-secret", "<old-secret", "~*", "+@read"})
                                 << S("secret") << L({"ACL", "SETUSER", "bob", "on", ">***", "<***", "~*", "+@read"});
    QTest::newRow("acl setuser hash") << L({"acl", "setuser", "bob", "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"})
                                      << S("5e884898") << L({"acl", "setuser", "bob", "#***"});
    QTest::newRow("config set requirepass") << L({"CONFIG", "SET", "requirepass", "hunter2-secret"}) << S("hunter2-secret")
                                            << L({"CONFIG", "SET", "requirepass", "***"});
    QTest::newRow("config set several") << L({"config", "set", "maxmemory", "1gb", "masterauth", "s3cretpw"}) << S("s3cretpw")
                                        << L({"config", "set", "maxmemory", "1gb", "masterauth", "***"});
    QTest::newRow("migrate auth") << L({"MIGRATE", "h", "6379", "", "0", "5000", "AUTH", "hunter2-secret", "KEYS", "k1"})
                                  << S("hunter2-secret")
                                  << L({"MIGRATE", "h", "6379", "", "0", "5000", "AUTH", "***", "KEYS", "k1"});
    QTest::newRow("migrate auth2") << L({"MIGRATE", "h", "6379", "k", "0", "5000", "COPY", "AUTH2", "u", "hunter2-secret"})
                                   << S("hunter2-secret")
                                   << L({"MIGRATE", "h", "6379", "k", "0", "5000", "COPY", "AUTH2", "u", "***"});
    QTest::newRow("url in a value") << L({"SET", "cfg", "redis://app:hunter2-secret@db:6379/0"}) << S("hunter2-secret")
                                    << L({"SET", "cfg", "redis://app:***@db:6379/0"});
    QTest::newRow("url cut before @") << L({"SET", "cfg", "redis://app:hunter2-secret-and-then-cut... (12 more bytes)"})
                                      << S("hunter2") << L({"SET", "cfg", "redis://app:***"});
    QTest::newRow("url with a port only") << L({"SET", "cfg", "redis://db:6379/0"}) << S("nothing-secret")
                                          << L({"SET", "cfg", "redis://db:6379/0"});
    QTest::newRow("plain get") << L({"GET", "entry:1"}) << S("nothing-secret") << L({"GET", "entry:1"});
  }
  void redactCommand() {
    QFETCH(QStringList, argv);
    QFETCH(QString, secret);
    QFETCH(QStringList, expected);
    std::vector<std::string> in;
    for (const auto& a : argv) in.push_back(a.toStdString());
    QStringList out;
    for (const auto& a : tier::redactCommand(in)) out << QString::fromStdString(a);
    QCOMPARE(out, expected);
    QVERIFY2(!out.join(QLatin1Char(' ')).contains(secret), qPrintable(out.join(QLatin1Char(' '))));
  }

  // SLOWLOG display: masked first (a cut must not leave half a password), then cut.
  void formatSlowlogCommand() {
    using tier::ops::formatSlowlogCommand;
    QCOMPARE(QString::fromStdString(formatSlowlogCommand({"GET", "entry:1"})), QStringLiteral("GET entry:1"));
    const std::string longArg(500, 'x');
    const QString cut = QString::fromStdString(formatSlowlogCommand({"SET", "k", longArg}));
    QCOMPARE(cut, QStringLiteral("SET k ") + QString(64, QLatin1Char('x')) + QChar(0x2026));
    std::vector<std::string> many{"DEL"};
    for (int i = 1; i <= 20; ++i) many.push_back("k" + std::to_string(i));
    QCOMPARE(QString::fromStdString(formatSlowlogCommand(many)),
             QStringLiteral("DEL k1 k2 k3 k4 k5 k6 k7 ") + QChar(0x2026) + QStringLiteral(" (+13 more)"));
    // A URL whose '@' is beyond the cut: masking before cutting keeps the password out.
    const std::string url = "redis://app:" + std::string(70, 'p') + "@db:6379";
    const QString masked = QString::fromStdString(formatSlowlogCommand({"SET", "cfg", url}));
    QVERIFY2(!masked.contains(QStringLiteral("ppp")), qPrintable(masked));
    QVERIFY2(masked.contains(QStringLiteral("redis://app:***@db:6379")), qPrintable(masked));
    QCOMPARE(QString::fromStdString(formatSlowlogCommand({"AUTH", "hunter2-secret"})), QStringLiteral("AUTH ***"));
    // Blanks and empty arguments are quoted; control bytes escaped; a cut never splits UTF-8.
    QCOMPARE(QString::fromStdString(formatSlowlogCommand({"SET", "a b", "", "x\n"})),
             QStringLiteral("SET \"a b\" \"\" x\\x0a"));
    // Binary values: bytes that are not UTF-8 as \\xHH, valid UTF-8 kept.
    QCOMPARE(QString::fromStdString(formatSlowlogCommand({"SET", "k", std::string("\xff\x80ok\xc3\xa9")})),
             QStringLiteral("SET k \\xff\\x80ok") + QChar(0xe9));
    const std::string utf(63, 'a');
    const QString u = QString::fromStdString(formatSlowlogCommand({"SET", "k", utf + "\xc3\xa9zzz"}));
    QCOMPARE(u, QStringLiteral("SET k ") + QString::fromStdString(utf) + QChar(0x2026));
  }
};

QTEST_APPLESS_MAIN(TestRedact)
#include "tst_redact.moc"
