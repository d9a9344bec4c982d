#include "tier/sandbox/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "tier/common/error.h"
#include "tier/redis/connection.h"

namespace tier::sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Error messages are one line and never quote a password.
std::string oneLine(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool pendingSep = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      pendingSep = !out.empty();
      continue;
    }
    if (pendingSep) {
      out += " | ";
      pendingSep = false;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  if (out.size() > 400) out = out.substr(0, 397) + "...";
  return redactSecrets(out);
}

bool isRoot() { return ::geteuid() == 0; }

std::string normalizeDir(const std::string& dir) {
  fs::path p = fs::absolute(fs::path(dir)).lexically_normal();
  if (p.filename().empty() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p.string();
}

bool isExecutable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

std::optional<std::string> searchPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  std::stringstream ss(dirs);
  std::string d;
  while (std::getline(ss, d, ':')) {
    if (d.empty()) continue;
    std::string candidate = d + "/" + name;
    if (isExecutable(candidate)) return candidate;
  }
  return std::nullopt;
}

std::string redisServerBinary() {
  if (const char* env = std::getenv("TIER_REDIS_SERVER"); env && *env) {
    if (isExecutable(env)) return env;
    throw NotFoundError(std::string("TIER_REDIS_SERVER=") + env + " is not an executable");
  }
  if (auto p = searchPath("redis-server")) return *p;
  if (isExecutable("/usr/bin/redis-server")) return "/usr/bin/redis-server";
  throw NotFoundError("redis-server not found; install the redis-server package (scripts/deps)");
}

// Debian keeps initdb/pg_ctl out of PATH, under /usr/lib/postgresql/<major>/bin.
std::string postgresBinary(const std::string& name) {
  if (const char* env = std::getenv("TIER_PG_BINDIR"); env && *env) {
    std::string p = std::string(env) + "/" + name;
    if (isExecutable(p)) return p;
    throw NotFoundError("TIER_PG_BINDIR has no executable " + name);
  }
  std::error_code ec;
  int bestMajor = -1;
  std::string best;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string major = entry.path().filename().string();
    std::string p = entry.path().string() + "/bin/" + name;
    if (!isExecutable(p)) continue;
    int m = std::atoi(major.c_str());
    if (m > bestMajor) {
      bestMajor = m;
      best = p;
    }
  }
  if (!best.empty()) return best;
  if (auto p = searchPath(name)) return *p;
  throw NotFoundError(name + " not found; install the postgresql package (scripts/deps)");
}

std::string runuserBinary() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"})
    if (isExecutable(p)) return p;
  if (auto p = searchPath("runuser")) return *p;
  throw NotFoundError("runuser not found; it is needed to run PostgreSQL as user postgres when root");
}

struct PostgresAccount {
  uid_t uid;
  gid_t gid;
};

PostgresAccount postgresAccount() {
  struct passwd* pw = ::getpwnam("postgres");
  if (!pw)
    throw NotFoundError(
        "running as root, but there is no 'postgres' user to run PostgreSQL as; install postgresql (scripts/deps)");
  return {pw->pw_uid, pw->pw_gid};
}

// PostgreSQL refuses to run as root, so as root its commands go through runuser.
std::vector<std::string> asPostgres(std::vector<std::string> argv) {
  if (!isRoot()) return argv;
  std::vector<std::string> out{runuserBinary(), "-u", "postgres", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void chownToPostgres(const std::string& path) {
  if (!isRoot()) return;
  PostgresAccount acct = postgresAccount();
  if (::chown(path.c_str(), acct.uid, acct.gid) != 0)
    throw Error(ErrorKind::Internal, "cannot chown " + path + " to postgres: " + std::strerror(errno));
}

// As root, checks that user postgres may search every parent of dir.
void requireTraversableByPostgres(const std::string& dir) {
  if (!isRoot()) return;
  PostgresAccount acct = postgresAccount();
  fs::path p = fs::path(dir).parent_path();
  while (true) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      bool ok = st.st_uid == acct.uid   ? (st.st_mode & S_IXUSR)
                : st.st_gid == acct.gid ? (st.st_mode & S_IXGRP)
                                        : (st.st_mode & S_IXOTH);
      if (!ok)
        throw BadInputError("PostgreSQL folder " + dir + " is not reachable by user postgres (" + p.string() +
                            " is not searchable); choose a folder outside it");
    }
    if (p == p.root_path() || !p.has_parent_path() || p.parent_path() == p) break;
    p = p.parent_path();
  }
}

struct RunResult {
  int code = -1;  // exit status; -1 = killed / timed out
  std::string output;
};

// fork/exec argv[0] (an absolute path) in cwd with stdin from /dev/null and
// stdout+stderr to outFile (a file, not a pipe: a daemon that keeps a pipe's
// write end open would make us wait forever). Kills it after `timeout`.
RunResult run(const std::vector<std::string>& argv, const std::string& cwd, const std::string& outFile,
              std::chrono::milliseconds timeout) {
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  pid_t child = ::fork();
  if (child < 0) throw Error(ErrorKind::Internal, std::string("fork failed: ") + std::strerror(errno));
  if (child == 0) {
    // Only async-signal-safe calls from here on: the parent may have threads.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) ::signal(sig, SIG_DFL);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::closefrom(3);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }

  RunResult result;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0 && errno != EINTR) break;
    if (Clock::now() > deadline) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      status = -1;
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  if (status != -1 && WIFEXITED(status)) result.code = WEXITSTATUS(status);
  std::ifstream in(outFile);
  std::stringstream ss;
  ss << in.rdbuf();
  result.output = ss.str();
  ::unlink(outFile.c_str());
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
    result.output = "cannot execute " + argv[0];
  if (status == -1) result.output += " (timed out)";
  return result;
}

long readPidFile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid)) return 0;
  return pid;
}

bool cmdlineContains(long pid, const char* word) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  if (!in) return true;  // no procfs: trust the pid file
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().find(word) != std::string::npos;
}

bool waitGone(long pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (processAlive(pid)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::uintmax_t fileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

// The last few non-empty lines written to a log after `offset`.
std::string logTail(const std::string& path, std::uintmax_t offset, int lines = 2) {
  std::ifstream in(path);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0; i < all.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += all[i];
  }
  return out;
}

std::string logSince(const std::string& path, std::uintmax_t offset) {
  std::ifstream in(path);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw Error(ErrorKind::Internal, "cannot write " + path);
  ::chmod(path.c_str(), mode);
}

std::string percentEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// redis.conf string: always double-quoted, backslash and quote escaped.
std::string redisQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// conninfo value: bare if simple, else single-quoted with escapes.
std::string conninfoValue(const std::string& v) {
  bool simple = !v.empty() && std::none_of(v.begin(), v.end(), [](char c) {
    return c == ' ' || c == '\'' || c == '\\' || c == '\t' || c == '\n';
  });
  if (simple) return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// postgresql.conf string literal.
std::string pgQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Our own server on loopback, by its port and password (never the user's URL).
redis::Connection redisConnectLocal(int port, const std::string& password) {
  redis::RedisUrl url;
  url.host = "127.0.0.1";
  url.port = port;
  url.password = password;
  redis::ConnectOptions o;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.command_timeout = std::chrono::milliseconds(2000);
  return redis::Connection::open(url, o);
}

struct PGconnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PGresultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PGconnPtr = std::unique_ptr<PGconn, PGconnDeleter>;
using PGresultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

PGconnPtr connectOrThrow(const std::string& conninfo, int port) {
  PGconnPtr conn(PQconnectdb(conninfo.c_str()));
  if (conn && PQstatus(conn.get()) == CONNECTION_OK) return conn;
  std::string msg = conn ? PQerrorMessage(conn.get()) : "out of memory";
  std::string line = "cannot connect to PostgreSQL on 127.0.0.1:" + std::to_string(port) + ": " + oneLine(msg);
  if (msg.find("password authentication failed") != std::string::npos ||
      msg.find("no password supplied") != std::string::npos)
    throw PermissionError(line);
  throw ConnectionError(line);
}

// The port a redis.conf we wrote earlier names; 0 if none.
int redisConfPort(const std::string& dir) {
  std::ifstream conf(dir + "/redis.conf");
  std::string key;
  int port = 0;
  while (conf >> key) {
    if (key == "port" && conf >> port) return port;
  }
  return 0;
}

}  // namespace

int findFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ConnectionError(std::string("cannot create a socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    throw ConnectionError(std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(e));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

void makeDirs(const std::string& dir) {
  fs::path p(dir);
  fs::path acc;
  for (const auto& part : p) {
    acc /= part;
    if (acc == acc.root_path()) continue;
    if (::mkdir(acc.c_str(), 0755) == 0) {
      ::chmod(acc.c_str(), 0755);
    } else if (errno != EEXIST) {
      throw Error(ErrorKind::Internal, "cannot create folder " + acc.string() + ": " + std::strerror(errno));
    }
  }
}

bool processAlive(long pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // A dead daemon whose parent is gone may linger as a zombie if PID 1 does not reap.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return true;
  char state = stat[close + 2];
  return state != 'Z' && state != 'X';
}

// ---- Redis ------------------------------------------------------------------

RedisServerProcess::RedisServerProcess(RedisServerOptions options) : opt_(std::move(options)) {
  if (opt_.dir.empty()) throw BadInputError("redis-server: no data folder given");
  opt_.dir = normalizeDir(opt_.dir);
  port_ = opt_.port;
}

RedisServerProcess::~RedisServerProcess() {
  if (!stop_on_destroy_) return;
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the watchdog (tests) or `sandbox down` cleans up.
  }
}

std::string RedisServerProcess::socketPath() const { return opt_.unix_socket ? opt_.dir + "/redis.sock" : ""; }
std::string RedisServerProcess::logPath() const { return opt_.dir + "/redis.log"; }

std::string RedisServerProcess::url() const {
  std::string auth = opt_.password.empty() ? "" : ":" + percentEncode(opt_.password) + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/0";
}

long RedisServerProcess::pid() const {
  long p = readPidFile(opt_.dir + "/redis.pid");
  return processAlive(p) && cmdlineContains(p, "redis") ? p : 0;
}

bool RedisServerProcess::isRunning() const { return pid() > 0; }

void RedisServerProcess::signal(int sig) const {
  if (long p = pid(); p > 0) ::kill(static_cast<pid_t>(p), sig);
}

bool RedisServerProcess::answers(std::string* error) const {
  if (port_ <= 0) return false;
  try {
    auto c = redisConnectLocal(port_, opt_.password);
    const redis::Reply r = c.command({"PING"});
    if (r.type == redis::Reply::Type::Status && r.str == "PONG") return true;
    if (error) *error = r.str;
  } catch (const Error& e) {
    if (error) *error = e.what();
  }
  return false;
}

void RedisServerProcess::writeConfig() const {
  std::ostringstream conf;
  conf << "# Written by Tier Console; rewritten on every start.\n"
       << "bind 127.0.0.1\n"
       << "port " << port_ << "\n"
       << "protected-mode yes\n"
       << "daemonize yes\n"
       << "pidfile " << redisQuote(opt_.dir + "/redis.pid") << "\n"
       << "logfile " << redisQuote(logPath()) << "\n"
       << "dir " << redisQuote(opt_.dir) << "\n"
       << "save \"\"\n"
       << "appendonly no\n";
  if (opt_.unix_socket) conf << "unixsocket " << redisQuote(socketPath()) << "\nunixsocketperm 700\n";
  if (!opt_.password.empty()) conf << "requirepass " << redisQuote(opt_.password) << "\n";
  writeFile(opt_.dir + "/redis.conf", conf.str(), 0600);
}

void RedisServerProcess::start() {
  makeDirs(opt_.dir);
  const std::string pidPath = opt_.dir + "/redis.pid";

  if (long running = pid(); running > 0) {
    port_ = redisConfPort(opt_.dir);
    std::string err;
    const auto deadline = Clock::now() + std::min<std::chrono::milliseconds>(opt_.start_timeout, 3000ms);
    while (Clock::now() < deadline) {
      if (answers(&err)) return;
      std::this_thread::sleep_for(50ms);
    }
    throw ConnectionError("redis-server (pid " + std::to_string(running) + ") runs from " + opt_.dir +
                          " but does not answer on port " + std::to_string(port_) + ": " + oneLine(err));
  }
  ::unlink(pidPath.c_str());

  const std::string binary = redisServerBinary();
  const int attempts = opt_.port == 0 ? 5 : 1;
  std::string lastError;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    port_ = opt_.port != 0 ? opt_.port : findFreePort();
    writeConfig();
    const auto logOffset = fileSize(logPath());
    RunResult r = run({binary, opt_.dir + "/redis.conf"}, opt_.dir, opt_.dir + "/.launch.out", 10s);
    if (r.code != 0)
      throw ConnectionError("redis-server failed to start: " + oneLine(r.output + " " + logTail(logPath(), logOffset)));

    const auto deadline = Clock::now() + opt_.start_timeout;
    bool bindFailed = false;
    std::string err;
    while (true) {
      if (answers(&err)) return;
      const std::string log = logSince(logPath(), logOffset);
      if (log.find("Address already in use") != std::string::npos ||
          log.find("Failed listening") != std::string::npos) {
        bindFailed = true;
        break;
      }
      if (log.find("aborting") != std::string::npos || log.find("FATAL") != std::string::npos ||
          log.find("Fatal") != std::string::npos)
        throw ConnectionError("redis-server failed to start: " + oneLine(logTail(logPath(), logOffset)));
      if (Clock::now() > deadline) {
        signal(SIGKILL);
        throw TimeoutError("redis-server did not answer PING on port " + std::to_string(port_) + " within " +
                           std::to_string(opt_.start_timeout.count()) + " ms: " + oneLine(err));
      }
      std::this_thread::sleep_for(20ms);
    }
    lastError = logTail(logPath(), logOffset);
    if (bindFailed && opt_.port != 0) break;
  }
  throw ConnectionError("redis-server could not listen on 127.0.0.1:" + std::to_string(port_) + ": " +
                        oneLine(lastError));
}

void RedisServerProcess::stop() {
  long p = pid();
  if (p <= 0) {
    ::unlink((opt_.dir + "/redis.pid").c_str());
    return;
  }
  if (port_ <= 0) port_ = redisConfPort(opt_.dir);
  bool shutdownSent = false;
  if (port_ > 0) {
    try {
      auto c = redisConnectLocal(port_, opt_.password);
      shutdownSent = true;
      // The server closes the connection instead of replying: that "error" is the answer.
      try {
        c.command({"SHUTDOWN", "NOSAVE"});
      } catch (const Error&) {
      }
    } catch (const Error&) {
      // Not answering: the signals below stop it.
    }
  }
  if (!shutdownSent || !waitGone(p, 5s)) {
    ::kill(static_cast<pid_t>(p), SIGTERM);
    if (!waitGone(p, 3s)) {
      ::kill(static_cast<pid_t>(p), SIGKILL);
      if (!waitGone(p, 3s)) throw TimeoutError("redis-server pid " + std::to_string(p) + " did not stop");
    }
  }
  ::unlink((opt_.dir + "/redis.pid").c_str());
}

// ---- PostgreSQL -------------------------------------------------------------

PostgresServerProcess::PostgresServerProcess(PostgresServerOptions options) : opt_(std::move(options)) {
  if (opt_.dir.empty()) throw BadInputError("PostgreSQL: no data folder given");
  if (opt_.superuser.empty() || opt_.database.empty())
    throw BadInputError("PostgreSQL: superuser and database names must not be empty");
  opt_.dir = normalizeDir(opt_.dir);
  port_ = opt_.port;
}

PostgresServerProcess::~PostgresServerProcess() {
  if (!stop_on_destroy_) return;
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the watchdog (tests) or `sandbox down` cleans up.
  }
}

std::string PostgresServerProcess::dataDir() const { return opt_.dir + "/data"; }
std::string PostgresServerProcess::logPath() const { return opt_.dir + "/postgres.log"; }

std::string PostgresServerProcess::conninfo() const {
  std::string s = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + conninfoValue(opt_.database) +
                  " user=" + conninfoValue(opt_.superuser);
  if (!opt_.password.empty()) s += " password=" + conninfoValue(opt_.password);
  return s;
}

std::string PostgresServerProcess::uri() const {
  return "postgresql://" + percentEncode(opt_.superuser) + "@127.0.0.1:" + std::to_string(port_) + "/" +
         percentEncode(opt_.database);
}

long PostgresServerProcess::pid() const {
  long p = readPidFile(dataDir() + "/postmaster.pid");
  return processAlive(p) && cmdlineContains(p, "postgres") ? p : 0;
}

bool PostgresServerProcess::isRunning() const { return pid() > 0; }

std::vector<std::string> PostgresServerProcess::stopImmediateCommand() const {
  return asPostgres({postgresBinary("pg_ctl"), "-D", dataDir(), "-m", "immediate", "-w", "-t", "10", "-s", "stop"});
}

bool PostgresServerProcess::answers(std::string* error) const {
  if (port_ <= 0) return false;
  // Any database will do: PQping only asks whether the server accepts connections.
  std::string ci = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres connect_timeout=2";
  switch (PQping(ci.c_str())) {
    case PQPING_OK: return true;
    case PQPING_REJECT:
      if (error) *error = "server is starting up or shutting down";
      return false;
    case PQPING_NO_RESPONSE:
      if (error) *error = "no response";
      return false;
    case PQPING_NO_ATTEMPT:
      if (error) *error = "bad connection parameters";
      return false;
  }
  return false;
}

void PostgresServerProcess::writeConfig() const {
  std::ostringstream conf;
  conf << "# Written by Tier Console; rewritten on every start.\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = " << pgQuote(opt_.dir) << "\n"
       << "unix_socket_permissions = 0700\n"
       << "max_connections = 100\n"
       << "logging_collector = off\n"
       << "password_encryption = 'scram-sha-256'\n";
  if (opt_.shared_buffers_mb > 0) conf << "shared_buffers = '" << opt_.shared_buffers_mb << "MB'\n";
  if (opt_.fast_unsafe)
    conf << "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n";
  const std::string confPath = dataDir() + "/tier.conf";
  writeFile(confPath, conf.str(), 0600);
  chownToPostgres(confPath);

  // Trust is limited to our own superuser on loopback and the private socket
  // (mode 0700 in our folder); with a password set, TCP needs SCRAM. Any other
  // role (tests create some) always authenticates with a password.
  const std::string method = opt_.password.empty() ? "trust" : "scram-sha-256";
  std::ostringstream hba;
  hba << "# Written by Tier Console; rewritten on every start.\n"
      << "local all " << opt_.superuser << " trust\n"
      << "host  all " << opt_.superuser << " 127.0.0.1/32 " << method << "\n"
      << "local all all scram-sha-256\n"
      << "host  all all 127.0.0.1/32 scram-sha-256\n";
  const std::string hbaPath = dataDir() + "/pg_hba.conf";
  writeFile(hbaPath, hba.str(), 0600);
  chownToPostgres(hbaPath);
}

void PostgresServerProcess::ensureDatabase() const {
  std::string ci = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres connect_timeout=5 user=" +
                   conninfoValue(opt_.superuser);
  if (!opt_.password.empty()) ci += " password=" + conninfoValue(opt_.password);
  PGconnPtr conn = connectOrThrow(ci, port_);
  const char* params[] = {opt_.database.c_str()};
  PGresultPtr exists(
      PQexecParams(conn.get(), "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(exists.get()) != PGRES_TUPLES_OK)
    throw DataError("cannot list databases: " + oneLine(PQresultErrorMessage(exists.get())));
  if (PQntuples(exists.get()) > 0) return;
  // CREATE DATABASE takes no parameters; the identifier is quoted by libpq.
  std::unique_ptr<char, decltype(&PQfreemem)> ident(
      PQescapeIdentifier(conn.get(), opt_.database.c_str(), opt_.database.size()), &PQfreemem);
  if (!ident) throw BadInputError("bad database name: " + oneLine(PQerrorMessage(conn.get())));
  std::string sql = std::string("CREATE DATABASE ") + ident.get() + " ENCODING 'UTF8' TEMPLATE template0";
  PGresultPtr created(PQexec(conn.get(), sql.c_str()));
  if (PQresultStatus(created.get()) != PGRES_COMMAND_OK) {
    const char* state = PQresultErrorField(created.get(), PG_DIAG_SQLSTATE);
    if (state && std::string(state) == "42P04") return;  // created concurrently
    throw DataError("cannot create database " + opt_.database + ": " + oneLine(PQresultErrorMessage(created.get())));
  }
}

void PostgresServerProcess::start() {
  requireTraversableByPostgres(opt_.dir);
  makeDirs(opt_.dir);
  ::chmod(opt_.dir.c_str(), 0700);
  chownToPostgres(opt_.dir);

  if (long running = pid(); running > 0) {
    // postmaster.pid line 4 is the port the running server listens on.
    std::ifstream in(dataDir() + "/postmaster.pid");
    std::string line;
    for (int i = 0; i < 4 && std::getline(in, line); ++i) {
    }
    port_ = std::atoi(line.c_str());
    std::string err;
    const auto deadline = Clock::now() + std::min<std::chrono::milliseconds>(opt_.start_timeout, 5000ms);
    while (Clock::now() < deadline) {
      if (answers(&err)) {
        ensureDatabase();
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    throw ConnectionError("PostgreSQL (pid " + std::to_string(running) + ") runs from " + opt_.dir +
                          " but does not answer on port " + std::to_string(port_) + ": " + oneLine(err));
  }

  const std::string launchOut = opt_.dir + "/.launch.out";
  if (!fs::exists(dataDir() + "/PG_VERSION")) {
    std::error_code ec;
    fs::remove_all(dataDir(), ec);  // a half-finished initdb
    std::vector<std::string> argv{postgresBinary("initdb"), "-D", dataDir(), "-U", opt_.superuser,
                                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"};
    const std::string pwfile = opt_.dir + "/.pwfile";
    if (!opt_.password.empty()) {
      writeFile(pwfile, opt_.password + "\n", 0600);
      chownToPostgres(pwfile);
      argv.push_back("--pwfile=" + pwfile);
    }
    RunResult r = run(asPostgres(argv), opt_.dir, launchOut, 120s);
    ::unlink(pwfile.c_str());
    if (r.code != 0) throw Error(ErrorKind::Internal, "initdb failed: " + oneLine(r.output));
    std::ofstream conf(dataDir() + "/postgresql.conf", std::ios::app);
    conf << "\ninclude_if_exists = 'tier.conf'\n";
  }

  const int attempts = opt_.port == 0 ? 5 : 1;
  const long timeoutS = std::max<long>(1, static_cast<long>((opt_.start_timeout.count() + 999) / 1000));
  for (int attempt = 0; attempt < attempts; ++attempt) {
    port_ = opt_.port != 0 ? opt_.port : findFreePort();
    writeConfig();
    const auto logOffset = fileSize(logPath());
    RunResult r = run(asPostgres({postgresBinary("pg_ctl"), "-D", dataDir(), "-l", logPath(), "-w", "-t",
                                  std::to_string(timeoutS), "-s", "start"}),
                      opt_.dir, launchOut, opt_.start_timeout + 5s);
    if (r.code == 0) {
      ensureDatabase();
      return;
    }
    const std::string log = logSince(logPath(), logOffset);
    const bool portTaken = log.find("Address already in use") != std::string::npos;
    if (portTaken && opt_.port == 0 && attempt + 1 < attempts) continue;
    // pg_ctl may give up while the server still starts; do not leave it behind.
    if (long p = pid(); p > 0) {
      ::kill(static_cast<pid_t>(p), SIGQUIT);
      waitGone(p, 5s);
    }
    std::string detail = logTail(logPath(), logOffset);
    if (detail.empty()) detail = r.output;
    if (r.code == -1 || r.output.find("timed out") != std::string::npos ||
        r.output.find("did not start in time") != std::string::npos)
      throw TimeoutError("PostgreSQL did not start within " + std::to_string(timeoutS) + " s: " + oneLine(detail));
    throw ConnectionError("PostgreSQL failed to start: " + oneLine(detail));
  }
}

void PostgresServerProcess::stop() {
  long p = pid();
  if (p <= 0) return;
  RunResult r = run(asPostgres({postgresBinary("pg_ctl"), "-D", dataDir(), "-m", "fast", "-w", "-t", "30", "-s",
                                "stop"}),
                    opt_.dir, opt_.dir + "/.launch.out", 40s);
  if (r.code == 0 && waitGone(p, 5s)) return;
  ::kill(static_cast<pid_t>(p), SIGQUIT);  // immediate shutdown
  if (!waitGone(p, 5s)) {
    ::kill(static_cast<pid_t>(p), SIGKILL);
    if (!waitGone(p, 3s)) throw TimeoutError("PostgreSQL pid " + std::to_string(p) + " did not stop");
  }
}

void PostgresServerProcess::psql(const std::string& sql) const {
  std::string ci = conninfo() + " connect_timeout=5";
  PGconnPtr conn = connectOrThrow(ci, port_);
  PGresultPtr res(PQexec(conn.get(), sql.c_str()));
  ExecStatusType st = PQresultStatus(res.get());
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return;
  const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
  std::string msg = "SQL failed: " + oneLine(PQresultErrorMessage(res.get()));
  if (state && std::string(state) == "42501") throw PermissionError(msg);
  throw DataError(msg);
}

}  // namespace tier::sandbox
