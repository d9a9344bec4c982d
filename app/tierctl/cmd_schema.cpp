#include <QJsonArray>
#include <chrono>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "seed_options.h"
#include "tier/sandbox/seeder.h"
#include "tier/schema/migrations.h"

namespace tierctl {

void addMigrateOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("yes"), QStringLiteral("Confirm changing the schema on a profile tagged production.")});
}

int runMigrate(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("migrate"));
  ctx.guardDestructive(QStringLiteral("changes the database schema"), ctx.isSet(QStringLiteral("yes")));
  const tier::schema::MigrateResult r = tier::schema::migrate(ctx.core().pg());
  if (ctx.json()) {
    QJsonArray applied;
    for (const auto& name : r.applied) applied.append(fromStd(name));
    printJson(QJsonObject{{QStringLiteral("from_version"), r.from_version},
                          {QStringLiteral("to_version"), r.to_version},
                          {QStringLiteral("applied"), applied}});
  } else if (r.applied.empty()) {
    printLine(QStringLiteral("schema already at version %1").arg(r.to_version));
  } else {
    QStringList names;
    for (const auto& name : r.applied) names << fromStd(name);
    printLine(QStringLiteral("schema migrated from version %1 to %2 (applied %3)")
                  .arg(QString::number(r.from_version), QString::number(r.to_version), names.join(QStringLiteral(", "))));
  }
  return tier::kExitOk;
}

void addSeedSizeOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("users"), QStringLiteral("Users to create (default 2000)."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("entries"), QStringLiteral("Journal entries (default 100000)."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("sessions"), QStringLiteral("Chat sessions (default 10000)."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("knowledge"), QStringLiteral("Knowledge articles (default 500)."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("min-messages"), QStringLiteral("Fewest messages per session (default 20)."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("max-messages"), QStringLiteral("Most messages per session (default 200)."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("random-seed"), QStringLiteral("Seed of the generator (default 42)."),
                    QStringLiteral("N")});
}

tier::sandbox::SeedOptions seedOptionsFrom(const Context& ctx) {
  tier::sandbox::SeedOptions o;
  o.users = static_cast<int>(ctx.intOption(QStringLiteral("users"), 1, 10'000'000, o.users));
  o.entries = static_cast<int>(ctx.intOption(QStringLiteral("entries"), 0, 100'000'000, o.entries));
  o.sessions = static_cast<int>(ctx.intOption(QStringLiteral("sessions"), 0, 10'000'000, o.sessions));
  o.knowledge = static_cast<int>(ctx.intOption(QStringLiteral("knowledge"), 0, 1'000'000, o.knowledge));
  o.min_messages = static_cast<int>(ctx.intOption(QStringLiteral("min-messages"), 0, 100'000, o.min_messages));
  o.max_messages = static_cast<int>(ctx.intOption(QStringLiteral("max-messages"), 0, 100'000, o.max_messages));
  if (o.min_messages > o.max_messages)
    throw UsageError(QStringLiteral("--min-messages must not exceed --max-messages"));
  o.random_seed = static_cast<std::uint64_t>(
      ctx.intOption(QStringLiteral("random-seed"), 0, std::numeric_limits<long long>::max(), 42));
  return o;
}

std::function<void(const tier::sandbox::SeedProgress&)> seedProgressPrinter() {
  // On a terminal one line per table is rewritten in place; in a log, one line
  // per table per second at most plus the final count.
  const bool tty = stderrIsTerminal();
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [tty, last](const tier::sandbox::SeedProgress& p) {
    const QString text = QStringLiteral("seed: %1 %2/%3").arg(fromStd(p.table), thousands(p.done), thousands(p.total));
    const bool done = p.done >= p.total;
    if (tty) {
      const QByteArray bytes = (QStringLiteral("\r") + text + (done ? QStringLiteral("\n") : QString())).toUtf8();
      std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stderr);
      std::fflush(stderr);
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (done || now - *last >= std::chrono::seconds(1)) {
      *last = now;
      printErrLine(text);
    }
  };
}

QJsonObject seedResultJson(const tier::sandbox::SeedResult& r) {
  return QJsonObject{{QStringLiteral("users"), static_cast<double>(r.users)},
                     {QStringLiteral("entries"), static_cast<double>(r.entries)},
                     {QStringLiteral("sessions"), static_cast<double>(r.sessions)},
                     {QStringLiteral("messages"), static_cast<double>(r.messages)},
                     {QStringLiteral("knowledge"), static_cast<double>(r.knowledge)},
                     {QStringLiteral("seconds"), r.seconds}};
}

QString seedResultText(const tier::sandbox::SeedResult& r) {
  return QStringLiteral("seeded %1 users, %2 journal entries, %3 chat sessions (%4 messages), %5 knowledge articles "
                        "in %6 s")
      .arg(thousands(r.users), thousands(r.entries), thousands(r.sessions), thousands(r.messages),
           thousands(r.knowledge), QString::number(r.seconds, 'f', 1));
}

void addSeedOptions(QCommandLineParser& parser) {
  addSeedSizeOptions(parser);
  parser.addOption({QStringLiteral("yes"), QStringLiteral("Confirm seeding on a profile tagged production.")});
}

int runSeed(Context& ctx) {
  ctx.expectPositionals(0, 0, QStringLiteral("seed"));
  const tier::sandbox::SeedOptions options = seedOptionsFrom(ctx);
  ctx.guardDestructive(QStringLiteral("writes demo data to the database"), ctx.isSet(QStringLiteral("yes")));
  auto& pool = ctx.core().pg();
  tier::schema::migrate(pool);  // idempotent; seeding needs the tables
  tier::sandbox::Seeder seeder(pool);
  const tier::sandbox::SeedResult r = seeder.seed(options, seedProgressPrinter());
  if (ctx.json())
    printJson(seedResultJson(r));
  else
    printLine(seedResultText(r));
  return tier::kExitOk;
}

}  // namespace tierctl
