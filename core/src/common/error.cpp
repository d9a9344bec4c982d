#include "tier/common/error.h"

#include <regex>

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

std::string redactSecrets(const std::string& text) {
  // scheme://user:secret@host  ->  scheme://user:***@host. Greedy up to the
  // last '@' before whitespace, so a raw '@' inside the password is covered too.
  static const std::regex urlCreds(R"(([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^\s]*@)");
  // password=secret / password='se cret'  (conninfo), also passwd/pass/requirepass
  static const std::regex kv(R"((\b(?:password|passwd|requirepass|pass)\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*))",
                             std::regex::icase);
  std::string out = std::regex_replace(text, urlCreds, "$1:***@");
  out = std::regex_replace(out, kv, "$1***");
  return out;
}

std::int64_t unixMillisNow() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tier
