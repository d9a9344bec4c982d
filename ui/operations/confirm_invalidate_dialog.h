#pragma once
// Asks before an invalidation deletes anything. Above the confirmation
// threshold the person must type a word (the namespace, or the key / user id)
// before the destructive button enables; below it, one click confirms.
// Cancel is the default button and Esc rejects.
#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;

namespace tier::ui {

class ConfirmInvalidateDialog : public QDialog {
  Q_OBJECT
 public:
  // typeToConfirm empty = no typing required.
  ConfirmInvalidateDialog(const QString& question, const QString& detail, const QString& actionText,
                          const QString& typeToConfirm, QWidget* parent = nullptr);

  QLineEdit* confirmEdit() const { return edit_; }       // null when no typing is required
  QPushButton* confirmButton() const { return confirm_; }
  bool requiresTyping() const { return edit_ != nullptr; }

 private Q_SLOTS:
  void onTypedTextChanged(const QString& text);

 private:
  QString expected_;
  QLineEdit* edit_ = nullptr;
  QPushButton* confirm_ = nullptr;
};

}  // namespace tier::ui
