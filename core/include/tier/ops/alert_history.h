#pragma once
// Alert history in PostgreSQL (alert_history, migration 005): the threshold
// violations a console saw, kept after it closes. The console writes a row when
// an alert is raised and completes it when the alert ends; both writes are
// upserts on (recorder, metric, started), so they may land in either order.
// Every call is blocking (one round trip): run it on a worker.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tier {
class TierCore;
}

namespace tier::ops {

struct AlertRecord {
  std::string recorder;                 // the console process writing it (alertRecorderId())
  std::string source_kind = "console";  // console | instance | fleet
  std::string source;                   // "This console", an instance's name, "Fleet: a, b"
  std::string metric;                   // threshold name
  std::string status = "violation";
  double value = 0;  // when raised
  double worst = 0;
  double limit = 0;
  std::string unit;
  std::int64_t started_ms = 0;  // Unix ms
  std::int64_t ended_ms = 0;    // 0 while raised
};

struct AlertHistoryRow {
  std::int64_t id = 0;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms;  // none: still raised, or the console stopped first
  std::optional<std::int64_t> duration_ms;
  std::string source_kind, source, metric, status, unit, profile, os_user;
  double value = 0, worst = 0, limit = 0;
};

struct AlertHistoryFilter {
  std::string metric;         // exact threshold name; empty = any
  std::string source;         // substring of source or source_kind (literal); empty = any
  std::string text;           // substring of metric, source, status, profile or user (literal); empty = any
  std::int64_t since_ms = 0;  // started at or after; 0 = any time
  int limit = 500;            // newest first, clamped to 1..100000
};

// "host:pid:random": tells this process's rows from another console's with the same metric and start.
std::string alertRecorderId();

// An alert was raised (r.ended_ms == 0) or ended. Throws tier::Error (PermissionError for a
// role that may not write alert_history) when the row could not be written.
void recordAlertRaised(TierCore& core, const AlertRecord& r);
void recordAlertEnded(TierCore& core, const AlertRecord& r);

// Newest first; every filter is a query parameter.
std::vector<AlertHistoryRow> listAlertHistory(TierCore& core, const AlertHistoryFilter& filter);

// RFC 4180 CSV with a header line, CRLF line ends. A field that starts with = + - @ (or a tab
// or CR) gets a leading ' so a spreadsheet shows it as text rather than running it as a formula.
std::string alertHistoryCsv(const std::vector<AlertHistoryRow>& rows);
std::string csvField(const std::string& text);

}  // namespace tier::ops
