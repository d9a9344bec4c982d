#include "servers.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"
#include "tier/schema/migrations.h"

namespace tier::test {
namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string joinQuoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += shellQuote(a);
  }
  return out;
}

void killWatchdog(long pid) {
  if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
}

}  // namespace

std::string makeTempDir() {
  std::string tmpl = "/tmp/tier-test-XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw Error(ErrorKind::Internal, std::string("cannot create a temp folder: ") + std::strerror(errno));
  ::chmod(tmpl.c_str(), 0755);
  return tmpl;
}

void removeTree(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

long spawnWatchdog(long watched, const std::vector<std::vector<std::string>>& cleanup, const std::string& dir) {
  // A zombie counts as dead: its parent may be us, already gone or not reaping.
  std::string script =
      "alive() { kill -0 \"$1\" 2>/dev/null || return 1; [ -r \"/proc/$1/stat\" ] || return 0;"
      " s=$(cat \"/proc/$1/stat\" 2>/dev/null) || return 1; s=\"${s##*) }\"; [ \"${s%% *}\" != Z ]; }\n"
      "while alive " +
      std::to_string(watched) + "; do sleep 0.5; done\n";
  for (const auto& argv : cleanup) script += joinQuoted(argv) + " >/dev/null 2>&1\n";
  if (!dir.empty()) script += "rm -rf " + shellQuote(dir) + "\n";

  std::array<const char*, 4> argv{"/bin/sh", "-c", script.c_str(), nullptr};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw Error(ErrorKind::Internal, std::string("pipe failed: ") + std::strerror(errno));
  // Double fork + setsid: the watchdog is nobody's child and in no terminal's
  // process group, so ctest or Ctrl-C killing our group does not take it down.
  pid_t child = ::fork();
  if (child < 0) throw Error(ErrorKind::Internal, std::string("fork failed: ") + std::strerror(errno));
  if (child == 0) {
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) ::signal(sig, SIG_DFL);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::closefrom(3);
      ::chdir("/");
      ::execv(argv[0], const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    ssize_t n = ::write(fds[1], &grandchild, sizeof grandchild);
    ::_exit(n == sizeof grandchild ? 0 : 1);
  }
  ::close(fds[1]);
  pid_t watchdog = -1;
  ssize_t n;
  do {
    n = ::read(fds[0], &watchdog, sizeof watchdog);
  } while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof watchdog || watchdog <= 0) throw Error(ErrorKind::Internal, "cannot start the server watchdog");
  return watchdog;
}

// ---- TestRedis --------------------------------------------------------------

TestRedis::TestRedis(std::string password) : dir_(makeTempDir()), password_(std::move(password)) {
  try {
    tier::sandbox::RedisServerOptions opt;
    opt.dir = dir_ + "/redis";
    opt.password = password_;
    proc_ = std::make_unique<tier::sandbox::RedisServerProcess>(std::move(opt));
    proc_->start();
    watchdog_ = spawnWatchdog(::getpid(), {{"kill", "-9", std::to_string(proc_->pid())}}, dir_);
  } catch (...) {
    if (proc_) {
      try {
        proc_->stop();
      } catch (...) {
      }
    }
    removeTree(dir_);
    throw;
  }
}

TestRedis::~TestRedis() {
  killWatchdog(watchdog_);
  try {
    proc_->stop();
  } catch (...) {
    proc_->signal(SIGKILL);
  }
  removeTree(dir_);
}

void TestRedis::kill() {
  const long p = proc_->pid();
  if (p <= 0) return;
  proc_->signal(SIGKILL);
  for (int i = 0; i < 500 && tier::sandbox::processAlive(p); ++i) ::usleep(10'000);
  if (tier::sandbox::processAlive(p)) throw TimeoutError("redis-server pid " + std::to_string(p) + " did not die");
}

void TestRedis::restart() {
  tier::sandbox::RedisServerOptions opt;
  opt.dir = dir_ + "/redis";
  opt.password = password_;
  opt.port = proc_->port();
  auto next = std::make_unique<tier::sandbox::RedisServerProcess>(std::move(opt));
  next->start();
  proc_ = std::move(next);
  killWatchdog(watchdog_);
  watchdog_ = spawnWatchdog(::getpid(), {{"kill", "-9", std::to_string(proc_->pid())}}, dir_);
}

void TestRedis::pause() { proc_->signal(SIGSTOP); }
void TestRedis::resume() { proc_->signal(SIGCONT); }

std::string TestRedis::url() const { return proc_->url(); }
std::string TestRedis::socketPath() const { return proc_->socketPath(); }
int TestRedis::port() const { return proc_->port(); }
tier::sandbox::RedisServerProcess& TestRedis::process() { return *proc_; }

std::string TestRedis::cli(const std::string& args) const {
  // REDISCLI_AUTH keeps the password off redis-cli's command line.
  std::string cmd = password_.empty() ? "" : "REDISCLI_AUTH=" + shellQuote(password_) + " ";
  cmd += "redis-cli -h 127.0.0.1 -p " + std::to_string(proc_->port()) + " " + args + " 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    ::pclose(p);
  }
  return out;
}

// ---- TestPostgres -----------------------------------------------------------

TestPostgres::TestPostgres(std::string password) : dir_(makeTempDir()), password_(std::move(password)) {
  try {
    tier::sandbox::PostgresServerOptions opt;
    opt.dir = dir_ + "/pg";
    opt.password = password_;
    opt.fast_unsafe = true;  // throw-away data: no fsync
    opt.shared_buffers_mb = 32;
    opt.start_timeout = std::chrono::seconds(60);
    proc_ = std::make_unique<tier::sandbox::PostgresServerProcess>(std::move(opt));
    proc_->start();
    const std::string pid = std::to_string(proc_->pid());
    watchdog_ = spawnWatchdog(::getpid(), {proc_->stopImmediateCommand(), {"kill", "-9", pid}}, dir_);
  } catch (...) {
    if (proc_) {
      try {
        proc_->stop();
      } catch (...) {
      }
    }
    removeTree(dir_);
    throw;
  }
}

TestPostgres::~TestPostgres() {
  killWatchdog(watchdog_);
  try {
    proc_->stop();
  } catch (...) {
    if (long pid = proc_->pid(); pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  removeTree(dir_);
}

void TestPostgres::stop() { proc_->stop(); }

void TestPostgres::start() {
  tier::sandbox::PostgresServerOptions opt;
  opt.dir = dir_ + "/pg";
  opt.password = password_;
  opt.port = proc_->port();
  opt.fast_unsafe = true;
  opt.shared_buffers_mb = 32;
  opt.start_timeout = std::chrono::seconds(60);
  auto next = std::make_unique<tier::sandbox::PostgresServerProcess>(std::move(opt));
  next->start();
  proc_ = std::move(next);
  // The old watchdog would kill a pid that no longer exists: watch the new one.
  killWatchdog(watchdog_);
  watchdog_ = spawnWatchdog(::getpid(), {proc_->stopImmediateCommand(), {"kill", "-9", std::to_string(proc_->pid())}},
                            dir_);
}

std::string TestPostgres::conninfo() const { return proc_->conninfo(); }
int TestPostgres::port() const { return proc_->port(); }
tier::sandbox::PostgresServerProcess& TestPostgres::process() { return *proc_; }
void TestPostgres::psql(const std::string& sql) const { proc_->psql(sql); }

void TestPostgres::enableSsl(const std::string& certFile, const std::string& keyFile) {
  namespace fs = std::filesystem;
  const std::string cert = dir_ + "/server.crt", key = dir_ + "/server.key";
  fs::copy_file(certFile, cert, fs::copy_options::overwrite_existing);
  fs::copy_file(keyFile, key, fs::copy_options::overwrite_existing);
  // PostgreSQL refuses a key readable by others, and reads both as user postgres.
  ::chmod(key.c_str(), 0600);
  ::chmod(cert.c_str(), 0644);
  if (::geteuid() == 0) {
    if (passwd* pw = ::getpwnam("postgres")) {
      if (::chown(cert.c_str(), pw->pw_uid, pw->pw_gid) != 0 || ::chown(key.c_str(), pw->pw_uid, pw->pw_gid) != 0)
        throw tier::Error(tier::ErrorKind::Internal, "cannot hand the TLS files to user postgres");
    }
  }
  // ALTER SYSTEM cannot run in a transaction block: one statement per call.
  proc_->psql("ALTER SYSTEM SET ssl_cert_file = '" + cert + "'");
  proc_->psql("ALTER SYSTEM SET ssl_key_file = '" + key + "'");
  proc_->psql("ALTER SYSTEM SET ssl = on");
  proc_->psql("SELECT pg_reload_conf()");
}

// ---- TestServers ------------------------------------------------------------

TestServers& TestServers::shared() {
  // Destroyed by exit(); if the process dies first, the watchdogs clean up.
  static TestServers servers;
  return servers;
}

TestServers::TestServers() : redis_(std::make_unique<TestRedis>()), pg_(std::make_unique<TestPostgres>()) {
  tier::pg::PgOptions opt;
  opt.conninfo = pg_->conninfo();
  opt.pool_size = 1;
  tier::pg::PgPool pool(std::move(opt));
  tier::schema::migrate(pool);
}

std::string TestServers::redisUrl() const { return redis_->url(); }
std::string TestServers::pgConninfo() const { return pg_->conninfo(); }
TestRedis& TestServers::redis() { return *redis_; }
TestPostgres& TestServers::postgres() { return *pg_; }

}  // namespace tier::test
