#include "settings/password_prompt.h"

#include <QInputDialog>
#include <QLineEdit>
#include <QWidget>

#include "settings/credentials.h"

namespace tier::ui {

PasswordPrompter::PasswordPrompter(CoreService* service, QWidget* window)
    : QObject(window), service_(service), window_(window), keychain_(new KeychainStore(this)) {
  connect(service_, &CoreService::redisLinkChanged, this, [this](const LinkStatus& s) { onLinkChanged(Server::Redis, s); });
  connect(service_, &CoreService::postgresLinkChanged, this,
          [this](const LinkStatus& s) { onLinkChanged(Server::Postgres, s); });
  connect(service_, &CoreService::connecting, this, &PasswordPrompter::onConnecting);
}

void PasswordPrompter::onConnecting() {
  if (!own_connect_) {
    suppressed_ = false;
    keychain_tried_ = false;
    busy_ = false;  // a connect from elsewhere supersedes a pending keychain read
  }
  own_connect_ = false;
}

void PasswordPrompter::onLinkChanged(Server server, const LinkStatus& status) {
  if (busy_ || suppressed_ || status.state != LinkState::Down || !isAuthenticationFailure(status.detail)) return;
  if (service_->settings().sandbox) return;  // the sandbox has its own credentials
  busy_ = true;
  if (!keychain_tried_ && KeychainStore::available()) {
    keychain_tried_ = true;
    const QString key = KeychainStore::key(service_->settings().profile,
                                           server == Server::Redis ? QStringLiteral("redis") : QStringLiteral("postgres"));
    // The read is asynchronous (a keyring may ask to be unlocked): its answer
    // only counts for the connection it was asked for.
    const std::uint64_t generation = service_->currentGeneration();
    keychain_->read(key, [this, server, generation, detail = status.detail](bool ok, const QString& password) {
      if (service_->currentGeneration() != generation) {
        busy_ = false;
        return;
      }
      if (ok && !password.isEmpty()) return reconnectWith(server, password);
      prompt(server, detail);
    });
    return;
  }
  prompt(server, status.detail);
}

void PasswordPrompter::prompt(Server server, const QString& detail) {
  const QString name = server == Server::Redis ? QStringLiteral("Redis") : QStringLiteral("PostgreSQL");
  auto* dialog = new QInputDialog(window_);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setObjectName(QStringLiteral("passwordPrompt"));
  dialog->setWindowTitle(QStringLiteral("%1 password").arg(name));
  dialog->setInputMode(QInputDialog::TextInput);
  dialog->setTextEchoMode(QLineEdit::Password);
  dialog->setLabelText(QStringLiteral("%1 refused the login for profile “%2”:\n%3\n\nEnter the password to try again. "
                                      "It is used for this session only and not written anywhere.")
                           .arg(name, service_->settings().profile, detail));
  dialog->setOkButtonText(QStringLiteral("&Reconnect"));
  connect(dialog, &QInputDialog::textValueSelected, this, [this, server](const QString& pw) { reconnectWith(server, pw); });
  connect(dialog, &QInputDialog::rejected, this, [this] {
    busy_ = false;
    suppressed_ = true;
  });
  dialog->open();
  Q_EMIT promptShown(dialog);
}

void PasswordPrompter::reconnectWith(Server server, const QString& password) {
  busy_ = false;
  ConnectionSettings s = service_->settings();
  if (server == Server::Redis)
    s.redis_url = withRedisPassword(s.redis_url, password);
  else
    s.pg_conninfo = withPgPassword(s.pg_conninfo, password);
  own_connect_ = true;
  service_->connectTo(s);
}

}  // namespace tier::ui
