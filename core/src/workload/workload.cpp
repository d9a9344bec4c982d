#include "tier/workload/workload.h"

#include <unistd.h>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#endif

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <vector>

#include "tier/common/clock.h"
#include "tier/common/error.h"
#include "tier/common/random.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/capabilities.h"
#include "tier/ops/deployment.h"

namespace tier::workload {

namespace detail {

namespace {
std::uint64_t mix64(std::uint64_t x) {
  random::Rng r(x);
  return r.next();
}
}  // namespace

std::size_t AckTracker::shardOf(std::int64_t id) noexcept {
  return static_cast<std::size_t>((static_cast<std::uint64_t>(id) * 0x9e3779b97f4a7c15ULL) >> 58) % kShards;
}

void AckTracker::ack(std::int64_t id, std::int64_t value) {
  Shard& s = shards_[shardOf(id)];
  std::lock_guard<std::mutex> g(s.mu);
  auto& v = s.acked[id];
  v = std::max(v, value);
}

std::int64_t AckTracker::expected(std::int64_t id) const {
  const Shard& s = shards_[shardOf(id)];
  std::lock_guard<std::mutex> g(s.mu);
  auto it = s.acked.find(id);
  return it == s.acked.end() ? 0 : it->second;
}

std::size_t AckTracker::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> g(s.mu);
    n += s.acked.size();
  }
  return n;
}

void AckTracker::clear() {
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> g(s.mu);
    s.acked.clear();
  }
}

}  // namespace detail

namespace {

using random::Permutation;
using random::Rng;
using random::ZipfSampler;

constexpr std::size_t kMaxActiveSessions = 20000;
// How far the pacer lets workers catch up after falling behind (bounds bursts).
constexpr auto kPacerCatchUp = std::chrono::milliseconds(50);
constexpr int kStripes = 32;

enum Kind { EntryRead = 0, SessionRead, MessageAppend, KnowledgeLookup, AnalyticsRead, EntryEdit, Search, kKinds };

// The synthetic rows of a run (WriteMode::Synthetic).
constexpr int kSyntheticUsers = 8;
constexpr int kSyntheticEntriesPerUser = 6;
constexpr int kSyntheticSessionsPerUser = 2;
// Advisory lock class of a live synthetic run ("ti"); the object is hashtext(run_id).
constexpr const char* kRunLockClass = "29801";
constexpr const char* kSyntheticDomain = "@synthetic.invalid";

std::string newRunId() {
  std::random_device rd;
  const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                          static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// A connection of its own for a run's liveness lock (or cleanup's probe of
// it), so that it never takes one of the core pool's, which may hold just one.
std::unique_ptr<pg::PgPool> lockPool(TierCore& core) {
  pg::PgOptions o = core.pg().options();
  o.pool_size = 1;
  o.application_name = "tierconsole-load-run";
  return std::make_unique<pg::PgPool>(o);
}

std::string jsonText(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString(); }

// Deletes the rows of one synthetic run (its users and everything that belongs
// to them, found by the run's e-mail prefix: never a row it did not create) in
// one transaction, then invalidates their cache copies through the cache's
// write path (write epochs, repairs, backplane). Returns the rows deleted.
std::uint64_t removeRunRows(TierCore& core, const std::string& runId) {
  std::vector<std::string> keys;
  std::uint64_t removed = 0;
  {
    auto c = core.pg().acquire();
    pg::Transaction tx(*c);
    // run_id is 16 hex digits (checked by the table), so it has no LIKE metacharacters.
    const std::string like = "load-" + runId + "-%" + kSyntheticDomain;
    auto u = c->exec("SELECT coalesce(array_agg(id), '{}') FROM users WHERE email LIKE $1", {like});
    const std::string ids(u.value(0, 0));
    removed += static_cast<std::uint64_t>(
        c->exec("DELETE FROM chat_messages WHERE session_id IN (SELECT id FROM chat_sessions WHERE user_id = "
                "ANY($1::bigint[]))",
                {ids})
            .affected());
    auto sess = c->exec("DELETE FROM chat_sessions WHERE user_id = ANY($1::bigint[]) RETURNING id", {ids});
    for (int i = 0; i < sess.rows(); ++i) keys.push_back(codec::sessionKey(sess.toInt(i, 0)));
    auto ent = c->exec("DELETE FROM journal_entries WHERE user_id = ANY($1::bigint[]) RETURNING id", {ids});
    for (int i = 0; i < ent.rows(); ++i) keys.push_back(codec::entryKey(ent.toInt(i, 0)));
    auto usr = c->exec("DELETE FROM users WHERE id = ANY($1::bigint[]) RETURNING id", {ids});
    for (int i = 0; i < usr.rows(); ++i) {
      keys.push_back(codec::userKey(usr.toInt(i, 0)));
      for (int d : repo::AnalyticsRepository::periods())
        keys.push_back(codec::statsKey(usr.toInt(i, 0), std::to_string(d) + "d"));
    }
    removed += static_cast<std::uint64_t>(sess.rows() + ent.rows() + usr.rows());
    c->exec("UPDATE tier_load_runs SET finished_at = now() WHERE run_id = $1 AND finished_at IS NULL", {runId});
    tx.commit();
  }
  // After the commit: a fill that began before cannot store the old row (write epoch).
  for (const auto& k : keys) core.cache().invalidateAfterWrite(k);
  return removed;
}

// A Zipf-skewed choice over n items, ranks spread by a fixed permutation.
struct ItemSpace {
  ZipfSampler zipf;
  Permutation perm;
  ItemSpace(std::uint64_t n, double s, std::uint64_t seed) : zipf(n, s), perm(n, seed) {}
  std::uint64_t pick(Rng& rng) const { return perm(zipf.sample(rng) - 1); }
  std::uint64_t size() const { return zipf.n(); }
};

struct alignas(64) Stripe {
  std::atomic<std::uint64_t> operations{0}, reads{0}, misses{0}, writes{0}, skipped{0}, failed_reads{0},
      failed_writes{0}, stale{0}, searches{0};
  void reset() {
    for (auto* c : {&operations, &reads, &misses, &writes, &skipped, &failed_reads, &failed_writes, &stale, &searches})
      c->store(0, std::memory_order_relaxed);
  }
};

// Serialises operation slots for a target rate shared by all workers.
class Pacer {
 public:
  void set(double rate, Clock::time_point now) {
    std::lock_guard<std::mutex> g(mu_);
    if (rate == rate_) return;
    rate_ = rate;
    next_ = now;  // a new rate starts now: no backlog, no burst
  }
  // The time at which the caller may run its operation; nullopt = unlimited.
  std::optional<Clock::time_point> reserve(Clock::time_point now) {
    std::lock_guard<std::mutex> g(mu_);
    if (rate_ <= 0) return std::nullopt;
    next_ = std::max(next_, now - std::chrono::duration_cast<Clock::duration>(kPacerCatchUp));
    const Clock::time_point slot = next_;
    next_ += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate_));
    return slot;
  }

 private:
  std::mutex mu_;
  double rate_ = 0;            // guarded by mu_
  Clock::time_point next_{};  // guarded by mu_
};

const char* const kWords[] = {"today",   "felt",    "calm",    "anxious", "walked",  "talked", "slept",
                              "better",  "worse",   "morning", "evening", "therapy", "breath", "focus",
                              "friends", "work",    "tired",   "hopeful", "grateful", "noticed", "thoughts",
                              "journal", "session", "small",   "steps",   "again",   "really", "quiet"};

std::string sentence(Rng& rng, int minWords, int maxWords) {
  const int n = minWords + static_cast<int>(rng.below(static_cast<std::uint64_t>(maxWords - minWords + 1)));
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += kWords[rng.below(std::size(kWords))];
  }
  return out;
}

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

}  // namespace

struct Workload::Impl {
  TierCore& core;
  const WorkloadOptions opts;  // immutable; the live rate and population are below
  std::atomic<double> rate;
  std::atomic<int> virtualUsers;

  // Loaded by start() while no worker runs; read-only while workers run.
  std::int64_t entryLo = 0, userLo = 0;
  std::optional<ItemSpace> entries, users, sessions, knowledge;
  std::vector<std::int64_t> activeSessions;
  std::unique_ptr<std::atomic<bool>[]> sessionClosed;  // per activeSessions slot: appends refused
  std::vector<std::string> slugs;
  std::array<int, kKinds> weights{};     // the mix's weights for the loaded data, before the write policy
  std::array<int, kKinds> cumulative{};  // cumulative effective weights

  detail::AckTracker entryAcks;    // entry id -> version
  detail::AckTracker sessionAcks;  // session id -> message seq
  Stripe stripes[kStripes];
  mutable std::mutex errorMu;
  std::string lastError;  // guarded by errorMu

  // The write policy of the current run: written by start() (under errorMu, which counters() reads under) before any worker exists.
  WriteMode mode = WriteMode::ReadOnly;
  std::string modeReason, modeDetail;
  double writeShare = 0;
  std::string runId;                         // synthetic runs
  std::unique_ptr<pg::PgPool> runLockPool;   // its one connection holds the run's advisory lock while it lives
  std::optional<pg::PgPool::Lease> runLock;
  std::vector<std::int64_t> synthEntries, synthSessions;
  std::unique_ptr<std::atomic<bool>[]> synthClosed;  // per synthSessions slot
  std::atomic<std::uint64_t> synthCreated{0}, synthRemoved{0};
  bool finished = true;  // guarded by lifeMu: the end of the current run was handled
  Clock::time_point startedAt{};
  std::string cleanupError, auditError;  // guarded by errorMu
  std::int64_t auditStartId = 0, auditEndId = 0;  // guarded by errorMu

  Pacer pacer;
  std::mutex lifeMu;                 // serialises start/stop
  std::vector<std::thread> threads;  // guarded by lifeMu
  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};
  std::atomic<std::uint64_t> wakeGen{0};  // bumped when sleepers should re-plan (rate / population change)
  std::atomic<std::uint64_t> vuGen{0};    // bumped by setVirtualUsers
  std::atomic<std::int64_t> startNs{0}, endNs{0};
  Clock::time_point deadline{};  // written by start() before the workers exist; max() = none
  std::mutex wakeMu;
  std::condition_variable wakeCv;  // workers sleep here
  std::condition_variable doneCv;  // wait() sleeps here

  Impl(TierCore& c, WorkloadOptions o)
      : core(c), opts(std::move(o)), rate(std::max(opts.rate, 0.0)), virtualUsers(std::max(opts.virtual_users, 0)) {}

  void wakeAll() {
    { std::lock_guard<std::mutex> g(wakeMu); }  // a sleeper between its check and its wait cannot miss us
    wakeCv.notify_all();
  }

  // Sleeps until t; false if woken early (stop, or a re-plan since `gen`).
  bool sleepUntil(Clock::time_point t, std::uint64_t gen) {
    std::unique_lock<std::mutex> l(wakeMu);
    return !wakeCv.wait_until(l, t, [&] { return stopping.load() || wakeGen.load() != gen; });
  }

  void noteError(const std::string& what) {
    std::lock_guard<std::mutex> g(errorMu);
    lastError = what;
  }

  void validate() const {
    const Mix& m = opts.mix;
    for (int w : {m.entry_read, m.session_read, m.message_append, m.knowledge_lookup, m.analytics_read, m.entry_edit,
                  m.search})
      if (w < 0) throw BadInputError("workload mix weights must be >= 0");
    if (opts.threads < 1) throw BadInputError("workload needs at least 1 thread");
    if (opts.threads > 1024) throw BadInputError("workload threads must be at most 1024");
    if (!(opts.zipf_s >= 0) || !std::isfinite(opts.zipf_s)) throw BadInputError("zipf skew must be a number >= 0");
    if (opts.think_time.count() < 0) throw BadInputError("think time must be >= 0");
    if (opts.duration.count() < 0) throw BadInputError("duration must be >= 0");
  }

  void load() {
    loadIds();
    slugs = core.knowledge().allSlugs();  // after loadIds() released its connection: the pool may hold just one
    knowledge.reset();
    if (!slugs.empty()) knowledge.emplace(slugs.size(), opts.zipf_s, opts.seed ^ 0x4);

    if (!users || (!entries && !sessions && !knowledge))
      throw NotFoundError("no data: run `tierctl seed` or `tierctl sandbox up` first");

    const Mix& m = opts.mix;
    weights = {entries ? m.entry_read : 0,        sessions ? m.session_read : 0, sessions ? m.message_append : 0,
               knowledge ? m.knowledge_lookup : 0, m.analytics_read,          entries ? m.entry_edit : 0,
               m.search};
  }

  // Sets the weights of the mode; the write kinds are 0 unless it writes.
  void applyWeights() {
    std::array<int, kKinds> w = weights;
    if (mode == WriteMode::ReadOnly) w[MessageAppend] = w[EntryEdit] = 0;
    if (mode == WriteMode::Synthetic) {
      if (synthSessions.empty()) w[MessageAppend] = 0;
      if (synthEntries.empty()) w[EntryEdit] = 0;
    }
    std::partial_sum(w.begin(), w.end(), cumulative.begin());
    if (cumulative.back() <= 0)
      throw BadInputError(mode == WriteMode::ReadOnly
                              ? "the workload mix selects no read the loaded data can serve (the load is read-only: " +
                                    modeReason + ")"
                              : "the workload mix selects no operation the loaded data can serve");
    const int total = cumulative.back();
    std::lock_guard<std::mutex> g(errorMu);
    writeShare = static_cast<double>(w[MessageAppend] + w[EntryEdit]) / total;
  }

  void setMode(WriteMode m, std::string reason, std::string detail) {
    std::lock_guard<std::mutex> g(errorMu);  // counters() reads them from any thread
    mode = m;
    modeReason = std::move(reason);
    modeDetail = std::move(detail);
  }

  // Decides what this run may write (see the header comment). Blocking: a few round trips.
  void decideMode() {
    if (weights[MessageAppend] + weights[EntryEdit] == 0)
      return setMode(WriteMode::ReadOnly, "read-only: the mix has no writes", "No write kind has a weight in the mix.");
    const ops::SandboxMark mark = ops::checkSandbox(core.pg());
    if (!mark.sandbox && !opts.allow_writes)
      return setMode(WriteMode::ReadOnly, "read-only: not a sandbox database",
                     "Not a sandbox: " + mark.reason + ". Writes need explicit consent (tierctl load --allow-writes), "
                     "and then go to synthetic rows only.");
    const WriteMode wanted = mark.sandbox ? WriteMode::Sandbox : WriteMode::Synthetic;
    // The privileges the mode's writes (and their audit rows) need; a missing table reads as refused.
    const char* needed = wanted == WriteMode::Sandbox
                             ? "('journal_entries', 'UPDATE'), ('chat_sessions', 'UPDATE'), ('chat_messages', 'INSERT'), "
                               "('cache_audit', 'INSERT')"
                             : "('users', 'INSERT'), ('users', 'DELETE'), ('journal_entries', 'INSERT'), "
                               "('journal_entries', 'UPDATE'), ('journal_entries', 'DELETE'), ('chat_sessions', 'INSERT'), "
                               "('chat_sessions', 'UPDATE'), ('chat_sessions', 'DELETE'), ('chat_messages', 'INSERT'), "
                               "('chat_messages', 'DELETE'), ('tier_load_runs', 'INSERT'), ('tier_load_runs', 'UPDATE'), "
                               "('cache_audit', 'INSERT')";
    std::string refused, role;
    {
      auto c = core.pg().acquire();
      auto r = c->exec(std::string("SELECT current_user::text, t.name, t.priv, coalesce(has_table_privilege(current_user, "
                                   "to_regclass(t.name), t.priv), false) FROM (VALUES ") +
                       needed + ") AS t(name, priv)");
      for (int i = 0; i < r.rows(); ++i) {
        role = std::string(r.value(i, 0));
        if (r.value(i, 3) != "t")
          refused += std::string(refused.empty() ? "" : ", ") + std::string(r.value(i, 2)) + " " + std::string(r.value(i, 1));
      }
    }
    if (!refused.empty())
      return setMode(WriteMode::ReadOnly, "read-only: PostgreSQL role may not write",
                     "PostgreSQL role \u2018" + role + "\u2019 may not " + refused + ".");
    if (core.hasRedis()) {
      const ops::Capabilities caps = ops::probeCapabilities(core);
      if (!caps.cache_write.allowed)
        return setMode(WriteMode::ReadOnly, "read-only: Redis user may not write", caps.cache_write.reason);
    }
    if (wanted == WriteMode::Sandbox)
      return setMode(WriteMode::Sandbox, "writes: sandbox",
                     "The sandbox: " + mark.reason + "; edits and appends go to any row.");
    setMode(WriteMode::Synthetic, "writes: synthetic rows only (consented)",
            "Not a sandbox (" + mark.reason + "); with consent, writes go only to rows this run creates and removes.");
  }

  // Registers the synthetic run, takes its liveness lock, creates its rows.
  void beginSynthetic() {
    {
      std::lock_guard<std::mutex> g(errorMu);
      runId = newRunId();
    }
    // The lock first: a cleanup never sees this run registered but unlocked (it would close it as dead).
    runLockPool = lockPool(core);
    runLock.emplace(runLockPool->acquire());
    if ((*runLock)->exec("SELECT pg_try_advisory_lock($1::int, hashtext($2))", {kRunLockClass, runId}).value(0, 0) != "t")
      throw Error(ErrorKind::Internal, "the load run's lock is taken (run id collision); start again");
    {
      auto c = core.pg().acquire();
      c->exec("INSERT INTO tier_load_runs (run_id, host, pid, os_user, profile) VALUES ($1, $2, $3, $4, $5)",
              {runId, hostName(), std::to_string(::getpid()), ops::osUserName(), core.config().profile});
    }
    Rng rng(detail::mix64(opts.seed ^ 0x5eed));
    for (int u = 0; u < kSyntheticUsers; ++u) {
      const repo::User user =
          core.users().create("load-" + runId + "-" + std::to_string(u + 1) + kSyntheticDomain,
                              "Synthetic load user " + std::to_string(u + 1) + " (run " + runId + ")");
      synthCreated.fetch_add(1);
      for (int e = 0; e < kSyntheticEntriesPerUser; ++e) {
        repo::EntryDraft d;
        d.title = "Synthetic: " + sentence(rng, 2, 6);
        d.content = sentence(rng, 12, 40);
        d.mood_score = 1 + static_cast<int>(rng.below(10));
        synthEntries.push_back(core.entries().create(user.id, d).id);
        synthCreated.fetch_add(1);
      }
      for (int k = 0; k < kSyntheticSessionsPerUser; ++k) {
        synthSessions.push_back(core.sessions().create(user.id, "Synthetic session " + std::to_string(k + 1)).id);
        synthCreated.fetch_add(1);
      }
    }
    synthClosed = std::make_unique<std::atomic<bool>[]>(synthSessions.size());
  }

  // Removes the synthetic run's rows and releases its lock. Never throws.
  void endSynthetic() {
    if (runId.empty()) return;
    try {
      synthRemoved.fetch_add(removeRunRows(core, runId));
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> g(errorMu);
      cleanupError = std::string("the run's synthetic rows could not all be removed (tierctl load --cleanup retries): ") +
                     redactSecrets(e.what());
    }
    if (runLock) {
      try {
        (*runLock)->exec("SELECT pg_advisory_unlock($1::int, hashtext($2))", {kRunLockClass, runId});
      } catch (const std::exception&) {
        // A broken connection released the lock with itself.
      }
      runLock.reset();
    }
    runLockPool.reset();
  }

  void audit(const std::string& phase, const WorkloadCounters* end) {
    if (opts.audit_action.empty()) return;
    QJsonObject args{{QStringLiteral("users"), virtualUsers.load()},
                     {QStringLiteral("rate"), rate.load()},
                     {QStringLiteral("threads"), opts.threads},
                     {QStringLiteral("duration_s"), static_cast<double>(opts.duration.count())},
                     {QStringLiteral("write_mode"), QString::fromLatin1(toString(mode))},
                     {QStringLiteral("write_mode_reason"), QString::fromStdString(modeReason)}};
    if (!runId.empty()) args.insert(QStringLiteral("run_id"), QString::fromStdString(runId));
    ops::AuditRecord a;
    a.action = opts.audit_action + "." + phase;
    a.result = "ok";
    if (end) {
      args.insert(QStringLiteral("elapsed_s"), end->elapsed_s);
      args.insert(QStringLiteral("operations"), static_cast<double>(end->operations));
      args.insert(QStringLiteral("reads"), static_cast<double>(end->reads));
      args.insert(QStringLiteral("searches"), static_cast<double>(end->searches));
      args.insert(QStringLiteral("writes"), static_cast<double>(end->writes));
      args.insert(QStringLiteral("failed_reads"), static_cast<double>(end->failed_reads));
      args.insert(QStringLiteral("failed_writes"), static_cast<double>(end->failed_writes));
      args.insert(QStringLiteral("stale_reads"), static_cast<double>(end->stale_reads));
      args.insert(QStringLiteral("synthetic_rows_created"), static_cast<double>(end->synthetic_rows_created));
      args.insert(QStringLiteral("synthetic_rows_removed"), static_cast<double>(end->synthetic_rows_removed));
      a.matched = static_cast<long long>(end->reads);
      a.affected = static_cast<long long>(end->writes);
      a.duration_ms = end->elapsed_s * 1000.0;
      if (!end->cleanup_error.empty())
        a.result = "error: " + end->cleanup_error;
      else if (end->failed_reads + end->failed_writes + end->stale_reads > 0)
        a.result = "partial";
    }
    a.args_json = jsonText(args);
    try {
      const std::int64_t id = ops::writeAudit(core, a);
      std::lock_guard<std::mutex> g(errorMu);
      (end ? auditEndId : auditStartId) = id;
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> g(errorMu);
      auditError = "the " + a.action + " audit row could not be written: " + redactSecrets(e.what());
    }
  }

  // The end of a started run: remove synthetic rows, write the end audit row. REQUIRES: lifeMu, workers joined.
  void finish(Workload& self) {
    if (finished) return;
    finished = true;
    endSynthetic();
    const WorkloadCounters c = self.counters();
    audit("end", &c);
  }

  void loadIds() {
    auto conn = core.pg().acquire();
    auto schema = conn->exec(
        "SELECT to_regclass('journal_entries') IS NOT NULL AND to_regclass('chat_sessions') IS NOT NULL AND "
        "to_regclass('users') IS NOT NULL AND to_regclass('psychology_knowledge') IS NOT NULL");
    if (schema.value(0, 0) != "t") throw NotFoundError("no schema: run `tierctl migrate` or `tierctl sandbox up` first");

    auto range = [&](const char* sql, std::int64_t& lo, std::optional<ItemSpace>& space, std::uint64_t salt) {
      auto r = conn->exec(sql);
      space.reset();
      if (r.toInt(0, 2) == 0) return;
      lo = r.toInt(0, 0);
      const auto n = static_cast<std::uint64_t>(r.toInt(0, 1) - lo + 1);
      space.emplace(n, opts.zipf_s, opts.seed ^ salt);
    };
    range("SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM journal_entries", entryLo, entries, 0x1);
    range("SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM users", userLo, users, 0x2);

    // The most recently active first, so the cap keeps the sessions people are in.
    auto s = conn->exec("SELECT id FROM chat_sessions WHERE status = 'active' ORDER BY last_active_at DESC LIMIT $1",
                        {std::to_string(kMaxActiveSessions)});
    activeSessions.clear();
    for (int i = 0; i < s.rows(); ++i) activeSessions.push_back(s.toInt(i, 0));
    sessionClosed = std::make_unique<std::atomic<bool>[]>(activeSessions.size());
    sessions.reset();
    if (!activeSessions.empty()) sessions.emplace(activeSessions.size(), opts.zipf_s, opts.seed ^ 0x3);
  }

  std::int64_t pickEntry(Rng& rng) const { return entryLo + static_cast<std::int64_t>(entries->pick(rng)); }
  std::int64_t pickUser(Rng& rng) const { return userLo + static_cast<std::int64_t>(users->pick(rng)); }

  Kind pickKind(Rng& rng) const {
    const auto r = static_cast<int>(rng.below(static_cast<std::uint64_t>(cumulative.back())));
    int k = 0;
    while (r >= cumulative[static_cast<std::size_t>(k)]) ++k;
    return static_cast<Kind>(k);
  }

  // Returns the entry read (if found); counts and verifies it.
  std::optional<repo::JournalEntry> readEntry(Stripe& st, std::int64_t id) {
    const std::int64_t expected = entryAcks.expected(id);  // before the read: see AckTracker
    try {
      auto f = core.entries().get(id);
      st.reads.fetch_add(1, std::memory_order_relaxed);
      if (!f.value) {
        // A deletion is newer than any edit of ours, so a miss is never stale.
        st.misses.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
      }
      if (detail::AckTracker::isStale(expected, f.value->version)) {
        st.stale.fetch_add(1, std::memory_order_relaxed);
        noteError("stale read: entry " + std::to_string(id) + " version " + std::to_string(f.value->version) +
                  " < acknowledged " + std::to_string(expected) + " (from " + cache::toString(f.source) + ")");
      }
      return std::move(f.value);
    } catch (const std::exception& e) {
      st.failed_reads.fetch_add(1, std::memory_order_relaxed);
      noteError(e.what());
      return std::nullopt;
    }
  }

  void readSession(Stripe& st, std::int64_t id) {
    const std::int64_t expected = sessionAcks.expected(id);
    try {
      auto f = core.sessions().get(id);
      st.reads.fetch_add(1, std::memory_order_relaxed);
      if (!f.value) {
        st.misses.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (detail::AckTracker::isStale(expected, f.value->message_count)) {
        st.stale.fetch_add(1, std::memory_order_relaxed);
        noteError("stale read: session " + std::to_string(id) + " has " + std::to_string(f.value->message_count) +
                  " messages < acknowledged seq " + std::to_string(expected) + " (from " +
                  cache::toString(f.source) + ")");
      }
    } catch (const std::exception& e) {
      st.failed_reads.fetch_add(1, std::memory_order_relaxed);
      noteError(e.what());
    }
  }

  template <typename F>
  void countedRead(Stripe& st, F&& read) {
    try {
      auto f = read();
      st.reads.fetch_add(1, std::memory_order_relaxed);
      if (!f.value) st.misses.fetch_add(1, std::memory_order_relaxed);
    } catch (const std::exception& e) {
      st.failed_reads.fetch_add(1, std::memory_order_relaxed);
      noteError(e.what());
    }
  }

  void runOne(Stripe& st, Rng& rng, std::int64_t homeUser) {
    switch (pickKind(rng)) {
      case EntryRead:
        readEntry(st, pickEntry(rng));
        break;
      case SessionRead:
        readSession(st, activeSessions[sessions->pick(rng)]);
        break;
      case MessageAppend: {
        // Synthetic runs append only to their own sessions.
        const bool own = mode == WriteMode::Synthetic;
        const std::uint64_t slot = own ? rng.below(synthSessions.size()) : sessions->pick(rng);
        const std::int64_t id = own ? synthSessions[slot] : activeSessions[slot];
        std::atomic<bool>& closed = own ? synthClosed[slot] : sessionClosed[slot];
        if (closed.load(std::memory_order_relaxed)) {
          readSession(st, id);  // it no longer takes messages; keep the user busy reading it
          break;
        }
        try {
          const repo::ChatMessage msg = core.sessions().appendMessage(id, "user", sentence(rng, 4, 24));
          sessionAcks.ack(id, msg.seq);
          if (own) synthCreated.fetch_add(1, std::memory_order_relaxed);
          st.writes.fetch_add(1, std::memory_order_relaxed);
        } catch (const BadInputError&) {  // closed or expired meanwhile: legitimate
          closed.store(true, std::memory_order_relaxed);
          st.skipped.fetch_add(1, std::memory_order_relaxed);
        } catch (const NotFoundError&) {  // deleted meanwhile
          closed.store(true, std::memory_order_relaxed);
          st.skipped.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
          st.failed_writes.fetch_add(1, std::memory_order_relaxed);
          noteError(e.what());
        }
        break;
      }
      case KnowledgeLookup: {
        const std::string& slug = slugs[knowledge->pick(rng)];
        countedRead(st, [&] { return core.knowledge().get(slug); });
        break;
      }
      case AnalyticsRead:
        countedRead(st, [&] { return core.analytics().moodStats(homeUser, 30); });
        break;
      case EntryEdit: {
        // Synthetic runs edit only their own entries.
        const std::int64_t id =
            mode == WriteMode::Synthetic ? synthEntries[rng.below(synthEntries.size())] : pickEntry(rng);
        auto current = readEntry(st, id);  // the edit keeps the content, so it reads it first
        if (!current) {
          st.skipped.fetch_add(1, std::memory_order_relaxed);
          break;
        }
        repo::EntryDraft draft;
        draft.title = "Revisited: " + sentence(rng, 2, 6);
        draft.content = std::move(current->content);
        draft.mood_score = 1 + static_cast<int>(rng.below(10));
        draft.tags = std::move(current->tags);
        try {
          const repo::JournalEntry e = core.entries().update(id, draft);
          entryAcks.ack(id, e.version);
          st.writes.fetch_add(1, std::memory_order_relaxed);
        } catch (const NotFoundError&) {  // deleted since we read it
          st.skipped.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
          st.failed_writes.fetch_add(1, std::memory_order_relaxed);
          noteError(e.what());
        }
        break;
      }
      case Search: {
        // What a user types into the journal's search box, over their own entries.
        const std::string words = sentence(rng, 1, 2);
        try {
          core.entries().search(words, homeUser, 20);
          st.searches.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
          st.failed_reads.fetch_add(1, std::memory_order_relaxed);
          noteError(e.what());
        }
        break;
      }
      default:
        break;
    }
    st.operations.fetch_add(1, std::memory_order_relaxed);
  }

  struct Vu {
    Clock::time_point ready;
    std::int64_t user = 0;
  };
  struct Later {
    bool operator()(const Vu& a, const Vu& b) const { return a.ready > b.ready; }
  };
  using VuQueue = std::priority_queue<Vu, std::vector<Vu>, Later>;

  // Virtual user i belongs to worker i % threads; its home user depends only on i and the seed.
  VuQueue myUsers(int worker, Clock::time_point now) const {
    std::vector<Vu> v;
    const std::int64_t n = virtualUsers.load();
    for (std::int64_t i = worker; i < n; i += opts.threads) {
      Rng r(detail::mix64(opts.seed ^ (0x5bd1e995ULL * static_cast<std::uint64_t>(i + 1))));
      v.push_back(Vu{now, pickUser(r)});
    }
    return VuQueue(Later{}, std::move(v));
  }

  void worker(int w) {
    Stripe& st = stripes[w % kStripes];
    Rng rng(detail::mix64(opts.seed + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(w + 1)));
    std::uint64_t seenVuGen = vuGen.load();
    VuQueue vus = myUsers(w, Clock::now());
    const bool hasDeadline = deadline != Clock::time_point::max();
    while (!stopping.load()) {
      const std::uint64_t gen = wakeGen.load();
      Clock::time_point now = Clock::now();
      if (now >= deadline) break;
      if (vuGen.load() != seenVuGen) {
        seenVuGen = vuGen.load();
        vus = myUsers(w, now);
      }
      if (vus.empty()) {  // this worker plays no one at the moment
        sleepUntil(hasDeadline ? deadline : now + std::chrono::seconds(1), gen);
        continue;
      }
      if (vus.top().ready > now) {  // everyone is thinking
        sleepUntil(std::min(vus.top().ready, deadline), gen);
        continue;
      }
      if (rate.load(std::memory_order_relaxed) > 0) {
        if (auto slot = pacer.reserve(now); slot && *slot > now) {
          if (*slot >= deadline) break;
          if (!sleepUntil(*slot, gen)) continue;  // re-plan: the rate or population changed, or stop
        }
      }
      Vu vu = vus.top();
      vus.pop();
      runOne(st, rng, vu.user);
      if (opts.think_time.count() > 0) {
        const double jitter = 0.5 + rng.uniform();
        vu.ready = Clock::now() + std::chrono::duration_cast<Clock::duration>(opts.think_time * jitter);
      } else {
        vu.ready = now;
      }
      vus.push(vu);
    }
    if (active.fetch_sub(1) == 1) {
      endNs.store(nowNs());
      std::lock_guard<std::mutex> g(wakeMu);
      doneCv.notify_all();
    }
  }

  void joinAll() {
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

Workload::Workload(TierCore& core, WorkloadOptions options) : impl_(std::make_unique<Impl>(core, std::move(options))) {}

Workload::~Workload() { stop(); }

void Workload::start() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> life(d.lifeMu);
  if (d.active.load() > 0) throw BadInputError("the workload is already running");
  d.joinAll();  // a previous run that ended by its duration
  d.finish(*this);  // ... whose end was not handled yet
  d.validate();
  d.load();
  {
    std::lock_guard<std::mutex> g(d.errorMu);
    d.cleanupError.clear();
    d.auditError.clear();
    d.auditStartId = d.auditEndId = 0;
    d.runId.clear();
    d.modeReason.clear();
    d.modeDetail.clear();
    d.writeShare = 0;
  }
  d.synthEntries.clear();
  d.synthSessions.clear();
  d.synthCreated.store(0);
  d.synthRemoved.store(0);
  d.decideMode();
  if (d.mode == WriteMode::Synthetic) {
    try {
      d.beginSynthetic();
    } catch (...) {
      d.endSynthetic();  // what was created so far goes again
      throw;
    }
  }
  try {
    d.applyWeights();
  } catch (...) {
    d.endSynthetic();
    throw;
  }
  d.finished = false;
  d.audit("start", nullptr);

  for (Stripe& s : d.stripes) s.reset();
  {
    std::lock_guard<std::mutex> g(d.errorMu);
    d.lastError.clear();
  }
  d.entryAcks.clear();
  d.sessionAcks.clear();
  d.stopping.store(false);
  const Clock::time_point now = Clock::now();
  d.deadline = d.opts.duration.count() > 0 ? now + d.opts.duration : Clock::time_point::max();
  d.pacer.set(d.rate.load(), now);
  d.startNs.store(nowNs());
  d.endNs.store(0);
  d.active.store(d.opts.threads);
  d.threads.reserve(static_cast<std::size_t>(d.opts.threads));
  for (int w = 0; w < d.opts.threads; ++w) {
    try {
      d.threads.emplace_back([&d, w] {
#ifdef __linux__
        // Per-thread on Linux: each thread is its own schedulable task.
        if (d.opts.nice > 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), std::min(d.opts.nice, 19));
#endif
        d.worker(w);
      });
    } catch (...) {
      d.active.fetch_sub(d.opts.threads - w);  // those never started
      d.stopping.store(true);
      d.wakeAll();
      d.joinAll();
      d.finish(*this);
      throw;
    }
  }
}

void Workload::stop() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> life(d.lifeMu);
  d.stopping.store(true);
  d.wakeAll();
  d.joinAll();
  d.finish(*this);
}

bool Workload::running() const { return impl_->active.load() > 0; }

void Workload::wait() {
  Impl& d = *impl_;
  std::unique_lock<std::mutex> l(d.wakeMu);
  d.doneCv.wait(l, [&] { return d.active.load() == 0; });
}

void Workload::setRate(double opsPerSecond) {
  Impl& d = *impl_;
  const double r = std::isfinite(opsPerSecond) ? std::max(opsPerSecond, 0.0) : 0.0;
  d.rate.store(r);
  d.pacer.set(r, Clock::now());
  d.wakeGen.fetch_add(1);
  d.wakeAll();
}

void Workload::setVirtualUsers(int n) {
  Impl& d = *impl_;
  d.virtualUsers.store(std::max(n, 0));
  d.vuGen.fetch_add(1);
  d.wakeGen.fetch_add(1);
  d.wakeAll();
}

WorkloadCounters Workload::counters() const {
  const Impl& d = *impl_;
  WorkloadCounters c;
  for (const Stripe& s : d.stripes) {
    c.operations += s.operations.load(std::memory_order_relaxed);
    c.reads += s.reads.load(std::memory_order_relaxed);
    c.misses += s.misses.load(std::memory_order_relaxed);
    c.writes += s.writes.load(std::memory_order_relaxed);
    c.skipped_writes += s.skipped.load(std::memory_order_relaxed);
    c.failed_reads += s.failed_reads.load(std::memory_order_relaxed);
    c.failed_writes += s.failed_writes.load(std::memory_order_relaxed);
    c.stale_reads += s.stale.load(std::memory_order_relaxed);
    c.searches += s.searches.load(std::memory_order_relaxed);
  }
  c.errors = c.failed_reads + c.failed_writes;
  const std::int64_t start = d.startNs.load();
  if (start != 0) {
    const std::int64_t end = d.endNs.load();
    c.elapsed_s = static_cast<double>((end != 0 ? end : nowNs()) - start) / 1e9;
  }
  c.synthetic_rows_created = d.synthCreated.load();
  c.synthetic_rows_removed = d.synthRemoved.load();
  std::lock_guard<std::mutex> g(d.errorMu);
  c.write_mode = d.modeReason.empty() ? std::string() : toString(d.mode);
  c.write_mode_reason = d.modeReason;
  c.write_mode_detail = d.modeDetail;
  c.write_share = d.writeShare;
  c.run_id = d.runId;
  c.last_error = d.lastError;
  c.cleanup_error = d.cleanupError;
  c.audit_error = d.auditError;
  c.audit_start_id = d.auditStartId;
  c.audit_end_id = d.auditEndId;
  return c;
}

const char* toString(WriteMode m) noexcept {
  switch (m) {
    case WriteMode::Sandbox:
      return "sandbox";
    case WriteMode::Synthetic:
      return "synthetic";
    case WriteMode::ReadOnly:
      break;
  }
  return "read-only";
}

CleanupResult cleanupSyntheticRuns(TierCore& core) {
  CleanupResult out;
  std::vector<std::string> open;
  {
    auto c = core.pg().acquire();
    if (c->exec("SELECT to_regclass('tier_load_runs') IS NULL").value(0, 0) == "t")
      throw NotFoundError("no tier_load_runs table: run `tierctl migrate` first");
    auto r = c->exec("SELECT run_id FROM tier_load_runs WHERE finished_at IS NULL ORDER BY started_at");
    for (int i = 0; i < r.rows(); ++i) open.emplace_back(r.value(i, 0));
  }
  if (open.empty()) return out;
  const auto started = Clock::now();
  // A live run holds its advisory lock on its own connection; one we can take belongs to a run that is gone.
  const auto probePool = lockPool(core);
  auto probe = probePool->acquire();
  for (const std::string& runId : open) {
    if (probe->exec("SELECT pg_try_advisory_lock($1::int, hashtext($2))", {kRunLockClass, runId}).value(0, 0) != "t") {
      ++out.runs_alive;
      continue;
    }
    try {
      out.rows_removed += removeRunRows(core, runId);
    } catch (...) {
      probe->exec("SELECT pg_advisory_unlock($1::int, hashtext($2))", {kRunLockClass, runId});
      throw;
    }
    probe->exec("SELECT pg_advisory_unlock($1::int, hashtext($2))", {kRunLockClass, runId});
    ++out.runs_cleaned;
    out.run_ids.push_back(runId);
  }
  if (out.runs_cleaned > 0) {
    QJsonArray ids;
    for (const auto& id : out.run_ids) ids.append(QString::fromStdString(id));
    ops::AuditRecord a;
    a.action = "load.cleanup";
    a.args_json = jsonText(QJsonObject{{QStringLiteral("runs"), ids}});
    a.matched = out.runs_cleaned;
    a.affected = static_cast<long long>(out.rows_removed);
    a.result = "ok";
    a.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    try {
      ops::writeAudit(core, a);
    } catch (const std::exception& e) {
      out.audit_error = std::string("the load.cleanup audit row could not be written: ") + redactSecrets(e.what());
    }
  }
  return out;
}

WorkloadOptions Workload::options() const {
  WorkloadOptions o = impl_->opts;
  o.rate = impl_->rate.load();
  o.virtual_users = impl_->virtualUsers.load();
  return o;
}

}  // namespace tier::workload
