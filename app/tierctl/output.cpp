#include "output.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLocale>
#include <cmath>

#include "tier/common/error.h"

namespace tierctl {

void printTo(std::FILE* stream, const QString& line) {
  const QByteArray bytes = line.toUtf8();
  std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stream);
  std::fputc('\n', stream);
  std::fflush(stream);
}

void printLine(const QString& line) { printTo(stdout, line); }
void printErrLine(const QString& line) { printTo(stderr, line); }

void printJson(const QJsonObject& object) {
  const QByteArray bytes = QJsonDocument(object).toJson(QJsonDocument::Indented);
  std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stdout);
  std::fflush(stdout);
}

void reportError(const std::string& message) {
  QString text = QString::fromUtf8(tier::redactSecrets(message));
  // One line, whatever a server put in its message.
  text.replace(QLatin1Char('\r'), QLatin1Char(' ')).replace(QLatin1Char('\n'), QLatin1Char(' '));
  text = text.simplified();
  if (text.isEmpty()) text = QStringLiteral("unknown error");
  printErrLine(QStringLiteral("tierctl: ") + text);
}

QString fromStd(const std::string& s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

QString thousands(long long n) {
  const bool negative = n < 0;
  QString digits = QString::number(negative ? -static_cast<unsigned long long>(n) : static_cast<unsigned long long>(n));
  for (qsizetype i = digits.size() - 3; i > 0; i -= 3) digits.insert(i, QLatin1Char(','));
  return negative ? QStringLiteral("-") + digits : digits;
}

QString formatMs(double ms) {
  if (!std::isfinite(ms) || ms < 0) ms = 0;
  QString n;
  if (ms >= 1000)
    n = QString::number(ms, 'f', 0);
  else if (ms >= 10)
    n = QString::number(ms, 'g', 3);
  else
    n = QString::number(ms, 'g', 2);
  return n + QStringLiteral("ms");
}

QString formatPercent(double ratio) {
  if (!std::isfinite(ratio)) ratio = 0;
  return QString::number(ratio * 100.0, 'f', 1) + QLatin1Char('%');
}

QString formatBytes(long long bytes) {
  if (bytes < 1024) return QString::number(bytes) + QStringLiteral(" B");
  const char* units[] = {"KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return QString::number(v, 'f', 1) + QLatin1Char(' ') + QLatin1String(units[u]);
}

QString isoTime(std::int64_t unixMs) {
  if (unixMs <= 0) return {};
  return QDateTime::fromMSecsSinceEpoch(unixMs, Qt::UTC).toString(Qt::ISODateWithMs);
}

QJsonArray thresholdsJson(const std::vector<tier::metrics::ThresholdResult>& results) {
  QJsonArray a;
  for (const auto& r : results) {
    QJsonObject o;
    o.insert(QStringLiteral("name"), fromStd(r.name));
    o.insert(QStringLiteral("value"), std::isfinite(r.value) ? r.value : 0.0);
    o.insert(QStringLiteral("limit"), r.limit);
    o.insert(QStringLiteral("unit"), fromStd(r.unit));
    o.insert(QStringLiteral("status"), QLatin1String(tier::metrics::toString(r.status)));
    a.append(o);
  }
  return a;
}

QString thresholdValueText(const tier::metrics::ThresholdResult& r) {
  if (r.status == tier::metrics::Status::NoData) return QStringLiteral("-");
  return r.unit == "ratio" ? formatPercent(r.value) : formatMs(r.value);
}

QStringList thresholdsTable(const std::vector<tier::metrics::ThresholdResult>& results) {
  QStringList lines;
  lines << QStringLiteral("%1 %2 %3 %4")
               .arg(QStringLiteral("threshold"), -22)
               .arg(QStringLiteral("value"), 10)
               .arg(QStringLiteral("limit"), 10)
               .arg(QStringLiteral("status"));
  for (const auto& r : results) {
    const bool ratio = r.unit == "ratio";
    const QString limit = ratio ? QStringLiteral("> ") + formatPercent(r.limit) : QStringLiteral("< ") + formatMs(r.limit);
    lines << QStringLiteral("%1 %2 %3 %4")
                 .arg(fromStd(r.name), -22)
                 .arg(thresholdValueText(r), 10)
                 .arg(limit, 10)
                 .arg(QLatin1String(tier::metrics::toString(r.status)));
  }
  return lines;
}

}  // namespace tierctl
