#include "keys/keyspace_analysis_view.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHorizontalBarSeries>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTextDocumentFragment>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "common/capability_gate.h"
#include "common/confirm_destructive.h"
#include "dashboard/server_panel.h"
#include "sessions/session_detail_widgets.h"
#include "settings/profile_store.h"
#include "tier/common/error.h"

namespace tier::ui {

namespace {

const QString kAnalysisSlot = QStringLiteral("keys.analysis");
const QString kReclaimSlot = QStringLiteral("keys.reclaim");

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}
QString num(long long n) {
  return QLocale().toString(n);
}
long long rounded(double v) {
  return static_cast<long long>(std::llround(v));
}
bool exactEstimate(const ops::Estimate& e) {
  return e.low == e.high;
}
// "1,234" when exact, else "1,234 [1,100–1,380]".
QString countText(const ops::Estimate& e) {
  if (exactEstimate(e)) return num(rounded(e.value));
  return QStringLiteral("%1 [%2\u2013%3]").arg(num(rounded(e.value)), num(rounded(e.low)), num(rounded(e.high)));
}
QString bytesText(const ops::Estimate& e) {
  if (exactEstimate(e)) return formatBytes(rounded(e.value));
  return QStringLiteral("%1 [%2\u2013%3]")
      .arg(formatBytes(rounded(e.value)), formatBytes(rounded(e.low)), formatBytes(rounded(e.high)));
}
QString ttlText(long long ttlMs) {
  if (ttlMs == -1) return QStringLiteral("no expiry");
  if (ttlMs < 0) return QStringLiteral("-");
  return formatTtl((ttlMs + 999) / 1000);
}

// A table cell that sorts by its number, not its text.
QTableWidgetItem* cell(const QString& text, double sortValue = std::nan("")) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
  if (!std::isnan(sortValue)) {
    item->setData(Qt::UserRole, sortValue);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  }
  return item;
}

// Columns fit their contents; `stretch` takes the rest of the width.
QTableWidget* makeTable(QWidget* parent, const QString& name, const QStringList& headers, int stretch) {
  auto* t = new QTableWidget(0, static_cast<int>(headers.size()), parent);
  t->setObjectName(name);
  t->setHorizontalHeaderLabels(headers);
  t->verticalHeader()->hide();
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setSelectionMode(QAbstractItemView::SingleSelection);
  t->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t->setAlternatingRowColors(true);
  t->setWordWrap(false);
  t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  t->horizontalHeader()->setSectionResizeMode(stretch, QHeaderView::Stretch);
  t->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
  return t;
}

QChartView* makeChartView(QChart* chart, QWidget* parent, const QString& name) {
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  chart->setBackgroundRoundness(0);
  auto* v = new QChartView(chart, parent);
  v->setObjectName(name);
  v->setRenderHint(QPainter::Antialiasing);
  v->setMinimumHeight(220);
  return v;
}

}  // namespace

KeyspaceAnalysisView::KeyspaceAnalysisView(CoreService* service, QWidget* parent)
    : QWidget(parent),
      service_(service),
      sample_(new QSpinBox(this)),
      analyze_(new QPushButton(QStringLiteral("&Analyze"), this)),
      cancel_(new QPushButton(QStringLiteral("&Cancel"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      summary_(new QLabel(this)),
      memoryChart_(new QChart),
      memoryView_(nullptr),
      ttlChart_(new QChart),
      ttlView_(nullptr),
      namespaces_(makeTable(
          this, QStringLiteral("analysisNamespaces"),
          {QStringLiteral("Namespace"), QStringLiteral("Keys (est.) [95 %]"), QStringLiteral("Memory (est.) [95 %]"),
           QStringLiteral("Old-gen copies"), QStringLiteral("Old-gen bytes")},
          0)),
      largest_(makeTable(
          this, QStringLiteral("analysisLargest"),
          {QStringLiteral("Key"), QStringLiteral("Namespace"), QStringLiteral("Bytes"), QStringLiteral("TTL")}, 0)),
      hot_(makeTable(this, QStringLiteral("analysisHot"),
                     {QStringLiteral("Key"), QStringLiteral("Namespace"), QStringLiteral("Frequency")}, 0)),
      hotNote_(new QLabel(this)),
      old_(new QLabel(this)),
      reclaim_(new QPushButton(QStringLiteral("&Reclaim\u2026"), this)),
      permission_(new QLabel(this)),
      reclaimResult_(new QLabel(this)) {
  setObjectName(QStringLiteral("keyspaceAnalysis"));
  memoryView_ = makeChartView(memoryChart_, this, QStringLiteral("analysisMemoryChart"));
  ttlView_ = makeChartView(ttlChart_, this, QStringLiteral("analysisTtlChart"));
  memoryChart_->setTitle(QStringLiteral("Memory per namespace (estimate; 95 % interval in the label)"));
  ttlChart_->setTitle(QStringLiteral("TTL per namespace (keys)"));

  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(10, 10, 10, 10);
  root->setSpacing(6);
  auto* top = new QHBoxLayout;
  sample_->setObjectName(QStringLiteral("analysisSample"));
  sample_->setRange(1, static_cast<int>(ops::kMaxAnalyzeSample));
  sample_->setSingleStep(10'000);
  sample_->setGroupSeparatorShown(true);
  sample_->setValue(kDefaultSample);
  sample_->setSuffix(QStringLiteral(" keys"));
  sample_->setToolTip(
      QStringLiteral("Keys to examine (1 to 10,000,000). At least the number of keys in Redis: every key, "
                     "exact counts; fewer: estimates with their 95 % interval."));
  analyze_->setObjectName(QStringLiteral("analysisRun"));
  analyze_->setToolTip(
      QStringLiteral("Sample the keyspace by SCAN in the background (PTTL, MEMORY USAGE and the envelope "
                     "header of each key, pipelined); reads only."));
  cancel_->setObjectName(QStringLiteral("analysisCancel"));
  cancel_->setEnabled(false);
  progress_->setObjectName(QStringLiteral("analysisProgress"));
  progress_->setRange(0, 1000);
  progress_->setTextVisible(true);
  progress_->setMaximumWidth(220);
  progress_->hide();
  status_->setObjectName(QStringLiteral("analysisStatus"));
  status_->setTextFormat(Qt::RichText);
  top->addWidget(new QLabel(QStringLiteral("Sample:"), this));
  top->addWidget(sample_);
  top->addWidget(analyze_);
  top->addWidget(cancel_);
  top->addWidget(progress_);
  top->addWidget(status_, 1);
  root->addLayout(top);
  summary_->setObjectName(QStringLiteral("analysisSummary"));
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  root->addWidget(summary_);

  auto* charts = new QHBoxLayout;
  charts->addWidget(memoryView_, 1);
  charts->addWidget(ttlView_, 1);
  root->addLayout(charts, 3);
  namespaces_->setSortingEnabled(false);
  root->addWidget(namespaces_, 2);

  auto* bottom = new QGridLayout;
  bottom->addWidget(new QLabel(QStringLiteral("<b>Largest keys</b> (double-click shows one in the Keys view)"), this),
                    0, 0);
  bottom->addWidget(largest_, 1, 0);
  auto* hotBox = new QVBoxLayout;
  hotBox->addWidget(new QLabel(QStringLiteral("<b>Hot keys</b>"), this));
  hotNote_->setObjectName(QStringLiteral("analysisHotNote"));
  hotNote_->setWordWrap(true);
  hotNote_->setStyleSheet(QStringLiteral("color:#718096"));
  hotBox->addWidget(hotNote_);
  hotBox->addWidget(hot_, 1);
  bottom->addLayout(hotBox, 0, 1, 2, 1);
  bottom->setColumnStretch(0, 3);
  bottom->setColumnStretch(1, 2);
  bottom->setRowStretch(1, 1);
  root->addLayout(bottom, 2);

  auto* oldRow = new QHBoxLayout;
  old_->setObjectName(QStringLiteral("analysisOld"));
  old_->setWordWrap(true);
  old_->setTextFormat(Qt::RichText);
  reclaim_->setObjectName(QStringLiteral("analysisReclaim"));
  reclaim_->setToolTip(
      QStringLiteral("Remove every copy of an older namespace generation from Redis (a miss for every reader "
                     "already), walking all keys by SCAN, through the invalidation path; audited."));
  oldRow->addWidget(old_, 1);
  oldRow->addWidget(reclaim_);
  root->addLayout(oldRow);
  permission_->setObjectName(QStringLiteral("analysisPermission"));
  permission_->setStyleSheet(QStringLiteral("color:#c53030"));
  permission_->setWordWrap(true);
  permission_->hide();
  root->addWidget(permission_);
  reclaimResult_->setObjectName(QStringLiteral("analysisReclaimResult"));
  reclaimResult_->setWordWrap(true);
  reclaimResult_->setTextFormat(Qt::RichText);
  root->addWidget(reclaimResult_);

  const auto activate = [this](QTableWidget* t) {
    connect(t, &QTableWidget::cellDoubleClicked, this, [this, t](int row, int) {
      if (auto* item = t->item(row, 0)) Q_EMIT keyActivated(item->text());
    });
  };
  activate(largest_);
  activate(hot_);
  connect(analyze_, &QPushButton::clicked, this, &KeyspaceAnalysisView::analyze);
  connect(cancel_, &QPushButton::clicked, this, &KeyspaceAnalysisView::cancel);
  connect(reclaim_, &QPushButton::clicked, this, &KeyspaceAnalysisView::onReclaim);
  if (service_) {
    connect(service_, &CoreService::capabilitiesAvailable, this, [this](const ops::Capabilities& c) {
      capabilities_ = c;
      updateReclaim();
    });
    connect(service_, &CoreService::coreReady, this, [this] {
      // Another connection: the result described the old one's Redis.
      analysis_.drop();
      showBusy();
      result_.reset();
      summary_->clear();
      memoryChart_->removeAllSeries();
      ttlChart_->removeAllSeries();
      memorySeries_ = nullptr;
      ttlSeries_ = nullptr;
      for (auto* t : {namespaces_, largest_, hot_}) t->setRowCount(0);
      hotNote_->clear();
      reclaimResult_->clear();
      old_->setText(QStringLiteral("Old-generation copies: run an analysis to count them."));
      setStatus(QStringLiteral("Connected. Analyze samples the keyspace."), QString());
      updateReclaim();
    });
    capabilities_ = service_->capabilities();
  }
  old_->setText(QStringLiteral("Old-generation copies: run an analysis to count them."));
  setStatus(QStringLiteral("Analyze samples the keyspace in the background."), QString());
  updateReclaim();
}

// analysis_ cancels its job as it goes: the worker stops between batches, its result has no receiver.
KeyspaceAnalysisView::~KeyspaceAnalysisView() = default;

QString KeyspaceAnalysisView::summaryText() const {
  return QTextDocumentFragment::fromHtml(summary_->text()).toPlainText();
}
QString KeyspaceAnalysisView::reclaimText() const {
  return QTextDocumentFragment::fromHtml(old_->text() + QStringLiteral("<br>") + reclaimResult_->text()).toPlainText();
}
QString KeyspaceAnalysisView::reclaimReason() const {
  return permission_->isHidden() ? QString() : permission_->text();
}

void KeyspaceAnalysisView::setSample(int keys) {
  sample_->setValue(keys);
}

void KeyspaceAnalysisView::setStatus(const QString& text, const QString& tone) {
  status_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>").arg(toneColor(tone), text.toHtmlEscaped()));
}

void KeyspaceAnalysisView::showBusy() {
  const bool busy = analysis_.running();
  analyze_->setEnabled(!busy);
  cancel_->setEnabled(busy);
  progress_->setVisible(busy);
  if (busy) {
    progress_->setRange(0, 0);  // indeterminate until the first progress report
    progress_->setValue(0);
  }
  updateReclaim();
}

void KeyspaceAnalysisView::analyze() {
  if (!service_) return;
  const std::uint64_t ticket = analysis_.begin();  // a running one is superseded (its slot too)
  const long long sample = sample_->value();
  showBusy();
  reclaimResult_->clear();  // it described the copies of the last analysis
  setStatus(QStringLiteral("Analyzing up to %1 keys…").arg(num(sample)), QString());
  analysis_ = service_->run<ops::KeyspaceAnalysis>(
      this, kAnalysisSlot,
      [sample](TierCore& core, JobContext& ctx) {
        ops::AnalyzeOptions opt;
        opt.sample = sample;
        opt.cancel = ctx.cancelFlag();
        opt.progress = [&ctx](const ops::AnalyzeOptions::Progress& p) {
          ctx.progress(
              p.target > 0 ? static_cast<double>(p.sampled) / static_cast<double>(p.target) : -1.0,
              QStringLiteral("%1 of %2 keys").arg(QLocale().toString(p.sampled), QLocale().toString(p.target)));
        };
        return ops::analyzeKeyspace(core, opt);
      },
      [this, ticket](ops::KeyspaceAnalysis a) {
        if (!analysis_.current(ticket)) return;  // cancelled or superseded
        analysis_.finished();
        showBusy();
        showResult(a);
        Q_EMIT analysisFinished(true, summaryText());
      },
      [this, ticket](ErrorKind kind, const QString& message) {
        if (!analysis_.current(ticket)) return;
        analysis_.finished();
        showBusy();
        const QString text = describe(kind, message);
        setStatus(text, QStringLiteral("bad"));
        Q_EMIT analysisFinished(false, text);
      },
      [this, ticket](double fraction, const QString& message) {
        if (!analysis_.current(ticket)) return;
        if (fraction >= 0) {
          progress_->setRange(0, 1000);
          progress_->setValue(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000));
        }
        progress_->setFormat(message);
      });
}

void KeyspaceAnalysisView::cancel() {
  if (!analysis_.running()) return;
  analysis_.drop();  // the cancelled job's (truncated) result is dropped
  showBusy();
  setStatus(result_ ? QStringLiteral("Cancelled; the last result stays.") : QStringLiteral("Cancelled."),
            QStringLiteral("warn"));
  Q_EMIT analysisFinished(false, QStringLiteral("Cancelled."));
}

void KeyspaceAnalysisView::showResult(const ops::KeyspaceAnalysis& a) {
  result_ = a;
  // Summary: what was examined, how sure the figures are, how long it took.
  double worst = 0;  // the widest half-interval of a namespace's key count, as a share of DBSIZE
  for (const auto& ns : a.namespaces) worst = std::max(worst, (ns.share.high - ns.share.low) / 2);
  QString accuracy = a.exact ? QStringLiteral("exact (every key examined)")
                             : QStringLiteral("sampled: \u00b1%1 % of the keys at 95 %")
                                   .arg(QLocale().toString(worst * 100, 'f', worst < 0.001 ? 2 : 1));
  QString text =
      QStringLiteral("<b>%1</b> keys examined of %2 (DBSIZE) \u00b7 %3 \u00b7 %4 ms")
          .arg(num(a.sampled), num(a.dbsize), accuracy.toHtmlEscaped(), QLocale().toString(a.duration_ms, 'f', 0));
  if (a.truncated)
    text += QStringLiteral(" \u00b7 <span style=\"color:#b7791f\">stopped early: a smaller sample</span>");
  if (a.vanished > 0) text += QStringLiteral(" \u00b7 %1 vanished before examined").arg(num(a.vanished));
  if (!a.unavailable.empty()) {
    QStringList u;
    for (const auto& s : a.unavailable) u << qs(s).toHtmlEscaped();
    text += QStringLiteral("<br><span style=\"color:#c53030\">Refused: %1</span>").arg(u.join(QStringLiteral("; ")));
  }
  summary_->setText(text);
  setStatus(a.exact ? QStringLiteral("Done: exact.") : QStringLiteral("Done: sampled."), QStringLiteral("ok"));

  // Memory per namespace: one bar each; the category label carries the interval.
  memoryChart_->removeAllSeries();
  for (auto* ax : memoryChart_->axes()) {
    memoryChart_->removeAxis(ax);
    delete ax;
  }
  memorySeries_ = new QHorizontalBarSeries;
  auto* memSet = new QBarSet(QStringLiteral("Memory (est.)"));
  memSet->setColor(QColor(QStringLiteral("#3182ce")));
  QStringList categories;
  double maxBytes = 0;
  for (const auto& ns : a.namespaces) {
    memSet->append(ns.bytes.value / 1024.0);  // the axis reads KiB
    maxBytes = std::max(maxBytes, ns.bytes.high);
    // Short enough for the axis: "entry 1.3 MB ±52 kB" (the full interval is in the tooltip and table).
    categories << (exactEstimate(ns.bytes)
                       ? QStringLiteral("%1  %2").arg(qs(ns.ns), formatBytes(rounded(ns.bytes.value)))
                       : QStringLiteral("%1  %2 \u00b1%3")
                             .arg(qs(ns.ns), formatBytes(rounded(ns.bytes.value)),
                                  formatBytes(rounded((ns.bytes.high - ns.bytes.low) / 2))));
  }
  memorySeries_->append(memSet);
  memorySeries_->setBarWidth(0.7);
  memoryChart_->addSeries(memorySeries_);
  auto* memCats = new QBarCategoryAxis;
  memCats->append(categories);
  memCats->setTruncateLabels(false);
  memoryChart_->addAxis(memCats, Qt::AlignLeft);
  memorySeries_->attachAxis(memCats);
  auto* memAxis = new QValueAxis;
  memAxis->setRange(0, std::max(1.0, maxBytes * 1.05) / 1024.0);
  memAxis->setTitleText(QStringLiteral("KiB"));
  memAxis->setLabelFormat(QStringLiteral("%.0f"));
  memAxis->applyNiceNumbers();
  memoryChart_->addAxis(memAxis, Qt::AlignBottom);
  memorySeries_->attachAxis(memAxis);
  memoryChart_->legend()->hide();
  const std::vector<ops::NamespaceAnalysis> nsCopy = a.namespaces;
  connect(memorySeries_, &QHorizontalBarSeries::hovered, this, [nsCopy](bool on, int index, QBarSet*) {
    if (!on || index < 0 || index >= static_cast<int>(nsCopy.size())) return QToolTip::hideText();
    const auto& ns = nsCopy[static_cast<std::size_t>(index)];
    QToolTip::showText(
        QCursor::pos(),
        QStringLiteral("%1: %2 (95 % interval)\n%3 keys").arg(qs(ns.ns), bytesText(ns.bytes), countText(ns.keys)));
  });

  // TTL histogram: stacked none / <1 h / <1 d / longer per namespace (keys in the sample).
  ttlChart_->removeAllSeries();
  for (auto* ax : ttlChart_->axes()) {
    ttlChart_->removeAxis(ax);
    delete ax;
  }
  ttlSeries_ = new QHorizontalStackedBarSeries;
  const struct {
    const char* name;
    const char* color;
    long long ops::TtlBuckets::*field;
  } buckets[] = {{"no expiry", "#a0aec0", &ops::TtlBuckets::none},
                 {"under 1 h", "#e53e3e", &ops::TtlBuckets::under_1h},
                 {"under 1 d", "#dd6b20", &ops::TtlBuckets::under_1d},
                 {"longer", "#38a169", &ops::TtlBuckets::longer}};
  QStringList ttlCats;
  for (const auto& ns : a.namespaces) ttlCats << qs(ns.ns);
  for (const auto& b : buckets) {
    auto* set = new QBarSet(QString::fromLatin1(b.name));
    set->setColor(QColor(QString::fromLatin1(b.color)));
    for (const auto& ns : a.namespaces) set->append(static_cast<double>(ns.ttl.*b.field));
    ttlSeries_->append(set);
  }
  ttlSeries_->setBarWidth(0.7);
  ttlChart_->addSeries(ttlSeries_);
  auto* ttlCatAxis = new QBarCategoryAxis;
  ttlCatAxis->append(ttlCats);
  ttlCatAxis->setTruncateLabels(false);  // else a relayout can leave "..." for every namespace
  ttlChart_->addAxis(ttlCatAxis, Qt::AlignLeft);
  ttlSeries_->attachAxis(ttlCatAxis);
  auto* ttlAxis = new QValueAxis;
  ttlAxis->setLabelFormat(QStringLiteral("%.0f"));
  ttlAxis->setTitleText(a.exact ? QStringLiteral("keys") : QStringLiteral("keys in the sample"));
  ttlChart_->addAxis(ttlAxis, Qt::AlignBottom);
  ttlSeries_->attachAxis(ttlAxis);
  ttlAxis->applyNiceNumbers();
  ttlChart_->legend()->show();
  connect(ttlSeries_, &QHorizontalStackedBarSeries::hovered, this, [ttlCats](bool on, int index, QBarSet* set) {
    if (!on || !set || index < 0 || index >= ttlCats.size()) return QToolTip::hideText();
    QToolTip::showText(
        QCursor::pos(),
        QStringLiteral("%1, %2: %3 keys").arg(ttlCats[index], set->label(), num(rounded(set->at(index)))));
  });

  // The per-namespace table.
  namespaces_->setRowCount(static_cast<int>(a.namespaces.size()));
  int r = 0;
  for (const auto& ns : a.namespaces) {
    namespaces_->setItem(r, 0, cell(qs(ns.ns)));
    namespaces_->setItem(r, 1, cell(countText(ns.keys), ns.keys.value));
    namespaces_->setItem(r, 2, cell(bytesText(ns.bytes), ns.bytes.value));
    namespaces_->setItem(r, 3,
                         cell(a.exact ? num(ns.old_generation_keys) : countText(ns.old_generation_keys_est),
                              static_cast<double>(ns.old_generation_keys)));
    namespaces_->setItem(r, 4,
                         cell(a.exact ? formatBytes(ns.old_generation_bytes) : bytesText(ns.old_generation_bytes_est),
                              static_cast<double>(ns.old_generation_bytes)));
    ++r;
  }

  largest_->setRowCount(static_cast<int>(a.largest.size()));
  r = 0;
  for (const auto& k : a.largest) {
    largest_->setItem(r, 0, cell(qs(k.key)));
    largest_->setItem(r, 1, cell(qs(k.ns)));
    largest_->setItem(r, 2, cell(num(k.bytes), static_cast<double>(k.bytes)));
    largest_->setItem(r, 3, cell(ttlText(k.ttl_ms)));
    ++r;
  }

  hot_->setRowCount(static_cast<int>(a.hot.size()));
  r = 0;
  for (const auto& k : a.hot) {
    hot_->setItem(r, 0, cell(qs(k.key)));
    hot_->setItem(r, 1, cell(qs(k.ns)));
    hot_->setItem(r, 2, cell(num(k.freq), static_cast<double>(k.freq)));
    ++r;
  }
  const QString source =
      a.hot_source == "object_freq"
          ? QStringLiteral("Source: OBJECT FREQ (maxmemory-policy %1).").arg(qs(a.maxmemory_policy))
      : a.hot_source == "l1_sketch" ? QStringLiteral("Source: this console's L1 access counts.")
                                    : QStringLiteral("Unavailable.");
  hotNote_->setText(a.hot_note.empty() ? source : source + QLatin1Char(' ') + qs(a.hot_note));

  // Old generation: what a namespace bump left behind.
  if (a.exact)
    old_->setText(
        QStringLiteral("<b>Old-generation copies:</b> %1 keys, %2 \u2014 reclaimable (a miss for every reader "
                       "already).")
            .arg(num(a.old_generation_keys), formatBytes(a.old_generation_bytes)));
  else
    old_->setText(QStringLiteral("<b>Old-generation copies:</b> %1 keys, %2 in the sample; about %3 keys, %4 in all "
                                 "\u2014 reclaimable.")
                      .arg(num(a.old_generation_keys), formatBytes(a.old_generation_bytes),
                           countText(a.old_generation_keys_est), bytesText(a.old_generation_bytes_est)));
  updateReclaim();
}

void KeyspaceAnalysisView::updateReclaim() {
  const ProfileTags tags = service_ ? profileTags(service_->settings()) : ProfileTags{};
  const ops::Capability c = gateByProfile(capabilities_.invalidate, tags);
  const bool found = result_ && (result_->old_generation_keys > 0 || result_->old_generation_keys_est.high > 0);
  applyCapability(reclaim_, c);  // the tooltip's reason; it enables on c.allowed alone, so after it:
  reclaim_->setEnabled(c.allowed && found && !reclaimJob_.running() && !analysis_.running());
  if (c.allowed) {
    permission_->hide();
  } else {
    permission_->setText(QStringLiteral("Reclaim: %1").arg(qs(c.reason)));
    permission_->show();
  }
}

void KeyspaceAnalysisView::onReclaim() {
  const ProfileTags tags = service_ ? profileTags(service_->settings()) : ProfileTags{};
  if (!result_ || reclaimJob_.running() || analysis_.running() || tags.read_only) return updateReclaim();
  if (findChild<QDialog*>(QStringLiteral("analysisReclaimConfirmation"))) return;  // already asking
  const QString what =
      result_->exact
          ? QStringLiteral("%1 old-generation copies").arg(num(result_->old_generation_keys))
          : QStringLiteral("about %1 old-generation copies").arg(num(rounded(result_->old_generation_keys_est.value)));
  confirmDestructive(
      this, tags,
      {QStringLiteral("Reclaim old-generation copies"), QStringLiteral("Remove %1 from Redis?").arg(what),
       QStringLiteral("Every key is walked by SCAN; each copy of an older namespace generation is unlinked "
                      "through the invalidation path. Readers already miss them. Recorded in the audit log."),
       QStringLiteral("&Reclaim"), QStringLiteral("reclaim"), QStringLiteral("analysisReclaimConfirmation")},
      [this] { runReclaim(); });
}

void KeyspaceAnalysisView::runReclaim() {
  if (reclaimJob_.running() || !service_) return;
  reclaimJob_.started();
  updateReclaim();
  reclaimResult_->setText(QStringLiteral("Reclaiming…"));
  service_->run<ops::ReclaimResult>(
      this, kReclaimSlot,
      [](TierCore& core, JobContext& ctx) { return ops::reclaimOldGenerations(core, false, ctx.cancelFlag()); },
      [this](ops::ReclaimResult r) {
        reclaimJob_.finished();
        QString text =
            QStringLiteral(
                "Reclaimed: deleted %1 of %2 old-generation copies (%3 keys scanned, %4 ms). "
                "Recorded in the audit log.")
                .arg(num(r.deleted), num(r.matched), num(r.scanned), QLocale().toString(r.duration_ms, 'f', 0));
        if (!r.audit_error.empty())
          text += QStringLiteral(" But the audit row was not written: %1").arg(qs(redactSecrets(r.audit_error)));
        reclaimResult_->setText(
            QStringLiteral("<span style=\"color:%1\">%2</span>")
                .arg(toneColor(r.audit_error.empty() ? QStringLiteral("ok") : QStringLiteral("warn")),
                     text.toHtmlEscaped()));
        updateReclaim();
        Q_EMIT reclaimFinished(true, text);
      },
      [this](ErrorKind kind, const QString& message) {
        reclaimJob_.finished();
        const QString text = describe(kind, message);
        reclaimResult_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>")
                                    .arg(toneColor(QStringLiteral("bad")), text.toHtmlEscaped()));
        updateReclaim();
        Q_EMIT reclaimFinished(false, text);
      });
}

}  // namespace tier::ui
