// The L3 connection pool against a real PostgreSQL started by the harness:
// parameters, hostile text, error mapping, conninfo forms, PG* env, .pgpass,
// statement_timeout and broken-connection handling.
#include <QtTest>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "servers.h"
#include "tier/common/error.h"
#include "tier/metrics/metrics.h"
#include "tier/pg/pg_pool.h"
#include "tier/sandbox/server_process.h"

using tier::pg::Params;
using tier::pg::PgOptions;
using tier::pg::PgPool;

namespace {

constexpr const char* kRole = "pool_pw_user";
constexpr const char* kRolePassword = "Pw-s3cret-for-tests";

// Sets environment variables for one scope and restores the previous values.
class EnvGuard {
 public:
  void set(const char* name, const std::string& value) {
    remember(name);
    ::setenv(name, value.c_str(), 1);
  }
  void unset(const char* name) {
    remember(name);
    ::unsetenv(name);
  }
  ~EnvGuard() {
    for (const auto& [name, old] : saved_) {
      if (old)
        ::setenv(name.c_str(), old->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

 private:
  void remember(const char* name) {
    for (const auto& s : saved_)
      if (s.first == name) return;
    const char* v = std::getenv(name);
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace

class TestPgPool : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<tier::test::TestPostgres> server_;
  std::string dir_;

  std::string tcp() const { return "host=127.0.0.1 port=" + std::to_string(server_->port()) + " dbname=tier"; }
  PgOptions opts(std::string conninfo = {}) const {
    PgOptions o;
    o.conninfo = conninfo.empty() ? server_->conninfo() : std::move(conninfo);
    o.pool_size = 2;
    o.connect_timeout = std::chrono::milliseconds(3000);
    return o;
  }

 private Q_SLOTS:
  void initTestCase() {
    // PG* variables of the developer's shell must not leak into these tests.
    for (const char* v : {"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGPASSFILE", "PGSERVICE",
                          "PGOPTIONS", "PGAPPNAME", "PGCONNECT_TIMEOUT", "PGCLIENTENCODING"})
      ::unsetenv(v);
    server_ = std::make_unique<tier::test::TestPostgres>();
    dir_ = tier::test::makeTempDir();
    server_->psql(std::string("CREATE ROLE ") + kRole + " LOGIN PASSWORD '" + kRolePassword + "'");
    server_->psql("CREATE TABLE secret_stuff (x int); REVOKE ALL ON secret_stuff FROM PUBLIC;"
                  "CREATE TABLE victims (id int PRIMARY KEY, note text)");
  }

  void cleanupTestCase() {
    server_.reset();
    tier::test::removeTree(dir_);
  }

  void roundTripsHostileText_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("sql injection") << QByteArray("'; DROP TABLE victims; --");
    QTest::newRow("percent") << QByteArray("100% sure");
    QTest::newRow("underscore") << QByteArray("a_b_c");
    QTest::newRow("backslash") << QByteArray("C:\\temp\\new");
    QTest::newRow("quotes") << QByteArray("it's \"quoted\"");
    QTest::newRow("dollar quote") << QByteArray("$$; SELECT 1; $$");
    QTest::newRow("unicode") << QByteArray("Grüße \xF0\x9F\x98\x80");
    QTest::newRow("empty") << QByteArray("");
    QTest::newRow("tab newline") << QByteArray("a\tb\nc");
  }
  void roundTripsHostileText() {
    QFETCH(QByteArray, text);
    PgPool pool(opts());
    auto c = pool.acquire();
    const std::string s = text.toStdString();
    QCOMPARE(c->exec("SELECT $1::text", {s}).value(0, 0), std::string_view(s));
    QCOMPARE(c->execPrepared("echo", "SELECT $1::text", {s}).value(0, 0), std::string_view(s));
    c->exec("DELETE FROM victims");
    c->execPrepared("ins", "INSERT INTO victims VALUES ($1, $2)", {std::string("1"), s});
    const auto r = c->exec("SELECT note FROM victims WHERE note = $1", {s});
    QCOMPARE(r.rows(), 1);
    // The table survived: the text was data, never SQL.
    QCOMPARE(c->exec("SELECT count(*) FROM victims").toInt(0, 0), 1LL);
    // LIKE metacharacters in a parameter are only special to LIKE, not to the protocol.
    QCOMPARE(c->exec("SELECT count(*) FROM victims WHERE strpos(note, $1) > 0", {s}).toInt(0, 0), 1LL);
  }

  void nullParameters() {
    PgPool pool(opts());
    auto c = pool.acquire();
    const auto r = c->exec("SELECT $1::text IS NULL, $1::text, $2::int", {std::nullopt, std::string("7")});
    QCOMPARE(r.value(0, 0), std::string_view("t"));
    QVERIFY(r.isNull(0, 1));
    QCOMPARE(r.value(0, 1), std::string_view(""));
    QVERIFY(!r.optional(0, 1).has_value());
    QCOMPARE(r.toInt(0, 2), 7LL);
    const auto p = c->execPrepared("nulls", "SELECT coalesce($1::text, 'was null')", {std::nullopt});
    QCOMPARE(p.value(0, 0), std::string_view("was null"));
  }

  void nonUtf8IsBadInputAndConnectionSurvives() {
    PgPool pool(opts());
    auto c = pool.acquire();
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, c->exec("SELECT $1::text", {std::string("bad \xff\xfe bytes")}));
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError,
                             c->execPrepared("bad_utf8", "SELECT $1::text", {std::string("\xc3\x28")}));
    QVERIFY(c->isOk());
    QCOMPARE(c->exec("SELECT 1").toInt(0, 0), 1LL);
  }

  void embeddedNulIsRefused() {
    PgPool pool(opts());
    auto c = pool.acquire();
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, c->exec("SELECT $1::text", {std::string("a\0b", 3)}));
  }

  void sqlstateMapping_data() {
    QTest::addColumn<QByteArray>("sql");
    QTest::addColumn<int>("kind");
    QTest::newRow("division by zero 22012") << QByteArray("SELECT 1/0") << int(tier::ErrorKind::BadInput);
    QTest::newRow("bad integer 22P02") << QByteArray("SELECT 'x'::int") << int(tier::ErrorKind::BadInput);
    QTest::newRow("unique 23505") << QByteArray("INSERT INTO victims VALUES (42, 'a'), (42, 'b')")
                                  << int(tier::ErrorKind::BadInput);
    QTest::newRow("syntax 42601") << QByteArray("SELEC 1") << int(tier::ErrorKind::Data);
    QTest::newRow("missing table 42P01") << QByteArray("SELECT * FROM no_such_table") << int(tier::ErrorKind::Data);
  }
  void sqlstateMapping() {
    QFETCH(QByteArray, sql);
    QFETCH(int, kind);
    PgPool pool(opts());
    auto c = pool.acquire();
    try {
      c->exec(sql.toStdString());
      QFAIL("no error");
    } catch (const tier::Error& e) {
      QCOMPARE(int(e.kind()), kind);
      QVERIFY(std::string(e.what()).find('\n') == std::string::npos);
    }
    QCOMPARE(c->exec("SELECT 2").toInt(0, 0), 2LL);
  }

  void insufficientPrivilegeIsPermissionError() {
    PgPool pool(opts(tcp() + " user=" + kRole + " password=" + kRolePassword));
    auto c = pool.acquire();
    QCOMPARE(c->user(), std::string(kRole));
    QVERIFY_THROWS_EXCEPTION(tier::PermissionError, c->exec("SELECT * FROM secret_stuff"));
  }

  void statementTimeout() {
    PgOptions o = opts();
    o.statement_timeout = std::chrono::milliseconds(200);
    PgPool pool(o);
    auto c = pool.acquire();
    QCOMPARE(c->exec("SHOW statement_timeout").value(0, 0), std::string_view("200ms"));
    QVERIFY_THROWS_EXCEPTION(tier::TimeoutError, c->exec("SELECT pg_sleep(5)"));
    QVERIFY_THROWS_EXCEPTION(tier::TimeoutError, c->execPrepared("sleepy", "SELECT pg_sleep($1)", {std::string("5")}));
    QCOMPARE(c->exec("SELECT 3").toInt(0, 0), 3LL);
  }

  void malformedConninfo_data() {
    QTest::addColumn<QByteArray>("conninfo");
    QTest::newRow("no equals") << QByteArray("this is not a conninfo");
    QTest::newRow("unknown key") << QByteArray("host=127.0.0.1 colour=blue");
    QTest::newRow("unterminated quote") << QByteArray("host='127.0.0.1 password=hunter2");
    QTest::newRow("password junk") << QByteArray("host=x password=hunter2 hunter2junk");
    QTest::newRow("bad uri") << QByteArray("postgresql://u:hunter2@[::1");
    QTest::newRow("bad uri param") << QByteArray("postgresql://u:hunter2@h/db?frobnicate=hunter2");
    QTest::newRow("bad sslmode value") << QByteArray("host=127.0.0.1 sslmode=bogus");
  }
  void malformedConninfo() {
    QFETCH(QByteArray, conninfo);
    PgPool pool(opts(conninfo.toStdString()));
    try {
      pool.acquire();
      QFAIL("malformed conninfo accepted");
    } catch (const tier::BadInputError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("hunter2") == std::string::npos, msg.c_str());
      QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
    }
    QVERIFY(pool.redactedConninfo().find("hunter2") == std::string::npos);
  }

  void wrongPasswordIsPermissionError() {
    const std::string wrong = "Wr0ng-Passw0rd";
    PgPool pool(opts(tcp() + " user=" + kRole + " password=" + wrong));
    try {
      pool.acquire();
      QFAIL("wrong password accepted");
    } catch (const tier::PermissionError& e) {
      const std::string msg = e.what();
      QCOMPARE(msg, std::string("PostgreSQL authentication failed for user ") + kRole);
    }
    QCOMPARE(pool.stats().connect_failures, std::uint64_t(1));
    QVERIFY(pool.stats().last_error.find(wrong) == std::string::npos);
    // No password at all: the same clear error, not a hang or a prompt.
    PgPool none(opts(tcp() + " user=" + kRole));
    QVERIFY_THROWS_EXCEPTION(tier::PermissionError, none.acquire());
  }

  void unreachablePortIsConnectionError() {
    const int port = tier::sandbox::findFreePort();
    PgPool pool(opts("host=127.0.0.1 port=" + std::to_string(port) + " dbname=tier user=tier password=hunter2"));
    try {
      pool.acquire();
      QFAIL("connected to a closed port");
    } catch (const tier::ConnectionError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("hunter2") == std::string::npos, msg.c_str());
      QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
    }
    QCOMPARE(pool.stats().open, 0);
  }

  void uriForm() {
    const std::string uri = "postgresql://" + std::string(kRole) + ":" + kRolePassword + "@127.0.0.1:" +
                            std::to_string(server_->port()) + "/tier?application_name=uri-test";
    PgPool pool(opts(uri));
    auto c = pool.acquire();
    QCOMPARE(c->user(), std::string(kRole));
    QCOMPARE(c->database(), std::string("tier"));
    // The URI's own keys win over ours.
    QCOMPARE(c->exec("SHOW application_name").value(0, 0), std::string_view("uri-test"));
    const std::string shown = pool.redactedConninfo();
    QVERIFY2(shown.find(kRolePassword) == std::string::npos, shown.c_str());
    QVERIFY2(shown.find("127.0.0.1") != std::string::npos, shown.c_str());
  }

  void conninfoKeysWinAndOursFillGaps() {
    PgPool ours(opts());
    auto a = ours.acquire();
    QCOMPARE(a->exec("SHOW application_name").value(0, 0), std::string_view("tierconsole"));
    QCOMPARE(a->exec("SHOW client_encoding").value(0, 0), std::string_view("UTF8"));
    PgPool theirs(opts(server_->conninfo() + " application_name=theirs"));
    auto b = theirs.acquire();
    QCOMPARE(b->exec("SHOW application_name").value(0, 0), std::string_view("theirs"));
  }

  void redactsKeyValuePassword() {
    PgPool pool(opts("host=db.example.com user=alice password='sp ace\\'s' dbname=app"));
    const std::string shown = pool.redactedConninfo();
    QVERIFY2(shown.find("sp ace") == std::string::npos, shown.c_str());
    QVERIFY2(shown.find("password") == std::string::npos, shown.c_str());
    QVERIFY2(shown.find("db.example.com") != std::string::npos, shown.c_str());
    QVERIFY2(shown.find("alice") != std::string::npos, shown.c_str());
  }

  void pgEnvironmentVariablesHonoured() {
    EnvGuard env;
    env.set("PGHOST", "127.0.0.1");
    env.set("PGPORT", std::to_string(server_->port()));
    env.set("PGUSER", kRole);
    env.set("PGDATABASE", "tier");
    env.set("PGPASSWORD", kRolePassword);
    {
      PgOptions o = opts();
      o.conninfo.clear();
      PgPool empty(o);
      auto c = empty.acquire();
      QCOMPARE(c->user(), std::string(kRole));
      QCOMPARE(c->database(), std::string("tier"));
      QCOMPARE(c->exec("SELECT current_user").value(0, 0), std::string_view(kRole));
    }
    env.set("PGPASSWORD", "not-it");
    PgOptions o = opts();
    o.conninfo.clear();
    PgPool wrong(o);
    try {
      wrong.acquire();
      QFAIL("wrong PGPASSWORD accepted");
    } catch (const tier::PermissionError& e) {
      QVERIFY(std::string(e.what()).find("not-it") == std::string::npos);
    }
  }

  void pgpassHonoured() {
    const std::string file = dir_ + "/pgpass";
    {
      std::ofstream f(file);
      f << "127.0.0.1:" << server_->port() << ":tier:" << kRole << ":" << kRolePassword << "\n";
    }
    ::chmod(file.c_str(), 0600);
    EnvGuard env;
    const std::string conninfo = tcp() + " user=" + kRole;
    env.set("PGPASSFILE", dir_ + "/no-such-pgpass");
    {
      PgPool without(opts(conninfo));
      QVERIFY_THROWS_EXCEPTION(tier::PermissionError, without.acquire());
    }
    env.set("PGPASSFILE", file);
    PgPool with(opts(conninfo));
    auto c = with.acquire();
    QCOMPARE(c->exec("SELECT current_user").value(0, 0), std::string_view(kRole));
  }

  void preparedOncePerConnection() {
    PgPool pool(opts());
    auto c = pool.acquire();
    for (int i = 0; i < 5; ++i)
      QCOMPARE(c->execPrepared("add_one", "SELECT $1::int + 1", {std::to_string(i)}).toInt(0, 0), i + 1LL);
    QCOMPARE(c->exec("SELECT count(*) FROM pg_prepared_statements WHERE name = 'add_one'").toInt(0, 0), 1LL);
    // Another session discarding our statements does not break the next call.
    c->exec("DEALLOCATE ALL");
    QCOMPARE(c->execPrepared("add_one", "SELECT $1::int + 1", {std::string("41")}).toInt(0, 0), 42LL);
  }

  void resultAccessors() {
    PgPool pool(opts());
    auto c = pool.acquire();
    const auto r = c->exec("SELECT 12 AS n, 2.5::float8 AS d, 'abc' AS s");
    QCOMPARE(r.rows(), 1);
    QCOMPARE(r.columns(), 3);
    QCOMPARE(r.column("d"), 1);
    QCOMPARE(r.columnName(2), std::string_view("s"));
    QCOMPARE(r.toDouble(0, r.column("d")), 2.5);
    QVERIFY_THROWS_EXCEPTION(tier::DataError, r.toInt(0, 2));
    QVERIFY_THROWS_EXCEPTION(tier::DataError, r.value(1, 0));
    QVERIFY_THROWS_EXCEPTION(tier::DataError, r.column("nope"));
    c->exec("DELETE FROM victims");
    QCOMPARE(c->exec("INSERT INTO victims VALUES (1, 'a'), (2, 'b')").affected(), 2LL);
  }

  void copyInRoundTrip() {
    PgPool pool(opts());
    auto c = pool.acquire();
    c->exec("DELETE FROM victims");
    const std::string tricky = "tab\there\nnewline \\ backslash\r";
    const std::vector<std::string> chunks{"1\t" + tier::pg::copyEscape(tricky) + "\n2\tplain\n", "3\t\\N\n"};
    QCOMPARE(c->copyIn("COPY victims (id, note) FROM STDIN", chunks), 3LL);
    QCOMPARE(c->exec("SELECT note FROM victims WHERE id = 1").value(0, 0), std::string_view(tricky));
    QVERIFY(c->exec("SELECT note FROM victims WHERE id = 3").isNull(0, 0));
    // A bad row fails the whole COPY with a typed error and leaves the connection usable.
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError,
                             c->copyIn("COPY victims (id, note) FROM STDIN", std::vector<std::string>{"x\ty\n"}));
    QCOMPARE(c->exec("SELECT count(*) FROM victims").toInt(0, 0), 3LL);
  }

  void transactionLeftOpenIsRolledBack() {
    PgOptions o = opts();
    o.pool_size = 1;
    PgPool pool(o);
    {
      auto c = pool.acquire();
      c->exec("DELETE FROM victims");
      c->exec("BEGIN");  // by hand: a Transaction would roll back itself
      c->exec("INSERT INTO victims VALUES (7, 'uncommitted')");
    }  // the lease goes back mid-transaction
    auto c = pool.acquire();
    QCOMPARE(c->exec("SELECT count(*) FROM victims").toInt(0, 0), 0LL);
    tier::pg::Transaction tx(*c);
    c->exec("INSERT INTO victims VALUES (8, 'committed')");
    tx.commit();
    QCOMPARE(c->exec("SELECT count(*) FROM victims").toInt(0, 0), 1LL);
  }

  // tier::pg::Transaction: a throw or an early return rolls back, commit() keeps, a
  // failed statement inside leaves the connection usable, moving hands it on.
  void transactionRollsBackUnlessCommitted() {
    PgOptions o = opts();
    o.pool_size = 1;
    PgPool pool(o);
    auto c = pool.acquire();
    c->exec("DELETE FROM victims");
    auto count = [&] { return c->exec("SELECT count(*) FROM victims").toInt(0, 0); };
    try {
      tier::pg::Transaction tx(*c);
      c->exec("INSERT INTO victims VALUES (1, 'thrown away')");
      throw std::runtime_error("the caller fails between two statements");
    } catch (const std::runtime_error&) {
    }
    QCOMPARE(count(), 0LL);
    {
      tier::pg::Transaction tx(*c);
      c->exec("INSERT INTO victims VALUES (2, 'returned early')");
    }
    QCOMPARE(count(), 0LL);
    {
      tier::pg::Transaction tx(*c);
      c->exec("INSERT INTO victims VALUES (3, 'first')");
      // A failing statement aborts the transaction on the server; ROLLBACK ends it.
      QVERIFY_THROWS_EXCEPTION(tier::BadInputError, c->exec("INSERT INTO victims VALUES (3, 'duplicate')"));
    }
    QCOMPARE(count(), 0LL);  // the connection works again, and row 3 went with its transaction
    {
      // A caller that catches a statement's error and commits anyway is told: nothing was kept.
      tier::pg::Transaction tx(*c);
      c->exec("INSERT INTO victims VALUES (5, 'kept?')");
      QVERIFY_THROWS_EXCEPTION(tier::BadInputError, c->exec("INSERT INTO victims VALUES (5, 'duplicate')"));
      QVERIFY_THROWS_EXCEPTION(tier::DataError, tx.commit());
    }
    QCOMPARE(count(), 0LL);
    auto begun = [&] {
      tier::pg::Transaction tx(*c);
      c->exec("INSERT INTO victims VALUES (4, 'moved')");
      return tx;
    };
    {
      tier::pg::Transaction tx = begun();
      tx.commit();
      QVERIFY_THROWS_EXCEPTION(tier::Error, tx.commit());  // once only
    }
    QCOMPARE(count(), 1LL);
    QCOMPARE(c->exec("SELECT note FROM victims WHERE id = 4").value(0, 0), std::string_view("moved"));
  }

  void brokenIdleConnectionIsReplaced() {
    PgOptions o = opts();
    o.pool_size = 1;
    PgPool pool(o);
    PgPool admin(opts());
    int pid = 0;
    {
      auto c = pool.acquire();
      pid = c->backendPid();
    }
    auto a = admin.acquire();
    QCOMPARE(a->exec("SELECT pg_terminate_backend($1)", {std::to_string(pid)}).value(0, 0), std::string_view("t"));
    QTRY_COMPARE(a->exec("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", {std::to_string(pid)}).toInt(0, 0),
                 0LL);
    auto c = pool.acquire();
    QVERIFY(c->backendPid() != pid);
    QCOMPARE(c->exec("SELECT 1").toInt(0, 0), 1LL);
    QCOMPARE(pool.stats().connects, std::uint64_t(2));
  }

  void brokenLeasedConnectionIsDiscarded() {
    PgOptions o = opts();
    o.pool_size = 1;
    PgPool pool(o);
    PgPool admin(opts());
    int pid = 0;
    {
      auto c = pool.acquire();
      pid = c->backendPid();
      admin.acquire()->exec("SELECT pg_terminate_backend($1)", {std::to_string(pid)});
      QVERIFY_THROWS_EXCEPTION(tier::ConnectionError, c->exec("SELECT pg_sleep(10)"));
      QVERIFY(!c->isOk());
    }
    QCOMPARE(pool.stats().open, 0);
    auto c = pool.acquire();
    QVERIFY(c->backendPid() != pid);
    QCOMPARE(c->exec("SELECT 1").toInt(0, 0), 1LL);
  }

  void statsAndMetrics() {
    tier::metrics::Metrics metrics;
    PgPool pool(opts(), &metrics);
    {
      auto c = pool.acquire();
      c->exec("SELECT 1");
      c->execPrepared("s", "SELECT $1::int", {std::string("1")});
      QVERIFY_THROWS_EXCEPTION(tier::DataError, c->exec("SELEC"));
      const auto s = pool.stats();
      QCOMPARE(s.in_use, 1);
      QCOMPARE(s.open, 1);
    }
    const auto s = pool.stats();
    QCOMPARE(s.size, 2);
    QCOMPARE(s.in_use, 0);
    QCOMPARE(s.connects, std::uint64_t(1));
    QVERIFY(s.queries >= 3);
    QCOMPARE(s.errors, std::uint64_t(1));
    QVERIFY(!s.last_error.empty());
    QVERIFY(metrics.snapshot(std::chrono::seconds(0)).op(tier::metrics::Op::DbQuery).count >= 3);
  }

  void serverFacts() {
    PgPool pool(opts());
    auto c = pool.acquire();
    QVERIFY(c->serverVersion().rfind("15.", 0) == 0 || c->serverVersion().find('.') != std::string::npos);
    QCOMPARE(c->user(), std::string("tier"));
    QCOMPARE(c->database(), std::string("tier"));
    QVERIFY(c->backendPid() > 0);
  }
};

QTEST_GUILESS_MAIN(TestPgPool)
#include "tst_pg_pool.moc"
