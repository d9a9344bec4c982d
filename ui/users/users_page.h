#pragma once
// UsersPage (Ctrl+5): support finds a user by id or email and sees, in the
// Sessions page's spirit, the profile, the chat sessions, the latest journal
// entries and the mood statistics, each with where it lives (L1, L2 with its
// TTL, PostgreSQL) and a Stale banner naming each differing field's cached and
// database values; Refresh from database and Evict act on the user, the
// selected entry or the mood statistics, audited. A full-text search over
// journal entries (cached by the core, repo/search.h) sits beside it.
//
// Every core call runs through CoreService::run in its own slot
// ("users.find", "users.overview", "users.search", "users.action"): a newer
// request drops an older one's answer. GUI thread only.
#include <QWidget>

#include <cstdint>
#include <optional>

#include "common/core_service.h"
#include "tier/ops/capabilities.h"
#include "tier/ops/user_overview.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;
class QTimer;
class QTreeWidget;

namespace tier::ui {

struct ProfileTags;

class UsersPage : public QWidget {
  Q_OBJECT
 public:
  explicit UsersPage(CoreService* service, QWidget* parent = nullptr);
  ~UsersPage() override;

  // Looks the text up at once (no typing delay); one match opens.
  void find(const QString& text);
  // Opens one user's overview.
  void openUser(std::int64_t userId);
  // Runs a full-text search over journal entries (of the open user if "this user only" is on).
  void searchEntries(const QString& text);

  // For tests and screenshots.
  QLineEdit* findEdit() const { return findEdit_; }
  QLineEdit* searchEdit() const { return searchEdit_; }
  QTreeWidget* matchesView() const { return matches_; }
  QTreeWidget* entriesView() const { return entries_; }
  QTreeWidget* sessionsView() const { return sessions_; }
  QTreeWidget* moodView() const { return mood_; }
  QTreeWidget* searchResultsView() const { return results_; }
  QCheckBox* onlyThisUser() const { return onlyUser_; }
  QTabWidget* tabs() const { return tabs_; }
  QString statusText() const;
  QString userFactsText() const;   // the profile's tiers and banner, plain text
  QString detailFactsText() const; // the selected entry's or period's tiers and banner, plain text
  QString resultText() const;      // the last action's outcome
  QString searchStatusText() const;
  QPushButton* refreshButton() const { return refresh_; }
  QPushButton* evictButton() const { return evict_; }
  std::int64_t currentUserId() const { return userId_; }
  const std::optional<ops::UserOverview>& overview() const { return overview_; }

 public Q_SLOTS:
  // For the docs' screenshot tour: opens user 1.
  void prepareScreenshot();

 Q_SIGNALS:
  void matchesShown(int count);
  void overviewShown(std::int64_t userId);
  void overviewFailed(const QString& sentence);
  void searchShown(int hits);
  void searchFailed(const QString& sentence);
  void actionFinished(bool ok, const QString& message);

 private:
  // What Refresh / Evict act on: the tab in front decides (Profile and
  // Sessions: the user; Journal entries: the selected entry; Mood: the stats).
  struct Target {
    ops::Entity kind = ops::Entity::User;
    std::int64_t id = 0;
    QString label;  // "user 12", "journal entry 4031", "the mood statistics of user 12"
  };
  std::optional<Target> target() const;
  void startFind(const QString& text);
  void showOverview(ops::UserOverview overview);
  void showDetail();
  void updateActions();
  void onRefresh();
  void onEvict();
  void runAction(const Target& t, bool evict);
  void setStatus(const QString& text, const QString& tone = {});
  void setResult(const QString& text, const QString& tone);
  ProfileTags profileTags() const;

  CoreService* service_;
  QLineEdit* findEdit_;
  QLabel* status_;
  QTimer* debounce_;
  QTreeWidget* matches_;
  QLabel* header_;
  QLabel* userFacts_;
  QTabWidget* tabs_;
  QTreeWidget* entries_;
  QTreeWidget* sessions_;
  QTreeWidget* mood_;
  QLabel* detailFacts_;
  QLineEdit* searchEdit_;
  QLabel* searchStatus_;
  QCheckBox* onlyUser_;
  QTreeWidget* results_;
  QPushButton* refresh_;
  QPushButton* evict_;
  QLabel* permission_;
  QLabel* result_;

  std::int64_t userId_ = 0;
  std::optional<ops::UserOverview> overview_;
  bool actionRunning_ = false;
  ops::Capabilities capabilities_;
};

}  // namespace tier::ui
