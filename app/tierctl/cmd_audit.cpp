#include <QJsonArray>
#include <QJsonDocument>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/audit.h"

namespace tierctl {

namespace {

QJsonObject rowJson(const tier::ops::AuditRow& a) {
  // args is stored as jsonb: hand it on as an object, not as a string of JSON.
  const QJsonDocument args = QJsonDocument::fromJson(QByteArray::fromStdString(a.args_json));
  return QJsonObject{{QStringLiteral("id"), static_cast<double>(a.id)},
                     {QStringLiteral("at"), isoTime(a.at_ms)},
                     {QStringLiteral("at_ms"), static_cast<double>(a.at_ms)},
                     {QStringLiteral("os_user"), fromStd(a.os_user)},
                     {QStringLiteral("pg_role"), fromStd(a.pg_role)},
                     {QStringLiteral("redis_user"), fromStd(a.redis_user)},
                     {QStringLiteral("profile"), fromStd(a.profile)},
                     {QStringLiteral("action"), fromStd(a.action)},
                     {QStringLiteral("args"), args.isObject() ? QJsonValue(args.object()) : QJsonValue(fromStd(a.args_json))},
                     {QStringLiteral("dry_run"), a.dry_run},
                     {QStringLiteral("matched"), static_cast<double>(a.matched)},
                     {QStringLiteral("affected"), static_cast<double>(a.affected)},
                     {QStringLiteral("result"), fromStd(a.result)},
                     {QStringLiteral("duration_ms"), a.duration_ms}};
}

}  // namespace

void addAuditOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("limit"), QStringLiteral("Newest N rows (default 50)."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("filter"),
                    QStringLiteral("Only rows whose action, result or OS user contains TEXT (case-insensitive)."),
                    QStringLiteral("TEXT")});
}

int runAudit(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("audit [--limit N] [--filter TEXT]"));
  const int limit = static_cast<int>(ctx.intOption(QStringLiteral("limit"), 1, 100'000, 50));
  const std::string filter = ctx.value(QStringLiteral("filter")).toStdString();
  const std::vector<tier::ops::AuditRow> rows = tier::ops::readAudit(ctx.core(), limit, filter);
  if (ctx.json()) {
    QJsonArray a;
    for (const auto& r : rows) a.append(rowJson(r));
    printJson(QJsonObject{{QStringLiteral("rows"), a}});
    return tier::kExitOk;
  }
  if (rows.empty()) {
    printLine(QStringLiteral("no audit rows"));
    return tier::kExitOk;
  }
  for (const auto& r : rows)
    printLine(QStringLiteral("#%1  %2  %3@%4  %5%6  %7  matched %8 affected %9  %10  %11 ms")
                  .arg(QString::number(r.id), isoTime(r.at_ms), fromStd(r.os_user), fromStd(r.profile),
                       fromStd(r.action), r.dry_run ? QStringLiteral(" (dry run)") : QString(), fromStd(r.args_json),
                       thousands(r.matched), thousands(r.affected), fromStd(r.result),
                       QString::number(r.duration_ms, 'f', 1)));
  return tier::kExitOk;
}

}  // namespace tierctl
