// Placeholder until the operations page lands (same session): a label, so the window builds.
#include <QLabel>

#include "pages.h"

namespace tier::ui {
QWidget* createOperationsPage(CoreService*, QWidget* parent) {
  return new QLabel(QStringLiteral("Operations"), parent);
}
}  // namespace tier::ui
