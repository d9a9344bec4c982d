#include "users/users_page.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTextDocumentFragment>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "common/capability_gate.h"
#include "common/confirm_destructive.h"
#include "main_window.h"
#include "pages.h"
#include "sessions/session_detail_widgets.h"
#include "sessions/sessions_page.h"
#include "settings/profile_store.h"
#include "tier/core.h"
#include "tier/repo/search.h"

namespace tier::ui {

namespace {

const QString kFindSlot = QStringLiteral("users.find");
const QString kOverviewSlot = QStringLiteral("users.overview");
const QString kSearchSlot = QStringLiteral("users.search");
const QString kActionSlot = QStringLiteral("users.action");

enum Tab { ProfileTab = 0, EntriesTab, SessionsTab, MoodTab, SearchTab };


QString qs(const std::string& s) { return QString::fromStdString(s); }
QString timeText(std::int64_t ms) {
  return ms <= 0 ? QStringLiteral("-")
                 : QLocale().toString(QDateTime::fromMSecsSinceEpoch(ms), QStringLiteral("yyyy-MM-dd HH:mm"));
}

// "L1 + L2", "L2", "database only"; with "stale" when a copy differs.
template <typename T>
QString whereText(const ops::Inspection<T>& in) {
  QStringList tiers;
  if (in.l1.present) tiers << QStringLiteral("L1");
  if (in.l2.present) tiers << (in.l2_generation_current ? QStringLiteral("L2") : QStringLiteral("L2 (old generation)"));
  QString where = tiers.isEmpty() ? (in.l3_present ? QStringLiteral("database only") : QStringLiteral("nowhere"))
                                  : tiers.join(QStringLiteral(" + "));
  if (in.stale) where += QStringLiteral(" · stale");
  if (!in.l2_error.empty()) where += QStringLiteral(" · L2 unknown");
  return where;
}

// The banner and the three tier lines of an inspection, as (html, plain) text.
template <typename T>
std::pair<QString, QString> factsText(const ops::Inspection<T>& in, const QString& what) {
  QStringList plain;
  QString html;
  auto line = [&](const QString& text, const QString& tone, bool bold = false) {
    plain << text;
    QString h = text.toHtmlEscaped();
    if (bold) h = QStringLiteral("<b>%1</b>").arg(h);
    html += QStringLiteral("<div style=\"color:%1\">%2</div>").arg(toneColor(tone), h);
  };
  if (in.stale) {
    QStringList fields;
    for (const auto& f : in.diff) fields << qs(f);
    line(QStringLiteral("Stale: the cached copy of %1 differs from the database in %2.")
             .arg(what, fields.join(QStringLiteral(", "))),
         QStringLiteral("bad"), true);
    for (const auto& v : in.field_values)
      line(QStringLiteral("    %1: cached %2 · database %3")
               .arg(qs(v.field), v.cached.empty() ? QStringLiteral("(none)") : qs(v.cached),
                    v.database.empty() ? QStringLiteral("(none)") : qs(v.database)),
           QStringLiteral("bad"));
  } else if (in.l1.present || in.l2.present) {
    line(QStringLiteral("Current: the cached copy of %1 matches the database.").arg(what), QStringLiteral("ok"), true);
  } else {
    line(QStringLiteral("Not cached: %1 is only in PostgreSQL; the next read fills L1 and L2.").arg(what),
         QStringLiteral("neutral"), true);
  }
  auto copy = [](const ops::TierCopy& c) {
    return c.present ? QStringLiteral("present · version %1 · %2 · written %3")
                           .arg(QString::number(c.version), formatSize(c.bytes), timeText(c.written_at_ms))
                     : QStringLiteral("absent");
  };
  line(QStringLiteral("L1 (this console's memory): ") + copy(in.l1) + (in.l1_stale ? QStringLiteral(" · stale") : QString()),
       in.l1_stale ? QStringLiteral("bad") : QString());
  QString l2 = QStringLiteral("L2 (Redis): ");
  if (!in.l2_error.empty() && !in.l2.present) {
    l2 += QStringLiteral("unknown — ") + qs(in.l2_error);
  } else {
    l2 += copy(in.l2);
    if (in.l2.present) l2 += QStringLiteral(" · TTL ") + formatTtl(in.l2_ttl_s);
    if (in.l2.present && !in.l2_generation_current) l2 += QStringLiteral(" · older namespace generation (reads miss)");
    if (in.l2_stale) l2 += QStringLiteral(" · stale");
  }
  line(l2, in.l2_stale || !in.l2_error.empty() ? QStringLiteral("bad") : QString());
  line(QStringLiteral("PostgreSQL: ") +
           (in.l3_present ? QStringLiteral("present · version %1").arg(in.l3_version) : QStringLiteral("absent")),
       QString());
  line(QStringLiteral("Key %1 · checked %2").arg(qs(in.key), QTime::currentTime().toString(QStringLiteral("HH:mm:ss"))),
       QStringLiteral("neutral"));
  return {html, plain.join(QLatin1Char('\n'))};
}


QTreeWidget* makeTree(const QStringList& headers, const QString& name, QWidget* parent) {
  auto* t = new QTreeWidget(parent);
  t->setObjectName(name);
  t->setHeaderLabels(headers);
  t->setRootIsDecorated(false);
  t->setUniformRowHeights(true);
  t->setAlternatingRowColors(true);
  t->setSortingEnabled(true);
  t->header()->setStretchLastSection(true);
  return t;
}

// Numbers sort as numbers.
class Row : public QTreeWidgetItem {
 public:
  using QTreeWidgetItem::QTreeWidgetItem;
  bool operator<(const QTreeWidgetItem& other) const override {
    const int c = treeWidget() ? treeWidget()->sortColumn() : 0;
    const QVariant a = data(c, Qt::UserRole), b = other.data(c, Qt::UserRole);
    if (a.isValid() && b.isValid()) return a.toDouble() < b.toDouble();
    return text(c).localeAwareCompare(other.text(c)) < 0;
  }
};

}  // namespace

UsersPage::UsersPage(CoreService* service, QWidget* parent)
    : QWidget(parent),
      service_(service),
      findEdit_(new QLineEdit(this)),
      status_(new QLabel(this)),
      debounce_(new QTimer(this)),
      matches_(makeTree({QStringLiteral("User"), QStringLiteral("Email"), QStringLiteral("Name")},
                        QStringLiteral("userMatches"), this)),
      header_(new QLabel(this)),
      userFacts_(new QLabel(this)),
      tabs_(new QTabWidget(this)),
      entries_(makeTree({QStringLiteral("Entry"), QStringLiteral("Title"), QStringLiteral("Mood"),
                         QStringLiteral("Updated"), QStringLiteral("Where"), QStringLiteral("L2 TTL")},
                        QStringLiteral("userEntries"), this)),
      sessions_(makeTree({QStringLiteral("Session"), QStringLiteral("Title"), QStringLiteral("Status"),
                          QStringLiteral("Messages"), QStringLiteral("Last active"), QStringLiteral("Where"),
                          QStringLiteral("L2 TTL")},
                         QStringLiteral("userSessions"), this)),
      mood_(makeTree({QStringLiteral("Period"), QStringLiteral("Entries"), QStringLiteral("Average mood"),
                      QStringLiteral("Min"), QStringLiteral("Max"), QStringLiteral("Where")},
                     QStringLiteral("userMood"), this)),
      detailFacts_(new QLabel(this)),
      searchEdit_(new QLineEdit(this)),
      searchStatus_(new QLabel(this)),
      onlyUser_(new QCheckBox(QStringLiteral("Only this user"), this)),
      results_(makeTree({QStringLiteral("Entry"), QStringLiteral("User"), QStringLiteral("Title"),
                         QStringLiteral("Rank"), QStringLiteral("Snippet")},
                        QStringLiteral("entrySearchResults"), this)),
      refresh_(new QPushButton(QStringLiteral("&Refresh from database"), this)),
      evict_(new QPushButton(QStringLiteral("&Evict"), this)),
      permission_(new QLabel(this)),
      result_(new QLabel(this)) {
  setObjectName(QStringLiteral("usersPage"));
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(10, 10, 10, 10);
  root->setSpacing(8);

  auto* findRow = new QHBoxLayout;
  findEdit_->setObjectName(QStringLiteral("userFind"));
  findEdit_->setPlaceholderText(QStringLiteral("Find a user by id or email…"));
  findEdit_->setClearButtonEnabled(true);
  findEdit_->setToolTip(QStringLiteral("<b>Find a user</b><br/>Digits match a user id; anything else an email, "
                                       "exactly or in part (case-insensitive, %, _ and * are plain characters)."));
  status_->setObjectName(QStringLiteral("userFindStatus"));
  status_->setTextFormat(Qt::RichText);
  findRow->addWidget(findEdit_, 3);
  findRow->addWidget(status_, 2);
  root->addLayout(findRow);
  debounce_->setSingleShot(true);
  debounce_->setInterval(300);
  connect(debounce_, &QTimer::timeout, this, [this] { startFind(findEdit_->text().trimmed()); });
  connect(findEdit_, &QLineEdit::textEdited, this, [this] { debounce_->start(); });
  connect(findEdit_, &QLineEdit::returnPressed, this, [this] {
    debounce_->stop();
    startFind(findEdit_->text().trimmed());
  });

  auto* split = new QSplitter(Qt::Horizontal, this);
  matches_->setMinimumWidth(fontMetrics().horizontalAdvance(QLatin1Char('M')) * 26);
  split->addWidget(matches_);
  connect(matches_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
    if (item) openUser(item->data(0, Qt::UserRole).toLongLong());
  });

  auto* right = new QWidget(this);
  auto* rl = new QVBoxLayout(right);
  rl->setContentsMargins(0, 0, 0, 0);
  header_->setObjectName(QStringLiteral("userHeader"));
  header_->setTextFormat(Qt::RichText);
  header_->setText(QStringLiteral("<span style=\"color:#718096\">Find a user to see their profile, sessions, "
                                  "journal entries and mood, and where each lives.</span>"));
  header_->setWordWrap(true);
  rl->addWidget(header_);

  // Profile tab: the user's own tiers.
  auto* profile = new QWidget(this);
  auto* pl = new QVBoxLayout(profile);
  userFacts_->setObjectName(QStringLiteral("userFacts"));
  userFacts_->setTextFormat(Qt::RichText);
  userFacts_->setWordWrap(true);
  userFacts_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  pl->addWidget(userFacts_);
  pl->addStretch(1);
  tabs_->addTab(profile, QStringLiteral("Profile"));
  tabs_->addTab(entries_, QStringLiteral("Journal entries"));
  tabs_->addTab(sessions_, QStringLiteral("Chat sessions"));
  tabs_->addTab(mood_, QStringLiteral("Mood"));

  // Search tab: full-text over journal entries, cached by the core.
  auto* search = new QWidget(this);
  auto* sl = new QVBoxLayout(search);
  auto* srow = new QHBoxLayout;
  searchEdit_->setObjectName(QStringLiteral("entrySearch"));
  searchEdit_->setPlaceholderText(QStringLiteral("Search journal entries (words, \"a phrase\", -not, or)…"));
  searchEdit_->setClearButtonEnabled(true);
  searchEdit_->setToolTip(QStringLiteral("<b>Full-text search</b><br/>Over titles and text of journal entries, "
                                         "ranked; of the open user only when one is open. Results are cached "
                                         "briefly and dropped when an entry of that user changes."));
  searchStatus_->setObjectName(QStringLiteral("entrySearchStatus"));
  searchStatus_->setTextFormat(Qt::RichText);
  onlyUser_->setObjectName(QStringLiteral("entrySearchOnlyUser"));
  onlyUser_->setChecked(true);
  onlyUser_->setToolTip(QStringLiteral("Search the open user's entries only; off: every user's."));
  srow->addWidget(searchEdit_, 3);
  srow->addWidget(onlyUser_);
  srow->addWidget(searchStatus_, 2);
  sl->addLayout(srow);
  sl->addWidget(results_, 1);
  connect(searchEdit_, &QLineEdit::returnPressed, this, [this] { searchEntries(searchEdit_->text()); });
  connect(results_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
    const std::int64_t user = item->data(1, Qt::UserRole).toLongLong();
    const std::int64_t entry = item->data(0, Qt::UserRole).toLongLong();
    if (user <= 0) return;
    // Open the entry's user with the entry selected.
    connect(
        this, &UsersPage::overviewShown, this,
        [this, entry](std::int64_t) {
          for (int i = 0; i < entries_->topLevelItemCount(); ++i)
            if (entries_->topLevelItem(i)->data(0, Qt::UserRole).toLongLong() == entry)
              entries_->setCurrentItem(entries_->topLevelItem(i));
          tabs_->setCurrentIndex(EntriesTab);
        },
        Qt::SingleShotConnection);
    openUser(user);
  });
  tabs_->addTab(search, QStringLiteral("Search entries"));
  tabs_->setObjectName(QStringLiteral("userTabs"));
  rl->addWidget(tabs_, 3);

  detailFacts_->setObjectName(QStringLiteral("detailFacts"));
  detailFacts_->setTextFormat(Qt::RichText);
  detailFacts_->setWordWrap(true);
  detailFacts_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  rl->addWidget(detailFacts_, 1);

  auto* actions = new QHBoxLayout;
  refresh_->setObjectName(QStringLiteral("userRefresh"));
  evict_->setObjectName(QStringLiteral("userEvict"));
  refresh_->setToolTip(QStringLiteral("Reload what the tab in front shows (the user, the selected entry or the mood "
                                      "statistics) from PostgreSQL and write it to L1 and L2. Audited."));
  evict_->setToolTip(QStringLiteral("Drop the cached copies (L1 and L2) of what the tab in front shows; the database "
                                    "keeps it. Audited."));
  actions->addWidget(refresh_);
  actions->addWidget(evict_);
  result_->setObjectName(QStringLiteral("userActionResult"));
  result_->setWordWrap(true);
  result_->setTextFormat(Qt::RichText);
  actions->addWidget(result_, 1);
  rl->addLayout(actions);
  permission_->setObjectName(QStringLiteral("userPermission"));
  permission_->setStyleSheet(QStringLiteral("color:#c53030"));
  permission_->setWordWrap(true);
  permission_->hide();
  rl->addWidget(permission_);
  split->addWidget(right);
  split->setStretchFactor(1, 3);
  root->addWidget(split, 1);

  // The title takes the room; newest first until the person sorts otherwise.
  for (QTreeWidget* t : {entries_, sessions_}) {
    t->header()->setStretchLastSection(false);
    t->header()->setSectionResizeMode(1, QHeaderView::Stretch);
  }
  entries_->sortByColumn(3, Qt::DescendingOrder);
  sessions_->sortByColumn(4, Qt::DescendingOrder);
  results_->sortByColumn(3, Qt::DescendingOrder);
  mood_->sortByColumn(0, Qt::AscendingOrder);
  matches_->sortByColumn(0, Qt::AscendingOrder);

  connect(refresh_, &QPushButton::clicked, this, &UsersPage::onRefresh);
  connect(evict_, &QPushButton::clicked, this, &UsersPage::onEvict);
  connect(tabs_, &QTabWidget::currentChanged, this, [this] {
    showDetail();
    updateActions();
  });
  connect(entries_, &QTreeWidget::currentItemChanged, this, [this] {
    showDetail();
    updateActions();
  });
  connect(mood_, &QTreeWidget::currentItemChanged, this, [this] {
    showDetail();
    updateActions();
  });
  // A session opens in the Sessions page, which has its messages and tiers.
  connect(sessions_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
    const std::int64_t id = item->data(0, Qt::UserRole).toLongLong();
    auto* sessions = window()->findChild<SessionsPage*>();
    auto* tabs = sessions ? qobject_cast<QTabWidget*>(sessions->parentWidget()->parentWidget()) : nullptr;
    if (!sessions) return;
    sessions->search(QString::number(id));
    sessions->selectSession(id);
    if (tabs) tabs->setCurrentWidget(sessions);
  });

  if (service_) {
    connect(service_, &CoreService::coreReady, this, [this] {
      // A new connection: what is shown came from the old one.
      if (userId_ > 0) openUser(userId_);
    });
    connect(service_, &CoreService::capabilitiesAvailable, this, [this](const ops::Capabilities& c) {
      capabilities_ = c;
      updateActions();
    });
    connect(service_, &CoreService::connecting, this, [this] { updateActions(); });
    capabilities_ = service_->capabilities();
  }
  updateActions();
}

UsersPage::~UsersPage() = default;

QString UsersPage::statusText() const { return QTextDocumentFragment::fromHtml(status_->text()).toPlainText(); }
QString UsersPage::userFactsText() const { return userFacts_->property("plain").toString(); }
QString UsersPage::detailFactsText() const { return detailFacts_->property("plain").toString(); }
QString UsersPage::resultText() const { return QTextDocumentFragment::fromHtml(result_->text()).toPlainText(); }
QString UsersPage::searchStatusText() const {
  return QTextDocumentFragment::fromHtml(searchStatus_->text()).toPlainText();
}

void UsersPage::setStatus(const QString& text, const QString& tone) {
  status_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>").arg(toneColor(tone), text.toHtmlEscaped()));
}

void UsersPage::setResult(const QString& text, const QString& tone) {
  result_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>").arg(toneColor(tone), text.toHtmlEscaped()));
}

void UsersPage::find(const QString& text) {
  findEdit_->setText(text);
  debounce_->stop();
  startFind(text.trimmed());
}

void UsersPage::startFind(const QString& text) {
  if (text.isEmpty()) {
    matches_->clear();
    setStatus(QString());
    return;
  }
  if (!service_ || !service_->hasCore()) return setStatus(QStringLiteral("Not connected."), QStringLiteral("bad"));
  setStatus(QStringLiteral("Looking up…"));
  const std::string query = text.toStdString();
  service_->run<std::vector<ops::UserMatch>>(
      this, kFindSlot, [query](TierCore& core, JobContext&) { return ops::findUsers(core, query); },
      [this](std::vector<ops::UserMatch> found) {
        QSignalBlocker block(matches_);
        matches_->setSortingEnabled(false);
        matches_->clear();
        for (const auto& m : found) {
          auto* item = new Row(matches_);
          item->setText(0, QString::number(m.id));
          item->setData(0, Qt::UserRole, static_cast<qlonglong>(m.id));
          item->setText(1, qs(m.email));
          item->setToolTip(1, qs(m.email));
          item->setText(2, qs(m.display_name));
        }
        matches_->setSortingEnabled(true);
        matches_->resizeColumnToContents(0);
        matches_->resizeColumnToContents(1);
        const int n = static_cast<int>(found.size());
        setStatus(n == 0 ? QStringLiteral("No user matches.")
                         : QStringLiteral("%1 user%2").arg(n).arg(n == 1 ? QString() : QStringLiteral("s")),
                  n == 0 ? QStringLiteral("warn") : QString());
        if (n == 1) {
          matches_->setCurrentItem(matches_->topLevelItem(0));
          openUser(found.front().id);
        }
        Q_EMIT matchesShown(n);
      },
      [this](ErrorKind kind, const QString& message) { setStatus(describe(kind, message), QStringLiteral("bad")); });
}

void UsersPage::openUser(std::int64_t userId) {
  if (userId <= 0 || !service_) return;
  if (userId != userId_) {
    userId_ = userId;
    setResult(QString(), QString());
    // The list on the left shows who is open, or nothing selected when the
    // user came from elsewhere (a search hit).
    QSignalBlocker block(matches_);
    QTreeWidgetItem* listed = nullptr;
    for (int i = 0; i < matches_->topLevelItemCount(); ++i)
      if (matches_->topLevelItem(i)->data(0, Qt::UserRole).toLongLong() == userId) listed = matches_->topLevelItem(i);
    matches_->setCurrentItem(listed);
    if (!listed) matches_->clearSelection();
  }
  header_->setText(QStringLiteral("Loading user %1…").arg(userId));
  service_->run<ops::UserOverview>(
      this, kOverviewSlot, [userId](TierCore& core, JobContext&) { return ops::userOverview(core, userId); },
      [this, userId](ops::UserOverview o) {
        if (userId != userId_) return;
        showOverview(std::move(o));
        Q_EMIT overviewShown(userId);
      },
      [this, userId](ErrorKind kind, const QString& message) {
        if (userId != userId_) return;
        const QString sentence = describe(kind, message);
        header_->setText(QStringLiteral("<span style=\"color:#c53030\">%1</span>").arg(sentence.toHtmlEscaped()));
        Q_EMIT overviewFailed(sentence);
      });
}

void UsersPage::showOverview(ops::UserOverview o) {
  // Keep the selections across a refresh of the same user.
  const auto selected = [](QTreeWidget* t) {
    return t->currentItem() ? t->currentItem()->data(0, Qt::UserRole) : QVariant();
  };
  const QVariant entrySel = selected(entries_), moodSel = selected(mood_);
  overview_ = std::move(o);
  const auto& ov = *overview_;
  const repo::User* u = ov.user.l3 ? &*ov.user.l3 : ov.user.cached ? &*ov.user.cached : nullptr;
  header_->setText(u ? QStringLiteral("<b>%1</b> &lt;%2&gt; · user %3 · %4 · since %5")
                           .arg(qs(u->display_name).toHtmlEscaped(), qs(u->email).toHtmlEscaped(),
                                QString::number(u->id), qs(u->timezone).toHtmlEscaped(), timeText(u->created_at))
                     : QStringLiteral("user %1").arg(userId_));
  const auto [html, plain] = factsText(ov.user, QStringLiteral("the user"));
  userFacts_->setText(html);
  userFacts_->setProperty("plain", plain);

  auto fill = [](QTreeWidget* t, auto&& rows) {
    QSignalBlocker block(t);
    t->setSortingEnabled(false);
    t->clear();
    rows();
    t->setSortingEnabled(true);
  };
  fill(entries_, [&] {
    for (const auto& e : ov.entries) {
      const repo::JournalEntry* row = e.l3 ? &*e.l3 : e.cached ? &*e.cached : nullptr;
      auto* item = new Row(entries_);
      item->setText(0, QString::number(e.entry_id));
      item->setData(0, Qt::UserRole, static_cast<qlonglong>(e.entry_id));
      item->setText(1, row ? qs(row->title) : QString());
      item->setToolTip(1, row ? qs(row->title) : QString());
      item->setText(2, row ? QString::number(row->mood_score) : QString());
      item->setData(2, Qt::UserRole, row ? row->mood_score : 0);
      item->setText(3, row ? timeText(row->updated_at) : QString());
      item->setData(3, Qt::UserRole, static_cast<double>(row ? row->updated_at : 0));
      item->setText(4, whereText(e));
      if (e.stale) item->setForeground(4, QColor(0xc5, 0x30, 0x30));
      item->setText(5, e.l2.present ? formatTtl(e.l2_ttl_s) : QStringLiteral("-"));
      item->setData(5, Qt::UserRole, static_cast<double>(e.l2_ttl_s));
    }
  });
  tabs_->setTabText(EntriesTab, QStringLiteral("Journal entries (%1 of %2)")
                                    .arg(QLocale().toString(static_cast<qlonglong>(ov.entries.size())),
                                         QLocale().toString(ov.entry_count)));
  fill(sessions_, [&] {
    for (std::size_t i = 0; i < ov.sessions.size(); ++i) {
      const auto& s = ov.sessions[i];
      const ops::SessionWhere& w = ov.session_where[i];
      auto* item = new Row(sessions_);
      item->setText(0, QString::number(s.id));
      item->setData(0, Qt::UserRole, static_cast<qlonglong>(s.id));
      item->setText(1, qs(s.title));
      item->setText(2, qs(s.status));
      item->setText(3, QLocale().toString(s.message_count));
      item->setData(3, Qt::UserRole, s.message_count);
      item->setText(4, timeText(s.last_active_at));
      item->setData(4, Qt::UserRole, static_cast<double>(s.last_active_at));
      QStringList tiers;
      if (w.l1) tiers << QStringLiteral("L1");
      if (w.l2) tiers << QStringLiteral("L2");
      QString where = tiers.isEmpty() ? QStringLiteral("database only") : tiers.join(QStringLiteral(" + "));
      if (w.stale) where += QStringLiteral(" · stale");
      if (!w.l2_known) where += QStringLiteral(" · L2 unknown");
      item->setText(5, where);
      if (w.stale) item->setForeground(5, QColor(0xc5, 0x30, 0x30));
      item->setText(6, w.l2 ? formatTtl(w.l2_ttl_s) : QStringLiteral("-"));
      item->setData(6, Qt::UserRole, static_cast<double>(w.l2_ttl_s));
      item->setToolTip(0, QStringLiteral("Double-click: open in the Sessions page (messages and tiers)"));
    }
  });
  tabs_->setTabText(SessionsTab, QStringLiteral("Chat sessions (%1)").arg(QLocale().toString(ov.session_count)));
  fill(mood_, [&] {
    for (const auto& st : ov.stats) {
      const repo::MoodStats* m = st.l3 ? &*st.l3 : st.cached ? &*st.cached : nullptr;
      auto* item = new Row(mood_);
      item->setText(0, QStringLiteral("%1 days").arg(st.period_days));
      item->setData(0, Qt::UserRole, st.period_days);
      item->setText(1, m ? QLocale().toString(static_cast<qlonglong>(m->entries)) : QString());
      item->setText(2, m && m->entries > 0 ? QString::number(m->avg_mood, 'f', 2) : QStringLiteral("-"));
      item->setText(3, m && m->entries > 0 ? QString::number(m->min_mood) : QStringLiteral("-"));
      item->setText(4, m && m->entries > 0 ? QString::number(m->max_mood) : QStringLiteral("-"));
      item->setText(5, whereText(st));
      if (st.stale) item->setForeground(5, QColor(0xc5, 0x30, 0x30));
    }
  });
  for (int i : {0, 2, 3, 4, 5}) entries_->resizeColumnToContents(i);
  for (int i : {0, 2, 3, 4, 5, 6}) sessions_->resizeColumnToContents(i);
  auto reselect = [](QTreeWidget* t, const QVariant& v) {
    for (int i = 0; v.isValid() && i < t->topLevelItemCount(); ++i)
      if (t->topLevelItem(i)->data(0, Qt::UserRole) == v) return t->setCurrentItem(t->topLevelItem(i));
    if (t->topLevelItemCount() > 0) t->setCurrentItem(t->topLevelItem(0));
  };
  reselect(entries_, entrySel);
  reselect(mood_, moodSel);
  showDetail();
  updateActions();
}

// Below the tabs: the tiers of the selected entry or mood period.
void UsersPage::showDetail() {
  QString html, plain;
  if (overview_ && tabs_->currentIndex() == EntriesTab && entries_->currentItem()) {
    const std::int64_t id = entries_->currentItem()->data(0, Qt::UserRole).toLongLong();
    for (const auto& e : overview_->entries)
      if (e.entry_id == id) std::tie(html, plain) = factsText(e, QStringLiteral("entry %1").arg(id));
  } else if (overview_ && tabs_->currentIndex() == MoodTab && mood_->currentItem()) {
    const int days = mood_->currentItem()->data(0, Qt::UserRole).toInt();
    for (const auto& st : overview_->stats)
      if (st.period_days == days) std::tie(html, plain) = factsText(st, QStringLiteral("the %1-day mood").arg(days));
  }
  detailFacts_->setText(html);
  detailFacts_->setProperty("plain", plain);
  detailFacts_->setVisible(!html.isEmpty());
}

std::optional<UsersPage::Target> UsersPage::target() const {
  if (!overview_ || userId_ <= 0) return std::nullopt;
  switch (tabs_->currentIndex()) {
    case ProfileTab:
    case SessionsTab: return Target{ops::Entity::User, userId_, QStringLiteral("user %1").arg(userId_)};
    case EntriesTab: {
      if (!entries_->currentItem()) return std::nullopt;
      const std::int64_t id = entries_->currentItem()->data(0, Qt::UserRole).toLongLong();
      return Target{ops::Entity::Entry, id, QStringLiteral("journal entry %1").arg(id)};
    }
    case MoodTab:
      return Target{ops::Entity::Stats, userId_, QStringLiteral("the mood statistics of user %1").arg(userId_)};
    default: return std::nullopt;
  }
}

ProfileTags UsersPage::profileTags() const { return service_ ? ui::profileTags(service_->settings()) : ProfileTags{}; }

void UsersPage::updateActions() {
  const auto t = target();
  const bool ready = t.has_value() && !actionRunning_;
  const ProfileTags tags = profileTags();
  const ops::Capability refresh = gateByProfile(allOf(capabilities_.warm, capabilities_.evict), tags);
  const ops::Capability evict = gateByProfile(capabilities_.evict, tags);
  refresh_->setEnabled(ready && refresh.allowed);
  evict_->setEnabled(ready && evict.allowed);
  refresh_->setText(t ? QStringLiteral("&Refresh %1 from database").arg(t->kind == ops::Entity::Stats
                                                                            ? QStringLiteral("mood statistics")
                                                                            : t->label)
                      : QStringLiteral("&Refresh from database"));
  evict_->setText(t ? QStringLiteral("&Evict %1").arg(t->kind == ops::Entity::Stats ? QStringLiteral("mood statistics")
                                                                                    : t->label)
                    : QStringLiteral("&Evict"));
  QStringList why;
  if (!refresh.allowed) why << QStringLiteral("Refresh from database: %1").arg(qs(refresh.reason));
  if (!evict.allowed) why << QStringLiteral("Evict: %1").arg(qs(evict.reason));
  permission_->setText(why.join(QLatin1Char('\n')));
  permission_->setVisible(!why.isEmpty() && t.has_value());
}

void UsersPage::onRefresh() {
  const auto t = target();
  if (!t || actionRunning_ || profileTags().read_only) return updateActions();
  runAction(*t, false);
}

void UsersPage::onEvict() {
  const auto t = target();
  if (!t || actionRunning_ || profileTags().read_only) return updateActions();
  if (findChild<QDialog*>(QStringLiteral("userEvictConfirmation"))) return;  // already asking
  const ProfileTags tags = profileTags();
  const QString question = QStringLiteral("Evict %1 from L1 and L2?").arg(t->label);
  const QString detail = QStringLiteral("The database keeps it; the next read loads it again. The eviction is "
                                        "recorded in the audit log.");
  const Target chosen = *t;
  confirmDestructive(this, tags,
                     {QStringLiteral("Evict %1").arg(chosen.label), question, detail, QStringLiteral("&Evict"),
                      QString::number(chosen.id), QStringLiteral("userEvictConfirmation")},
                     [this, chosen] { runAction(chosen, true); });
}

void UsersPage::runAction(const Target& t, bool evict) {
  if (actionRunning_ || !service_) return;
  actionRunning_ = true;
  setResult(evict ? QStringLiteral("Evicting %1…").arg(t.label) : QStringLiteral("Refreshing %1…").arg(t.label),
            QString());
  updateActions();
  const auto kind = t.kind;
  const auto id = t.id;
  service_->run<bool>(
      this, kActionSlot,
      [kind, id, evict](TierCore& core, JobContext&) {
        if (evict) return ops::evictEntity(core, kind, id);
        ops::refreshEntity(core, kind, id);
        return true;
      },
      [this, t, evict](bool had) {
        actionRunning_ = false;
        const QString text =
            evict ? QStringLiteral("Evicted %1 from L1 and L2 (%2). Recorded in the audit log.")
                        .arg(t.label, had ? QStringLiteral("Redis held a copy") : QStringLiteral("Redis held no copy"))
                  : QStringLiteral("Reloaded %1 from the database and wrote it to L1 and L2. Recorded in the audit log.")
                        .arg(t.label);
        setResult(text, QStringLiteral("ok"));
        openUser(userId_);  // the rows and facts show the new state
        Q_EMIT actionFinished(true, text);
      },
      [this](ErrorKind kind, const QString& message) {
        actionRunning_ = false;
        const QString text = describe(kind, message);
        setResult(text, QStringLiteral("bad"));
        openUser(userId_);
        Q_EMIT actionFinished(false, text);
      });
}

void UsersPage::searchEntries(const QString& text) {
  searchEdit_->setText(text);
  tabs_->setCurrentIndex(SearchTab);
  if (!service_ || !service_->hasCore()) {
    searchStatus_->setText(QStringLiteral("<span style=\"color:#c53030\">Not connected.</span>"));
    return;
  }
  const std::string query = text.toStdString();
  const std::int64_t user = onlyUser_->isChecked() ? userId_ : 0;
  searchStatus_->setText(QStringLiteral("Searching…"));
  service_->run<repo::SearchResult>(
      this, kSearchSlot,
      [query, user](TierCore& core, JobContext&) {
        repo::EntrySearch search(core.cache(), core.pg());
        return search.search(query, user);
      },
      [this](repo::SearchResult r) {
        QSignalBlocker block(results_);
        results_->setSortingEnabled(false);
        results_->clear();
        const QString start = QString::fromLatin1(repo::EntrySearch::kMarkStart);
        const QString stop = QString::fromLatin1(repo::EntrySearch::kMarkStop);
        for (const auto& h : r.hits) {
          auto* item = new Row(results_);
          item->setText(0, QString::number(h.entry_id));
          item->setData(0, Qt::UserRole, static_cast<qlonglong>(h.entry_id));
          item->setText(1, QString::number(h.user_id));
          item->setData(1, Qt::UserRole, static_cast<qlonglong>(h.user_id));
          item->setText(2, qs(h.title));
          item->setText(3, QString::number(h.rank, 'f', 3));
          item->setData(3, Qt::UserRole, h.rank);
          // The matched words between the core's marks, shown as «word».
          QString snippet = qs(h.snippet);
          snippet.replace(start, QStringLiteral("«")).replace(stop, QStringLiteral("»"));
          item->setText(4, snippet);
          item->setToolTip(4, snippet);
        }
        results_->setSortingEnabled(true);
        for (int i : {0, 1, 3}) results_->resizeColumnToContents(i);
        results_->setColumnWidth(2, std::max(results_->columnWidth(2), fontMetrics().horizontalAdvance(QLatin1Char('M')) * 16));
        const QString from = r.source == cache::Source::L1 || r.source == cache::Source::L2
                                 ? QStringLiteral("from the cache")
                                 : QStringLiteral("from PostgreSQL");
        const QString scope = r.user_id > 0 ? QStringLiteral("user %1").arg(r.user_id) : QStringLiteral("every user");
        const int n = static_cast<int>(r.hits.size());
        searchStatus_->setText(QStringLiteral("%1 hit%2 over %3, %4. Double-click opens the entry.")
                                   .arg(n)
                                   .arg(n == 1 ? QString() : QStringLiteral("s"))
                                   .arg(scope, from)
                                   .toHtmlEscaped());
        Q_EMIT searchShown(n);
      },
      [this](ErrorKind kind, const QString& message) {
        const QString sentence = describe(kind, message);
        searchStatus_->setText(QStringLiteral("<span style=\"color:#c53030\">%1</span>").arg(sentence.toHtmlEscaped()));
        Q_EMIT searchFailed(sentence);
      });
}

void UsersPage::prepareScreenshot() {
  connect(this, &UsersPage::overviewShown, this, [this](std::int64_t) { tabs_->setCurrentIndex(EntriesTab); },
          Qt::SingleShotConnection);
  find(QStringLiteral("1"));
}

QWidget* createUsersPage(CoreService* service, QWidget* parent) { return new UsersPage(service, parent); }

}  // namespace tier::ui
