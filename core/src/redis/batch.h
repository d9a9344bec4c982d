#pragma once
// Internal (core/src only): the argument vectors of one or more Redis commands,
// pointing into caller-owned bytes (no key or value is copied), as
// redis::Connection::roundTrip() sends them. Inline room for a typical command:
// no heap allocation per GET or SET.
//
// Thread-safety: none; a Batch lives for one call. The bytes it points at must
// outlive it.
#include <absl/container/inlined_vector.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tier/redis/reply.h"

namespace tier::redis {

class Batch {
 public:
  void add(std::initializer_list<std::string_view> args) {
    starts_.push_back(argv_.size());
    for (auto a : args) push(a);
  }
  void add(const Command& cmd) {
    starts_.push_back(argv_.size());
    for (const auto& a : cmd) push(a);
  }
  void add(const std::vector<std::string_view>& cmd) {
    starts_.push_back(argv_.size());
    for (auto a : cmd) push(a);
  }
  void addAll(const std::vector<std::string>& tail) {
    for (const auto& a : tail) push(a);
  }
  std::size_t size() const { return starts_.size(); }
  int argc(std::size_t i) const {
    const std::size_t end = i + 1 < starts_.size() ? starts_[i + 1] : argv_.size();
    return static_cast<int>(end - starts_[i]);
  }
  const char** argv(std::size_t i) { return argv_.data() + starts_[i]; }
  const char* const* argv(std::size_t i) const { return argv_.data() + starts_[i]; }
  const std::size_t* lens(std::size_t i) const { return len_.data() + starts_[i]; }
  std::string_view name(std::size_t i) const { return {argv_[starts_[i]], len_[starts_[i]]}; }
  std::string_view arg(std::size_t i, int j) const {
    return {argv_[starts_[i] + static_cast<std::size_t>(j)], len_[starts_[i] + static_cast<std::size_t>(j)]};
  }
  // Points argument j of command i at other caller-owned bytes.
  void setArg(std::size_t i, int j, std::string_view a) {
    argv_[starts_[i] + static_cast<std::size_t>(j)] = a.data();
    len_[starts_[i] + static_cast<std::size_t>(j)] = a.size();
  }

 private:
  void push(std::string_view a) {
    argv_.push_back(a.data());
    len_.push_back(a.size());
  }
  // Inline room for a typical command: no heap allocation per GET/SET.
  absl::InlinedVector<const char*, 8> argv_;
  absl::InlinedVector<std::size_t, 8> len_;
  absl::InlinedVector<std::size_t, 2> starts_;
};

}  // namespace tier::redis
