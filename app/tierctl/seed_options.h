#pragma once
// Seed sizes and progress printing, shared by `seed` and `sandbox up`.
#include <QCommandLineParser>
#include <QJsonObject>
#include <QString>
#include <functional>

#include "tier/sandbox/seeder.h"

namespace tierctl {

class Context;

// --users --entries --sessions --knowledge --min-messages --max-messages --random-seed
void addSeedSizeOptions(QCommandLineParser& parser);
tier::sandbox::SeedOptions seedOptionsFrom(const Context& ctx);
// Progress on stderr: rewritten in place on a terminal, throttled lines otherwise.
std::function<void(const tier::sandbox::SeedProgress&)> seedProgressPrinter();
QJsonObject seedResultJson(const tier::sandbox::SeedResult& r);
QString seedResultText(const tier::sandbox::SeedResult& r);

}  // namespace tierctl
