#pragma once
// The check both Redis URL tests (tst_redis_url, tst_redis_url_distributed)
// run on every URL they expect refused: a BadInputError, one line, naming the
// problem, never carrying the secret.
#include <QtTest>

#include "tier/common/error.h"
#include "tier/redis/redis_url.h"

namespace tier::test {

inline void checkUrlRejected(const QByteArray& url, const QByteArray& expected, const QByteArray& secret) {
  try {
    const redis::RedisUrl r =
        redis::RedisUrl::parse(std::string_view(url.constData(), static_cast<std::size_t>(url.size())));
    QFAIL(qPrintable(QStringLiteral("accepted: ") + QString::fromStdString(r.redacted())));
  } catch (const BadInputError& e) {
    const QByteArray msg(e.what());
    QVERIFY2(msg.contains(expected), msg.constData());
    QVERIFY2(!msg.contains('\n'), "error message must be one line");
    if (!secret.isEmpty()) QVERIFY2(!msg.contains(secret), msg.constData());
  }
}

}  // namespace tier::test
