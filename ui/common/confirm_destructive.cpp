#include "common/confirm_destructive.h"

#include <QMessageBox>
#include <QPushButton>

#include "operations/confirm_invalidate_dialog.h"
#include "settings/profile_store.h"

namespace tier::ui {

void confirmDestructive(QWidget* parent, const ProfileTags& tags, const DestructiveConfirm& c,
                        std::function<void()> onConfirmed) {
  if (tags.production) {
    auto* dialog = new ConfirmInvalidateDialog(
        c.question,
        c.detail + QStringLiteral(" This is the production profile \u2018%1\u2019, so please type to confirm.")
                       .arg(tags.profile),
        c.action, c.typed, parent);
    dialog->setObjectName(c.objectName);
    if (!c.title.isEmpty()) dialog->setWindowTitle(c.title);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(dialog, &QDialog::finished, parent, [dialog, onConfirmed = std::move(onConfirmed)](int result) {
      dialog->setObjectName(QString());  // closing: a new request may ask again
      if (result == QDialog::Accepted) onConfirmed();
    });
    dialog->open();
    return;
  }
  auto* box = new QMessageBox(QMessageBox::Warning, c.title, c.question, QMessageBox::NoButton, parent);
  box->setObjectName(c.objectName);
  box->setInformativeText(c.detail);
  QPushButton* yes = box->addButton(c.action, QMessageBox::DestructiveRole);
  QPushButton* cancel = box->addButton(QMessageBox::Cancel);
  box->setDefaultButton(cancel);
  box->setEscapeButton(cancel);
  box->setAttribute(Qt::WA_DeleteOnClose);
  QObject::connect(box, &QMessageBox::finished, parent, [box, yes, onConfirmed = std::move(onConfirmed)] {
    box->setObjectName(QString());
    if (box->clickedButton() == yes) onConfirmed();
  });
  box->open();
}

}  // namespace tier::ui
