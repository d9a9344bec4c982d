#pragma once
// The console's window: status chips for Redis and PostgreSQL, and one tab per
// job (Dashboard, Sessions, Operations, Alerts & audit). Each tab is a widget
// that talks to CoreService only.
#include <QMainWindow>

#include "common/core_service.h"

class QLabel;
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
  // Adds a page (called at start-up by the application for each view).
  void addPage(QWidget* page, const QString& title, const QKeySequence& shortcut);

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
};

// "Tier Console — PRODUCTION · prod", "Tier Console — READ-ONLY · ro", "Tier Console".
QString windowTitleFor(const QString& profile, bool production, bool readOnly);

// The chip's text and colour for a link, e.g. "Redis 7.0.15 · 0.21 ms".
QString chipText(const QString& name, const LinkStatus& s);

}  // namespace tier::ui
