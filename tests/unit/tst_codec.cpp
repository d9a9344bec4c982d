// Key names, patterns and the value envelope: the bytes another service reads.
#include <QTest>

#include "tier/codec/envelope.h"
#include "tier/codec/keys.h"
#include "tier/common/error.h"

using namespace tier::codec;

class TestCodec : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void keyNames() {
    QCOMPARE(entryKey(42), std::string("entry:v1:42"));
    QCOMPARE(sessionKey(7), std::string("session:v1:7"));
    QCOMPARE(userKey(1), std::string("user:v1:1"));
    QCOMPARE(statsKey(9, "30d"), std::string("stats:v1:9:30d"));
    QCOMPARE(knowledgeKey("sleep-hygiene-1"), std::string("knowledge:v1:sleep-hygiene-1"));
    QVERIFY_THROWS_EXCEPTION(tier::BadInputError, knowledgeKey("Bad Slug"));
  }

  void parseKey_data() {
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QByteArray>("id");
    QTest::newRow("entry") << QByteArray("entry:v1:42") << true << QByteArray("42");
    QTest::newRow("stats") << QByteArray("stats:v1:9:30d") << true << QByteArray("9:30d");
    QTest::newRow("unknown ns") << QByteArray("foo:v1:1") << false << QByteArray();
    QTest::newRow("no version") << QByteArray("entry:42") << false << QByteArray();
    QTest::newRow("bad version") << QByteArray("entry:vx:42") << false << QByteArray();
    QTest::newRow("zero version") << QByteArray("entry:v0:42") << false << QByteArray();
    QTest::newRow("empty id") << QByteArray("entry:v1:") << false << QByteArray();
    QTest::newRow("control byte") << QByteArray("entry:v1:4\x01") << false << QByteArray();
    QTest::newRow("invalid utf8") << QByteArray("entry:v1:\xff") << false << QByteArray();
    QTest::newRow("oversized") << (QByteArray("entry:v1:") + QByteArray(1 << 20, 'a')) << false << QByteArray();
    QTest::newRow("empty") << QByteArray() << false << QByteArray();
  }
  void parseKey() {
    QFETCH(QByteArray, key);
    QFETCH(bool, ok);
    QFETCH(QByteArray, id);
    auto parsed = tier::codec::parseKey(std::string_view(key.constData(), key.size()));
    QCOMPARE(parsed.has_value(), ok);
    if (ok) QCOMPARE(QByteArray::fromStdString(parsed->id), id);
  }

  void validatePattern_data() {
    QTest::addColumn<QByteArray>("pattern");
    QTest::addColumn<bool>("anyNamespace");
    QTest::addColumn<bool>("ok");
    QTest::newRow("entry star") << QByteArray("entry:*") << false << true;
    QTest::newRow("session prefix") << QByteArray("session:v1:12*") << false << true;
    QTest::newRow("class") << QByteArray("stats:v1:[0-9]*") << false << true;
    QTest::newRow("bare star") << QByteArray("*") << false << false;
    QTest::newRow("bare star allowed") << QByteArray("*") << true << true;
    QTest::newRow("glob in namespace") << QByteArray("ent*:v1:1") << false << false;
    QTest::newRow("unknown namespace") << QByteArray("secret:*") << false << false;
    QTest::newRow("unterminated class") << QByteArray("entry:[abc") << false << false;
    QTest::newRow("trailing backslash") << QByteArray("entry:abc\\") << false << false;
    QTest::newRow("control char") << QByteArray("entry:\n*") << false << false;
    QTest::newRow("empty") << QByteArray() << false << false;
    QTest::newRow("1 MB") << (QByteArray("entry:") + QByteArray(1 << 20, '*')) << false << false;
  }
  void validatePattern() {
    QFETCH(QByteArray, pattern);
    QFETCH(bool, anyNamespace);
    QFETCH(bool, ok);
    bool threw = false;
    try {
      tier::codec::validatePattern(std::string_view(pattern.constData(), pattern.size()), anyNamespace);
    } catch (const tier::BadInputError& e) {
      threw = true;
      QVERIFY(std::string(e.what()).find('\n') == std::string::npos);
    }
    QCOMPARE(!threw, ok);
  }

  void glob_data() {
    QTest::addColumn<QByteArray>("pattern");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("match");
    QTest::newRow("star") << QByteArray("entry:*") << QByteArray("entry:v1:1") << true;
    QTest::newRow("star no") << QByteArray("entry:*") << QByteArray("session:v1:1") << false;
    QTest::newRow("question") << QByteArray("entry:v1:?") << QByteArray("entry:v1:7") << true;
    QTest::newRow("question long") << QByteArray("entry:v1:?") << QByteArray("entry:v1:77") << false;
    QTest::newRow("class range") << QByteArray("e[a-c]x") << QByteArray("ebx") << true;
    QTest::newRow("class negated") << QByteArray("e[^a-c]x") << QByteArray("ebx") << false;
    // As Redis: "[a-]" is the range a..']' (found by tests/fuzz/fuzz_pattern).
    QTest::newRow("range to bracket") << QByteArray("e[a-]") << QByteArray("e^") << true;
    QTest::newRow("range to bracket no") << QByteArray("e[a-]") << QByteArray("e-") << false;
    QTest::newRow("escape") << QByteArray("a\\*b") << QByteArray("a*b") << true;
    QTest::newRow("escape literal") << QByteArray("a\\*b") << QByteArray("axb") << false;
    QTest::newRow("middle star") << QByteArray("stats:v1:*:30d") << QByteArray("stats:v1:42:30d") << true;
    QTest::newRow("middle star no") << QByteArray("stats:v1:*:30d") << QByteArray("stats:v1:42:7d") << false;
    QTest::newRow("many stars") << QByteArray("a*a*a*a*a*a*b") << QByteArray(4000, 'a') << false;
    QTest::newRow("empty both") << QByteArray() << QByteArray() << true;
  }
  void glob() {
    QFETCH(QByteArray, pattern);
    QFETCH(QByteArray, text);
    QFETCH(bool, match);
    QCOMPARE(globMatch(pattern.toStdString(), text.toStdString()), match);
  }

  void envelopeRoundTrip() {
    Envelope e{7, 123456789012345, 1700000000000, R"({"id":1,"title":"x\u0000y"})"};
    e.payload.push_back('\0');  // binary-safe
    std::string bytes = encode(e);
    QCOMPARE(bytes.size(), kEnvelopeHeaderBytes + e.payload.size());
    QCOMPARE(bytes.substr(0, 2), std::string("TC"));
    auto d = decode(bytes);
    QVERIFY(d.envelope);
    QCOMPARE(d.envelope->ns_generation, 7u);
    QCOMPARE(d.envelope->entity_version, 123456789012345LL);
    QCOMPARE(d.envelope->written_at_ms, 1700000000000LL);
    QCOMPARE(d.envelope->payload, e.payload);
  }

  void envelopeRejects_data() {
    QTest::addColumn<int>("mutation");
    QTest::addColumn<int>("expected");
    QTest::newRow("truncated header") << 0 << int(DecodeError::TooShort);
    QTest::newRow("bad magic") << 1 << int(DecodeError::BadMagic);
    QTest::newRow("future version") << 2 << int(DecodeError::BadVersion);
    QTest::newRow("bad type") << 3 << int(DecodeError::BadType);
    QTest::newRow("truncated payload") << 4 << int(DecodeError::BadLength);
    QTest::newRow("flipped payload bit") << 5 << int(DecodeError::BadChecksum);
    QTest::newRow("oversized") << 6 << int(DecodeError::TooLarge);
    QTest::newRow("empty") << 7 << int(DecodeError::TooShort);
  }
  void envelopeRejects() {
    QFETCH(int, mutation);
    QFETCH(int, expected);
    std::string b = encode(Envelope{1, 2, 3, R"({"a":"hello world"})"});
    std::size_t limit = kDefaultMaxValueBytes;
    switch (mutation) {
      case 0: b.resize(10); break;
      case 1: b[0] = 'X'; break;
      case 2: b[2] = 9; break;
      case 3: b[3] = 2; break;
      case 4: b.pop_back(); break;
      case 5: b.back() ^= 0x01; break;
      case 6: limit = 16; break;
      case 7: b.clear(); break;
    }
    auto d = decode(b, limit);
    QVERIFY(!d.envelope);
    QCOMPARE(int(d.error), expected);
  }

  void crcKnownVector() { QCOMPARE(crc32("123456789"), 0xCBF43926u); }
};

QTEST_APPLESS_MAIN(TestCodec)
#include "tst_codec.moc"
