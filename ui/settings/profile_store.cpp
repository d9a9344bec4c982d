#include "settings/profile_store.h"

#include <QRegularExpression>
#include <QSettings>
#include <QUrl>
#include <QUrlQuery>

#include "alerts/alert_notify.h"

namespace tier::ui {

namespace {
QSettings store() { return QSettings(QStringLiteral("TierConsole"), QStringLiteral("tierconsole")); }
}  // namespace

QString stripPassword(const QString& text) {
  const QString t = text.trimmed();
  if (t.contains(QLatin1String("://"))) {
    QUrl url(t, QUrl::StrictMode);
    if (url.isValid()) {
      url.setPassword(QString());
      // Redis (unix://…?password=) and libpq URIs (?password=) also take it as a query item.
      QUrlQuery query(url);
      for (const auto& item : query.queryItems())
        if (item.first.compare(QLatin1String("password"), Qt::CaseInsensitive) == 0) query.removeAllQueryItems(item.first);
      url.setQuery(query.isEmpty() ? QString() : query.query(QUrl::FullyEncoded), QUrl::StrictMode);
      if (url.query().isEmpty()) url.setQuery(QString());
      QString out = url.toString(QUrl::FullyEncoded);
      // Legacy "redis://:pw@host": an empty user with no password leaves "//@host".
      out.replace(QLatin1String("://@"), QLatin1String("://"));
      return out;
    }
    // Not parseable as a URL: drop the credentials part and any password item entirely.
    static const QRegularExpression creds(QStringLiteral("://[^/\\s]*@"));
    static const QRegularExpression item(QStringLiteral("([?&])password=[^&\\s]*&?"),
                                         QRegularExpression::CaseInsensitiveOption);
    QString out = t;
    out.replace(creds, QStringLiteral("://"));
    return out.replace(item, QStringLiteral("\\1"));
  }
  static const QRegularExpression kv(QStringLiteral("\\s*\\bpassword\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S*)"),
                                     QRegularExpression::CaseInsensitiveOption);
  QString out = t;
  return out.replace(kv, QString()).trimmed();
}

QStringList ProfileStore::profileNames() const {
  auto s = store();
  s.beginGroup(QStringLiteral("profiles"));
  return s.childGroups();
}

std::optional<Profile> ProfileStore::profile(const QString& name) const {
  auto s = store();
  s.beginGroup(QStringLiteral("profiles"));
  if (!s.childGroups().contains(name)) return std::nullopt;
  s.beginGroup(name);
  Profile p;
  p.name = name;
  p.redis_url = s.value(QStringLiteral("redis_url")).toString();
  p.pg_conninfo = s.value(QStringLiteral("pg_conninfo")).toString();
  p.pg_replica_conninfo = s.value(QStringLiteral("pg_replica_conninfo")).toString();
  p.production = s.value(QStringLiteral("production"), false).toBool();
  p.colour = s.value(QStringLiteral("colour")).toString();
  p.read_only = s.value(QStringLiteral("read_only"), false).toBool();
  p.warm_on_start = s.value(QStringLiteral("warm_on_start"), p.warm_on_start).toString();
  return p;
}

ProfileTags profileTags(const ConnectionSettings& settings) {
  ProfileTags t;
  if (settings.sandbox) return t;
  t.profile = settings.profile;
  const auto p = ProfileStore().profile(settings.profile);
  if (!p) return t;
  t.production = p->production;
  t.read_only = p->read_only;
  if (t.production) {
    t.colour = QColor(p->colour);
    if (!t.colour.isValid()) t.colour = QColor(QLatin1String(kDefaultProductionColour));
  }
  return t;
}

Profile ProfileStore::saveProfile(const Profile& p) {
  Profile clean = p;
  clean.redis_url = stripPassword(p.redis_url);
  clean.pg_conninfo = stripPassword(p.pg_conninfo);
  clean.pg_replica_conninfo = stripPassword(p.pg_replica_conninfo);
  // Only a colour Qt can parse is kept, as #rrggbb.
  clean.colour = QColor(p.colour).isValid() ? QColor(p.colour).name() : QString();
  auto s = store();
  s.beginGroup(QStringLiteral("profiles"));
  s.beginGroup(p.name);
  s.setValue(QStringLiteral("redis_url"), clean.redis_url);
  s.setValue(QStringLiteral("pg_conninfo"), clean.pg_conninfo);
  if (clean.pg_replica_conninfo.isEmpty())
    s.remove(QStringLiteral("pg_replica_conninfo"));
  else
    s.setValue(QStringLiteral("pg_replica_conninfo"), clean.pg_replica_conninfo);
  s.setValue(QStringLiteral("production"), clean.production);
  s.setValue(QStringLiteral("read_only"), clean.read_only);
  s.setValue(QStringLiteral("warm_on_start"), clean.warm_on_start.isEmpty() ? QStringLiteral("none") : clean.warm_on_start);
  if (clean.colour.isEmpty())
    s.remove(QStringLiteral("colour"));
  else
    s.setValue(QStringLiteral("colour"), clean.colour);
  return clean;
}

void ProfileStore::removeProfile(const QString& name) {
  auto s = store();
  s.beginGroup(QStringLiteral("profiles"));
  s.remove(name);
}

QString ProfileStore::fileName() const { return store().fileName(); }

void ProfileStore::sync() { store().sync(); }

QString ProfileStore::lastProfile() const { return store().value(QStringLiteral("last_profile")).toString(); }
void ProfileStore::setLastProfile(const QString& name) { store().setValue(QStringLiteral("last_profile"), name); }

ConnectionSettings ProfileStore::loadSettings() const {
  ConnectionSettings c;
  auto s = store();
  auto num = [&](const QString& key, double fallback) {
    bool ok = false;
    const double v = s.value(key).toDouble(&ok);
    return ok && v > 0 ? v : fallback;
  };
  // Same keys tierctl --threshold reads (group "thresholds").
  for (const auto& name : metrics::thresholdNames()) {
    double* limit = metrics::thresholdLimit(c.thresholds, name);
    *limit = num(QStringLiteral("thresholds/") + QString::fromStdString(name), *limit);
  }
  c.thresholds.hit_rate_min = std::min(1.0, c.thresholds.hit_rate_min);
  c.policies.entry.ttl = std::chrono::seconds(static_cast<long long>(num(QStringLiteral("ttl/entry_s"), double(c.policies.entry.ttl.count()))));
  c.policies.session.ttl = std::chrono::seconds(static_cast<long long>(num(QStringLiteral("ttl/session_s"), double(c.policies.session.ttl.count()))));
  c.policies.user.ttl = std::chrono::seconds(static_cast<long long>(num(QStringLiteral("ttl/user_s"), double(c.policies.user.ttl.count()))));
  c.policies.stats.ttl = std::chrono::seconds(static_cast<long long>(num(QStringLiteral("ttl/stats_s"), double(c.policies.stats.ttl.count()))));
  c.policies.knowledge.ttl = std::chrono::seconds(static_cast<long long>(num(QStringLiteral("ttl/knowledge_s"), double(c.policies.knowledge.ttl.count()))));
  c.thresholds.warn_ratio = std::min(1.0, num(QStringLiteral("thresholds/warn_ratio"), c.thresholds.warn_ratio));
  c.l1_max_entries = static_cast<std::size_t>(num(QStringLiteral("l1/max_entries"), double(c.l1_max_entries)));
  c.l1_max_bytes = static_cast<std::size_t>(num(QStringLiteral("l1/max_mb"), double(c.l1_max_bytes >> 20))) << 20;
  c.refresh_ms = static_cast<int>(num(QStringLiteral("refresh_ms"), c.refresh_ms));
  c.metrics_publish = s.value(QStringLiteral("metrics_publish"), true).toBool();
  return c;
}

void ProfileStore::saveSettings(const ConnectionSettings& c) {
  auto s = store();
  Thresholds t = c.thresholds;
  for (const auto& name : metrics::thresholdNames())
    s.setValue(QStringLiteral("thresholds/") + QString::fromStdString(name), *metrics::thresholdLimit(t, name));
  s.setValue(QStringLiteral("ttl/entry_s"), static_cast<qlonglong>(c.policies.entry.ttl.count()));
  s.setValue(QStringLiteral("ttl/session_s"), static_cast<qlonglong>(c.policies.session.ttl.count()));
  s.setValue(QStringLiteral("ttl/user_s"), static_cast<qlonglong>(c.policies.user.ttl.count()));
  s.setValue(QStringLiteral("ttl/stats_s"), static_cast<qlonglong>(c.policies.stats.ttl.count()));
  s.setValue(QStringLiteral("ttl/knowledge_s"), static_cast<qlonglong>(c.policies.knowledge.ttl.count()));
  s.setValue(QStringLiteral("thresholds/warn_ratio"), c.thresholds.warn_ratio);
  s.setValue(QStringLiteral("l1/max_entries"), static_cast<qulonglong>(c.l1_max_entries));
  s.setValue(QStringLiteral("l1/max_mb"), static_cast<qulonglong>(c.l1_max_bytes >> 20));
  s.setValue(QStringLiteral("refresh_ms"), c.refresh_ms);
  s.setValue(QStringLiteral("metrics_publish"), c.metrics_publish);
}

// Declared in alerts/alert_notify.h; kept here beside the other keys of the settings file.
bool notifyAlertsSetting() { return store().value(QStringLiteral("notify_alerts"), true).toBool(); }
void setNotifyAlertsSetting(bool on) { store().setValue(QStringLiteral("notify_alerts"), on); }

}  // namespace tier::ui
