#include "fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <string>
#include <vector>

#include "tier/common/error.h"

namespace tier::test {
namespace {

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void setNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Close with RST rather than FIN: what a crashed peer or a cut link looks like.
void closeHard(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Bytes travelling one way, each chunk due at a time (steady ns).
struct Chunk {
  std::int64_t due_ns = 0;
  std::string data;
  std::size_t off = 0;
};
struct Direction {
  std::deque<Chunk> queue;
  std::size_t bytes = 0;
  std::int64_t last_due_ns = 0;
  bool dueNow(std::int64_t now) const { return !queue.empty() && queue.front().due_ns <= now; }
};

struct Conn {
  int client = -1;
  int upstream = -1;  // -1 for a blackholed connection
  Direction to_upstream, to_client;
  bool dead = false;
};

}  // namespace

FaultProxy::FaultProxy(int upstreamPort) : upstream_port_(upstreamPort) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) throw Error(ErrorKind::Internal, std::string("proxy socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string err = std::strerror(errno);
    ::close(listen_fd_);
    throw Error(ErrorKind::Internal, "proxy listen: " + err);
  }
  port_ = ntohs(a.sin_port);
  if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(listen_fd_);
    throw Error(ErrorKind::Internal, std::string("proxy pipe: ") + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
  stop_.store(true);
  wake();
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void FaultProxy::wake() {
  const char c = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fds_[1], &c, 1);  // a full pipe already wakes the loop
}

void FaultProxy::setLatency(std::chrono::milliseconds perChunk) {
  latency_ms_.store(std::max<std::int64_t>(0, perChunk.count()));
  wake();
}

void FaultProxy::setMode(Mode m) {
  mode_.store(static_cast<int>(m));
  wake();
}

void FaultProxy::dropAll() {
  const auto ticket = drop_requests_.fetch_add(1) + 1;
  wake();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (drops_done_.load() < ticket && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void FaultProxy::passThrough() {
  latency_ms_.store(0);
  mode_.store(static_cast<int>(Mode::Pass));
  wake();
}

void FaultProxy::run() {
  std::list<Conn> conns;
  std::vector<pollfd> fds;
  std::vector<Conn*> owner;  // parallel to fds: the connection, or null for wake/listen
  std::vector<char> buf(64 * 1024);

  auto closeConn = [&](Conn& c) {
    closeHard(c.client);
    closeHard(c.upstream);
    c.client = c.upstream = -1;
    c.dead = true;
  };
  // Reads what `from` has and queues it for the other side, `latency` later.
  auto pump = [&](Conn& c, int from, Direction& dir) {
    const std::int64_t lat = latency_ms_.load() * 1'000'000;
    while (dir.bytes < kMaxQueued) {
      const ssize_t n = ::read(from, buf.data(), buf.size());
      if (n > 0) {
        Chunk ch;
        ch.due_ns = std::max(dir.last_due_ns, nowNs() + lat);  // never reorder when latency drops
        dir.last_due_ns = ch.due_ns;
        ch.data.assign(buf.data(), static_cast<std::size_t>(n));
        dir.bytes += ch.data.size();
        dir.queue.push_back(std::move(ch));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      closeConn(c);  // EOF or error on either side ends the pair
      return;
    }
  };
  auto flush = [&](Conn& c, int to, Direction& dir) {
    const std::int64_t now = nowNs();
    while (dir.dueNow(now)) {
      Chunk& ch = dir.queue.front();
      const ssize_t n = ::send(to, ch.data.data() + ch.off, ch.data.size() - ch.off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        closeConn(c);
        return;
      }
      ch.off += static_cast<std::size_t>(n);
      dir.bytes -= static_cast<std::size_t>(n);
      if (ch.off == ch.data.size()) dir.queue.pop_front();
    }
  };
  auto accept = [&] {
    while (true) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      accepted_.fetch_add(1);
      const auto mode = static_cast<Mode>(mode_.load());
      if (mode == Mode::Refuse || static_cast<int>(conns.size()) >= kMaxConnections) {
        closeHard(fd);
        continue;
      }
      Conn c;
      c.client = fd;
      if (mode == Mode::Pass) {
        const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = loopback(upstream_port_);
        // Loopback connect answers at once (accepted or refused), even to a stopped server.
        if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
          if (up >= 0) ::close(up);
          closeHard(fd);
          continue;
        }
        setNonBlocking(up);
        int one = 1;
        ::setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c.upstream = up;
      }
      conns.push_back(std::move(c));
    }
  };

  std::uint64_t dropsSeen = 0;
  while (!stop_.load()) {
    fds.clear();
    owner.clear();
    fds.push_back({wake_fds_[0], POLLIN, 0});
    owner.push_back(nullptr);
    fds.push_back({listen_fd_, POLLIN, 0});
    owner.push_back(nullptr);
    const std::int64_t now = nowNs();
    std::int64_t nextDue = now + 100'000'000;  // re-check knobs at least every 100 ms
    for (auto& c : conns) {
      if (c.upstream < 0) {
        // Blackholed: read nothing; only notice the client leaving.
        fds.push_back({c.client, POLLRDHUP, 0});
        owner.push_back(&c);
        continue;
      }
      short ce = 0, ue = 0;
      if (c.to_upstream.bytes < kMaxQueued) ce |= POLLIN;
      if (c.to_client.bytes < kMaxQueued) ue |= POLLIN;
      if (c.to_client.dueNow(now)) ce |= POLLOUT;
      if (c.to_upstream.dueNow(now)) ue |= POLLOUT;
      for (const Direction* d : {&c.to_client, &c.to_upstream})
        if (!d->queue.empty() && d->queue.front().due_ns > now) nextDue = std::min(nextDue, d->queue.front().due_ns);
      fds.push_back({c.client, ce, 0});
      owner.push_back(&c);
      fds.push_back({c.upstream, ue, 0});
      owner.push_back(&c);
    }
    const int timeoutMs = static_cast<int>(std::max<std::int64_t>(0, (nextDue - now + 999'999) / 1'000'000));
    const int ready = ::poll(fds.data(), fds.size(), timeoutMs);
    if (ready < 0 && errno != EINTR) break;

    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
      }
    }
    const auto drops = drop_requests_.load();
    if (drops != dropsSeen) {
      for (auto& c : conns) closeConn(c);
      conns.clear();
      dropsSeen = drops;
      open_.store(0);
      drops_done_.store(drops);
      continue;
    }
    if (fds[1].revents & POLLIN) accept();

    for (std::size_t i = 2; i < fds.size(); ++i) {
      Conn& c = *owner[i];
      if (c.dead || fds[i].revents == 0) continue;
      const bool isClient = fds[i].fd == c.client;
      if (c.upstream < 0) {
        closeConn(c);  // the blackholed client left
        continue;
      }
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        pump(c, fds[i].fd, isClient ? c.to_upstream : c.to_client);
        if (c.dead) continue;
      }
      if (fds[i].revents & POLLOUT) flush(c, fds[i].fd, isClient ? c.to_client : c.to_upstream);
    }
    // Chunks that fell due while we slept: send without waiting for another POLLOUT round.
    for (auto& c : conns) {
      if (c.dead || c.upstream < 0) continue;
      flush(c, c.client, c.to_client);
      if (!c.dead) flush(c, c.upstream, c.to_upstream);
    }
    conns.remove_if([](const Conn& c) { return c.dead; });
    open_.store(static_cast<int>(conns.size()));
  }
  for (auto& c : conns) closeConn(c);
  open_.store(0);
}

}  // namespace tier::test
