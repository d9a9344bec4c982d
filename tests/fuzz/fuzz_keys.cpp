// Fuzzes the key codec (tier/codec/keys.h): parseKey on arbitrary bytes, and
// the key builders on ids, periods and slugs taken from the input.
// Invariants: parseKey is a clean nullopt or a key that formats back to the
// input; every key we build parses back to what built it; the invalidation
// validator accepts exactly the keys parseKey accepts; only BadInputError escapes.
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/ops/invalidation.h"

using namespace tier::codec;
using tier::fuzz::show;

namespace {

std::string format(const ParsedKey& k) {
  return std::string(toString(k.ns)) + ":v" + std::to_string(k.schema) + ":" + k.id;
}

void checkParse(std::string_view key) {
  const auto parsed = parseKey(key);
  bool validatorAccepts = true;
  try {
    tier::ops::validate({tier::ops::InvalidateKind::Key, std::string(key)});
  } catch (const tier::BadInputError&) {
    validatorAccepts = false;
  }
  FUZZ_CHECK(validatorAccepts == parsed.has_value(), "invalidate-by-key and parseKey disagree on " + show(key));
  if (!parsed) return;
  FUZZ_CHECK(parseNamespace(toString(parsed->ns)) == parsed->ns, show(key));
  FUZZ_CHECK(parsed->schema > 0 && !parsed->id.empty() && key.size() <= kMaxKeyBytes, show(key));
  const std::string again = format(*parsed);
  // "v01" reads as schema 1; otherwise the text is reproduced byte for byte.
  const auto colon = key.find(':');
  if (key.substr(colon + 1, 2) != "v0") FUZZ_CHECK(again == key, show(key) + " formats as " + show(again));
  const auto reparsed = parseKey(again);
  FUZZ_CHECK(reparsed && reparsed->ns == parsed->ns && reparsed->schema == parsed->schema && reparsed->id == parsed->id,
             show(again));
}

void checkBuilt(const std::string& key, Namespace ns, std::string_view id) {
  const auto parsed = parseKey(key);
  FUZZ_CHECK(parsed.has_value(), "a key we built does not parse: " + show(key));
  FUZZ_CHECK(parsed->ns == ns && parsed->schema == kKeySchemaVersion && parsed->id == id, show(key));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    checkParse(in);

    std::int64_t id = 0;
    std::memcpy(&id, in.data(), std::min(sizeof id, in.size()));
    checkBuilt(entryKey(id), Namespace::Entry, std::to_string(id));
    checkBuilt(sessionKey(id), Namespace::Session, std::to_string(id));
    checkBuilt(userKey(id), Namespace::User, std::to_string(id));

    const std::string_view rest = in.size() > sizeof id ? in.substr(sizeof id) : std::string_view{};
    // A period from the input: the key parses back unless the period is not clean text.
    const std::string stats = statsKey(id, rest);
    if (const auto p = parseKey(stats)) FUZZ_CHECK(p->ns == Namespace::Stats && p->id == std::to_string(id) + ":" + std::string(rest), show(stats));

    if (isValidSlug(rest)) {
      checkBuilt(knowledgeKey(rest), Namespace::Knowledge, rest);
    } else {
      bool threw = false;
      try {
        (void)knowledgeKey(rest);
      } catch (const tier::BadInputError&) {
        threw = true;
      }
      FUZZ_CHECK(threw, "knowledgeKey accepted an invalid slug " + show(rest));
    }

    const auto ns = parseNamespace(in);
    if (ns) FUZZ_CHECK(in == toString(*ns), show(in));
  } catch (const tier::BadInputError&) {
    // The documented refusal; the checks above decide whether it was right.
  } catch (const std::exception& ex) {
    tier::fuzz::unexpectedException(ex);
  }
  return 0;
}
