// Fuzzes pattern invalidation's input side (tier/codec/keys.h validatePattern,
// patternNamespace, globMatch; tier/ops/invalidation.h validate).
// Input: pattern bytes, a NUL, then key bytes; the first byte's low bit says
// whether a pattern outside a namespace is allowed.
// Invariants: only BadInputError escapes; a valid namespaced pattern never
// matches a key outside its namespace; globMatch agrees with Redis's own glob
// (so L1 drops exactly what SCAN MATCH finds in L2); a key escaped into a
// literal pattern matches itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/ops/invalidation.h"

using namespace tier::codec;
using tier::fuzz::show;

namespace {

// Redis 7.0 stringmatchlen() (src/util.c, case-sensitive), transcribed with its
// byte-level semantics (signed char ranges, '\' escapes, unterminated classes)
// and bounds checks where Redis relies on the NUL after an sds string.
int redisMatch(const char* pattern, int patternLen, const char* string, int stringLen, int* skipLongerMatches) {
  while (patternLen && stringLen) {
    switch (pattern[0]) {
      case '*':
        while (patternLen > 1 && pattern[1] == '*') {
          pattern++;
          patternLen--;
        }
        if (patternLen == 1) return 1;
        while (stringLen) {
          if (redisMatch(pattern + 1, patternLen - 1, string, stringLen, skipLongerMatches)) return 1;
          if (*skipLongerMatches) return 0;
          string++;
          stringLen--;
        }
        *skipLongerMatches = 1;
        return 0;
      case '?':
        string++;
        stringLen--;
        break;
      case '[': {
        pattern++;
        patternLen--;
        const bool negate = patternLen > 0 && pattern[0] == '^';
        if (negate) {
          pattern++;
          patternLen--;
        }
        bool match = false;
        while (true) {
          if (patternLen >= 2 && pattern[0] == '\\') {
            pattern++;
            patternLen--;
            if (pattern[0] == string[0]) match = true;
          } else if (patternLen == 0) {
            pattern--;
            patternLen++;
            break;
          } else if (pattern[0] == ']') {
            break;
          } else if (patternLen >= 3 && pattern[1] == '-') {
            int start = pattern[0], end = pattern[2], c = string[0];
            if (start > end) std::swap(start, end);
            pattern += 2;
            patternLen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (pattern[0] == string[0]) {
            match = true;
          }
          pattern++;
          patternLen--;
        }
        if (negate) match = !match;
        if (!match) return 0;
        string++;
        stringLen--;
        break;
      }
      case '\\':
        if (patternLen >= 2) {
          pattern++;
          patternLen--;
        }
        [[fallthrough]];
      default:
        if (pattern[0] != string[0]) return 0;
        string++;
        stringLen--;
        break;
    }
    pattern++;
    patternLen--;
    if (stringLen == 0) {
      while (patternLen > 0 && *pattern == '*') {
        pattern++;
        patternLen--;
      }
      break;
    }
  }
  return patternLen == 0 && stringLen == 0;
}

bool redisGlob(std::string_view p, std::string_view s) {
  int skip = 0;
  return redisMatch(p.data(), static_cast<int>(p.size()), s.data(), static_cast<int>(s.size()), &skip) != 0;
}

bool isValid(std::string_view pattern, bool allowAny) {
  try {
    validatePattern(pattern, allowAny);
    return true;
  } catch (const tier::BadInputError&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool allowAny = data[0] & 1;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto nul = in.find('\0');
  const std::string_view pattern = in.substr(0, nul);
  const std::string_view key = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
  try {
    const bool valid = isValid(pattern, allowAny);
    bool opsAccepts = true;
    try {
      tier::ops::InvalidateRequest req{tier::ops::InvalidateKind::Pattern, std::string(pattern)};
      req.allow_any_namespace = allowAny;
      tier::ops::validate(req);
    } catch (const tier::BadInputError&) {
      opsAccepts = false;
    }
    FUZZ_CHECK(opsAccepts == valid, "invalidate and validatePattern disagree on " + show(pattern));
    if (valid && !allowAny) FUZZ_CHECK(isValid(pattern, true), "allowing any namespace refused " + show(pattern));

    const bool matched = globMatch(pattern, key);  // total on any input: ASan/UBSan watch it
    // Keys are never empty (Redis's glob refuses "" even for "*"; SCAN MATCH * skips the glob).
    if (valid && !key.empty()) {
      FUZZ_CHECK(matched == redisGlob(pattern, key),
                 "L1 and Redis disagree: pattern " + show(pattern) + " key " + show(key) + " ours " +
                     (matched ? "match" : "no match"));
    }
    if (valid && !allowAny) {
      const auto ns = patternNamespace(pattern);
      FUZZ_CHECK(ns.has_value(), "a valid pattern has no namespace: " + show(pattern));
      if (matched)
        FUZZ_CHECK(key.substr(0, std::string_view(toString(*ns)).size() + 1) == std::string(toString(*ns)) + ":",
                   "pattern " + show(pattern) + " escapes its namespace with key " + show(key));
    }

    // The key as a literal pattern matches itself and nothing longer.
    std::string literal;
    for (char c : key) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') literal.push_back('\\');
      literal.push_back(c);
    }
    FUZZ_CHECK(globMatch(literal, key), "escaped key " + show(key) + " does not match itself");
    FUZZ_CHECK(!globMatch(literal, std::string(key) + "x"), "escaped key matches a longer key " + show(key));
  } catch (const std::exception& ex) {
    tier::fuzz::unexpectedException(ex);
  }
  return 0;
}
