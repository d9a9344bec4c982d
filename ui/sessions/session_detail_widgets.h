#pragma once
// The two halves of a session's detail: where it lives (per tier, with the
// stale flag) and its latest messages. Both render a SessionInspection value;
// neither talks to the core. GUI thread only.
#include <QFrame>
#include <QTextBrowser>

#include "tier/ops/inspect.h"

class QLabel;

namespace tier::ui {

// L1 / L2 / L3 rows (present, version, TTL, size, generation) under a banner
// that says whether the cached copy is stale and which fields differ.
class TierStatePanel : public QFrame {
  Q_OBJECT
 public:
  explicit TierStatePanel(QWidget* parent = nullptr);
  // `checkedAtMs`: when the tiers were read (0 = now); shown beside the heading.
  void showInspection(const ops::SessionInspection& in, qint64 checkedAtMs = 0);
  void showLoading();
  void showError(const QString& sentence);
  // A server went down since the facts were read: they are shown as unknown, with why and since when.
  void markUnknown(const QString& why);
  // "checked 23:41:07" (or "unknown since …"); empty before the first inspection.
  QString checkedText() const;
  qint64 checkedAtMs() const { return checkedAtMs_; }
  // The banner's plain text, e.g. "Stale: the cached copy differs from the database in title, version."
  QString bannerText() const;
  // The row text of a tier (0 = L1, 1 = L2, 2 = L3): "present · version 12 · 2.3 kB · TTL … · current generation · …".
  QString tierText(int tier) const;

 protected:
  void changeEvent(QEvent* event) override;  // re-tint the banner on a palette change (light/dark)

 private:
  struct Row {
    QLabel* chip;
    QLabel* detail;  // the facts: version, size, TTL
    QLabel* sub;     // muted second line: generation, write time; hidden when empty
  };
  void setBanner(const QString& text, const QString& tone);
  void setRow(int tier, const QString& chip, const QString& tone, const QString& detail, const QString& sub = {});
  QLabel* banner_;
  QLabel* checked_;
  qint64 checkedAtMs_ = 0;
  QString bannerTone_;
  Row rows_[3];
};

// Read-only thread: one block per message, a role-coloured bar, seq and time.
class MessageThreadView : public QTextBrowser {
  Q_OBJECT
 public:
  explicit MessageThreadView(QWidget* parent = nullptr);
  void showMessages(const std::vector<repo::ChatMessage>& messages);
  int messageCount() const { return count_; }

 protected:
  void changeEvent(QEvent* event) override;  // re-render on a palette change (light/dark)

 private:
  std::vector<repo::ChatMessage> messages_;
  int count_ = 0;
  void render();
};

// Each differing field as "field: cached … · database …" (values cut to a readable length;
// arrays as their length), from the cached copy and the database row of an inspection.
QStringList staleFieldLines(const ops::SessionInspection& in);

// "1 h 59 min", "4 min 12 s"; "no expiry" for -1; "" for -2 (absent).
QString formatTtl(long long seconds);
// "2.3 KB"
QString formatSize(std::size_t bytes);
// The colour of a chat role's bar and name (user, assistant, system).
QColor roleColor(const std::string& role);

}  // namespace tier::ui
