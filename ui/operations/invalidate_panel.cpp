#include "operations/invalidate_panel.h"

#include <QAction>
#include <QButtonGroup>
#include <QComboBox>
#include <QDateTime>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

#include "common/capability_gate.h"
#include "operations/action_button.h"
#include "operations/confirm_invalidate_dialog.h"
#include "operations/operations_models.h"
#include "settings/profile_store.h"
#include "tier/codec/keys.h"

namespace tier::ui {

namespace {

const QString kSlot = QStringLiteral("operations.invalidate");
const QString kThresholdKey = QStringLiteral("operations/confirm_threshold");
constexpr int kDefaultThreshold = 1000;
constexpr qint64 kPreviewReuseMs = 30'000;
constexpr int kPreviewSample = 100;
constexpr int kProgressSteps = 1000;

QString qs(const std::string& s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

bool sameRequest(const ops::InvalidateResult& preview, const ops::InvalidateRequest& req) {
  return preview.kind == req.kind && preview.target == req.target;
}

// Forwards the op's progress through the job's throttled channel, as a fraction and a sentence.
std::function<void(const ops::InvalidateProgress&)> forwardProgress(JobContext& ctx, bool dryRun, long long expected) {
  return [&ctx, dryRun, expected](const ops::InvalidateProgress& p) {
    // A run's bar follows deletions against the preview's count (so a cancelled run stays part-full).
    double fraction = -1;
    if (!dryRun && expected > 0)
      fraction = std::min(p.done ? 1.0 : 0.99, static_cast<double>(p.deleted) / static_cast<double>(expected));
    else if (p.done)
      fraction = 1;
    const QString text = dryRun ? QStringLiteral("Scanned %1 keys · %2 match").arg(formatCount(p.scanned), formatCount(p.matched))
                                : QStringLiteral("Scanned %1 · matched %2 · deleted %3")
                                      .arg(formatCount(p.scanned), formatCount(p.matched), formatCount(p.deleted));
    ctx.progress(fraction, text);
  };
}

QLabel* valueLabel(QWidget* parent, const QString& name) {
  auto* l = new QLabel(QStringLiteral("—"), parent);
  l->setObjectName(name);
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return l;
}

}  // namespace

int InvalidatePanel::confirmThreshold() {
  bool ok = false;
  const int v = QSettings().value(kThresholdKey, kDefaultThreshold).toInt(&ok);
  return ok && v >= 0 ? v : kDefaultThreshold;
}

void InvalidatePanel::setConfirmThreshold(int keys) { QSettings().setValue(kThresholdKey, std::max(0, keys)); }

InvalidatePanel::InvalidatePanel(CoreService* service, QWidget* parent)
    : QGroupBox(QStringLiteral("Invalidate"), parent), service_(service) {
  setObjectName(QStringLiteral("invalidatePanel"));

  previewAction_ = new QAction(QStringLiteral("&Preview"), this);
  previewAction_->setObjectName(QStringLiteral("previewAction"));
  previewAction_->setShortcut(QKeySequence(QStringLiteral("Ctrl+P")));
  previewAction_->setToolTip(withShortcut(QStringLiteral("Count and sample what matches; deletes nothing"),
                                          previewAction_->shortcut()));
  connect(previewAction_, &QAction::triggered, this, &InvalidatePanel::onPreviewTriggered);

  runAction_ = new QAction(QStringLiteral("&Invalidate…"), this);
  runAction_->setObjectName(QStringLiteral("runAction"));
  runAction_->setShortcut(QKeySequence(QStringLiteral("Ctrl+Return")));
  connect(runAction_, &QAction::triggered, this, &InvalidatePanel::onRunTriggered);

  // What: kind, namespace, target.
  kindGroup_ = new QButtonGroup(this);
  auto* kinds = new QHBoxLayout;
  struct KindChoice {
    const char* label;
    ops::InvalidateKind kind;
    const char* tip;
  };
  const KindChoice choices[] = {
      {"&Key", ops::InvalidateKind::Key, "One key, e.g. entry:v1:42."},
      {"Pa&ttern", ops::InvalidateKind::Pattern, "A glob within one namespace (SCAN + UNLINK in batches; never KEYS)."},
      {"&Namespace", ops::InvalidateKind::Namespace,
       "A whole namespace: its generation is bumped, so every cached copy becomes a miss at once (O(1))."},
      {"&User", ops::InvalidateKind::User, "Every cached key of one user: profile, entries, sessions, statistics."},
  };
  for (const auto& c : choices) {
    auto* radio = new QRadioButton(QString::fromLatin1(c.label), this);
    radio->setObjectName(QStringLiteral("kind_%1").arg(QLatin1String(ops::toString(c.kind))));
    radio->setToolTip(QString::fromLatin1(c.tip));
    kindGroup_->addButton(radio, static_cast<int>(c.kind));
    kinds->addWidget(radio);
  }
  kinds->addStretch(1);
  kindGroup_->button(static_cast<int>(ops::InvalidateKind::Pattern))->setChecked(true);

  namespaceCombo_ = new QComboBox(this);
  namespaceCombo_->setObjectName(QStringLiteral("namespaceCombo"));
  for (auto ns : codec::allNamespaces()) namespaceCombo_->addItem(QLatin1String(codec::toString(ns)));
  namespaceCombo_->setToolTip(QStringLiteral("The key namespace the pattern or invalidation is confined to."));
  namespaceLabel_ = new QLabel(QStringLiteral("Na&mespace:"), this);
  namespaceLabel_->setBuddy(namespaceCombo_);

  prefixLabel_ = new QLabel(this);
  prefixLabel_->setObjectName(QStringLiteral("patternPrefix"));
  QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  prefixLabel_->setFont(mono);
  targetEdit_ = new QLineEdit(this);
  targetEdit_->setObjectName(QStringLiteral("targetEdit"));
  targetEdit_->setFont(mono);
  targetEdit_->setClearButtonEnabled(true);
  targetEdit_->setMaxLength(4 * 1024 * 1024);  // so an oversized paste is reported at its real size
  targetLabel_ = new QLabel(QStringLiteral("T&arget:"), this);
  targetLabel_->setBuddy(targetEdit_);
  auto* targetRow = new QHBoxLayout;
  targetRow->setSpacing(2);
  targetRow->addWidget(prefixLabel_);
  targetRow->addWidget(targetEdit_, 1);

  validation_ = new QLabel(this);
  validation_->setObjectName(QStringLiteral("validationLabel"));
  validation_->setWordWrap(true);
  validation_->setTextFormat(Qt::PlainText);

  auto* form = new QFormLayout;
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form->addRow(QStringLiteral("Invalidate by:"), kinds);
  form->addRow(namespaceLabel_, namespaceCombo_);
  form->addRow(targetLabel_, targetRow);
  form->addRow(QString(), validation_);

  // Act: preview, run, cancel; the confirmation threshold.
  previewButton_ = new QPushButton(QStringLiteral("Preview"), this);
  previewButton_->setObjectName(QStringLiteral("previewButton"));
  bindButton(previewButton_, previewAction_);
  runButton_ = new QPushButton(QStringLiteral("Invalidate…"), this);
  runButton_->setObjectName(QStringLiteral("runButton"));
  bindButton(runButton_, runAction_);
  cancelButton_ = new QPushButton(QStringLiteral("Cancel"), this);
  cancelButton_->setObjectName(QStringLiteral("cancelButton"));
  cancelButton_->setToolTip(QStringLiteral("Stop the running scan or deletion between two batches (Esc)"));
  connect(cancelButton_, &QPushButton::clicked, this, &InvalidatePanel::cancel);

  thresholdSpin_ = new QSpinBox(this);
  thresholdSpin_->setObjectName(QStringLiteral("thresholdSpin"));
  thresholdSpin_->setRange(0, 100'000'000);
  thresholdSpin_->setSingleStep(100);
  thresholdSpin_->setGroupSeparatorShown(true);
  thresholdSpin_->setSuffix(QStringLiteral(" keys"));
  thresholdSpin_->setValue(confirmThreshold());
  thresholdSpin_->setKeyboardTracking(false);
  thresholdSpin_->setToolTip(
      QStringLiteral("When more keys than this match, confirming requires typing the namespace (or the key or user id)."));
  connect(thresholdSpin_, &QSpinBox::valueChanged, this, [](int v) { setConfirmThreshold(v); });
  auto* thresholdLabel = new QLabel(QStringLiteral("T&ype to confirm above"), this);
  thresholdLabel->setBuddy(thresholdSpin_);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(previewButton_);
  buttons->addWidget(runButton_);
  buttons->addWidget(cancelButton_);
  buttons->addStretch(1);
  buttons->addWidget(thresholdLabel);
  buttons->addWidget(thresholdSpin_);

  progress_ = new QProgressBar(this);
  progress_->setObjectName(QStringLiteral("invalidateProgress"));
  progress_->setRange(0, kProgressSteps);
  progress_->setValue(0);
  progress_->setTextVisible(false);
  status_ = new QLabel(QStringLiteral("Idle."), this);
  status_->setObjectName(QStringLiteral("invalidateStatus"));
  status_->setTextFormat(Qt::PlainText);

  // Result: headline, numbers, sample.
  headline_ = new QLabel(this);
  headline_->setObjectName(QStringLiteral("invalidateHeadline"));
  headline_->setWordWrap(true);
  headline_->setTextFormat(Qt::PlainText);
  headline_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont bold = headline_->font();
  bold.setBold(true);
  headline_->setFont(bold);
  headline_->setText(QStringLiteral("Preview first to see exactly what matches."));

  matchedValue_ = valueLabel(this, QStringLiteral("matchedValue"));
  deletedValue_ = valueLabel(this, QStringLiteral("deletedValue"));
  l1Value_ = valueLabel(this, QStringLiteral("l1Value"));
  timeValue_ = valueLabel(this, QStringLiteral("timeValue"));
  auditValue_ = valueLabel(this, QStringLiteral("auditValue"));
  auditValue_->setWordWrap(true);
  auto* summary = new QFormLayout;
  summary->addRow(QStringLiteral("Matched:"), matchedValue_);
  summary->addRow(QStringLiteral("Deleted:"), deletedValue_);
  summary->addRow(QStringLiteral("L1 copies dropped:"), l1Value_);
  summary->addRow(QStringLiteral("Time:"), timeValue_);
  summary->addRow(QStringLiteral("Audit:"), auditValue_);

  runBlocked_ = new QLabel(this);
  runBlocked_->setObjectName(QStringLiteral("runBlockedReason"));
  runBlocked_->setWordWrap(true);
  runBlocked_->setTextFormat(Qt::PlainText);
  runBlocked_->setForegroundRole(QPalette::PlaceholderText);
  runBlocked_->hide();

  auto* left = new QVBoxLayout;
  left->addLayout(form);
  left->addLayout(buttons);
  left->addWidget(runBlocked_);
  left->addSpacing(4);
  left->addWidget(progress_);
  left->addWidget(status_);
  left->addSpacing(6);
  left->addWidget(headline_);
  left->addLayout(summary);
  left->addStretch(1);

  sampleCaption_ = new QLabel(QStringLiteral("Sample of matching keys"), this);
  sampleCaption_->setObjectName(QStringLiteral("sampleCaption"));
  sampleModel_ = new SampleKeysModel(this);
  sampleView_ = new QTableView(this);
  sampleView_->setObjectName(QStringLiteral("sampleView"));
  sampleView_->setModel(sampleModel_);
  sampleView_->setFont(mono);
  sampleView_->setSelectionBehavior(QAbstractItemView::SelectRows);
  sampleView_->setAlternatingRowColors(true);
  sampleView_->setWordWrap(false);
  sampleView_->verticalHeader()->setVisible(false);
  sampleView_->verticalHeader()->setDefaultSectionSize(sampleView_->fontMetrics().height() + 6);
  sampleView_->horizontalHeader()->setSectionResizeMode(SampleKeysModel::KeyColumn, QHeaderView::Stretch);
  sampleView_->horizontalHeader()->setSectionResizeMode(SampleKeysModel::NamespaceColumn, QHeaderView::ResizeToContents);
  sampleView_->horizontalHeader()->setSectionResizeMode(SampleKeysModel::IdColumn, QHeaderView::ResizeToContents);
  sampleView_->setToolTip(QStringLiteral("The first keys the last preview or run found (not the whole set)."));
  auto* right = new QVBoxLayout;
  right->addWidget(sampleCaption_);
  right->addWidget(sampleView_, 1);

  auto* layout = new QHBoxLayout(this);
  layout->addLayout(left, 3);
  layout->addSpacing(12);
  layout->addLayout(right, 2);

  connect(kindGroup_, &QButtonGroup::idToggled, this, [this](int, bool checked) {
    if (checked) onKindChanged();
  });
  connect(namespaceCombo_, &QComboBox::currentIndexChanged, this, &InvalidatePanel::onFieldsEdited);
  connect(targetEdit_, &QLineEdit::textChanged, this, &InvalidatePanel::onFieldsEdited);
  // Another profile may carry other tags (read-only greys Run out).
  connect(service_, &CoreService::connecting, this, [this] { updateActions(); });
  connect(service_, &CoreService::coreReady, this, [this] { updateActions(); });
  onKindChanged();
}

InvalidatePanel::~InvalidatePanel() = default;  // job_ stops the worker

ops::InvalidateKind InvalidatePanel::kind() const {
  return static_cast<ops::InvalidateKind>(std::max(0, kindGroup_->checkedId()));
}

QString InvalidatePanel::currentNamespace() const { return namespaceCombo_->currentText(); }

ops::InvalidateRequest InvalidatePanel::request() const {
  ops::InvalidateRequest req;
  req.kind = kind();
  switch (req.kind) {
    case ops::InvalidateKind::Key:
    case ops::InvalidateKind::User: req.target = targetEdit_->text().trimmed().toStdString(); break;
    case ops::InvalidateKind::Pattern: req.target = QString(currentNamespace() + QLatin1Char(':') + targetEdit_->text()).toStdString(); break;
    case ops::InvalidateKind::Namespace: req.target = currentNamespace().toStdString(); break;
  }
  return req;
}

QString InvalidatePanel::errorText() const { return error_; }

void InvalidatePanel::onKindChanged() {
  const auto k = kind();
  const bool usesNamespace = k == ops::InvalidateKind::Pattern || k == ops::InvalidateKind::Namespace;
  namespaceCombo_->setEnabled(usesNamespace);
  namespaceLabel_->setEnabled(usesNamespace);
  const bool usesTarget = k != ops::InvalidateKind::Namespace;
  targetEdit_->setEnabled(usesTarget);
  targetLabel_->setEnabled(usesTarget);
  prefixLabel_->setVisible(k == ops::InvalidateKind::Pattern);
  switch (k) {
    case ops::InvalidateKind::Key:
      targetLabel_->setText(QStringLiteral("K&ey:"));
      targetEdit_->setPlaceholderText(QStringLiteral("entry:v1:42"));
      break;
    case ops::InvalidateKind::Pattern:
      targetLabel_->setText(QStringLiteral("P&attern:"));
      targetEdit_->setPlaceholderText(QStringLiteral("* or v1:12* (glob: * ? [abc])"));
      if (targetEdit_->text().isEmpty()) targetEdit_->setText(QStringLiteral("*"));
      break;
    case ops::InvalidateKind::Namespace:
      targetLabel_->setText(QStringLiteral("T&arget:"));
      targetEdit_->setPlaceholderText(QStringLiteral("(the whole namespace)"));
      break;
    case ops::InvalidateKind::User:
      targetLabel_->setText(QStringLiteral("User &id:"));
      targetEdit_->setPlaceholderText(QStringLiteral("42"));
      break;
  }
  onFieldsEdited();
}

void InvalidatePanel::onFieldsEdited() {
  prefixLabel_->setText(currentNamespace() + QLatin1Char(':'));
  revalidate();
  updateActions();
}

void InvalidatePanel::revalidate() {
  const auto k = kind();
  valid_ = false;
  invalidReason_.clear();
  QString hint;
  if (k != ops::InvalidateKind::Namespace && targetEdit_->text().trimmed().isEmpty()) {
    hint = k == ops::InvalidateKind::Key       ? QStringLiteral("Type a key, e.g. entry:v1:42.")
           : k == ops::InvalidateKind::Pattern ? QStringLiteral("Type a glob after the prefix, e.g. * for every key.")
                                               : QStringLiteral("Type a user id, e.g. 42.");
  } else {
    try {
      ops::validate(request());
      valid_ = true;
    } catch (const Error& e) {
      invalidReason_ = describe(e.kind(), QString::fromStdString(redactSecrets(e.what())));
    }
  }
  QPalette pal = validation_->palette();
  if (!invalidReason_.isEmpty()) {
    pal.setColor(QPalette::WindowText, statusRed());
    validation_->setText(invalidReason_);
  } else {
    pal.setColor(QPalette::WindowText, palette().color(QPalette::Disabled, QPalette::WindowText));
    validation_->setText(hint);
  }
  validation_->setPalette(pal);
  validation_->setVisible(!validation_->text().isEmpty());
}

void InvalidatePanel::setLocked(bool locked) {
  job_.setLocked(locked);
  updateActions();
}

void InvalidatePanel::setPermitted(bool allowed, const QString& reason) {
  permitted_ = allowed;
  permissionReason_ = reason;
  updateActions();
}

void InvalidatePanel::updateActions() {
  const bool idle = job_.idle();
  // A read-only profile refuses the run as the credentials would; the preview stays allowed.
  const ProfileTags tags = profileTags(service_->settings());
  const ops::Capability credentials{permitted_, permissionReason_.toStdString()};
  const bool allowed = gateByProfile(credentials, tags).allowed;
  previewAction_->setEnabled(idle && valid_);
  // A pattern or user whose preview (of exactly these fields) matched nothing has nothing to delete:
  // running it would only write an audit row. A key still drops L1 copies; a namespace still bumps.
  QString nothing;
  if (valid_ && preview_ && !preview_->cancelled && preview_->matched == 0 && sameRequest(*preview_, request()) &&
      (preview_->kind == ops::InvalidateKind::Pattern || preview_->kind == ops::InvalidateKind::User))
    nothing =
        QStringLiteral(
            "Invalidate\u2026 is disabled: the preview at %1 matched no keys, so there is nothing to "
            "delete. Change the %2, or preview again if keys may have appeared since.")
            .arg(QDateTime::fromMSecsSinceEpoch(previewAtMs_).toString(QStringLiteral("HH:mm:ss")),
                 preview_->kind == ops::InvalidateKind::User ? QStringLiteral("user id") : QStringLiteral("pattern"));
  runAction_->setEnabled(idle && valid_ && allowed && nothing.isEmpty());
  runAction_->setToolTip(
      !allowed ? refusalText(credentials, tags)
      : !nothing.isEmpty()
          ? nothing
          : withShortcut(QStringLiteral("Delete what matches, after a confirmation"), runAction_->shortcut()));
  runButton_->setToolTip(runAction_->toolTip());  // a disabled action's changed() still syncs; be sure
  runBlocked_->setText(nothing);
  runBlocked_->setVisible(!nothing.isEmpty());
  cancelButton_->setEnabled(job_.cancellable());
  for (auto* b : kindGroup_->buttons()) b->setEnabled(idle);
  const auto k = kind();
  namespaceCombo_->setEnabled(idle && (k == ops::InvalidateKind::Pattern || k == ops::InvalidateKind::Namespace));
  targetEdit_->setEnabled(idle && k != ops::InvalidateKind::Namespace);
  thresholdSpin_->setEnabled(idle);
  const QString spinTip =
      QStringLiteral("When more keys than this match, confirming requires typing the namespace (or the key or user id).");
  thresholdSpin_->setToolTip(
      tags.production ? spinTip + QStringLiteral(" On the production profile \u2018%1\u2019 typing is required above %2 "
                                                 "keys and for a namespace, whatever this says.")
                                      .arg(tags.profile)
                                      .arg(kProductionConfirmAbove)
                      : spinTip);
}

void InvalidatePanel::beginJob(const QString& status) {
  job_.started();
  error_.clear();
  progress_->setRange(0, 0);  // busy until the first report says more
  progress_->setTextVisible(false);
  status_->setText(status);
  updateActions();
  Q_EMIT jobStarted();
}

void InvalidatePanel::endJob() {
  job_.finished();
  progress_->setRange(0, kProgressSteps);
  updateActions();
  Q_EMIT jobFinished();
}

void InvalidatePanel::onProgress(double fraction, const QString& message) {
  if (!job_.running()) return;
  if (fraction < 0) {
    progress_->setRange(0, 0);
  } else {
    progress_->setRange(0, kProgressSteps);
    progress_->setValue(static_cast<int>(fraction * kProgressSteps));
  }
  status_->setText(job_.cancelling() ? QStringLiteral("Cancelling… %1").arg(message) : message);
}

void InvalidatePanel::onError(ErrorKind kind, const QString& message) {
  endJob();
  progress_->setValue(0);
  error_ = describe(kind, message);
  status_->setText(QStringLiteral("Failed."));
  setHeadline(error_, statusRed().name());
  Q_EMIT failed(error_);
}

void InvalidatePanel::setHeadline(const QString& text, const QString& colour) {
  headline_->setText(text);
  QPalette pal = palette();
  if (!colour.isEmpty()) pal.setColor(QPalette::WindowText, QColor(colour));
  headline_->setPalette(pal);
}

void InvalidatePanel::cancel() {
  if (!job_.cancel()) return;
  status_->setText(QStringLiteral("Cancelling after the current batch…"));
  updateActions();
}

void InvalidatePanel::onConnectionChanged(const QString& previous) {
  cancel();
  if (dialog_) dialog_->reject();
  const bool shown = preview_.has_value() || lastRun_.has_value() || sampleModel_->rowCount() > 0;
  preview_.reset();
  lastRun_.reset();
  // What was counted or deleted there says nothing about these servers: cleared, and said so.
  sampleModel_->clear();
  sampleCaption_->setText(QStringLiteral("Sample of matching keys"));
  for (QLabel* l : {matchedValue_, deletedValue_, l1Value_, timeValue_, auditValue_}) l->clear();
  progress_->setValue(0);
  status_->setText(QStringLiteral("Idle."));
  if (shown)
    setHeadline(previous.isEmpty()
                    ? QStringLiteral("The results of the previous connection were cleared; preview again on this one.")
                    : QStringLiteral("The results of the previous connection (profile \u2018%1\u2019) were cleared; "
                                     "preview again on this one.")
                          .arg(previous));
  updateActions();
}

QString InvalidatePanel::runBlockedText() const {
  return runBlocked_->isHidden() ? QString() : runBlocked_->text();
}

void InvalidatePanel::showPatternPreview(const QString& ns, const QString& glob) {
  if (!job_.idle()) return;
  kindGroup_->button(static_cast<int>(ops::InvalidateKind::Pattern))->setChecked(true);
  namespaceCombo_->setCurrentIndex(std::max(0, namespaceCombo_->findText(ns)));
  targetEdit_->setText(glob);
  onPreviewTriggered();
}

void InvalidatePanel::onPreviewTriggered() {
  revalidate();
  if (!valid_ || !job_.idle()) return;
  startPreview(request(), false);
}

void InvalidatePanel::onRunTriggered() {
  revalidate();
  if (!valid_ || !job_.idle() || !permitted_) return;
  if (profileTags(service_->settings()).read_only) return updateActions();  // greyed out; a shortcut may still fire
  const auto req = request();
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (preview_ && !preview_->cancelled && sameRequest(*preview_, req) && now - previewAtMs_ <= kPreviewReuseMs)
    askConfirmation(req, preview_->matched);
  else
    startPreview(req, true);
}

void InvalidatePanel::startPreview(const ops::InvalidateRequest& req, bool thenConfirm) {
  ops::InvalidateRequest dry = req;
  dry.dry_run = true;
  dry.sample_size = kPreviewSample;
  beginJob(thenConfirm ? QStringLiteral("Counting what matches before asking…") : QStringLiteral("Scanning…"));
  job_ = service_->run<ops::InvalidateResult>(
      this, kSlot,
      [dry](TierCore& core, JobContext& ctx) {
        return ops::invalidate(core, dry, forwardProgress(ctx, true, 0), ctx.cancelFlag());
      },
      [this, thenConfirm, req](ops::InvalidateResult r) {
        endJob();
        showPreview(r);
        Q_EMIT previewFinished();
        if (thenConfirm && !r.cancelled) askConfirmation(req, r.matched);
      },
      [this](ErrorKind k, QString m) { onError(k, m); },
      [this](double f, QString m) { onProgress(f, m); });
}

void InvalidatePanel::showPreview(const ops::InvalidateResult& r) {
  progress_->setValue(r.cancelled ? 0 : kProgressSteps);
  const QString target = qs(r.target);
  if (r.cancelled) {
    status_->setText(QStringLiteral("Preview cancelled."));
    setHeadline(QStringLiteral("Preview cancelled after %1 matching keys; nothing was deleted.").arg(formatCount(r.matched)),
                statusAmber().name());
  } else {
    preview_ = r;
    previewAtMs_ = QDateTime::currentMSecsSinceEpoch();
    status_->setText(QStringLiteral("Preview done in %1.").arg(formatDuration(r.duration_ms)));
    QString text;
    switch (r.kind) {
      case ops::InvalidateKind::Key:
        text = r.matched > 0 ? QStringLiteral("Key %1 is in Redis.").arg(target)
                             : QStringLiteral("Key %1 is not in Redis; invalidating only drops this console's L1 copy.").arg(target);
        break;
      case ops::InvalidateKind::Pattern:
        text = QStringLiteral("%1 %2 match %3. Nothing was deleted.")
                   .arg(formatCount(r.matched), r.matched == 1 ? QStringLiteral("key") : QStringLiteral("keys"), target);
        break;
      case ops::InvalidateKind::Namespace:
        text = QStringLiteral("%1 keys carry namespace %2; invalidating makes every one a miss at once.")
                   .arg(formatCount(r.matched), target);
        break;
      case ops::InvalidateKind::User:
        text = QStringLiteral("User %1 has %2 cached keys. Nothing was deleted.").arg(target, formatCount(r.matched));
        break;
    }
    setHeadline(text);
  }
  showSummary(r);
  sampleModel_->setKeys(r.sample);
  sampleCaption_->setText(r.matched > static_cast<long long>(r.sample.size())
                              ? QStringLiteral("Sample: first %1 of %2 matching keys")
                                    .arg(formatCount(static_cast<long long>(r.sample.size())), formatCount(r.matched))
                              : QStringLiteral("Matching keys (%1)").arg(formatCount(r.matched)));
  updateActions();  // an empty preview disables Invalidate… (with the reason)
}

void InvalidatePanel::showSummary(const ops::InvalidateResult& r) {
  matchedValue_->setText(formatCount(r.matched));
  if (r.dry_run) {
    deletedValue_->setText(QStringLiteral("— (preview)"));
    l1Value_->setText(QStringLiteral("— (preview)"));
  } else if (r.kind == ops::InvalidateKind::Namespace) {
    deletedValue_->setText(QStringLiteral("none: generation bumped to %1").arg(r.new_generation));
    l1Value_->setText(formatCount(r.l1_dropped));
  } else {
    deletedValue_->setText(formatCount(r.deleted));
    l1Value_->setText(formatCount(r.l1_dropped));
  }
  timeValue_->setText(formatDuration(r.duration_ms));
  QPalette pal = palette();
  if (!r.audit_error.empty()) {
    auditValue_->setText(QStringLiteral("not written: %1").arg(qs(redactSecrets(r.audit_error))));
    pal.setColor(QPalette::WindowText, statusAmber());
  } else {
    auditValue_->setText(QStringLiteral("row #%1").arg(r.audit_id));
  }
  auditValue_->setPalette(pal);
}

void InvalidatePanel::askConfirmation(const ops::InvalidateRequest& req, long long matched) {
  const QString target = qs(req.target);
  const QString count = formatCount(matched);
  if (matched == 0 && (req.kind == ops::InvalidateKind::Pattern || req.kind == ops::InvalidateKind::User)) {
    setHeadline(QStringLiteral("Nothing matches %1: there is nothing to delete.").arg(target));
    return;
  }
  QString question, detail, action, typed;
  switch (req.kind) {
    case ops::InvalidateKind::Key:
      question = QStringLiteral("Delete key %1?").arg(target);
      detail = QStringLiteral("It is removed from Redis (L2) and from this console's memory (L1); the next read loads it "
                              "from PostgreSQL.");
      action = QStringLiteral("&Delete key");
      typed = target;
      break;
    case ops::InvalidateKind::Pattern:
      question = QStringLiteral("Delete %1 %2 matching %3?").arg(count, matched == 1 ? QStringLiteral("key") : QStringLiteral("keys"), target);
      detail = QStringLiteral("They are removed from Redis in batches (SCAN + UNLINK) and from this console's L1; the next "
                              "read of each loads it from PostgreSQL. Matching keys written after the preview go too.");
      action = QStringLiteral("&Delete keys");
      typed = currentNamespace();
      break;
    case ops::InvalidateKind::Namespace:
      question = QStringLiteral("Invalidate the whole %1 namespace (%2 keys now)?").arg(target, count);
      detail = QStringLiteral("Its generation is bumped: every cached copy becomes a miss at once, on every instance, and "
                              "is reloaded from PostgreSQL on its next read.");
      action = QStringLiteral("&Invalidate namespace");
      typed = target;
      break;
    case ops::InvalidateKind::User:
      question = QStringLiteral("Delete the %1 cached keys of user %2?").arg(count, target);
      detail = QStringLiteral("The user's profile, entries, sessions and mood statistics are removed from Redis and L1.");
      action = QStringLiteral("&Delete keys");
      typed = target;
      break;
  }
  detail += QStringLiteral(" The run is recorded in the audit log.");
  const int threshold = confirmThreshold();
  const ProfileTags tags = profileTags(service_->settings());
  if (tags.production && (req.kind == ops::InvalidateKind::Namespace || matched > kProductionConfirmAbove)) {
    detail += QStringLiteral(" This is the production profile \u2018%1\u2019, so please type to confirm.").arg(tags.profile);
  } else if (matched <= threshold) {
    typed.clear();
  } else {
    detail += QStringLiteral(" More than %1 keys are affected, so please type to confirm.").arg(formatCount(threshold));
  }

  auto* dialog = new ConfirmInvalidateDialog(question, detail, action, typed, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog_ = dialog;
  connect(dialog, &QDialog::accepted, this, [this, req, matched] { startRun(req, matched); });
  connect(dialog, &QDialog::rejected, this, [this] { status_->setText(QStringLiteral("Not run: the confirmation was cancelled.")); });
  dialog->open();
  Q_EMIT confirmationRequested(dialog);
}

void InvalidatePanel::startRun(const ops::InvalidateRequest& req, long long expected) {
  if (!job_.idle() || profileTags(service_->settings()).read_only) return;
  preview_.reset();  // what it counted is about to change
  beginJob(QStringLiteral("Invalidating…"));
  if (expected > 0) progress_->setRange(0, kProgressSteps), progress_->setValue(0);
  job_ = service_->run<ops::InvalidateResult>(
      this, kSlot,
      [req, expected](TierCore& core, JobContext& ctx) {
        return ops::invalidate(core, req, forwardProgress(ctx, false, expected), ctx.cancelFlag());
      },
      [this](ops::InvalidateResult r) {
        endJob();
        showRun(r);
        Q_EMIT runFinished();
      },
      [this](ErrorKind k, QString m) { onError(k, m); },
      [this](double f, QString m) { onProgress(f, m); });
}

void InvalidatePanel::showRun(const ops::InvalidateResult& r) {
  lastRun_ = r;
  const QString target = qs(r.target);
  progress_->setValue(r.cancelled ? progress_->value() : kProgressSteps);
  status_->setText(r.cancelled ? QStringLiteral("Cancelled.") : QStringLiteral("Done in %1.").arg(formatDuration(r.duration_ms)));
  if (r.cancelled) {
    setHeadline(QStringLiteral("Cancelled: %1 keys matching %2 were deleted before the run stopped; the rest are still "
                               "cached.")
                    .arg(formatCount(r.deleted), target),
                statusAmber().name());
  } else {
    switch (r.kind) {
      case ops::InvalidateKind::Key:
        setHeadline(r.deleted > 0 ? QStringLiteral("Deleted key %1.").arg(target)
                                  : QStringLiteral("Key %1 was not in Redis; nothing deleted there.").arg(target),
                    statusGreen().name());
        break;
      case ops::InvalidateKind::Pattern:
      case ops::InvalidateKind::User:
        setHeadline(QStringLiteral("Deleted %1 of %2 matching keys (%3).").arg(formatCount(r.deleted), formatCount(r.matched), target),
                    statusGreen().name());
        break;
      case ops::InvalidateKind::Namespace:
        setHeadline(QStringLiteral("Namespace %1 invalidated: generation %2; every older cached copy is now a miss.")
                        .arg(target)
                        .arg(r.new_generation),
                    statusGreen().name());
        break;
    }
  }
  showSummary(r);
  sampleModel_->setKeys(r.sample);
  sampleCaption_->setText(r.sample.empty() ? QStringLiteral("Keys deleted (none)")
                                           : QStringLiteral("Sample of the keys deleted (first %1)")
                                                 .arg(formatCount(static_cast<long long>(r.sample.size()))));
}

}  // namespace tier::ui
