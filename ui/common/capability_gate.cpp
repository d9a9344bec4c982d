#include "common/capability_gate.h"

#include <QAction>
#include <QVariant>
#include <QWidget>

#include "settings/profile_store.h"

namespace tier::ui {

namespace {
const char* const kBaseToolTip = "tierBaseToolTip";

template <typename T>
void apply(T* target, const ops::Capability& c) {
  if (!target) return;
  QVariant base = target->property(kBaseToolTip);
  if (!base.isValid()) {
    base = target->toolTip();
    target->setProperty(kBaseToolTip, base);
  }
  const QString own = base.toString();
  target->setEnabled(c.allowed);
  if (c.allowed) {
    target->setToolTip(own);
    return;
  }
  const QString why = c.reason.empty() ? QStringLiteral("Not allowed with these credentials.")
                                       : QStringLiteral("Not allowed: %1").arg(QString::fromStdString(c.reason));
  target->setToolTip(own.isEmpty() ? why : own + QLatin1Char('\n') + why);
}
}  // namespace

// Qt delivers tooltip events to disabled widgets, so the reason shows on hover.
void applyCapability(QWidget* w, const ops::Capability& c) { apply(w, c); }

void applyCapability(QAction* a, const ops::Capability& c) { apply(a, c); }

QString readOnlyReason(const ProfileTags& tags) {
  if (!tags.read_only) return {};
  return QStringLiteral("Profile \u2018%1\u2019 is marked read-only (File \u25b8 Connect\u2026 to change it).")
      .arg(tags.profile);
}

ops::Capability gateByProfile(const ops::Capability& c, const ProfileTags& tags) {
  if (!tags.read_only) return c;
  std::string reason = readOnlyReason(tags).toStdString();
  if (!c.allowed && !c.reason.empty()) reason += " " + c.reason;
  return {false, reason};
}

QString refusalText(const ops::Capability& credentials, const ProfileTags& tags) {
  if (tags.read_only) return QStringLiteral("Not allowed: %1").arg(readOnlyReason(tags));
  return QStringLiteral("Not allowed with these credentials: %1").arg(QString::fromStdString(credentials.reason));
}

ops::Capability allOf(const ops::Capability& a, const ops::Capability& b) {
  if (a.allowed && b.allowed) return {true, {}};
  if (!a.allowed && !b.allowed && a.reason != b.reason) return {false, a.reason + " " + b.reason};
  return {false, a.allowed ? b.reason : a.reason};
}

QString toneColor(const QString& tone) {
  if (tone == QLatin1String("ok")) return QStringLiteral("#1f8a4c");
  if (tone == QLatin1String("warn")) return QStringLiteral("#b7791f");
  if (tone == QLatin1String("bad")) return QStringLiteral("#c53030");
  return QStringLiteral("#718096");
}

}  // namespace tier::ui
