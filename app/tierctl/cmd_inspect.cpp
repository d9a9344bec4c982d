#include <QJsonArray>
#include <QRegularExpression>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/ops/inspect.h"

namespace tierctl {

namespace {

const QString kSynopsis = QStringLiteral("inspect (session|user|entry|stats) <id> [--period 7|30|90]");

std::int64_t parseId(const QString& what, const QString& text) {
  static const QRegularExpression digits(QStringLiteral("^[0-9]{1,18}$"));
  bool ok = digits.match(text).hasMatch();
  const long long id = ok ? text.toLongLong(&ok) : 0;
  if (!ok || id <= 0)
    throw UsageError(QStringLiteral("invalid %1 id '%2': expected a positive integer").arg(what, quoteInput(text)));
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

QJsonObject userJson(const tier::repo::User& u) {
  return QJsonObject{{QStringLiteral("id"), static_cast<double>(u.id)},
                     {QStringLiteral("email"), fromStd(u.email)},
                     {QStringLiteral("display_name"), fromStd(u.display_name)},
                     {QStringLiteral("timezone"), fromStd(u.timezone)},
                     {QStringLiteral("created_at_ms"), static_cast<double>(u.created_at)},
                     {QStringLiteral("updated_at_ms"), static_cast<double>(u.updated_at)},
                     {QStringLiteral("version"), static_cast<double>(u.version)}};
}

// The entry's text is the user's journal: support sees its size, not its words.
QJsonObject entryJson(const tier::repo::JournalEntry& e) {
  QJsonArray tags;
  for (const auto& t : e.tags) tags.append(fromStd(t));
  return QJsonObject{{QStringLiteral("id"), static_cast<double>(e.id)},
                     {QStringLiteral("user_id"), static_cast<double>(e.user_id)},
                     {QStringLiteral("title"), fromStd(e.title)},
                     {QStringLiteral("content_chars"), static_cast<double>(fromStd(e.content).size())},
                     {QStringLiteral("mood_score"), e.mood_score},
                     {QStringLiteral("tags"), tags},
                     {QStringLiteral("created_at_ms"), static_cast<double>(e.created_at)},
                     {QStringLiteral("updated_at_ms"), static_cast<double>(e.updated_at)},
                     {QStringLiteral("version"), static_cast<double>(e.version)}};
}

QJsonObject statsJson(const tier::repo::MoodStats& m) {
  return QJsonObject{{QStringLiteral("user_id"), static_cast<double>(m.user_id)},
                     {QStringLiteral("period_days"), m.period_days},
                     {QStringLiteral("entries"), static_cast<double>(m.entries)},
                     {QStringLiteral("avg_mood"), m.avg_mood},
                     {QStringLiteral("min_mood"), m.min_mood},
                     {QStringLiteral("max_mood"), m.max_mood},
                     {QStringLiteral("first_at_ms"), static_cast<double>(m.first_at)},
                     {QStringLiteral("last_at_ms"), static_cast<double>(m.last_at)},
                     {QStringLiteral("version"), static_cast<double>(m.version)}};
}

QJsonObject rowJson(const tier::repo::ChatSession& s) { return sessionSummaryJson(s); }
QJsonObject rowJson(const tier::repo::User& u) { return userJson(u); }
QJsonObject rowJson(const tier::repo::JournalEntry& e) { return entryJson(e); }
QJsonObject rowJson(const tier::repo::MoodStats& m) { return statsJson(m); }

// Every inspection has the same shape: the id field, l1/l2/l3, stale, diff,
// diff_values, key, and the row (the database's, else the cached copy's) under `rowName`.
template <typename T>
QJsonObject inspectionJson(const tier::ops::Inspection<T>& in, const QString& idName, std::int64_t id,
                           const QString& rowName) {
  QJsonObject l2 = copyJson(in.l2);
  l2.insert(QStringLiteral("stale"), in.l2_stale);
  l2.insert(QStringLiteral("ttl_s"), static_cast<double>(in.l2_ttl_s));
  l2.insert(QStringLiteral("generation_current"), in.l2_generation_current);
  l2.insert(QStringLiteral("error"), fromStd(tier::redactSecrets(in.l2_error)));
  QJsonObject l3{{QStringLiteral("present"), in.l3_present}, {QStringLiteral("version"), static_cast<double>(in.l3_version)}};
  QJsonArray diff;
  for (const auto& f : in.diff) diff.append(fromStd(f));
  QJsonArray values;
  for (const auto& v : in.field_values)
    values.append(QJsonObject{{QStringLiteral("field"), fromStd(v.field)},
                              {QStringLiteral("cached"), fromStd(v.cached)},
                              {QStringLiteral("database"), fromStd(v.database)}});
  QJsonObject l1 = copyJson(in.l1);
  l1.insert(QStringLiteral("stale"), in.l1_stale);
  QJsonObject o{{idName, static_cast<double>(id)},
                {QStringLiteral("key"), fromStd(in.key)},
                {QStringLiteral("l1"), l1},
                {QStringLiteral("l2"), l2},
                {QStringLiteral("l3"), l3},
                {QStringLiteral("stale"), in.stale},
                {QStringLiteral("diff"), diff},
                {QStringLiteral("diff_values"), values}};
  if (in.l3)
    o.insert(rowName, rowJson(*in.l3));
  else if (in.cached)
    o.insert(rowName, rowJson(*in.cached));
  return o;
}

QString copyText(const tier::ops::TierCopy& c) {
  if (!c.present) return QStringLiteral("absent");
  return QStringLiteral("present  v%1  %2  written %3")
      .arg(QString::number(c.version), formatBytes(static_cast<long long>(c.bytes)), isoTime(c.written_at_ms));
}

QString rowText(const tier::repo::ChatSession& s) {
  return QStringLiteral("session %1  user %2  \"%3\"  %4  %5 messages  last active %6")
      .arg(QString::number(s.id), QString::number(s.user_id), fromStd(s.title), fromStd(s.status),
           thousands(s.message_count), isoTime(s.last_active_at));
}
QString rowText(const tier::repo::User& u) {
  return QStringLiteral("user %1  %2  \"%3\"  %4  since %5")
      .arg(QString::number(u.id), fromStd(u.email), fromStd(u.display_name), fromStd(u.timezone), isoTime(u.created_at));
}
QString rowText(const tier::repo::JournalEntry& e) {
  return QStringLiteral("entry %1  user %2  \"%3\"  mood %4  %5 characters  updated %6")
      .arg(QString::number(e.id), QString::number(e.user_id), fromStd(e.title), QString::number(e.mood_score),
           thousands(static_cast<long long>(fromStd(e.content).size())), isoTime(e.updated_at));
}
QString rowText(const tier::repo::MoodStats& m) {
  return QStringLiteral("mood of user %1 over %2 days  %3 entries  average %4 (min %5, max %6)")
      .arg(QString::number(m.user_id), QString::number(m.period_days), thousands(m.entries),
           QString::number(m.avg_mood, 'f', 2), QString::number(m.min_mood), QString::number(m.max_mood));
}

template <typename T>
void printInspectionText(const tier::ops::Inspection<T>& in) {
  const T* row = in.l3 ? &*in.l3 : (in.cached ? &*in.cached : nullptr);
  if (row) printLine(rowText(*row));
  printLine(QStringLiteral("key %1").arg(fromStd(in.key)));
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
    for (const auto& v : in.field_values)
      printLine(QStringLiteral("  %1  cached %2  database %3")
                    .arg(fromStd(v.field), v.cached.empty() ? QStringLiteral("-") : fromStd(v.cached),
                         v.database.empty() ? QStringLiteral("-") : fromStd(v.database)));
  } else {
    printLine(QStringLiteral("stale: no"));
  }
}

template <typename T>
void printInspection(Context& ctx, const tier::ops::Inspection<T>& in, const QString& idName, std::int64_t id,
          const QString& rowName) {
  if (ctx.json())
    printJson(inspectionJson(in, idName, id, rowName));
  else
    printInspectionText(in);
}

}  // namespace

void addInspectOptions(QCommandLineParser& parser) {
  parser.addPositionalArgument(QStringLiteral("what"), QStringLiteral("session, user, entry or stats."));
  parser.addPositionalArgument(QStringLiteral("id"),
                               QStringLiteral("The chat session, user or journal entry id (stats: the user id)."));
  parser.addOption({QStringLiteral("period"), QStringLiteral("stats only: the period in days, 7, 30 or 90 (default 30)."),
                    QStringLiteral("days")});
}

int runInspect(Context& ctx) {
  const QStringList args = ctx.positionals();
  if (args.isEmpty()) throw UsageError(QStringLiteral("missing what to inspect; usage: tierctl ") + kSynopsis);
  const QString what = args.at(0);
  static const QStringList kinds{QStringLiteral("session"), QStringLiteral("user"), QStringLiteral("entry"),
                                 QStringLiteral("stats")};
  if (!kinds.contains(what))
    throw UsageError(QStringLiteral("cannot inspect '%1'; usage: tierctl %2").arg(quoteInput(what), kSynopsis));
  ctx.expectPositionals(2, 2, kSynopsis);
  int period = 30;
  if (ctx.isSet(QStringLiteral("period"))) {
    if (what != QLatin1String("stats")) throw UsageError(QStringLiteral("--period applies to 'inspect stats' only"));
    const QString p = ctx.value(QStringLiteral("period"));
    if (p != QLatin1String("7") && p != QLatin1String("30") && p != QLatin1String("90"))
      throw UsageError(QStringLiteral("invalid --period '%1': expected 7, 30 or 90").arg(quoteInput(p)));
    period = p.toInt();
  }
  if (what == QLatin1String("session")) {
    const std::int64_t id = parseId(what, args.at(1));
    printInspection(ctx, tier::ops::inspectSession(ctx.core(), id), QStringLiteral("session_id"), id, QStringLiteral("session"));
  } else if (what == QLatin1String("user")) {
    const std::int64_t id = parseId(what, args.at(1));
    printInspection(ctx, tier::ops::inspectUser(ctx.core(), id), QStringLiteral("user_id"), id, QStringLiteral("user"));
  } else if (what == QLatin1String("entry")) {
    const std::int64_t id = parseId(what, args.at(1));
    printInspection(ctx, tier::ops::inspectEntry(ctx.core(), id), QStringLiteral("entry_id"), id, QStringLiteral("entry"));
  } else {
    const std::int64_t id = parseId(QStringLiteral("user"), args.at(1));
    auto in = tier::ops::inspectStats(ctx.core(), id, period);
    QJsonObject o = inspectionJson(in, QStringLiteral("user_id"), id, QStringLiteral("stats"));
    if (ctx.json()) {
      o.insert(QStringLiteral("period_days"), period);
      printJson(o);
    } else {
      printInspectionText(in);
    }
  }
  return tier::kExitOk;
}

}  // namespace tierctl
