#include "tier/redis/redis_url.h"

#include <QString>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>
#include <charconv>

#include "tier/common/error.h"

namespace tier::redis {
namespace {

constexpr std::string_view kTlsRefused =
    "rediss:// (TLS) is not supported: Debian 12's hiredis 0.14 has no TLS; use a local unix socket or an "
    "SSH/stunnel tunnel";

std::string toStd(const QString& s) {
  const QByteArray b = s.toUtf8();
  return std::string(b.constData(), static_cast<std::size_t>(b.size()));
}

// The input as it may be quoted in an error: the userinfo password and any
// password=... query value replaced by ***. The last '@' is taken as the end of
// the userinfo so that an unencoded '@', '/' or '#' in a password is still hidden.
std::string quotable(std::string_view url) {
  std::string out(url);
  const auto schemeEnd = out.find("://");
  const auto at = out.rfind('@');
  if (at != std::string::npos) {
    if (schemeEnd == std::string::npos || schemeEnd > at) return "<url hidden: it may contain a password>";
    const auto colon = out.find(':', schemeEnd + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  return redactSecrets(out);
}

// Every message leaves through here: a belt-and-braces check that no form of
// the password survived in it.
[[noreturn]] void fail(std::string_view url, const std::string& reason, const std::string& password = {}) {
  std::string msg = "invalid Redis URL '" + quotable(url) + "': " + reason;
  // A percent-decoded parameter name may hold a newline: messages stay one line.
  for (char& c : msg)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (!password.empty()) {
    for (auto pos = msg.find(password); pos != std::string::npos; pos = msg.find(password, pos + 3))
      msg.replace(pos, password.size(), "***");
  }
  throw BadInputError(msg);
}

std::optional<int> parseNonNegative(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

bool hasControl(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

std::string percentEncode(const std::string& s, const QByteArray& keep = {}) {
  const QByteArray b = QUrl::toPercentEncoding(QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())), keep);
  return std::string(b.constData(), static_cast<std::size_t>(b.size()));
}

}  // namespace

RedisUrl RedisUrl::parse(std::string_view url) {
  if (url.empty()) throw BadInputError("Redis URL is empty");
  if (hasControl(url)) throw BadInputError("invalid Redis URL: it contains control characters");
  if (url.find("://") == std::string_view::npos && !url.starts_with("unix:"))
    fail(url, "expected redis://host[:port][/db] or unix:///path/to/socket");

  const QString text = QString::fromUtf8(url.data(), static_cast<qsizetype>(url.size()));
  const QUrl u(text, QUrl::StrictMode);
  const QString scheme = u.scheme().toLower();
  if (scheme == QLatin1String("rediss")) throw BadInputError(std::string(kTlsRefused));
  if (!u.isValid()) {
    // Qt's errorString() quotes the source (with the password): keep only its first clause.
    std::string reason = toStd(u.errorString());
    if (const auto cut = reason.find("; source was"); cut != std::string::npos) reason.resize(cut);
    const auto authorityAts = std::count(url.begin(), url.end(), '@');
    if (authorityAts > 1) reason += " (percent-encode '@' in a user or password as %40)";
    else if (url.find('#') != std::string_view::npos) reason += " (percent-encode '#' in a password as %23)";
    fail(url, reason);
  }
  if (scheme != QLatin1String("redis") && scheme != QLatin1String("unix"))
    fail(url, "unsupported scheme '" + toStd(u.scheme()) + "' (use redis:// or unix://)");
  if (u.hasFragment()) fail(url, "a fragment ('#...') is not allowed (percent-encode '#' in a password as %23)");

  RedisUrl r;
  r.username = toStd(u.userName(QUrl::FullyDecoded));
  r.password = toStd(u.password(QUrl::FullyDecoded));
  const bool unixUrl = scheme == QLatin1String("unix");

  std::optional<int> queryDb;
  if (u.hasQuery()) {
    const QUrlQuery q(u);
    QStringList seen;
    for (const auto& [rawKey, rawValue] : q.queryItems(QUrl::FullyDecoded)) {
      const std::string key = toStd(rawKey);
      if (seen.contains(rawKey)) fail(url, "parameter '" + key + "' is given twice", r.password);
      seen << rawKey;
      const std::string value = toStd(rawValue);
      if (key == "connect_timeout_ms" || key == "command_timeout_ms") {
        const auto v = parseNonNegative(value);
        if (!v) fail(url, key + " must be a non-negative integer (milliseconds)", r.password);
        (key == "connect_timeout_ms" ? r.connect_timeout_ms : r.command_timeout_ms) = *v;
      } else if (unixUrl && key == "db") {
        queryDb = parseNonNegative(value);
        if (!queryDb) fail(url, "db must be a non-negative integer", r.password);
      } else if (unixUrl && key == "user") {
        r.username = value;
      } else if (unixUrl && key == "password") {
        r.password = value;
      } else if (!unixUrl && (key == "db" || key == "user" || key == "password")) {
        fail(url, "parameter '" + key + "' is only for unix:// URLs (use redis://user:password@host:port/db)",
             r.password);
      } else {
        fail(url, "unknown parameter '" + key + "'", r.password);
      }
    }
  }
  if (hasControl(r.username)) fail(url, "the user name contains control characters", r.password);

  if (unixUrl) {
    if (!u.host().isEmpty() || u.port() != -1)
      fail(url, "a unix URL has no host or port: use unix:///absolute/path/to/redis.sock", r.password);
    r.unix_path = toStd(u.path(QUrl::FullyDecoded));
    if (r.unix_path.empty() || r.unix_path.front() != '/')
      fail(url, "a unix URL needs an absolute socket path: unix:///absolute/path/to/redis.sock", r.password);
    r.host.clear();
    r.port = 0;
    r.db = queryDb.value_or(0);
    return r;
  }

  r.host = toStd(u.host(QUrl::FullyDecoded));
  if (r.host.empty()) fail(url, "missing host (redis://host[:port][/db])", r.password);
  if (u.port() == 0) fail(url, "port must be in 1..65535", r.password);
  r.port = u.port(6379);
  const std::string path = toStd(u.path(QUrl::FullyEncoded));
  if (path.empty() || path == "/") {
    r.db = 0;
  } else {
    const auto db = parseNonNegative(std::string_view(path).substr(1));
    if (!db) fail(url, "the path must be a database number (/0, /1, ...)", r.password);
    r.db = *db;
  }
  return r;
}

std::string RedisUrl::redacted() const {
  std::string out;
  std::string query;
  auto addParam = [&query](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
  if (isUnix()) {
    out = "unix://" + percentEncode(unix_path, "/");  // a '#' or '?' in the path must not end it
    if (db != 0) addParam("db=" + std::to_string(db));
    if (!username.empty()) addParam("user=" + percentEncode(username));
    if (!password.empty()) addParam("password=***");
  } else {
    out = "redis://";
    if (!username.empty() || !password.empty()) {
      out += percentEncode(username);
      if (!password.empty()) out += ":***";
      out += '@';
    }
    out += endpoint() + "/" + std::to_string(db);
  }
  if (connect_timeout_ms) addParam("connect_timeout_ms=" + std::to_string(*connect_timeout_ms));
  if (command_timeout_ms) addParam("command_timeout_ms=" + std::to_string(*command_timeout_ms));
  return out + query;
}

std::string RedisUrl::endpoint() const {
  if (isUnix()) return unix_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace tier::redis
