// tierconsole as a person starts it: --version anywhere, a one-line refusal without a display.
#include <QProcess>
#include <QProcessEnvironment>
#include <QTest>

#include "test_paths.h"

class TestTierconsoleCli : public QObject {
  Q_OBJECT
  QString binary() const { return QString::fromStdString(tier::test::binaryDir()) + QStringLiteral("/app/tierconsole"); }

  struct Run {
    int code = -1;
    QByteArray out, err;
  };
  Run run(const QStringList& args, const QProcessEnvironment& env) const {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(binary(), args);
    if (!p.waitForFinished(20000)) {
      p.kill();
      p.waitForFinished();
      return {};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
  }
  static QProcessEnvironment headless() {
    auto env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    return env;
  }

 private Q_SLOTS:
  void versionNeedsNoDisplay() {
    const Run r = run({QStringLiteral("--version")}, headless());
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QByteArray("tierconsole " TIER_VERSION "\n"));
  }

  void noDisplayIsOneLineAndNonZero() {
    const Run r = run({QStringLiteral("--sandbox")}, headless());
    QVERIFY2(r.code != 0, r.err.constData());
    QVERIFY2(r.err.startsWith("tierconsole: no display") && r.err.count('\n') == 1, r.err.constData());
  }

  void unknownProfileIsRefused() {
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    const Run r = run({QStringLiteral("--profile"), QStringLiteral("no-such-profile")}, env);
    QCOMPARE(r.code, 6);
    QVERIFY2(r.err.contains("no connection profile named 'no-such-profile'"), r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestTierconsoleCli)
#include "tst_tierconsole_cli.moc"
