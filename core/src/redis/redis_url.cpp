#include "tier/redis/redis_url.h"

#include "common/utf8.h"

#include <QString>
#include <QUrl>
#include <QUrlQuery>
#include <algorithm>
#include <charconv>
#include <initializer_list>

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
  // sentinel_password=...: redactSecrets() only masks a "password=" that starts a word.
  for (auto pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
    const auto v = pos + 9;
    const auto e = std::min(out.find('&', v), out.size());
    if (out.compare(v, e - v, "***") != 0) out.replace(v, e - v, "***");
  }
  return redactSecrets(out);
}

// Every message leaves through here: a belt-and-braces check that no form of
// the password survived in it.
[[noreturn]] void fail(std::string_view url, const std::string& reason, const std::string& password = {},
                       const std::string& password2 = {}) {
  std::string msg = "invalid Redis URL '" + quotable(url) + "': " + reason;
  // A percent-decoded parameter name may hold a newline: messages stay one line.
  for (char& c : msg)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  for (const std::string* p : {&password, &password2}) {
    if (p->empty()) continue;
    for (auto pos = msg.find(*p); pos != std::string::npos; pos = msg.find(*p, pos + 3))
      msg.replace(pos, p->size(), "***");
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

// Valid UTF-8 holding no code point that does not survive a decode/encode
// round trip through QUrl unchanged: no surrogates or overlong forms, no
// noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF) and no U+FFFD (what an
// invalid byte, raw or percent-encoded, decodes to). Such a URL would name a
// different socket path, user or password than the one typed: it is refused.
bool isCleanText(std::string_view s) {
  return detail::isStrictUtf8(s, [](char32_t cp) {
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE || cp == 0xFFFD;
  });
}

std::string percentEncode(const std::string& s, const QByteArray& keep = {}) {
  const QByteArray b = QUrl::toPercentEncoding(QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())), keep);
  return std::string(b.constData(), static_cast<std::size_t>(b.size()));
}

}  // namespace

namespace {

constexpr std::string_view kClusterScheme = "redis+cluster";
constexpr std::string_view kSentinelScheme = "redis+sentinel";

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Cluster / Sentinel URLs carry a comma-separated host list, which no URL
// parser accepts as an authority: the hosts are cut out here and each is
// parsed with QUrl on its own; the rest (userinfo, path, query) is parsed by
// QUrl on "redis://userinfo@<first host>/path?query".
struct Split {
  std::string single;  // the URL QUrl parses
  std::vector<std::string> hosts;
};

Split splitHosts(std::string_view url, std::string_view scheme) {
  const std::string_view rest = url.substr(scheme.size() + 3);
  const std::size_t authEnd = std::min(rest.find_first_of("/?#"), rest.size());
  const std::size_t at = rest.substr(0, authEnd).rfind('@');
  const std::size_t hostsBegin = at == std::string_view::npos ? 0 : at + 1;
  const std::string_view hostList = rest.substr(hostsBegin, authEnd - hostsBegin);
  Split out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = hostList.find(',', from);
    out.hosts.emplace_back(
        hostList.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  out.single =
      "redis://" + std::string(rest.substr(0, hostsBegin)) + out.hosts.front() + std::string(rest.substr(authEnd));
  return out;
}

}  // namespace

namespace {

RedisUrl parseUrl(std::string_view url) {
  if (url.find("://") == std::string_view::npos && !url.starts_with("unix:"))
    fail(url,
         "expected redis://host[:port][/db], redis+cluster://host:port[,host:port...], "
         "redis+sentinel://host:port[,host:port...]/master-name or unix:///path/to/socket");

  RedisMode mode = RedisMode::Single;
  Split split;
  const std::string schemeText = lowerAscii(url.substr(0, url.find("://")));
  if (schemeText == kClusterScheme || schemeText == kSentinelScheme) {
    mode = schemeText == kClusterScheme ? RedisMode::Cluster : RedisMode::Sentinel;
    split = splitHosts(url, schemeText);
  } else if (schemeText == "rediss+cluster" || schemeText == "rediss+sentinel") {
    throw BadInputError(std::string(kTlsRefused));
  }
  const bool multi = mode != RedisMode::Single;

  const QString text =
      multi ? QString::fromStdString(split.single) : QString::fromUtf8(url.data(), static_cast<qsizetype>(url.size()));
  const QUrl u(text, QUrl::StrictMode);
  const QString scheme = u.scheme().toLower();
  if (scheme == QLatin1String("rediss")) throw BadInputError(std::string(kTlsRefused));
  if (!u.isValid()) {
    // Qt's errorString() quotes the source (with the password): keep only its first clause.
    std::string reason = toStd(u.errorString());
    if (const auto cut = reason.find("; source was"); cut != std::string::npos) reason.resize(cut);
    const auto authorityAts = std::count(url.begin(), url.end(), '@');
    if (authorityAts > 1)
      reason += " (percent-encode '@' in a user or password as %40)";
    else if (url.find('#') != std::string_view::npos)
      reason += " (percent-encode '#' in a password as %23)";
    fail(url, reason);
  }
  if (scheme != QLatin1String("redis") && scheme != QLatin1String("unix"))
    fail(url, "unsupported scheme '" + toStd(u.scheme()) +
                  "' (use redis://, redis+cluster://, redis+sentinel:// or unix://)");
  if (u.hasFragment()) fail(url, "a fragment ('#...') is not allowed (percent-encode '#' in a password as %23)");

  RedisUrl r;
  r.mode = mode;
  r.username = toStd(u.userName(QUrl::FullyDecoded));
  r.password = toStd(u.password(QUrl::FullyDecoded));
  const bool unixUrl = scheme == QLatin1String("unix");

  std::optional<int> queryDb;
  if (u.hasQuery()) {
    const QUrlQuery q(u);
    QStringList seen;
    for (const auto& [rawKey, rawValue] : q.queryItems(QUrl::FullyDecoded)) {
      const std::string key = toStd(rawKey);
      if (seen.contains(rawKey)) fail(url, "parameter '" + key + "' is given twice", r.password, r.sentinel_password);
      seen << rawKey;
      const std::string value = toStd(rawValue);
      if (key == "connect_timeout_ms" || key == "command_timeout_ms") {
        const auto v = parseNonNegative(value);
        if (!v) fail(url, key + " must be a non-negative integer (milliseconds)", r.password, r.sentinel_password);
        (key == "connect_timeout_ms" ? r.connect_timeout_ms : r.command_timeout_ms) = *v;
      } else if (unixUrl && key == "db") {
        queryDb = parseNonNegative(value);
        if (!queryDb) fail(url, "db must be a non-negative integer", r.password, r.sentinel_password);
      } else if (unixUrl && key == "user") {
        r.username = value;
      } else if (unixUrl && key == "password") {
        r.password = value;
      } else if (mode == RedisMode::Cluster && key == "replica_reads") {
        if (value != "0" && value != "1") fail(url, "replica_reads must be 0 or 1", r.password, r.sentinel_password);
        r.replica_reads = value == "1";
      } else if (mode == RedisMode::Sentinel && key == "sentinel_password") {
        r.sentinel_password = value;
      } else if (mode == RedisMode::Sentinel && key == "sentinel_user") {
        r.sentinel_username = value;
      } else if (!unixUrl && (key == "db" || key == "user" || key == "password")) {
        fail(url, "parameter '" + key + "' is only for unix:// URLs (use redis://user:password@host:port/db)",
             r.password, r.sentinel_password);
      } else if (key == "replica_reads" || key == "sentinel_password" || key == "sentinel_user") {
        fail(url,
             "parameter '" + key + "' is only for " +
                 (key == "replica_reads" ? "redis+cluster://" : "redis+sentinel://") + " URLs",
             r.password, r.sentinel_password);
      } else {
        fail(url, "unknown parameter '" + key + "'", r.password, r.sentinel_password);
      }
    }
  }
  if (hasControl(r.username) || hasControl(r.sentinel_username))
    fail(url, "the user name contains control characters", r.password, r.sentinel_password);

  if (unixUrl) {
    if (!u.host().isEmpty() || u.port() != -1)
      fail(url, "a unix URL has no host or port: use unix:///absolute/path/to/redis.sock", r.password, r.sentinel_password);
    r.unix_path = toStd(u.path(QUrl::FullyDecoded));
    if (r.unix_path.empty() || r.unix_path.front() != '/')
      fail(url, "a unix URL needs an absolute socket path: unix:///absolute/path/to/redis.sock", r.password, r.sentinel_password);
    r.host.clear();
    r.port = 0;
    r.db = queryDb.value_or(0);
    return r;
  }

  const std::string path = toStd(u.path(QUrl::FullyEncoded));
  auto parseDb = [&](std::string_view digits) {
    const auto db = parseNonNegative(digits);
    if (!db) fail(url, "the database must be a number (/0, /1, ...)", r.password, r.sentinel_password);
    return *db;
  };

  if (multi) {
    const int defaultPort = mode == RedisMode::Cluster ? 6379 : 26379;
    const char* what = mode == RedisMode::Cluster ? "seed node" : "sentinel";
    for (const auto& h : split.hosts) {
      if (h.empty())
        fail(url, std::string("an empty ") + what + " address in the host list", r.password, r.sentinel_password);
      if (h.find_first_of("@/?#") != std::string::npos)
        fail(url, std::string("invalid ") + what + " address (percent-encode '@', '/', '?', '#' in a password)",
             r.password, r.sentinel_password);
      const QUrl hu(QStringLiteral("redis://") + QString::fromStdString(h), QUrl::StrictMode);
      if (!hu.isValid() || hu.host().isEmpty())
        fail(url, std::string("invalid ") + what + " address '" + h + "'", r.password, r.sentinel_password);
      if (hu.port() == 0) fail(url, "port must be in 1..65535", r.password, r.sentinel_password);
      HostPort hp{toStd(hu.host(QUrl::FullyDecoded)), hu.port(defaultPort)};
      if (std::find(r.seeds.begin(), r.seeds.end(), hp) == r.seeds.end()) r.seeds.push_back(std::move(hp));
    }
    r.host = r.seeds.front().host;
    r.port = r.seeds.front().port;
    if (mode == RedisMode::Cluster) {
      if (!path.empty() && path != "/" && path != "/0")
        fail(url, "a Redis Cluster has only database 0: drop the path", r.password, r.sentinel_password);
      r.db = 0;
      return r;
    }
    // Sentinel: /master-name[/db]
    std::string_view p(path);
    if (p.starts_with('/')) p.remove_prefix(1);
    const auto slash = p.find('/');
    const std::string_view nameEnc = p.substr(0, slash);
    if (nameEnc.empty())
      fail(url, "a Sentinel URL needs the master name: redis+sentinel://host:port[,host:port...]/master-name[/db]",
           r.password, r.sentinel_password);
    r.master_name =
        toStd(QUrl::fromPercentEncoding(QByteArray(nameEnc.data(), static_cast<qsizetype>(nameEnc.size()))));
    if (hasControl(r.master_name) || r.master_name.find_first_of(" \t") != std::string::npos)
      fail(url, "the master name contains spaces or control characters", r.password, r.sentinel_password);
    r.db = 0;
    if (slash != std::string_view::npos) {
      std::string_view db = p.substr(slash + 1);
      if (db.ends_with('/')) db.remove_suffix(1);
      if (!db.empty()) r.db = parseDb(db);
    }
    return r;
  }

  r.host = toStd(u.host(QUrl::FullyDecoded));
  if (r.host.empty()) fail(url, "missing host (redis://host[:port][/db])", r.password, r.sentinel_password);
  if (u.port() == 0) fail(url, "port must be in 1..65535", r.password, r.sentinel_password);
  r.port = u.port(6379);
  if (path.empty() || path == "/") {
    r.db = 0;
  } else {
    const auto db = parseNonNegative(std::string_view(path).substr(1));
    if (!db) fail(url, "the path must be a database number (/0, /1, ...)", r.password, r.sentinel_password);
    r.db = *db;
  }
  return r;
}

}  // namespace

RedisUrl RedisUrl::parse(std::string_view url) {
  if (url.empty()) throw BadInputError("Redis URL is empty");
  if (hasControl(url)) throw BadInputError("invalid Redis URL: it contains control characters");
  if (!isCleanText(url)) throw BadInputError("invalid Redis URL: it is not valid UTF-8 text");
  RedisUrl r = parseUrl(url);
  for (const std::string* part : {&r.host, &r.unix_path, &r.username, &r.password, &r.sentinel_username,
                                  &r.sentinel_password, &r.master_name})
    if (!isCleanText(*part))
      fail(url, "a percent-encoded part is not valid UTF-8 text", r.password, r.sentinel_password);
  return r;
}


const char* toString(RedisMode m) noexcept {
  switch (m) {
    case RedisMode::Single: return "single";
    case RedisMode::Cluster: return "cluster";
    case RedisMode::Sentinel: return "sentinel";
  }
  return "?";
}

std::string HostPort::endpoint() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
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
    out = mode == RedisMode::Cluster    ? "redis+cluster://"
          : mode == RedisMode::Sentinel ? "redis+sentinel://"
                                        : "redis://";
    if (!username.empty() || !password.empty()) {
      out += percentEncode(username);
      if (!password.empty()) out += ":***";
      out += '@';
    }
    out += endpoint();
    if (mode == RedisMode::Cluster) {
      if (replica_reads) addParam("replica_reads=1");
    } else if (mode == RedisMode::Sentinel) {
      out += "/" + percentEncode(master_name) + "/" + std::to_string(db);
      if (!sentinel_username.empty()) addParam("sentinel_user=" + percentEncode(sentinel_username));
      if (!sentinel_password.empty()) addParam("sentinel_password=***");
    } else {
      out += "/" + std::to_string(db);
    }
  }
  if (connect_timeout_ms) addParam("connect_timeout_ms=" + std::to_string(*connect_timeout_ms));
  if (command_timeout_ms) addParam("command_timeout_ms=" + std::to_string(*command_timeout_ms));
  return out + query;
}

std::string RedisUrl::endpoint() const {
  if (isUnix()) return unix_path;
  if (mode != RedisMode::Single && !seeds.empty()) {
    std::string out;
    for (const auto& s : seeds) out += (out.empty() ? "" : ",") + s.endpoint();
    return out;
  }
  return HostPort{host, port}.endpoint();
}

RedisUrl RedisUrl::forNode(const HostPort& node) const {
  RedisUrl r;
  r.host = node.host;
  r.port = node.port;
  r.db = db;
  r.username = username;
  r.password = password;
  r.connect_timeout_ms = connect_timeout_ms;
  r.command_timeout_ms = command_timeout_ms;
  return r;
}

}  // namespace tier::redis
