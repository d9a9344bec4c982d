#include "cli.h"

#include <QSettings>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "tier/metrics/thresholds.h"

namespace tierctl {

namespace {

QString envValue(const char* name) {
  const char* v = std::getenv(name);
  return v ? QString::fromUtf8(v) : QString();
}

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int) { g_interrupted.store(true); }

struct Profile {
  QString redis_url;
  QString pg_conninfo;
  QString pg_replica_conninfo;  // optional read replica; empty = none
  bool production = false;      // destructive commands need --yes
  bool read_only = false;       // destructive commands are refused (exit 4)
  QString warm_on_start = QString::fromLatin1(tier::ops::kDefaultWarmOnStart);
};

// QSettings(organization "TierConsole", application "tierconsole"), group
// profiles/<name>: the GUI writes the same keys. Passwords are never stored there.
Profile readProfile(const QString& name) {
  if (name.isEmpty() || name.contains(QLatin1Char('/')) || name.contains(QLatin1Char('\\')))
    throw UsageError(QStringLiteral("invalid profile name '%1'").arg(quoteInput(name)));
  QSettings settings(QStringLiteral("TierConsole"), QStringLiteral("tierconsole"));
  settings.beginGroup(QStringLiteral("profiles"));
  if (!settings.childGroups().contains(name))
    throw tier::NotFoundError("profile '" + quoteInput(name).toStdString() + "' not found");
  settings.beginGroup(name);
  Profile p;
  p.redis_url = settings.value(QStringLiteral("redis_url")).toString();
  p.pg_conninfo = settings.value(QStringLiteral("pg_conninfo")).toString();
  p.pg_replica_conninfo = settings.value(QStringLiteral("pg_replica_conninfo")).toString();
  p.production = settings.value(QStringLiteral("production"), false).toBool();
  p.read_only = settings.value(QStringLiteral("read_only"), false).toBool();
  p.warm_on_start = settings.value(QStringLiteral("warm_on_start"), p.warm_on_start).toString();
  return p;
}

}  // namespace

namespace {
QString withHint(QString message) {
  while (message.endsWith(QLatin1Char('.'))) message.chop(1);  // QCommandLineParser's errors end in '.'
  return message + QStringLiteral(" (see 'tierctl --help')");
}
}  // namespace

UsageError::UsageError(const QString& message) : tier::BadInputError(withHint(message).toStdString()) {}

Context::Context(QCommandLineParser& parser, GlobalSettings globals, QString command)
    : parser_(parser), globals_(std::move(globals)), command_(std::move(command)) {}

Context::~Context() = default;

bool Context::json() const { return parser_.isSet(QStringLiteral("json")); }

QStringList Context::positionals() const {
  QStringList p = parser_.positionalArguments();
  if (!p.isEmpty()) p.removeFirst();  // the command name
  return p;
}

void Context::expectPositionals(int min, int max, const QString& synopsis) const {
  const QStringList p = positionals();
  if (p.size() > max)
    throw UsageError(QStringLiteral("unexpected argument '%1'; usage: tierctl %2").arg(quoteInput(p.at(max)), synopsis));
  if (p.size() < min) throw UsageError(QStringLiteral("missing argument; usage: tierctl %1").arg(synopsis));
}

bool Context::isSet(const QString& option) const { return parser_.isSet(option); }
QString Context::value(const QString& option) const { return parser_.value(option); }

long long Context::intOption(const QString& option, long long min, long long max, long long fallback) const {
  if (!parser_.isSet(option)) return fallback;
  const QString text = parser_.value(option).trimmed();
  bool ok = false;
  const long long v = text.toLongLong(&ok);
  if (!ok || v < min || v > max)
    throw UsageError(QStringLiteral("--%1 must be an integer from %2 to %3, not '%4'")
                         .arg(option, QString::number(min), QString::number(max), quoteInput(text)));
  return v;
}

double Context::doubleOption(const QString& option, double min, double max, double fallback) const {
  if (!parser_.isSet(option)) return fallback;
  const QString text = parser_.value(option).trimmed();
  bool ok = false;
  const double v = text.toDouble(&ok);
  if (!ok || !(v >= min) || !(v <= max))
    throw UsageError(QStringLiteral("--%1 must be a number from %2 to %3, not '%4'")
                         .arg(option, QString::number(min), QString::number(max), quoteInput(text)));
  return v;
}

void Context::setMinPoolSize(int n) { min_pool_ = n; }

// Thresholds: the brief's defaults, then those the console saved (QSettings
// group "thresholds"), then --threshold NAME=LIMIT flags.
void Context::applyThresholds(tier::Thresholds& t) const {
  auto set = [&](const QString& name, const QString& text, bool fromFlag) {
    double* target = tier::metrics::thresholdLimit(t, name.toStdString());
    bool ok = false;
    const double v = text.toDouble(&ok);
    const bool valid = target && ok && v > 0 && (name != QLatin1String("hit_rate") || v <= 1.0);
    if (!valid) {
      if (!fromFlag) return;  // a bad saved value keeps the default
      throw UsageError(QStringLiteral("--threshold expects NAME=LIMIT with NAME one of hit_rate (0-1), redis_p99, "
                                      "session_retrieval_p99, db_query_p99, knowledge_p99 (ms), not '%1=%2'")
                           .arg(quoteInput(name), quoteInput(text)));
    }
    *target = v;
  };
  QSettings settings(QStringLiteral("TierConsole"), QStringLiteral("tierconsole"));
  settings.beginGroup(QStringLiteral("thresholds"));
  for (const QString& key : settings.childKeys()) set(key, settings.value(key).toString(), false);
  settings.endGroup();
  for (const QString& item : parser_.values(QStringLiteral("threshold"))) {
    const auto eq = item.indexOf(QLatin1Char('='));
    if (eq <= 0) throw UsageError(QStringLiteral("--threshold expects NAME=LIMIT, not '%1'").arg(quoteInput(item)));
    set(item.left(eq), item.mid(eq + 1), true);
  }
}

tier::CoreConfig Context::resolveConfig() {
  tier::CoreConfig config;
  QString redis, pg, pgReplica;
  if (globals_.sandbox) {
    // The sandbox stands in for environment and profile; explicit flags still win.
    const SandboxEndpoints sb = ensureSandbox(globals_.sandbox_dir);
    redis = fromStd(sb.redis_url);
    pg = fromStd(sb.pg_conninfo);
    config.profile = "sandbox";
  } else {
    if (parser_.isSet(QStringLiteral("profile"))) {
      const QString name = parser_.value(QStringLiteral("profile"));
      const Profile p = readProfile(name);
      redis = p.redis_url;
      pg = p.pg_conninfo;
      pgReplica = p.pg_replica_conninfo;
      config.profile = name.toStdString();
    }
    if (const QString v = envValue("TIER_REDIS_URL"); !v.isEmpty()) redis = v;
    if (const QString v = envValue("TIER_PG_CONNINFO"); !v.isEmpty()) pg = v;
    if (const QString v = envValue("TIER_PG_REPLICA_CONNINFO"); !v.isEmpty()) pgReplica = v;
  }
  if (parser_.isSet(QStringLiteral("redis"))) redis = parser_.value(QStringLiteral("redis"));
  if (parser_.isSet(QStringLiteral("pg"))) pg = parser_.value(QStringLiteral("pg"));
  config.redis_url = redis.toStdString();
  config.pg_conninfo = pg.toStdString();
  if (parser_.isSet(QStringLiteral("pg-replica"))) pgReplica = parser_.value(QStringLiteral("pg-replica"));
  config.pg_replica_conninfo = pgReplica.toStdString();
  config.pg_replica.max_lag = std::chrono::milliseconds(
      intOption(QStringLiteral("pg-replica-max-lag"), 0, 600000, config.pg_replica.max_lag.count()));
  applyThresholds(config.thresholds);
  config.redis.client_name = "tierctl";
  config.pg.application_name = "tierctl";
  // Fleet telemetry: a running load is an instance worth charting; a one-shot
  // command would leave a "gone" instance behind after every run.
  config.fleet.enabled = command_ == QLatin1String("load") && !parser_.isSet(QStringLiteral("no-publish"));
  config.fleet.app_name = "tierctl-load";
  if (const QString v = envValue("TIER_APP_NAME"); !v.isEmpty()) config.fleet.app_name = v.toStdString();
  if (parser_.isSet(QStringLiteral("app-name"))) config.fleet.app_name = parser_.value(QStringLiteral("app-name")).toStdString();
  config.fleet.interval = std::chrono::milliseconds(
      intOption(QStringLiteral("publish-interval"), 100, 60000, config.fleet.interval.count()));
  if (min_pool_ > config.redis.pool_size) config.redis.pool_size = min_pool_;
  if (min_pool_ > config.pg.pool_size) config.pg.pool_size = min_pool_;
  return config;
}

tier::TierCore& Context::core() {
  if (!core_) core_ = std::make_unique<tier::TierCore>(resolveConfig());
  return *core_;
}

void Context::guardDestructive(const QString& what, bool yes, const QString& hint) {
  const QString tail = hint.isEmpty() ? QString() : QStringLiteral("; ") + hint;
  if (parser_.isSet(QStringLiteral("read-only")))
    throw tier::PermissionError(
        QStringLiteral("refused: --read-only was given and %1 %2%3").arg(command_, what, tail).toStdString());
  // The sandbox stands in for the profile (see resolveConfig): its tags do not apply.
  if (globals_.sandbox || !parser_.isSet(QStringLiteral("profile"))) return;
  const QString name = parser_.value(QStringLiteral("profile"));
  const Profile p = readProfile(name);
  if (p.read_only)
    throw tier::PermissionError(QStringLiteral("refused: profile '%1' is marked read-only and %2 %3%4")
                                    .arg(quoteInput(name), command_, what, tail)
                                    .toStdString());
  if (p.production && !yes)
    throw UsageError(QStringLiteral("profile '%1' is tagged production: %2 %3 only with --yes, whatever its size%4")
                         .arg(quoteInput(name), command_, what, tail));
}

std::vector<tier::ops::WarmSet> Context::warmOnStart() const {
  if (parser_.isSet(QStringLiteral("read-only"))) return {};
  if (globals_.sandbox || !parser_.isSet(QStringLiteral("profile")))
    return tier::ops::parseWarmSets(tier::ops::kDefaultWarmOnStart);
  const Profile p = readProfile(parser_.value(QStringLiteral("profile")));
  if (p.read_only) return {};
  return tier::ops::parseWarmSets(p.warm_on_start.toStdString());
}

void addGlobalOptions(QCommandLineParser& parser) {
  parser.addOption(
      {QStringLiteral("redis"),
       QStringLiteral("Redis URL (redis://[user[:pass]@]host:port/db, unix:///path, "
                      "redis+cluster://host:port[,host:port...], redis+sentinel://host:port[,...]/master-name[/db])."),
       QStringLiteral("URL")});
  parser.addOption({QStringLiteral("pg"), QStringLiteral("PostgreSQL conninfo or URI (libpq; PG* variables and .pgpass apply)."),
                    QStringLiteral("CONNINFO")});
  parser.addOption({QStringLiteral("pg-replica"),
                    QStringLiteral("Read-only PostgreSQL streaming replica for inspection, analytics and warming reads "
                                   "(falls back to --pg when down or behind)."),
                    QStringLiteral("CONNINFO")});
  parser.addOption(
      {QStringLiteral("pg-replica-max-lag"),
       QStringLiteral("How long a routed read waits for the replica to catch up before the primary serves it "
                      "(ms, default 250)."),
       QStringLiteral("MS")});
  parser.addOption({QStringLiteral("profile"), QStringLiteral("Connection profile saved by the console."),
                    QStringLiteral("NAME")});
  // Only for the help text: main() takes --sandbox[=DIR] out before parsing.
  parser.addOption({QStringLiteral("sandbox"),
                    QStringLiteral("Use the private sandbox, starting it if needed; --sandbox=DIR for another folder.")});
  parser.addOption({QStringLiteral("threshold"),
                    QStringLiteral("Override a Phase 0B limit, e.g. redis_p99=5 (ms) or hit_rate=0.8; repeatable."),
                    QStringLiteral("NAME=LIMIT")});
  parser.addOption({QStringLiteral("read-only"),
                    QStringLiteral("Refuse every destructive command (as a profile tagged read-only does).")});
  parser.addOption({QStringLiteral("json"), QStringLiteral("Print the result as JSON (see docs/cli.md).")});
  parser.addOption({QStringLiteral("no-publish"),
                    QStringLiteral("load: do not publish this process's metrics to the fleet (docs/fleet-protocol.md).")});
  parser.addOption({QStringLiteral("app-name"),
                    QStringLiteral("load: the application name this instance publishes (default tierctl-load, or $TIER_APP_NAME)."),
                    QStringLiteral("NAME")});
  parser.addOption({QStringLiteral("publish-interval"),
                    QStringLiteral("load: milliseconds between two published samples (100-60000, default 1000)."),
                    QStringLiteral("MS")});
  parser.addOption({QStringLiteral("version"), QStringLiteral("Print the version and exit.")});
  parser.addOption({{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show help and exit.")});
}

bool isGlobalOptionWithValue(const QString& name) {
  return name == QLatin1String("redis") || name == QLatin1String("pg") || name == QLatin1String("profile") ||
         name == QLatin1String("threshold") || name == QLatin1String("pg-replica") ||
         name == QLatin1String("pg-replica-max-lag");
}

bool isGlobalFlag(const QString& name) {
  return name == QLatin1String("json") || name == QLatin1String("version") || name == QLatin1String("help") ||
         name == QLatin1String("h") || name == QLatin1String("read-only");
}

QString quoteInput(const QString& text) {
  QString out;
  for (const QChar c : text) {
    if (out.size() >= 64) {
      out += QStringLiteral("...");
      break;
    }
    if (c.unicode() < 0x20 || c.unicode() == 0x7f)
      out += QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'));
    else
      out += c;
  }
  return out;
}

void installInterruptHandler() {
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::atomic<bool>& interruptFlag() { return g_interrupted; }

bool stdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }
bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

bool confirmOnTerminal(const QString& question) {
  const QByteArray ask = question.toUtf8();
  std::fwrite(ask.constData(), 1, static_cast<size_t>(ask.size()), stderr);
  std::fflush(stderr);
  std::string answer;
  return std::getline(std::cin, answer) && (answer == "y" || answer == "Y" || answer == "yes");
}

}  // namespace tierctl
