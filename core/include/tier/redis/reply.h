#pragma once
// What a Redis command is and what it answers, as the core passes them around
// (RedisClient, redis::Connection): no hiredis type.
#include <string>
#include <vector>

namespace tier::redis {

// A decoded reply. Type mirrors RESP2.
struct Reply {
  enum class Type { Nil, String, Status, Integer, Array, Error };
  Type type = Type::Nil;
  std::string str;              // String, Status, Error
  long long integer = 0;        // Integer
  std::vector<Reply> elements;  // Array

  bool isNil() const noexcept { return type == Type::Nil; }
  bool isError() const noexcept { return type == Type::Error; }
};

using Command = std::vector<std::string>;  // argv, binary-safe

}  // namespace tier::redis
