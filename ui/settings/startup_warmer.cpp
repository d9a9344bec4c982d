#include "settings/startup_warmer.h"

#include <QLocale>
#include <QStringList>

#include <vector>

#include "common/core_service.h"
#include "settings/profile_store.h"
#include "tier/common/error.h"
#include "tier/ops/warming.h"

namespace tier::ui {

namespace {

struct SetOutcome {
  ops::WarmSet set = ops::WarmSet::Knowledge;
  ops::WarmResult result;
  QString error;  // the set failed: why (redacted)
};

QString setName(ops::WarmSet s) {
  switch (s) {
    case ops::WarmSet::Knowledge: return QStringLiteral("knowledge articles");
    case ops::WarmSet::Sessions: return QStringLiteral("active sessions");
    case ops::WarmSet::Entries: return QStringLiteral("hot journal entries");
  }
  return QString();
}

}  // namespace

StartupWarmer::StartupWarmer(CoreService* service, QObject* parent) : QObject(parent), service_(service) {
  connect(service_, &CoreService::coreReady, this, &StartupWarmer::onCoreReady);
}

void StartupWarmer::say(const QString& text, int timeoutMs) {
  last_ = text;
  Q_EMIT message(text, timeoutMs);
}

void StartupWarmer::onCoreReady() {
  if (service_->continuesPrevious()) return;  // the same servers: what was warm still is
  const ConnectionSettings& settings = service_->settings();
  QString wanted = QString::fromLatin1(ops::kDefaultWarmOnStart);
  if (!settings.sandbox) {
    if (const auto p = ProfileStore().profile(settings.profile)) {
      if (p->read_only) return;  // warming writes to the cache
      wanted = p->warm_on_start;
    }
  }
  std::vector<ops::WarmSet> sets;
  try {
    sets = ops::parseWarmSets(wanted.toStdString());
  } catch (const Error& e) {
    say(QStringLiteral("Warm on connect skipped: %1 (profile key warm_on_start).").arg(QString::fromStdString(e.what())),
        10'000);
    return;
  }
  if (sets.empty()) return;
  running_ = true;
  say(QStringLiteral("Warming on connect…"), 0);
  service_->run<std::vector<SetOutcome>>(
      this, QStringLiteral("startup.warm"),
      [sets](TierCore& core, JobContext& ctx) {
        std::vector<SetOutcome> out;
        for (const auto set : sets) {
          if (ctx.cancelled()) break;
          SetOutcome o;
          o.set = set;
          try {
            o.result = ops::warm(
                core, set, {},
                [&](const ops::WarmProgress& p) {
                  ctx.progress(p.total > 0 ? double(p.done) / double(p.total) : -1,
                               QStringLiteral("Warming %1 on connect: %2 of %3…")
                                   .arg(setName(set), QLocale().toString(p.done), QLocale().toString(p.total)));
                },
                ctx.cancelFlag());
          } catch (const Error& e) {
            o.error = QString::fromStdString(redactSecrets(e.what()));
          }
          out.push_back(std::move(o));
        }
        return out;
      },
      [this](std::vector<SetOutcome> outcomes) {
        running_ = false;
        QStringList done, failed;
        for (const auto& o : outcomes) {
          if (!o.error.isEmpty()) {
            failed << QStringLiteral("%1 not warmed (%2)").arg(setName(o.set), o.error);
            continue;
          }
          done << QStringLiteral("%1 %2").arg(QLocale().toString(o.result.warmed + o.result.already), setName(o.set));
        }
        QString text;
        if (!done.isEmpty())
          text = QStringLiteral("Warmed on connect: %1 (recorded in the audit log).").arg(done.join(QStringLiteral(", ")));
        if (!failed.isEmpty()) text += (text.isEmpty() ? QString() : QStringLiteral(" ")) + failed.join(QStringLiteral("; ")) + QLatin1Char('.');
        say(text, 10'000);
        Q_EMIT finished(text);
      },
      [this](ErrorKind kind, const QString& message) {
        running_ = false;
        const QString text = QStringLiteral("Warm on connect failed: %1").arg(describe(kind, message));
        say(text, 10'000);
        Q_EMIT finished(text);
      },
      [this](double, const QString& text) { say(text, 0); });
}

}  // namespace tier::ui
