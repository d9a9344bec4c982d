#pragma once
// Cache key names: "{namespace}:v{schema}:{id...}" — see docs/key-schema.md.
//   entry:v1:{entry_id}
//   session:v1:{session_id}
//   user:v1:{user_id}
//   stats:v1:{user_id}:{period}          period = 7d | 30d | 90d
//   knowledge:v1:{slug}
//   search:v1:{user_id|all}:{generation}:{query_hash}   full-text search results
// Internal bookkeeping keys live under "tc:" (e.g. tc:nsgen:{namespace}).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tier::codec {

inline constexpr int kKeySchemaVersion = 1;
inline constexpr std::size_t kMaxKeyBytes = 512;

enum class Namespace { Entry, Session, User, Stats, Knowledge, Search };
const char* toString(Namespace ns) noexcept;   // "entry", ...
std::optional<Namespace> parseNamespace(std::string_view name);
const std::vector<Namespace>& allNamespaces();

std::string entryKey(std::int64_t entryId);
std::string sessionKey(std::int64_t sessionId);
std::string userKey(std::int64_t userId);
std::string statsKey(std::int64_t userId, std::string_view period);
std::string knowledgeKey(std::string_view slug);  // REQUIRES: isValidSlug(slug)
// userId 0 = a search over every user ("all"); generation and queryHash are
// [0-9a-f] tokens made by the search code (see repo/search.h).
std::string searchKey(std::int64_t userId, std::string_view generation, std::string_view queryHash);
std::string namespaceGenerationKey(Namespace ns);  // tc:nsgen:{ns}
// The generation token of a scope's search results: tc:searchgen:{user_id|all}.
std::string searchGenerationKey(std::int64_t userId);

bool isValidSlug(std::string_view slug);  // [a-z0-9-]{1,128}

struct ParsedKey {
  Namespace ns;
  int schema = 0;
  std::string id;  // the rest after "v{schema}:"
};
// A clean nullopt for anything that is not one of our keys (wrong namespace,
// version, oversized, control bytes).
std::optional<ParsedKey> parseKey(std::string_view key);

// Validates a glob for SCAN MATCH within a namespace. Accepts e.g. "entry:*",
// "session:v1:12*", "stats:v1:42:*". Throws BadInputError (one line) if:
// empty, longer than kMaxKeyBytes, contains control/non-UTF-8 bytes, has an
// unbalanced '[', or (unless allowAnyNamespace) does not start with a literal
// known namespace followed by ':'.
void validatePattern(std::string_view pattern, bool allowAnyNamespace = false);
// The namespace a valid pattern is confined to, if any.
std::optional<Namespace> patternNamespace(std::string_view pattern);
// Redis-compatible glob match (*, ?, [..], \ escapes) — used on L1 keys.
bool globMatch(std::string_view pattern, std::string_view text);

}  // namespace tier::codec
