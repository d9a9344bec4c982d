// Placeholder until the dashboard page lands (same session): a label, so the window builds.
#include <QLabel>

#include "pages.h"

namespace tier::ui {
QWidget* createDashboardPage(CoreService*, QWidget* parent) {
  return new QLabel(QStringLiteral("Dashboard"), parent);
}
}  // namespace tier::ui
