#include "tier/codec/keys.h"

#include <array>
#include <charconv>

#include "tier/common/error.h"

namespace tier::codec {
namespace {

constexpr std::array<std::pair<Namespace, std::string_view>, 6> kNames{{
    {Namespace::Entry, "entry"},
    {Namespace::Session, "session"},
    {Namespace::User, "user"},
    {Namespace::Stats, "stats"},
    {Namespace::Knowledge, "knowledge"},
    {Namespace::Search, "search"},
}};

std::string withId(Namespace ns, std::string_view id) {
  std::string k;
  k.reserve(16 + id.size());
  k.append(toString(ns)).append(":v").append(std::to_string(kKeySchemaVersion)).append(":").append(id);
  return k;
}

// True if `s` is well-formed UTF-8 with no control characters.
bool isCleanUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    int len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = c & (0xff >> (len + 1));
    for (int j = 1; j < len; ++j) {
      auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and out-of-range code points are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

}  // namespace

const char* toString(Namespace ns) noexcept {
  for (const auto& [n, name] : kNames)
    if (n == ns) return name.data();
  return "?";
}

std::optional<Namespace> parseNamespace(std::string_view name) {
  for (const auto& [n, s] : kNames)
    if (s == name) return n;
  return std::nullopt;
}

const std::vector<Namespace>& allNamespaces() {
  static const std::vector<Namespace> all{Namespace::Entry, Namespace::Session, Namespace::User, Namespace::Stats,
                                          Namespace::Knowledge, Namespace::Search};
  return all;
}

std::string entryKey(std::int64_t id) { return withId(Namespace::Entry, std::to_string(id)); }
std::string sessionKey(std::int64_t id) { return withId(Namespace::Session, std::to_string(id)); }
std::string userKey(std::int64_t id) { return withId(Namespace::User, std::to_string(id)); }
std::string statsKey(std::int64_t userId, std::string_view period) {
  std::string id = std::to_string(userId);
  id.append(":").append(period);
  return withId(Namespace::Stats, id);
}
std::string knowledgeKey(std::string_view slug) {
  if (!isValidSlug(slug)) throw BadInputError("invalid knowledge slug (expected 1-128 of [a-z0-9-])");
  return withId(Namespace::Knowledge, slug);
}
std::string searchKey(std::int64_t userId, std::string_view generation, std::string_view queryHash) {
  std::string id = userId == 0 ? std::string("all") : std::to_string(userId);
  id.append(":").append(generation).append(":").append(queryHash);
  return withId(Namespace::Search, id);
}
std::string namespaceGenerationKey(Namespace ns) { return std::string("tc:nsgen:") + toString(ns); }
std::string searchGenerationKey(std::int64_t userId) {
  return "tc:searchgen:" + (userId == 0 ? std::string("all") : std::to_string(userId));
}

bool isValidSlug(std::string_view slug) {
  if (slug.empty() || slug.size() > 128) return false;
  for (char c : slug)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

std::optional<ParsedKey> parseKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes || !isCleanUtf8(key)) return std::nullopt;
  auto c1 = key.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  auto ns = parseNamespace(key.substr(0, c1));
  if (!ns) return std::nullopt;
  auto rest = key.substr(c1 + 1);
  if (rest.size() < 3 || rest[0] != 'v') return std::nullopt;
  auto c2 = rest.find(':');
  if (c2 == std::string_view::npos || c2 < 2) return std::nullopt;
  int schema = 0;
  auto [p, ec] = std::from_chars(rest.data() + 1, rest.data() + c2, schema);
  if (ec != std::errc() || p != rest.data() + c2 || schema <= 0) return std::nullopt;
  auto id = rest.substr(c2 + 1);
  if (id.empty()) return std::nullopt;
  return ParsedKey{*ns, schema, std::string(id)};
}

void validatePattern(std::string_view pattern, bool allowAnyNamespace) {
  if (pattern.empty()) throw BadInputError("empty pattern");
  if (pattern.size() > kMaxKeyBytes)
    throw BadInputError("pattern too long (" + std::to_string(pattern.size()) + " bytes; limit " +
                        std::to_string(kMaxKeyBytes) + ")");
  if (!isCleanUtf8(pattern)) throw BadInputError("pattern contains control characters or invalid UTF-8");
  // Brackets must balance (an unterminated class makes Redis match literally, which surprises).
  bool inClass = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size()) throw BadInputError("pattern ends with a lone backslash");
      ++i;
    } else if (c == '[' && !inClass) {
      inClass = true;
    } else if (c == ']' && inClass) {
      inClass = false;
    }
  }
  if (inClass) throw BadInputError("pattern has an unterminated '[' class");
  if (allowAnyNamespace) return;
  if (!patternNamespace(pattern))
    throw BadInputError("pattern must start with a namespace prefix (entry:, session:, user:, stats:, knowledge:)");
}

std::optional<Namespace> patternNamespace(std::string_view pattern) {
  auto c = pattern.find(':');
  if (c == std::string_view::npos) return std::nullopt;
  auto head = pattern.substr(0, c);
  // The prefix must be literal: no glob metacharacters in the namespace part.
  if (head.find_first_of("*?[]\\") != std::string_view::npos) return std::nullopt;
  return parseNamespace(head);
}

bool globMatch(std::string_view p, std::string_view s) {
  // Iterative matcher with single-star backtracking: O(|p|*|s|) worst case,
  // no recursion, so a hostile pattern cannot blow the stack.
  std::size_t pi = 0, si = 0, starP = std::string_view::npos, starS = 0;
  auto matchOne = [&](std::size_t& pj, char ch) -> bool {
    char pc = p[pj];
    if (pc == '?') {
      ++pj;
      return true;
    }
    if (pc == '\\' && pj + 1 < p.size()) {
      bool ok = p[pj + 1] == ch;
      pj += 2;
      return ok;
    }
    if (pc == '[') {
      std::size_t j = pj + 1;
      bool negate = j < p.size() && p[j] == '^';
      if (negate) ++j;
      bool matched = false;
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\' && j + 1 < p.size()) {
          if (p[j + 1] == ch) matched = true;
          j += 2;
        } else if (j + 2 < p.size() && p[j + 1] == '-') {  // as Redis: "[a-]" is a range up to ']'
          char lo = p[j], hi = p[j + 2];
          if (lo > hi) std::swap(lo, hi);
          if (ch >= lo && ch <= hi) matched = true;
          j += 3;
        } else {
          if (p[j] == ch) matched = true;
          ++j;
        }
      }
      pj = j < p.size() ? j + 1 : j;
      return negate ? !matched : matched;
    }
    ++pj;
    return pc == ch;
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      while (pi < p.size() && p[pi] == '*') ++pi;
      if (pi == p.size()) return true;
      starP = pi;
      starS = si;
      continue;
    }
    if (pi < p.size()) {
      std::size_t pj = pi;
      if (matchOne(pj, s[si])) {
        pi = pj;
        ++si;
        continue;
      }
    }
    if (starP == std::string_view::npos) return false;
    pi = starP;
    si = ++starS;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace tier::codec
