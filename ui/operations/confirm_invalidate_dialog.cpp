#include "operations/confirm_invalidate_dialog.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace tier::ui {

ConfirmInvalidateDialog::ConfirmInvalidateDialog(const QString& question, const QString& detail,
                                                 const QString& actionText, const QString& typeToConfirm,
                                                 QWidget* parent)
    : QDialog(parent), expected_(typeToConfirm) {
  setObjectName(QStringLiteral("confirmInvalidateDialog"));
  setWindowTitle(QStringLiteral("Confirm invalidation"));
  setModal(true);

  auto* icon = new QLabel(this);
  const int iconSize = style()->pixelMetric(QStyle::PM_MessageBoxIconSize, nullptr, this);
  icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning, nullptr, this).pixmap(iconSize, iconSize));
  icon->setAlignment(Qt::AlignTop);

  auto* questionLabel = new QLabel(question, this);
  questionLabel->setObjectName(QStringLiteral("confirmQuestion"));
  questionLabel->setTextFormat(Qt::PlainText);
  questionLabel->setWordWrap(true);
  QFont f = questionLabel->font();
  f.setBold(true);
  questionLabel->setFont(f);

  auto* detailLabel = new QLabel(detail, this);
  detailLabel->setTextFormat(Qt::PlainText);
  detailLabel->setWordWrap(true);

  auto* text = new QVBoxLayout;
  text->addWidget(questionLabel);
  text->addWidget(detailLabel);

  auto buttons = new QDialogButtonBox(this);
  confirm_ = buttons->addButton(actionText, QDialogButtonBox::AcceptRole);
  confirm_->setObjectName(QStringLiteral("confirmButton"));
  confirm_->setAutoDefault(false);
  auto* cancel = buttons->addButton(QDialogButtonBox::Cancel);
  cancel->setDefault(true);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  if (!expected_.isEmpty()) {
    auto* prompt = new QLabel(this);
    prompt->setTextFormat(Qt::RichText);
    prompt->setText(QStringLiteral("To confirm, type <b>%1</b> below:").arg(expected_.toHtmlEscaped()));
    edit_ = new QLineEdit(this);
    edit_->setObjectName(QStringLiteral("confirmEdit"));
    edit_->setPlaceholderText(expected_);
    edit_->setAccessibleName(QStringLiteral("Type %1 to confirm").arg(expected_));
    text->addSpacing(6);
    text->addWidget(prompt);
    text->addWidget(edit_);
    confirm_->setEnabled(false);
    confirm_->setToolTip(QStringLiteral("Enabled once you have typed %1.").arg(expected_));
    connect(edit_, &QLineEdit::textChanged, this, &ConfirmInvalidateDialog::onTypedTextChanged);
    connect(edit_, &QLineEdit::returnPressed, this, [this] {
      if (confirm_->isEnabled()) accept();
    });
  }

  auto* top = new QHBoxLayout;
  top->addWidget(icon);
  top->addSpacing(8);
  top->addLayout(text, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addSpacing(8);
  layout->addWidget(buttons);
  setMinimumWidth(440);
  if (edit_) edit_->setFocus();
}

void ConfirmInvalidateDialog::onTypedTextChanged(const QString& text) { confirm_->setEnabled(text == expected_); }

}  // namespace tier::ui
