#include "operations/operations_page.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include "common/capability_gate.h"
#include "operations/action_button.h"
#include "operations/invalidate_panel.h"
#include "operations/load_panel.h"
#include "operations/warm_panel.h"
#include "pages.h"
#include "settings/profile_store.h"
#include "tier/ops/capabilities.h"

namespace tier::ui {

OperationsPage::OperationsPage(CoreService* service, QWidget* parent) : QWidget(parent), service_(service) {
  setObjectName(QStringLiteral("operationsPage"));
  invalidate_ = new InvalidatePanel(service, this);
  warm_ = new WarmPanel(service, this);
  load_ = new LoadPanel(service, this);

  credentials_ = new QLabel(this);
  credentials_->setObjectName(QStringLiteral("credentialsLabel"));
  credentials_->setTextFormat(Qt::PlainText);
  credentials_->setWordWrap(true);
  QPalette pal = credentials_->palette();
  pal.setColor(QPalette::WindowText, palette().color(QPalette::Disabled, QPalette::WindowText));
  credentials_->setPalette(pal);
  credentials_->setText(QStringLiteral("Checking what these credentials may do…"));
  retry_ = new QPushButton(QStringLiteral("Check a&gain"), this);
  retry_->setObjectName(QStringLiteral("capabilitiesRetry"));
  retry_->setToolTip(QStringLiteral("Ask the servers again what these credentials may do (reconnects first if not connected)"));
  retry_->hide();
  connect(retry_, &QPushButton::clicked, this, &OperationsPage::onRetry);
  // A check that never answers must not read "Checking…" for ever.
  probeTimeout_ = new QTimer(this);
  probeTimeout_->setSingleShot(true);
  probeTimeout_->setInterval(kProbeTimeoutMs);
  connect(probeTimeout_, &QTimer::timeout, this, [this] {
    probeFailed(QStringLiteral("no answer after %1 s").arg(kProbeTimeoutMs / 1000));
  });

  cancelAction_ = new QAction(QStringLiteral("Cancel"), this);
  cancelAction_->setObjectName(QStringLiteral("cancelAction"));
  cancelAction_->setShortcut(QKeySequence(Qt::Key_Escape));
  cancelAction_->setToolTip(withShortcut(QStringLiteral("Cancel the running invalidation or warm"), cancelAction_->shortcut()));
  connect(cancelAction_, &QAction::triggered, this, &OperationsPage::onCancelTriggered);

  // Shortcuts work wherever the focus is on this page (and only here).
  for (QAction* a : {invalidate_->previewAction(), invalidate_->runAction(), cancelAction_, warm_->warmAction(),
                     load_->toggleAction()}) {
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(a);
  }

  // One heavy job at a time: an invalidation and a warm would race for the same keys.
  connect(invalidate_, &InvalidatePanel::jobStarted, warm_, [this] { warm_->setLocked(true); });
  connect(invalidate_, &InvalidatePanel::jobFinished, warm_, [this] { warm_->setLocked(false); });
  connect(warm_, &WarmPanel::jobStarted, invalidate_, [this] { invalidate_->setLocked(true); });
  connect(warm_, &WarmPanel::jobFinished, invalidate_, [this] { invalidate_->setLocked(false); });

  auto* bottom = new QHBoxLayout;
  bottom->addWidget(warm_, 3);
  bottom->addWidget(load_, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(invalidate_, 3);
  layout->addLayout(bottom, 2);
  auto* credentialsRow = new QHBoxLayout;
  credentialsRow->addWidget(credentials_, 1);
  credentialsRow->addWidget(retry_, 0, Qt::AlignTop);
  layout->addLayout(credentialsRow);

  connect(service_, &CoreService::coreReady, this, &OperationsPage::onCoreReady);
  connect(service_, &CoreService::coreFailed, this, &OperationsPage::onCoreFailed);
  // Re-probes (every 60 s, or after a link came back) may change what is allowed.
  connect(service_, &CoreService::capabilitiesAvailable, this, [this](const ops::Capabilities& c) {
    if (capabilitiesKnown_) applyCapabilities(c);
  });
  connect(service_, &CoreService::connecting, this, [this] {
    // settings() is already the new profile's: the one being left is remembered at coreReady.
    invalidate_->onConnectionChanged(profile_);
    warm_->onConnectionChanged(profile_);
    capabilitiesKnown_ = false;
    retry_->hide();
    credentials_->setText(QStringLiteral("Checking what these credentials may do…"));
  });
  if (service_->hasCore()) onCoreReady();
}

void OperationsPage::applyCapabilities(const ops::Capabilities& c) {
  capabilitiesKnown_ = true;
  probeTimeout_->stop();
  retry_->hide();
  invalidate_->setPermitted(c.invalidate.allowed, QString::fromStdString(c.invalidate.reason));
  warm_->setPermitted(c.warm.allowed, QString::fromStdString(c.warm.reason));
  QString who = QStringLiteral("Acting as Redis user %1 and PostgreSQL role %2.")
                    .arg(c.redis_user.empty() ? QStringLiteral("(none)") : QString::fromStdString(c.redis_user),
                         c.pg_role.empty() ? QStringLiteral("(unknown)") : QString::fromStdString(c.pg_role));
  if (!c.invalidate.allowed) who += QStringLiteral(" Invalidate is disabled: %1").arg(QString::fromStdString(c.invalidate.reason));
  if (!c.warm.allowed) who += QStringLiteral(" Warm is disabled: %1").arg(QString::fromStdString(c.warm.reason));
  if (!c.write_audit.allowed) who += QStringLiteral(" Runs cannot be audited: %1").arg(QString::fromStdString(c.write_audit.reason));
  // The profile's read-only tag greys out more than the credentials do: say so where they are said.
  if (const QString ro = readOnlyReason(profileTags(service_->settings())); !ro.isEmpty())
    who += QStringLiteral(" Invalidate, warm and load writes are disabled: %1").arg(ro);
  credentials_->setText(who);
}

void OperationsPage::onCancelTriggered() {
  invalidate_->cancel();
  warm_->cancel();
}

void OperationsPage::prepareScreenshot() {
  invalidate_->showPatternPreview(QStringLiteral("entry"), QStringLiteral("*"));
}

QString OperationsPage::credentialsText() const { return credentials_->text(); }

void OperationsPage::probeFailed(const QString& why) {
  probeTimeout_->stop();
  credentials_->setText(QStringLiteral("Could not check what these credentials may do: %1").arg(why));
  retry_->show();
}

void OperationsPage::onCoreFailed(const QString& message) {
  // Without a core no check will come: say so instead of "Checking…". (With
  // one, the failure is something else, e.g. the workload's.)
  if (service_->hasCore()) return;
  capabilitiesKnown_ = false;
  probeFailed(QStringLiteral("not connected: %1").arg(message));
}

void OperationsPage::onRetry() {
  retry_->hide();
  if (service_->hasCore()) {
    onCoreReady();
    return;
  }
  // Not connected: retrying means connecting again with the same settings.
  credentials_->setText(QStringLiteral("Connecting again…"));
  service_->connectTo(service_->settings());
}

void OperationsPage::onCoreReady() {
  profile_ = service_->settings().profile;
  capabilitiesKnown_ = false;
  retry_->hide();
  probeTimeout_->start();
  credentials_->setText(QStringLiteral("Checking what these credentials may do…"));
  service_->run<ops::Capabilities>(
      this, QStringLiteral("operations.capabilities"),
      [](TierCore& core, JobContext&) { return ops::probeCapabilities(core); },
      [this](ops::Capabilities c) {
        applyCapabilities(c);
        Q_EMIT capabilitiesProbed();
      },
      [this](ErrorKind k, QString m) {
        // The probe itself failing is no reason to refuse: the op's own error says what the server refuses.
        probeFailed(describe(k, m));
        Q_EMIT capabilitiesProbed();
      });
}

QWidget* createOperationsPage(CoreService* service, QWidget* parent) { return new OperationsPage(service, parent); }

}  // namespace tier::ui
