#include "tier/fleet/reader.h"

#include <algorithm>
#include <charconv>

#include "tier/common/error.h"
#include "tier/redis/redis_view.h"

namespace tier::fleet {
namespace {

constexpr std::size_t kMaxReasons = 8;

void malformed(FleetView& v, std::string why) {
  ++v.malformed;
  if (v.malformed_reasons.size() < kMaxReasons) v.malformed_reasons.push_back(std::move(why));
}

bool isString(const redis::Reply& r) {
  return r.type == redis::Reply::Type::String || r.type == redis::Reply::Type::Status;
}

std::string wrongTypeReason(const std::string& key, const redis::Reply& r) {
  return key + ": " + (r.isError() ? r.str.substr(0, 120) : std::string("unexpected reply"));
}

}  // namespace

std::size_t FleetView::live_instances() const {
  return static_cast<std::size_t>(
      std::count_if(instances.begin(), instances.end(), [](const auto& i) { return !i.gone; }));
}

FleetView readFleet(const redis::RedisReadView& redis, const ReadOptions& o, std::int64_t nowMs) {
  FleetView v;
  v.read_at_ms = nowMs;
  v.window = o.window;
  const std::int64_t windowMs = std::chrono::duration_cast<std::chrono::milliseconds>(o.window).count();
  const std::int64_t goneMs = std::chrono::duration_cast<std::chrono::milliseconds>(o.gone_after).count();

  auto reg =
      redis.command({"ZRANGE", registryKey(), "0", std::to_string(std::max<std::size_t>(o.max_instances, 1) - 1)});
  if (reg.isError()) {
    if (reg.str.rfind("WRONGTYPE", 0) == 0) {
      malformed(v, wrongTypeReason(registryKey(), reg));
      return v;
    }
    throw DataError("reading " + registryKey() + " failed: " + reg.str);
  }
  std::vector<std::string> ids;
  if (reg.type == redis::Reply::Type::Array)
    for (const auto& e : reg.elements) {
      if (isString(e) && validInstanceId(e.str))
        ids.push_back(e.str);
      else
        malformed(v, "registry: an invalid instance id");
    }

  // One round trip: every instance's info and its recent entries.
  // A stream holds one entry per interval: the window needs at most window/interval of them
  // (interval >= 100 ms); the history one entry per 10 s.
  const std::int64_t perEntryMs = o.history ? kHistoryIntervalMs : 100;
  const std::string count = std::to_string(std::min<std::int64_t>(windowMs / perEntryMs + 2, 40'000));
  std::vector<redis::Command> cmds;
  for (const auto& id : ids) {
    redis::Command h{"HMGET", infoKey(id)};
    for (const auto& f : infoFields()) h.push_back(f);
    cmds.push_back(std::move(h));
    cmds.push_back({"XREVRANGE", o.history ? historyKey(id) : liveKey(id), "+", "-", "COUNT", count});
  }
  std::vector<redis::Reply> replies;
  if (!cmds.empty()) replies = redis.pipeline(cmds);

  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& infoReply = replies[2 * i];
    const auto& streamReply = replies[2 * i + 1];
    if (infoReply.type != redis::Reply::Type::Array) {
      malformed(v, wrongTypeReason(infoKey(ids[i]), infoReply));
      continue;
    }
    std::vector<std::optional<std::string>> values;
    for (const auto& e : infoReply.elements)
      values.push_back(isString(e) ? std::optional<std::string>(e.str) : std::nullopt);
    if (std::all_of(values.begin(), values.end(), [](const auto& x) { return !x; }))
      continue;  // expired: not an instance now
    std::string why;
    auto info = decodeInfo(values, &why);
    if (!info) {
      malformed(v, ids[i] + ": " + why);
      continue;
    }
    if (info->id != ids[i]) {
      malformed(v, ids[i] + ": info names another id");
      continue;
    }
    InstanceView inst;
    inst.info = std::move(*info);
    inst.gone = nowMs - inst.info.last_seen_ms > goneMs;
    if (streamReply.isError() || streamReply.type != redis::Reply::Type::Array) {
      if (!(streamReply.isNil()))
        malformed(v, wrongTypeReason(o.history ? historyKey(ids[i]) : liveKey(ids[i]), streamReply));
    } else {
      // XREVRANGE: newest first; each entry is [id, [field, value, ...]].
      for (auto it = streamReply.elements.rbegin(); it != streamReply.elements.rend(); ++it) {
        const auto& e = *it;
        if (e.type != redis::Reply::Type::Array || e.elements.size() != 2 ||
            e.elements[1].type != redis::Reply::Type::Array || e.elements[1].elements.size() % 2 != 0) {
          malformed(v, ids[i] + ": a stream entry of the wrong shape");
          continue;
        }
        std::vector<std::pair<std::string, std::string>> fields;
        bool shape = true;
        const auto& fv = e.elements[1].elements;
        for (std::size_t k = 0; k + 1 < fv.size(); k += 2) {
          if (!isString(fv[k]) || !isString(fv[k + 1])) {
            shape = false;
            break;
          }
          fields.emplace_back(fv[k].str, fv[k + 1].str);
        }
        std::optional<Sample> s;
        if (shape) s = decodeSample(fields, &why);
        if (!shape) why = "sample: a field that is not a string";
        if (!s) {
          malformed(v, ids[i] + ": " + why);
          continue;
        }
        if (s->t_ms <= nowMs - windowMs || s->t_ms > nowMs + 60'000) continue;  // outside the window
        if (inst.sample_count == 0)
          inst.total = *s;
        else
          inst.total.accumulate(*s);
        ++inst.sample_count;
        if (o.keep_samples) inst.samples.push_back(std::move(*s));
      }
    }
    inst.snapshot = inst.total.toSnapshot(o.window, nowMs);
    const std::uint64_t ops = inst.total.counters[static_cast<int>(metrics::Counter::Read)] +
                              inst.total.counters[static_cast<int>(metrics::Counter::Write)];
    inst.ops_per_s =
        inst.total.dt_ms > 0 ? static_cast<double>(ops) * 1000.0 / static_cast<double>(inst.total.dt_ms) : 0;
    v.instances.push_back(std::move(inst));
  }
  std::sort(v.instances.begin(), v.instances.end(), [](const InstanceView& a, const InstanceView& b) {
    return std::tie(a.info.app, a.info.id) < std::tie(b.info.app, b.info.id);
  });
  bool first = true;
  for (const auto& inst : v.instances) {
    if (inst.sample_count == 0) continue;
    if (first)
      v.total = inst.total;
    else
      v.total.combine(inst.total);
    first = false;
  }
  v.snapshot = v.total.toSnapshot(o.window, nowMs);
  return v;
}

}  // namespace tier::fleet
