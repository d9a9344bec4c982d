#pragma once
// Helpers shared by the Operations panels.
#include <QAction>
#include <QColor>
#include <QPushButton>

namespace tier::ui {

// The button triggers the action and mirrors its enabled state, text and tooltip,
// so a shortcut and a click always do the same thing.
inline void bindButton(QPushButton* button, QAction* action) {
  auto sync = [button, action] {
    button->setEnabled(action->isEnabled());
    button->setToolTip(action->toolTip());
  };
  QObject::connect(button, &QPushButton::clicked, action, &QAction::trigger);
  QObject::connect(action, &QAction::changed, button, sync);
  sync();
}

// The tooltip for an action: what it does, then its shortcut.
inline QString withShortcut(const QString& what, const QKeySequence& keys) {
  return QStringLiteral("%1 (%2)").arg(what, keys.toString(QKeySequence::NativeText));
}

// Status colours (the only hard-coded colours; readable on light and dark palettes).
inline QColor statusGreen() { return QColor(0x2e, 0xa0, 0x43); }
inline QColor statusAmber() { return QColor(0xe0, 0x9b, 0x2d); }
inline QColor statusRed() { return QColor(0xd9, 0x53, 0x4f); }

}  // namespace tier::ui
