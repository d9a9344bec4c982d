#include "pages.h"

#include <QKeySequence>

#include "main_window.h"
#include "settings/startup_warmer.h"

#include <QStatusBar>

namespace tier::ui {

void addAllPages(MainWindow* window, CoreService* service) {
  window->addPage(createDashboardPage(service, window), QStringLiteral("&Dashboard"), QKeySequence(QStringLiteral("Ctrl+1")));
  window->addPage(createSessionsPage(service, window), QStringLiteral("&Sessions"), QKeySequence(QStringLiteral("Ctrl+2")));
  window->addPage(createOperationsPage(service, window), QStringLiteral("&Operations"), QKeySequence(QStringLiteral("Ctrl+3")));
  window->addPage(createAlertsPage(service, window), QStringLiteral("&Alerts && audit"), QKeySequence(QStringLiteral("Ctrl+4")));
  window->addPage(createUsersPage(service, window), QStringLiteral("&Users"), QKeySequence(QStringLiteral("Ctrl+5")));
  // Warm on start: the connected profile's warm_on_start sets, progress in the status bar.
  auto* warmer = new StartupWarmer(service, window);
  warmer->setObjectName(QStringLiteral("startupWarmer"));
  QObject::connect(warmer, &StartupWarmer::message, window,
                   [window](const QString& text, int timeoutMs) { window->statusBar()->showMessage(text, timeoutMs); });
}

}  // namespace tier::ui
