#pragma once
// The console's window: status chips for Redis and PostgreSQL, and one tab per
// job (Dashboard, Sessions, Operations, Alerts & audit). Each tab is a widget
// that talks to CoreService only.
#include <QMainWindow>

#include "common/core_service.h"

class QLabel;
class QMenu;
class QTabWidget;

namespace tier::ui {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(CoreService* service, QWidget* parent = nullptr);
  ~MainWindow() override;

  QTabWidget* tabs() const { return tabs_; }
  // The band under the menu bar and the status bar chip: hidden unless the
  // connected profile is tagged production or read-only.
  QLabel* profileBand() const { return profileBand_; }
  QLabel* profileChip() const { return profileChip_; }
  // Title, band and chip from the connected profile's tags (read fresh).
  void updateProfileTags();
  // Adds a page (called at start-up by the application for each view). The
  // Dashboard's Pause, Range, Log scale and Export actions also go to the View menu.
  void addPage(QWidget* page, const QString& title, const QKeySequence& shortcut);

  // One row of Help ▸ Keyboard shortcuts, read from the window's QActions and
  // QShortcuts as they are now (so the list cannot drift from the code).
  struct ShortcutEntry {
    QString keys;   // "Ctrl+E", native text
    QString what;   // "Export PNG…"
    QString where;  // "Dashboard", "Everywhere"
    QString detail;  // the action's tooltip
  };
  QList<ShortcutEntry> shortcutEntries() const;
  QMenu* viewMenu() const { return viewMenu_; }
  // Opens Help ▸ Keyboard shortcuts (non-modal; returns the dialog).
  QWidget* showShortcuts();

 protected:
  void closeEvent(QCloseEvent* event) override;

 private Q_SLOTS:
  void onRedisLinkChanged(const tier::ui::LinkStatus& s);
  void onPostgresLinkChanged(const tier::ui::LinkStatus& s);
  void onCoreFailed(const QString& message);

 private:
  void restoreState();
  void setupMenus();  // File ▸ Connect…, Settings…, Quit; Help ▸ About
  CoreService* service_;
  QTabWidget* tabs_;
  QLabel* redisChip_;
  QLabel* pgChip_;
  QLabel* profileBand_;
  QLabel* profileChip_;
  QMenu* viewMenu_ = nullptr;
  QList<QAction*> dashboardActions_;  // enabled only while the Dashboard tab is in front
  QWidget* dashboardPage_ = nullptr;
};

// "Tier Console — PRODUCTION · prod", "Tier Console — READ-ONLY · ro", "Tier Console".
QString windowTitleFor(const QString& profile, bool production, bool readOnly);

// The chip's text for a link, e.g. "Redis 7.0.15 · 0.21 ms", "Redis down",
// "Redis degraded (circuit open)" (the wording of common/link_wording.h).
QString chipText(const QString& name, const LinkStatus& s);

}  // namespace tier::ui
