#pragma once
// Runs the project's binaries (tierctl, tierconsole) as a user would, for tests
// that check exit codes, output and what the process leaves behind.
// Thread-safety: none; call from the test's main thread.
#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace tier::test {

struct ProcessRun {
  int code = -1;  // exit code; -1 if it crashed, timed out or did not start
  QByteArray out;
  QByteArray err;
  bool crashed = false;
  bool timed_out = false;
};

// The caller's environment without anything that would point the child at other
// servers (TIER_*, PG*), with XDG_CONFIG_HOME (and HOME-relative state) set to
// configHome so nothing is read from or written to the person's settings.
QProcessEnvironment isolatedEnvironment(const QString& configHome);

// stdin is a closed pipe (never a terminal). Kills the child after timeoutMs.
ProcessRun runProcess(const QString& program, const QStringList& args, const QProcessEnvironment& env,
                      int timeoutMs = 60000);

// tierctl / tierconsole in this build tree.
QString tierctlProgram();
QString tierconsoleProgram();

// "tierctl: <one line>\n" and nothing else.
bool isOneLineError(const QByteArray& err, const QByteArray& prefix = "tierctl: ");

}  // namespace tier::test
