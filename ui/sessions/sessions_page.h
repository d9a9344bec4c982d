#pragma once
// SessionsPage: support staff find a chat session by session id, user id or
// email, read its latest messages, see where it lives in each tier (and whether
// the cached copy is stale), and refresh or evict it.
//
// Every core call runs through CoreService::run: searches in slot
// "sessions.search" (typing fast drops stale results), inspections in
// "sessions.inspect", actions in "sessions.action". GUI thread only.
#include <QWidget>

#include <cstdint>
#include <optional>

#include "common/core_service.h"
#include "tier/ops/capabilities.h"
#include "tier/ops/inspect.h"

class QAction;
class QLabel;
class QLineEdit;
class QProgressBar;
class QSortFilterProxyModel;
class QSplitter;
class QStackedWidget;
class QTimer;
class QTreeView;

namespace tier::ui {

class MessageThreadView;
struct ProfileTags;
class SessionSearchModel;
class TierStatePanel;

class SessionsPage : public QWidget {
  Q_OBJECT
 public:
  // Most rows a search returns; the status line says when a search hit it.
  static constexpr int kSearchLimit = 10'000;

  explicit SessionsPage(CoreService* service, QWidget* parent = nullptr);
  ~SessionsPage() override;

  // Starts a search at once (no typing delay).
  void search(const QString& text);
  // Selects a session's row (if listed) and inspects it.
  void selectSession(std::int64_t sessionId);

 public Q_SLOTS:
  // For the docs' screenshot tour: searches user/session 1, whose first session opens.
  void prepareScreenshot();

 public:
  // For tests and screenshots.
  QLineEdit* searchEdit() const { return searchEdit_; }
  QTreeView* resultsView() const { return view_; }
  SessionSearchModel* model() const { return model_; }
  QSortFilterProxyModel* proxy() const { return proxy_; }
  QString statusText() const;
  QString resultText() const;
  // Why refresh/evict are unavailable to these credentials; empty when they are allowed.
  QString permissionText() const;
  bool busy() const { return actionRunning_; }
  bool searching() const { return searching_; }
  std::int64_t currentSessionId() const { return currentId_; }
  const std::optional<ops::SessionInspection>& inspection() const { return inspection_; }
  TierStatePanel* tierPanel() const { return tiers_; }
  MessageThreadView* threadView() const { return thread_; }
  QAction* inspectAction() const { return inspectAction_; }
  QAction* refreshAction() const { return refreshAction_; }
  QAction* evictAction() const { return evictAction_; }
  // Opens the raw L2 entry of the inspected session: its Redis key, TTL and decoded value.
  QAction* rawL2Action() const { return rawL2Action_; }

 Q_SIGNALS:
  void searchFinished(int rows);
  void searchFailed(const QString& sentence);
  void inspectionShown(std::int64_t sessionId);
  void inspectionFailed(const QString& sentence);
  void actionFinished(bool ok, const QString& message);
  // The raw L2 dialog (objectName "rawL2Dialog") was filled.
  void rawL2Shown(std::int64_t sessionId);

 private Q_SLOTS:
  void onSearchEdited();
  void onSearchTimer();
  void onCurrentRowChanged();
  void onInspectTriggered();
  void onRefreshTriggered();
  void onEvictTriggered();
  void onRawL2Triggered();
  void onCoreReady();
  void onLinkChanged(const QString& server, const tier::ui::LinkStatus& status);
  void onCapabilitiesAvailable(const tier::ops::Capabilities& capabilities);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void startSearch(const QString& text);
  // `keepShown`: a re-check keeps what is on screen (e.g. marked unknown) until the answer arrives.
  void inspect(std::int64_t sessionId, bool keepShown = false);
  void onActionFailed(std::int64_t id, ErrorKind kind, const QString& message);
  void evictConfirmed(std::int64_t sessionId);
  void setStatus(const QString& text, const QString& tone = {});
  void setResult(const QString& text, const QString& tone);
  void setActionRunning(bool running, const QString& what = {});
  void updateActions();
  // The connected profile's tags (read-only greys out Evict and Refresh; production types to evict).
  ProfileTags profileTags() const;
  void showHeader(const repo::ChatSession* s, std::int64_t sessionId);
  // Widens the Email column to the longest listed address (capped), so it is read, not guessed.
  void fitEmailColumn();

  CoreService* service_;
  QLineEdit* searchEdit_;
  QLabel* status_;
  QTimer* debounce_;
  SessionSearchModel* model_;
  QSortFilterProxyModel* proxy_;
  QTreeView* view_;
  QSplitter* splitter_;
  QStackedWidget* detailStack_;
  QLabel* title_;
  QLabel* subtitle_;
  QLabel* result_;
  QProgressBar* busyBar_;
  QLabel* permission_;
  TierStatePanel* tiers_;
  QLabel* threadHeading_;
  MessageThreadView* thread_;
  QAction* focusSearchAction_;
  QAction* inspectAction_;
  QAction* refreshAction_;
  QAction* evictAction_;
  QAction* rawL2Action_;

  QString lastQuery_;
  std::uint64_t searchSeq_ = 0;  // bumps per search; an empty query cancels without a job
  bool searching_ = false;
  bool actionRunning_ = false;
  std::int64_t currentId_ = 0;
  std::optional<ops::SessionInspection> inspection_;
  ops::Capabilities capabilities_;
  // The last state seen per link (usable until told otherwise): a change, down or back, re-checks the inspected
  // session.
  LinkState redisState_ = LinkState::Connected;
  LinkState postgresState_ = LinkState::Connected;  // the last probe's answer (CoreService asks the servers)
};

}  // namespace tier::ui
