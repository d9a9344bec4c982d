// Placeholder until the alerts page lands (same session): a label, so the window builds.
#include <QLabel>

#include "pages.h"

namespace tier::ui {
QWidget* createAlertsPage(CoreService*, QWidget* parent) {
  return new QLabel(QStringLiteral("Alerts"), parent);
}
}  // namespace tier::ui
