#include <QJsonArray>
#include <QRegularExpression>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "tier/core.h"
#include "tier/repo/search.h"

namespace tierctl {

namespace {

const QString kSynopsis = QStringLiteral("search TEXT [--user ID] [--limit N]");

std::int64_t parseUserId(const QString& text) {
  static const QRegularExpression digits(QStringLiteral("^[0-9]{1,18}$"));
  bool ok = digits.match(text).hasMatch();
  const long long id = ok ? text.toLongLong(&ok) : 0;
  if (!ok || id <= 0)
    throw UsageError(QStringLiteral("invalid user id '%1': expected a positive integer").arg(quoteInput(text)));
  return id;
}

// A title may hold any character: one printable line for the terminal.
QString oneLine(const std::string& s) {
  QString out = fromStd(s);
  for (QChar& c : out)
    if (c.category() == QChar::Other_Control) c = QLatin1Char(' ');
  return out;
}

QJsonObject hitJson(const tier::repo::SearchHit& h) {
  return QJsonObject{{QStringLiteral("entry_id"), static_cast<double>(h.entry_id)},
                     {QStringLiteral("user_id"), static_cast<double>(h.user_id)},
                     {QStringLiteral("title"), fromStd(h.title)},
                     {QStringLiteral("snippet"), fromStd(h.snippet)},
                     {QStringLiteral("rank"), h.rank},
                     {QStringLiteral("updated_at"), isoTime(h.updated_at)},
                     {QStringLiteral("version"), static_cast<double>(h.version)}};
}

}  // namespace

void addSearchOptions(QCommandLineParser& parser) {
  parser.addPositionalArgument(QStringLiteral("text"),
                               QStringLiteral("Words to find in journal entries (web search syntax: \"a phrase\", "
                                              "-word, or); several arguments are joined by spaces."));
  parser.addOption({QStringLiteral("user"), QStringLiteral("Only this user's entries."), QStringLiteral("ID")});
  parser.addOption({QStringLiteral("limit"),
                    QStringLiteral("At most N results, best first (default %1, at most %2).")
                        .arg(tier::repo::EntrySearch::kDefaultLimit)
                        .arg(tier::repo::EntrySearch::kMaxLimit),
                    QStringLiteral("N")});
}

int runSearch(Context& ctx) {
  const QStringList words = ctx.positionals();
  if (words.isEmpty()) throw UsageError(QStringLiteral("missing the text to search for; usage: tierctl ") + kSynopsis);
  const std::string text = words.join(QLatin1Char(' ')).toStdString();
  // Bad text fails here, before any connection is made.
  (void)tier::repo::EntrySearch::normalize(text);
  const std::int64_t user = ctx.isSet(QStringLiteral("user")) ? parseUserId(ctx.value(QStringLiteral("user"))) : 0;
  const int limit = static_cast<int>(ctx.intOption(QStringLiteral("limit"), 1, tier::repo::EntrySearch::kMaxLimit,
                                                   tier::repo::EntrySearch::kDefaultLimit));

  tier::repo::EntrySearch search(ctx.core().cache(), ctx.core().pg());
  const tier::repo::SearchResult r = search.search(text, user, limit);
  const bool cached = r.source == tier::cache::Source::L1 || r.source == tier::cache::Source::L2;

  if (ctx.json()) {
    QJsonArray hits;
    for (const auto& h : r.hits) hits.append(hitJson(h));
    printJson(QJsonObject{{QStringLiteral("query"), fromStd(r.query)},
                          {QStringLiteral("user_id"), user ? QJsonValue(static_cast<double>(user)) : QJsonValue()},
                          {QStringLiteral("source"), QLatin1String(tier::cache::toString(r.source))},
                          {QStringLiteral("cached"), cached},
                          {QStringLiteral("highlight"),
                           QJsonObject{{QStringLiteral("start"), QLatin1String(tier::repo::EntrySearch::kMarkStart)},
                                       {QStringLiteral("stop"), QLatin1String(tier::repo::EntrySearch::kMarkStop)}}},
                          {QStringLiteral("count"), static_cast<int>(r.hits.size())},
                          {QStringLiteral("results"), hits}});
    return tier::kExitOk;
  }
  const QString scope = user ? QStringLiteral("user %1").arg(user) : QStringLiteral("all users");
  const QString from = cached ? QStringLiteral("cached (%1)").arg(QLatin1String(tier::cache::toString(r.source)))
                              : QStringLiteral("from PostgreSQL");
  if (r.hits.empty()) {
    printLine(QStringLiteral("no entries for: %1  (%2, %3)").arg(oneLine(r.query), scope, from));
    return tier::kExitOk;
  }
  printLine(QStringLiteral("%1 %2 for: %3  (%4, %5; matches between %6 and %7)")
                .arg(QString::number(r.hits.size()),
                     r.hits.size() == 1 ? QStringLiteral("entry") : QStringLiteral("entries"), oneLine(r.query), scope,
                     from, QLatin1String(tier::repo::EntrySearch::kMarkStart),
                     QLatin1String(tier::repo::EntrySearch::kMarkStop)));
  for (const auto& h : r.hits) {
    printLine(QStringLiteral("#%1  user %2  rank %3  %4  \"%5\"")
                  .arg(QString::number(h.entry_id), QString::number(h.user_id), QString::number(h.rank, 'f', 3),
                       isoTime(h.updated_at), oneLine(h.title)));
    printLine(QStringLiteral("    ") + oneLine(h.snippet));
  }
  return tier::kExitOk;
}

}  // namespace tierctl
