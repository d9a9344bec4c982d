#include "tier/repo/search.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <charconv>

#include "common/sql_text.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"

namespace tier::repo {

// The cache engine (cache/tiered_cache.h) the repositories read through.
using cache::CacheRead;
using cache::Loaded;
using cache::Source;
namespace {


// Length of the UTF-8 sequence starting with `c`, 0 if `c` cannot start one.
int utf8Length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xe) return 3;
  if ((c >> 3) == 0x1e) return 4;
  return 0;
}

// Throws BadInputError unless `s` is well-formed UTF-8 (no overlongs,
// surrogates or code points past U+10FFFF).
void requireUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const int len = utf8Length(static_cast<unsigned char>(s[i]));
    if (len == 0 || i + static_cast<std::size_t>(len) > s.size())
      throw BadInputError("search text is not valid UTF-8 (byte " + std::to_string(i) + ")");
    std::uint32_t cp = static_cast<unsigned char>(s[i]) & (0xff >> (len + 1));
    for (int j = 1; j < len; ++j) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(j)]);
      if ((cc & 0xc0) != 0x80) throw BadInputError("search text is not valid UTF-8 (byte " + std::to_string(i) + ")");
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      throw BadInputError("search text is not valid UTF-8 (byte " + std::to_string(i) + ")");
    i += static_cast<std::size_t>(len);
  }
}

// SHA-256 of what the result depends on besides scope and generation; the
// payload repeats the query, so even a collision cannot serve another's hits.
std::string queryHash(const std::string& normalized, int limit) {
  QCryptographicHash h(QCryptographicHash::Sha256);
  h.addData(QByteArray::fromStdString(std::to_string(limit) + '\n' + normalized));
  return h.result().toHex().left(32).toStdString();
}

std::string toPayload(const std::string& query, int limit, const std::vector<SearchHit>& hits) {
  QJsonArray arr;
  for (const auto& h : hits)
    arr.append(QJsonObject{{QStringLiteral("id"), static_cast<double>(h.entry_id)},
                           {QStringLiteral("user_id"), static_cast<double>(h.user_id)},
                           {QStringLiteral("title"), QString::fromStdString(h.title)},
                           {QStringLiteral("snippet"), QString::fromStdString(h.snippet)},
                           {QStringLiteral("rank"), h.rank},
                           {QStringLiteral("updated_at"), static_cast<double>(h.updated_at)},
                           {QStringLiteral("version"), static_cast<double>(h.version)}});
  QJsonObject o{{QStringLiteral("q"), QString::fromStdString(query)},
                {QStringLiteral("limit"), limit},
                {QStringLiteral("hits"), arr}};
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

// nullopt unless the payload is a result for exactly this query and limit.
std::optional<std::vector<SearchHit>> fromPayload(std::string_view payload, const std::string& query, int limit) {
  QJsonParseError err{};
  const auto doc = QJsonDocument::fromJson(QByteArray(payload.data(), static_cast<qsizetype>(payload.size())), &err);
  if (err.error != QJsonParseError::NoError || !doc.isObject()) return std::nullopt;
  const QJsonObject o = doc.object();
  if (o.value(QStringLiteral("q")).toString().toStdString() != query ||
      o.value(QStringLiteral("limit")).toInt() != limit || !o.value(QStringLiteral("hits")).isArray())
    return std::nullopt;
  std::vector<SearchHit> hits;
  for (const auto& v : o.value(QStringLiteral("hits")).toArray()) {
    if (!v.isObject()) return std::nullopt;
    const QJsonObject h = v.toObject();
    SearchHit s;
    s.entry_id = static_cast<std::int64_t>(h.value(QStringLiteral("id")).toDouble());
    s.user_id = static_cast<std::int64_t>(h.value(QStringLiteral("user_id")).toDouble());
    s.title = h.value(QStringLiteral("title")).toString().toStdString();
    s.snippet = h.value(QStringLiteral("snippet")).toString().toStdString();
    s.rank = h.value(QStringLiteral("rank")).toDouble();
    s.updated_at = static_cast<std::int64_t>(h.value(QStringLiteral("updated_at")).toDouble());
    s.version = static_cast<std::int64_t>(h.value(QStringLiteral("version")).toDouble());
    if (s.entry_id <= 0) return std::nullopt;
    hits.push_back(std::move(s));
  }
  return hits;
}

}  // namespace

std::string EntrySearch::normalize(std::string_view text) {
  if (text.size() > kMaxQueryBytes)
    throw BadInputError("search text longer than " + std::to_string(kMaxQueryBytes) + " bytes (got " +
                        std::to_string(text.size()) + ")");
  requireUtf8(text);
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (c < 0x20 || c == 0x7f) throw BadInputError("search text contains a control character");
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : ch;
  }
  if (out.empty()) throw BadInputError("search text is empty");
  return out;
}

std::string EntrySearch::sql(bool byUser) {
  // Both halves of the OR are index scans (GIN on content_tsv, trigram GIN on
  // title since migration 004), combined by a BitmapOr; the headline, the
  // costly part, is made for the rows kept only. Control characters and white
  // space runs are folded first so a snippet is one printable line.
  std::string where = byUser ? "e.user_id = $4 AND " : "";
  return std::string(
             "SELECT h.id, h.user_id, h.title, "
             "regexp_replace(ts_headline('english', regexp_replace(h.title || ' ' || h.content, "
             "'[[:space:][:cntrl:]]+', ' ', 'g'), websearch_to_tsquery('english', $1), "
             "'StartSel=\"[[\", StopSel=\"]]\", MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"'), "
             "'[[:space:][:cntrl:]]+', ' ', 'g'), "
             "h.rank, " TIER_MS("h.updated_at") ", h.version FROM ("
             "SELECT e.id, e.user_id, e.title, e.content, e.updated_at, e.version, "
             "ts_rank(e.content_tsv, websearch_to_tsquery('english', $1))::float8 AS rank "
             "FROM journal_entries e WHERE ") +
         where +
         "(e.content_tsv @@ websearch_to_tsquery('english', $1) OR e.title ILIKE $2) "
         "ORDER BY rank DESC, e.id DESC LIMIT $3) h ORDER BY h.rank DESC, h.id DESC";
}

pg::Result EntrySearch::run(pg::Connection& c, const std::string& prefix, const std::string& normalized,
                            std::int64_t userId, int limit) {
  // Seq scans off for this one transaction: at the seeded size (100,000
  // entries) the planner costs the bitmap heap scan as if every page came from
  // disk and reads the whole table for a word in 8 % of the entries, at 70 ms
  // where the index plan takes 16-22 ms; for a word in most entries the two are
  // within 15 %. (A plan without any index path still runs, as a seq scan.)
  pg::Transaction tx(c);
  c.exec("SET LOCAL enable_seqscan = off");
  if (userId != 0 &&
      c.execPrepared("search_user_exists", "SELECT 1 FROM users WHERE id = $1", {std::to_string(userId)}).rows() == 0)
    throw NotFoundError("user " + std::to_string(userId) + " does not exist");
  pg::Params params{normalized, tier::detail::likeSubstring(normalized), std::to_string(limit)};
  if (userId != 0) params.push_back(std::to_string(userId));
  pg::Result r = prefix.empty() ? (userId != 0 ? c.execPrepared("entry_search_ranked_user", sql(true), params)
                                               : c.execPrepared("entry_search_ranked_all", sql(false), params))
                                : c.exec(prefix + sql(userId != 0), params);
  tx.commit();
  return r;
}

std::string EntrySearch::explain(pg::PgPool& pg, const std::string& text, std::int64_t userId, int limit) {
  auto c = pg.acquire();
  const auto r = run(*c, "EXPLAIN (FORMAT JSON) ", normalize(text), userId, limit);
  return std::string(r.value(0, 0));
}

SearchResult EntrySearch::search(const std::string& text, std::int64_t userId, int limit) {
  if (limit < 1 || limit > kMaxLimit)
    throw BadInputError("search limit must be between 1 and " + std::to_string(kMaxLimit));
  if (userId < 0) throw BadInputError("user id must be positive");
  SearchResult out;
  out.query = normalize(text);
  out.user_id = userId;

  std::vector<SearchHit> loadedHits;
  auto load = [&]() -> std::vector<SearchHit> {
    auto c = pg_.acquire();
    auto r = run(*c, "", out.query, userId, limit);
    std::vector<SearchHit> hits;
    hits.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      SearchHit h;
      h.entry_id = r.toInt(i, 0);
      h.user_id = r.toInt(i, 1);
      h.title = std::string(r.value(i, 2));
      h.snippet = std::string(r.value(i, 3));
      const std::string_view rank = r.value(i, 4);
      // from_chars: strtod/stod follow the C locale, which a Qt application may have changed.
      std::from_chars(rank.data(), rank.data() + rank.size(), h.rank);
      h.updated_at = r.toInt(i, 5);
      h.version = r.toInt(i, 6);
      hits.push_back(std::move(h));
    }
    return hits;
  };

  const auto generation = cache_.searchGeneration(userId);
  if (!generation) {
    out.cacheable = false;
    out.hits = load();
    out.source = Source::L3;
    return out;
  }
  const std::string key = codec::searchKey(userId, *generation, queryHash(out.query, limit));
  const auto read = cache_.read(
      codec::Namespace::Search, key,
      [&]() -> std::optional<Loaded> {
        loadedHits = load();
        return Loaded{toPayload(out.query, limit, loadedHits), 1};
      },
      [&](std::string_view payload) { return fromPayload(payload, out.query, limit).has_value(); });
  out.source = read.source;
  if (!read.value) return out;  // cannot happen: the loader always returns a result
  if (read.source == Source::L3 && !loadedHits.empty()) {
    out.hits = std::move(loadedHits);
  } else if (auto hits = fromPayload(read.value->payload, out.query, limit)) {
    out.hits = std::move(*hits);
  }
  return out;
}

}  // namespace tier::repo
