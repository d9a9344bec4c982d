#pragma once
// Passwords for a connection: inserted into a Redis URL or a libpq conninfo in
// memory only, kept in the OS keychain (qtkeychain) when one is available, and
// asked for when a server refuses the login.
#include <QObject>
#include <QString>

#include <functional>

namespace tier::ui {

// The URL with this password (percent-encoded); unix:// URLs get ?password=.
// An empty password returns the URL unchanged.
QString withRedisPassword(const QString& redisUrl, const QString& password);
// The conninfo with this password: a postgresql:// URI gets it in the userinfo,
// a "k=v" conninfo gets password='...' (quoted, \ and ' escaped), replacing any.
QString withPgPassword(const QString& conninfo, const QString& password);
// Whether a server's message says the login (not a command) was refused:
// wrong/missing password, unknown user.
bool isAuthenticationFailure(const QString& message);

// Passwords in the OS keychain, service "TierConsole", key "<profile>/redis" or
// "<profile>/postgres". Asynchronous (the keychain may ask the user); callbacks
// run on the GUI thread. Where no keychain service runs (no D-Bus secret
// service, or built without qtkeychain) every call fails with a sentence and
// available() turns false: nothing is stored anywhere else.
class KeychainStore : public QObject {
  Q_OBJECT
 public:
  explicit KeychainStore(QObject* parent = nullptr);

  static bool compiledIn();
  // False once a call found no keychain service; true until then.
  static bool available();
  static QString unavailableReason();

  static QString key(const QString& profile, const QString& server) { return profile + QLatin1Char('/') + server; }

  // done(ok, password or error sentence). A missing entry is ok with "".
  void read(const QString& key, std::function<void(bool, QString)> done);
  // done(ok, error sentence)
  void write(const QString& key, const QString& password, std::function<void(bool, QString)> done);
  void remove(const QString& key, std::function<void(bool, QString)> done);
};

}  // namespace tier::ui
