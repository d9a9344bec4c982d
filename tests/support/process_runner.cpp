#include "process_runner.h"

#include <QProcess>

#include "test_paths.h"

namespace tier::test {

QProcessEnvironment isolatedEnvironment(const QString& configHome) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  for (const QString& name : env.keys())
    if (name.startsWith(QLatin1String("TIER_")) || name.startsWith(QLatin1String("PG"))) env.remove(name);
  // The binary dir is how tests find tierctl; the child does not need it.
  env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome);
  env.insert(QStringLiteral("XDG_DATA_HOME"), configHome + QStringLiteral("/data"));
  env.insert(QStringLiteral("XDG_CACHE_HOME"), configHome + QStringLiteral("/cache"));
  env.insert(QStringLiteral("XDG_STATE_HOME"), configHome + QStringLiteral("/state"));
  if (!env.contains(QStringLiteral("QT_QPA_PLATFORM")))
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
  return env;
}

ProcessRun runProcess(const QString& program, const QStringList& args, const QProcessEnvironment& env, int timeoutMs) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(program, args);
  ProcessRun r;
  if (!p.waitForStarted(10000)) return r;
  p.closeWriteChannel();
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.timed_out = true;
  }
  r.crashed = !r.timed_out && p.exitStatus() != QProcess::NormalExit;
  if (!r.timed_out && !r.crashed) r.code = p.exitCode();
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

QString tierctlProgram() {
  return QString::fromStdString(tierctlPath());
}
QString tierconsoleProgram() {
  return QString::fromStdString(binaryDir() + "/app/tierconsole");
}

bool isOneLineError(const QByteArray& err, const QByteArray& prefix) {
  return err.startsWith(prefix) && err.endsWith('\n') && err.count('\n') == 1;
}

}  // namespace tier::test
