#include "sessions/session_detail_widgets.h"

#include "common/capability_gate.h"

#include <QDateTime>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLocale>
#include <QStringList>
#include <QTextCursor>
#include <QVBoxLayout>

namespace tier::ui {

namespace {

// Status colours: toneColor (common/capability_gate.h), as the window's link chips; text stays on palette roles.
QString chipStyle(const QString& tone) {
  return QStringLiteral("QLabel{background:%1;color:white;border-radius:8px;padding:1px 8px;font-weight:600;}")
      .arg(toneColor(tone));
}

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QString timeText(std::int64_t ms) {
  return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
}

// Today's times without the date: the tier rows stay short.
QString shortTime(std::int64_t ms) {
  if (ms <= 0) return {};
  const QDateTime t = QDateTime::fromMSecsSinceEpoch(ms);
  return t.toString(t.date() == QDate::currentDate() ? QStringLiteral("HH:mm:ss") : QStringLiteral("yyyy-MM-dd HH:mm"));
}

// A JSON value in one short line: strings quoted, arrays by length, long text cut.
QString shortValue(const QJsonValue& v) {
  constexpr int kMax = 60;
  QString t;
  if (v.isUndefined()) return QStringLiteral("(absent)");
  if (v.isString()) {
    t = v.toString();
    t.replace(QLatin1Char('\n'), QLatin1Char(' '));
    return QStringLiteral("\u201c%1\u201d").arg(t.size() > kMax ? t.left(kMax) + QStringLiteral("\u2026") : t);
  }
  if (v.isArray()) {
    const auto n = v.toArray().size();
    return n == 1 ? QStringLiteral("1 item") : QStringLiteral("%1 items").arg(n);
  }
  if (v.isObject())
    t = QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
  else if (v.isDouble())
    t = QString::number(v.toDouble(), 'g', 17);
  else if (v.isBool())
    t = v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
  else
    t = QStringLiteral("null");
  return t.size() > kMax ? t.left(kMax) + QStringLiteral("\u2026") : t;
}

QJsonObject jsonOf(const repo::ChatSession& s) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(s.toJson())).object();
}

}  // namespace

QStringList staleFieldLines(const ops::SessionInspection& in) {
  QStringList out;
  const QJsonObject cached = in.cached ? jsonOf(*in.cached) : QJsonObject();
  const QJsonObject db = in.l3 ? jsonOf(*in.l3) : QJsonObject();
  for (const auto& f : in.diff) {
    const QString field = QString::fromStdString(f);
    if (field == QLatin1String("<deleted in database>")) {
      out << QStringLiteral("the row: cached copy present \u00b7 database: deleted");
    } else if (field == QLatin1String("<tombstone>")) {
      out << QStringLiteral("the row: cached \u201cnot found\u201d marker \u00b7 database version %1")
                 .arg(in.l3_version);
    } else if (field == QLatin1String("version")) {
      // The tiers' envelope versions: a copy may be older without its payload saying so.
      QStringList cachedVersions;
      if (in.l1_stale) cachedVersions << QStringLiteral("L1 %1").arg(in.l1.version);
      if (in.l2_stale) cachedVersions << QStringLiteral("L2 %1").arg(in.l2.version);
      out << QStringLiteral("version: cached %1 \u00b7 database %2")
                 .arg(cachedVersions.join(QStringLiteral(", ")), QString::number(in.l3_version));
    } else if (!in.cached) {
      out << QStringLiteral("%1: cached (unreadable) \u00b7 database %2").arg(field, shortValue(db.value(field)));
    } else {
      out << QStringLiteral("%1: cached %2 \u00b7 database %3")
                 .arg(field, shortValue(cached.value(field)), shortValue(db.value(field)));
    }
  }
  return out;
}

QString formatTtl(long long seconds) {
  if (seconds == -1) return QStringLiteral("no expiry");
  if (seconds < 0) return {};
  const long long h = seconds / 3600, m = (seconds % 3600) / 60, s = seconds % 60;
  if (h > 0) return QStringLiteral("%1 h %2 min").arg(h).arg(m);  // seconds are noise at this scale
  if (m > 0) return QStringLiteral("%1 min %2 s").arg(m).arg(s);
  return QStringLiteral("%1 s").arg(s);
}

QString formatSize(std::size_t bytes) { return QLocale().formattedDataSize(static_cast<qint64>(bytes), 1, QLocale::DataSizeTraditionalFormat); }

QColor roleColor(const std::string& role) {
  if (role == "user") return QColor(0x3b, 0x82, 0xc4);
  if (role == "assistant") return QColor(0x2f, 0x9e, 0x5b);
  if (role == "system") return QColor(0xc0, 0x7f, 0x1d);
  return QColor(0x80, 0x80, 0x80);
}

TierStatePanel::TierStatePanel(QWidget* parent) : QFrame(parent) {
  setObjectName(QStringLiteral("tierStatePanel"));
  setFrameShape(QFrame::StyledPanel);
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(10, 8, 10, 10);
  outer->setSpacing(8);

  auto* heading = new QLabel(QStringLiteral("Where it lives"), this);
  QFont hf = heading->font();
  hf.setBold(true);
  heading->setFont(hf);
  checked_ = new QLabel(this);
  checked_->setObjectName(QStringLiteral("tierCheckedAt"));
  checked_->setForegroundRole(QPalette::PlaceholderText);
  checked_->setToolTip(
      QStringLiteral("When the tiers were read. Read again with Re-inspect (F5), and at once when a "
                     "server goes down or comes back."));
  auto* headingRow = new QHBoxLayout;
  headingRow->addWidget(heading);
  headingRow->addStretch(1);
  headingRow->addWidget(checked_);
  outer->addLayout(headingRow);

  banner_ = new QLabel(this);
  banner_->setObjectName(QStringLiteral("staleBanner"));
  banner_->setWordWrap(true);
  banner_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  outer->addWidget(banner_);

  auto* grid = new QGridLayout;
  grid->setHorizontalSpacing(12);
  grid->setVerticalSpacing(6);
  const char* names[3] = {"L1", "L2", "L3"};
  const char* what[3] = {"in-process memory", "Redis", "PostgreSQL row"};
  const char* tips[3] = {"This console's own in-process cache (other instances have their own L1).",
                         "The shared Redis cache: its copy, remaining time to live and size.",
                         "The database row: the source of truth."};
  for (int i = 0; i < 3; ++i) {
    auto* name = new QLabel(QStringLiteral("<b>%1</b>&nbsp;&nbsp;%2").arg(QLatin1String(names[i]), QLatin1String(what[i])), this);
    name->setToolTip(QLatin1String(tips[i]));
    rows_[i].chip = new QLabel(this);
    rows_[i].chip->setAlignment(Qt::AlignCenter);
    rows_[i].chip->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("MMMMMMM")));
    rows_[i].detail = new QLabel(this);
    rows_[i].sub = new QLabel(this);
    rows_[i].sub->setForegroundRole(QPalette::PlaceholderText);
    for (QLabel* l : {rows_[i].detail, rows_[i].sub}) {
      l->setTextFormat(Qt::PlainText);  // may quote a server's error text
      l->setTextInteractionFlags(Qt::TextSelectableByMouse);
      l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // clip, never widen the pane
    }
    auto* lines = new QVBoxLayout;
    lines->setSpacing(0);
    lines->addWidget(rows_[i].detail);
    lines->addWidget(rows_[i].sub);
    grid->addWidget(name, i, 0, Qt::AlignTop);
    grid->addWidget(rows_[i].chip, i, 1, Qt::AlignTop);
    grid->addLayout(lines, i, 2);
  }
  grid->setColumnStretch(2, 1);
  outer->addLayout(grid);
  showLoading();
}

void TierStatePanel::setBanner(const QString& text, const QString& tone) {
  banner_->setText(text);
  bannerTone_ = tone;
  // A tinted box with a coloured edge and the palette's text colour: readable on light and dark palettes.
  const QColor c(toneColor(tone));
  banner_->setStyleSheet(QStringLiteral("QLabel{color:%5;background:rgba(%1,%2,%3,40);border:1px solid %4;"
                                        "border-left:4px solid %4;border-radius:3px;padding:6px 8px;}")
                             .arg(c.red())
                             .arg(c.green())
                             .arg(c.blue())
                             .arg(c.name(), palette().color(QPalette::WindowText).name()));
}

void TierStatePanel::changeEvent(QEvent* event) {
  QFrame::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) setBanner(banner_->text(), bannerTone_);
}

void TierStatePanel::setRow(int tier, const QString& chip, const QString& tone, const QString& detail, const QString& sub) {
  rows_[tier].chip->setText(chip);
  rows_[tier].chip->setStyleSheet(chipStyle(tone));
  rows_[tier].detail->setText(detail);
  rows_[tier].detail->setToolTip(detail);
  rows_[tier].sub->setText(sub);
  rows_[tier].sub->setToolTip(sub);
  rows_[tier].sub->setVisible(!sub.isEmpty());
}

QString TierStatePanel::checkedText() const {
  return checked_->text();
}

void TierStatePanel::markUnknown(const QString& why) {
  if (checkedAtMs_ <= 0) return;  // nothing shown yet
  const QString since = shortTime(QDateTime::currentMSecsSinceEpoch());
  checked_->setText(QStringLiteral("unknown since %1 (read %2)").arg(since, shortTime(checkedAtMs_)));
  setBanner(QStringLiteral("<b>Unknown</b>: %1 at %2; what was read before may no longer hold. Re-checking…")
                .arg(why.toHtmlEscaped(), since),
            QStringLiteral("warn"));
  for (int i = 0; i < 3; ++i)
    setRow(i, QStringLiteral("?"), QStringLiteral("neutral"), QStringLiteral("unknown"),
           QStringLiteral("was: %1").arg(rows_[i].detail->text()));
}

void TierStatePanel::showLoading() {
  setBanner(QStringLiteral("Inspecting…"), QStringLiteral("neutral"));
  for (int i = 0; i < 3; ++i) setRow(i, QStringLiteral("…"), QStringLiteral("neutral"), QString());
}

void TierStatePanel::showError(const QString& sentence) {
  checkedAtMs_ = QDateTime::currentMSecsSinceEpoch();
  checked_->setText(QStringLiteral("checked %1: could not read").arg(shortTime(checkedAtMs_)));
  setBanner(sentence, QStringLiteral("bad"));
  for (int i = 0; i < 3; ++i) setRow(i, QStringLiteral("?"), QStringLiteral("neutral"), QStringLiteral("unknown"));
}

void TierStatePanel::showInspection(const ops::SessionInspection& in, qint64 checkedAtMs) {
  checkedAtMs_ = checkedAtMs > 0 ? checkedAtMs : QDateTime::currentMSecsSinceEpoch();
  checked_->setText(QStringLiteral("checked %1").arg(shortTime(checkedAtMs_)));
  const bool cached = in.l1.present || in.l2.present;
  if (in.stale) {
    QStringList fields;
    for (const auto& f : in.diff) fields << fromStd(f);
    const QString which = in.l1_stale && in.l2_stale ? QStringLiteral("cached copies (L1 and L2) differ")
                          : in.l2_stale              ? QStringLiteral("cached copy in L2 differs")
                                                     : QStringLiteral("cached copy in L1 differs");
    QString html = QStringLiteral("<b>Stale</b>: the %1 from the database in %2.")
                       .arg(which, fields.join(QStringLiteral(", ")).toHtmlEscaped());
    const QStringList lines = staleFieldLines(in);
    if (!lines.isEmpty()) {
      html += QStringLiteral("<br/>");
      for (const QString& l : lines) html += QStringLiteral("\u2022 %1<br/>").arg(l.toHtmlEscaped());
      html.chop(5);
    }
    setBanner(html, QStringLiteral("warn"));
  } else if (!in.l2_error.empty() && !in.l2.present) {
    // Redis could not be read: "not cached" or "in sync" would be a guess.
    setBanner(QStringLiteral("<b>L2 unknown</b>: Redis could not be read, so whether it holds a copy (and whether that "
                             "copy is current) is not known.%1")
                  .arg(in.l1.present ? QStringLiteral(" This console's L1 copy matches the database.") : QString()),
              QStringLiteral("warn"));
  } else if (cached) {
    setBanner(QStringLiteral("<b>In sync</b>: the cached copies match the database (version %1).").arg(in.l3_version),
              QStringLiteral("ok"));
  } else {
    setBanner(QStringLiteral("<b>Not cached</b>: only the database holds this session; the next read loads it."),
              QStringLiteral("neutral"));
  }

  const QString sep = QStringLiteral(" · ");
  auto copyDetail = [](const ops::TierCopy& c) {
    return QStringList{QStringLiteral("version %1").arg(c.version), formatSize(c.bytes)};
  };
  auto written = [](const ops::TierCopy& c) {
    return c.written_at_ms > 0 ? QStringLiteral("written %1").arg(shortTime(c.written_at_ms)) : QString();
  };
  // A cached copy that differs from the row is amber, not green.
  auto copyTone = [&in](const ops::TierCopy& c) {
    return in.stale && (c.version != in.l3_version || !in.l3_present) ? QStringLiteral("warn") : QStringLiteral("ok");
  };

  if (in.l1.present)
    setRow(0, QStringLiteral("present"), copyTone(in.l1), copyDetail(in.l1).join(sep), written(in.l1));
  else
    setRow(0, QStringLiteral("absent"), QStringLiteral("neutral"), QStringLiteral("not in this console's memory"));

  if (!in.l2_error.empty() && !in.l2.present) {
    setRow(1, QStringLiteral("error"), QStringLiteral("bad"), fromStd(in.l2_error));
  } else if (in.l2.present) {
    QStringList parts = copyDetail(in.l2);
    parts << (in.l2_ttl_s == -1 ? QStringLiteral("no expiry") : QStringLiteral("TTL %1").arg(formatTtl(in.l2_ttl_s)));
    QStringList sub{in.l2_generation_current ? QStringLiteral("current generation")
                                             : QStringLiteral("older generation: reads treat it as a miss")};
    if (const QString w = written(in.l2); !w.isEmpty()) sub << w;
    if (!in.l2_error.empty()) sub << fromStd(in.l2_error);
    setRow(1, QStringLiteral("present"), in.l2_generation_current ? copyTone(in.l2) : QStringLiteral("warn"),
           parts.join(sep), sub.join(sep));
  } else {
    setRow(1, QStringLiteral("absent"), QStringLiteral("neutral"), QStringLiteral("no key in Redis"));
  }

  if (in.l3_present) {
    QStringList parts{QStringLiteral("version %1").arg(in.l3_version)};
    QString sub;
    if (in.l3) {
      parts << QStringLiteral("%1 messages").arg(QLocale().toString(in.l3->message_count));
      sub = QStringLiteral("created %1 · last active %2").arg(shortTime(in.l3->created_at), shortTime(in.l3->last_active_at));
    }
    setRow(2, QStringLiteral("present"), QStringLiteral("ok"), parts.join(sep), sub);
  } else {
    setRow(2, QStringLiteral("absent"), QStringLiteral("bad"), QStringLiteral("deleted from the database"));
  }
}

QString TierStatePanel::bannerText() const {
  QString t = banner_->text();
  t.remove(QStringLiteral("<b>")).remove(QStringLiteral("</b>")).replace(QStringLiteral("<br/>"), QStringLiteral("\n"));
  // The plain text a reader sees: entities back to characters.
  t.replace(QStringLiteral("&quot;"), QStringLiteral("\""))
      .replace(QStringLiteral("&lt;"), QStringLiteral("<"))
      .replace(QStringLiteral("&gt;"), QStringLiteral(">"))
      .replace(QStringLiteral("&#x27;"), QStringLiteral("'"))
      .replace(QStringLiteral("&amp;"), QStringLiteral("&"));
  return t;
}

QString TierStatePanel::tierText(int tier) const {
  if (tier < 0 || tier > 2) return {};
  QString t = rows_[tier].chip->text() + QStringLiteral(" · ") + rows_[tier].detail->text();
  if (!rows_[tier].sub->text().isEmpty()) t += QStringLiteral(" · ") + rows_[tier].sub->text();
  return t;
}

MessageThreadView::MessageThreadView(QWidget* parent) : QTextBrowser(parent) {
  setObjectName(QStringLiteral("threadView"));
  setReadOnly(true);
  setOpenLinks(false);
  setFrameShape(QFrame::StyledPanel);
  setPlaceholderText(QStringLiteral("No messages."));
}

void MessageThreadView::showMessages(const std::vector<repo::ChatMessage>& messages) {
  messages_ = messages;
  count_ = static_cast<int>(messages_.size());
  render();
}

void MessageThreadView::changeEvent(QEvent* event) {
  QTextBrowser::changeEvent(event);
  if (event->type() == QEvent::PaletteChange && count_ > 0) render();
}

void MessageThreadView::render() {
  const QString muted = palette().color(QPalette::PlaceholderText).name();
  QString html;
  html.reserve(static_cast<qsizetype>(messages_.size()) * 400);
  for (const auto& m : messages_) {
    const QString colour = roleColor(m.role).name();
    QString role = fromStd(m.role).toHtmlEscaped();
    if (!role.isEmpty()) role[0] = role[0].toUpper();
    QString content = fromStd(m.content).toHtmlEscaped();
    content.replace(QLatin1Char('\n'), QStringLiteral("<br/>"));
    html += QStringLiteral(
                "<table width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" style=\"margin-bottom:8px\"><tr>"
                "<td width=\"4\" bgcolor=\"%1\"></td><td width=\"8\"></td><td>"
                "<span style=\"color:%1;font-weight:600\">%2</span>"
                "&nbsp;&nbsp;<span style=\"color:%3\">#%4 · %5</span><br/>%6</td></tr></table>")
                .arg(colour, role, muted, QString::number(m.seq), timeText(m.created_at), content);
  }
  setHtml(html);
  moveCursor(QTextCursor::End);  // the latest message is what support reads first
  ensureCursorVisible();
}

}  // namespace tier::ui
