#pragma once
// The subcommands of tierctl. Each adds its own options to the parser and runs
// with a Context; it returns the process exit code or throws tier::Error (which
// main() reports in one line and maps with tier::exitCodeFor).
#include <QCommandLineParser>
#include <string>
#include <vector>

namespace tierctl {

class Context;

struct CommandSpec {
  const char* name;
  const char* synopsis;  // usage after "tierctl "
  const char* summary;   // one line for the general help
  void (*addOptions)(QCommandLineParser&);
  int (*run)(Context&);
};
const std::vector<CommandSpec>& commandSpecs();
const CommandSpec* findCommand(const QString& name);

// Connection settings of a running sandbox.
struct SandboxEndpoints {
  std::string redis_url;
  std::string pg_conninfo;
};
// Uses the sandbox in `dir` (empty = default folder), starting, migrating and
// seeding it (default sizes) if needed; progress goes to stderr. Throws tier::Error.
SandboxEndpoints ensureSandbox(const QString& dir);

void addSandboxOptions(QCommandLineParser&);
int runSandbox(Context&);
void addMigrateOptions(QCommandLineParser&);
int runMigrate(Context&);
void addSeedOptions(QCommandLineParser&);
int runSeed(Context&);
void addHealthOptions(QCommandLineParser&);
int runHealth(Context&);
void addInspectOptions(QCommandLineParser&);
int runInspect(Context&);
void addInvalidateOptions(QCommandLineParser&);
int runInvalidate(Context&);
void addSessionsOptions(QCommandLineParser&);
int runSessions(Context&);
void addWarmOptions(QCommandLineParser&);
int runWarm(Context&);
void addLoadOptions(QCommandLineParser&);
int runLoad(Context&);
void addFleetOptions(QCommandLineParser&);
int runFleet(Context&);
void addStatsOptions(QCommandLineParser&);
int runStats(Context&);
void addSearchOptions(QCommandLineParser&);
int runSearch(Context&);
void addAuditOptions(QCommandLineParser&);
int runAudit(Context&);
void addBenchOptions(QCommandLineParser&);
int runBench(Context&);
void addAnalyzeOptions(QCommandLineParser&);
int runAnalyze(Context&);

}  // namespace tierctl
