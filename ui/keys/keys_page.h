#pragma once
// KeysPage (Ctrl+6): what is in Redis, by the namespaces of our key schema.
//
// Scan lists keys by incremental SCAN (ops::nextKeyspacePage), one page per
// CoreService job in slot "keys.scan": each page comes back to the GUI thread
// as a value (keys with their group index), is appended with one insert, and
// only then is the next page asked for — so Stop takes effect between pages and
// Redis sees one cursor at a time. A new scan takes a new ticket (scanJob_, and the slot),
// so a page of an older scan is dropped. The view keeps at most rowBudget()
// rows and says so; past the budget the scan goes on (until done or Stop) only
// counting keys by namespace on the worker, so the namespace counts and
// "scanned N of ≈M" cover the whole keyspace while the view's memory stays at
// its budget. Selecting a key reads its
// detail (ops::keyDetail, slot "keys.detail"). The GUI thread never calls Redis.
#include <QWidget>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/core_service.h"
#include "common/job_state.h"
#include "keys/key_list_model.h"
#include "tier/ops/capabilities.h"
#include "tier/ops/keyspace.h"

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTableView;

namespace tier::ui {

class KeyspaceAnalysisView;

class KeysPage : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kDefaultRowBudget = 100'000;
  static constexpr int kValueShownBytes = 64 * 1024;

  explicit KeysPage(CoreService* service, QWidget* parent = nullptr);
  ~KeysPage() override;

  // Starts a scan of the selected namespace with the filter's glob (a new scan
  // drops the rows of the last one). An invalid glob shows why and scans nothing.
  void startScan();
  // Stops after the page in flight.
  void stopScan();
  // Selects a group of the list ("" = all keys): the table shows that group's
  // loaded keys; the next scan is limited to it (a schema namespace or "tc").
  void selectGroup(const QString& group);
  void setFilterText(const QString& glob);
  // Most rows the view keeps (setting keys/rowBudget; the spin box beside Stop).
  void setRowBudget(int rows);
  int rowBudget() const { return rowBudget_; }
  // Reads the detail of one key (as selecting its row does).
  void showKey(const QString& key);

  // For tests and screenshots.
  bool scanning() const { return scanJob_.running(); }
  KeyListModel* model() const { return model_; }
  QSortFilterProxyModel* proxy() const { return proxy_; }
  QTableView* table() const { return table_; }
  QListWidget* groupList() const { return groups_; }
  QLineEdit* filterEdit() const { return filter_; }
  QPushButton* openButton() const { return open_; }
  QPushButton* invalidateButton() const { return invalidate_; }
  QPushButton* refreshButton() const { return refresh_; }
  QPushButton* analyzeButton() const { return analyze_; }
  // Opens (once, then raises) the keyspace analysis window; its largest/hot keys
  // show here on double-click. The analysis runs when its Analyze is pressed.
  KeyspaceAnalysisView* openAnalysis();
  QString resultText() const;  // the last action's outcome
  // The selected rows' keys (at most kMaxActionKeys).
  QStringList selectedKeys() const;
  static constexpr int kMaxActionKeys = 1000;
  QString statusText() const;
  QString filterErrorText() const;
  QString detailText() const;  // the facts of the shown key, plain text
  QString valueText() const;
  long long loadedCount(const QString& group) const;  // rows of that group loaded by this scan ("" = all)
  long long loadedTotal() const { return loaded_; }
  // Keys of that group the scan found so far ("" = all), rows or only counted past the budget.
  long long foundCount(const QString& group) const;
  bool budgetReached() const { return budgetReached_; }

 public Q_SLOTS:
  // For the docs' screenshot tour: scans the entry namespace and shows its first key.
  void prepareScreenshot();

 Q_SIGNALS:
  void scanFinished(long long loaded, bool complete);  // complete: SCAN went through every key
  void rowBudgetReached(long long rows);               // the table is full; the scan goes on counting
  void scanFailed(const QString& sentence);
  void scanRejected(const QString& sentence);  // the filter is invalid: nothing was scanned
  void detailShown(const QString& key);
  void detailFailed(const QString& sentence);
  void actionFinished(bool ok, const QString& message);

 private:
  struct Page {
    std::vector<std::string> keys;
    std::vector<std::uint8_t> groups;  // index into ops::keyGroups(), per key
    std::vector<long long> found;      // keys of the page per ops::keyGroups() index (rows or only counted)
    long long listed = 0;
    long long dbsize = -1;
    bool done = false;
  };
  void requestPage();
  void onPage(Page page);
  void finish(const QString& text, const QString& tone, bool complete);
  void setStatus(const QString& text, const QString& tone = {});
  void setFilterError(const QString& text);
  void updateGroupList();
  void showDetail(const ops::KeyDetail& d);
  void openInspection();
  QString scopeText() const;
  void updateActions();
  void onInvalidate();
  void onRefresh();
  void runInvalidate(const QStringList& keys);
  // An invalidate or refresh job failed: says why and frees the actions.
  void actionFailed(ErrorKind kind, const QString& message);
  void setResult(const QString& text, const QString& tone);

  CoreService* service_;
  QListWidget* groups_;
  QLabel* groupsNote_;
  QLineEdit* filter_;
  QPushButton* scan_;
  QPushButton* stop_;
  QPushButton* analyze_;
  QWidget* analysisWindow_ = nullptr;
  KeyspaceAnalysisView* analysis_ = nullptr;
  QSpinBox* budget_;
  QLabel* filterError_;
  QLabel* status_;
  KeyListModel* model_;
  KeyListProxy* proxy_;
  QTableView* table_;
  QLabel* detail_;
  QPlainTextEdit* value_;
  QPushButton* open_;
  QPushButton* invalidate_;
  QPushButton* refresh_;
  QLabel* permission_;
  QLabel* result_;
  ops::Capabilities capabilities_;
  bool actionRunning_ = false;

  int rowBudget_ = kDefaultRowBudget;
  JobState scanJob_;  // a ticket per scan: pages of an older one are dropped; cancelling() = Stop asked
  ops::KeyspaceFilter scanFilter_;
  std::shared_ptr<ops::KeyspaceCursor> cursor_;
  long long loaded_ = 0;
  long long listed_ = 0;
  long long dbsize_ = -1;
  std::vector<long long> counts_;  // rows loaded, per ops::keyGroups() index
  std::vector<long long> found_;   // keys found (rows and counted), per ops::keyGroups() index
  bool budgetReached_ = false;
  std::optional<ops::KeyDetail> shownDetail_;
  QString shownKey_;
};

}  // namespace tier::ui
