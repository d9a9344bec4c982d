#include "commands.h"

#include <QString>

namespace tierctl {

const std::vector<CommandSpec>& commandSpecs() {
  static const std::vector<CommandSpec> specs = {
      {"sandbox", "sandbox up|down|status [--dir DIR] [--users N --entries N --sessions N --knowledge N]",
       "start, stop or describe the private Redis + PostgreSQL sandbox", addSandboxOptions, runSandbox},
      {"migrate", "migrate", "apply the schema migrations (idempotent)", addMigrateOptions, runMigrate},
      {"seed", "seed [--users N] [--entries N] [--sessions N] [--knowledge N]",
       "fill an empty, migrated database with demo data", addSeedOptions, runSeed},
      {"health", "health", "Redis and PostgreSQL health, latency and pool state", addHealthOptions, runHealth},
      {"inspect", "inspect session <id>", "where a chat session lives (L1/L2/L3) and whether it is stale",
       addInspectOptions, runInspect},
      {"invalidate",
       "invalidate (--key K | --pattern P | --namespace N | --user U) [--dry-run] [--yes] [--allow-any-namespace]",
       "delete cached keys (preview with --dry-run)", addInvalidateOptions, runInvalidate},
      {"sessions", "sessions expire (--idle DURATION | --id N) [--dry-run] [--yes] [--batch N]",
       "mark idle chat sessions expired and drop their cached copies (preview with --dry-run)", addSessionsOptions,
       runSessions},
      {"warm", "warm knowledge|sessions|entries [--hours H] [--top-users N]",
       "load a set from PostgreSQL into the cache", addWarmOptions, runWarm},
      {"load", "load [--users N] [--duration S] [--rate R] [--threads T] [--allow-writes] | load --cleanup",
       "run the synthetic workload (read-only unless on the sandbox), one stats line per second", addLoadOptions,
       runLoad},
      {"fleet", "fleet [--watch] [--window S]",
       "the instances publishing metrics to this Redis and the fleet's aggregate (read-only)", addFleetOptions,
       runFleet},
      {"stats", "stats [--duration S]", "a short read-only probe: hit rate and the thresholds", addStatsOptions,
       runStats},
      {"search", "search TEXT [--user ID] [--limit N]",
       "full-text search over journal entries: ranked, highlighted, cached until an entry changes", addSearchOptions,
       runSearch},
      {"analyze", "analyze [--sample N] [--json] | analyze --reclaim [--dry-run] [--yes]",
       "keys, memory, TTLs and old-generation copies per namespace, the largest and hot keys (sampled, read-only)",
       addAnalyzeOptions, runAnalyze},
      {"audit", "audit [--limit N] [--filter TEXT]", "the audit log of destructive or heavy actions",
       addAuditOptions, runAudit},
      {"bench", "bench [--quick] [--only FIELD,...] [--strict]",
       "measure every tier against its baseline (own servers unless --sandbox/--redis/--pg)", addBenchOptions, runBench},
  };
  return specs;
}

const CommandSpec* findCommand(const QString& name) {
  for (const auto& spec : commandSpecs())
    if (name == QLatin1String(spec.name)) return &spec;
  return nullptr;
}

}  // namespace tierctl
