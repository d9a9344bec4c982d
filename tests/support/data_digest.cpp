#include "tier/internal/tier_access.h"
#include "data_digest.h"

#include <QCryptographicHash>
#include <algorithm>
#include <vector>

#include "tier/core.h"
#include "tier/pg/pg_pool.h"
#include "tier/redis/redis_client.h"

namespace tier::test {

RedisDigest redisDigest(TierCore& core) {
  auto& r = *tier::internal::TierAccess::redis(core);
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto page = r.scan(cursor, "*", 1000);
    cursor = page.cursor;
    for (auto& k : page.keys) keys.push_back(std::move(k));
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  QCryptographicHash h(QCryptographicHash::Sha256);
  for (const auto& k : keys) {
    const auto dump = r.command({"DUMP", k});
    h.addData(QByteArrayView(k.data(), static_cast<qsizetype>(k.size())));
    h.addData(QByteArrayView("\0", 1));
    h.addData(QByteArrayView(dump.str.data(), static_cast<qsizetype>(dump.str.size())));
    h.addData(QByteArrayView("\0", 1));
  }
  RedisDigest d;
  d.keys = r.command({"DBSIZE"}).integer;
  d.digest = h.result().toHex().toStdString();
  return d;
}

std::map<std::string, std::string> pgDigest(TierCore& core) {
  std::map<std::string, std::string> out;
  auto c = core.pg().acquire();
  for (const char* table :
       {"users", "journal_entries", "chat_sessions", "chat_messages", "psychology_knowledge", "cache_audit"}) {
    // Table names are constants of this file, never input.
    const std::string sql =
        std::string("SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM ") + table + " t";
    auto r = c->exec(sql);
    out[table] = std::string(r.value(0, 0)) + ":" + std::string(r.value(0, 1));
  }
  return out;
}

}  // namespace tier::test
