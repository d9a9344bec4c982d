#pragma once
// A fault-injecting TCP proxy for fault tests: listens on a free loopback port
// and forwards every connection to an upstream (host 127.0.0.1, a port), with
// knobs that change its behaviour at run time:
// - latency: each chunk read from either side is delivered that much later
//   (order is kept; 0 = pass through);
// - dropAll(): closes every current connection at once (with RST, as a crash
//   or a network cut would);
// - new connections are accepted and forwarded (Pass), closed at once
//   (Refuse), or held open with nothing forwarded (Blackhole).
//
// One thread runs a poll() loop over every socket; knobs are atomics, so any
// thread may turn them. Bounded: at most kMaxConnections pairs and kMaxQueued
// bytes waiting per direction (beyond that the proxy stops reading that side).
// The destructor stops the thread and closes every socket.
//
// Thread-safety: every method may be called from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace tier::test {

class FaultProxy {
 public:
  enum class Mode { Pass, Refuse, Blackhole };
  static constexpr int kMaxConnections = 256;
  static constexpr std::size_t kMaxQueued = 8u * 1024 * 1024;

  // Starts listening at once. Throws tier::Error if it cannot.
  explicit FaultProxy(int upstreamPort);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const noexcept { return port_; }

  void setLatency(std::chrono::milliseconds perChunk);  // negative = 0
  void setMode(Mode m);
  // Closes every open connection (both sides); returns once the proxy thread did.
  void dropAll();
  // Back to normal: no latency, Pass.
  void passThrough();

  int openConnections() const noexcept { return open_.load(); }
  std::uint64_t acceptedConnections() const noexcept { return accepted_.load(); }

 private:
  void run();
  void wake();

  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<std::int64_t> latency_ms_{0};
  std::atomic<int> mode_{0};
  std::atomic<std::uint64_t> drop_requests_{0};
  std::atomic<std::uint64_t> drops_done_{0};
  std::atomic<int> open_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tier::test
