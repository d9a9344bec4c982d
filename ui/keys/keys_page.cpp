#include "keys/keys_page.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTextDocumentFragment>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <limits>

#include "common/capability_gate.h"
#include "common/confirm_destructive.h"
#include "keys/key_list_model.h"
#include "keys/keyspace_analysis_view.h"
#include "pages.h"
#include "sessions/session_detail_widgets.h"
#include "sessions/sessions_page.h"
#include "settings/profile_store.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/inspect.h"
#include "tier/ops/invalidation.h"
#include "users/users_page.h"

namespace tier::ui {

namespace {

const QString kScanSlot = QStringLiteral("keys.scan");
const QString kDetailSlot = QStringLiteral("keys.detail");
// Keys a page asks for: enough that a page is worth a GUI update, few enough
// that the first rows show at once and Stop answers within one page.
constexpr int kPageKeys = 2000;
// Past the row budget the scan only counts (by namespace, on the worker): bigger
// pages of bigger SCAN batches, since a page carries a few numbers, not keys.
constexpr int kCountPageKeys = 50'000;
constexpr int kCountScanBatch = 5000;

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}
QString num(long long n) {
  return QLocale().toString(n);
}

std::uint8_t groupIndex(const std::string& group) {
  const auto& all = ops::keyGroups();
  const auto it = std::find(all.begin(), all.end(), group);
  return static_cast<std::uint8_t>(it == all.end() ? all.size() - 1 : it - all.begin());
}

// A group the scan itself can be limited to (the core's KeyspaceFilter.ns): the
// schema's namespaces, "tc" and "fleet"; "other" and "all" scan everything.
bool scannableGroup(const QString& group) {
  return !group.isEmpty() && group != QStringLiteral("other");
}

QString ttlText(long long ttlMs) {
  if (ttlMs == -1) return QStringLiteral("no expiry");
  if (ttlMs < 0) return QStringLiteral("-");
  return formatTtl((ttlMs + 999) / 1000);
}

}  // namespace

KeysPage::KeysPage(CoreService* service, QWidget* parent)
    : QWidget(parent),
      service_(service),
      groups_(new QListWidget(this)),
      groupsNote_(new QLabel(this)),
      filter_(new QLineEdit(this)),
      scan_(new QPushButton(QStringLiteral("&Scan"), this)),
      stop_(new QPushButton(QStringLiteral("S&top"), this)),
      analyze_(new QPushButton(QStringLiteral("&Analyze\u2026"), this)),
      budget_(new QSpinBox(this)),
      filterError_(new QLabel(this)),
      status_(new QLabel(this)),
      model_(new KeyListModel(this)),
      proxy_(new KeyListProxy(this)),
      table_(new QTableView(this)),
      detail_(new QLabel(this)),
      value_(new QPlainTextEdit(this)),
      open_(new QPushButton(this)),
      invalidate_(new QPushButton(QStringLiteral("&Invalidate selected"), this)),
      refresh_(new QPushButton(QStringLiteral("&Refresh from database"), this)),
      permission_(new QLabel(this)),
      result_(new QLabel(this)),
      counts_(ops::keyGroups().size(), 0),
      found_(ops::keyGroups().size(), 0) {
  setObjectName(QStringLiteral("keysPage"));
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(10, 10, 10, 10);
  root->setSpacing(8);

  auto* top = new QHBoxLayout;
  filter_->setObjectName(QStringLiteral("keysFilter"));
  filter_->setPlaceholderText(
      QStringLiteral("Glob within the selected namespace, e.g. 12* or *:7d (empty: every key)"));
  filter_->setClearButtonEnabled(true);
  filter_->setToolTip(
      QStringLiteral("<b>Filter</b><br/>A Redis glob (* ? [abc] \\x) applied after the selected "
                     "namespace's prefix (e.g. <tt>entry:</tt>); with \u201cAll keys\u201d or "
                     "\u201cother\u201d selected it applies to the whole key. Enter scans."));
  scan_->setObjectName(QStringLiteral("keysScan"));
  scan_->setToolTip(
      QStringLiteral("List keys by incremental SCAN in the background (never KEYS): Redis answers "
                     "one batch at a time, and the table fills page by page."));
  stop_->setObjectName(QStringLiteral("keysStop"));
  stop_->setToolTip(QStringLiteral("Stop the scan after the page in flight; the rows loaded stay."));
  stop_->setEnabled(false);
  top->addWidget(new QLabel(QStringLiteral("Filter:"), this));
  filter_->setMinimumWidth(260);  // a long status line must not squeeze the box to its first letters
  top->addWidget(filter_, 3);
  top->addWidget(scan_);
  top->addWidget(stop_);
  budget_->setObjectName(QStringLiteral("keysRowBudget"));
  budget_->setRange(10, 10'000'000);
  budget_->setSingleStep(10'000);
  budget_->setGroupSeparatorShown(true);
  budget_->setPrefix(QStringLiteral("at most "));
  budget_->setSuffix(QStringLiteral(" rows"));
  budget_->setToolTip(
      QStringLiteral("Row budget: the most keys the table keeps (about 160 bytes each); at the budget "
                     "the table is full and says so, and the scan goes on only counting keys by namespace."));
  // Only a GUI run persists it (tests have no organisation name).
  if (!QCoreApplication::organizationName().isEmpty())
    rowBudget_ =
        std::clamp(QSettings().value(QStringLiteral("keys/rowBudget"), kDefaultRowBudget).toInt(), 10, 10'000'000);
  budget_->setValue(rowBudget_);
  connect(budget_, &QSpinBox::valueChanged, this, [this](int v) {
    rowBudget_ = v;
    if (!QCoreApplication::organizationName().isEmpty()) QSettings().setValue(QStringLiteral("keys/rowBudget"), v);
  });
  top->addWidget(budget_);
  analyze_->setObjectName(QStringLiteral("keysAnalyze"));
  analyze_->setToolTip(
      QStringLiteral("Keyspace analysis: keys, memory and TTLs per namespace (sampled or exact), the largest "
                     "and hot keys, and old-generation copies to reclaim."));
  top->addWidget(analyze_);
  status_->setObjectName(QStringLiteral("keysStatus"));
  status_->setTextFormat(Qt::RichText);
  status_->setWordWrap(true);
  top->addWidget(status_, 3);
  root->addLayout(top);
  filterError_->setObjectName(QStringLiteral("keysFilterError"));
  filterError_->setStyleSheet(QStringLiteral("color:#c53030"));
  filterError_->setWordWrap(true);
  filterError_->hide();
  root->addWidget(filterError_);

  auto* split = new QSplitter(Qt::Horizontal, this);
  auto* left = new QWidget(this);
  auto* ll = new QVBoxLayout(left);
  ll->setContentsMargins(0, 0, 0, 0);
  groups_->setObjectName(QStringLiteral("keysGroups"));
  groupsNote_->setObjectName(QStringLiteral("keysGroupsNote"));
  groupsNote_->setWordWrap(true);
  groupsNote_->setStyleSheet(QStringLiteral("color:#718096"));
  groupsNote_->setText(QStringLiteral(
      "Counts are of the keys this scan has found so far; past the row budget they are counted, not loaded."));
  ll->addWidget(new QLabel(QStringLiteral("<b>Namespaces</b>"), this));
  ll->addWidget(groups_, 1);
  ll->addWidget(groupsNote_);
  left->setMinimumWidth(fontMetrics().horizontalAdvance(QLatin1Char('M')) * 14);
  split->addWidget(left);

  proxy_->setSourceModel(model_);
  proxy_->setFilterKeyColumn(KeyListModel::GroupColumn);
  proxy_->setSortCaseSensitivity(Qt::CaseSensitive);
  table_->setObjectName(QStringLiteral("keysTable"));
  table_->setModel(proxy_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setAlternatingRowColors(true);
  table_->setWordWrap(false);
  table_->verticalHeader()->hide();
  // Fixed row heights: scrolling 100,000 rows never measures them.
  table_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  table_->horizontalHeader()->setSectionResizeMode(KeyListModel::KeyColumn, QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(KeyListModel::GroupColumn, QHeaderView::Interactive);
  table_->setColumnWidth(KeyListModel::GroupColumn, fontMetrics().horizontalAdvance(QLatin1Char('M')) * 8);
  table_->setSortingEnabled(true);
  table_->sortByColumn(KeyListModel::KeyColumn, Qt::AscendingOrder);
  split->addWidget(table_);

  auto* right = new QWidget(this);
  auto* rl = new QVBoxLayout(right);
  rl->setContentsMargins(0, 0, 0, 0);
  detail_->setObjectName(QStringLiteral("keysDetail"));
  detail_->setTextFormat(Qt::RichText);
  detail_->setWordWrap(true);
  detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  detail_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  detail_->setText(
      QStringLiteral("<span style=\"color:#718096\">Select a key to see its TTL, size, encoding, the "
                     "decoded envelope and its value.</span>"));
  rl->addWidget(detail_);
  value_->setObjectName(QStringLiteral("keysValue"));
  value_->setReadOnly(true);
  value_->setLineWrapMode(QPlainTextEdit::NoWrap);
  value_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  value_->setPlaceholderText(QStringLiteral("The value, as JSON"));
  rl->addWidget(value_, 1);
  open_->setObjectName(QStringLiteral("keysOpen"));
  open_->hide();
  rl->addWidget(open_, 0, Qt::AlignLeft);
  auto* actions = new QHBoxLayout;
  invalidate_->setObjectName(QStringLiteral("keysInvalidate"));
  invalidate_->setToolTip(
      QStringLiteral("Remove the selected keys from L2 and this console's L1 through the audited "
                     "invalidation path (one audit row per key); the next read refills them."));
  refresh_->setObjectName(QStringLiteral("keysRefresh"));
  refresh_->setToolTip(
      QStringLiteral("Reload the selected session, entry or user from PostgreSQL and write it to L1 "
                     "and L2. Audited."));
  actions->addWidget(invalidate_);
  actions->addWidget(refresh_);
  actions->addStretch(1);
  rl->addLayout(actions);
  permission_->setObjectName(QStringLiteral("keysPermission"));
  permission_->setStyleSheet(QStringLiteral("color:#c53030"));
  permission_->setWordWrap(true);
  permission_->hide();
  rl->addWidget(permission_);
  result_->setObjectName(QStringLiteral("keysActionResult"));
  result_->setWordWrap(true);
  result_->setTextFormat(Qt::RichText);
  rl->addWidget(result_);
  split->addWidget(right);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 3);
  split->setStretchFactor(2, 2);
  root->addWidget(split, 1);

  updateGroupList();
  groups_->setCurrentRow(0);

  connect(scan_, &QPushButton::clicked, this, &KeysPage::startScan);
  connect(stop_, &QPushButton::clicked, this, &KeysPage::stopScan);
  connect(analyze_, &QPushButton::clicked, this, [this] { openAnalysis(); });
  connect(filter_, &QLineEdit::returnPressed, this, &KeysPage::startScan);
  connect(filter_, &QLineEdit::textEdited, this, [this] { setFilterError(QString()); });
  connect(groups_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
    if (!item) return;
    const QString group = item->data(Qt::UserRole).toString();
    proxy_->setGroup(group.isEmpty() ? -1 : groupIndex(group.toStdString()));
    // A glob is within a namespace: another namespace is another scan.
    if (!filter_->text().isEmpty() && (scanJob_.running() || loaded_ > 0) &&
        QString::fromStdString(scanFilter_.ns) != (scannableGroup(group) ? group : QString()))
      startScan();
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
    if (!current.isValid()) return;
    const QModelIndex src = proxy_->mapToSource(current);
    if (src.isValid()) showKey(model_->row(src.row()).key);
  });
  connect(open_, &QPushButton::clicked, this, &KeysPage::openInspection);
  connect(invalidate_, &QPushButton::clicked, this, &KeysPage::onInvalidate);
  connect(refresh_, &QPushButton::clicked, this, &KeysPage::onRefresh);
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &KeysPage::updateActions);

  if (service_) {
    connect(service_, &CoreService::coreReady, this, [this] {
      // Another connection: the rows came from the old one's Redis.
      scanJob_.drop();
      table_->setSortingEnabled(true);
      stop_->setEnabled(false);
      model_->clear();
      loaded_ = listed_ = 0;
      dbsize_ = -1;
      std::fill(counts_.begin(), counts_.end(), 0);
      std::fill(found_.begin(), found_.end(), 0);
      budgetReached_ = false;
      updateGroupList();
      setStatus(QStringLiteral("Connected. Scan lists the keys."));
      updateActions();
    });
    connect(service_, &CoreService::capabilitiesAvailable, this, [this](const ops::Capabilities& c) {
      capabilities_ = c;
      updateActions();
    });
    connect(service_, &CoreService::connecting, this, [this] { updateActions(); });
    capabilities_ = service_->capabilities();
  }
  updateActions();
  setStatus(QStringLiteral("Scan lists the keys of Redis in the background."));
}

KeysPage::~KeysPage() = default;

QString KeysPage::statusText() const {
  return QTextDocumentFragment::fromHtml(status_->text()).toPlainText();
}
QString KeysPage::filterErrorText() const {
  return filterError_->isHidden() ? QString() : filterError_->text();
}
QString KeysPage::detailText() const {
  return detail_->property("plain").toString();
}
QString KeysPage::valueText() const {
  return value_->toPlainText();
}

long long KeysPage::loadedCount(const QString& group) const {
  if (group.isEmpty()) return loaded_;
  const auto& all = ops::keyGroups();
  const auto it = std::find(all.begin(), all.end(), group.toStdString());
  return it == all.end() ? 0 : counts_[static_cast<std::size_t>(it - all.begin())];
}

long long KeysPage::foundCount(const QString& group) const {
  if (group.isEmpty()) return listed_;
  const auto& all = ops::keyGroups();
  const auto it = std::find(all.begin(), all.end(), group.toStdString());
  return it == all.end() ? 0 : found_[static_cast<std::size_t>(it - all.begin())];
}

void KeysPage::setStatus(const QString& text, const QString& tone) {
  status_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>").arg(toneColor(tone), text.toHtmlEscaped()));
}

void KeysPage::setFilterError(const QString& text) {
  filterError_->setText(text);
  filterError_->setVisible(!text.isEmpty());
}

void KeysPage::setFilterText(const QString& glob) {
  filter_->setText(glob);
  setFilterError(QString());
}

void KeysPage::setRowBudget(int rows) {
  budget_->setValue(rows);
}  // valueChanged sets rowBudget_

void KeysPage::selectGroup(const QString& group) {
  for (int i = 0; i < groups_->count(); ++i)
    if (groups_->item(i)->data(Qt::UserRole).toString() == group) groups_->setCurrentRow(i);
}

void KeysPage::updateGroupList() {
  const QString current = groups_->currentItem() ? groups_->currentItem()->data(Qt::UserRole).toString() : QString();
  const auto& all = ops::keyGroups();
  if (groups_->count() != static_cast<int>(all.size()) + 1) {
    QSignalBlocker block(groups_);
    groups_->clear();
    auto* a = new QListWidgetItem(groups_);
    a->setData(Qt::UserRole, QString());
    for (const auto& g : all) (new QListWidgetItem(groups_))->setData(Qt::UserRole, qs(g));
    selectGroup(current);
  }
  // The counts are what the scan found; past the row budget the table holds fewer.
  groups_->item(0)->setText(QStringLiteral("All keys  (%1)").arg(num(listed_)));
  for (std::size_t i = 0; i < all.size(); ++i) {
    QListWidgetItem* item = groups_->item(static_cast<int>(i) + 1);
    item->setText(QStringLiteral("%1  (%2)").arg(qs(all[i]), num(found_[i])));
    item->setToolTip(all[i] == "other" ? QStringLiteral("Keys outside our key schema")
                     : all[i] == "tc"  ? QStringLiteral("The console's bookkeeping keys (tc:…)")
                     : all[i] == "fleet" ? QStringLiteral("Fleet telemetry published by the platform's processes (tier:fleet:…)")
                                       : QStringLiteral("Namespace %1 of the key schema").arg(qs(all[i])));
  }
}

QString KeysPage::scopeText() const {
  const QString glob = scanFilter_.glob.empty() ? QStringLiteral("*") : qs(scanFilter_.glob);
  return scanFilter_.ns.empty() ? glob : QStringLiteral("%1:%2").arg(qs(scanFilter_.ns), glob);
}

void KeysPage::startScan() {
  const QString group = groups_->currentItem() ? groups_->currentItem()->data(Qt::UserRole).toString() : QString();
  ops::KeyspaceFilter f;
  f.ns = scannableGroup(group) ? group.toStdString() : std::string();
  f.glob = filter_->text().toStdString();
  try {
    ops::keyspaceMatch(f);  // validation only: no Redis
  } catch (const Error& e) {
    // Nothing is scanned; the rows of the last scan stay as they were.
    QString sentence = qs(e.what());
    if (sentence.startsWith(QStringLiteral("filter: "))) sentence.remove(0, 8);  // the line already says "filter"
    setFilterError(QStringLiteral("Invalid filter: %1").arg(sentence));
    Q_EMIT scanRejected(sentence);
    return;
  }
  setFilterError(QString());
  if (!service_ || !service_->hasCore()) {
    setStatus(QStringLiteral("Not connected."), QStringLiteral("bad"));
    Q_EMIT scanFailed(QStringLiteral("Not connected."));
    return;
  }
  scanFilter_ = f;
  cursor_ = std::make_shared<ops::KeyspaceCursor>();
  model_->clear();
  loaded_ = listed_ = 0;
  dbsize_ = -1;
  std::fill(counts_.begin(), counts_.end(), 0);
  std::fill(found_.begin(), found_.end(), 0);
  budgetReached_ = false;
  updateGroupList();
  setResult(QString(), QString());
  // Unsorted while pages arrive: a sorted proxy splits each page into one insert
  // per row (each O(rows) in the view); the loaded rows are sorted once at the end.
  table_->setSortingEnabled(false);
  proxy_->sort(-1);
  scanJob_.begin();
  stop_->setEnabled(true);
  setStatus(QStringLiteral("Scanning %1…").arg(scopeText()));
  requestPage();
}

void KeysPage::stopScan() {
  scanJob_.cancel();  // the next page finishes the scan as stopped
}

void KeysPage::requestPage() {
  const std::uint64_t ticket = scanJob_.ticket();
  auto cursor = cursor_;
  const ops::KeyspaceFilter filter = scanFilter_;
  const long long rowsWanted = std::max<long long>(0, rowBudget_ - loaded_);
  ops::KeyspaceScanOptions options;
  // Every key up to the budget comes back as a row (a SCAN batch may overshoot
  // min_keys); only keys past it are just counted.
  options.max_keys = static_cast<int>(std::min<long long>(rowsWanted, std::numeric_limits<int>::max()));
  if (rowsWanted > 0) {
    options.min_keys = static_cast<int>(std::clamp<long long>(rowsWanted, 1, kPageKeys));
  } else {
    // Counting only: no key is held, so none is remembered either (a key SCAN
    // returns twice during a rehash may count twice: the counts say "≈").
    options.min_keys = kCountPageKeys;
    options.count = kCountScanBatch;
    options.dedupe = false;
  }
  service_->run<Page>(
      this, kScanSlot,
      [cursor, filter, options](TierCore& core, JobContext&) {
        // The only user of the cursor: the next page is asked for after this one arrived.
        ops::KeyspacePage p = ops::nextKeyspacePage(core.redis(), filter, *cursor, options);
        Page out;
        out.groups.reserve(p.keys.size());
        for (const auto& k : p.keys) out.groups.push_back(groupIndex(ops::keyGroup(k)));
        out.found.assign(ops::keyGroups().size(), 0);
        for (const auto& [g, n] : p.groups) out.found[groupIndex(g)] += n;
        out.keys = std::move(p.keys);
        out.listed = p.listed;
        out.dbsize = p.dbsize;
        out.done = p.done;
        return out;
      },
      [this, ticket](Page page) {
        if (scanJob_.current(ticket)) onPage(std::move(page));
      },
      [this, ticket](ErrorKind kind, const QString& message) {
        if (!scanJob_.current(ticket)) return;
        const QString sentence = describe(kind, message);
        finish(QStringLiteral("Scan stopped: %1 (%2 keys loaded)").arg(sentence, num(loaded_)), QStringLiteral("bad"),
               false);
        Q_EMIT scanFailed(sentence);
      });
}

void KeysPage::onPage(Page page) {
  const std::size_t room = static_cast<std::size_t>(std::max<long long>(0, rowBudget_ - loaded_));
  const std::size_t take = std::min(room, page.keys.size());
  std::vector<KeyListModel::Row> rows;
  rows.reserve(take);
  for (std::size_t i = 0; i < take; ++i) {
    rows.push_back({QString::fromStdString(page.keys[i]), page.groups[i]});
    if (page.groups[i] < counts_.size()) ++counts_[page.groups[i]];
  }
  for (std::size_t i = 0; i < found_.size() && i < page.found.size(); ++i) found_[i] += page.found[i];
  loaded_ += static_cast<long long>(take);
  listed_ = page.listed;
  if (page.dbsize >= 0) dbsize_ = page.dbsize;
  if (!rows.empty()) model_->append(std::move(rows));
  // At the budget with keys left over (or still to come): the table is complete,
  // so it can be sorted now; the scan goes on counting the rest by namespace.
  if (!budgetReached_ && loaded_ >= rowBudget_ && (listed_ > loaded_ || !page.done)) {
    budgetReached_ = true;
    table_->setSortingEnabled(true);
    Q_EMIT rowBudgetReached(loaded_);
  }
  updateGroupList();

  const bool filtered = !scanFilter_.ns.empty() || !scanFilter_.glob.empty();
  const QString ofTotal = dbsize_ >= 0 ? num(dbsize_) : QStringLiteral("?");
  const QString progress =
      filtered ? QStringLiteral("%1 keys match %2 so far (of ≈%3 in Redis)").arg(num(listed_), scopeText(), ofTotal)
               : QStringLiteral("Scanned %1 of ≈%2 keys").arg(num(listed_), ofTotal);
  const QString budget =
      QStringLiteral("Showing the first %1 keys (row budget); narrow the filter. ").arg(num(loaded_));
  if (page.done) {
    const QString done =
        filtered ? QStringLiteral("Done: %1 keys match %2 (of ≈%3 in Redis)").arg(num(listed_), scopeText(), ofTotal)
                 : QStringLiteral("Done: scanned %1 of ≈%2 keys").arg(num(listed_), ofTotal);
    if (budgetReached_)
      finish(budget + done + QStringLiteral(", counted by namespace."), QStringLiteral("warn"), true);
    else
      finish(done, QStringLiteral("ok"), true);
  } else if (scanJob_.cancelling()) {
    finish((budgetReached_ ? budget : QString()) + QStringLiteral("Stopped: %1.").arg(progress), QStringLiteral("warn"),
           false);
  } else {
    if (budgetReached_)
      setStatus(budget + QStringLiteral("Counting the rest: %1…").arg(progress), QStringLiteral("warn"));
    else
      setStatus(progress + QStringLiteral("…"));
    requestPage();
  }
}

void KeysPage::finish(const QString& text, const QString& tone, bool complete) {
  scanJob_.finished();
  table_->setSortingEnabled(true);  // sorts by the header's column once
  stop_->setEnabled(false);
  setStatus(text, tone);
  Q_EMIT scanFinished(loaded_, complete);
}

void KeysPage::showKey(const QString& key) {
  if (!service_ || key.isEmpty()) return;
  shownKey_ = key;
  detail_->setText(QStringLiteral("Reading %1…").arg(key.toHtmlEscaped()));
  const std::string k = key.toStdString();
  service_->run<ops::KeyDetail>(
      this, kDetailSlot, [k](TierCore& core, JobContext&) { return ops::keyDetail(core, k); },
      [this, key](ops::KeyDetail d) {
        if (key != shownKey_) return;
        showDetail(d);
        shownDetail_ = std::move(d);
        Q_EMIT detailShown(key);
      },
      [this, key](ErrorKind kind, const QString& message) {
        if (key != shownKey_) return;
        const QString sentence = describe(kind, message);
        shownDetail_.reset();
        detail_->setText(QStringLiteral("<span style=\"color:#c53030\">%1</span>").arg(sentence.toHtmlEscaped()));
        detail_->setProperty("plain", sentence);
        value_->clear();
        open_->hide();
        Q_EMIT detailFailed(sentence);
      });
}

void KeysPage::showDetail(const ops::KeyDetail& d) {
  QStringList plain;
  QString html;
  auto line = [&](const QString& text, const QString& tone = {}, bool bold = false) {
    plain << text;
    QString h = text.toHtmlEscaped();
    if (bold) h = QStringLiteral("<b>%1</b>").arg(h);
    // Plain facts in the palette's text colour; only a tone (warn) is coloured.
    html += tone.isEmpty() ? QStringLiteral("<div>%1</div>").arg(h)
                           : QStringLiteral("<div style=\"color:%1\">%2</div>").arg(toneColor(tone), h);
  };
  line(qs(d.key), QString(), true);
  line(QStringLiteral("Namespace: %1").arg(qs(d.group)));
  if (!d.exists) {
    line(QStringLiteral("Not in Redis now (expired or deleted since it was listed)."), QStringLiteral("warn"));
  } else {
    line(QStringLiteral("Type: %1 · encoding: %2")
             .arg(qs(d.type), d.encoding.empty() ? QStringLiteral("unknown") : qs(d.encoding)));
    line(
        QStringLiteral("TTL: %1 · memory: %2%3")
            .arg(ttlText(d.ttl_ms),
                 d.memory_bytes >= 0 ? formatSize(static_cast<std::size_t>(d.memory_bytes)) : QStringLiteral("unknown"),
                 d.value_bytes >= 0
                     ? QStringLiteral(" · value: %1").arg(formatSize(static_cast<std::size_t>(d.value_bytes)))
                     : QString()));
    if (d.envelope) {
      QString gen = QStringLiteral("generation %1").arg(d.generation);
      if (!d.current_generation)
        gen += QStringLiteral(" (current generation unknown)");
      else if (d.generation_current)
        gen += QStringLiteral(" (current)");
      else
        gen += QStringLiteral(" (old: the namespace is at %1, so reads miss it)").arg(*d.current_generation);
      line(QStringLiteral("Envelope: version %1 · %2").arg(d.entity_version).arg(gen),
           d.current_generation && !d.generation_current ? QStringLiteral("warn") : QString());
      line(QStringLiteral("Written at: %1")
               .arg(d.written_at_ms > 0 ? QLocale().toString(QDateTime::fromMSecsSinceEpoch(d.written_at_ms),
                                                             QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                                        : QStringLiteral("-")));
      if (d.tombstone)
        line(QStringLiteral("Tombstone: the row was deleted; readers get \u201cnot found\u201d from the cache."),
             QStringLiteral("warn"));
    } else if (!d.decode_error.empty()) {
      line(QStringLiteral("Not an envelope of ours: %1").arg(qs(d.decode_error)));
    }
  }
  line(QStringLiteral("In this console's L1: %1").arg(d.in_l1 ? QStringLiteral("yes") : QStringLiteral("no")));
  for (const auto& u : d.unavailable) line(QStringLiteral("Unavailable: %1").arg(qs(u)), QStringLiteral("warn"));
  detail_->setText(html);
  detail_->setProperty("plain", plain.join(QLatin1Char('\n')));

  // The value, pretty-printed when it is JSON, cut for the text box.
  QByteArray raw = QByteArray::fromStdString(d.value_json);
  QString text;
  if (!raw.isEmpty()) {
    const QJsonDocument doc = QJsonDocument::fromJson(raw);
    if (!doc.isNull()) raw = doc.toJson(QJsonDocument::Indented);
    const bool cut = raw.size() > kValueShownBytes;
    text = QString::fromUtf8(raw.left(kValueShownBytes));
    if (cut)
      text += QStringLiteral("\n… (showing the first %1 of %2)")
                  .arg(formatSize(kValueShownBytes), formatSize(static_cast<std::size_t>(raw.size())));
  } else if (d.envelope && d.tombstone) {
    text = QStringLiteral("null (tombstone)");
  }
  value_->setPlainText(text);

  // A session, entry or user key links to its inspection page.
  const auto parsed = codec::parseKey(d.key);
  QString label;
  if (parsed && parsed->ns == codec::Namespace::Session)
    label = QStringLiteral("Open session %1 in Sessions").arg(qs(parsed->id));
  else if (parsed && parsed->ns == codec::Namespace::User)
    label = QStringLiteral("Open user %1 in Users").arg(qs(parsed->id));
  else if (parsed && parsed->ns == codec::Namespace::Entry)
    label = QStringLiteral("Open entry %1 in Users").arg(qs(parsed->id));
  open_->setText(label);
  open_->setVisible(!label.isEmpty());
}

void KeysPage::openInspection() {
  if (!shownDetail_) return;
  const auto parsed = codec::parseKey(shownDetail_->key);
  if (!parsed) return;
  bool ok = false;
  const std::int64_t id = QString::fromStdString(parsed->id).toLongLong(&ok);
  if (!ok || id <= 0) return;
  QWidget* top = window();
  auto raise = [](QWidget* page) {
    // Pages sit in the main window's QTabWidget (page -> stack -> tab widget).
    auto* tabs =
        page && page->parentWidget() ? qobject_cast<QTabWidget*>(page->parentWidget()->parentWidget()) : nullptr;
    if (tabs) tabs->setCurrentWidget(page);
  };
  if (parsed->ns == codec::Namespace::Session) {
    auto* sessions = top->findChild<SessionsPage*>();
    if (!sessions) return;
    sessions->search(QString::number(id));
    sessions->selectSession(id);
    raise(sessions);
    return;
  }
  auto* users = top->findChild<UsersPage*>();
  if (!users) return;
  if (parsed->ns == codec::Namespace::User) {
    users->openUser(id);
  } else if (parsed->ns == codec::Namespace::Entry) {
    // The entry's user is in its cached value; without it the entry cannot be placed.
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(shownDetail_->value_json)).object();
    const std::int64_t user = o.value(QStringLiteral("user_id")).toVariant().toLongLong();
    if (user <= 0) return;
    connect(
        users, &UsersPage::overviewShown, users,
        [users, id](std::int64_t) {
          QTreeWidget* entries = users->entriesView();
          for (int i = 0; i < entries->topLevelItemCount(); ++i)
            if (entries->topLevelItem(i)->data(0, Qt::UserRole).toLongLong() == id)
              entries->setCurrentItem(entries->topLevelItem(i));
          users->tabs()->setCurrentIndex(1);  // Journal entries
        },
        Qt::SingleShotConnection);
    users->openUser(user);
  }
  raise(users);
}

QString KeysPage::resultText() const {
  return QTextDocumentFragment::fromHtml(result_->text()).toPlainText();
}

void KeysPage::setResult(const QString& text, const QString& tone) {
  result_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>").arg(toneColor(tone), text.toHtmlEscaped()));
}

QStringList KeysPage::selectedKeys() const {
  QStringList keys;
  for (const QModelIndex& i : table_->selectionModel()->selectedRows(KeyListModel::KeyColumn)) {
    if (keys.size() >= kMaxActionKeys) break;
    const QModelIndex src = proxy_->mapToSource(i);
    if (src.isValid()) keys << model_->row(src.row()).key;
  }
  return keys;
}

namespace {
// The entity a key's refresh reloads: session, entry or user with a numeric id.
struct RefreshTarget {
  codec::Namespace ns;
  std::int64_t id = 0;
};
std::optional<RefreshTarget> refreshTarget(const QString& key) {
  const auto p = codec::parseKey(key.toStdString());
  if (!p || (p->ns != codec::Namespace::Session && p->ns != codec::Namespace::Entry && p->ns != codec::Namespace::User))
    return std::nullopt;
  bool ok = false;
  const std::int64_t id = QString::fromStdString(p->id).toLongLong(&ok);
  if (!ok || id <= 0) return std::nullopt;
  return RefreshTarget{p->ns, id};
}
}  // namespace

void KeysPage::updateActions() {
  const QStringList keys = selectedKeys();
  const ProfileTags tags = service_ ? profileTags(service_->settings()) : ProfileTags{};
  const ops::Capability inval = gateByProfile(capabilities_.invalidate, tags);
  const ops::Capability refresh = gateByProfile(allOf(capabilities_.warm, capabilities_.evict), tags);
  const bool oneRefreshable = keys.size() == 1 && refreshTarget(keys.front()).has_value();
  invalidate_->setEnabled(!actionRunning_ && !keys.isEmpty() && inval.allowed);
  refresh_->setEnabled(!actionRunning_ && oneRefreshable && refresh.allowed);
  invalidate_->setText(keys.size() > 1 ? QStringLiteral("&Invalidate %1 keys").arg(num(keys.size()))
                                       : QStringLiteral("&Invalidate key"));
  QStringList why;
  if (!inval.allowed) why << QStringLiteral("Invalidate: %1").arg(qs(inval.reason));
  if (!refresh.allowed) why << QStringLiteral("Refresh from database: %1").arg(qs(refresh.reason));
  permission_->setText(why.join(QLatin1Char('\n')));
  permission_->setVisible(!why.isEmpty() && !keys.isEmpty());
}

void KeysPage::onInvalidate() {
  const QStringList keys = selectedKeys();
  const ProfileTags tags = service_ ? profileTags(service_->settings()) : ProfileTags{};
  if (keys.isEmpty() || actionRunning_ || tags.read_only) return updateActions();
  if (findChild<QDialog*>(QStringLiteral("keysInvalidateConfirmation"))) return;  // already asking
  const QString what = keys.size() == 1 ? keys.front() : QStringLiteral("%1 keys").arg(num(keys.size()));
  const QString question = QStringLiteral("Invalidate %1?").arg(what);
  const QString detail = QStringLiteral(
      "They leave L2 and this console's L1; the database keeps the rows and the "
      "next read refills them. Each key is recorded in the audit log.");
  confirmDestructive(this, tags,
                     {QStringLiteral("Invalidate"), question, detail, QStringLiteral("&Invalidate"),
                      keys.size() == 1 ? keys.front() : QString::number(keys.size()),
                      QStringLiteral("keysInvalidateConfirmation")},
                     [this, keys] { runInvalidate(keys); });
}

void KeysPage::runInvalidate(const QStringList& keys) {
  if (actionRunning_ || !service_) return;
  actionRunning_ = true;
  updateActions();
  setResult(QStringLiteral("Invalidating %1 key(s)…").arg(num(keys.size())), QString());
  std::vector<std::string> list;
  for (const QString& k : keys) list.push_back(k.toStdString());
  struct Outcome {
    long long done = 0, deleted = 0;
    QStringList auditErrors;
    bool cancelled = false;
  };
  service_->run<Outcome>(
      this, QStringLiteral("keys.action"),
      [list](TierCore& core, JobContext& ctx) {
        Outcome o;
        for (const auto& k : list) {
          if (ctx.cancelled()) {
            o.cancelled = true;
            break;
          }
          ops::InvalidateRequest req;
          req.kind = ops::InvalidateKind::Key;
          req.target = k;
          const ops::InvalidateResult r = ops::invalidate(core, req);
          ++o.done;
          o.deleted += r.deleted;
          if (!r.audit_error.empty()) o.auditErrors << QString::fromStdString(redactSecrets(r.audit_error));
        }
        return o;
      },
      [this](Outcome o) {
        actionRunning_ = false;
        const QString text = QStringLiteral("Invalidated %1 key(s): %2 removed from Redis. Recorded in the audit log.")
                                 .arg(num(o.done), num(o.deleted)) +
                             (o.auditErrors.isEmpty()
                                  ? QString()
                                  : QStringLiteral(" But an audit row was not written: %1").arg(o.auditErrors.front()));
        setResult(text, o.auditErrors.isEmpty() ? QStringLiteral("ok") : QStringLiteral("warn"));
        updateActions();
        if (!shownKey_.isEmpty()) showKey(shownKey_);  // the detail shows the new state
        Q_EMIT actionFinished(true, text);
      },
      [this](ErrorKind kind, const QString& message) { actionFailed(kind, message); });
}

void KeysPage::actionFailed(ErrorKind kind, const QString& message) {
  actionRunning_ = false;
  const QString text = describe(kind, message);
  setResult(text, QStringLiteral("bad"));
  updateActions();
  Q_EMIT actionFinished(false, text);
}

void KeysPage::onRefresh() {
  const QStringList keys = selectedKeys();
  const ProfileTags tags = service_ ? profileTags(service_->settings()) : ProfileTags{};
  if (keys.size() != 1 || actionRunning_ || tags.read_only || !service_) return updateActions();
  const auto t = refreshTarget(keys.front());
  if (!t) return updateActions();
  actionRunning_ = true;
  updateActions();
  const QString key = keys.front();
  setResult(QStringLiteral("Refreshing %1 from the database…").arg(key), QString());
  const RefreshTarget target = *t;
  service_->run<bool>(
      this, QStringLiteral("keys.action"),
      [target](TierCore& core, JobContext&) {
        if (target.ns == codec::Namespace::Session)
          ops::refreshSession(core, target.id);
        else
          ops::refreshEntity(core, target.ns == codec::Namespace::User ? ops::Entity::User : ops::Entity::Entry,
                             target.id);
        return true;
      },
      [this, key](bool) {
        actionRunning_ = false;
        const QString text =
            QStringLiteral("Reloaded %1 from the database and wrote it to L1 and L2. Recorded in the audit log.")
                .arg(key);
        setResult(text, QStringLiteral("ok"));
        updateActions();
        showKey(key);
        Q_EMIT actionFinished(true, text);
      },
      [this](ErrorKind kind, const QString& message) { actionFailed(kind, message); });
}

KeyspaceAnalysisView* KeysPage::openAnalysis() {
  if (!analysisWindow_) {
    // A window of its own (non-modal): the Keys view stays usable beside it.
    analysisWindow_ = new QWidget(this, Qt::Window);
    analysisWindow_->setObjectName(QStringLiteral("keysAnalysisWindow"));
    analysisWindow_->setWindowTitle(QStringLiteral("Keyspace analysis"));
    auto* l = new QVBoxLayout(analysisWindow_);
    l->setContentsMargins(0, 0, 0, 0);
    analysis_ = new KeyspaceAnalysisView(service_, analysisWindow_);
    l->addWidget(analysis_);
    analysisWindow_->resize(1200, 860);
    connect(analysis_, &KeyspaceAnalysisView::keyActivated, this, [this](const QString& key) {
      window()->raise();
      showKey(key);
    });
  }
  analysisWindow_->show();
  analysisWindow_->raise();
  analysisWindow_->activateWindow();
  return analysis_;
}

void KeysPage::prepareScreenshot() {
  // Then the first row selected, so the detail pane shows a decoded envelope:
  // when the scan ends, or when the table is full while it goes on counting.
  auto selectFirst = [this](long long loaded) {
    if (loaded == 0 || table_->currentIndex().isValid()) return;
    table_->setCurrentIndex(proxy_->index(0, 0));
    table_->selectRow(0);
  };
  connect(this, &KeysPage::scanFinished, this, [selectFirst](long long loaded, bool) { selectFirst(loaded); },
          Qt::SingleShotConnection);
  connect(this, &KeysPage::rowBudgetReached, this, selectFirst, Qt::SingleShotConnection);
  selectGroup(QStringLiteral("entry"));
  startScan();
}

QWidget* createKeysPage(CoreService* service, QWidget* parent) {
  return new KeysPage(service, parent);
}

}  // namespace tier::ui
