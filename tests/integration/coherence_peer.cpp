// A test-only peer for tst_coherence: one TierCore (one instance, its own L1)
// that writes and reads a few journal entries for a bounded time and logs its
// history, so that two such processes can be checked against each other.
//
//   coherence_peer --redis URL --pg CONNINFO --name A --ids 101,102,...
//                  --start-ns T --duration-ms D --out FILE [--write-every-ms 10] [--readers 2]
//
// Times are CLOCK_MONOTONIC nanoseconds (comparable across processes on one
// machine). Output, one record a line:
//   W <id> <version> <start_ns> <ack_ns>          a write PostgreSQL acknowledged
//   R <id> <version> <start_ns> <end_ns> <source> a read, the version it returned, the tier (+stale: past its TTL)
//   E <what>                                       a failed call (counted by the checker)
//   S <key>=<value> ...                            backplane counters at the end
// Exit code 0 when the run completed (failures are in the history), 2 on bad arguments.
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tier/common/error.h"
#include "tier/core.h"

namespace {

std::int64_t monoNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleepUntilMono(std::int64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

struct Args {
  std::string redis, pg, name = "peer", out;
  std::vector<std::int64_t> ids;
  std::int64_t start_ns = 0;
  int duration_ms = 20000;
  int write_every_ms = 10;
  int readers = 2;
};

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--redis") a.redis = v;
    else if (k == "--pg") a.pg = v;
    else if (k == "--name") a.name = v;
    else if (k == "--out") a.out = v;
    else if (k == "--start-ns") a.start_ns = std::stoll(v);
    else if (k == "--duration-ms") a.duration_ms = std::stoi(v);
    else if (k == "--write-every-ms") a.write_every_ms = std::stoi(v);
    else if (k == "--readers") a.readers = std::stoi(v);
    else if (k == "--ids") {
      std::stringstream ss(v);
      std::string part;
      while (std::getline(ss, part, ',')) a.ids.push_back(std::stoll(part));
    } else
      return false;
  }
  return !a.redis.empty() && !a.pg.empty() && !a.out.empty() && !a.ids.empty() && a.duration_ms > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  try {
    if (!parse(argc, argv, a)) {
      std::fprintf(stderr, "coherence_peer: bad arguments\n");
      return 2;
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "coherence_peer: bad arguments\n");
    return 2;
  }

  tier::CoreConfig cfg;
  cfg.profile = "coherence-" + a.name;
  cfg.redis_url = a.redis;
  cfg.pg_conninfo = a.pg;
  cfg.redis.connect_timeout = std::chrono::milliseconds(200);
  cfg.redis.command_timeout = std::chrono::milliseconds(500);
  cfg.redis.client_name = "coherence-" + a.name;
  cfg.pg.pool_size = 4;
  tier::TierCore core(cfg);

  // Contents to write back (the title carries who wrote it).
  std::vector<tier::repo::JournalEntry> base;
  for (auto id : a.ids) {
    auto e = core.entries().loadFromDb(id);
    if (!e) {
      std::fprintf(stderr, "coherence_peer: entry %lld not found\n", static_cast<long long>(id));
      return 2;
    }
    base.push_back(*e);
    core.entries().get(id);  // starts the backplane link and warms L1
  }

  std::mutex mu;
  std::vector<std::string> lines;  // guarded by mu
  lines.reserve(200'000);
  auto log = [&](std::string s) {
    std::lock_guard lk(mu);
    lines.push_back(std::move(s));
  };

  if (a.start_ns > 0) sleepUntilMono(a.start_ns);
  const std::int64_t end = monoNs() + static_cast<std::int64_t>(a.duration_ms) * 1'000'000;
  std::atomic<long> writes{0};

  std::thread writer([&] {
    std::mt19937_64 rng(std::random_device{}());
    long n = 0;
    while (monoNs() < end) {
      const std::size_t i = rng() % a.ids.size();
      const auto& b = base[i];
      tier::repo::EntryDraft d{a.name + " " + std::to_string(++n), b.content, 1 + static_cast<int>(n % 10), b.tags};
      const std::int64_t t0 = monoNs();
      try {
        auto e = core.entries().update(a.ids[i], d);
        const std::int64_t t1 = monoNs();
        log("W " + std::to_string(a.ids[i]) + " " + std::to_string(e.version) + " " + std::to_string(t0) + " " +
            std::to_string(t1));
        writes.fetch_add(1);
      } catch (const tier::Error& e) {
        log(std::string("E write ") + tier::redactSecrets(e.what()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(a.write_every_ms));
    }
  });

  std::vector<std::thread> readers;
  for (int r = 0; r < a.readers; ++r)
    readers.emplace_back([&] {
      std::mt19937_64 rng(std::random_device{}());
      std::vector<std::string> mine;
      mine.reserve(100'000);
      while (monoNs() < end) {
        const std::size_t i = rng() % a.ids.size();
        const std::int64_t t0 = monoNs();
        try {
          auto f = core.entries().get(a.ids[i]);
          const std::int64_t t1 = monoNs();
          if (!f.value) {
            mine.push_back("E read " + std::to_string(a.ids[i]) + " not found");
          } else {
            mine.push_back("R " + std::to_string(a.ids[i]) + " " + std::to_string(f.value->version) + " " +
                           std::to_string(t0) + " " + std::to_string(t1) + " " + tier::cache::toString(f.source) +
                           (f.stale ? "+stale" : ""));
          }
        } catch (const tier::Error& e) {
          mine.push_back(std::string("E read ") + tier::redactSecrets(e.what()));
        }
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
      std::lock_guard lk(mu);
      for (auto& l : mine) lines.push_back(std::move(l));
    });
  writer.join();
  for (auto& t : readers) t.join();

  std::ofstream out(a.out);
  for (const auto& l : lines) out << l << '\n';
  if (auto* bp = core.backplane()) {
    const auto s = bp->stats();
    out << "S link=" << tier::cache::toString(s.link) << " sent=" << s.sent << " send_failures=" << s.send_failures
        << " received=" << s.received << " gaps=" << s.gaps << " flushes=" << s.flushes
        << " link_losses=" << s.link_losses << " subscribes=" << s.subscribes
        << " last_resubscribe_ms=" << s.last_resubscribe_ms << " last_lag_ms=" << s.last_lag_ms << '\n';
  } else {
    out << "S link=none\n";
  }
  out.close();
  return out ? 0 : 1;
}
