#include <QJsonArray>
#include <QRegularExpression>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/inspect.h"

namespace tierctl {

namespace {

const QString kSynopsis = QStringLiteral("inspect session <id>");

std::int64_t parseSessionId(const QString& text) {
  static const QRegularExpression digits(QStringLiteral("^[0-9]{1,18}$"));
  bool ok = digits.match(text).hasMatch();
  const long long id = ok ? text.toLongLong(&ok) : 0;
  if (!ok || id <= 0)
    throw UsageError(QStringLiteral("invalid session id '%1': expected a positive integer").arg(quoteInput(text)));
  return id;
}

QJsonObject copyJson(const tier::ops::TierCopy& c) {
  return QJsonObject{{QStringLiteral("present"), c.present},
                     {QStringLiteral("version"), static_cast<double>(c.version)},
                     {QStringLiteral("written_at_ms"), static_cast<double>(c.written_at_ms)},
                     {QStringLiteral("bytes"), static_cast<double>(c.bytes)}};
}

QJsonObject sessionSummaryJson(const tier::repo::ChatSession& s) {
  return QJsonObject{{QStringLiteral("id"), static_cast<double>(s.id)},
                     {QStringLiteral("user_id"), static_cast<double>(s.user_id)},
                     {QStringLiteral("title"), fromStd(s.title)},
                     {QStringLiteral("status"), fromStd(s.status)},
                     {QStringLiteral("message_count"), s.message_count},
                     {QStringLiteral("recent_messages"), static_cast<int>(s.messages.size())},
                     {QStringLiteral("created_at_ms"), static_cast<double>(s.created_at)},
                     {QStringLiteral("last_active_at_ms"), static_cast<double>(s.last_active_at)},
                     {QStringLiteral("version"), static_cast<double>(s.version)}};
}

QJsonObject inspectionJson(const tier::ops::SessionInspection& in) {
  QJsonObject l2 = copyJson(in.l2);
  l2.insert(QStringLiteral("stale"), in.l2_stale);
  l2.insert(QStringLiteral("ttl_s"), static_cast<double>(in.l2_ttl_s));
  l2.insert(QStringLiteral("generation_current"), in.l2_generation_current);
  l2.insert(QStringLiteral("error"), fromStd(tier::redactSecrets(in.l2_error)));
  QJsonObject l3{{QStringLiteral("present"), in.l3_present}, {QStringLiteral("version"), static_cast<double>(in.l3_version)}};
  QJsonArray diff;
  for (const auto& f : in.diff) diff.append(fromStd(f));
  QJsonObject o{{QStringLiteral("session_id"), static_cast<double>(in.session_id)},
                {QStringLiteral("l1"), [&] {
                   QJsonObject l1 = copyJson(in.l1);
                   l1.insert(QStringLiteral("stale"), in.l1_stale);
                   return l1;
                 }()},
                {QStringLiteral("l2"), l2},
                {QStringLiteral("l3"), l3},
                {QStringLiteral("stale"), in.stale},
                {QStringLiteral("diff"), diff}};
  if (in.l3)
    o.insert(QStringLiteral("session"), sessionSummaryJson(*in.l3));
  else if (in.cached)
    o.insert(QStringLiteral("session"), sessionSummaryJson(*in.cached));
  return o;
}

QString copyText(const tier::ops::TierCopy& c) {
  if (!c.present) return QStringLiteral("absent");
  return QStringLiteral("present  v%1  %2  written %3")
      .arg(QString::number(c.version), formatBytes(static_cast<long long>(c.bytes)), isoTime(c.written_at_ms));
}

void printInspectionText(const tier::ops::SessionInspection& in) {
  const tier::repo::ChatSession* s = in.l3 ? &*in.l3 : (in.cached ? &*in.cached : nullptr);
  if (s)
    printLine(QStringLiteral("session %1  user %2  \"%3\"  %4  %5 messages  last active %6")
                  .arg(QString::number(s->id), QString::number(s->user_id), fromStd(s->title), fromStd(s->status),
                       thousands(s->message_count), isoTime(s->last_active_at)));
  printLine(QStringLiteral("L1  ") + copyText(in.l1));
  QString l2 = QStringLiteral("L2  ") + copyText(in.l2);
  if (in.l2.present) {
    l2 += in.l2_ttl_s == -1 ? QStringLiteral("  no expiry") : QStringLiteral("  ttl %1 s").arg(in.l2_ttl_s);
    if (!in.l2_generation_current) l2 += QStringLiteral("  (older namespace generation: a miss)");
  }
  if (!in.l2_error.empty()) l2 += QStringLiteral("  [") + fromStd(tier::redactSecrets(in.l2_error)) + QLatin1Char(']');
  printLine(l2);
  printLine(in.l3_present ? QStringLiteral("L3  present  v%1").arg(in.l3_version) : QStringLiteral("L3  absent"));
  if (in.stale) {
    QStringList fields;
    for (const auto& f : in.diff) fields << fromStd(f);
    printLine(QStringLiteral("stale: yes (differs in %1)").arg(fields.join(QStringLiteral(", "))));
  } else {
    printLine(QStringLiteral("stale: no"));
  }
}

}  // namespace

void addInspectOptions(QCommandLineParser& parser) {
  parser.addPositionalArgument(QStringLiteral("session"), QStringLiteral("What to inspect (only 'session')."));
  parser.addPositionalArgument(QStringLiteral("id"), QStringLiteral("The chat session id."));
}

int runInspect(Context& ctx) {
  const QStringList args = ctx.positionals();
  if (args.isEmpty()) throw UsageError(QStringLiteral("missing what to inspect; usage: tierctl ") + kSynopsis);
  if (args.at(0) != QLatin1String("session"))
    throw UsageError(QStringLiteral("cannot inspect '%1'; usage: tierctl %2").arg(quoteInput(args.at(0)), kSynopsis));
  ctx.expectPositionals(2, 2, kSynopsis);
  const std::int64_t id = parseSessionId(args.at(1));
  const tier::ops::SessionInspection in = tier::ops::inspectSession(ctx.core(), id);
  if (ctx.json())
    printJson(inspectionJson(in));
  else
    printInspectionText(in);
  return tier::kExitOk;
}

}  // namespace tierctl
