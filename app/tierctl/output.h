#pragma once
// Printing for tierctl: text lines, JSON documents, number formats and the
// JSON shapes shared by several commands (documented in docs/cli.md).
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <cstdio>
#include <string>
#include <vector>

#include "tier/metrics/latency_json.h"
#include "tier/metrics/metrics.h"
#include "tier/metrics/thresholds.h"

namespace tierctl {

void printLine(const QString& line);        // stdout, flushed
void printErrLine(const QString& line);     // stderr, flushed
void printTo(std::FILE* stream, const QString& line);
void printJson(const QJsonObject& object);  // stdout, indented
// The one-line error report: "tierctl: <message>" with secrets redacted and
// line breaks folded, on stderr.
void reportError(const std::string& message);

QString fromStd(const std::string& s);
QString thousands(long long n);           // 3412 -> "3,412"
QString formatMs(double ms);              // two significant digits below 10 ms: "0.41ms"
QString formatPercent(double ratio);      // 0.961 -> "96.1%"
QString formatBytes(long long bytes);     // "1.2 MB"
QString isoTime(std::int64_t unixMs);     // "2024-05-01T12:00:00.000Z"; "" for 0

using tier::metrics::latencyJson;  // tier/metrics/latency_json.h
QJsonArray thresholdsJson(const std::vector<tier::metrics::ThresholdResult>& results);
// The thresholds as an aligned text table (name, value, limit, status).
QStringList thresholdsTable(const std::vector<tier::metrics::ThresholdResult>& results);
QString thresholdValueText(const tier::metrics::ThresholdResult& r);

}  // namespace tierctl
