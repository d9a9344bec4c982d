#include "tier/repo/repositories.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "common/sql_text.h"
#include "pg/row.h"
#include "repo/session_expiry.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"
#include "tier/pg/read_router.h"

namespace tier::repo {

// The cache engine (cache/tiered_cache.h) the repositories read through.
using cache::CacheRead;
using cache::Loaded;
using cache::Source;
using cache::TieredCache;
namespace {

using codec::Namespace;
using metrics::Op;
using pg::Params;


std::string s(std::int64_t v) { return std::to_string(v); }

// A read through the replica router when there is one, else on the primary.
template <typename F>
auto routedRead(pg::ReadRouter* reads, pg::PgPool& primary, F&& f) {
  if (!reads) {
    auto c = primary.acquire();
    return f(*c);
  }
  std::optional<decltype(f(std::declval<pg::Connection&>()))> out;
  reads->read([&](pg::Connection& c) { out = f(c); });
  return std::move(*out);
}

// ---- users -----------------------------------------------------------------
constexpr const char* kUserCols =
    "id, email, display_name, timezone, " TIER_MS("created_at") ", " TIER_MS("updated_at") ", version";

User userFrom(const pg::Result& r, int row) {
  pg::Row c(r, row);
  User u;
  u.id = c.int64();
  u.email = c.text();
  u.display_name = c.text();
  u.timezone = c.text();
  u.created_at = c.int64();
  u.updated_at = c.int64();
  u.version = c.int64();
  return u;
}

// ---- entries ---------------------------------------------------------------
constexpr const char* kEntryCols =
    "id, user_id, title, content, mood_score, array_to_json(tags)::text, " TIER_MS("created_at") ", " TIER_MS(
        "updated_at") ", version";

JournalEntry entryFrom(const pg::Result& r, int row) {
  pg::Row c(r, row);
  JournalEntry e;
  e.id = c.int64();
  e.user_id = c.int64();
  e.title = c.text();
  e.content = c.text();
  e.mood_score = c.int32();
  const auto tags = QJsonDocument::fromJson(QByteArray::fromStdString(c.text())).array();
  for (const auto& t : tags) e.tags.push_back(t.toString().toStdString());
  e.created_at = c.int64();
  e.updated_at = c.int64();
  e.version = c.int64();
  return e;
}

// text[] literal for a parameter: {"a","b"} with quotes and backslashes escaped.
std::string pgTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

void validateDraft(const EntryDraft& d) {
  if (d.title.empty()) throw BadInputError("an entry needs a title");
  if (d.mood_score < 1 || d.mood_score > 10) throw BadInputError("mood score must be between 1 and 10");
  if (d.title.size() > 1000) throw BadInputError("entry title longer than 1000 bytes");
  if (d.content.size() > 1024 * 1024) throw BadInputError("entry content larger than 1 MiB");
}

// ---- sessions --------------------------------------------------------------
// A session and its latest $2 messages in one round trip: one row per message
// (the session's columns repeated; a session without messages gives one row of
// NULL message columns), oldest first. Plain columns, no JSON to build or parse.
#define TIER_SESSION_SELECT                                                                                       \
  "SELECT s.id, s.user_id, s.title, s.status, s.message_count, " TIER_MS("s.created_at") ", " TIER_MS(            \
      "s.last_active_at") ", s.version, m.id, m.seq, m.role, m.content, " TIER_MS("m.created_at")                 \
      " FROM chat_sessions s LEFT JOIN LATERAL (SELECT id, seq, role, content, created_at FROM chat_messages "     \
      "WHERE session_id = s.id ORDER BY seq DESC LIMIT $2) m ON true "
constexpr const char* kSessionSql = TIER_SESSION_SELECT "WHERE s.id = $1 ORDER BY m.seq";
// The same for a batch: $1 is a bigint[] (warming loads 100 sessions per round trip).
constexpr const char* kSessionManySql = TIER_SESSION_SELECT "WHERE s.id = ANY($1::bigint[]) ORDER BY s.id, m.seq";
#undef TIER_SESSION_SELECT

// One session from rows [row, ...): consumes its rows and leaves `row` at the next session's first.
ChatSession sessionFrom(const pg::Result& r, int& row) {
  pg::Row cols(r, row);
  ChatSession c;
  c.id = cols.int64();
  c.user_id = cols.int64();
  c.title = cols.text();
  c.status = cols.text();
  c.message_count = cols.int32();
  c.created_at = cols.int64();
  c.last_active_at = cols.int64();
  c.version = cols.int64();
  const int messageColumns = cols.column();
  for (; row < r.rows() && r.toInt(row, 0) == c.id; ++row) {
    pg::Row mc(r, row, messageColumns);
    if (mc.isNull()) continue;
    ChatMessage m;
    m.id = mc.int64();
    m.session_id = c.id;
    m.seq = mc.int32();
    m.role = mc.text();
    m.content = mc.text();
    m.created_at = mc.int64();
    c.messages.push_back(std::move(m));
  }
  return c;
}

// A PostgreSQL array literal of integers, sent as one text parameter: "{1,2,3}".
std::string intArray(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + '}';
}


constexpr const char* kSummaryCols =
    "s.id, s.user_id, u.email, s.title, s.status, s.message_count, " TIER_MS("s.last_active_at");

SessionSummary summaryFrom(const pg::Result& r, int row) {
  pg::Row c(r, row);
  SessionSummary m;
  m.id = c.int64();
  m.user_id = c.int64();
  m.user_email = c.text();
  m.title = c.text();
  m.status = c.text();
  m.message_count = c.int32();
  m.last_active_at = c.int64();
  return m;
}

// ---- knowledge -------------------------------------------------------------
constexpr const char* kKnowledgeCols = "id, slug, topic, title, body, " TIER_MS("updated_at") ", version";

KnowledgeArticle articleFrom(const pg::Result& r, int row) {
  pg::Row c(r, row);
  KnowledgeArticle a;
  a.id = c.int64();
  a.slug = c.text();
  a.topic = c.text();
  a.title = c.text();
  a.body = c.text();
  a.updated_at = c.int64();
  a.version = c.int64();
  return a;
}

template <typename T>
Fetched<T> fetched(const CacheRead& r) {
  Fetched<T> f;
  f.source = r.source;
  f.stale = r.stale;
  if (r.value) {
    f.value = T::fromJson(r.value->payload);
    // Only our own validated bytes get here (L2 values are checked by the
    // validator); a mismatch means a bug, not hostile data.
    if (!f.value) throw DataError("cached value does not match its schema");
  }
  return f;
}

template <typename T>
bool validPayload(std::string_view payload) {
  return T::fromJson(payload).has_value();
}

// One cached read of a T, as every repository's get() does it: timed as `op`
// (from before the key is built: a key that does not validate is a timed
// failure, as before), the key `makeKey()` gives read through the tiers of
// `ns`, loaded from the database by `load` on a miss (nullopt: no such row,
// cached as a miss), cached bytes checked against T's schema.
template <typename T, typename MakeKey, typename Load>
Fetched<T> cachedGet(TieredCache& cache, Op op, Namespace ns, MakeKey&& makeKey, Load&& load) {
  metrics::ScopedTimer t(cache.metrics(), op);
  const std::string key = makeKey();
  auto r = cache.read(
      ns, key,
      [&]() -> std::optional<Loaded> {
        std::optional<T> v = load();
        if (!v) return std::nullopt;
        return Loaded{v->toJson(), v->version};
      },
      validPayload<T>);
  return fetched<T>(r);
}

std::string likeLiteral(const std::string& text) { return detail::likeSubstring(text); }

}  // namespace

// ---- UserRepository ----------------------------------------------------------

std::optional<User> UserRepository::loadFromDb(std::int64_t id) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("user_get", std::string("SELECT ") + kUserCols + " FROM users WHERE id = $1", {s(id)});
  if (r.rows() == 0) return std::nullopt;
  return userFrom(r, 0);
}

Fetched<User> UserRepository::get(std::int64_t id) {
  return cachedGet<User>(
      cache_, Op::UserRead, Namespace::User, [&] { return codec::userKey(id); }, [&] { return loadFromDb(id); });
}

std::optional<User> UserRepository::findByEmail(const std::string& email) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("user_by_email", std::string("SELECT ") + kUserCols + " FROM users WHERE email = $1",
                           {email});
  if (r.rows() == 0) return std::nullopt;
  return userFrom(r, 0);
}

User UserRepository::create(const std::string& email, const std::string& displayName, const std::string& timezone) {
  if (email.empty() || email.find('@') == std::string::npos) throw BadInputError("invalid email address");
  metrics::ScopedTimer t(cache_.metrics(), Op::Write);
  auto c = pg_.acquire();
  auto r = c->exec(std::string("INSERT INTO users (email, display_name, timezone) VALUES ($1, $2, $3) RETURNING ") +
                       kUserCols,
                   {email, displayName, timezone});
  User u = userFrom(r, 0);
  cache_.writeThrough(Namespace::User, codec::userKey(u.id), u.toJson(), u.version);
  if (cache_.metrics()) cache_.metrics()->count(metrics::Counter::Write);
  return u;
}

User UserRepository::update(std::int64_t id, const std::string& displayName, const std::string& timezone) {
  metrics::ScopedTimer t(cache_.metrics(), Op::Write);
  auto c = pg_.acquire();
  auto r = c->execPrepared("user_update",
                           std::string("UPDATE users SET display_name = $2, timezone = $3, updated_at = now(), "
                                       "version = version + 1 WHERE id = $1 RETURNING ") +
                               kUserCols,
                           {s(id), displayName, timezone});
  if (r.rows() == 0) throw NotFoundError("user " + s(id) + " does not exist");
  User u = userFrom(r, 0);
  cache_.writeThrough(Namespace::User, codec::userKey(u.id), u.toJson(), u.version);
  if (cache_.metrics()) cache_.metrics()->count(metrics::Counter::Write);
  return u;
}

// ---- JournalRepository ---------------------------------------------------------

std::optional<JournalEntry> JournalRepository::loadFromDb(std::int64_t id) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("entry_get", std::string("SELECT ") + kEntryCols + " FROM journal_entries WHERE id = $1",
                           {s(id)});
  if (r.rows() == 0) return std::nullopt;
  return entryFrom(r, 0);
}

std::vector<JournalEntry> JournalRepository::loadManyFromDb(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return {};
  return routedRead(reads_, pg_, [&](pg::Connection& c) {
    std::vector<JournalEntry> out;
    auto r = c.execPrepared("entry_get_many",
                            std::string("SELECT ") + kEntryCols + " FROM journal_entries WHERE id = ANY($1::bigint[])",
                            {intArray(ids)});
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(entryFrom(r, i));
    return out;
  });
}

Fetched<JournalEntry> JournalRepository::get(std::int64_t id) {
  return cachedGet<JournalEntry>(
      cache_, Op::EntryRead, Namespace::Entry, [&] { return codec::entryKey(id); }, [&] { return loadFromDb(id); });
}

std::vector<JournalEntry> JournalRepository::listByUser(std::int64_t userId, int limit, int offset) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("entry_list",
                           std::string("SELECT ") + kEntryCols +
                               " FROM journal_entries WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2 OFFSET $3",
                           {s(userId), s(std::clamp(limit, 1, 1000)), s(std::max(offset, 0))});
  std::vector<JournalEntry> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(entryFrom(r, i));
  return out;
}

std::vector<JournalEntry> JournalRepository::search(const std::string& text, std::int64_t userId, int limit) {
  if (text.size() > 1000) throw BadInputError("search text longer than 1000 bytes");
  auto c = pg_.acquire();
  auto r = c->execPrepared(
      "entry_search",
      std::string("SELECT ") + kEntryCols +
          " FROM journal_entries WHERE ($2::bigint = 0 OR user_id = $2) AND "
          "(content_tsv @@ websearch_to_tsquery('english', $1) OR title ILIKE $3) "
          "ORDER BY ts_rank(content_tsv, websearch_to_tsquery('english', $1)) DESC, id DESC LIMIT $4",
      {text, s(userId), likeLiteral(text), s(std::clamp(limit, 1, 1000))});
  std::vector<JournalEntry> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(entryFrom(r, i));
  return out;
}

void JournalRepository::invalidateStats(std::int64_t userId) {
  // Never throws: if Redis is down the keys are remembered and their L2 copies
  // are misses until repaired.
  for (int p : AnalyticsRepository::periods())
    cache_.invalidateAfterWrite(codec::statsKey(userId, std::to_string(p) + "d"));
  // Cached searches of this user and of all users may hold the old row.
  cache_.bumpSearchGenerations(userId);
}

JournalEntry JournalRepository::create(std::int64_t userId, const EntryDraft& d) {
  validateDraft(d);
  metrics::ScopedTimer t(cache_.metrics(), Op::Write);
  auto c = pg_.acquire();
  auto r = c->execPrepared("entry_create",
                           std::string("INSERT INTO journal_entries (user_id, title, content, mood_score, tags) "
                                       "VALUES ($1, $2, $3, $4, $5::text[]) RETURNING ") +
                               kEntryCols,
                           {s(userId), d.title, d.content, s(d.mood_score), pgTextArray(d.tags)});
  JournalEntry e = entryFrom(r, 0);
  cache_.writeThrough(Namespace::Entry, codec::entryKey(e.id), e.toJson(), e.version);
  invalidateStats(userId);
  if (cache_.metrics()) cache_.metrics()->count(metrics::Counter::Write);
  return e;
}

JournalEntry JournalRepository::update(std::int64_t id, const EntryDraft& d) {
  validateDraft(d);
  metrics::ScopedTimer t(cache_.metrics(), Op::Write);
  auto c = pg_.acquire();
  auto r = c->execPrepared("entry_update",
                           std::string("UPDATE journal_entries SET title = $2, content = $3, mood_score = $4, "
                                       "tags = $5::text[], updated_at = now(), version = version + 1 "
                                       "WHERE id = $1 RETURNING ") +
                               kEntryCols,
                           {s(id), d.title, d.content, s(d.mood_score), pgTextArray(d.tags)});
  if (r.rows() == 0) throw NotFoundError("journal entry " + s(id) + " does not exist");
  JournalEntry e = entryFrom(r, 0);
  cache_.writeThrough(Namespace::Entry, codec::entryKey(e.id), e.toJson(), e.version);
  invalidateStats(e.user_id);
  if (cache_.metrics()) cache_.metrics()->count(metrics::Counter::Write);
  return e;
}

void JournalRepository::remove(std::int64_t id) {
  metrics::ScopedTimer t(cache_.metrics(), Op::Write);
  auto c = pg_.acquire();
  auto r = c->execPrepared("entry_delete", "DELETE FROM journal_entries WHERE id = $1 RETURNING user_id, version",
                           {s(id)});
  if (r.rows() == 0) throw NotFoundError("journal entry " + s(id) + " does not exist");
  // A tombstone (newer version, payload null) rather than a delete, so that a
  // reader that loaded the row before the delete cannot put it back.
  cache_.writeThrough(Namespace::Entry, codec::entryKey(id), "null", r.toInt(0, 1) + 1);
  invalidateStats(r.toInt(0, 0));
  if (cache_.metrics()) cache_.metrics()->count(metrics::Counter::Write);
}

std::vector<std::int64_t> JournalRepository::hotEntryIds(int topUsers, int perUser) {
  return routedRead(reads_, pg_, [&](pg::Connection& c) {
    auto r = c.exec(
        "WITH top AS (SELECT user_id FROM journal_entries GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT $1) "
        "SELECT e.id FROM top CROSS JOIN LATERAL (SELECT id FROM journal_entries j WHERE j.user_id = top.user_id "
        "ORDER BY created_at DESC LIMIT $2) e",
        {s(std::max(topUsers, 0)), s(std::max(perUser, 0))});
    std::vector<std::int64_t> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.toInt(i, 0));
    return out;
  });
}

// ---- SessionRepository ---------------------------------------------------------

const char* SessionRepository::retrievalSql() noexcept { return kSessionSql; }

std::vector<ChatSession> SessionRepository::loadManyFromDb(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return {};
  return routedRead(reads_, pg_, [&](pg::Connection& c) {
    std::vector<ChatSession> out;
    auto r = c.execPrepared("session_get_many", kSessionManySql, {intArray(ids), s(recent_)});
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows();) out.push_back(sessionFrom(r, row));
    return out;
  });
}

std::optional<ChatSession> SessionRepository::loadFromDb(std::int64_t id) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("session_get", kSessionSql, {s(id), s(recent_)});
  if (r.rows() == 0) return std::nullopt;
  int row = 0;
  return sessionFrom(r, row);
}

std::optional<ChatSession> SessionRepository::loadForInspection(std::int64_t id) {
  return routedRead(reads_, pg_, [&](pg::Connection& c) -> std::optional<ChatSession> {
    auto r = c.execPrepared("session_get", kSessionSql, {s(id), s(recent_)});
    if (r.rows() == 0) return std::nullopt;
    int row = 0;
    return sessionFrom(r, row);
  });
}

Fetched<ChatSession> SessionRepository::get(std::int64_t id) {
  return cachedGet<ChatSession>(
      cache_, Op::SessionRetrieval, Namespace::Session, [&] { return codec::sessionKey(id); },
      [&] { return loadFromDb(id); });
}

ChatMessage SessionRepository::appendMessage(std::int64_t sessionId, const std::string& role,
                                             const std::string& content) {
  if (role != "user" && role != "assistant" && role != "system")
    throw BadInputError("message role must be user, assistant or system");
  if (content.size() > 256 * 1024) throw BadInputError("message larger than 256 KiB");
  metrics::ScopedTimer t(cache_.metrics(), Op::Write);
  auto c = pg_.acquire();
  ChatSession sess;
  ChatMessage msg;
  {
    pg::Transaction tx(*c);
    auto u = c->execPrepared("session_bump",
                             "UPDATE chat_sessions SET message_count = message_count + 1, last_active_at = now(), "
                             "version = version + 1 WHERE id = $1 AND status = 'active' RETURNING message_count",
                             {s(sessionId)});
    if (u.rows() == 0) {
      auto e = c->execPrepared("session_status", "SELECT status FROM chat_sessions WHERE id = $1", {s(sessionId)});
      if (e.rows() == 0) throw NotFoundError("chat session " + s(sessionId) + " does not exist");
      throw BadInputError("chat session " + s(sessionId) + " is " + std::string(e.value(0, 0)) + ", not active");
    }
    int seq = static_cast<int>(u.toInt(0, 0));
    auto m = c->execPrepared("message_insert",
                             "INSERT INTO chat_messages (session_id, seq, role, content) VALUES ($1, $2, $3, $4) "
                             "RETURNING id, " TIER_MS("created_at"),
                             {s(sessionId), s(seq), role, content});
    msg = ChatMessage{m.toInt(0, 0), sessionId, seq, role, content, m.toInt(0, 1)};
    auto r = c->execPrepared("session_get", kSessionSql, {s(sessionId), s(recent_)});
    int row = 0;
    sess = sessionFrom(r, row);
    tx.commit();
  }
  cache_.writeThrough(Namespace::Session, codec::sessionKey(sessionId), sess.toJson(), sess.version);
  if (cache_.metrics()) cache_.metrics()->count(metrics::Counter::Write);
  return msg;
}

ChatSession SessionRepository::create(std::int64_t userId, const std::string& title) {
  metrics::ScopedTimer t(cache_.metrics(), Op::Write);
  auto c = pg_.acquire();
  auto r = c->exec("INSERT INTO chat_sessions (user_id, title) VALUES ($1, $2) RETURNING id", {s(userId), title});
  auto id = r.toInt(0, 0);
  auto g = c->execPrepared("session_get", kSessionSql, {s(id), s(recent_)});
  int row = 0;
  ChatSession sess = sessionFrom(g, row);
  cache_.writeThrough(Namespace::Session, codec::sessionKey(id), sess.toJson(), sess.version);
  if (cache_.metrics()) cache_.metrics()->count(metrics::Counter::Write);
  return sess;
}

std::vector<SessionSummary> SessionRepository::listActive(int hours, int limit) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("session_active",
                           std::string("SELECT ") + kSummaryCols +
                               " FROM chat_sessions s JOIN users u ON u.id = s.user_id WHERE s.status = 'active' AND "
                               "s.last_active_at >= now() - make_interval(hours => $1::int) "
                               "ORDER BY s.last_active_at DESC LIMIT $2",
                           {s(std::max(hours, 0)), s(std::clamp(limit, 1, 100000))});
  std::vector<SessionSummary> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(summaryFrom(r, i));
  return out;
}

long long SessionRepository::expireIdle(int hours) {
  // In batches of 500 rows a transaction, each batch's copies dropped once it
  // is committed (the session sweeper, ops/session_sweeper.h, runs the same).
  constexpr int kBatch = 500;
  const std::int64_t idle = static_cast<std::int64_t>(std::max(hours, 0)) * 3600;
  auto c = pg_.acquire();
  long long total = 0;
  for (;;) {
    const auto ids = expiry::expireIdleBatch(*c, idle, kBatch);
    expiry::dropSessionCopies(cache_, ids);
    total += static_cast<long long>(ids.size());
    if (ids.size() < static_cast<std::size_t>(kBatch)) return total;
  }
}

std::vector<SessionSummary> SessionRepository::find(const std::string& query, int limit) {
  if (query.size() > 320) throw BadInputError("search text longer than 320 bytes");
  auto c = pg_.acquire();
  // Digits may be a session id or a user id, matched exactly; an email matches
  // exactly, or in part only for text with a letter or '@' (so "12" never lists
  // every user12…@ address). All of it travels as parameters.
  auto r = c->execPrepared(
      "session_find",
      std::string("SELECT ") + kSummaryCols +
          " FROM chat_sessions s JOIN users u ON u.id = s.user_id WHERE "
          "($1 ~ '^[0-9]{1,18}$' AND (s.id = ($1)::bigint OR s.user_id = ($1)::bigint)) "
          "OR lower(u.email) = lower($1) OR ($1 ~ '[[:alpha:]@]' AND u.email ILIKE $2) "
          "ORDER BY (s.id::text = $1) DESC, s.last_active_at DESC LIMIT $3",
      {query, likeLiteral(query), s(std::clamp(limit, 1, 100000))});
  std::vector<SessionSummary> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(summaryFrom(r, i));
  return out;
}

// ---- KnowledgeRepository -------------------------------------------------------

std::vector<KnowledgeArticle> KnowledgeRepository::loadManyFromDb(const std::vector<std::string>& slugs) {
  if (slugs.empty()) return {};
  return routedRead(reads_, pg_, [&](pg::Connection& c) {
    std::vector<KnowledgeArticle> out;
    auto r = c.execPrepared(
        "knowledge_get_many",
        std::string("SELECT ") + kKnowledgeCols + " FROM psychology_knowledge WHERE slug = ANY($1::text[])",
        {pgTextArray(slugs)});
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(articleFrom(r, i));
    return out;
  });
}

std::optional<KnowledgeArticle> KnowledgeRepository::loadFromDb(const std::string& slug) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("knowledge_get",
                           std::string("SELECT ") + kKnowledgeCols + " FROM psychology_knowledge WHERE slug = $1",
                           {slug});
  if (r.rows() == 0) return std::nullopt;
  return articleFrom(r, 0);
}

Fetched<KnowledgeArticle> KnowledgeRepository::get(const std::string& slug) {
  return cachedGet<KnowledgeArticle>(
      cache_, Op::KnowledgeLookup, Namespace::Knowledge,
      [&] { return codec::knowledgeKey(slug); },  // validates the slug
      [&] { return loadFromDb(slug); });
}

std::vector<KnowledgeArticle> KnowledgeRepository::listByTopic(const std::string& topic, int limit) {
  auto c = pg_.acquire();
  auto r = c->execPrepared("knowledge_topic",
                           std::string("SELECT ") + kKnowledgeCols +
                               " FROM psychology_knowledge WHERE topic = $1 ORDER BY slug LIMIT $2",
                           {topic, s(std::clamp(limit, 1, 10000))});
  std::vector<KnowledgeArticle> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(articleFrom(r, i));
  return out;
}

std::vector<std::string> KnowledgeRepository::allSlugs() {
  return routedRead(reads_, pg_, [&](pg::Connection& c) {
    auto r = c.exec("SELECT slug FROM psychology_knowledge ORDER BY slug");
    std::vector<std::string> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.value(i, 0));
    return out;
  });
}

// ---- AnalyticsRepository -------------------------------------------------------

const std::vector<int>& AnalyticsRepository::periods() {
  static const std::vector<int> p{7, 30, 90};
  return p;
}

std::optional<MoodStats> AnalyticsRepository::loadFromDb(std::int64_t userId, int days) {
  return routedRead(reads_, pg_, [&](pg::Connection& c) -> std::optional<MoodStats> {
    auto r = c.execPrepared("mood_stats",
                             "SELECT entries, coalesce(avg_mood, 0), coalesce(min_mood, 0), coalesce(max_mood, 0), "
                             "coalesce(" TIER_MS("first_at") ", 0), coalesce(" TIER_MS("last_at") ", 0), version "
                             "FROM mood_stats($1, $2)",
                             {s(userId), s(days)});
    if (r.rows() == 0) return std::nullopt;
    MoodStats m;
    m.user_id = userId;
    m.period_days = days;
    m.entries = r.toInt(0, 0);
    m.avg_mood = r.toDouble(0, 1);
    m.min_mood = static_cast<int>(r.toInt(0, 2));
    m.max_mood = static_cast<int>(r.toInt(0, 3));
    m.first_at = r.toInt(0, 4);
    m.last_at = r.toInt(0, 5);
    m.version = r.toInt(0, 6);
    return m;
  });
}

Fetched<MoodStats> AnalyticsRepository::moodStats(std::int64_t userId, int days) {
  if (std::find(periods().begin(), periods().end(), days) == periods().end())
    throw BadInputError("period must be 7, 30 or 90 days");
  return cachedGet<MoodStats>(
      cache_, Op::StatsRead, Namespace::Stats, [&] { return codec::statsKey(userId, std::to_string(days) + "d"); },
      [&] { return loadFromDb(userId, days); });
}

}  // namespace tier::repo
