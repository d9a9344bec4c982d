#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QActionGroup>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QShortcut>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

#include "common/capability_gate.h"
#include "common/link_wording.h"
#include "dashboard/dashboard_page.h"

#include "settings/connection_dialog.h"
#include "settings/password_prompt.h"
#include "settings/profile_store.h"
#include "settings/settings_dialog.h"

namespace tier::ui {

namespace {
QString chipStyle(LinkState s) {
  // Colours that read on light and dark palettes alike.
  switch (s) {
    case LinkState::Connected: return QStringLiteral("background:#1f8a4c;color:white;border-radius:8px;padding:2px 8px;");
    case LinkState::Degraded: return QStringLiteral("background:#b7791f;color:white;border-radius:8px;padding:2px 8px;");
    case LinkState::Down: return QStringLiteral("background:#c53030;color:white;border-radius:8px;padding:2px 8px;");
    case LinkState::Connecting:
    case LinkState::NotConnected:
    case LinkState::Disconnected: break;
  }
  return QStringLiteral("background:#4a5568;color:white;border-radius:8px;padding:2px 8px;");
}
// "&Alerts && audit" -> "Alerts & audit": a mnemonic's text as read.
QString plain(QString t) {
  t.replace(QStringLiteral("&&"), QString(QChar(1)));
  t.remove(QLatin1Char('&'));
  return t.replace(QChar(1), QLatin1Char('&'));
}
}  // namespace

QString chipText(const QString& name, const LinkStatus& s) {
  switch (s.state) {
    case LinkState::Connected:
      return QStringLiteral("%1 %2 · %3 ms").arg(name, s.version, QString::number(s.latency_ms, 'f', 2));
    case LinkState::Degraded:
    case LinkState::Down: return QStringLiteral("%1 %2").arg(name, linkStateWords(s));
    case LinkState::Connecting: return QStringLiteral("%1 connecting…").arg(name);
    case LinkState::Disconnected: return QStringLiteral("%1 not configured").arg(name);
    case LinkState::NotConnected: return QStringLiteral("%1 not connected").arg(name);
  }
  return name;
}

MainWindow::MainWindow(CoreService* service, QWidget* parent)
    : QMainWindow(parent), service_(service), tabs_(new QTabWidget(this)) {
  setWindowTitle(QStringLiteral("Tier Console"));
  setWindowIcon(QIcon(QStringLiteral(":/tierconsole/tierconsole.svg")));
  // A production or read-only profile is said by a full-width band above the tabs.
  profileBand_ = new QLabel(this);
  profileBand_->setObjectName(QStringLiteral("profileBand"));
  profileBand_->setTextFormat(Qt::PlainText);
  profileBand_->setAlignment(Qt::AlignCenter);
  profileBand_->hide();
  auto* central = new QWidget(this);
  auto* centralLayout = new QVBoxLayout(central);
  centralLayout->setContentsMargins(0, 0, 0, 0);
  centralLayout->setSpacing(0);
  centralLayout->addWidget(profileBand_);
  centralLayout->addWidget(tabs_, 1);
  setCentralWidget(central);
  tabs_->setDocumentMode(true);

  redisChip_ = new QLabel(this);
  pgChip_ = new QLabel(this);
  redisChip_->setObjectName(QStringLiteral("redisChip"));
  pgChip_->setObjectName(QStringLiteral("postgresChip"));
  profileChip_ = new QLabel(this);
  profileChip_->setObjectName(QStringLiteral("profileChip"));
  profileChip_->setTextFormat(Qt::PlainText);
  profileChip_->hide();
  statusBar()->addPermanentWidget(profileChip_);
  statusBar()->addPermanentWidget(redisChip_);
  statusBar()->addPermanentWidget(pgChip_);
  onRedisLinkChanged({});
  onPostgresLinkChanged({});

  connect(service_, &CoreService::redisLinkChanged, this, &MainWindow::onRedisLinkChanged);
  connect(service_, &CoreService::postgresLinkChanged, this, &MainWindow::onPostgresLinkChanged);
  connect(service_, &CoreService::coreFailed, this, &MainWindow::onCoreFailed);
  connect(service_, &CoreService::connecting, this, [this](const QString& what) { statusBar()->showMessage(what, 5000); });
  // Said once both servers answered, not when a core merely exists.
  connect(service_, &CoreService::connected, this,
          [this](const QString& profile) { statusBar()->showMessage(QStringLiteral("Connected as profile “%1”.").arg(profile), 5000); });
  // The settings of the next connection are in place when it starts connecting.
  connect(service_, &CoreService::connecting, this, &MainWindow::updateProfileTags);
  connect(service_, &CoreService::coreReady, this, &MainWindow::updateProfileTags);
  setupMenus();
  updateProfileTags();
  new PasswordPrompter(service_, this);
  restoreState();
}

MainWindow::~MainWindow() = default;

void MainWindow::setupMenus() {
  auto tip = [](QAction* a, const QString& what) {
    a->setToolTip(QStringLiteral("%1 (%2)").arg(what, a->shortcut().toString(QKeySequence::NativeText)));
    a->setStatusTip(what);
  };
  QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
  QAction* connectAction = file->addAction(QStringLiteral("&Connect…"));
  connectAction->setObjectName(QStringLiteral("connectAction"));
  connectAction->setShortcut(QKeySequence::Open);
  tip(connectAction, QStringLiteral("Choose a connection profile and connect"));
  connect(connectAction, &QAction::triggered, this, [this] {
    auto* d = new ConnectionDialog(service_, this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    connect(d, &QDialog::finished, this, &MainWindow::updateProfileTags);  // Save may have changed the tags
    d->open();
  });
  QAction* settingsAction = file->addAction(QStringLiteral("&Settings…"));
  settingsAction->setObjectName(QStringLiteral("settingsAction"));
  settingsAction->setShortcut(QKeySequence(QStringLiteral("Ctrl+,")));
  settingsAction->setMenuRole(QAction::PreferencesRole);
  tip(settingsAction, QStringLiteral("Thresholds, cache sizes and TTLs, refresh rate"));
  connect(settingsAction, &QAction::triggered, this, [this] {
    auto* d = new SettingsDialog(service_, this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    d->open();
  });
  file->addSeparator();
  QAction* quit = file->addAction(QStringLiteral("&Quit"));
  quit->setObjectName(QStringLiteral("quitAction"));
  quit->setShortcut(QKeySequence::Quit);
  quit->setMenuRole(QAction::QuitRole);
  tip(quit, QStringLiteral("Close the console (the workload stops)"));
  connect(quit, &QAction::triggered, this, &QWidget::close);

  // Filled by addPage() with the Dashboard's own toolbar actions (the same
  // QAction objects, so checked state and shortcuts stay one).
  viewMenu_ = menuBar()->addMenu(QStringLiteral("&View"));
  viewMenu_->setObjectName(QStringLiteral("viewMenu"));

  QMenu* help = menuBar()->addMenu(QStringLiteral("&Help"));
  QAction* keys = help->addAction(QStringLiteral("&Keyboard shortcuts"));
  keys->setObjectName(QStringLiteral("shortcutsAction"));
  keys->setShortcut(QKeySequence::HelpContents);
  tip(keys, QStringLiteral("Every shortcut of the console"));
  connect(keys, &QAction::triggered, this, [this] { showShortcuts(); });
  help->addSeparator();
  QAction* about = help->addAction(QStringLiteral("&About Tier Console"));
  about->setMenuRole(QAction::AboutRole);
  about->setStatusTip(QStringLiteral("Version and settings file"));
  connect(about, &QAction::triggered, this, [this] {
    QMessageBox::about(this, QStringLiteral("About Tier Console"),
                       QStringLiteral("<b>Tier Console %1</b><p>An operations console for the L1 / Redis / PostgreSQL "
                                      "cache of the journaling and AI-chat platform.</p><p>Qt %2. Settings: %3</p>")
                           .arg(QStringLiteral(TIER_VERSION), QString::fromLatin1(qVersion()), ProfileStore().fileName().toHtmlEscaped()));
  });
}

QString windowTitleFor(const QString& profile, bool production, bool readOnly) {
  QStringList tags;
  if (production) tags << QStringLiteral("PRODUCTION");
  if (readOnly) tags << QStringLiteral("READ-ONLY");
  if (tags.isEmpty()) return QStringLiteral("Tier Console");
  return QStringLiteral("Tier Console \u2014 %1 \u00b7 %2").arg(tags.join(QStringLiteral(" \u00b7 ")), profile);
}

void MainWindow::updateProfileTags() {
  const ProfileTags t = profileTags(service_->settings());
  setWindowTitle(windowTitleFor(t.profile, t.production, t.read_only));
  if (!t.any()) {
    profileBand_->hide();
    profileChip_->hide();
    return;
  }
  // Production wears its own colour; read-only alone a quiet slate.
  const QColor bg = t.production ? t.colour : QColor(QStringLiteral("#4a5568"));
  const QString fg = bg.lightnessF() > 0.6 ? QStringLiteral("black") : QStringLiteral("white");
  QStringList words;
  if (t.production) words << QStringLiteral("PRODUCTION");
  if (t.read_only) words << QStringLiteral("READ-ONLY");
  const QString tag = words.join(QStringLiteral(" \u00b7 "));
  QString band = QStringLiteral("%1  \u00b7  profile \u201c%2\u201d").arg(tag, t.profile);
  if (t.read_only)
    band += QStringLiteral("  \u00b7  destructive actions are disabled");
  else
    band += QStringLiteral("  \u00b7  destructive actions ask you to type to confirm");
  profileBand_->setText(band);
  profileBand_->setStyleSheet(
      QStringLiteral("background:%1;color:%2;font-weight:bold;padding:4px 8px;").arg(bg.name(), fg));
  profileBand_->setToolTip(t.read_only ? readOnlyReason(t) : QStringLiteral("This profile is tagged production."));
  profileBand_->show();
  profileChip_->setText(tag);
  profileChip_->setStyleSheet(
      QStringLiteral("background:%1;color:%2;font-weight:bold;border-radius:8px;padding:2px 8px;").arg(bg.name(), fg));
  profileChip_->setToolTip(profileBand_->text());
  profileChip_->show();
}

void MainWindow::addPage(QWidget* page, const QString& title, const QKeySequence& shortcut) {
  const int index = tabs_->addTab(page, title);
  tabs_->setTabToolTip(index, QStringLiteral("%1 (%2)").arg(title, shortcut.toString(QKeySequence::NativeText)));
  auto* sc = new QShortcut(shortcut, this);
  sc->setWhatsThis(QStringLiteral("Show the %1 page").arg(plain(title)));
  connect(sc, &QShortcut::activated, this, [this, index] { tabs_->setCurrentIndex(index); });

  auto* dash = qobject_cast<DashboardPage*>(page);
  if (!dash) return;
  dashboardPage_ = dash;
  viewMenu_->addAction(dash->pauseAction());
  QMenu* range = viewMenu_->addMenu(QStringLiteral("&Range"));
  range->setObjectName(QStringLiteral("viewRangeMenu"));
  for (int minutes : {1, 5, 15, 60})
    if (QAction* a = dash->rangeAction(minutes)) range->addAction(a);
  viewMenu_->addAction(dash->logScaleAction());
  viewMenu_->addSeparator();
  viewMenu_->addAction(dash->exportPngAction());
  viewMenu_->addAction(dash->exportChartAction());  // a submenu: one entry per chart
  viewMenu_->addAction(dash->exportCsvAction());
  dashboardActions_ = {dash->pauseAction(), dash->logScaleAction(), dash->exportPngAction(), dash->exportChartAction(),
                       dash->exportCsvAction()};
  dashboardActions_ += range->actions();
  // In the menu bar the actions' shortcuts would fire on every page (Space on a
  // button of Operations, Ctrl+L there toggles the load): only with the Dashboard in front.
  auto follow = [this] {
    const bool on = tabs_->currentWidget() == dashboardPage_;
    for (QAction* a : dashboardActions_) a->setEnabled(on);
  };
  connect(tabs_, &QTabWidget::currentChanged, this, follow);
  follow();
}

QList<MainWindow::ShortcutEntry> MainWindow::shortcutEntries() const {
  // The page a QObject lives on ("Dashboard"), or empty for the window itself.
  auto pageOf = [this](const QObject* o) -> QString {
    for (; o; o = o->parent())
      if (auto* w = qobject_cast<const QWidget*>(o); w && tabs_->indexOf(const_cast<QWidget*>(w)) >= 0)
        return plain(tabs_->tabText(tabs_->indexOf(const_cast<QWidget*>(w))));
    return {};
  };
  QList<ShortcutEntry> out;
  for (const QAction* a : findChildren<QAction*>()) {
    if (a->shortcuts().isEmpty()) continue;
    QString what = plain(a->text());
    if (a->actionGroup() && a->parent() == a->actionGroup()) what = QStringLiteral("Range: %1").arg(what);
    const QString page = pageOf(a);
    QString where = page.isEmpty() ? QStringLiteral("Everywhere") : page;
    if (viewMenu_->actions().contains(const_cast<QAction*>(a)) ||
        (a->actionGroup() && page == QLatin1String("Dashboard")))
      where += QStringLiteral(" (also View menu)");
    const QString tipText = a->toolTip() == plain(a->text()) ? QString() : a->toolTip();
    QStringList keys;
    for (const QKeySequence& k : a->shortcuts()) keys << k.toString(QKeySequence::NativeText);
    out.push_back({keys.join(QStringLiteral(", ")), what, where, tipText});
  }
  for (const QShortcut* sc : findChildren<QShortcut*>()) {
    if (sc->key().isEmpty()) continue;
    const QString page = pageOf(sc);
    out.push_back({sc->key().toString(QKeySequence::NativeText), sc->whatsThis(),
                   page.isEmpty() ? QStringLiteral("Everywhere") : page, QString()});
  }
  // Window-wide first, then page by page in tab order.
  auto rank = [this](const ShortcutEntry& e) {
    for (int i = 0; i < tabs_->count(); ++i)
      if (e.where.startsWith(plain(tabs_->tabText(i)))) return i + 1;
    return 0;
  };
  std::stable_sort(out.begin(), out.end(), [&](const ShortcutEntry& x, const ShortcutEntry& y) { return rank(x) < rank(y); });
  return out;
}

QWidget* MainWindow::showShortcuts() {
  auto* d = new QDialog(this);
  d->setObjectName(QStringLiteral("shortcutsDialog"));
  d->setAttribute(Qt::WA_DeleteOnClose);
  d->setWindowTitle(QStringLiteral("Keyboard shortcuts"));
  const QList<ShortcutEntry> entries = shortcutEntries();
  auto* table = new QTableWidget(int(entries.size()), 3, d);
  table->setObjectName(QStringLiteral("shortcutsTable"));
  table->setHorizontalHeaderLabels({QStringLiteral("Keys"), QStringLiteral("Action"), QStringLiteral("Where")});
  table->verticalHeader()->hide();
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setAlternatingRowColors(true);
  for (int i = 0; i < entries.size(); ++i) {
    const ShortcutEntry& e = entries[i];
    const QString fields[] = {e.keys, e.what, e.where};
    for (int c = 0; c < 3; ++c) {
      auto* item = new QTableWidgetItem(fields[c]);
      if (!e.detail.isEmpty()) item->setToolTip(e.detail);
      table->setItem(i, c, item);
    }
  }
  table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 8);
  table->resizeColumnsToContents();
  table->horizontalHeader()->setStretchLastSection(true);
  auto* note = new QLabel(QStringLiteral("Page shortcuts work while that page is in front. Read from the console's "
                                         "actions as they are now."),
                          d);
  note->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, d);
  connect(buttons, &QDialogButtonBox::rejected, d, &QDialog::close);
  auto* lay = new QVBoxLayout(d);
  lay->addWidget(table, 1);
  lay->addWidget(note);
  lay->addWidget(buttons);
  d->resize(640, 720);
  d->show();
  return d;
}

namespace {
// The chip's figure is a client-side round trip (PING / SELECT 1), not a server-side latency.
QString chipTip(const QString& name, const QString& probe, const LinkStatus& s) {
  if (s.state == LinkState::Connected)
    return QStringLiteral("%1 round trip (client): %2 %3 ms%4")
        .arg(name, probe, QString::number(s.latency_ms, 'f', 2),
             s.detail.isEmpty() ? QString() : QStringLiteral(" · ") + s.detail);
  if (isOutage(s.state)) return linkSentence(name, s);
  return s.detail.isEmpty() ? toText(s.state) : s.detail;
}
}  // namespace

void MainWindow::onRedisLinkChanged(const LinkStatus& s) {
  redisChip_->setText(chipText(QStringLiteral("Redis"), s));
  redisChip_->setStyleSheet(chipStyle(s.state));
  redisChip_->setToolTip(chipTip(QStringLiteral("Redis"), QStringLiteral("PING"), s));
}

void MainWindow::onPostgresLinkChanged(const LinkStatus& s) {
  pgChip_->setText(chipText(QStringLiteral("PostgreSQL"), s));
  pgChip_->setStyleSheet(chipStyle(s.state));
  pgChip_->setToolTip(chipTip(QStringLiteral("PostgreSQL"), QStringLiteral("SELECT 1"), s));
}

void MainWindow::onCoreFailed(const QString& message) { statusBar()->showMessage(message); }

void MainWindow::restoreState() {
  QSettings settings;
  if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1280, 820);
  QMainWindow::restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  settings.setValue(QStringLiteral("window/tab"), tabs_->currentIndex());
  QMainWindow::closeEvent(event);
}

}  // namespace tier::ui
