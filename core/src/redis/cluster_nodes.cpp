#include "redis/cluster_nodes.h"

#include <charconv>

namespace tier::redis::cluster {

std::uint16_t crc16(std::string_view s) noexcept {
  // CRC16/XMODEM (poly 0x1021, init 0), as Redis Cluster uses.
  std::uint16_t crc = 0;
  for (unsigned char c : s) {
    crc ^= static_cast<std::uint16_t>(c) << 8;
    for (int i = 0; i < 8; ++i)
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021) : static_cast<std::uint16_t>(crc << 1);
  }
  return crc;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

KeySpec keySpec(std::string_view name, int argc) {
  static constexpr std::string_view kKeyless[] = {
      "PING",    "INFO",   "DBSIZE",   "SCAN",    "SLOWLOG",   "LATENCY",   "CLUSTER", "ACL",
      "SCRIPT",  "CLIENT", "CONFIG",   "COMMAND", "TIME",      "ROLE",      "FLUSHDB", "FLUSHALL",
      "PUBLISH", "SELECT", "AUTH",     "HELLO",   "READONLY",  "READWRITE", "ASKING",  "WAIT",
      "DEBUG",   "ECHO",   "LASTSAVE", "BGSAVE",  "RANDOMKEY", "SENTINEL",  "FUNCTION"};
  if (argc < 2) return KeySpec::None;
  for (auto k : kKeyless)
    if (iequals(name, k)) return KeySpec::None;
  if (iequals(name, "MEMORY") || iequals(name, "OBJECT")) return argc >= 3 ? KeySpec::Second : KeySpec::None;
  if (iequals(name, "EVAL") || iequals(name, "EVALSHA") || iequals(name, "EVAL_RO") || iequals(name, "EVALSHA_RO") ||
      iequals(name, "FCALL") || iequals(name, "FCALL_RO"))
    return KeySpec::Script;
  if (iequals(name, "DEL") || iequals(name, "UNLINK") || iequals(name, "EXISTS") || iequals(name, "TOUCH"))
    return KeySpec::Multi;
  return KeySpec::First;
}

bool replicaReadable(std::string_view name, int argc) {
  if (argc == 2)
    return iequals(name, "GET") || iequals(name, "PTTL") || iequals(name, "TTL") || iequals(name, "STRLEN") ||
           iequals(name, "EXISTS");
  return argc == 4 && iequals(name, "GETRANGE");
}

std::optional<HostPort> parseAddress(std::string_view a) {
  if (auto c = a.find_first_of("@,"); c != std::string_view::npos) a = a.substr(0, c);
  const auto colon = a.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  int port = 0;
  const auto portText = a.substr(colon + 1);
  const auto [p, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || p != portText.data() + portText.size() || port <= 0 || port > 65535) return std::nullopt;
  std::string host(a.substr(0, colon));
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return HostPort{std::move(host), port};
}

std::vector<ClusterLine> parseClusterNodes(const std::string& text, const HostPort& asked) {
  std::vector<ClusterLine> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    std::vector<std::string_view> f;
    for (std::size_t i = 0; i < line.size();) {
      auto sp = line.find(' ', i);
      if (sp == std::string_view::npos) sp = line.size();
      if (sp > i) f.push_back(line.substr(i, sp - i));
      i = sp + 1;
    }
    if (f.size() < 8) continue;
    ClusterLine l;
    l.info.id = std::string(f[0]);
    const std::string flags(f[2]);
    l.info.flags = flags;
    auto hp = parseAddress(f[1]);
    if (!hp || hp->host.empty()) {
      if (flags.find("myself") == std::string::npos) continue;  // noaddr: nothing to connect to
      hp = asked;
    }
    l.hp = *hp;
    l.info.address = l.hp.endpoint();
    l.failed = flags.find("fail") != std::string::npos || flags.find("noaddr") != std::string::npos ||
               flags.find("handshake") != std::string::npos || f[7] != "connected";
    const bool master = flags.find("master") != std::string::npos;
    l.info.role = master ? "master" : "replica";
    if (!master && f[3] != "-") l.master_id = std::string(f[3]);
    for (std::size_t i = 8; i < f.size(); ++i) {
      if (f[i].empty()) continue;
      if (f[i].front() == '[') {  // migrating/importing markers
        l.migrating = true;
        continue;
      }
      int a = 0, b = 0;
      const auto dash = f[i].find('-');
      const auto first = f[i].substr(0, dash);
      if (std::from_chars(first.data(), first.data() + first.size(), a).ec != std::errc()) continue;
      b = a;
      if (dash != std::string_view::npos) {
        const auto second = f[i].substr(dash + 1);
        if (std::from_chars(second.data(), second.data() + second.size(), b).ec != std::errc()) continue;
      }
      if (a < 0 || b >= kSlots || b < a) continue;
      l.info.slots.emplace_back(a, b);
      l.info.slot_count += b - a + 1;
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace tier::redis::cluster
