#include "tier/common/error.h"

#include <algorithm>
#include <string_view>

#include "tier/common/clock.h"

namespace tier {

const char* toString(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::BadInput: return "bad input";
    case ErrorKind::Connection: return "connection";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Permission: return "permission denied";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Data: return "data";
    case ErrorKind::Internal: return "internal";
  }
  return "unknown";
}

int exitCodeFor(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::BadInput: return kExitUsage;
    case ErrorKind::Connection:
    case ErrorKind::Timeout: return kExitConnect;
    case ErrorKind::Permission: return kExitPermission;
    case ErrorKind::NotFound: return kExitNotFound;
    case ErrorKind::Data:
    case ErrorKind::Internal: return kExitFailure;
  }
  return kExitFailure;
}

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isAlnum(char c) { return isAlpha(c) || (c >= '0' && c <= '9'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// One letter of a keyword at t[i], plain or percent-encoded (libpq decodes URI
// query keywords: "pass%77ord=" is "password="). Returns its length or 0.
std::size_t letterAt(const std::string& t, std::size_t i, char want) {
  if (i < t.size() && lower(t[i]) == want) return 1;
  if (i + 2 < t.size() && t[i] == '%' && hexValue(t[i + 1]) >= 0 && hexValue(t[i + 2]) >= 0 &&
      lower(static_cast<char>(hexValue(t[i + 1]) * 16 + hexValue(t[i + 2]))) == want)
    return 3;
  return 0;
}

// If a secret keyword followed by '=' starts at i, the offset just past the '='.
std::size_t keywordEnd(const std::string& t, std::size_t i) {
  static constexpr std::string_view kWords[] = {"password", "passwd", "requirepass", "pass"};
  for (std::string_view w : kWords) {
    std::size_t j = i;
    bool ok = true;
    for (char c : w) {
      const std::size_t n = letterAt(t, j, c);
      if (n == 0) {
        ok = false;
        break;
      }
      j += n;
    }
    if (!ok) continue;
    while (j < t.size() && isSpace(t[j])) ++j;
    if (j < t.size() && t[j] == '=') return j + 1;
  }
  return 0;
}

// scheme://user:secret@host: if a URL with a password starts at t[i] (the
// scheme's first letter), the [begin, end) of the password.
bool urlPassword(const std::string& t, std::size_t i, std::size_t& begin, std::size_t& end) {
  std::size_t j = i;
  while (j < t.size() && (isAlnum(t[j]) || t[j] == '+' || t[j] == '.' || t[j] == '-')) ++j;
  if (t.compare(j, 3, "://") != 0) return false;
  std::string scheme = t.substr(i, j - i);
  for (char& c : scheme) c = lower(c);
  // libpq reads a postgresql:// userinfo up to the first '@' or '/', spaces included.
  const bool libpq = scheme == "postgresql" || scheme == "postgres";
  std::size_t k = j + 3;
  while (k < t.size() && t[k] != ':' && t[k] != '/' && t[k] != '@' && (libpq || !isSpace(t[k]))) ++k;
  if (k >= t.size() || t[k] != ':') return false;
  begin = k + 1;
  if (libpq) {
    const std::size_t stop = t.find_first_of("/@", begin);
    if (stop == std::string::npos || t[stop] != '@') return false;
    end = stop;
    return true;
  }
  // Others: up to the last '@' before whitespace, so a raw '@' in a password is covered.
  std::size_t stop = begin;
  while (stop < t.size() && !isSpace(t[stop])) ++stop;
  const std::size_t at = t.rfind('@', stop == 0 ? 0 : stop - 1);
  if (at == std::string::npos || at < begin) return false;
  end = at;
  return true;
}

// The end of a conninfo value starting at i: a quoted value to its closing quote
// (backslash escapes), a bare one to whitespace (backslash escapes too), a URI
// query value (after '?'/'&') to '&' or a line break: libpq reads blanks
// there as part of the value, so "?password=se cret" must lose all of it (the
// rest of that line goes too: better too much hidden than half a password).
std::size_t valueEnd(const std::string& t, std::size_t i, bool query) {
  std::size_t j = i;
  if (!query && j < t.size() && t[j] == '\'') {
    for (++j; j < t.size(); ++j) {
      if (t[j] == '\\') ++j;
      else if (t[j] == '\'') return j + 1;
    }
    return t.size();
  }
  if (query) {
    while (j < t.size() && t[j] != '&' && t[j] != '\n' && t[j] != '\r') ++j;
    return j;
  }
  while (j < t.size() && !isSpace(t[j])) j += t[j] == '\\' ? 2 : 1;
  return std::min(j, t.size());
}

}  // namespace

std::string redactSecrets(const std::string& text) {
  // One pass, no regex: hostile input costs linear-ish time and cannot blow a stack.
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char prev = i == 0 ? ' ' : text[i - 1];
    const bool boundary = !isAlnum(prev) && prev != '_' && prev != '%';
    std::size_t begin = 0, end = 0;
    if (boundary && isAlpha(text[i]) && urlPassword(text, i, begin, end)) {
      out.append(text, i, begin - i).append("***");
      i = end;  // continue at the '@'
      continue;
    }
    if (boundary) {
      if (const std::size_t eq = keywordEnd(text, i)) {
        // libpq skips blanks before a conninfo value; a URI query value starts
        // right after '=' and its blanks belong to it.
        const bool query = prev == '?' || prev == '&';
        std::size_t v = eq;
        while (!query && v < text.size() && isSpace(text[v])) ++v;
        out.append(text, i, v - i).append("***");
        i = valueEnd(text, v, query);
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

namespace {

bool equalsNoCase(const std::string& a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// "scheme://user:pa" with no '@' after it: a URL whose password SLOWLOG cut
// off before the '@' that redactSecrets needs. Everything from the ':' goes.
std::string maskCutUrl(std::string arg) {
  const std::size_t sep = arg.find("://");
  if (sep == std::string::npos) return arg;
  const std::size_t colon = arg.find(':', sep + 3);
  if (colon == std::string::npos || arg.find('@', colon) != std::string::npos) return arg;
  const std::size_t slash = arg.find('/', sep + 3);
  if (slash != std::string::npos && slash < colon) return arg;  // a port after the host, or a path
  // host:port has only digits after the ':'; user:pass does not.
  std::size_t j = colon + 1;
  while (j < arg.size() && arg[j] >= '0' && arg[j] <= '9') ++j;
  if (j > colon + 1 && (j == arg.size() || arg[j] == '/')) return arg;
  return arg.substr(0, colon + 1) + "***";
}

}  // namespace

std::vector<std::string> redactCommand(std::vector<std::string> argv) {
  const std::string kMask = "***";
  auto mask = [&](std::size_t i) {
    if (i < argv.size()) argv[i] = kMask;
  };
  const std::size_t n = argv.size();
  if (n > 0) {
    const std::string& cmd = argv[0];
    if (equalsNoCase(cmd, "AUTH")) {
      // AUTH password | AUTH username password
      if (n == 2) mask(1);
      for (std::size_t i = 2; i < n; ++i) mask(i);
    } else if (equalsNoCase(cmd, "HELLO")) {
      for (std::size_t i = 1; i < n; ++i)
        if (equalsNoCase(argv[i], "AUTH")) {
          mask(i + 2);
          i += 2;
        }
    } else if (equalsNoCase(cmd, "ACL") && n > 1 && equalsNoCase(argv[1], "SETUSER")) {
      for (std::size_t i = 3; i < n; ++i) {
        const char c = argv[i].empty() ? '\0' : argv[i][0];
        if (c == '>' || c == '<' || c == '#' || c == '!') argv[i] = std::string(1, c) + kMask;
      }
    } else if (equalsNoCase(cmd, "CONFIG") && n > 1 && equalsNoCase(argv[1], "SET")) {
      for (std::size_t i = 2; i + 1 < n; i += 2) {
        const std::string& p = argv[i];
        if (equalsNoCase(p, "requirepass") || equalsNoCase(p, "masterauth") ||
            equalsNoCase(p, "tls-key-file-pass") || equalsNoCase(p, "tls-client-key-file-pass"))
          mask(i + 1);
      }
    } else if (equalsNoCase(cmd, "MIGRATE")) {
      for (std::size_t i = 6; i < n; ++i) {
        if (equalsNoCase(argv[i], "KEYS")) break;
        if (equalsNoCase(argv[i], "AUTH")) {
          mask(i + 1);
          ++i;
        } else if (equalsNoCase(argv[i], "AUTH2")) {
          mask(i + 2);
          i += 2;
        }
      }
    } else if (equalsNoCase(cmd, "SENTINEL") && n > 3 && equalsNoCase(argv[1], "SET")) {
      // SENTINEL SET master auth-pass pw
      for (std::size_t i = 3; i + 1 < n; i += 2)
        if (equalsNoCase(argv[i], "auth-pass")) mask(i + 1);
    }
  }
  for (auto& a : argv)
    if (a != kMask) a = maskCutUrl(redactSecrets(a));
  return argv;
}

std::int64_t unixMillisNow() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tier
