// Redis Cluster hash slots: CRC16/XMODEM mod 16384 with the {hash tag} rules
// (cluster spec). Reference values from the spec and from CLUSTER KEYSLOT on a
// Redis 7.0 node (the integration test tst_redis_cluster compares hundreds more
// against a live node).
#include <QtTest>

#include "tier/redis/redis_client.h"

using tier::redis::RedisClient;

class TestRedisKeySlot : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void knownValues();
  void hashTags();
};

void TestRedisKeySlot::knownValues() {
  QCOMPARE(RedisClient::keySlot("123456789"), 0x31C3 & 16383);  // the spec's CRC16 check value 0x31C3
  QCOMPARE(RedisClient::keySlot("foo"), 12182);
  QCOMPARE(RedisClient::keySlot("bar"), 5061);
  QCOMPARE(RedisClient::keySlot("hello"), 866);
  QCOMPARE(RedisClient::keySlot(""), 0);
  for (int i = 0; i < 1000; ++i) {
    const int s = RedisClient::keySlot("entry:v1:" + std::to_string(i));
    QVERIFY(s >= 0 && s < 16384);
  }
}

void TestRedisKeySlot::hashTags() {
  QCOMPARE(RedisClient::keySlot("{user1000}.following"), RedisClient::keySlot("user1000"));
  QCOMPARE(RedisClient::keySlot("{user1000}.followers"), RedisClient::keySlot("user1000"));
  QCOMPARE(RedisClient::keySlot("foo{bar}{zap}"), RedisClient::keySlot("bar"));   // first tag only
  QCOMPARE(RedisClient::keySlot("foo{{bar}}zap"), RedisClient::keySlot("{bar"));  // up to the first '}'
  QCOMPARE(RedisClient::keySlot("foo{}{bar}"), 8363);                             // empty tag: whole key
  QCOMPARE(RedisClient::keySlot("tc:nsgen:{entry}"), RedisClient::keySlot("entry"));
  QVERIFY(RedisClient::keySlot("foo{") == RedisClient::keySlot(std::string("foo{")));  // no '}': whole key
}

QTEST_APPLESS_MAIN(TestRedisKeySlot)
#include "tst_redis_keyslot.moc"
