#include "tier/ops/alert_history.h"

#include "common/utf8.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <random>

#include "common/sql_text.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"

namespace tier::ops {

namespace {
std::string ms(std::int64_t v) {
  return std::to_string(v);
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// ISO 8601 UTC with milliseconds, as a spreadsheet reads it.
std::string isoTime(std::int64_t unixMs) {
  const std::time_t s = std::time_t(unixMs / 1000);
  std::tm tm{};
  ::gmtime_r(&s, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, int(unixMs % 1000));
  return buf;
}

void requireUtf8(const std::string& text, const char* what) {
  // PostgreSQL's own refusal would name a byte and an SQLSTATE, not the field.
  if (!detail::isStrictUtf8(text)) throw BadInputError(std::string("the alert history ") + what + " is not valid UTF-8");
}

std::string checkedKind(const std::string& k) {
  if (k == "console" || k == "instance" || k == "fleet") return k;
  throw BadInputError("alert source kind must be console, instance or fleet, not \u2018" + k + "\u2019");
}

// One statement for both ends: the raise and the end may reach PostgreSQL in either order.
constexpr const char* kUpsert =
    "INSERT INTO alert_history (recorder, started_at, ended_at, source_kind, source, metric, status, value, worst, "
    "limit_value, unit, duration_ms, profile, os_user) "
    "VALUES ($1, to_timestamp($2::bigint / 1000.0), CASE WHEN $3::bigint > 0 THEN to_timestamp($3::bigint / 1000.0) "
    "END, "
    "$4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $3::bigint > 0 THEN $3::bigint - $2::bigint END, $12, $13) "
    "ON CONFLICT (recorder, metric, started_at) DO UPDATE SET "
    "ended_at = coalesce(EXCLUDED.ended_at, alert_history.ended_at), "
    "duration_ms = coalesce(EXCLUDED.duration_ms, alert_history.duration_ms), "
    // The end's worst is final (the monitor's worst is cumulative); raises of an open row (an escalation,
    // warn -> violation) may land in either order, so the worse of the two is kept.
    "worst = CASE WHEN EXCLUDED.ended_at IS NOT NULL THEN EXCLUDED.worst "
    "WHEN alert_history.ended_at IS NOT NULL THEN alert_history.worst "
    "WHEN alert_history.unit = 'ratio' THEN least(alert_history.worst, EXCLUDED.worst) "
    "ELSE greatest(alert_history.worst, EXCLUDED.worst) END, "
    // Once red, the row stays red: a de-escalation does not hide that the limit was broken.
    "status = CASE WHEN alert_history.status = 'violation' THEN alert_history.status ELSE EXCLUDED.status END, "
    "source = CASE WHEN alert_history.source = '' THEN EXCLUDED.source ELSE alert_history.source END";

void upsert(TierCore& core, const AlertRecord& r, std::int64_t endedMs) {
  if (r.metric.empty()) throw BadInputError("an alert needs a metric name");
  if (r.recorder.empty()) throw BadInputError("an alert needs its recorder id");
  if (r.started_ms <= 0) throw BadInputError("an alert needs its start time");
  requireUtf8(r.metric, "metric");
  requireUtf8(r.source, "source");
  requireUtf8(r.status, "status");
  requireUtf8(r.unit, "unit");
  auto c = core.pg().acquire();
  c->execPrepared("alert_history_upsert", kUpsert,
                  {r.recorder, ms(r.started_ms), ms(endedMs), checkedKind(r.source_kind), r.source, r.metric,
                   r.status.empty() ? "violation" : r.status, number(r.value), number(r.worst), number(r.limit), r.unit,
                   core.config().profile, osUserName()});
}
}  // namespace

std::string alertRecorderId() {
  static const std::string id = [] {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::random_device rd;
    char tail[17];
    std::snprintf(tail, sizeof tail, "%08x%08x", rd(), rd());
    return std::string(host) + ":" + std::to_string(::getpid()) + ":" + tail;
  }();
  return id;
}

void recordAlertRaised(TierCore& core, const AlertRecord& r) {
  upsert(core, r, 0);
}

void recordAlertEnded(TierCore& core, const AlertRecord& r) {
  upsert(core, r, std::max(r.ended_ms, r.started_ms));
}

std::vector<AlertHistoryRow> listAlertHistory(TierCore& core, const AlertHistoryFilter& f) {
  requireUtf8(f.metric, "metric filter");
  requireUtf8(f.source, "source filter");
  requireUtf8(f.text, "text filter");
  auto c = core.pg().acquire();
  auto r = c->execPrepared(
      "alert_history_list",
      "SELECT id, (extract(epoch from started_at)*1000)::bigint, (extract(epoch from ended_at)*1000)::bigint, "
      "duration_ms, source_kind, source, metric, status, unit, profile, os_user, value, worst, limit_value "
      "FROM alert_history "
      "WHERE ($1 = '' OR metric = $1) AND ($2 = '' OR source ILIKE $3 OR source_kind ILIKE $3) "
      "AND ($4 = '' OR metric ILIKE $5 OR source ILIKE $5 OR status ILIKE $5 OR profile ILIKE $5 OR os_user ILIKE $5) "
      "AND ($6::bigint = 0 OR started_at >= to_timestamp($6::bigint / 1000.0)) "
      "ORDER BY started_at DESC, id DESC LIMIT $7",
      {f.metric, f.source, detail::likeSubstring(f.source), f.text, detail::likeSubstring(f.text), ms(f.since_ms),
       std::to_string(std::clamp(f.limit, 1, 100000))});
  std::vector<AlertHistoryRow> out;
  out.reserve(std::size_t(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    AlertHistoryRow a;
    a.id = r.toInt(i, 0);
    a.started_ms = r.toInt(i, 1);
    if (!r.isNull(i, 2)) a.ended_ms = r.toInt(i, 2);
    if (!r.isNull(i, 3)) a.duration_ms = r.toInt(i, 3);
    a.source_kind = std::string(r.value(i, 4));
    a.source = std::string(r.value(i, 5));
    a.metric = std::string(r.value(i, 6));
    a.status = std::string(r.value(i, 7));
    a.unit = std::string(r.value(i, 8));
    a.profile = std::string(r.value(i, 9));
    a.os_user = std::string(r.value(i, 10));
    a.value = r.toDouble(i, 11);
    a.worst = r.toDouble(i, 12);
    a.limit = r.toDouble(i, 13);
    out.push_back(std::move(a));
  }
  return out;
}

std::string csvField(const std::string& text) {
  std::string v = text;
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
    v.insert(v.begin(), '\'');
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

std::string alertHistoryCsv(const std::vector<AlertHistoryRow>& rows) {
  std::string out =
      "started,ended,duration_ms,source_kind,source,metric,status,value,worst,limit,unit,profile,os_user\r\n";
  for (const auto& a : rows) {
    // Numbers are written by us (never text from elsewhere): no formula guard, so -1 stays a number.
    out += isoTime(a.started_ms) + ',' + (a.ended_ms ? isoTime(*a.ended_ms) : std::string()) + ',' +
           (a.duration_ms ? std::to_string(*a.duration_ms) : std::string()) + ',' + csvField(a.source_kind) + ',' +
           csvField(a.source) + ',' + csvField(a.metric) + ',' + csvField(a.status) + ',' + number(a.value) + ',' +
           number(a.worst) + ',' + number(a.limit) + ',' + csvField(a.unit) + ',' + csvField(a.profile) + ',' +
           csvField(a.os_user) + "\r\n";
  }
  return out;
}

}  // namespace tier::ops
