// tierctl: the headless client of the Tier Console core. Names, flags, JSON
// fields and exit codes are a contract (docs/cli.md).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QStringDecoder>
#include <exception>

#include "cli.h"
#include "commands.h"
#include "output.h"

namespace {

using tierctl::UsageError;

QString generalHelp() {
  QStringList lines;
  lines << QStringLiteral("Usage: tierctl [global options] <command> [options]") << QString()
        << QStringLiteral("Headless client of the Tier Console core (L1 memory, L2 Redis, L3 PostgreSQL).") << QString()
        << QStringLiteral("Commands:");
  for (const auto& spec : tierctl::commandSpecs())
    lines << QStringLiteral("  %1 %2").arg(QLatin1String(spec.name), -11).arg(QLatin1String(spec.summary));
  lines << QString() << QStringLiteral("Global options (before or after the command):")
        << QStringLiteral("  --redis URL        Redis URL: redis://[user[:pass]@]host[:port][/db] or unix:///path?db=N")
        << QStringLiteral(
               "                     Cluster: redis+cluster://host:port[,host:port...]; Sentinel: "
               "redis+sentinel://host:port[,...]/master-name[/db]")
        << QStringLiteral("  --pg CONNINFO      PostgreSQL conninfo or URI (PG* variables and .pgpass apply)")
        << QStringLiteral("  --profile NAME     connection profile saved by the console (its production and read-only "
                          "tags apply)")
        << QStringLiteral("  --read-only        refuse every destructive command, as a read-only profile does")
        << QStringLiteral("  --sandbox[=DIR]    use the private sandbox, starting it if needed")
        << QStringLiteral("  --json             print results as JSON (docs/cli.md)")
        << QStringLiteral("  --version          print the version")
        << QStringLiteral("  -h, --help         this help; 'tierctl <command> --help' for a command") << QString()
        << QStringLiteral(
               "Environment: TIER_REDIS_URL, TIER_PG_CONNINFO (flags override them; they override --profile).")
        << QStringLiteral(
               "Exit codes: 0 ok, 1 failure, 2 usage, 3 cannot connect, 4 permission denied, 5 partial, "
               "6 not found.");
  return lines.join(QLatin1Char('\n'));
}

QString commandHelp(const tierctl::CommandSpec& spec, const QCommandLineParser& parser) {
  QString options = parser.helpText();
  const qsizetype at = options.indexOf(QStringLiteral("Options:"));
  options = at >= 0 ? options.mid(at) : QString();
  while (options.endsWith(QLatin1Char('\n'))) options.chop(1);
  return QStringLiteral("Usage: tierctl %1\n\n%2.\n\n%3")
      .arg(QLatin1String(spec.synopsis), QLatin1String(spec.summary), options);
}

// Arguments as text; anything that is not UTF-8 is refused before it reaches the core.
QStringList decodeArguments(int argc, char** argv) {
  QStringList args;
  for (int i = 0; i < argc; ++i) {
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = decoder(QByteArrayView(argv[i]));
    if (decoder.hasError()) throw UsageError(QStringLiteral("argument %1 is not valid UTF-8").arg(i));
    args << text;
  }
  return args;
}

// QCommandLineParser has no optional values: take --sandbox[=DIR] out first.
tierctl::GlobalSettings takeSandboxOption(QStringList& args) {
  tierctl::GlobalSettings globals;
  for (qsizetype i = 1; i < args.size();) {
    const QString& a = args.at(i);
    if (a == QLatin1String("--")) break;
    if (a == QLatin1String("--sandbox")) {
      globals.sandbox = true;
      args.removeAt(i);
    } else if (a.startsWith(QLatin1String("--sandbox="))) {
      globals.sandbox = true;
      globals.sandbox_dir = a.mid(10);
      if (globals.sandbox_dir.isEmpty()) throw UsageError(QStringLiteral("--sandbox= needs a folder"));
      args.removeAt(i);
    } else {
      ++i;
    }
  }
  return globals;
}

// The command is the first argument that is neither a global option nor its value.
QString findCommandName(const QStringList& args) {
  for (qsizetype i = 1; i < args.size(); ++i) {
    const QString& a = args.at(i);
    if (a == QLatin1String("--")) return i + 1 < args.size() ? args.at(i + 1) : QString();
    if (a.size() > 1 && a.startsWith(QLatin1Char('-'))) {
      QString name = a.mid(a.startsWith(QLatin1String("--")) ? 2 : 1);
      const qsizetype eq = name.indexOf(QLatin1Char('='));
      const bool inlineValue = eq >= 0;
      if (inlineValue) name.truncate(eq);
      if (tierctl::isGlobalOptionWithValue(name)) {
        if (!inlineValue) ++i;
        continue;
      }
      if (tierctl::isGlobalFlag(name)) continue;
      throw UsageError(QStringLiteral("unknown option '%1' before the command").arg(tierctl::quoteInput(a)));
    }
    return a;
  }
  return {};
}

int run(int argc, char** argv) {
  QStringList args = decodeArguments(argc, argv);
  const tierctl::GlobalSettings globals = takeSandboxOption(args);
  const QString name = findCommandName(args);
  if (name.isEmpty()) {
    QCommandLineParser parser;
    tierctl::addGlobalOptions(parser);
    if (!parser.parse(args)) throw UsageError(parser.errorText());
    if (parser.isSet(QStringLiteral("version"))) {
      tierctl::printLine(QStringLiteral("tierctl " TIER_VERSION));
      return tier::kExitOk;
    }
    if (parser.isSet(QStringLiteral("help"))) {
      tierctl::printLine(generalHelp());
      return tier::kExitOk;
    }
    throw UsageError(QStringLiteral("missing command"));
  }
  const tierctl::CommandSpec* spec = tierctl::findCommand(name);
  if (!spec) throw UsageError(QStringLiteral("unknown command '%1'").arg(tierctl::quoteInput(name)));

  QCommandLineParser parser;
  parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
  tierctl::addGlobalOptions(parser);
  spec->addOptions(parser);
  parser.addPositionalArgument(QLatin1String(spec->name), QLatin1String(spec->summary));
  if (!parser.parse(args)) throw UsageError(parser.errorText());
  if (parser.isSet(QStringLiteral("version"))) {
    tierctl::printLine(QStringLiteral("tierctl " TIER_VERSION));
    return tier::kExitOk;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    tierctl::printLine(commandHelp(*spec, parser));
    return tier::kExitOk;
  }
  tierctl::Context ctx(parser, globals, name);
  return spec->run(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  // The console's names: profiles (QSettings) and the sandbox folder are shared with the GUI.
  QCoreApplication::setOrganizationName(QStringLiteral("TierConsole"));
  QCoreApplication::setApplicationName(QStringLiteral("tierconsole"));
  QCoreApplication::setApplicationVersion(QStringLiteral(TIER_VERSION));
  try {
    return run(argc, argv);
  } catch (const tier::Error& e) {
    tierctl::reportError(e.what());
    return tier::exitCodeFor(e.kind());
  } catch (const std::exception& e) {
    tierctl::reportError(std::string("internal error: ") + e.what());
    return tier::kExitFailure;
  }
}
