#include "sessions/sessions_page.h"

#include <QAction>
#include <QApplication>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QJsonDocument>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

#include "common/capability_gate.h"
#include "common/confirm_destructive.h"
#include "pages.h"
#include "sessions/session_detail_widgets.h"
#include "sessions/session_search_model.h"
#include "settings/profile_store.h"
#include "tier/codec/keys.h"
#include "tier/core.h"
#include "tier/ops/inspect.h"
#include "tier/ops/session_sweeper.h"

namespace tier::ui {

namespace {

const QString kSearchSlot = QStringLiteral("sessions.search");
const QString kInspectSlot = QStringLiteral("sessions.inspect");
const QString kActionSlot = QStringLiteral("sessions.action");


QString shortcutText(const QAction* a) { return a->shortcut().toString(QKeySequence::NativeText); }

const char* const kBaseToolTip = "sessionsBaseToolTip";

// "<b>Name</b> (Shortcut)<br/>what it does"
void setActionHelp(QAction* a, const QString& what) {
  a->setProperty(kBaseToolTip, QStringLiteral("<b>%1</b> (%2)<br/>%3").arg(a->text().remove(QLatin1Char('&')), shortcutText(a), what));
  a->setToolTip(a->property(kBaseToolTip).toString());
}

// Enabled only if `ready` and the credentials allow it; a refusal says why in the tooltip.
void gate(QAction* a, bool ready, const ops::Capability& c) {
  a->setEnabled(ready && c.allowed);
  QString tip = a->property(kBaseToolTip).toString();
  if (!c.allowed)
    tip += QStringLiteral("<br/><span style=\"color:#c53030\">Not allowed: %1</span>")
               .arg(QString::fromStdString(c.reason.empty() ? std::string("these credentials may not do this.") : c.reason).toHtmlEscaped());
  a->setToolTip(tip);
}


bool usesSettings() { return !QCoreApplication::organizationName().isEmpty(); }

QToolButton* actionButton(QAction* a, QWidget* parent) {
  auto* b = new QToolButton(parent);
  b->setDefaultAction(a);
  b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  b->setAutoRaise(false);
  return b;
}

}  // namespace

SessionsPage::SessionsPage(CoreService* service, QWidget* parent)
    : QWidget(parent),
      service_(service),
      searchEdit_(new QLineEdit(this)),
      status_(new QLabel(this)),
      debounce_(new QTimer(this)),
      model_(new SessionSearchModel(this)),
      proxy_(new QSortFilterProxyModel(this)),
      view_(new QTreeView(this)),
      splitter_(new QSplitter(Qt::Horizontal, this)),
      detailStack_(new QStackedWidget(this)) {
  setObjectName(QStringLiteral("sessionsPage"));
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(10, 10, 10, 10);
  root->setSpacing(8);

  // Search row.
  auto* searchRow = new QHBoxLayout;
  searchEdit_->setObjectName(QStringLiteral("sessionSearch"));
  searchEdit_->setPlaceholderText(QStringLiteral("Search by session id, user id or email…"));
  searchEdit_->setClearButtonEnabled(true);
  searchEdit_->setToolTip(
      QStringLiteral(
          "<b>Search sessions</b> (%1)<br/>Digits match a session id or a user id exactly (never part of an email); "
          "text with a letter or @ matches an email exactly or in part. Results update as you type; Enter searches at "
          "once, Down moves to the results.")
          .arg(QKeySequence(QKeySequence::Find).toString(QKeySequence::NativeText)));
  if (const QIcon find = QIcon::fromTheme(QStringLiteral("edit-find")); !find.isNull())
    searchEdit_->addAction(find, QLineEdit::LeadingPosition);
  searchEdit_->installEventFilter(this);
  searchEdit_->setMinimumWidth(fontMetrics().horizontalAdvance(QLatin1Char('M')) * 28);
  status_->setObjectName(QStringLiteral("searchStatus"));
  status_->setTextFormat(Qt::RichText);
  searchRow->addWidget(searchEdit_, 3);
  searchRow->addWidget(status_, 2);
  root->addLayout(searchRow);

  debounce_->setSingleShot(true);
  debounce_->setInterval(250);
  connect(debounce_, &QTimer::timeout, this, &SessionsPage::onSearchTimer);
  connect(searchEdit_, &QLineEdit::textEdited, this, &SessionsPage::onSearchEdited);
  connect(searchEdit_, &QLineEdit::returnPressed, this, &SessionsPage::onSearchTimer);
  // The clear button emits textChanged, not textEdited.
  connect(searchEdit_, &QLineEdit::textChanged, this, [this](const QString& t) {
    if (t.isEmpty() && !lastQuery_.isEmpty()) onSearchTimer();
  });

  // Results: one reset per search, uniform rows, no per-row widgets.
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(SessionSearchModel::SortRole);
  proxy_->setSortCaseSensitivity(Qt::CaseInsensitive);
  view_->setObjectName(QStringLiteral("sessionResults"));
  view_->setModel(proxy_);
  view_->setRootIsDecorated(false);
  view_->setItemsExpandable(false);
  view_->setUniformRowHeights(true);
  view_->setAlternatingRowColors(true);
  view_->setAllColumnsShowFocus(true);
  view_->setSelectionMode(QAbstractItemView::SingleSelection);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  view_->setTextElideMode(Qt::ElideRight);
  view_->setSortingEnabled(true);
  auto* header = view_->header();
  header->setSortIndicatorClearable(true);
  header->setSortIndicator(-1, Qt::AscendingOrder);  // the server's order: exact id first, then most recent
  header->setStretchLastSection(false);
  header->setSectionResizeMode(QHeaderView::Interactive);
  header->setSectionResizeMode(SessionSearchModel::TitleColumn, QHeaderView::Stretch);
  header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  const auto& fm = view_->fontMetrics();
  auto chars = [&fm](int n) { return fm.horizontalAdvance(QLatin1Char('0')) * n + 24; };
  auto fits = [&fm, &chars](int n, const QString& heading) { return std::max(chars(n), fm.horizontalAdvance(heading) + 28); };
  header->resizeSection(SessionSearchModel::IdColumn, fits(6, QStringLiteral("Session")));
  header->resizeSection(SessionSearchModel::UserColumn, fits(5, QStringLiteral("User")));
  header->resizeSection(SessionSearchModel::EmailColumn, chars(20));
  header->resizeSection(SessionSearchModel::StatusColumn, fits(6, QStringLiteral("Status")));
  header->resizeSection(SessionSearchModel::MessagesColumn, fits(4, QStringLiteral("Messages")));
  header->resizeSection(SessionSearchModel::LastActiveColumn, chars(15));
  header->setMinimumSectionSize(chars(4));
  view_->setToolTip(QString());
  connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &SessionsPage::onCurrentRowChanged);

  // Actions.
  focusSearchAction_ = new QAction(QStringLiteral("Find session"), this);
  focusSearchAction_->setShortcuts({QKeySequence(QKeySequence::Find)});
  inspectAction_ = new QAction(style()->standardIcon(QStyle::SP_BrowserReload), QStringLiteral("Re-inspect"), this);
  inspectAction_->setShortcut(QKeySequence(Qt::Key_F5));
  refreshAction_ = new QAction(style()->standardIcon(QStyle::SP_DriveHDIcon), QStringLiteral("&Refresh from database"), this);
  refreshAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  evictAction_ = new QAction(style()->standardIcon(QStyle::SP_TrashIcon), QStringLiteral("&Evict this session"), this);
  evictAction_->setShortcut(QKeySequence(QKeySequence::Delete));
  rawL2Action_ =
      new QAction(style()->standardIcon(QStyle::SP_FileDialogContentsView), QStringLiteral("Raw &L2 entry…"), this);
  rawL2Action_->setObjectName(QStringLiteral("rawL2Action"));
  rawL2Action_->setToolTip(
      QStringLiteral("<b>Raw L2 entry</b><br/>The session's Redis key, its TTL and its value "
                     "as stored (envelope and decoded JSON). Reads only."));
  rawL2Action_->setProperty(kBaseToolTip, rawL2Action_->toolTip());
  setActionHelp(focusSearchAction_, QStringLiteral("Move to the search box."));
  setActionHelp(inspectAction_, QStringLiteral("Read every tier's copy of this session again. Changes nothing."));
  setActionHelp(refreshAction_, QStringLiteral("Reload the session from PostgreSQL and write it through to L1 and L2. "
                                                "Recorded in the audit log."));
  setActionHelp(evictAction_, QStringLiteral("Remove the session from L1 and L2 (asks first); the next read loads it "
                                              "from PostgreSQL. Recorded in the audit log."));
  // Window-wide, so they work straight after switching tabs; Qt matches an
  // action's shortcut only while its widget (this page's tab) is visible.
  for (QAction* a : {focusSearchAction_, inspectAction_, refreshAction_, evictAction_}) {
    a->setShortcutContext(Qt::WindowShortcut);
    addAction(a);
  }
  connect(focusSearchAction_, &QAction::triggered, this, [this] {
    searchEdit_->setFocus(Qt::ShortcutFocusReason);
    searchEdit_->selectAll();
  });
  connect(inspectAction_, &QAction::triggered, this, &SessionsPage::onInspectTriggered);
  connect(refreshAction_, &QAction::triggered, this, &SessionsPage::onRefreshTriggered);
  connect(evictAction_, &QAction::triggered, this, &SessionsPage::onEvictTriggered);
  connect(rawL2Action_, &QAction::triggered, this, &SessionsPage::onRawL2Triggered);

  // Detail: a hint until a session is selected.
  auto* hint = new QLabel(QStringLiteral("Select a session to read its messages and see where it lives in each tier."), this);
  hint->setAlignment(Qt::AlignCenter);
  hint->setWordWrap(true);
  hint->setForegroundRole(QPalette::PlaceholderText);
  detailStack_->addWidget(hint);

  auto* detail = new QWidget(this);
  auto* dl = new QVBoxLayout(detail);
  dl->setContentsMargins(4, 0, 0, 0);
  dl->setSpacing(8);
  title_ = new QLabel(detail);
  title_->setObjectName(QStringLiteral("sessionTitle"));
  QFont tf = title_->font();
  tf.setPointSizeF(tf.pointSizeF() * 1.3);
  tf.setBold(true);
  title_->setFont(tf);
  title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  title_->setWordWrap(true);
  subtitle_ = new QLabel(detail);
  subtitle_->setObjectName(QStringLiteral("sessionSubtitle"));
  subtitle_->setForegroundRole(QPalette::PlaceholderText);
  subtitle_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  subtitle_->setWordWrap(true);
  dl->addWidget(title_);
  dl->addWidget(subtitle_);

  auto* actionsRow = new QHBoxLayout;
  actionsRow->setSpacing(6);
  actionsRow->addWidget(actionButton(inspectAction_, detail));
  actionsRow->addWidget(actionButton(refreshAction_, detail));
  actionsRow->addWidget(actionButton(evictAction_, detail));
  actionsRow->addWidget(actionButton(rawL2Action_, detail));
  busyBar_ = new QProgressBar(detail);
  busyBar_->setRange(0, 0);  // indeterminate: one round trip, nothing to count
  busyBar_->setTextVisible(false);
  busyBar_->setMaximumWidth(90);
  busyBar_->setMaximumHeight(fontMetrics().height() / 2 + 4);
  busyBar_->hide();
  actionsRow->addSpacing(6);
  actionsRow->addWidget(busyBar_);
  actionsRow->addStretch(1);
  dl->addLayout(actionsRow);

  permission_ = new QLabel(detail);
  permission_->setObjectName(QStringLiteral("permissionNote"));
  permission_->setWordWrap(true);
  permission_->setTextFormat(Qt::PlainText);
  permission_->setForegroundRole(QPalette::PlaceholderText);
  permission_->hide();
  dl->addWidget(permission_);

  result_ = new QLabel(detail);
  result_->setObjectName(QStringLiteral("actionResult"));
  result_->setWordWrap(true);
  result_->setTextFormat(Qt::RichText);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  result_->hide();
  dl->addWidget(result_);

  tiers_ = new TierStatePanel(detail);
  dl->addWidget(tiers_);

  threadHeading_ = new QLabel(QStringLiteral("Latest messages"), detail);
  QFont hf = threadHeading_->font();
  hf.setBold(true);
  threadHeading_->setFont(hf);
  dl->addSpacing(4);
  dl->addWidget(threadHeading_);
  thread_ = new MessageThreadView(detail);
  dl->addWidget(thread_, 1);
  detailStack_->addWidget(detail);

  splitter_->addWidget(view_);
  splitter_->addWidget(detailStack_);
  splitter_->setStretchFactor(0, 3);
  splitter_->setStretchFactor(1, 2);
  splitter_->setChildrenCollapsible(false);
  root->addWidget(splitter_, 1);

  // Issue 15: Expire beside Evict (the row is marked expired in PostgreSQL,
  // asked first, audited) and the session sweeper's last pass, a small line
  // under the table, read from the core on a worker while the page shows.
  {
    auto* expire =
        new QAction(style()->standardIcon(QStyle::SP_DialogCancelButton), QStringLiteral("E&xpire session"), this);
    expire->setObjectName(QStringLiteral("expireAction"));
    setActionHelp(expire, QStringLiteral("Mark the session expired in PostgreSQL (asks first): no message can be added "
                                         "to it any more, and its cached copies are dropped from L1 and L2 here and "
                                         "on the other instances. Recorded in the audit log."));
    actionsRow->insertWidget(3, actionButton(expire, detail));
    auto run = [this](std::int64_t id) {
      if (actionRunning_ || profileTags().read_only) return;
      setActionRunning(true, QStringLiteral("Expiring session %1…").arg(id));
      service_->run<ops::ExpireOneResult>(
          this, kActionSlot, [id](TierCore& core, JobContext&) { return ops::expireSession(core, id); },
          [this, id](ops::ExpireOneResult r) {
            setActionRunning(false);
            const bool audited = r.audit_error.empty();
            const QString text =
                audited
                    ? QStringLiteral("Session %1 was expired and its cached copies dropped. Recorded in the audit log.")
                          .arg(id)
                    : QStringLiteral("Session %1 was expired, but its audit row was not written: %2")
                          .arg(QString::number(id), QString::fromStdString(r.audit_error));
            setResult(text, audited ? QStringLiteral("ok") : QStringLiteral("warn"));
            if (id == currentId_) inspect(id);
            Q_EMIT actionFinished(audited, text);
          },
          [this, id](ErrorKind kind, const QString& message) { onActionFailed(id, kind, message); });
    };
    connect(expire, &QAction::triggered, this, [this, run] {
      if (currentId_ <= 0 || actionRunning_ || findChild<QDialog*>(QStringLiteral("expireConfirmation"))) return;
      const std::int64_t id = currentId_;
      const ProfileTags tags = profileTags();
      if (tags.read_only) return updateActions();
      const QString question = QStringLiteral("Expire session %1?").arg(id);
      const QString detailText = QStringLiteral(
          "The session is marked expired in PostgreSQL: its user can no longer "
          "write to it. Its cached copies are dropped. Recorded in the audit log.");
      confirmDestructive(this, tags,
                         {QStringLiteral("Expire session %1").arg(id), question, detailText,
                          QStringLiteral("E&xpire"), QString::number(id), QStringLiteral("expireConfirmation")},
                         [id, run] { run(id); });
    });

    auto* sweep = new QLabel(this);
    sweep->setObjectName(QStringLiteral("sweepNote"));
    sweep->setForegroundRole(QPalette::PlaceholderText);
    sweep->setTextFormat(Qt::PlainText);
    sweep->hide();
    root->addWidget(sweep);
    auto* poll = new QTimer(this);
    poll->setInterval(5000);
    auto read = [this, sweep] {
      if (!service_ || !isVisible()) return;
      service_->run<ops::SessionSweeperStatus>(
          this, QStringLiteral("sessions.sweep"),
          [](TierCore& core, JobContext&) {
            ops::SessionSweeperStatus st;
            if (auto* s = core.sessionSweeper()) st.stats = s->stats();
            return st;  // this instance's counts only: no round trip
          },
          [sweep](ops::SessionSweeperStatus st) {
            const auto& t = st.stats;
            QString text;
            if (!t.enabled)
              text = QStringLiteral("Session sweeper: off for this profile.");
            else if (!t.holder && t.runs == 0)
              text = QStringLiteral(
                  "Session sweeper: standing by (another instance holds the lock, or the first pass is due).");
            else
              text = QStringLiteral("Session sweeper: last pass %1, %2 expired (idle over %3; %4 in all)%5")
                         .arg(t.last_run_ms > 0
                                  ? QDateTime::fromMSecsSinceEpoch(t.last_run_ms).toString(QStringLiteral("HH:mm:ss"))
                                  : QStringLiteral("not yet"),
                              QString::number(t.last_expired),
                              QString::fromStdString(ops::formatDuration(std::chrono::seconds(t.idle_limit_s))),
                              QString::number(t.total_expired),
                              t.last_error.empty() ? QStringLiteral(".")
                                                   : QStringLiteral(" \u2014 ") + QString::fromStdString(t.last_error));
            sweep->setText(text);
            sweep->setVisible(true);
          });
    };
    connect(poll, &QTimer::timeout, this, read);
    if (service_) connect(service_, &CoreService::coreReady, this, read);
    poll->start();
  }

  setFocusProxy(searchEdit_);
  if (usesSettings()) {
    QSettings settings;
    splitter_->restoreState(settings.value(QStringLiteral("sessions/splitter")).toByteArray());
  }
  if (!usesSettings() || !QSettings().contains(QStringLiteral("sessions/splitter")))
    splitter_->setSizes({720, 560});  // the table's columns fit beside a readable thread
  if (service_) {
    connect(service_, &CoreService::coreReady, this, &SessionsPage::onCoreReady);
    connect(service_, &CoreService::capabilitiesAvailable, this, &SessionsPage::onCapabilitiesAvailable);
    connect(service_, &CoreService::connecting, this, [this] { updateActions(); });  // another profile's tags
    connect(service_, &CoreService::redisLinkChanged, this,
            [this](const LinkStatus& st) { onLinkChanged(QStringLiteral("Redis"), st); });
    connect(service_, &CoreService::postgresLinkChanged, this,
            [this](const LinkStatus& st) { onLinkChanged(QStringLiteral("PostgreSQL"), st); });
    capabilities_ = service_->capabilities();
  }
  updateActions();
}

SessionsPage::~SessionsPage() {
  if (usesSettings()) QSettings().setValue(QStringLiteral("sessions/splitter"), splitter_->saveState());
}

QString SessionsPage::statusText() const { return status_->property("plainText").toString(); }
QString SessionsPage::resultText() const { return result_->property("plainText").toString(); }

void SessionsPage::setStatus(const QString& text, const QString& tone) {
  status_->setProperty("plainText", text);
  status_->setText(tone.isEmpty() ? text.toHtmlEscaped()
                                  : QStringLiteral("<span style=\"color:%1\">%2</span>").arg(toneColor(tone), text.toHtmlEscaped()));
}

void SessionsPage::setResult(const QString& text, const QString& tone) {
  result_->setProperty("plainText", text);
  result_->setText(QStringLiteral("<span style=\"color:%1\">●</span>&nbsp;%2").arg(toneColor(tone), text.toHtmlEscaped()));
  result_->setVisible(!text.isEmpty());
}

bool SessionsPage::eventFilter(QObject* watched, QEvent* event) {
  if (watched == searchEdit_ && event->type() == QEvent::KeyPress) {
    const auto* key = static_cast<QKeyEvent*>(event);
    if (key->key() == Qt::Key_Down && proxy_->rowCount() > 0) {
      view_->setFocus(Qt::TabFocusReason);
      if (!view_->currentIndex().isValid()) view_->setCurrentIndex(proxy_->index(0, 0));
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void SessionsPage::onSearchEdited() { debounce_->start(); }

void SessionsPage::onSearchTimer() {
  debounce_->stop();
  startSearch(searchEdit_->text());
}

void SessionsPage::search(const QString& text) {
  if (searchEdit_->text() != text) {
    const QSignalBlocker block(searchEdit_);
    searchEdit_->setText(text);
  }
  debounce_->stop();
  startSearch(text);
}

void SessionsPage::startSearch(const QString& text) {
  const QString query = text.trimmed();
  lastQuery_ = query;
  const std::uint64_t seq = ++searchSeq_;
  if (query.isEmpty()) {
    searching_ = false;
    model_->clear();
    setStatus(QString());
    return;
  }
  searching_ = true;
  setStatus(QStringLiteral("searching…"));
  const std::string q = query.toStdString();
  service_->run<std::vector<repo::SessionSummary>>(
      this, kSearchSlot,
      [q](TierCore& core, JobContext&) { return core.sessions().find(q, kSearchLimit); },
      [this, seq, query](std::vector<repo::SessionSummary> rows) {
        if (seq != searchSeq_) return;
        searching_ = false;
        const int n = static_cast<int>(rows.size());
        model_->resetData(std::move(rows));
        fitEmailColumn();
        const QLocale loc;
        if (n == 0)
          setStatus(QStringLiteral("No session matches “%1”.").arg(query.left(60)));
        else if (n >= kSearchLimit)
          setStatus(QStringLiteral("The first %1 sessions; refine the search to see others.").arg(loc.toString(n)), QStringLiteral("warn"));
        else
          setStatus(n == 1 ? QStringLiteral("1 session") : QStringLiteral("%1 sessions").arg(loc.toString(n)));
        // Keep the inspected session if it is still listed, else show the first.
        if (n > 0) {
          const int keep = currentId_ > 0 ? model_->rowOf(currentId_) : -1;
          const QModelIndex src = model_->index(keep >= 0 ? keep : 0, 0);
          view_->setCurrentIndex(proxy_->mapFromSource(src));
          view_->scrollTo(view_->currentIndex());
        }
        Q_EMIT searchFinished(n);
      },
      [this, seq](ErrorKind kind, const QString& message) {
        if (seq != searchSeq_) return;
        searching_ = false;
        model_->clear();
        const QString sentence = describe(kind, message);
        setStatus(sentence, QStringLiteral("bad"));
        Q_EMIT searchFailed(sentence);
      });
}

void SessionsPage::onCurrentRowChanged() {
  const QModelIndex index = view_->currentIndex();
  if (!index.isValid()) return;
  const std::int64_t id = index.data(SessionSearchModel::SessionIdRole).toLongLong();
  if (id == currentId_ && inspection_ && inspection_->session_id == id) return;
  inspect(id);
}

void SessionsPage::selectSession(std::int64_t sessionId) {
  const int row = model_->rowOf(sessionId);
  if (row >= 0) {
    view_->setCurrentIndex(proxy_->mapFromSource(model_->index(row, 0)));
    view_->scrollTo(view_->currentIndex());
    if (currentId_ == sessionId) return;
  }
  inspect(sessionId);
}

void SessionsPage::showHeader(const repo::ChatSession* s, std::int64_t id) {
  const int row = model_->rowOf(id);
  const repo::SessionSummary* sum = row >= 0 ? &model_->summaryAt(row) : nullptr;
  QString title = s ? QString::fromStdString(s->title) : sum ? QString::fromStdString(sum->title) : QString();
  title_->setText(title.isEmpty() ? QStringLiteral("Session %1").arg(id) : title);
  QStringList parts{QStringLiteral("Session %1").arg(id)};
  const std::int64_t user = s ? s->user_id : sum ? sum->user_id : 0;
  if (user > 0) parts << QStringLiteral("user %1").arg(user);
  if (sum && !sum->user_email.empty()) parts << QString::fromStdString(sum->user_email);
  const std::string status = s ? s->status : sum ? sum->status : std::string();
  if (!status.empty()) parts << QString::fromStdString(status);
  if (s || sum) {
    const int count = s ? s->message_count : sum->message_count;
    parts << (count == 1 ? QStringLiteral("1 message") : QStringLiteral("%1 messages").arg(QLocale().toString(count)));
    const std::int64_t last = s ? s->last_active_at : sum->last_active_at;
    if (last > 0) parts << QStringLiteral("last active %1").arg(formatTimestamp(last));
  }
  subtitle_->setText(parts.join(QStringLiteral("  ·  ")));
}

void SessionsPage::inspect(std::int64_t id, bool keepShown) {
  if (id <= 0) return;
  if (id != currentId_) {
    result_->hide();
    result_->setProperty("plainText", QString());
    keepShown = false;
  }
  currentId_ = id;
  detailStack_->setCurrentIndex(1);
  if (!keepShown) {
    inspection_.reset();
    showHeader(nullptr, id);
    tiers_->showLoading();
  }
  updateActions();
  service_->run<ops::SessionInspection>(
      this, kInspectSlot, [id](TierCore& core, JobContext&) { return ops::inspectSession(core, id); },
      [this, id, startedAt = QDateTime::currentMSecsSinceEpoch()](ops::SessionInspection in) {
        if (id != currentId_) return;
        inspection_ = std::move(in);
        const auto& i = *inspection_;
        tiers_->showInspection(i, startedAt);
        if (i.l3) {
          // The listed row shows what the database holds now (after a refresh, an evict, another writer).
          const int row = model_->rowOf(id);
          if (row >= 0) {
            repo::SessionSummary sum = model_->summaryAt(row);
            sum.user_id = i.l3->user_id;
            sum.title = i.l3->title;
            sum.status = i.l3->status;
            sum.message_count = i.l3->message_count;
            sum.last_active_at = i.l3->last_active_at;
            model_->updateSummary(sum);
          }
        }
        const repo::ChatSession* s = i.l3 ? &*i.l3 : i.cached ? &*i.cached : nullptr;
        showHeader(s, id);
        if (s) {
          thread_->showMessages(s->messages);
          const int shown = static_cast<int>(s->messages.size());
          threadHeading_->setText(
              QStringLiteral("Latest messages  —  %1 of %2, from %3")
                  .arg(QLocale().toString(shown), QLocale().toString(s->message_count),
                       i.l3 ? QStringLiteral("the database") : QStringLiteral("the cache")));
        } else {
          thread_->showMessages({});
          threadHeading_->setText(QStringLiteral("Latest messages"));
        }
        updateActions();
        Q_EMIT inspectionShown(id);
      },
      [this, id](ErrorKind kind, const QString& message) {
        if (id != currentId_) return;
        const QString sentence = describe(kind, message);
        tiers_->showError(sentence);
        thread_->showMessages({});
        threadHeading_->setText(QStringLiteral("Latest messages"));
        updateActions();
        Q_EMIT inspectionFailed(sentence);
      });
}

void SessionsPage::updateActions() {
  const bool ready = currentId_ > 0 && !actionRunning_;
  // A read-only profile refuses both writes whatever the credentials allow; inspecting stays.
  const ProfileTags tags = profileTags();
  const ops::Capability refresh = gateByProfile(allOf(capabilities_.warm, capabilities_.evict), tags);
  const ops::Capability evict = gateByProfile(capabilities_.evict, tags);
  gate(inspectAction_, ready, capabilities_.inspect);
  gate(refreshAction_, ready, refresh);
  gate(evictAction_, ready, evict);
  if (auto* expire = findChild<QAction*>(QStringLiteral("expireAction")))  // only an active session can expire
    gate(expire, ready && inspection_ && inspection_->l3 && inspection_->l3->status == "active", evict);
  gate(rawL2Action_, currentId_ > 0, capabilities_.inspect);
  QStringList why;
  if (!refresh.allowed) why << QStringLiteral("Refresh from database: %1").arg(QString::fromStdString(refresh.reason));
  if (!evict.allowed) why << QStringLiteral("Evict: %1").arg(QString::fromStdString(evict.reason));
  permission_->setText(why.join(QLatin1Char('\n')));
  permission_->setVisible(!why.isEmpty());
}

QString SessionsPage::permissionText() const { return permission_->text(); }

void SessionsPage::onCapabilitiesAvailable(const ops::Capabilities& capabilities) {
  capabilities_ = capabilities;
  updateActions();
}

void SessionsPage::setActionRunning(bool running, const QString& what) {
  actionRunning_ = running;
  busyBar_->setVisible(running);
  if (running) setResult(what, QStringLiteral("neutral"));
  updateActions();
}

void SessionsPage::onInspectTriggered() {
  if (currentId_ > 0 && !actionRunning_) inspect(currentId_);
}

ProfileTags SessionsPage::profileTags() const {
  return service_ ? ui::profileTags(service_->settings()) : ProfileTags{};
}

void SessionsPage::onRefreshTriggered() {
  if (currentId_ <= 0 || actionRunning_) return;
  if (profileTags().read_only) return updateActions();  // greyed out; a shortcut may still fire
  const std::int64_t id = currentId_;
  setActionRunning(true, QStringLiteral("Refreshing session %1 from the database…").arg(id));
  service_->run<bool>(
      this, kActionSlot,
      [id](TierCore& core, JobContext&) {
        ops::refreshSession(core, id);
        return true;
      },
      [this, id](bool) {
        setActionRunning(false);
        const QString text = QStringLiteral("Session %1 was reloaded from the database and written to L1 and L2. "
                                            "Recorded in the audit log.").arg(id);
        setResult(text, QStringLiteral("ok"));
        if (id == currentId_) inspect(id);
        Q_EMIT actionFinished(true, text);
      },
      [this, id](ErrorKind kind, const QString& message) { onActionFailed(id, kind, message); });
}

void SessionsPage::onActionFailed(std::int64_t id, ErrorKind kind, const QString& message) {
  setActionRunning(false);
  const QString text = describe(kind, message);
  setResult(text, QStringLiteral("bad"));
  if (id == currentId_) inspect(id);
  Q_EMIT actionFinished(false, text);
}

void SessionsPage::onEvictTriggered() {
  if (currentId_ <= 0 || actionRunning_) return;
  if (findChild<QDialog*>(QStringLiteral("evictConfirmation"))) return;  // already asking
  const std::int64_t id = currentId_;
  const ProfileTags tags = profileTags();
  if (tags.read_only) return updateActions();
  confirmDestructive(this, tags,
                     {QStringLiteral("Evict session %1").arg(id),
                      QStringLiteral("Evict session %1 from L1 and L2?").arg(id),
                      QStringLiteral("The database keeps the session; the next read loads it again. "
                                     "The eviction is recorded in the audit log."),
                      QStringLiteral("&Evict"), QString::number(id), QStringLiteral("evictConfirmation")},
                     [this, id] { evictConfirmed(id); });
}

void SessionsPage::evictConfirmed(std::int64_t id) {
  if (actionRunning_ || profileTags().read_only) return;
  setActionRunning(true, QStringLiteral("Evicting session %1…").arg(id));
  service_->run<bool>(
      this, kActionSlot, [id](TierCore& core, JobContext&) { return ops::evictSession(core, id); },
      [this, id](bool hadL2) {
        setActionRunning(false);
        const QString text = QStringLiteral("Session %1 was evicted from L1 and L2 (%2). Recorded in the audit log.")
                                 .arg(QString::number(id), hadL2 ? QStringLiteral("Redis held a copy")
                                                                 : QStringLiteral("Redis held no copy"));
        setResult(text, QStringLiteral("ok"));
        if (id == currentId_) inspect(id);
        Q_EMIT actionFinished(true, text);
      },
      [this, id](ErrorKind kind, const QString& message) { onActionFailed(id, kind, message); });
}

void SessionsPage::fitEmailColumn() {
  const auto& fm = view_->fontMetrics();
  int widest = fm.horizontalAdvance(QStringLiteral("Email"));
  const int n = std::min(model_->rowCount(), 500);  // enough to see the shape; 10,000 rows stay cheap
  for (int r = 0; r < n; ++r)
    widest = std::max(widest, fm.horizontalAdvance(QString::fromStdString(model_->summaryAt(r).user_email)));
  const int cap = fm.horizontalAdvance(QLatin1Char('m')) * 36;
  const int want = std::min(widest + 24, cap);
  auto* header = view_->header();
  if (header->sectionSize(SessionSearchModel::EmailColumn) < want)
    header->resizeSection(SessionSearchModel::EmailColumn, want);
}

void SessionsPage::onLinkChanged(const QString& server, const LinkStatus& status) {
  // A new connection is re-read at coreReady; here only a change between usable and not counts
  // (the link reports every few seconds).
  if (status.state == LinkState::Connecting || status.state == LinkState::Disconnected) return;
  LinkState& last = server == QLatin1String("Redis") ? redisState_ : postgresState_;
  const LinkState before = last;
  last = status.state;
  auto bad = [](LinkState s) {
    return s == LinkState::Down || s == LinkState::Degraded || s == LinkState::NotConnected;
  };
  if (bad(before) == bad(status.state)) return;
  if (currentId_ <= 0 || !inspection_ || actionRunning_) return;
  if (bad(status.state))
    tiers_->markUnknown(QStringLiteral("%1 went %2%3")
                            .arg(server, toText(status.state).toLower(),
                                 status.detail.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(status.detail)));
  inspect(currentId_, true);  // re-check: what can still be read is read again; what cannot says so
}

void SessionsPage::onRawL2Triggered() {
  if (currentId_ <= 0) return;
  const std::int64_t id = currentId_;
  auto* dialog = findChild<QDialog*>(QStringLiteral("rawL2Dialog"));
  QPlainTextEdit* text = nullptr;
  if (!dialog) {
    dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("rawL2Dialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    auto* layout = new QVBoxLayout(dialog);
    text = new QPlainTextEdit(dialog);
    text->setObjectName(QStringLiteral("rawL2Text"));
    text->setReadOnly(true);
    text->setLineWrapMode(QPlainTextEdit::NoWrap);
    text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(text, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->resize(760, 560);
  } else {
    text = dialog->findChild<QPlainTextEdit*>(QStringLiteral("rawL2Text"));
  }
  const QString key = QString::fromStdString(codec::sessionKey(id));
  dialog->setWindowTitle(QStringLiteral("Raw L2 entry \u2014 %1").arg(key));
  text->setPlainText(QStringLiteral("Key: %1\nReading Redis\u2026").arg(key));
  dialog->show();
  dialog->raise();
  QPointer<QPlainTextEdit> target(text);
  service_->run<QString>(
      this, QStringLiteral("sessions.rawL2"),
      [id](TierCore& core, JobContext&) {
        const std::string k = codec::sessionKey(id);
        const QString readAt = QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        if (!core.hasRedis()) return QStringLiteral("Key: %1\nNo Redis configured.").arg(QString::fromStdString(k));
        const auto p = core.cache().peekL2(codec::Namespace::Session, k);
        QStringList out{QStringLiteral("Key: %1").arg(QString::fromStdString(k)),
                        QStringLiteral("Read: %1").arg(readAt)};
        if (!p.present) {
          out << QStringLiteral("Not in Redis (no such key).");
          return out.join(QLatin1Char('\n'));
        }
        out << QStringLiteral("TTL: %1").arg(
            p.ttl_ms == -1 ? QStringLiteral("no expiry")
                           : QStringLiteral("%1 (%2 ms)").arg(formatTtl((p.ttl_ms + 999) / 1000)).arg(p.ttl_ms));
        out << QStringLiteral("Size: %1 bytes").arg(p.bytes);
        if (!p.decode_error.empty())
          out << QStringLiteral("Unreadable value: %1").arg(QString::fromStdString(p.decode_error));
        if (p.value) {
          out << QStringLiteral("Envelope: version %1 \u00b7 namespace generation %2 (%3) \u00b7 written %4")
                     .arg(p.value->entity_version)
                     .arg(p.value->ns_generation)
                     .arg(p.generation_current ? QStringLiteral("current")
                                               : QStringLiteral("older: reads treat it as a miss"))
                     .arg(QDateTime::fromMSecsSinceEpoch(p.value->written_at_ms)
                              .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")));
          const QByteArray payload = QByteArray::fromStdString(p.value->payload);
          QJsonParseError err{};
          const QJsonDocument doc = QJsonDocument::fromJson(payload, &err);
          out << QString() << QStringLiteral("Decoded value:");
          out << (err.error == QJsonParseError::NoError
                      ? QString::fromUtf8(doc.toJson(QJsonDocument::Indented)).trimmed()
                      : QString::fromUtf8(payload));
        }
        return out.join(QLatin1Char('\n'));
      },
      [this, target, id](QString body) {
        if (target) target->setPlainText(body);
        Q_EMIT rawL2Shown(id);
      },
      [this, target, id, key](ErrorKind kind, const QString& message) {
        if (target) target->setPlainText(QStringLiteral("Key: %1\n%2").arg(key, describe(kind, message)));
        Q_EMIT rawL2Shown(id);
      });
}

void SessionsPage::onCoreReady() {
  // A new connection: what is shown came from the old one.
  if (!lastQuery_.isEmpty()) startSearch(lastQuery_);
  if (currentId_ > 0) inspect(currentId_);
}

QWidget* createSessionsPage(CoreService* service, QWidget* parent) { return new SessionsPage(service, parent); }

void SessionsPage::prepareScreenshot() {
  searchEdit_->setText(QStringLiteral("1"));
  search(QStringLiteral("1"));
}

}  // namespace tier::ui
