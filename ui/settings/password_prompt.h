#pragma once
// When a server refuses the login (wrong or missing password), try the
// password kept in the OS keychain for this profile once, else ask for one and
// reconnect with it inserted into the URL/conninfo in memory only. Cancel stops
// asking until the next connect started elsewhere (File ▸ Connect…).
#include <QObject>
#include <QPointer>

#include "common/core_service.h"

class QWidget;

namespace tier::ui {

class KeychainStore;

class PasswordPrompter : public QObject {
  Q_OBJECT
 public:
  PasswordPrompter(CoreService* service, QWidget* window);

 Q_SIGNALS:
  // The prompt is up (tests answer it).
  void promptShown(QWidget* dialog);

 private:
  enum class Server { Redis, Postgres };
  void onLinkChanged(Server server, const LinkStatus& status);
  void onConnecting();
  void prompt(Server server, const QString& detail);
  void reconnectWith(Server server, const QString& password);

  CoreService* service_;
  QPointer<QWidget> window_;
  KeychainStore* keychain_;
  bool busy_ = false;           // a keychain read or a prompt is in progress
  bool own_connect_ = false;    // the next connecting() is ours
  bool suppressed_ = false;     // the user cancelled: wait for a connect from elsewhere
  bool keychain_tried_ = false; // per connection sequence
};

}  // namespace tier::ui
