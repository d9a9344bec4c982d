// Placeholder until the sessions page lands (same session): a label, so the window builds.
#include <QLabel>

#include "pages.h"

namespace tier::ui {
QWidget* createSessionsPage(CoreService*, QWidget* parent) {
  return new QLabel(QStringLiteral("Sessions"), parent);
}
}  // namespace tier::ui
