#pragma once
// The console's pages. Each lives in its own folder and talks to CoreService only.
class QWidget;

namespace tier::ui {
class CoreService;
class MainWindow;

QWidget* createDashboardPage(CoreService* service, QWidget* parent);   // dashboard/
QWidget* createSessionsPage(CoreService* service, QWidget* parent);    // sessions/
QWidget* createOperationsPage(CoreService* service, QWidget* parent);  // operations/ (invalidate, warm, load)
QWidget* createAlertsPage(CoreService* service, QWidget* parent);      // alerts/ (violations + audit)
QWidget* createUsersPage(CoreService* service, QWidget* parent);       // users/ (users, entries, mood, search)
QWidget* createKeysPage(CoreService* service, QWidget* parent);        // keys/ (keyspace browser, key detail)

// Adds every page to the window with its shortcut (Ctrl+1..6).
void addAllPages(MainWindow* window, CoreService* service);

}  // namespace tier::ui
