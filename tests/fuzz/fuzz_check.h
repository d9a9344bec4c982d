// Invariant checks for the fuzz targets: a failed check prints what broke and
// aborts, which libFuzzer records as a crash with the input that caused it.
// Unlike assert() it stays on in release builds.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                                     \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)

namespace tier::fuzz {

// Anything but the core's typed errors escaping a parser is a bug.
[[noreturn]] inline void unexpectedException(const std::exception& e) {
  std::fprintf(stderr, "fuzz: unexpected exception (not a typed tier error): %s\n", e.what());
  std::abort();
}

inline bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// Quoted, printable form of bytes for failure messages.
inline std::string show(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

}  // namespace tier::fuzz
