// Fuzzes what the core does with a PostgreSQL connection string
// (tier/pg/pg_pool.h: validation before any I/O, redactedConninfo(); and
// tier/common/error.h redactSecrets(), applied to messages quoting one).
// Input: a conninfo or URI; a byte 0x01 in it, if any, is replaced by the rest
// of the input after a NUL (a "password" spliced into a string the fuzzer shapes).
// Invariants: a string libpq refuses is refused with BadInputError before any
// connection attempt, in one line without the password; redactedConninfo() is
// what libpq parsed minus the password, and parses back to the same options;
// redactSecrets() leaves no password that libpq would read.
#include <libpq-fe.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"

using tier::fuzz::contains;
using tier::fuzz::show;

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

struct OptionsDeleter {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};
using Options = std::map<std::string, std::string>;

// libpq's own reading of the string: keyword -> value for every option given.
std::optional<Options> libpqParse(const std::string& conninfo) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> opts(PQconninfoParse(conninfo.c_str(), &err));
  if (err) PQfreemem(err);
  if (!opts) return std::nullopt;
  Options out;
  for (const PQconninfoOption* o = opts.get(); o->keyword; ++o)
    if (o->val) out[o->keyword] = o->val;
  return out;
}

// Whether the splice point is where libpq takes a password from: the value of a
// password keyword, or the userinfo of a postgresql:// URI. Only a guess for a
// string libpq refuses; for one it accepts, the parsed password decides.
bool passwordPosition(std::string_view before, std::string_view after) {
  std::string lower(before);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool uri = lower.starts_with("postgresql://") || lower.starts_with("postgres://");
  if (uri) {
    const std::string_view authority = std::string_view(lower).substr(lower.find("://") + 3);
    if (authority.find(':') != std::string_view::npos && authority.find_first_of("/@?") == std::string_view::npos &&
        after.find('@') != std::string_view::npos)
      return true;
    const auto q = lower.find('?');
    return q != std::string::npos && (lower.ends_with("?password=") || lower.ends_with("&password="));
  }
  const auto eq = lower.rfind('=');
  if (eq == std::string::npos) return false;
  std::string_view head = std::string_view(lower).substr(0, eq);
  while (!head.empty() && (head.back() == ' ' || head.back() == '\t')) head.remove_suffix(1);
  const std::string_view tail = std::string_view(lower).substr(eq + 1);
  if (tail.find_first_not_of(" \t'") != std::string_view::npos || !head.ends_with("password")) return false;
  head.remove_suffix(8);
  return head.empty() || head.back() == ' ' || head.back() == '\t';
}

void noLeak(std::string_view out, const std::string& secret, const std::string& conninfo, const char* where) {
  FUZZ_CHECK(!contains(out, secret),
             std::string(where) + " leaks the password " + show(secret) + " of " + show(conninfo) + ": " + show(out));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nul = in.find('\0');
  std::string conninfo(in.substr(0, nul));
  std::string secret;
  bool checkSecret = false;
  if (nul != std::string_view::npos) {
    secret = std::string(in.substr(nul + 1));
    secret = secret.substr(0, secret.find('\0'));  // libpq reads C strings
    if (const auto mark = conninfo.find('\x01'); mark != std::string::npos) {
      const std::string before = conninfo.substr(0, mark), after = conninfo.substr(mark + 1);
      const std::string rest = before + after;
      checkSecret = passwordPosition(before, after) && distinctiveSecret(secret) && !contains(rest, secret);
      conninfo = before + secret + after;
    }
  }

  try {
    const auto parsed = libpqParse(conninfo);
    tier::pg::PgOptions opt;
    opt.conninfo = conninfo;
    tier::pg::PgPool pool(opt);
    const std::string red = pool.redactedConninfo();
    if (!parsed) {
      FUZZ_CHECK(red == "(invalid connection string)", show(red));
      // Refused before any I/O: acquire() must not reach the network here.
      bool refused = false;
      try {
        (void)pool.acquire();
      } catch (const tier::BadInputError& e) {
        refused = true;
        const std::string_view msg = e.what();
        FUZZ_CHECK(!contains(msg, "\n"), "not a one-line message: " + show(msg));
        if (checkSecret) noLeak(msg, secret, conninfo, "the error message");
      }
      FUZZ_CHECK(refused, "libpq refuses " + show(conninfo) + " but the pool did not say BadInput");
    } else {
      const auto back = libpqParse(red);
      FUZZ_CHECK(back.has_value(), "redactedConninfo() of " + show(conninfo) + " does not parse: " + show(red));
      Options expected = *parsed;
      expected.erase("password");
      FUZZ_CHECK(*back == expected, show(conninfo) + " redacts to different options: " + show(red));
      const auto pw = parsed->find("password");
      // A password without the characters the output adds ("='", "\\", ' ') can
      // only appear in it inside another keyword or value.
      if (pw != parsed->end() && pw->second.size() >= 4 && pw->second.find_first_of("=' \\") == std::string::npos) {
        bool elsewhere = false;
        for (const auto& [k, v] : expected) elsewhere = elsewhere || contains(k, pw->second) || contains(v, pw->second);
        if (!elsewhere) noLeak(red, pw->second, conninfo, "redactedConninfo()");
      }
      // What redactSecrets() leaves must not hand libpq the password.
      // (A password that is literally the mark "***" reads back the same.)
      const std::string scrubbed = tier::redactSecrets(conninfo);
      if (pw != parsed->end() && !pw->second.empty() && pw->second != "***") {
        if (const auto again = libpqParse(scrubbed)) {
          const auto p2 = again->find("password");
          FUZZ_CHECK(p2 == again->end() || p2->second != pw->second,
                     "redactSecrets() kept the password of " + show(conninfo) + ": " + show(scrubbed));
        }
      }
      if (checkSecret && pw != parsed->end() && pw->second == secret) noLeak(scrubbed, secret, conninfo, "redactSecrets()");
    }
  } catch (const tier::BadInputError&) {
    FUZZ_CHECK(false, "BadInputError outside acquire() for " + show(conninfo));
  } catch (const std::exception& ex) {
    tier::fuzz::unexpectedException(ex);
  }
  return 0;
}
