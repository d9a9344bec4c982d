#include "reliability_report.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QtGlobal>
#include <mutex>

#include "core_fixture.h"

namespace tier::test {

void reportFigure(const Figure& figure) {
  Figure f = figure;
  if (onCluster()) {  // the "<test>_on_cluster" run of a test: its own rows, its own command
    f.fault = QStringLiteral("On a Redis Cluster: ") + f.fault;
    f.command.replace(QRegularExpression(QStringLiteral("-R (tst_\\w+)")), QStringLiteral("-R \\1_on_cluster"));
  }
  qInfo("figure: %s | %s | %s (target %s)%s", qPrintable(f.fault), qPrintable(f.measured),
        qPrintable(f.figure), qPrintable(f.target), f.met ? "" : " NOT MET");
  const QString out = qEnvironmentVariable("TIER_RELIABILITY_OUT");
  if (out.isEmpty()) return;
  static std::mutex mu;
  std::lock_guard lock(mu);
  QFile file(out);
  if (!file.open(QIODevice::Append | QIODevice::Text)) {
    qWarning("cannot append to TIER_RELIABILITY_OUT=%s: %s", qPrintable(out), qPrintable(file.errorString()));
    return;
  }
  const QJsonObject o{{QStringLiteral("fault"), f.fault},   {QStringLiteral("measured"), f.measured},
                      {QStringLiteral("figure"), f.figure}, {QStringLiteral("target"), f.target},
                      {QStringLiteral("met"), f.met},       {QStringLiteral("command"), f.command}};
  file.write(QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n');
}

}  // namespace tier::test
