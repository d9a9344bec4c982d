#pragma once
// Invalidate: by key, by glob pattern within a namespace, by namespace, by user.
//
// Flow: the fields are validated on every edit (ops::validate is pure, so it
// runs on the GUI thread) and a bad input is a plain sentence before anything
// runs. Preview is a dry run on a worker: the exact count and a sample. Run
// counts first (or reuses a preview of the same request from the last 30 s),
// then asks; above the confirmation threshold the person types the namespace
// (or the key / user id). The run shows progress and can be cancelled; the
// summary says matched, deleted, L1 copies dropped, time and the audit row.
//
// Threads: GUI thread only; every core call goes through CoreService::run.
#include <QGroupBox>
#include <QPointer>

#include <optional>

#include "common/core_service.h"
#include "common/job_state.h"
#include "tier/ops/invalidation.h"

class QAction;
class QButtonGroup;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;

namespace tier::ui {

class ConfirmInvalidateDialog;
class SampleKeysModel;

class InvalidatePanel : public QGroupBox {
  Q_OBJECT
 public:
  explicit InvalidatePanel(CoreService* service, QWidget* parent = nullptr);
  ~InvalidatePanel() override;  // cancels a running job (its result is dropped)

  QAction* previewAction() const { return previewAction_; }
  QAction* runAction() const { return runAction_; }

  bool busy() const { return job_.running(); }
  // Another operation is running on the page: no new job may start here.
  void setLocked(bool locked);
  // From the capability probe: when not allowed, Run is disabled and says why.
  void setPermitted(bool allowed, const QString& reason);

  // The request the fields describe (not validated).
  ops::InvalidateRequest request() const;
  // The plain sentence for invalid fields; empty when they are valid (or still empty).
  QString validationMessage() const { return invalidReason_; }
  const std::optional<ops::InvalidateResult>& lastPreview() const { return preview_; }
  const std::optional<ops::InvalidateResult>& lastRun() const { return lastRun_; }
  QString errorText() const;
  // Why Invalidate… is disabled although the fields are valid (e.g. the preview matched nothing); else empty.
  QString runBlockedText() const;
  SampleKeysModel* sampleModel() const { return sampleModel_; }

  // Matches above this many keys require typing to confirm.
  // QSettings "operations/confirm_threshold", default 1,000.
  static int confirmThreshold();
  static void setConfirmThreshold(int keys);
  // On a production-tagged profile, typing is required above this many keys
  // whatever the threshold above says, and always for a namespace bump.
  static constexpr int kProductionConfirmAbove = 5;

  // Fills the fields with a pattern and previews it, if idle (used by the screenshot tour).
  void showPatternPreview(const QString& ns, const QString& glob);

 public Q_SLOTS:
  void onPreviewTriggered();
  void onRunTriggered();
  void cancel();
  // The console is connecting elsewhere: nothing counted or confirmed here may
  // carry over to the new servers.
  // `previous`: the profile being left, named in what replaces the cleared results.
  void onConnectionChanged(const QString& previous = {});

 Q_SIGNALS:
  void jobStarted();
  void jobFinished();
  void previewFinished();
  void runFinished();
  void failed(const QString& sentence);
  void confirmationRequested(tier::ui::ConfirmInvalidateDialog* dialog);

 private Q_SLOTS:
  void onKindChanged();
  void onFieldsEdited();

 private:
  ops::InvalidateKind kind() const;
  QString currentNamespace() const;
  void revalidate();
  void updateActions();
  void startPreview(const ops::InvalidateRequest& req, bool thenConfirm);
  void askConfirmation(const ops::InvalidateRequest& req, long long matched);
  void startRun(const ops::InvalidateRequest& req, long long expected);
  void beginJob(const QString& status);
  void endJob();
  void onProgress(double fraction, const QString& message);
  void onError(ErrorKind kind, const QString& message);
  void showPreview(const ops::InvalidateResult& r);
  void showRun(const ops::InvalidateResult& r);
  void showSummary(const ops::InvalidateResult& r);
  void setHeadline(const QString& text, const QString& colour = {});

  CoreService* service_;
  QAction* previewAction_;
  QAction* runAction_;
  QButtonGroup* kindGroup_;
  QComboBox* namespaceCombo_;
  QLabel* namespaceLabel_;
  QLabel* targetLabel_;
  QLabel* prefixLabel_;
  QLineEdit* targetEdit_;
  QLabel* validation_;
  QLabel* runBlocked_;
  QPushButton* previewButton_;
  QPushButton* runButton_;
  QPushButton* cancelButton_;
  QSpinBox* thresholdSpin_;
  QProgressBar* progress_;
  QLabel* status_;
  QLabel* headline_;
  QLabel* matchedValue_;
  QLabel* deletedValue_;
  QLabel* l1Value_;
  QLabel* timeValue_;
  QLabel* auditValue_;
  QLabel* sampleCaption_;
  SampleKeysModel* sampleModel_;
  QTableView* sampleView_;

  JobState job_;
  bool permitted_ = true;
  QString permissionReason_;
  bool valid_ = false;
  QString invalidReason_;
  std::optional<ops::InvalidateResult> preview_;
  qint64 previewAtMs_ = 0;
  std::optional<ops::InvalidateResult> lastRun_;
  QString error_;
  QPointer<ConfirmInvalidateDialog> dialog_;
};

}  // namespace tier::ui
