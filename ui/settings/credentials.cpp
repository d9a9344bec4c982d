#include "settings/credentials.h"

#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>

#include <atomic>

#ifdef TIER_HAVE_KEYCHAIN
#include <qt6keychain/keychain.h>
#endif

namespace tier::ui {

namespace {
const QString kService = QStringLiteral("TierConsole");
std::atomic<bool> g_available{true};
QString g_reason;  // GUI thread only

QString quoteConninfoValue(const QString& v) {
  QString out = v;
  out.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
  out.replace(QLatin1Char('\''), QLatin1String("\\'"));
  return QLatin1Char('\'') + out + QLatin1Char('\'');
}
}  // namespace

QString withRedisPassword(const QString& redisUrl, const QString& password) {
  if (password.isEmpty()) return redisUrl;
  QUrl url(redisUrl.trimmed(), QUrl::StrictMode);
  if (!url.isValid()) return redisUrl;
  if (url.scheme() == QLatin1String("unix")) {
    QUrlQuery q(url);
    q.removeAllQueryItems(QStringLiteral("password"));
    q.addQueryItem(QStringLiteral("password"), QString::fromLatin1(QUrl::toPercentEncoding(password)));
    url.setQuery(q);
    return url.toString(QUrl::FullyEncoded);
  }
  url.setPassword(password, QUrl::DecodedMode);
  return url.toString(QUrl::FullyEncoded);
}

QString withPgPassword(const QString& conninfo, const QString& password) {
  if (password.isEmpty()) return conninfo;
  const QString t = conninfo.trimmed();
  if (t.startsWith(QLatin1String("postgresql://")) || t.startsWith(QLatin1String("postgres://"))) {
    QUrl url(t, QUrl::StrictMode);
    if (url.isValid()) {
      url.setPassword(password, QUrl::DecodedMode);
      return url.toString(QUrl::FullyEncoded);
    }
  }
  static const QRegularExpression kv(QStringLiteral("\\s*\\bpassword\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S*)"),
                                     QRegularExpression::CaseInsensitiveOption);
  QString out = t;
  out.replace(kv, QString());
  out = out.trimmed();
  return (out.isEmpty() ? QString() : out + QLatin1Char(' ')) + QStringLiteral("password=") + quoteConninfoValue(password);
}

bool isAuthenticationFailure(const QString& message) {
  static const QRegularExpression re(
      QStringLiteral("authentication failed|no password supplied|WRONGPASS|NOAUTH|invalid username-password|"
                     "password is required|refused the login"),
      QRegularExpression::CaseInsensitiveOption);
  return re.match(message).hasMatch();
}

// ---- KeychainStore ------------------------------------------------------------

KeychainStore::KeychainStore(QObject* parent) : QObject(parent) {}

bool KeychainStore::compiledIn() {
#ifdef TIER_HAVE_KEYCHAIN
  return true;
#else
  return false;
#endif
}

bool KeychainStore::available() { return compiledIn() && g_available.load(); }

QString KeychainStore::unavailableReason() {
  if (!compiledIn()) return QStringLiteral("This build has no keychain support.");
  return g_reason.isEmpty() ? QStringLiteral("No keychain service is available here.") : g_reason;
}

#ifdef TIER_HAVE_KEYCHAIN
namespace {
// Marks the keychain unavailable for errors that say there is no service at all.
QString noteError(QKeychain::Job* job) {
  const auto e = job->error();
  QString sentence = QStringLiteral("The keychain refused: %1").arg(job->errorString());
  if (e == QKeychain::NoBackendAvailable || e == QKeychain::NotImplemented || e == QKeychain::OtherError) {
    g_available = false;
    const QString detail = job->errorString();
    g_reason = detail.isEmpty() || detail.compare(QLatin1String("Unknown error"), Qt::CaseInsensitive) == 0
                   ? QStringLiteral("No keychain service is available here.")
                   : QStringLiteral("No keychain service is available here (%1).").arg(detail);
    sentence = g_reason;
  }
  return sentence;
}
}  // namespace

void KeychainStore::read(const QString& key, std::function<void(bool, QString)> done) {
  auto* job = new QKeychain::ReadPasswordJob(kService, this);
  job->setAutoDelete(true);
  job->setInsecureFallback(false);
  job->setKey(key);
  connect(job, &QKeychain::Job::finished, this, [done](QKeychain::Job* j) {
    auto* r = static_cast<QKeychain::ReadPasswordJob*>(j);
    if (j->error() == QKeychain::NoError) return done(true, r->textData());
    if (j->error() == QKeychain::EntryNotFound) return done(true, QString());
    done(false, noteError(j));
  });
  job->start();
}

void KeychainStore::write(const QString& key, const QString& password, std::function<void(bool, QString)> done) {
  auto* job = new QKeychain::WritePasswordJob(kService, this);
  job->setAutoDelete(true);
  job->setInsecureFallback(false);  // never a plain-text file
  job->setKey(key);
  job->setTextData(password);
  connect(job, &QKeychain::Job::finished, this, [done](QKeychain::Job* j) {
    if (j->error() == QKeychain::NoError) return done(true, QString());
    done(false, noteError(j));
  });
  job->start();
}

void KeychainStore::remove(const QString& key, std::function<void(bool, QString)> done) {
  auto* job = new QKeychain::DeletePasswordJob(kService, this);
  job->setAutoDelete(true);
  job->setInsecureFallback(false);
  job->setKey(key);
  connect(job, &QKeychain::Job::finished, this, [done](QKeychain::Job* j) {
    if (j->error() == QKeychain::NoError || j->error() == QKeychain::EntryNotFound) return done(true, QString());
    done(false, noteError(j));
  });
  job->start();
}
#else
void KeychainStore::read(const QString&, std::function<void(bool, QString)> done) {
  QMetaObject::invokeMethod(this, [done] { done(false, unavailableReason()); }, Qt::QueuedConnection);
}
void KeychainStore::write(const QString&, const QString&, std::function<void(bool, QString)> done) {
  QMetaObject::invokeMethod(this, [done] { done(false, unavailableReason()); }, Qt::QueuedConnection);
}
void KeychainStore::remove(const QString&, std::function<void(bool, QString)> done) {
  QMetaObject::invokeMethod(this, [done] { done(false, unavailableReason()); }, Qt::QueuedConnection);
}
#endif

}  // namespace tier::ui
