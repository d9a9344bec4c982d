// TIER_TEST_LABELS: reliability
// TIER_TEST_TIMEOUT: 600
// TIER_TEST_ON_CLUSTER
// Hostile input against real servers.
//
// SQL: every payload of tests/data/sql_injection.txt goes through every path
// where user text reaches PostgreSQL (session search, journal search, audit
// filter, user by email, knowledge by topic and slug; through tierctl: inspect
// by id, invalidate by user, audit --filter). Each answer must equal the same
// search done literally (strpos, not LIKE, in a separate parameterised query),
// or be a clean BadInputError for text PostgreSQL cannot hold (NUL, invalid
// UTF-8) or that is over a documented length; and no table changes (row counts
// and md5 of every row compared before and after).
//
// Redis: oversized, truncated, corrupt, binary, wrongly typed values and a
// 512 KB key name planted at cache keys; each read is a clean miss served from
// PostgreSQL, counted in a metric, never an error or a crash.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>
#include <set>

#include "tier/internal/tier_access.h"
#include "core_fixture.h"
#include "data_digest.h"
#include "process_runner.h"
#include "reliability_report.h"
#include "tier/codec/envelope.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/ops/audit.h"
#include "tier/ops/inspect.h"
#include "tier/ops/invalidation.h"
#include "tier/redis/redis_client.h"

using namespace tier;
using metrics::Counter;

namespace {

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

std::string decodeLine(const QByteArray& line) {
  if (line == "@empty") return {};
  if (line.startsWith("@repeat ")) {
    const int sp = line.indexOf(' ', 8);
    const int n = line.mid(8, sp - 8).toInt();
    std::string unit = line.mid(sp + 1).toStdString(), out;
    for (int i = 0; i < n; ++i) out += unit;
    return out;
  }
  std::string out;
  for (int i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      const char n = line[i + 1];
      if (n == '\\') {
        out += '\\';
        ++i;
        continue;
      }
      if (n == 'n') {
        out += '\n';
        ++i;
        continue;
      }
      if (n == 't') {
        out += '\t';
        ++i;
        continue;
      }
      if (n == 'x' && i + 3 < line.size()) {
        bool ok = false;
        const int v = line.mid(i + 2, 2).toInt(&ok, 16);
        if (ok) {
          out += static_cast<char>(v);
          i += 3;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

std::vector<std::string> corpus() {
  QFile f(QStringLiteral(TIER_TEST_SOURCE_DIR "/data/sql_injection.txt"));
  if (!f.open(QIODevice::ReadOnly)) return {};
  std::vector<std::string> out;
  for (QByteArray line : f.readAll().split('\n')) {
    if (line.isEmpty() || line.startsWith('#')) continue;
    out.push_back(decodeLine(line));
  }
  return out;
}

bool validUtf8(const std::string& s) {
  QStringDecoder d(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
  const QString text = d.decode(QByteArrayView(s.data(), static_cast<qsizetype>(s.size())));  // decodes here
  (void)text;
  return !d.hasError();
}
// Text PostgreSQL cannot store as a text parameter: a clean BadInputError is the right answer.
bool unstorable(const std::string& s) {
  return s.find('\0') != std::string::npos || !validUtf8(s);
}

template <typename T>
std::set<std::int64_t> ids(const std::vector<T>& v) {
  std::set<std::int64_t> out;
  for (const auto& x : v) out.insert(x.id);
  return out;
}

std::set<std::int64_t> idsOf(pg::Result&& r) {
  std::set<std::int64_t> out;
  for (int i = 0; i < r.rows(); ++i) out.insert(r.toInt(i, 0));
  return out;
}

QByteArray printable(const std::string& s) {
  QByteArray b = QByteArray::fromStdString(s.substr(0, 60)).toPercentEncoding(" '\"%;-_()&|!:*<>$@");
  if (s.size() > 60) b += "...(" + QByteArray::number(qulonglong(s.size())) + " bytes)";
  return b;
}

}  // namespace

class TestHostileInput : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> core_;
  QTemporaryDir config_;
  std::vector<std::string> corpus_;
  std::int64_t pctUser_ = 0;
  std::set<std::int64_t> pctSessions_;

  std::uint64_t counter(Counter c) { return core_->metrics().snapshot(std::chrono::seconds(0)).counter(c); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(config_.isValid());
    corpus_ = corpus();
    QVERIFY2(corpus_.size() >= 50, "tests/data/sql_injection.txt missing or short");
    test::seededServers();
    core_ = std::make_unique<TierCore>(test::coreConfig("hostile"));
    // Rows whose text holds the characters LIKE, quoting and tsquery treat specially,
    // so a literal search for them has something to find.
    const char* emails[] = {"pct%user@example.com", "under_score@example.com", "quote'o@example.com",
                            "back\\slash@example.com", "star*glob@example.com"};
    for (const char* e : emails) {
      auto u = core_->users().create(e, std::string("Hostile ") + e);
      auto s = core_->sessions().create(u.id, std::string("title ") + e);
      if (std::string(e).find('%') != std::string::npos) {
        pctUser_ = u.id;
        pctSessions_.insert(s.id);
      }
      core_->entries().create(u.id, repo::EntryDraft{std::string("note 100% ") + e, "body a & b | !c", 5, {}});
    }
    for (const char* a : {"test.pct%", "test.under_score", "test.quote'", "test.back\\slash", "test.semi;colon"})
      ops::writeAudit(*core_, ops::AuditRecord{a, "{}", false, 0, 0, "ok", 1.0});
  }

  void cleanupTestCase() { core_.reset(); }

  void sqlInjectionCorpusChangesNothing() {
    const auto before = test::pgDigest(*core_);
    auto c = core_->pg().acquire();
    int runs = 0, bad = 0;
    auto fail = [&](const char* path, const std::string& p, const std::string& why) {
      ++bad;
      qWarning("%s [%s]: %s", path, printable(p).constData(), why.c_str());
    };
    // Runs one path: either equal to the literal reference, or a clean bad-input refusal where allowed.
    auto check = [&](const char* path, const std::string& p, std::size_t maxBytes,
                     const std::function<std::set<std::int64_t>()>& actual,
                     const std::function<std::set<std::int64_t>()>& reference) {
      ++runs;
      // maxBytes 0: the contract refuses this text whatever its length (e.g. not a slug).
      const bool mustRefuse = p.size() > maxBytes || maxBytes == 0;
      const bool mayRefuse = unstorable(p) || mustRefuse;
      try {
        const auto got = actual();
        if (mustRefuse) return fail(path, p, "over the length limit (or outside the contract) but not refused");
        std::set<std::int64_t> want;
        try {
          want = reference();
        } catch (const Error& e) {
          return fail(path, p, std::string("accepted, but the literal reference query fails: ") + e.what());
        }
        if (got != want)
          fail(path, p,
               "answer differs from a literal search (" + std::to_string(got.size()) + " vs " +
                   std::to_string(want.size()) + " rows)");
      } catch (const BadInputError& e) {
        if (!mayRefuse) fail(path, p, std::string("refused as bad input: ") + e.what());
        if (std::string(e.what()).find('\n') != std::string::npos) fail(path, p, "multi-line message");
      } catch (const std::exception& e) {
        fail(path, p, std::string("not a clean bad-input error: ") + e.what());
      }
    };
    for (const auto& p : corpus_) {
      check(
          "sessions.find", p, 320, [&] { return ids(core_->sessions().find(p, 100000)); },
          [&] {
            return idsOf(
                c->exec("SELECT s.id FROM chat_sessions s JOIN users u ON u.id = s.user_id WHERE "
                        "($1 ~ '^[0-9]{1,18}$' AND (s.id = ($1)::bigint OR s.user_id = ($1)::bigint)) "
                        "OR lower(u.email) = lower($1) "
                        "OR ($1 ~ '[[:alpha:]@]' AND strpos(lower(u.email), lower($1)) > 0)",
                        {p}));
          });
      check(
          "entries.search", p, 1000, [&] { return ids(core_->entries().search(p, 0, 1000)); },
          [&] {
            return idsOf(
                c->exec("SELECT id FROM journal_entries WHERE content_tsv @@ websearch_to_tsquery('english', $1) "
                        "OR strpos(lower(title), lower($1)) > 0",
                        {p}));
          });
      check(
          "audit filter", p, 1u << 20, [&] { return ids(ops::readAudit(*core_, 100000, p)); },
          [&] {
            return idsOf(
                c->exec("SELECT id FROM cache_audit WHERE $1 = '' OR strpos(lower(action), lower($1)) > 0 "
                        "OR strpos(lower(result), lower($1)) > 0 OR strpos(lower(os_user), lower($1)) > 0",
                        {p}));
          });
      check(
          "users.findByEmail", p, 1u << 20,
          [&] {
            std::set<std::int64_t> s;
            if (auto u = core_->users().findByEmail(p)) s.insert(u->id);
            return s;
          },
          [&] { return idsOf(c->exec("SELECT id FROM users WHERE email = $1", {p})); });
      check(
          "knowledge.listByTopic", p, 1u << 20, [&] { return ids(core_->knowledge().listByTopic(p, 10000)); },
          [&] { return idsOf(c->exec("SELECT id FROM psychology_knowledge WHERE topic = $1", {p})); });
      // A slug is a key part: anything outside [a-z0-9-]{1,128} is bad input by contract.
      check(
          "knowledge.get", p, codec::isValidSlug(p) ? 128 : 0,
          [&] {
            std::set<std::int64_t> s;
            if (auto a = core_->knowledge().get(p).value) s.insert(a->id);
            return s;
          },
          [&] { return idsOf(c->exec("SELECT id FROM psychology_knowledge WHERE slug = $1", {p})); });
    }
    // Spot checks that the equality above means what it should.
    // An email is matched in part only for text with a letter or '@' (issue 19):
    // "t%u" is literal, so only pct%user@ has it; a bare "%" or "_" matches no email.
    QCOMPARE(ids(core_->sessions().find("t%u", 1000)), pctSessions_);
    QVERIFY(core_->sessions().find("r_s", 1000).size() == 1);
    QVERIFY(core_->sessions().find("%", 1000).empty());
    QVERIFY(core_->sessions().find("_", 1000).empty());
    QCOMPARE(ops::readAudit(*core_, 100, "%").size(), std::size_t(1));
    QVERIFY(!ops::readAudit(*core_, 100, "test.quote'").empty());

    const auto after = test::pgDigest(*core_);
    const bool unchanged = after == before;
    test::reportFigure({QStringLiteral("SQL-injection corpus (%1 payloads x 6 search paths = %2 searches)")
                            .arg(corpus_.size())
                            .arg(runs),
                        QStringLiteral("answers unlike a literal search, unclean errors, rows changed"),
                        QString::number(bad + (unchanged ? 0 : 1)), QStringLiteral("0"), bad == 0 && unchanged,
                        QStringLiteral("ctest -R tst_hostile_input")});
    QCOMPARE(bad, 0);
    QVERIFY2(unchanged, "a table changed during the searches");
  }

  void sqlInjectionCorpusThroughTierctl() {
    const auto before = test::pgDigest(*core_);
    const auto env = test::isolatedEnvironment(config_.path());
    const QStringList servers{QStringLiteral("--redis"), qs(test::redisUrl()), QStringLiteral("--pg"),
                              qs(test::seededServers().pgConninfo())};
    auto c = core_->pg().acquire();
    int runs = 0, bad = 0;
    for (const auto& p : corpus_) {
      if (unstorable(p) || p.find('\n') != std::string::npos)
        continue;  // argv carries neither; tst_tierctl covers non-UTF-8
      const QString arg = qs(p);
      // inspect session <id> and invalidate --user <id>: numbers only; anything else is usage (2), never SQL.
      for (const QStringList& args :
           {QStringList{QStringLiteral("inspect"), QStringLiteral("session"), arg},
            QStringList{QStringLiteral("invalidate"), QStringLiteral("--user"), arg, QStringLiteral("--dry-run")}}) {
        ++runs;
        const auto r = test::runProcess(test::tierctlProgram(), QStringList(args) << servers, env);
        const bool ok = r.code == 0 || ((r.code == 2 || r.code == 6) && test::isOneLineError(r.err));
        if (!ok) {
          ++bad;
          qWarning("tierctl %s [%s]: exit %d %s", qPrintable(args.first()), printable(p).constData(), r.code,
                   r.err.left(200).constData());
        }
      }
      ++runs;
      const auto r =
          test::runProcess(test::tierctlProgram(),
                           QStringList{QStringLiteral("audit"), QStringLiteral("--json"), QStringLiteral("--limit"),
                                       QStringLiteral("100000"), QStringLiteral("--filter"), arg}
                               << servers,
                           env);
      const auto want =
          idsOf(c->exec("SELECT id FROM cache_audit WHERE $1 = '' OR strpos(lower(action), lower($1)) > 0 "
                        "OR strpos(lower(result), lower($1)) > 0 OR strpos(lower(os_user), lower($1)) > 0",
                        {p}));
      std::set<std::int64_t> got;
      for (const auto& row : QJsonDocument::fromJson(r.out).object().value(QStringLiteral("rows")).toArray())
        got.insert(static_cast<std::int64_t>(row.toObject().value(QStringLiteral("id")).toDouble()));
      if (r.code != 0 || got != want) {
        ++bad;
        qWarning("tierctl audit --filter [%s]: exit %d, %zu rows vs %zu: %s", printable(p).constData(), r.code,
                 got.size(), want.size(), r.err.left(200).constData());
      }
    }
    // The audit rows tierctl's dry runs wrote are the only change.
    auto after = test::pgDigest(*core_);
    after.erase("cache_audit");
    auto expected = before;
    expected.erase("cache_audit");
    const bool unchanged = after == expected;
    test::reportFigure({QStringLiteral("SQL-injection corpus through tierctl (%1 runs: inspect session, invalidate "
                                       "--user, audit --filter)")
                            .arg(runs),
                        QStringLiteral("crashes, unclean errors, answers unlike a literal search, data rows changed"),
                        QString::number(bad + (unchanged ? 0 : 1)), QStringLiteral("0"), bad == 0 && unchanged,
                        QStringLiteral("ctest -R tst_hostile_input")});
    QCOMPARE(bad, 0);
    QVERIFY(unchanged);
  }

  void garbageInRedisIsACleanMiss_data() {
    QTest::addColumn<QString>("kind");
    for (const char* k :
         {"oversized value (9 MB envelope)", "oversized junk (9 MB)", "truncated envelope", "wrong checksum",
          "valid envelope, payload not JSON", "valid envelope, wrong entity", "binary junk (4 KB)", "empty string",
          "only the magic bytes", "a LIST at the key", "a HASH at the key", "a SET at the key", "a ZSET at the key"})
      QTest::newRow(k) << QString::fromLatin1(k);
  }
  void garbageInRedisIsACleanMiss() {
    QFETCH(QString, kind);
    static int total = 0, clean = 0;
    ++total;
    auto& r = *tier::internal::TierAccess::redis(*core_);
    const std::int64_t id = 20 + total;  // a different entry per row
    const auto key = codec::entryKey(id);
    const auto sessionKeyId = core_->sessions().find("1", 1).front().id;
    const auto skey = codec::sessionKey(sessionKeyId);
    tier::internal::TierAccess::l1(*core_).clear();
    const std::string good = codec::encode({0, 1, 1, R"({"id":1})"});
    std::string value;
    const std::string k = kind.toStdString();
    if (k.rfind("oversized value", 0) == 0)
      value = codec::encode({0, 1, 1, "{\"x\":\"" + std::string(9u << 20, 'a') + "\"}"});
    if (k.rfind("oversized junk", 0) == 0) value = std::string(9u << 20, '\x7f');
    if (k == "truncated envelope") value = good.substr(0, good.size() / 2);
    if (k == "wrong checksum") (value = good).back() ^= 0x5a;
    if (k == "valid envelope, payload not JSON") value = codec::encode({0, 1, 1, "not json {{{"});
    if (k == "valid envelope, wrong entity") value = codec::encode({0, 1, 1, R"({"id":"x","title":42})"});
    if (k == "binary junk (4 KB)") {
      value.resize(4096);
      for (auto& ch : value) ch = static_cast<char>(QRandomGenerator::global()->bounded(256));
    }
    if (k == "only the magic bytes") value = good.substr(0, 2);
    const bool wrongType = k.find(" at the key") != std::string::npos;
    for (const auto& kk : {key, skey}) {
      r.command({"DEL", kk});
      if (k == "a LIST at the key")
        r.command({"RPUSH", kk, "a", "b"});
      else if (k == "a HASH at the key")
        r.command({"HSET", kk, "f", "v"});
      else if (k == "a SET at the key")
        r.command({"SADD", kk, "m"});
      else if (k == "a ZSET at the key")
        r.command({"ZADD", kk, "1", "m"});
      else
        r.set(kk, value, std::chrono::milliseconds(600000));
    }
    const auto rejects = counter(Counter::DecodeReject), redisErrors = counter(Counter::RedisError),
               errors = counter(Counter::Error);

    auto e = core_->entries().get(id);
    QVERIFY(e.value);
    QCOMPARE(e.value->id, id);
    QCOMPARE(e.source, cache::Source::L3);
    auto s = core_->sessions().get(sessionKeyId);
    QVERIFY(s.value);
    QCOMPARE(s.source, cache::Source::L3);
    // Counted: a decoder rejection, or (a non-string at the key) a Redis command error.
    const auto counted =
        wrongType ? counter(Counter::RedisError) - redisErrors : counter(Counter::DecodeReject) - rejects;
    QVERIFY2(counted >= 2, qPrintable(QString::number(counted)));
    QCOMPARE(counter(Counter::Error), errors);
    QCOMPARE(r.breakerState(), redis::BreakerState::Closed);  // bad data is not an outage
    // The inspector reports the unreadable copy instead of failing.
    tier::internal::TierAccess::l1(*core_).clear();
    if (!wrongType) {
      // A rejected value was replaced by the fill: the next read is a cache hit.
      QCOMPARE(core_->entries().get(id).source, cache::Source::L2);
    } else {
      const auto i = ops::inspectSession(*core_, sessionKeyId);
      QVERIFY(i.l3_present);
      QVERIFY2(!i.l2_error.empty(), "a LIST/HASH at a session key should be reported");
      QVERIFY(core_->entries().get(id).value);
    }
    r.command({"DEL", key});
    r.command({"DEL", skey});
    ++clean;
    if (total == 13)
      test::reportFigure({QStringLiteral("Garbage values planted in Redis (%1 kinds, entry + session keys)").arg(total),
                          QStringLiteral("crashes / failed reads / reads not counted"), QString::number(total - clean),
                          QStringLiteral("0"), total == clean, QStringLiteral("ctest -R tst_hostile_input")});
  }

  void hugeKeyNameInRedis() {
    auto& r = *tier::internal::TierAccess::redis(*core_);
    const std::string huge = "entry:v1:" + std::string(512 * 1024, '7');
    r.set(huge, "junk", std::chrono::milliseconds(600000));
    tier::internal::TierAccess::l1(*core_).clear();
    QVERIFY(core_->entries().get(7).value);  // neighbours unaffected
    // A pattern over the namespace sees it, previews it and deletes it without trouble.
    auto dry = ops::invalidate(*core_, {ops::InvalidateKind::Pattern, "entry:*", true});
    QVERIFY(dry.matched >= 1);
    auto real = ops::invalidate(*core_, {ops::InvalidateKind::Pattern, "entry:*", false});
    QCOMPARE(real.deleted, real.matched);
    QVERIFY(!r.get(huge));
    // Asking for it by name is refused before Redis is asked.
    QVERIFY_THROWS_EXCEPTION(BadInputError, ops::invalidate(*core_, {ops::InvalidateKind::Key, huge, true}));
    const auto env = test::isolatedEnvironment(config_.path());
    const QStringList servers{QStringLiteral("--redis"), qs(test::redisUrl()), QStringLiteral("--pg"),
                              qs(test::seededServers().pgConninfo())};
    // One argv string is capped at 128 KiB by the kernel: these are as large as input gets to tierctl.
    const QString bigDigits(120000, QLatin1Char('7'));
    int runs = 0, clean = 0;
    for (const QStringList& args :
         {QStringList{QStringLiteral("invalidate"), QStringLiteral("--key"), QStringLiteral("entry:v1:") + bigDigits,
                      QStringLiteral("--yes")},
          QStringList{QStringLiteral("invalidate"), QStringLiteral("--pattern"),
                      QStringLiteral("entry:") + QString(120000, QLatin1Char('*')), QStringLiteral("--dry-run")},
          QStringList{QStringLiteral("invalidate"), QStringLiteral("--pattern"),
                      QStringLiteral("entry:") + QString(60000, QLatin1Char('[')), QStringLiteral("--dry-run")},
          QStringList{QStringLiteral("invalidate"), QStringLiteral("--user"), bigDigits, QStringLiteral("--dry-run")},
          QStringList{QStringLiteral("inspect"), QStringLiteral("session"), bigDigits}}) {
      ++runs;
      const auto run = test::runProcess(test::tierctlProgram(), QStringList(args) << servers, env);
      if (run.code == 2 && test::isOneLineError(run.err) && run.err.size() < 400)
        ++clean;
      else
        qWarning("tierctl %s ...: exit %d, %lld bytes of stderr: %s", qPrintable(args.first()), run.code,
                 static_cast<long long>(run.err.size()), run.err.left(200).constData());
    }
    test::reportFigure(
        {QStringLiteral("Oversized input to tierctl (%1 runs: 120 KB key, pattern, user id, session id)").arg(runs),
         QStringLiteral("runs without a one-line usage error (exit 2)"), QString::number(runs - clean),
         QStringLiteral("0"), runs == clean, QStringLiteral("ctest -R tst_hostile_input")});
    QCOMPARE(clean, runs);
  }
};

QTEST_GUILESS_MAIN(TestHostileInput)
#include "tst_hostile_input.moc"
