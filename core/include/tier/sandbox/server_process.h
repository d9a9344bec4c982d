#pragma once
// Starts and stops private redis-server and PostgreSQL servers on loopback ports
// in a folder of our own. Used by the sandbox (`tierctl sandbox up`) and by the
// test harness. When running as root, PostgreSQL (which refuses root) is run as
// the `postgres` user through runuser, and the data folder is chowned to it.
//
// Thread-safety: none; one owner per object.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace tier::sandbox {

// A TCP port on 127.0.0.1 that was free a moment ago. Servers started with
// port 0 retry with a new port if another process takes it in between.
int findFreePort();

// True if a process with this pid exists and is not a zombie.
bool processAlive(long pid);

// mkdir -p; every folder it creates is 0755 whatever the umask, so that the
// postgres user can traverse to a data folder below. Throws tier::Error.
void makeDirs(const std::string& dir);

struct RedisServerOptions {
  std::string dir;        // data folder (created); holds redis.conf, pid, log, socket
  int port = 0;           // 0 = pick a free port
  std::string password;   // requirepass for the default user; empty = none
  bool unix_socket = true;  // also listen on dir/redis.sock
  std::chrono::milliseconds start_timeout{10000};
};

class RedisServerProcess {
 public:
  explicit RedisServerProcess(RedisServerOptions options);
  ~RedisServerProcess();  // does NOT stop the server unless stopOnDestroy(true)
  RedisServerProcess(const RedisServerProcess&) = delete;
  RedisServerProcess& operator=(const RedisServerProcess&) = delete;

  // Starts (daemonized, pid file in dir) and waits until PING answers.
  // Reuses a server already running from this dir; port() is then the port it
  // listens on, whatever options.port said. Throws tier::Error (ConnectionError
  // if the port is taken, TimeoutError if it does not answer in start_timeout).
  void start();
  void stop();  // SHUTDOWN NOSAVE, then SIGTERM/SIGKILL via pid file; waits until gone
  bool isRunning() const;
  void stopOnDestroy(bool on) { stop_on_destroy_ = on; }

  int port() const { return port_; }
  std::string socketPath() const;   // empty if unix_socket is false
  std::string url() const;          // redis://[:password@]127.0.0.1:port/0
  long pid() const;
  // Signals for fault tests (SIGSTOP/SIGCONT/SIGKILL).
  void signal(int sig) const;
  std::string logPath() const;  // dir/redis.log

 private:
  bool answers(std::string* error) const;
  void writeConfig() const;
  RedisServerOptions opt_;
  int port_ = 0;
  bool stop_on_destroy_ = false;
};

struct PostgresServerOptions {
  std::string dir;         // data folder (created); PGDATA is dir/data, sockets in dir
  int port = 0;            // 0 = pick a free port
  std::string superuser = "tier";   // role created by initdb
  std::string password;    // if non-empty, set for superuser and auth = scram on TCP
  std::string database = "tier";    // created after start
  std::chrono::milliseconds start_timeout{30000};
  // fsync/full_page_writes/synchronous_commit off: a crash may corrupt the
  // cluster. Only for throw-away test servers; the sandbox keeps it false.
  bool fast_unsafe = false;
  int shared_buffers_mb = 64;  // shared_buffers; 0 = PostgreSQL's default
};

class PostgresServerProcess {
 public:
  explicit PostgresServerProcess(PostgresServerOptions options);
  ~PostgresServerProcess();  // does NOT stop unless stopOnDestroy(true)
  PostgresServerProcess(const PostgresServerProcess&) = delete;
  PostgresServerProcess& operator=(const PostgresServerProcess&) = delete;

  // initdb if needed, pg_ctl start, wait until it accepts connections, create
  // the database if missing. Reuses a server already running from this dir
  // (port() is then its port). Throws tier::Error; as root, BadInputError if
  // user postgres cannot reach dir.
  void start();
  void stop();  // pg_ctl stop -m fast
  bool isRunning() const;
  void stopOnDestroy(bool on) { stop_on_destroy_ = on; }

  int port() const { return port_; }
  // "host=127.0.0.1 port=N dbname=tier user=tier" (+ password=... if set)
  std::string conninfo() const;
  // postgresql://tier@127.0.0.1:N/tier (no password)
  std::string uri() const;
  long pid() const;
  // Runs SQL as the superuser (for tests creating roles etc.).
  void psql(const std::string& sql) const;
  std::string dataDir() const;  // dir/data (PGDATA)
  std::string logPath() const;  // dir/postgres.log
  // argv that stops this server at once (pg_ctl stop -m immediate, through
  // runuser when root); for watchdogs that must work after we are gone.
  std::vector<std::string> stopImmediateCommand() const;

 private:
  bool answers(std::string* error) const;
  void writeConfig() const;
  void ensureDatabase() const;
  PostgresServerOptions opt_;
  int port_ = 0;
  bool stop_on_destroy_ = false;
};

}  // namespace tier::sandbox
