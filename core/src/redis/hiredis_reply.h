#pragma once
// Internal (core/src only): reading hiredis replies the same way wherever the
// core talks to Redis below RedisClient (the client's own connections and the
// backplane's dedicated ones).
#include <hiredis/hiredis.h>

#include <optional>
#include <string>
#include <string_view>

namespace tier::redis::detail {

// The role a ROLE reply names when it is not "master" ("slave", "sentinel"),
// so the caller can refuse the node; nullopt for a master, and for a reply that
// is not a ROLE array (an error: a user without +role skips the check).
inline std::optional<std::string> notMasterRole(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0 || r->element[0]->type != REDIS_REPLY_STRING)
    return std::nullopt;
  const std::string_view role(r->element[0]->str, r->element[0]->len);
  if (role == "master") return std::nullopt;
  return std::string(role);
}

}  // namespace tier::redis::detail
