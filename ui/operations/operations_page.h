#pragma once
// The Operations page (engineers): Invalidate on top, Warm and Synthetic load
// below, all visible at once so each shortcut has one meaning on the page:
// Ctrl+P preview, Ctrl+Return invalidate, Esc cancel, Ctrl+W warm, Ctrl+L
// start/stop load. One invalidation or warm job runs at a time; the load runs
// independently. On every connection the credentials are probed
// (ops::probeCapabilities) and what they may not do is disabled with the reason.
//
// Threads: GUI thread only.
#include <QWidget>

#include "common/core_service.h"

class QAction;
class QLabel;
class QPushButton;
class QTimer;

namespace tier::ui {

class InvalidatePanel;
class LoadPanel;
class WarmPanel;

class OperationsPage : public QWidget {
  Q_OBJECT
 public:
  explicit OperationsPage(CoreService* service, QWidget* parent = nullptr);

  InvalidatePanel* invalidatePanel() const { return invalidate_; }
  WarmPanel* warmPanel() const { return warm_; }
  LoadPanel* loadPanel() const { return load_; }
  QAction* cancelAction() const { return cancelAction_; }
  bool capabilitiesKnown() const { return capabilitiesKnown_; }
  // What the credentials line says now, and the button that asks again after a failed check.
  QString credentialsText() const;
  QPushButton* retryButton() const { return retry_; }
  // How long a capability check may take before the page says it has no answer.
  static constexpr int kProbeTimeoutMs = 20'000;

 public Q_SLOTS:
  void onCancelTriggered();
  // For the docs' screenshot tour: previews entry:* (a dry run; deletes nothing).
  void prepareScreenshot();

 private:
  void applyCapabilities(const ops::Capabilities& c);

 public:

 Q_SIGNALS:
  void capabilitiesProbed();

 private Q_SLOTS:
  void onCoreReady();
  void onCoreFailed(const QString& message);
  void onRetry();

 private:
  CoreService* service_;
  InvalidatePanel* invalidate_;
  WarmPanel* warm_;
  LoadPanel* load_;
  QAction* cancelAction_;
  QLabel* credentials_;
  QPushButton* retry_;
  QTimer* probeTimeout_;
  bool capabilitiesKnown_ = false;
  QString profile_;  // the connection's profile, named when its results are cleared at the next switch
  void probeFailed(const QString& why);
};

}  // namespace tier::ui
