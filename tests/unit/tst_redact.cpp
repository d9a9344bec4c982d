// Secrets never survive into a message: URLs and conninfo strings are redacted.
#include <QTest>

#include "tier/common/error.h"

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
};

QTEST_APPLESS_MAIN(TestRedact)
#include "tst_redact.moc"
