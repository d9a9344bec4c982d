#pragma once
// Private helper: strict UTF-8 checking for text that reaches a server or a
// key (PostgreSQL's own refusal names a byte and an SQLSTATE, not the field).
#include <cstddef>
#include <string_view>

namespace tier::detail {

// Strict UTF-8: no overlong forms, surrogates, truncated sequences or code
// points past U+10FFFF. `refuse`, if given, is asked about every non-ASCII
// code point and may refuse more (e.g. noncharacters).
inline bool isStrictUtf8(std::string_view s, bool (*refuse)(char32_t) = nullptr) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    char32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<std::size_t>(n) >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (refuse && refuse(cp)) return false;
    i += static_cast<std::size_t>(n) + 1;
  }
  return true;
}

}  // namespace tier::detail
