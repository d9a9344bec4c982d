#include "pages.h"

#include <QKeySequence>

#include "main_window.h"
#include "settings/startup_warmer.h"

#include <QLabel>
#include <QStatusBar>
#include <QTimer>

namespace tier::ui {

void addAllPages(MainWindow* window, CoreService* service) {
  window->addPage(createDashboardPage(service, window), QStringLiteral("&Dashboard"), QKeySequence(QStringLiteral("Ctrl+1")));
  window->addPage(createSessionsPage(service, window), QStringLiteral("&Sessions"), QKeySequence(QStringLiteral("Ctrl+2")));
  window->addPage(createOperationsPage(service, window), QStringLiteral("&Operations"), QKeySequence(QStringLiteral("Ctrl+3")));
  window->addPage(createAlertsPage(service, window), QStringLiteral("&Alerts && audit"), QKeySequence(QStringLiteral("Ctrl+4")));
  window->addPage(createUsersPage(service, window), QStringLiteral("&Users"), QKeySequence(QStringLiteral("Ctrl+5")));
  window->addPage(createKeysPage(service, window), QStringLiteral("&Keys"), QKeySequence(QStringLiteral("Ctrl+6")));
  // Warm on start: the connected profile's warm_on_start sets, progress in the status bar.
  auto* warmer = new StartupWarmer(service, window);
  warmer->setObjectName(QStringLiteral("startupWarmer"));
  // Its own label, not a status message: "Connected as profile …" stays readable beside it.
  auto* label = new QLabel(window);
  label->setObjectName(QStringLiteral("warmStatus"));
  label->hide();
  window->statusBar()->insertPermanentWidget(0, label);
  auto* clear = new QTimer(label);
  clear->setSingleShot(true);
  QObject::connect(clear, &QTimer::timeout, label, [label] { label->hide(); });
  QObject::connect(warmer, &StartupWarmer::message, label, [label, clear](const QString& text, int timeoutMs) {
    label->setText(text);
    label->setToolTip(text);
    label->setVisible(!text.isEmpty());
    if (timeoutMs > 0)
      clear->start(timeoutMs);
    else
      clear->stop();
  });
}

}  // namespace tier::ui
