#include "tier/repo/models.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace tier::repo {
namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::string ss(const QJsonValue& v) { return v.toString().toStdString(); }

std::optional<QJsonObject> parseObject(std::string_view json) {
  QJsonParseError err{};
  auto doc = QJsonDocument::fromJson(QByteArray::fromRawData(json.data(), static_cast<qsizetype>(json.size())), &err);
  if (err.error != QJsonParseError::NoError || !doc.isObject()) return std::nullopt;
  return doc.object();
}

std::string dump(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString(); }

// Required-field readers: each returns false if the key is missing or mistyped.
bool num(const QJsonObject& o, const char* k, std::int64_t& out) {
  auto v = o.value(QLatin1String(k));
  if (!v.isDouble()) return false;
  out = static_cast<std::int64_t>(v.toDouble());
  return true;
}
bool num(const QJsonObject& o, const char* k, int& out) {
  std::int64_t t = 0;
  if (!num(o, k, t)) return false;
  out = static_cast<int>(t);
  return true;
}
bool dbl(const QJsonObject& o, const char* k, double& out) {
  auto v = o.value(QLatin1String(k));
  if (!v.isDouble()) return false;
  out = v.toDouble();
  return true;
}
bool str(const QJsonObject& o, const char* k, std::string& out) {
  auto v = o.value(QLatin1String(k));
  if (!v.isString()) return false;
  out = ss(v);
  return true;
}

}  // namespace

std::string User::toJson() const {
  return dump(QJsonObject{{QLatin1String("id"), double(id)},
                          {QLatin1String("email"), qs(email)},
                          {QLatin1String("display_name"), qs(display_name)},
                          {QLatin1String("timezone"), qs(timezone)},
                          {QLatin1String("created_at"), double(created_at)},
                          {QLatin1String("updated_at"), double(updated_at)},
                          {QLatin1String("version"), double(version)}});
}
std::optional<User> User::fromJson(std::string_view json) {
  auto o = parseObject(json);
  if (!o) return std::nullopt;
  User u;
  if (!num(*o, "id", u.id) || !str(*o, "email", u.email) || !str(*o, "display_name", u.display_name) ||
      !str(*o, "timezone", u.timezone) || !num(*o, "created_at", u.created_at) ||
      !num(*o, "updated_at", u.updated_at) || !num(*o, "version", u.version))
    return std::nullopt;
  return u;
}

std::string JournalEntry::toJson() const {
  QJsonArray t;
  for (const auto& tag : tags) t.append(qs(tag));
  return dump(QJsonObject{{QLatin1String("id"), double(id)},
                          {QLatin1String("user_id"), double(user_id)},
                          {QLatin1String("title"), qs(title)},
                          {QLatin1String("content"), qs(content)},
                          {QLatin1String("mood_score"), mood_score},
                          {QLatin1String("tags"), t},
                          {QLatin1String("created_at"), double(created_at)},
                          {QLatin1String("updated_at"), double(updated_at)},
                          {QLatin1String("version"), double(version)}});
}
std::optional<JournalEntry> JournalEntry::fromJson(std::string_view json) {
  auto o = parseObject(json);
  if (!o) return std::nullopt;
  JournalEntry e;
  if (!num(*o, "id", e.id) || !num(*o, "user_id", e.user_id) || !str(*o, "title", e.title) ||
      !str(*o, "content", e.content) || !num(*o, "mood_score", e.mood_score) ||
      !num(*o, "created_at", e.created_at) || !num(*o, "updated_at", e.updated_at) || !num(*o, "version", e.version))
    return std::nullopt;
  auto tags = o->value(QLatin1String("tags"));
  if (!tags.isArray()) return std::nullopt;
  for (const auto& t : tags.toArray()) {
    if (!t.isString()) return std::nullopt;
    e.tags.push_back(ss(t));
  }
  return e;
}

std::string ChatSession::toJson() const {
  QJsonArray msgs;
  for (const auto& m : messages)
    msgs.append(QJsonObject{{QLatin1String("id"), double(m.id)},
                            {QLatin1String("seq"), m.seq},
                            {QLatin1String("role"), qs(m.role)},
                            {QLatin1String("content"), qs(m.content)},
                            {QLatin1String("created_at"), double(m.created_at)}});
  return dump(QJsonObject{{QLatin1String("id"), double(id)},
                          {QLatin1String("user_id"), double(user_id)},
                          {QLatin1String("title"), qs(title)},
                          {QLatin1String("status"), qs(status)},
                          {QLatin1String("message_count"), message_count},
                          {QLatin1String("created_at"), double(created_at)},
                          {QLatin1String("last_active_at"), double(last_active_at)},
                          {QLatin1String("version"), double(version)},
                          {QLatin1String("messages"), msgs}});
}
std::optional<ChatSession> ChatSession::fromJson(std::string_view json) {
  auto o = parseObject(json);
  if (!o) return std::nullopt;
  ChatSession s;
  if (!num(*o, "id", s.id) || !num(*o, "user_id", s.user_id) || !str(*o, "title", s.title) ||
      !str(*o, "status", s.status) || !num(*o, "message_count", s.message_count) ||
      !num(*o, "created_at", s.created_at) || !num(*o, "last_active_at", s.last_active_at) ||
      !num(*o, "version", s.version))
    return std::nullopt;
  auto msgs = o->value(QLatin1String("messages"));
  if (!msgs.isArray()) return std::nullopt;
  for (const auto& v : msgs.toArray()) {
    if (!v.isObject()) return std::nullopt;
    auto mo = v.toObject();
    ChatMessage m;
    m.session_id = s.id;
    if (!num(mo, "id", m.id) || !num(mo, "seq", m.seq) || !str(mo, "role", m.role) ||
        !str(mo, "content", m.content) || !num(mo, "created_at", m.created_at))
      return std::nullopt;
    s.messages.push_back(std::move(m));
  }
  return s;
}

std::string KnowledgeArticle::toJson() const {
  return dump(QJsonObject{{QLatin1String("id"), double(id)},
                          {QLatin1String("slug"), qs(slug)},
                          {QLatin1String("topic"), qs(topic)},
                          {QLatin1String("title"), qs(title)},
                          {QLatin1String("body"), qs(body)},
                          {QLatin1String("updated_at"), double(updated_at)},
                          {QLatin1String("version"), double(version)}});
}
std::optional<KnowledgeArticle> KnowledgeArticle::fromJson(std::string_view json) {
  auto o = parseObject(json);
  if (!o) return std::nullopt;
  KnowledgeArticle a;
  if (!num(*o, "id", a.id) || !str(*o, "slug", a.slug) || !str(*o, "topic", a.topic) ||
      !str(*o, "title", a.title) || !str(*o, "body", a.body) || !num(*o, "updated_at", a.updated_at) ||
      !num(*o, "version", a.version))
    return std::nullopt;
  return a;
}

std::string MoodStats::toJson() const {
  return dump(QJsonObject{{QLatin1String("user_id"), double(user_id)},
                          {QLatin1String("period_days"), period_days},
                          {QLatin1String("entries"), double(entries)},
                          {QLatin1String("avg_mood"), avg_mood},
                          {QLatin1String("min_mood"), min_mood},
                          {QLatin1String("max_mood"), max_mood},
                          {QLatin1String("first_at"), double(first_at)},
                          {QLatin1String("last_at"), double(last_at)},
                          {QLatin1String("version"), double(version)}});
}
std::optional<MoodStats> MoodStats::fromJson(std::string_view json) {
  auto o = parseObject(json);
  if (!o) return std::nullopt;
  MoodStats m;
  if (!num(*o, "user_id", m.user_id) || !num(*o, "period_days", m.period_days) || !num(*o, "entries", m.entries) ||
      !dbl(*o, "avg_mood", m.avg_mood) || !num(*o, "min_mood", m.min_mood) || !num(*o, "max_mood", m.max_mood) ||
      !num(*o, "first_at", m.first_at) || !num(*o, "last_at", m.last_at) || !num(*o, "version", m.version))
    return std::nullopt;
  return m;
}

std::vector<std::string> diffJsonFields(std::string_view a, std::string_view b) {
  auto oa = parseObject(a);
  auto ob = parseObject(b);
  std::vector<std::string> out;
  if (!oa || !ob) {
    out.emplace_back("<unreadable>");
    return out;
  }
  QStringList keys = oa->keys() + ob->keys();
  keys.removeDuplicates();
  keys.sort();
  for (const auto& k : keys)
    if (oa->value(k) != ob->value(k)) out.push_back(k.toStdString());
  return out;
}

}  // namespace tier::repo
