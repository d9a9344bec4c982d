// Full-text search over journal entries (issue 15 item 2) against real servers:
// ranked, highlighted hits; hostile text; results cached in the `search`
// namespace and never served after an entry they could contain changed (from
// this instance or a second one sharing Redis); the plan uses the indexes; and
// `tierctl search` as a user runs it.
// TIER_TEST_ON_CLUSTER
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>
#include <atomic>
#include <set>
#include <thread>

#include "core_fixture.h"
#include "test_paths.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"
#include "tier/core.h"
#include "tier/internal/tier_access.h"
#include "tier/repo/search.h"

using namespace tier;
using repo::EntrySearch;
using cache::Source;

namespace {

struct Run {
  int code = -1;
  QByteArray out;
  QByteArray err;
  QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

bool isOneLineError(const QByteArray& err) {
  return err.startsWith("tierctl: ") && err.endsWith('\n') && err.count('\n') == 1;
}

// Every plan node of an EXPLAIN (FORMAT JSON) document, depth first.
void planNodes(const QJsonObject& node, QStringList& out) {
  QString line = node.value(QStringLiteral("Node Type")).toString();
  if (node.contains(QStringLiteral("Relation Name")))
    line += QStringLiteral(" on ") + node.value(QStringLiteral("Relation Name")).toString();
  if (node.contains(QStringLiteral("Index Name")))
    line += QStringLiteral(" using ") + node.value(QStringLiteral("Index Name")).toString();
  out << line;
  for (const auto& child : node.value(QStringLiteral("Plans")).toArray()) planNodes(child.toObject(), out);
}

}  // namespace

class TestSearch : public QObject {
  Q_OBJECT
  std::unique_ptr<TierCore> a;
  std::unique_ptr<TierCore> b;  // a second instance sharing Redis and PostgreSQL
  std::int64_t user_ = 0;

  std::string title(const repo::SearchResult& r, std::int64_t entryId) {
    for (const auto& h : r.hits)
      if (h.entry_id == entryId) return h.title;
    return "<absent>";
  }
  long long searchKeys() { return static_cast<long long>(test::scanKeys("search:*").size()); }

  Run tierctl(QStringList args) const {
    args << QStringLiteral("--redis") << qs(test::redisUrl()) << QStringLiteral("--pg")
         << qs(test::TestServers::shared().pgConninfo());
    return runProgram(qs(test::tierctlPath()), args);
  }
  static Run runProgram(const QString& program, const QStringList& args) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"TIER_REDIS_URL", "TIER_PG_CONNINFO", "PGPASSWORD", "PGSERVICE"})
      env.remove(QLatin1String(name));
    p.setProcessEnvironment(env);
    p.start(program, args);
    if (!p.waitForStarted(10000)) return {};
    p.closeWriteChannel();
    if (!p.waitForFinished(60000)) {
      p.kill();
      p.waitForFinished();
      return {};
    }
    Run r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
  }

 private Q_SLOTS:
  void initTestCase() {
    test::seededServers();
    auto core = std::make_unique<TierCore>(test::coreConfig());
    user_ = core->users().create("search-owner@example.test", "Search Owner").id;
    QVERIFY(user_ > 0);
  }
  void init() {
    test::flushRedis();
    a = std::make_unique<TierCore>(test::coreConfig("search-a"));
    b = std::make_unique<TierCore>(test::coreConfig("search-b"));
  }
  void cleanup() {
    b.reset();
    a.reset();
  }

  void normalizes() {
    QCOMPARE(EntrySearch::normalize("  Hello\tWORLD \n again "), std::string("hello world again"));
    QCOMPARE(EntrySearch::normalize("Ünïcode Straße"), std::string("Ünïcode straße"));
  }

  void badInputIsRefused_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("empty") << QByteArray("") << QByteArray("empty");
    QTest::newRow("blank") << QByteArray(" \t\n ") << QByteArray("empty");
    QTest::newRow("1001 bytes") << QByteArray(1001, 'a') << QByteArray("longer than 1000 bytes");
    QTest::newRow("100 kB") << QByteArray(100 * 1024, 'x') << QByteArray("longer than 1000 bytes");
    QTest::newRow("not UTF-8") << QByteArray("caf\xe9 \xff\xfe") << QByteArray("UTF-8");
    QTest::newRow("overlong") << QByteArray("\xc0\xaf") << QByteArray("UTF-8");
    QTest::newRow("truncated") << QByteArray("ab\xe2\x82") << QByteArray("UTF-8");
    QTest::newRow("control") << QByteArray("a\x01b") << QByteArray("control");
    QTest::newRow("NUL") << QByteArray("a\0b", 3) << QByteArray("control");
  }
  void badInputIsRefused() {
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, message);
    EntrySearch s(a->cache(), a->pg());
    try {
      s.search(text.toStdString(), 0);
      QFAIL("accepted");
    } catch (const BadInputError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find(message.toStdString()) != std::string::npos, e.what());
      QVERIFY(what.find('\n') == std::string::npos);
    }
    QCOMPARE(searchKeys(), 0LL);  // nothing cached, nothing asked
  }

  void badLimitAndUnknownUser() {
    EntrySearch s(a->cache(), a->pg());
    QVERIFY_THROWS_EXCEPTION(BadInputError, s.search("calm", 0, 0));
    QVERIFY_THROWS_EXCEPTION(BadInputError, s.search("calm", 0, EntrySearch::kMaxLimit + 1));
    QVERIFY_THROWS_EXCEPTION(BadInputError, s.search("calm", -5));
    QVERIFY_THROWS_EXCEPTION(NotFoundError, s.search("calm", 987654321));
    QCOMPARE(searchKeys(), 0LL);
  }

  // SQL text and websearch syntax are just text: no error, the table intact,
  // and the same ids as the reference query written out here.
  void hostileTextIsJustText_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("sql") << QByteArray("'; DROP TABLE journal_entries; --");
    QTest::newRow("quote in word") << QByteArray("o'brien");
    QTest::newRow("unbalanced phrase") << QByteArray("\"calm morning");
    QTest::newRow("lone minus") << QByteArray("-");
    QTest::newRow("or or") << QByteArray("or or OR");
    QTest::newRow("tsquery operators") << QByteArray("!(&|:* <-> a:B");
    QTest::newRow("like wildcards") << QByteArray("%_\\");
    QTest::newRow("stop words only") << QByteArray("the and of");
    QTest::newRow("1000 bytes") << QByteArray(1000, 'q');
  }
  void hostileTextIsJustText() {
    QFETCH(QByteArray, text);
    auto c = a->pg().acquire();
    const auto before = c->exec("SELECT count(*) FROM journal_entries").toInt(0, 0);
    EntrySearch s(a->cache(), a->pg());
    const auto r = s.search(text.toStdString(), 0, EntrySearch::kMaxLimit);
    std::set<std::int64_t> got;
    for (const auto& h : r.hits) got.insert(h.entry_id);
    const std::string q = EntrySearch::normalize(text.toStdString());
    auto ref = c->exec(
        "SELECT id FROM journal_entries WHERE content_tsv @@ websearch_to_tsquery('english', $1) "
        "OR strpos(lower(title), $1) > 0 ORDER BY ts_rank(content_tsv, websearch_to_tsquery('english', $1)) DESC, "
        "id DESC LIMIT $2",
        {q, std::to_string(EntrySearch::kMaxLimit)});
    std::set<std::int64_t> want;
    for (int i = 0; i < ref.rows(); ++i) want.insert(ref.toInt(i, 0));
    QCOMPARE(got, want);
    QCOMPARE(c->exec("SELECT count(*) FROM journal_entries").toInt(0, 0), before);
  }

  void rankedWithHighlights() {
    auto e1 =
        a->entries().create(user_, {"Walk by the river", "A zyxoquartz morning, zyxoquartz again, zyxoquartz.", 6, {}});
    auto e2 =
        a->entries().create(user_, {"Notes", "Only one zyxoquartz here among many other words of the day.", 5, {}});
    auto e3 = a->entries().create(user_, {"Frobnicated garden", "nothing special", 5, {}});
    EntrySearch s(a->cache(), a->pg());
    auto r = s.search("ZYXOQUARTZ", user_);
    QCOMPARE(r.query, std::string("zyxoquartz"));
    QCOMPARE(r.hits.size(), std::size_t(2));
    QCOMPARE(r.hits[0].entry_id, e1.id);  // three mentions rank above one
    QCOMPARE(r.hits[1].entry_id, e2.id);
    QVERIFY(r.hits[0].rank > r.hits[1].rank);
    QVERIFY2(r.hits[0].snippet.find("[[zyxoquartz]]") != std::string::npos, r.hits[0].snippet.c_str());
    QCOMPARE(r.hits[0].user_id, user_);
    QCOMPARE(r.hits[0].version, e1.version);
    // A title substring (not a word) is found through the trigram index, ranked 0.
    auto t = s.search("robnicat", user_);
    QCOMPARE(t.hits.size(), std::size_t(1));
    QCOMPARE(t.hits[0].entry_id, e3.id);
    QCOMPARE(t.hits[0].rank, 0.0);
    // Another user's scope does not see them; every user's does.
    auto other = a->users().create("search-other@example.test", "Other").id;
    QVERIFY(s.search("zyxoquartz", other).hits.empty());
    QCOMPARE(s.search("zyxoquartz", 0).hits.size(), std::size_t(2));
    for (auto id : {e1.id, e2.id, e3.id}) a->entries().remove(id);
  }

  void resultsAreCachedInTheSearchNamespace() {
    auto e = a->entries().create(user_, {"Cached kumquat", "kumquat tea", 5, {}});
    EntrySearch sa(a->cache(), a->pg());
    EntrySearch sb(b->cache(), b->pg());
    auto r1 = sa.search("kumquat", user_);
    QCOMPARE(r1.source, Source::L3);
    QVERIFY(r1.cacheable);
    QCOMPARE(r1.hits.size(), std::size_t(1));
    auto r2 = sa.search("  KUMQUAT ", user_);  // the same normalized query
    QCOMPARE(r2.source, Source::L1);
    QCOMPARE(r2.hits.size(), std::size_t(1));
    QCOMPARE(r2.hits[0].snippet, r1.hits[0].snippet);
    QCOMPARE(r2.hits[0].rank, r1.hits[0].rank);
    auto r3 = sb.search("kumquat", user_);
    QCOMPARE(r3.source, Source::L2);
    QCOMPARE(r3.hits[0].title, std::string("Cached kumquat"));
    const auto keys = test::scanKeys("search:v1:" + std::to_string(user_) + ":*");
    QCOMPARE(keys.size(), std::size_t(1));
    // The L2 copy expires on the short search TTL (plus the serve-stale hold).
    const auto& pol = a->cache().policies();
    const double maxMs = (pol.search.ttl.count() * (1 + pol.search.ttl_jitter) + pol.max_stale.count()) * 1000.0;
    const auto ttl = tier::internal::TierAccess::redis(*a)->ttlMillis(keys.front());
    QVERIFY2(ttl > 0 && ttl <= maxMs && pol.search.ttl <= std::chrono::minutes(1), std::to_string(ttl).c_str());
    a->entries().remove(e.id);
  }

  // The test: once update() returns, no search on either instance
  // returns the old title, whatever was cached and whatever a concurrent reader
  // fills meanwhile.
  void changedTitleIsNeverServedFromCache() {
    auto e = a->entries().create(user_, {"Title 0 persimmon", "persimmon jam", 5, {}});
    EntrySearch sa(a->cache(), a->pg());
    EntrySearch sb(b->cache(), b->pg());
    std::atomic<bool> stop{false};
    std::atomic<long> background{0};
    // Keeps filling both scopes on b while a writes, so fills race the writes.
    std::atomic<bool> readerFailed{false};
    std::thread reader([&] {
      EntrySearch s(b->cache(), b->pg());
      while (!stop.load()) {
        try {
          s.search("persimmon", user_);
          s.search("persimmon", 0);
          background.fetch_add(1);
        } catch (const std::exception&) {
          readerFailed.store(true);
        }
      }
    });
    // Stops the reader on every way out, a failed QCOMPARE's return included.
    struct Joiner {
      std::atomic<bool>& stop;
      std::thread& t;
      ~Joiner() {
        stop.store(true);
        if (t.joinable()) t.join();
      }
    } joiner{stop, reader};
    int servedCached = 0;
    for (int i = 1; i <= 25; ++i) {
      // Cache the current title everywhere first.
      for (auto* s : {&sa, &sb})
        for (std::int64_t scope : {user_, std::int64_t(0)}) s->search("persimmon", scope);
      const std::string want = "Title " + std::to_string(i) + " persimmon";
      a->entries().update(e.id, {want, "persimmon jam", 5, {}});
      for (auto* s : {&sa, &sb})
        for (std::int64_t scope : {user_, std::int64_t(0)}) {
          const auto r = s->search("persimmon", scope);
          QCOMPARE(title(r, e.id), want);
          if (r.source != Source::L3) ++servedCached;
        }
      // And a second search is a cache hit again with the new title.
      const auto again = sb.search("persimmon", user_);
      QCOMPARE(title(again, e.id), want);
    }
    stop.store(true);
    reader.join();
    QVERIFY(!readerFailed.load());
    qInfo("%ld background searches raced 25 updates; %d post-write searches were cache hits (all with the new title)",
          background.load(), servedCached);
    // Delete and create change results too.
    a->entries().remove(e.id);
    QCOMPARE(title(sb.search("persimmon", user_), e.id), std::string("<absent>"));
    auto n = a->entries().create(user_, {"Fresh persimmon", "new", 5, {}});
    QCOMPARE(title(sb.search("persimmon", 0), n.id), std::string("Fresh persimmon"));
    a->entries().remove(n.id);
  }

  // Another user's write leaves this user's cached search alone (and vice versa
  // the global scope moves with every write).
  void generationIsPerUser() {
    auto other = a->users().create("search-gen@example.test", "Gen").id;
    auto mine = a->entries().create(user_, {"Mine", "loquat", 5, {}});
    EntrySearch sa(a->cache(), a->pg());
    sa.search("loquat", user_);
    sa.search("loquat", 0);
    QVERIFY(sa.search("loquat", user_).source != Source::L3);
    auto theirs = a->entries().create(other, {"Theirs", "loquat", 5, {}});
    QVERIFY(sa.search("loquat", user_).source != Source::L3);  // cached; not this user's entry: still valid
    const auto all = sa.search("loquat", 0);
    QCOMPARE(all.source, Source::L3);  // every user's scope could contain it
    QCOMPARE(all.hits.size(), std::size_t(2));
    a->entries().remove(mine.id);
    a->entries().remove(theirs.id);
  }

  // A generation that cannot be replaced (here a Redis user that may read the
  // tokens but not write them) must not leave the old result servable: the
  // writer's instance retires every search copy (namespace generation) before
  // it uses the cache for a search again.
  void failedGenerationBumpRetiresCachedResults() {
    if (test::onCluster()) QSKIP("the ACL user is set up on the single node only");
    auto& redis = test::seededServers().redis();
    redis.cli(
        "ACL SETUSER search_nogen reset on '>nogen-pw' '~entry:*' '~session:*' '~user:*' '~stats:*' '~knowledge:*' "
        "'~search:*' '~tc:nsgen:*' '%R~tc:searchgen:*' '&*' +@all");
    auto cfg = test::coreConfig("search-nogen");
    cfg.redis_url = "redis://search_nogen:nogen-pw@127.0.0.1:" + std::to_string(redis.port()) + "/0";
    TierCore w(cfg);
    EntrySearch sw(w.cache(), w.pg());
    EntrySearch sa(a->cache(), a->pg());
    sa.search("tangelo", user_);                                            // seeds the token (a may write it)
    auto e = w.entries().create(user_, {"Tangelo one", "tangelo", 5, {}});  // its bump fails
    auto first = sw.search("tangelo", user_);
    QCOMPARE(title(first, e.id), std::string("Tangelo one"));
    QVERIFY(sw.search("tangelo", user_).source != Source::L3);  // cached again once repaired
    const auto gen = w.cache().currentGeneration(codec::Namespace::Search);
    const std::string tokenKey = codec::searchGenerationKey(user_);
    const std::string token = redis.cli("GET " + tokenKey);
    QVERIFY(!token.empty());
    w.entries().update(e.id, {"Tangelo two", "tangelo", 5, {}});  // fails to replace the token again
    QCOMPARE(redis.cli("GET " + tokenKey), token);                // (it did fail)
    const auto after = sw.search("tangelo", user_);
    QCOMPARE(title(after, e.id), std::string("Tangelo two"));
    QCOMPARE(after.source, Source::L3);
    QVERIFY(w.cache().currentGeneration(codec::Namespace::Search) != gen);  // every copy retired
    w.entries().remove(e.id);
    redis.cli("ACL DELUSER search_nogen");
  }

  // At a size where the planner has a choice, neither statement reads every
  // journal entry: both halves of the OR are index scans.
  void planUsesIndexes() {
    auto c = a->pg().acquire();
    c->exec("SELECT set_config('statement_timeout', '0', false)");
    if (c->exec("SELECT count(*) FROM journal_entries").toInt(0, 0) < 50000) {
      c->exec(
          "INSERT INTO journal_entries (user_id, title, content, mood_score) "
          "SELECT (SELECT min(id) FROM users) + (g % 40), 'Day ' || g || ' ' || md5(g::text), "
          "'Walked ' || (g % 97) || ' minutes, felt ' || (ARRAY['calm','tired','hopeful','anxious','rested'])[1 + g % "
          "5] "
          "|| ' ' || md5((g * 7)::text), 1 + g % 10 FROM generate_series(1, 60000) g");
    }
    c->exec("ANALYZE journal_entries");
    const auto n = c->exec("SELECT count(*) FROM journal_entries").toInt(0, 0);
    // A rare word, and one in a fifth of the entries (the planner's own choice
    // for it would be to read the whole table).
    for (const char* word : {"persimmon", "calm"}) {
      const auto common =
          c->exec("SELECT count(*) FROM journal_entries WHERE content_tsv @@ websearch_to_tsquery('english', $1)",
                  {std::string(word)})
              .toInt(0, 0);
      for (bool byUser : {false, true}) {
        const auto doc =
            QJsonDocument::fromJson(QByteArray::fromStdString(EntrySearch::explain(a->pg(), word, byUser ? user_ : 0)));
        QStringList nodes;
        planNodes(doc.array().at(0).toObject().value(QStringLiteral("Plan")).toObject(), nodes);
        const QString plan = nodes.join(QStringLiteral(" > "));
        qInfo("\"%s\" (in %lld of %lld entries), %s: %s", word, static_cast<long long>(common),
              static_cast<long long>(n), byUser ? "one user" : "all users", qPrintable(plan));
        QVERIFY2(!plan.contains(QStringLiteral("Seq Scan on journal_entries")), qPrintable(plan));
        if (!byUser) {
          QVERIFY2(plan.contains(QStringLiteral("journal_entries_fts")), qPrintable(plan));
          QVERIFY2(plan.contains(QStringLiteral("journal_entries_title_trgm")), qPrintable(plan));
        }
      }
    }
  }

  void tierctlSearch() {
    auto e = a->entries().create(user_, {"Tierctl tamarind", "tamarind and rain", 5, {}});
    Run r = tierctl({QStringLiteral("search"), QStringLiteral("tamarind"), QStringLiteral("--user"),
                     QString::number(user_), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("query")).toString(), QStringLiteral("tamarind"));
    QCOMPARE(o.value(QStringLiteral("count")).toInt(), 1);
    QCOMPARE(o.value(QStringLiteral("cached")).toBool(), false);
    const QJsonObject hit = o.value(QStringLiteral("results")).toArray().at(0).toObject();
    QCOMPARE(static_cast<std::int64_t>(hit.value(QStringLiteral("entry_id")).toDouble()), e.id);
    QVERIFY(hit.value(QStringLiteral("snippet")).toString().contains(QStringLiteral("[[tamarind]]")));
    QVERIFY(hit.value(QStringLiteral("rank")).toDouble() > 0);
    // A second process finds it in L2.
    r = tierctl({QStringLiteral("search"), QStringLiteral("Tamarind"), QStringLiteral("--user"), QString::number(user_),
                 QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json().value(QStringLiteral("source")).toString(), QStringLiteral("l2"));
    // Text output: several words joined, highlights marked.
    r = tierctl({QStringLiteral("search"), QStringLiteral("tamarind"), QStringLiteral("rain")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("\"Tierctl tamarind\"") && r.out.contains("[[tamarind]]") && r.out.contains("[[rain]]"),
             r.out.constData());
    r = tierctl({QStringLiteral("search"), QStringLiteral("no-such-word-xq")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith("no entries for: no-such-word-xq"), r.out.constData());
    a->entries().remove(e.id);
  }

  void tierctlBadInput_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("no text") << QStringList{} << 2 << QByteArray("missing the text");
    QTest::newRow("blank") << QStringList{QStringLiteral("   ")} << 2 << QByteArray("empty");
    QTest::newRow("100 kB") << QStringList{QString(100 * 1024, QLatin1Char('x'))} << 2
                            << QByteArray("longer than 1000");
    QTest::newRow("bad user") << QStringList{QStringLiteral("calm"), QStringLiteral("--user"),
                                             QStringLiteral("1; DROP")}
                              << 2 << QByteArray("invalid user id");
    QTest::newRow("zero user") << QStringList{QStringLiteral("calm"), QStringLiteral("--user"), QStringLiteral("0")}
                               << 2 << QByteArray("invalid user id");
    QTest::newRow("bad limit") << QStringList{QStringLiteral("calm"), QStringLiteral("--limit"), QStringLiteral("1000")}
                               << 2 << QByteArray("limit");
    QTest::newRow("unknown user") << QStringList{QStringLiteral("calm"), QStringLiteral("--user"),
                                                 QStringLiteral("987654321")}
                                  << 6 << QByteArray("does not exist");
  }
  void tierctlBadInput() {
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QByteArray, message);
    const Run r = tierctl(QStringList{QStringLiteral("search")} + args);
    QCOMPARE(r.code, code);
    QVERIFY2(isOneLineError(r.err), r.err.constData());
    QVERIFY2(r.err.contains(message), r.err.constData());
    QVERIFY(r.out.isEmpty());
    QCOMPARE(searchKeys(), 0LL);
  }

  void tierctlNonUtf8() {
    // QProcess passes only valid text; the shell passes the raw bytes.
    const Run r = runProgram(
        QStringLiteral("/bin/sh"),
        {QStringLiteral("-c"), QStringLiteral("exec \"$0\" search \"$(printf 'caf\\351')\" --redis \"$1\" --pg \"$2\""),
         qs(test::tierctlPath()), qs(test::redisUrl()), qs(test::TestServers::shared().pgConninfo())});
    QCOMPARE(r.code, 2);
    QVERIFY2(isOneLineError(r.err), r.err.constData());
    QVERIFY(r.err.contains("UTF-8"));
  }
};

QTEST_GUILESS_MAIN(TestSearch)
#include "tst_search.moc"
