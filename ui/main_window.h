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
};

// The chip's text and colour for a link, e.g. "Redis 7.0.15 · 0.21 ms".
QString chipText(const QString& name, const LinkStatus& s);

}  // namespace tier::ui
