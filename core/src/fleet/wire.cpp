#include "tier/fleet/wire.h"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace tier::fleet {
namespace {

template <typename T>
bool parseNumber(std::string_view s, T& out) {
  if (s.empty() || s.size() > 20) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

int opIndex(std::string_view name) {
  for (int i = 0; i < kOps; ++i)
    if (name == metrics::toString(static_cast<metrics::Op>(i))) return i;
  return -1;
}

int counterIndex(std::string_view name) {
  for (int i = 0; i < kCounters; ++i)
    if (name == metrics::toString(static_cast<metrics::Counter>(i))) return i;
  return -1;
}

}  // namespace

std::string registryKey() {
  return std::string(kKeyPrefix) + "instances";
}
std::string infoKey(std::string_view id) {
  return std::string(kKeyPrefix) + "{" + std::string(id) + "}:info";
}
std::string liveKey(std::string_view id) {
  return std::string(kKeyPrefix) + "{" + std::string(id) + "}:live";
}
std::string historyKey(std::string_view id) {
  return std::string(kKeyPrefix) + "{" + std::string(id) + "}:hist";
}

bool isInstanceIdChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool validInstanceId(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxInstanceIdBytes) return false;
  return std::all_of(id.begin(), id.end(), isInstanceIdChar);
}

const std::vector<std::string>& infoFields() {
  static const std::vector<std::string> f = {
      "v", "id", "app", "host", "pid", "core_version", "started_at_ms", "last_seen_ms", "interval_ms"};
  return f;
}

std::vector<std::pair<std::string, std::string>> encodeInfo(const InstanceInfo& i) {
  return {{"v", std::to_string(i.version)},
          {"id", i.id},
          {"app", i.app},
          {"host", i.host},
          {"pid", std::to_string(i.pid)},
          {"core_version", i.core_version},
          {"started_at_ms", std::to_string(i.started_at_ms)},
          {"last_seen_ms", std::to_string(i.last_seen_ms)},
          {"interval_ms", std::to_string(i.interval_ms)}};
}

std::optional<InstanceInfo> decodeInfo(const std::vector<std::optional<std::string>>& v, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<InstanceInfo> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (v.size() != infoFields().size()) return fail("info: wrong number of fields");
  for (const auto& x : v)
    if (x && x->size() > kMaxFieldBytes) return fail("info: a field is longer than 16 KiB");
  InstanceInfo i;
  if (!v[0] || !parseNumber(*v[0], i.version)) return fail("info: no protocol version (field v)");
  if (i.version != kProtocolVersion) return fail("info: protocol version " + *v[0] + " is not supported (1 is)");
  if (!v[1] || !validInstanceId(*v[1])) return fail("info: missing or invalid id");
  i.id = *v[1];
  i.app = v[2].value_or("");
  i.host = v[3].value_or("");
  if (v[4] && !parseNumber(*v[4], i.pid)) return fail("info: pid is not a number");
  i.core_version = v[5].value_or("");
  if (v[6] && !parseNumber(*v[6], i.started_at_ms)) return fail("info: started_at_ms is not a number");
  if (!v[7] || !parseNumber(*v[7], i.last_seen_ms)) return fail("info: missing or invalid last_seen_ms");
  if (v[8] && !parseNumber(*v[8], i.interval_ms)) return fail("info: interval_ms is not a number");
  if (i.app.size() > 128 || i.host.size() > 255 || i.core_version.size() > 64)
    return fail("info: app, host or core_version too long");
  return i;
}

std::string encodeBuckets(const metrics::OpHistogram& h) {
  std::string out;
  for (int b = 0; b < metrics::kHistogramBuckets; ++b) {
    if (h.buckets[b] == 0) continue;
    if (!out.empty()) out += ' ';
    out += std::to_string(b);
    out += '=';
    out += std::to_string(h.buckets[b]);
  }
  return out;
}

bool decodeBuckets(std::string_view text, metrics::OpHistogram& out) {
  int last = -1;
  while (!text.empty()) {
    const auto sp = text.find(' ');
    const std::string_view pair = text.substr(0, sp);
    text = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return false;
    int b = 0;
    std::uint64_t c = 0;
    if (!parseNumber(pair.substr(0, eq), b) || !parseNumber(pair.substr(eq + 1), c)) return false;
    if (b <= last || b >= metrics::kHistogramBuckets || c > (std::uint64_t{1} << 53)) return false;
    out.buckets[b] = c;
    last = b;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> encodeSample(const Sample& s) {
  std::vector<std::pair<std::string, std::string>> f;
  f.emplace_back("v", std::to_string(kProtocolVersion));
  f.emplace_back("t", std::to_string(s.t_ms));
  f.emplace_back("dt", std::to_string(s.dt_ms));
  for (int c = 0; c < kCounters; ++c)
    if (s.counters[c] != 0)
      f.emplace_back(std::string("c:") + metrics::toString(static_cast<metrics::Counter>(c)),
                     std::to_string(s.counters[c]));
  if (s.l1_evictions != 0) f.emplace_back("c:l1_evictions", std::to_string(s.l1_evictions));
  f.emplace_back("g:l1_bytes", std::to_string(s.l1_bytes));
  f.emplace_back("g:l1_entries", std::to_string(s.l1_entries));
  for (int o = 0; o < kOps; ++o) {
    const auto& h = s.ops[o];
    if (h.count() == 0) continue;
    const std::string name = metrics::toString(static_cast<metrics::Op>(o));
    f.emplace_back("h:" + name, encodeBuckets(h));
    f.emplace_back("s:" + name, std::to_string(h.sum_ns));
    f.emplace_back("m:" + name, std::to_string(h.max_ns));
  }
  return f;
}

std::optional<Sample> decodeSample(const std::vector<std::pair<std::string, std::string>>& fields, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Sample> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (fields.size() > kMaxFields) return fail("sample: more than 256 fields");
  Sample s;
  bool haveV = false, haveT = false;
  for (const auto& [k, v] : fields) {
    if (k.size() > 128 || v.size() > kMaxFieldBytes) return fail("sample: a field or value is too long");
    if (k == "v") {
      int ver = 0;
      if (!parseNumber(v, ver)) return fail("sample: version is not a number");
      if (ver != kProtocolVersion) return fail("sample: protocol version " + v + " is not supported (1 is)");
      haveV = true;
    } else if (k == "t") {
      if (!parseNumber(v, s.t_ms) || s.t_ms <= 0) return fail("sample: t is not a time");
      haveT = true;
    } else if (k == "dt") {
      if (!parseNumber(v, s.dt_ms) || s.dt_ms <= 0 || s.dt_ms > 3'600'000) return fail("sample: dt out of range");
    } else if (k.rfind("c:", 0) == 0) {
      std::uint64_t n = 0;
      if (!parseNumber(v, n) || n > (std::uint64_t{1} << 53)) return fail("sample: counter " + k + " is not a count");
      if (k == "c:l1_evictions") {
        s.l1_evictions = n;
      } else if (int c = counterIndex(std::string_view(k).substr(2)); c >= 0) {
        s.counters[c] = n;
      }
    } else if (k == "g:l1_bytes" || k == "g:l1_entries") {
      std::uint64_t n = 0;
      if (!parseNumber(v, n)) return fail("sample: gauge " + k + " is not a number");
      (k == "g:l1_bytes" ? s.l1_bytes : s.l1_entries) = n;
    } else if (k.size() > 2 && (k[0] == 'h' || k[0] == 's' || k[0] == 'm') && k[1] == ':') {
      const int o = opIndex(std::string_view(k).substr(2));
      if (o < 0) continue;  // an op this reader does not know
      auto& h = s.ops[o];
      if (k[0] == 'h') {
        if (!decodeBuckets(v, h)) return fail("sample: histogram " + k + " is malformed");
      } else {
        std::uint64_t n = 0;
        if (!parseNumber(v, n)) return fail("sample: " + k + " is not a number");
        (k[0] == 's' ? h.sum_ns : h.max_ns) = n;
      }
    }
  }
  if (!haveV) return fail("sample: no protocol version (field v)");
  if (!haveT) return fail("sample: no time (field t)");
  if (s.dt_ms == 0) return fail("sample: no interval (field dt)");
  return s;
}

void Sample::accumulate(const Sample& o) {
  if (o.t_ms >= t_ms) {
    l1_bytes = o.l1_bytes;
    l1_entries = o.l1_entries;
    t_ms = o.t_ms;
  }
  dt_ms += o.dt_ms;
  for (int c = 0; c < kCounters; ++c) counters[c] += o.counters[c];
  l1_evictions += o.l1_evictions;
  for (int i = 0; i < kOps; ++i) ops[i].merge(o.ops[i]);
}

void Sample::combine(const Sample& o) {
  t_ms = std::max(t_ms, o.t_ms);
  dt_ms = std::max(dt_ms, o.dt_ms);
  for (int c = 0; c < kCounters; ++c) counters[c] += o.counters[c];
  l1_evictions += o.l1_evictions;
  l1_bytes += o.l1_bytes;
  l1_entries += o.l1_entries;
  for (int i = 0; i < kOps; ++i) ops[i].merge(o.ops[i]);
}

metrics::Snapshot Sample::toSnapshot(std::chrono::seconds window, std::int64_t takenAtMs) const {
  metrics::Snapshot snap;
  snap.window = window;
  snap.taken_at_unix_ms = takenAtMs;
  snap.counters = counters;
  for (int i = 0; i < kOps; ++i) snap.latency[i] = metrics::summarize(ops[i]);
  return snap;
}

}  // namespace tier::fleet
