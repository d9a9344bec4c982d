#pragma once
// Private helpers for text that travels as a query parameter.
#include <string>

// A timestamptz column as Unix milliseconds (bigint), in a SELECT list.
#define TIER_MS(col) "(extract(epoch from " col ")*1000)::bigint"

namespace tier::detail {

// A LIKE/ILIKE pattern matching `text` literally as a substring: \, % and _ are
// escaped (PostgreSQL's default LIKE escape is backslash).
inline std::string likeSubstring(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '\\' || c == '%' || c == '_') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

}  // namespace tier::detail
