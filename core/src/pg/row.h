#pragma once
// Internal (core/src only): reading one row of a pg::Result column by column,
// in the order of the SELECT list, so a mapping function names no column index
// and a column added to the list is added at its place in the mapping:
//
//   pg::Row c(r, row);
//   u.id = c.int64();  u.email = c.text();  u.created_at = c.int64();
//
// Each read takes the next column; conversions throw what Result's do
// (DataError for a value that is not an integer). A NULL reads as "" or
// throws, as Result::value / toInt do; isNull() looks without moving on.
// Used by the repositories and the audit log.
#include <cstdint>
#include <string>
#include <string_view>

#include "tier/pg/pg_pool.h"

namespace tier::pg {

class Row {
 public:
  Row(const Result& r, int row, int firstColumn = 0) noexcept : r_(r), row_(row), col_(firstColumn) {}

  std::int64_t int64() { return r_.toInt(row_, col_++); }
  int int32() { return static_cast<int>(r_.toInt(row_, col_++)); }
  double real() { return r_.toDouble(row_, col_++); }
  std::string text() { return std::string(r_.value(row_, col_++)); }
  bool boolean() { return r_.value(row_, col_++) == "t"; }
  bool isNull() const { return r_.isNull(row_, col_); }  // the next column, without moving on
  int column() const noexcept { return col_; }           // the next column's index

 private:
  const Result& r_;
  int row_;
  int col_;
};

}  // namespace tier::pg
