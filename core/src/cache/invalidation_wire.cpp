// The backplane's message format (cache/backplane.h, docs/architecture.md):
// "tc1|<instance, 16 hex>|<seq>|<sent unix ns>|<kind>|<target>". Pure
// functions, no I/O: decodeInvalidation reads what any Redis client may have
// published on the channel, so it rejects anything not exactly in this form.
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "tier/cache/backplane.h"

namespace tier::cache {
namespace {

bool parseUnsigned(std::string_view s, std::uint64_t& out, int base = 10) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool isKind(char c) { return c == 'K' || c == 'N' || c == 'P' || c == 'A'; }

}  // namespace

std::string encodeInvalidation(std::uint64_t instance, std::uint64_t seq, std::int64_t sentUnixNs,
                               const Invalidation& inv) {
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(instance));
  std::string out = "tc1|";
  out += id;
  out += '|';
  out += std::to_string(seq);
  out += '|';
  out += std::to_string(sentUnixNs);
  out += '|';
  out += static_cast<char>(inv.kind);
  out += '|';
  out += inv.target;
  return out;
}

bool decodeInvalidation(std::string_view p, DecodedInvalidation& out) {
  auto field = [&p](std::string_view& f) {
    const auto bar = p.find('|');
    if (bar == std::string_view::npos) return false;
    f = p.substr(0, bar);
    p.remove_prefix(bar + 1);
    return true;
  };
  std::string_view magic, id, seq, sent, kind;
  if (!field(magic) || magic != "tc1" || !field(id) || id.size() != 16 || !field(seq) || !field(sent) ||
      !field(kind) || kind.size() != 1 || !isKind(kind[0]))
    return false;
  std::uint64_t sentU = 0;
  if (!parseUnsigned(id, out.instance, 16) || !parseUnsigned(seq, out.seq) || !parseUnsigned(sent, sentU)) return false;
  out.sent_unix_ns = static_cast<std::int64_t>(sentU);
  out.inv.kind = static_cast<Invalidation::Kind>(kind[0]);
  out.inv.target.assign(p);
  return true;
}

}  // namespace tier::cache
