#pragma once
// Greys out what the credentials may not do, with a tooltip that says why.
//
// The widget's (or action's) own tooltip is remembered the first time and kept
// as the first line; a refusal appends "Not allowed: <reason>". GUI thread only.
#include <QString>

#include "tier/ops/capabilities.h"

class QAction;
class QWidget;

namespace tier::ui {

struct ProfileTags;

void applyCapability(QWidget* w, const ops::Capability& c);
void applyCapability(QAction* a, const ops::Capability& c);

// The profile's read-only tag is one more reason to refuse a destructive
// action (invalidate, namespace bump, evict, refresh from database, warm, load
// with writes), whatever the credentials allow. Returns `c` unchanged when the
// profile is not read-only; else refused, the profile's reason first.
ops::Capability gateByProfile(const ops::Capability& c, const ProfileTags& tags);
// "Profile ‘prod’ is marked read-only (File ▸ Connect… to change it)."; empty when not read-only.
QString readOnlyReason(const ProfileTags& tags);
// The tooltip line for a refused action: "Not allowed: <profile reason>" when the
// profile refuses it, else "Not allowed with these credentials: <reason>".
QString refusalText(const ops::Capability& credentials, const ProfileTags& tags);
// An action that needs both (refresh from database: drop the key, read the row,
// write it through): allowed when both are; else each distinct reason once.
ops::Capability allOf(const ops::Capability& a, const ops::Capability& b);

// The colour of a status line's tone: "ok" green, "warn" amber, "bad" red, else muted grey.
QString toneColor(const QString& tone);

}  // namespace tier::ui
