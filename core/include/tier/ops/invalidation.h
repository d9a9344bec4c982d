#pragma once
// Invalidation: by key, by glob pattern within a namespace, by namespace, by user.
//
// Patterns use SCAN MATCH in batches and pipelined UNLINK — never KEYS — on every
// master in turn (a Redis Cluster: each master SCANs only its own slots, and
// each UNLINK carries keys of one slot, so nothing fails with CROSSSLOT), so Redis
// is never blocked; progress is reported per batch and the job can be cancelled
// between batches. The keys a page matched are removed through
// TieredCache::invalidateMany (write epoch and L1 first, one UNLINK pipeline,
// then settle), so a read in flight cannot put an old copy back into L1;
// each page costs two round trips (its SCAN, its UNLINKs). A dry run returns
// the exact count and a sample. A namespace
// invalidation is O(1): a generation bump (every copy filled under an older
// generation becomes a miss everywhere, this instance's L1 copies included;
// those are freed lazily: when met, evicted or expired).
// Every run (dry or not) writes an audit row. Internal keys (tc:*) are never
// deleted by a pattern, even with allow_any_namespace.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tier {
class TierCore;
}

namespace tier::ops {

enum class InvalidateKind { Key, Pattern, Namespace, User };
const char* toString(InvalidateKind k) noexcept;  // key, pattern, namespace, user

struct InvalidateRequest {
  InvalidateKind kind = InvalidateKind::Key;
  std::string target;          // key, glob, namespace name, or user id
  bool dry_run = false;
  bool allow_any_namespace = false;  // permit a pattern without a namespace prefix
  int sample_size = 20;        // keys returned in the sample (0..10000)
  int scan_count = 1000;       // SCAN COUNT hint per batch (1..10000: larger blocks Redis longer)
  int unlink_batch = 500;      // keys per UNLINK in the pipeline (1..10000)
};

struct InvalidateProgress {
  long long scanned = 0;  // keys examined by SCAN so far
  long long matched = 0;
  long long deleted = 0;
  bool done = false;
};

// One master's share of a pattern run (a Redis Cluster has several; a single
// server or a Sentinel-managed master is one).
struct NodeInvalidation {
  std::string node;       // "host:port" of the master scanned
  long long scanned = 0;  // keys its SCAN returned
  long long matched = 0;  // of those, matching and not seen before
  long long deleted = 0;  // UNLINK's count for the keys found there
};

struct InvalidateResult {
  InvalidateKind kind = InvalidateKind::Key;
  std::string target;
  bool dry_run = false;
  long long matched = 0;  // keys that matched (in L2; namespace: keys carrying the namespace prefix)
  long long deleted = 0;  // keys actually removed from L2 (UNLINK's count; a key that expired
                          // between SCAN and UNLINK is matched but not deleted)
  long long l1_dropped = 0;  // namespace: this instance's L1 copies retired by the bump (freed lazily)
  std::uint32_t new_generation = 0;  // namespace only
  std::vector<std::string> sample;
  // Pattern (and namespace dry run): per master, in scan order. The totals
  // above are the sums of these. A key found on one node whose slot moved
  // before its UNLINK is deleted where it now lives and counted for the node
  // that found it.
  std::vector<NodeInvalidation> nodes;
  // Pattern on a cluster: how many times every master was scanned (a walk is
  // repeated while the slot map changes or a slot migration is under way, at
  // most 5 times), and false if slots were still moving after the last pass
  // (a key that moved to an already-scanned master may remain: run it again).
  int scan_passes = 1;
  bool slot_map_settled = true;
  bool cancelled = false;
  double duration_ms = 0;
  std::int64_t audit_id = 0;
  std::string audit_error;  // non-empty if the audit row could not be written
};

// Validates the request (BadInputError for an unknown namespace, a pattern without
// a namespace, a 1 MB key, non-UTF-8 text...) before touching anything.
void validate(const InvalidateRequest& req);

// Runs it. progress (may be empty) is called from this thread at most every
// ~100 ms and once at the end; cancel (may be null) is polled between batches.
// Throws tier::Error if Redis fails (the result so far is lost only for counts;
// the keys already deleted stay deleted — the audit row records "error").
InvalidateResult invalidate(TierCore& core, const InvalidateRequest& req,
                            const std::function<void(const InvalidateProgress&)>& progress = {},
                            const std::atomic<bool>* cancel = nullptr);

}  // namespace tier::ops
