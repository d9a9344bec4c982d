#pragma once
// tierctl's command-line context: the parsed arguments of one invocation, the
// connection settings resolved from flags > environment > profile (or the
// sandbox), and the one TierCore a command works with.
//
// Thread-safety: none; tierctl runs its commands on the main thread.
#include <QCommandLineParser>

#include <vector>

#include "tier/ops/warming.h"
#include <QString>
#include <QStringList>
#include <atomic>
#include <memory>
#include <string>

#include "tier/common/error.h"
#include "tier/core.h"

namespace tierctl {

// A mistake on the command line: exit 2 with the message and a hint.
class UsageError : public tier::BadInputError {
 public:
  explicit UsageError(const QString& message);
};

// What main() knows before the command parses its own options.
struct GlobalSettings {
  bool sandbox = false;  // --sandbox or --sandbox=DIR was given
  QString sandbox_dir;   // empty = the default sandbox folder
};

class Context {
 public:
  Context(QCommandLineParser& parser, GlobalSettings globals, QString command);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const QString& command() const { return command_; }
  bool json() const;
  const GlobalSettings& globals() const { return globals_; }
  QCommandLineParser& parser() { return parser_; }
  // Positional arguments after the command name.
  QStringList positionals() const;
  // REQUIRES: at most `max` positionals; otherwise UsageError naming the extra one.
  void expectPositionals(int min, int max, const QString& synopsis) const;

  bool isSet(const QString& option) const;
  QString value(const QString& option) const;
  // The option's integer value in [min, max], or `fallback` if absent; UsageError otherwise.
  long long intOption(const QString& option, long long min, long long max, long long fallback) const;
  double doubleOption(const QString& option, double min, double max, double fallback) const;

  // Raises both pool sizes to at least n (call before core()).
  void setMinPoolSize(int n);
  // Resolves the connection settings (starting the sandbox if --sandbox asks for it).
  // Throws tier::Error (UsageError, NotFoundError for an unknown profile, ...).
  tier::CoreConfig resolveConfig();
  // Applies saved thresholds and --threshold flags (UsageError for a bad flag).
  void applyThresholds(tier::Thresholds& thresholds) const;
  // The core, built on first use from resolveConfig(). Never connects by itself.
  tier::TierCore& core();

  // Call before a destructive command touches anything (it reads only the
  // settings file). `what` completes "<command> ..." in the message, e.g.
  // "deletes cached keys". A profile tagged read-only (or --read-only) refuses
  // it: tier::PermissionError, exit 4, naming the profile. A profile tagged
  // production requires --yes (`yes`) whatever the size: UsageError, exit 2.
  // `hint` (e.g. "preview with --dry-run") ends the refusal.
  void guardDestructive(const QString& what, bool yes, const QString& hint = {});
  // Warm on start: the --profile's warm_on_start key (default "knowledge"; the
  // sandbox and no profile: the default). Empty when the profile is read-only
  // or --read-only was given (warming writes to the cache). Throws BadInputError
  // for an unknown set name in the profile.
  std::vector<tier::ops::WarmSet> warmOnStart() const;

 private:
  QCommandLineParser& parser_;
  GlobalSettings globals_;
  QString command_;
  int min_pool_ = 0;
  std::unique_ptr<tier::TierCore> core_;
};

// Adds --redis, --pg, --profile, --json, --version, --help to a parser.
void addGlobalOptions(QCommandLineParser& parser);
// Global options that take a value (so main() can skip it while finding the command).
bool isGlobalOptionWithValue(const QString& name);
bool isGlobalFlag(const QString& name);

// User input quoted in a message: at most 64 characters, control characters escaped.
QString quoteInput(const QString& text);

// SIGINT/SIGTERM set interruptFlag() (and restore the default action, so a second
// Ctrl-C kills). The flag is an atomic the long-running commands poll.
void installInterruptHandler();
std::atomic<bool>& interruptFlag();

bool stdinIsTerminal();
bool stderrIsTerminal();
// Writes `question` (ending in "[y/N] ") to stderr and reads one line from stdin:
// true only for "y", "Y" or "yes".
bool confirmOnTerminal(const QString& question);

}  // namespace tierctl
