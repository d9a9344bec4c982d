// Fuzzes Redis URL parsing (tier/redis/redis_url.h) and the redaction of what
// it parsed, the way a connection profile or --redis flag reaches the core.
// Input: a URL; a byte 0x01 in it, if any, is replaced by the rest of the input
// after a NUL (a "password" spliced into a URL the fuzzer shapes).
// Invariants: only BadInputError escapes; a parsed URL is in range; redacted()
// parses back to the same endpoint, user and options with password "***" and
// does not depend on the password at all; no error message, redacted() or
// redactSecrets() output contains a password.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include <QByteArray>
#include <QUrl>

#include "fuzz_check.h"
#include "tier/common/error.h"
#include "tier/redis/redis_url.h"

using tier::fuzz::contains;
using tier::fuzz::show;
using tier::redis::RedisUrl;

namespace {

// A spliced password is only looked for when it cannot occur by chance (in our
// own message texts, say "password"): 6+ letters and digits, with both.
bool distinctiveSecret(std::string_view s) {
  bool digit = false, alpha = false;
  for (unsigned char c : s) {
    if (std::isdigit(c)) digit = true;
    else if (std::isalpha(c)) alpha = true;
    else return false;
  }
  return s.size() >= 6 && digit && alpha;
}

std::string percentDecoded(std::string_view s) {
  const QByteArray b = QByteArray::fromPercentEncoding(QByteArray(s.data(), static_cast<qsizetype>(s.size())));
  return b.toStdString();
}

bool distinctive(std::string_view secret, std::string_view rest) {
  return distinctiveSecret(secret) && !contains(rest, secret);
}

// Whether the splice point is where a password goes: userinfo after ':' or a
// unix URL's password= parameter. Only a guess for a URL that is refused; for
// one that parses, the parsed password decides.
bool passwordPosition(std::string_view before, std::string_view after) {
  const auto scheme = before.find("://");
  if (scheme == std::string_view::npos) return false;
  if (const auto q = before.find('?'); q != std::string_view::npos) {
    const std::string_view query = before.substr(q + 1);
    const auto amp = query.rfind('&');
    return before.find('#') == std::string_view::npos &&
           query.substr(amp == std::string_view::npos ? 0 : amp + 1) == "password=";
  }
  const std::string_view authority = before.substr(scheme + 3);
  return authority.find(':') != std::string_view::npos && authority.find_first_of("/@?#") == std::string_view::npos &&
         after.find('@') != std::string_view::npos;
}

void noLeak(std::string_view out, std::string_view secret, std::string_view url, const char* where) {
  FUZZ_CHECK(!contains(out, secret), std::string(where) + " leaks the password " + show(secret) + " of " + show(url) +
                                         ": " + show(out));
  const std::string decoded = percentDecoded(secret);
  if (decoded.size() >= 4)
    FUZZ_CHECK(!contains(out, decoded), std::string(where) + " leaks the decoded password of " + show(url) + ": " + show(out));
}

void checkParsed(const RedisUrl& r, std::string_view url) {
  if (r.isUnix()) {
    FUZZ_CHECK(r.host.empty() && r.unix_path.front() == '/', show(url));
  } else {
    FUZZ_CHECK(!r.host.empty() && r.port >= 1 && r.port <= 65535, show(url));
  }
  FUZZ_CHECK(r.db >= 0, show(url));
  const std::string red = r.redacted();
  RedisUrl other = r;
  other.password = r.password.empty() ? std::string() : std::string("other-value");
  FUZZ_CHECK(other.redacted() == red, "redacted() depends on the password: " + show(url));
  if (!r.password.empty()) FUZZ_CHECK(contains(red, "***"), "a password without a mark in " + show(red));

  RedisUrl back;
  try {
    back = RedisUrl::parse(red);
  } catch (const tier::BadInputError& e) {
    FUZZ_CHECK(false, "redacted() of " + show(url) + " does not parse: " + show(red) + ": " + e.what());
  }
  FUZZ_CHECK(back.host == r.host && back.port == r.port && back.unix_path == r.unix_path && back.db == r.db &&
                 back.username == r.username && back.connect_timeout_ms == r.connect_timeout_ms &&
                 back.command_timeout_ms == r.command_timeout_ms,
             show(url) + " -> " + show(red) + " -> " + show(back.redacted()));
  FUZZ_CHECK(back.password == (r.password.empty() ? "" : "***"), show(red));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nul = in.find('\0');
  std::string url(in.substr(0, nul));
  std::string secret;
  bool checkSecret = false;
  if (nul != std::string_view::npos) {
    secret = std::string(in.substr(nul + 1));
    if (const auto mark = url.find('\x01'); mark != std::string::npos) {
      const std::string before = url.substr(0, mark), after = url.substr(mark + 1);
      checkSecret = passwordPosition(before, after) && distinctive(secret, before + after);
      url = before + secret + after;
    }
  }

  try {
    const RedisUrl r = RedisUrl::parse(url);
    checkParsed(r, url);
    // Text that redacted() shows for the same URL without any password comes
    // from another part (a master name, a user, a host) or from the encoding
    // of one (a master name "(7877w" prints "%287877w"), not from the password.
    // Both passwords go: a Sentinel URL often has the same text in both, and
    // a redacted() that printed the sentinel's would then hide the leak.
    RedisUrl withoutPassword = r;
    withoutPassword.password.clear();
    withoutPassword.sentinel_password.clear();
    const std::string shownAnyway = withoutPassword.redacted();
    if (distinctiveSecret(r.password) && !contains(shownAnyway, r.password))
      noLeak(r.redacted(), r.password, url, "redacted()");
    if (checkSecret && contains(r.password, percentDecoded(secret))) {
      if (!contains(shownAnyway, secret)) noLeak(r.redacted(), secret, url, "redacted()");
      noLeak(tier::redactSecrets(url), secret, url, "redactSecrets()");  // the raw text: no exception
    }
  } catch (const tier::BadInputError& e) {
    const std::string_view msg = e.what();
    FUZZ_CHECK(!msg.empty() && !contains(msg, "\n"), "not a one-line message: " + show(msg));
    if (checkSecret) noLeak(msg, secret, url, "the error message");
  } catch (const std::exception& ex) {
    tier::fuzz::unexpectedException(ex);
  }
  return 0;
}
