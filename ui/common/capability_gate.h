#pragma once
// Greys out what the credentials may not do, with a tooltip that says why.
//
// The widget's (or action's) own tooltip is remembered the first time and kept
// as the first line; a refusal appends "Not allowed: <reason>". GUI thread only.
#include "tier/ops/capabilities.h"

class QAction;
class QWidget;

namespace tier::ui {

void applyCapability(QWidget* w, const ops::Capability& c);
void applyCapability(QAction* a, const ops::Capability& c);

}  // namespace tier::ui
