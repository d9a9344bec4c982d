#pragma once
// Asks before a destructive action on one target (evict, expire, invalidate
// keys). On a production profile the person types the target (the id, the key,
// the number of keys) before the button enables; elsewhere a warning box whose
// default button is Cancel. Non-modal (open(): no nested event loop, and tests
// can answer it). GUI thread only.
#include <QString>

#include <functional>

class QWidget;

namespace tier::ui {

struct ProfileTags;

struct DestructiveConfirm {
  QString title;       // window title, e.g. "Evict session 7"
  QString question;    // "Evict session 7 from L1 and L2?"
  QString detail;      // what happens; production adds the profile's line
  QString action;      // the destructive button, e.g. "&Evict"
  QString typed;       // what a production profile must type
  QString objectName;  // how tests and "already asking" checks find it; cleared once answered
};

// Calls onConfirmed (on the GUI thread) if the person confirms; nothing otherwise.
void confirmDestructive(QWidget* parent, const ProfileTags& tags, const DestructiveConfirm& c,
                        std::function<void()> onConfirmed);

}  // namespace tier::ui
