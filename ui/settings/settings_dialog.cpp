#include "settings/settings_dialog.h"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QCheckBox>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include "alerts/alert_notify.h"
#include "settings/profile_store.h"

namespace tier::ui {

namespace {
QDoubleSpinBox* msBox(QWidget* parent, const QString& tip) {
  auto* b = new QDoubleSpinBox(parent);
  b->setRange(0.01, 100'000);
  b->setDecimals(2);
  b->setSingleStep(0.5);
  b->setSuffix(QStringLiteral(" ms"));
  b->setToolTip(tip);
  return b;
}

QSpinBox* secondsBox(QWidget* parent, const QString& tip) {
  auto* b = new QSpinBox(parent);
  b->setRange(1, 30 * 86'400);
  b->setSuffix(QStringLiteral(" s"));
  b->setSingleStep(60);
  b->setToolTip(tip);
  return b;
}

QLabel* note(const QString& text, QWidget* parent) {
  auto* l = new QLabel(text, parent);
  l->setWordWrap(true);
  l->setForegroundRole(QPalette::PlaceholderText);
  return l;
}
}  // namespace

SettingsDialog::SettingsDialog(CoreService* service, QWidget* parent) : QDialog(parent), service_(service) {
  setWindowTitle(QStringLiteral("Settings"));
  setObjectName(QStringLiteral("settingsDialog"));
  auto* tabs = new QTabWidget(this);

  auto* thresholds = new QWidget(tabs);
  auto* tf = new QFormLayout(thresholds);
  hitRate_ = new QDoubleSpinBox(thresholds);
  hitRate_->setRange(0, 100);
  hitRate_->setDecimals(1);
  hitRate_->setSuffix(QStringLiteral(" %"));
  hitRate_->setToolTip(QStringLiteral("The share of reads served by L1 or L2 must stay above this (Phase 0B: > 80 %; 80.0 % itself is a violation)."));
  redisP99_ = msBox(thresholds, QStringLiteral("Redis command round trip (client), p99, must stay below this (Phase 0B: < 5 ms; 5.00 ms itself is a violation)."));
  sessionP99_ = msBox(thresholds, QStringLiteral("Session + recent messages retrieval, p99, must stay below this (Phase 0B: < 10 ms)."));
  dbP99_ = msBox(thresholds, QStringLiteral("PostgreSQL query latency, p99, must stay below this (Phase 0B: < 50 ms)."));
  knowledgeP99_ = msBox(thresholds, QStringLiteral("Knowledge-article lookup, p99, must stay below this (Phase 0B: < 2 ms)."));
  warnRatio_ = new QSpinBox(thresholds);
  warnRatio_->setRange(10, 100);
  warnRatio_->setSuffix(QStringLiteral(" % of the limit"));
  warnRatio_->setToolTip(QStringLiteral("A metric turns amber at this share of its limit (default 80 %)."));
  tf->addRow(QStringLiteral("Cache &hit rate above"), hitRate_);
  tf->addRow(QStringLiteral("&Redis command p99 below"), redisP99_);
  tf->addRow(QStringLiteral("&Session retrieval p99 below"), sessionP99_);
  tf->addRow(QStringLiteral("&Database query p99 below"), dbP99_);
  tf->addRow(QStringLiteral("&Knowledge lookup p99 below"), knowledgeP99_);
  tf->addRow(QStringLiteral("&Amber from"), warnRatio_);
  tf->addRow(note(QStringLiteral("Applied at once to the tiles, the charts' limit lines and the alerts."), thresholds));
  tabs->addTab(thresholds, QStringLiteral("&Thresholds"));

  auto* cache = new QWidget(tabs);
  auto* cf = new QFormLayout(cache);
  l1Entries_ = new QSpinBox(cache);
  l1Entries_->setRange(100, 50'000'000);
  l1Entries_->setSingleStep(10'000);
  l1Entries_->setToolTip(QStringLiteral("Most entries L1 (this process's memory) holds."));
  l1Megabytes_ = new QSpinBox(cache);
  l1Megabytes_->setRange(1, 64 * 1024);
  l1Megabytes_->setSuffix(QStringLiteral(" MB"));
  l1Megabytes_->setToolTip(QStringLiteral("Most memory L1 uses for values."));
  ttlEntry_ = secondsBox(cache, QStringLiteral("Journal entries in Redis (default 1 h)."));
  ttlSession_ = secondsBox(cache, QStringLiteral("Chat sessions in Redis (default 2 h)."));
  ttlUser_ = secondsBox(cache, QStringLiteral("User profiles in Redis (default 2 h)."));
  ttlStats_ = secondsBox(cache, QStringLiteral("Mood statistics in Redis (default 15 min)."));
  ttlKnowledge_ = secondsBox(cache, QStringLiteral("Knowledge articles in Redis (default 24 h)."));
  cf->addRow(QStringLiteral("L1 &entries"), l1Entries_);
  cf->addRow(QStringLiteral("L1 &memory"), l1Megabytes_);
  cf->addRow(QStringLiteral("TTL: journal &entries"), ttlEntry_);
  cf->addRow(QStringLiteral("TTL: chat &sessions"), ttlSession_);
  cf->addRow(QStringLiteral("TTL: &users"), ttlUser_);
  cf->addRow(QStringLiteral("TTL: &statistics"), ttlStats_);
  cf->addRow(QStringLiteral("TTL: &knowledge"), ttlKnowledge_);
  publish_ = new QCheckBox(QStringLiteral("&Publish this console's metrics to the fleet"), cache);
  publish_->setToolTip(QStringLiteral("Every process that embeds the core publishes its metrics to Redis under "
                                      "tier:fleet: (docs/fleet-protocol.md), so the Dashboard can chart the whole "
                                      "platform. Settings key metrics_publish; tierconsole --no-publish for one run."));
  cf->addRow(publish_);
  cf->addRow(note(QStringLiteral("Saved now, used from the next connect (File ▸ Connect…)."), cache));
  tabs->addTab(cache, QStringLiteral("&Cache"));

  auto* display = new QWidget(tabs);
  auto* df = new QFormLayout(display);
  refreshMs_ = new QSpinBox(display);
  refreshMs_->setRange(250, 60'000);
  refreshMs_->setSingleStep(250);
  refreshMs_->setSuffix(QStringLiteral(" ms"));
  refreshMs_->setToolTip(QStringLiteral("How often the charts and tiles take a new sample (default 1000 ms)."));
  df->addRow(QStringLiteral("&Refresh every"), refreshMs_);
  // No member: the box is found by name, so the dialog's header (and who includes it) stays as it was.
  auto* notify = new QCheckBox(QStringLiteral("&Notify when a threshold turns red while the window is hidden or minimized"), display);
  notify->setObjectName(QStringLiteral("notifyAlerts"));
  notify->setToolTip(QStringLiteral("A desktop notification from the system tray (none where there is no tray). "
                                    "Settings key notify_alerts."));
  notify->setChecked(notifyAlertsSetting());
  df->addRow(notify);
  df->addRow(note(QStringLiteral("Applied at once."), display));
  tabs->addTab(display, QStringLiteral("&Display"));

  auto* buttons = new QDialogButtonBox(
      QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::Apply | QDialogButtonBox::RestoreDefaults, this);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    apply();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, this, &SettingsDialog::apply);
  buttons->button(QDialogButtonBox::RestoreDefaults)->setToolTip(QStringLiteral("Put the brief's defaults in the fields (not saved until OK or Apply)."));
  connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
          [this] {
            setValues(ConnectionSettings{});
            if (auto* n = findChild<QCheckBox*>(QStringLiteral("notifyAlerts"))) n->setChecked(true);
          });

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(tabs);
  layout->addWidget(buttons);

  ConnectionSettings current = ProfileStore().loadSettings();
  // The live thresholds and refresh rate may differ from the file (--threshold...).
  current.thresholds = service_->settings().thresholds;
  current.refresh_ms = service_->settings().refresh_ms;
  current.metrics_publish = ProfileStore().loadSettings().metrics_publish;
  setValues(current);
}

void SettingsDialog::setValues(const ConnectionSettings& s) {
  hitRate_->setValue(s.thresholds.hit_rate_min * 100.0);
  redisP99_->setValue(s.thresholds.redis_p99_ms);
  sessionP99_->setValue(s.thresholds.session_p99_ms);
  dbP99_->setValue(s.thresholds.db_query_p99_ms);
  knowledgeP99_->setValue(s.thresholds.knowledge_p99_ms);
  warnRatio_->setValue(qRound(s.thresholds.warn_ratio * 100.0));
  l1Entries_->setValue(static_cast<int>(std::min<std::size_t>(s.l1_max_entries, 50'000'000)));
  l1Megabytes_->setValue(static_cast<int>(std::max<std::size_t>(1, s.l1_max_bytes >> 20)));
  ttlEntry_->setValue(static_cast<int>(s.policies.entry.ttl.count()));
  ttlSession_->setValue(static_cast<int>(s.policies.session.ttl.count()));
  ttlUser_->setValue(static_cast<int>(s.policies.user.ttl.count()));
  ttlStats_->setValue(static_cast<int>(s.policies.stats.ttl.count()));
  ttlKnowledge_->setValue(static_cast<int>(s.policies.knowledge.ttl.count()));
  refreshMs_->setValue(s.refresh_ms);
  publish_->setChecked(s.metrics_publish);
}

ConnectionSettings SettingsDialog::values() const {
  ConnectionSettings s = service_->settings();
  s.thresholds.hit_rate_min = hitRate_->value() / 100.0;
  s.thresholds.redis_p99_ms = redisP99_->value();
  s.thresholds.session_p99_ms = sessionP99_->value();
  s.thresholds.db_query_p99_ms = dbP99_->value();
  s.thresholds.knowledge_p99_ms = knowledgeP99_->value();
  s.thresholds.warn_ratio = warnRatio_->value() / 100.0;
  s.l1_max_entries = static_cast<std::size_t>(l1Entries_->value());
  s.l1_max_bytes = static_cast<std::size_t>(l1Megabytes_->value()) << 20;
  s.policies.entry.ttl = std::chrono::seconds(ttlEntry_->value());
  s.policies.session.ttl = std::chrono::seconds(ttlSession_->value());
  s.policies.user.ttl = std::chrono::seconds(ttlUser_->value());
  s.policies.stats.ttl = std::chrono::seconds(ttlStats_->value());
  s.policies.knowledge.ttl = std::chrono::seconds(ttlKnowledge_->value());
  s.refresh_ms = refreshMs_->value();
  s.metrics_publish = publish_->isChecked();
  return s;
}

void SettingsDialog::apply() {
  const ConnectionSettings s = values();
  ProfileStore().saveSettings(s);
  if (auto* n = findChild<QCheckBox*>(QStringLiteral("notifyAlerts"))) setNotifyAlertsSetting(n->isChecked());
  service_->setThresholds(s.thresholds);
  service_->setRefreshInterval(s.refresh_ms);
}

}  // namespace tier::ui
