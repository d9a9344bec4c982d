#include "tier/sandbox/sandbox.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <QByteArray>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>
#include <QString>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tier/common/error.h"
#include "tier/ops/deployment.h"
#include "tier/pg/pg_pool.h"
#include "tier/sandbox/server_process.h"
#include "tier/schema/migrations.h"

namespace tier::sandbox {
namespace {

constexpr const char* kRole = "tier";
constexpr const char* kDatabase = "tier";

struct SavedPorts {
  int redis = 0;
  int postgres = 0;
};

SavedPorts readPorts(const std::string& dir) {
  QFile f(QString::fromStdString(dir + "/sandbox.json"));
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
  return {o.value(QLatin1String("redis_port")).toInt(), o.value(QLatin1String("postgres_port")).toInt()};
}

void writePorts(const std::string& dir, const SavedPorts& ports) {
  QJsonObject o;
  o.insert(QLatin1String("format"), 1);
  o.insert(QLatin1String("redis_port"), ports.redis);
  o.insert(QLatin1String("postgres_port"), ports.postgres);
  QSaveFile f(QString::fromStdString(dir + "/sandbox.json"));
  if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(o).toJson()) < 0 || !f.commit())
    throw Error(ErrorKind::Internal, "cannot write " + dir + "/sandbox.json");
}

// Serialises up()/down() of one folder across processes (flock, released on close).
class FolderLock {
 public:
  explicit FolderLock(const std::string& dir) {
    const std::string path = dir + "/sandbox.lock";
    fd_ = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) throw Error(ErrorKind::Internal, "cannot open " + path + ": " + std::strerror(errno));
    int rc;
    do {
      rc = ::flock(fd_, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
  }
  ~FolderLock() { ::close(fd_); }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

RedisServerOptions redisOptions(const std::string& dir, int port) {
  RedisServerOptions o;
  o.dir = dir + "/redis";
  o.port = port;
  return o;
}

PostgresServerOptions postgresOptions(const std::string& dir, int port) {
  PostgresServerOptions o;
  o.dir = dir + "/pg";
  o.port = port;
  o.superuser = kRole;
  o.database = kDatabase;
  o.fast_unsafe = false;  // the sandbox keeps its data across restarts and crashes
  o.shared_buffers_mb = 128;
  o.start_timeout = std::chrono::seconds(60);
  return o;
}

// Starts (or reuses) a server on its remembered port; if that port was taken
// meanwhile by someone else, on a new one (the URLs change, sandbox.json follows).
template <typename Process, typename Options>
std::unique_ptr<Process> startPreferringPort(Options opt, bool& reused) {
  auto proc = std::make_unique<Process>(opt);
  reused = proc->isRunning();
  try {
    proc->start();
    return proc;
  } catch (const ConnectionError&) {
    if (opt.port == 0 || proc->isRunning()) throw;
  }
  opt.port = 0;
  proc = std::make_unique<Process>(opt);
  proc->start();
  return proc;
}

}  // namespace

std::string defaultSandboxDir() {
  if (::geteuid() == 0) return "/var/lib/tierconsole/sandbox";
  QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
  if (base.isEmpty()) base = QStringLiteral("/tmp");
  return QString(base + QStringLiteral("/tierconsole/sandbox")).toStdString();
}

Sandbox::Sandbox(SandboxOptions options) : opt_(std::move(options)) {
  std::string d = opt_.dir.empty() ? defaultSandboxDir() : opt_.dir;
  std::filesystem::path p = std::filesystem::absolute(d).lexically_normal();
  if (p.filename().empty() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  dir_ = p.string();
}

SandboxStatus Sandbox::status() const {
  const SavedPorts ports = readPorts(dir_);
  RedisServerProcess redis(redisOptions(dir_, ports.redis));
  PostgresServerProcess pg(postgresOptions(dir_, ports.postgres));
  SandboxStatus s;
  s.dir = dir_;
  s.redis_pid = redis.pid();
  s.postgres_pid = pg.pid();
  s.redis_running = s.redis_pid > 0;
  s.postgres_running = s.postgres_pid > 0;
  s.redis_port = ports.redis;
  s.postgres_port = ports.postgres;
  if (ports.redis > 0) s.redis_url = redis.url();
  if (ports.postgres > 0) {
    s.pg_conninfo = pg.conninfo();
    s.pg_uri = pg.uri();
  }
  return s;
}

SandboxUpResult Sandbox::up(const std::function<void(const SandboxProgress&)>& progress) {
  auto report = [&](const char* stage, std::string message) {
    if (!progress) return;
    SandboxProgress p;
    p.stage = stage;
    p.message = std::move(message);
    progress(p);
  };

  makeDirs(dir_);
  FolderLock lock(dir_);
  SavedPorts ports = readPorts(dir_);
  SandboxUpResult result;

  report("redis", "starting redis-server in " + dir_ + "/redis");
  auto redis = startPreferringPort<RedisServerProcess>(redisOptions(dir_, ports.redis), result.redis_reused);
  ports.redis = redis->port();
  report("redis", std::string(result.redis_reused ? "reused" : "started") + " redis-server on 127.0.0.1:" +
                      std::to_string(ports.redis));

  report("postgres", "starting PostgreSQL in " + dir_ + "/pg");
  auto pg = startPreferringPort<PostgresServerProcess>(postgresOptions(dir_, ports.postgres), result.postgres_reused);
  ports.postgres = pg->port();
  writePorts(dir_, ports);
  report("postgres", std::string(result.postgres_reused ? "reused" : "started") + " PostgreSQL on 127.0.0.1:" +
                         std::to_string(ports.postgres));

  pg::PgOptions poolOpt;
  poolOpt.conninfo = pg->conninfo();
  poolOpt.pool_size = 2;
  poolOpt.statement_timeout = std::chrono::milliseconds(0);  // seeding 1M+ rows takes a while
  poolOpt.application_name = "tierconsole-sandbox";
  pg::PgPool pool(poolOpt);

  report("migrate", "migrating the schema");
  schema::MigrateResult migrated = schema::migrate(pool);
  result.migrations_applied = migrated.applied;
  report("migrate", "schema at version " + std::to_string(migrated.to_version) + " (" +
                        std::to_string(migrated.applied.size()) + " applied now)");
  // The mark that lets the synthetic load write here (ops/deployment.h): this
  // cluster was started from our own folder, so it is the sandbox.
  ops::markSandbox(pool);

  if (opt_.seed_if_empty) {
    Seeder seeder(pool);
    if (seeder.isSeeded()) {
      report("seed", "demo data already present");
    } else {
      report("seed", "seeding demo data");
      result.seeded = seeder.seed(opt_.seed, [&](const SeedProgress& sp) {
        if (!progress) return;
        SandboxProgress p;
        p.stage = "seed";
        p.table = sp.table;
        p.done = sp.done;
        p.total = sp.total;
        p.message = sp.table + " " + std::to_string(sp.done) + "/" + std::to_string(sp.total);
        progress(p);
      });
    }
  }

  result.status = status();
  return result;
}

void Sandbox::down() {
  if (!std::filesystem::exists(dir_)) return;
  FolderLock lock(dir_);
  const SavedPorts ports = readPorts(dir_);
  // Stop both even if the first fails; report the first failure.
  std::exception_ptr first;
  try {
    RedisServerProcess(redisOptions(dir_, ports.redis)).stop();
  } catch (...) {
    first = std::current_exception();
  }
  try {
    PostgresServerProcess(postgresOptions(dir_, ports.postgres)).stop();
  } catch (...) {
    if (!first) first = std::current_exception();
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace tier::sandbox
