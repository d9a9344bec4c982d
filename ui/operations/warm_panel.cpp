#include "operations/warm_panel.h"

#include <QAction>
#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

#include "common/capability_gate.h"
#include "operations/action_button.h"
#include "operations/operations_models.h"
#include "settings/profile_store.h"

namespace tier::ui {

namespace {

const QString kSlot = QStringLiteral("operations.warm");
constexpr int kProgressSteps = 1000;

QSpinBox* spin(QWidget* parent, const QString& name, int lo, int hi, int value, const QString& suffix, const QString& tip) {
  auto* s = new QSpinBox(parent);
  s->setObjectName(name);
  s->setRange(lo, hi);
  s->setValue(value);
  s->setSuffix(suffix);
  s->setGroupSeparatorShown(true);
  s->setToolTip(tip);
  return s;
}

}  // namespace

WarmPanel::WarmPanel(CoreService* service, QWidget* parent)
    : QGroupBox(QStringLiteral("Warm"), parent), service_(service) {
  setObjectName(QStringLiteral("warmPanel"));
  warmAction_ = new QAction(QStringLiteral("&Warm"), this);
  warmAction_->setObjectName(QStringLiteral("warmAction"));
  warmAction_->setShortcut(QKeySequence(QStringLiteral("Ctrl+W")));
  connect(warmAction_, &QAction::triggered, this, &WarmPanel::onWarmTriggered);

  const ops::WarmOptions defaults;
  hours_ = spin(this, QStringLiteral("sessionHours"), 1, 24 * 365, defaults.session_hours, QStringLiteral(" h"),
                QStringLiteral("Sessions active in the last this many hours."));
  sessionLimit_ = spin(this, QStringLiteral("sessionLimit"), 1, 10'000'000, defaults.session_limit, QString(),
                       QStringLiteral("At most this many sessions, most recent first."));
  topUsers_ = spin(this, QStringLiteral("topUsers"), 1, 10'000'000, defaults.top_users, QString(),
                   QStringLiteral("The users with the most journal entries."));
  perUser_ = spin(this, QStringLiteral("entriesPerUser"), 1, 100'000, defaults.entries_per_user, QString(),
                  QStringLiteral("Newest entries per user."));

  struct Choice {
    ops::WarmSet set;
    const char* label;
    const char* tip;
  };
  const Choice choices[] = {
      {ops::WarmSet::Knowledge, "&Knowledge articles", "Every psychology-knowledge article (the platform warms these at start)."},
      {ops::WarmSet::Sessions, "Active &sessions", "Chat sessions with recent activity, with their recent messages."},
      {ops::WarmSet::Entries, "Hot &entries", "The newest journal entries of the users with the most entries."},
  };
  auto* grid = new QGridLayout;
  grid->setColumnStretch(2, 1);
  int row = 0;
  for (const auto& c : choices) {
    SetRow r;
    r.set = c.set;
    r.check = new QCheckBox(QString::fromLatin1(c.label), this);
    r.check->setObjectName(QStringLiteral("warm_%1").arg(QLatin1String(ops::toString(c.set))));
    r.check->setToolTip(QString::fromLatin1(c.tip));
    r.check->setChecked(c.set == ops::WarmSet::Knowledge);
    connect(r.check, &QCheckBox::toggled, this, &WarmPanel::updateActions);
    r.bar = new QProgressBar(this);
    r.bar->setObjectName(QStringLiteral("warmProgress_%1").arg(QLatin1String(ops::toString(c.set))));
    r.bar->setRange(0, kProgressSteps);
    r.bar->setValue(0);
    r.bar->setFormat(QString());
    r.bar->setMinimumWidth(140);
    r.bar->setEnabled(r.check->isChecked());
    connect(r.check, &QCheckBox::toggled, r.bar, &QWidget::setEnabled);

    auto* opts = new QHBoxLayout;
    opts->setSpacing(4);
    if (c.set == ops::WarmSet::Knowledge) {
      auto* l = new QLabel(QStringLiteral("all articles"), this);
      l->setEnabled(false);
      opts->addWidget(l);
    } else if (c.set == ops::WarmSet::Sessions) {
      opts->addWidget(new QLabel(QStringLiteral("last"), this));
      opts->addWidget(hours_);
      opts->addWidget(new QLabel(QStringLiteral("at most"), this));
      opts->addWidget(sessionLimit_);
    } else {
      opts->addWidget(new QLabel(QStringLiteral("top"), this));
      opts->addWidget(topUsers_);
      opts->addWidget(new QLabel(QStringLiteral("users ×"), this));
      opts->addWidget(perUser_);
    }
    opts->addStretch(1);
    grid->addWidget(r.check, row, 0);
    grid->addLayout(opts, row, 1);
    grid->addWidget(r.bar, row, 2);
    sets_.push_back(r);
    ++row;
  }

  warmButton_ = new QPushButton(QStringLiteral("Warm"), this);
  warmButton_->setObjectName(QStringLiteral("warmButton"));
  bindButton(warmButton_, warmAction_);
  cancelButton_ = new QPushButton(QStringLiteral("Cancel"), this);
  cancelButton_->setObjectName(QStringLiteral("warmCancelButton"));
  cancelButton_->setToolTip(QStringLiteral("Stop the running set between two chunks and skip the rest (Esc)"));
  connect(cancelButton_, &QPushButton::clicked, this, &WarmPanel::cancel);
  status_ = new QLabel(QStringLiteral("Choose the sets to load into L1 and Redis."), this);
  status_->setObjectName(QStringLiteral("warmStatus"));
  status_->setTextFormat(Qt::PlainText);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(warmButton_);
  buttons->addWidget(cancelButton_);
  buttons->addSpacing(8);
  buttons->addWidget(status_, 1);

  summary_ = new WarmSummaryModel(this);
  summaryView_ = new QTableView(this);
  summaryView_->setObjectName(QStringLiteral("warmSummaryView"));
  summaryView_->setModel(summary_);
  summaryView_->verticalHeader()->setVisible(false);
  summaryView_->setSelectionBehavior(QAbstractItemView::SelectRows);
  summaryView_->setWordWrap(false);
  summaryView_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  summaryView_->horizontalHeader()->setStretchLastSection(true);
  summaryView_->horizontalHeader()->setMinimumSectionSize(summaryView_->fontMetrics().horizontalAdvance(QStringLiteral("Failed")) + 16);
  summaryView_->verticalHeader()->setDefaultSectionSize(summaryView_->fontMetrics().height() + 8);
  summaryView_->setMinimumHeight(summaryView_->verticalHeader()->defaultSectionSize() * 4 +
                                 summaryView_->horizontalHeader()->sizeHint().height() + 4);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(grid);
  layout->addLayout(buttons);
  layout->addWidget(summaryView_, 1);
  // Another profile may carry other tags (read-only greys Warm out).
  connect(service_, &CoreService::connecting, this, [this] { updateActions(); });
  connect(service_, &CoreService::coreReady, this, [this] { updateActions(); });
  updateActions();
}

WarmPanel::~WarmPanel() = default;  // job_ stops the worker

ops::WarmOptions WarmPanel::options() const {
  ops::WarmOptions o;
  o.session_hours = hours_->value();
  o.session_limit = sessionLimit_->value();
  o.top_users = topUsers_->value();
  o.entries_per_user = perUser_->value();
  return o;
}

int WarmPanel::rowOf(ops::WarmSet set) const {
  for (std::size_t i = 0; i < sets_.size(); ++i)
    if (sets_[i].set == set) return static_cast<int>(i);
  return -1;
}

void WarmPanel::setSelected(ops::WarmSet set, bool selected) {
  const int i = rowOf(set);
  if (i >= 0) sets_[static_cast<std::size_t>(i)].check->setChecked(selected);
}

void WarmPanel::setLocked(bool locked) {
  job_.setLocked(locked);
  updateActions();
}

void WarmPanel::setPermitted(bool allowed, const QString& reason) {
  permitted_ = allowed;
  permissionReason_ = reason;
  updateActions();
}

void WarmPanel::updateActions() {
  const bool idle = job_.idle();
  const bool any = std::any_of(sets_.begin(), sets_.end(), [](const SetRow& r) { return r.check->isChecked(); });
  const ProfileTags tags = profileTags(service_->settings());
  const ops::Capability credentials{permitted_, permissionReason_.toStdString()};
  const bool allowed = gateByProfile(credentials, tags).allowed;
  warmAction_->setEnabled(idle && any && allowed);
  if (!allowed)
    warmAction_->setToolTip(refusalText(credentials, tags));
  else if (!any)
    warmAction_->setToolTip(withShortcut(QStringLiteral("Choose at least one set to warm"), warmAction_->shortcut()));
  else
    warmAction_->setToolTip(withShortcut(QStringLiteral("Load the chosen sets into L1 and Redis"), warmAction_->shortcut()));
  warmButton_->setToolTip(warmAction_->toolTip());
  cancelButton_->setEnabled(job_.cancellable());
  for (auto& r : sets_) r.check->setEnabled(idle);
  for (auto* s : {hours_, sessionLimit_, topUsers_, perUser_}) s->setEnabled(idle);
}

void WarmPanel::onWarmTriggered() {
  if (!job_.idle() || !permitted_) return;
  if (profileTags(service_->settings()).read_only) return updateActions();  // greyed out; a shortcut may still fire
  std::vector<WarmSummaryModel::Row> rows;
  for (auto& r : sets_) {
    r.bar->setValue(0);
    r.bar->setRange(0, kProgressSteps);
    if (r.check->isChecked()) {
      r.bar->setFormat(QStringLiteral("waiting"));
      rows.push_back({r.set, WarmSummaryModel::State::Waiting, std::nullopt, {}});
    } else {
      r.bar->setFormat(QString());
    }
  }
  if (rows.empty()) return;
  summary_->setRows(std::move(rows));  // clears the previous connection's mark
  runOptions_ = options();
  job_.started();
  current_ = -1;
  updateActions();
  Q_EMIT jobStarted();
  startNext();
}

void WarmPanel::startNext() {
  const auto& rows = summary_->rows();
  int next = -1;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].state == WarmSummaryModel::State::Waiting) {
      next = static_cast<int>(i);
      break;
    }
  if (next < 0) {
    finish();
    return;
  }
  current_ = next;
  WarmSummaryModel::Row row = rows[static_cast<std::size_t>(next)];
  row.state = WarmSummaryModel::State::Running;
  summary_->updateRow(next, row);
  const ops::WarmSet set = row.set;
  QProgressBar* bar = sets_[static_cast<std::size_t>(rowOf(set))].bar;
  bar->setRange(0, 0);
  bar->setFormat(QStringLiteral("starting…"));
  status_->setText(QStringLiteral("Warming %1…").arg(WarmSummaryModel::setName(set).toLower()));
  const ops::WarmOptions options = runOptions_;

  auto settle = [this, next, bar](WarmSummaryModel::Row updated) {
    summary_->updateRow(next, updated);
    bar->setRange(0, kProgressSteps);
    if (updated.state == WarmSummaryModel::State::Done) {
      bar->setValue(kProgressSteps);
      const auto& w = *updated.result;
      bar->setFormat(
          w.already > 0
              ? QStringLiteral("%1 warmed · %2 newer in cache").arg(formatCount(w.warmed), formatCount(w.already))
              : QStringLiteral("%1 warmed").arg(formatCount(w.warmed)));
    } else {
      bar->setFormat(updated.state == WarmSummaryModel::State::Cancelled ? QStringLiteral("cancelled")
                                                                         : QStringLiteral("failed"));
    }
    job_ = JobHandle{};
    if (job_.cancelling()) {
      auto rows = summary_->rows();
      for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].state == WarmSummaryModel::State::Waiting) {
          rows[i].state = WarmSummaryModel::State::Skipped;
          summary_->updateRow(static_cast<int>(i), rows[i]);
          sets_[static_cast<std::size_t>(rowOf(rows[i].set))].bar->setFormat(QStringLiteral("skipped"));
        }
    }
    startNext();
  };

  job_ = service_->run<ops::WarmResult>(
      this, kSlot,
      [set, options](TierCore& core, JobContext& ctx) {
        return ops::warm(
            core, set, options,
            [&ctx](const ops::WarmProgress& p) {
              const double f = p.total > 0 ? std::min(1.0, static_cast<double>(p.done) / static_cast<double>(p.total)) : -1;
              ctx.progress(p.done >= p.total && p.total > 0 ? 0.999 : f,
                           QStringLiteral("%1 / %2").arg(formatCount(p.done), formatCount(p.total)));
            },
            ctx.cancelFlag());
      },
      [set, settle](ops::WarmResult r) {
        WarmSummaryModel::Row row{set, r.cancelled ? WarmSummaryModel::State::Cancelled : WarmSummaryModel::State::Done, r, {}};
        settle(row);
      },
      [set, settle](ErrorKind k, QString m) {
        settle(WarmSummaryModel::Row{set, WarmSummaryModel::State::Failed, std::nullopt, describe(k, m)});
      },
      [this, bar](double f, QString m) {
        if (!job_.running()) return;
        if (f < 0) {
          bar->setRange(0, 0);
        } else {
          bar->setRange(0, kProgressSteps);
          bar->setValue(static_cast<int>(f * kProgressSteps));
        }
        bar->setFormat(m);
      });
}

void WarmPanel::finish() {
  job_.finished();
  current_ = -1;
  long long warmed = 0, failedSets = 0;
  bool cancelled = false;
  for (const auto& r : summary_->rows()) {
    if (r.result) warmed += r.result->warmed;
    if (r.state == WarmSummaryModel::State::Failed) ++failedSets;
    if (r.state == WarmSummaryModel::State::Cancelled || r.state == WarmSummaryModel::State::Skipped) cancelled = true;
  }
  QString text = QStringLiteral("%1 items warmed").arg(formatCount(warmed));
  if (cancelled) text += QStringLiteral("; cancelled before the end");
  if (failedSets > 0) {
    // The first failure's sentence, so a permission refusal is read at once.
    for (const auto& r : summary_->rows())
      if (r.state == WarmSummaryModel::State::Failed) {
        text += QStringLiteral(". %1").arg(r.error);
        break;
      }
  }
  status_->setText(text.endsWith(QLatin1Char('.')) ? text : text + QLatin1Char('.'));
  updateActions();
  Q_EMIT jobFinished();
  Q_EMIT warmFinished();
}

QString WarmPanel::statusText() const {
  return status_->text();
}

void WarmPanel::onConnectionChanged(const QString& previous) {
  cancel();
  if (summary_->rows().empty() || summary_->fromPreviousConnection()) return;
  summary_->setFromPreviousConnection(true);
  for (auto& r : sets_) r.bar->setFormat(r.bar->format().isEmpty() ? QString() : QStringLiteral("previous connection"));
  status_->setText(previous.isEmpty() ? QStringLiteral("The results below are from the previous connection.")
                                      : QStringLiteral("The results below are from the previous connection (profile "
                                                       "\u2018%1\u2019).")
                                            .arg(previous));
}

void WarmPanel::cancel() {
  if (!job_.cancel()) return;
  status_->setText(QStringLiteral("Cancelling…"));
  updateActions();
}

}  // namespace tier::ui
