#pragma once
// The value encoding shared by L1 and L2 (docs/key-schema.md, "Value envelope").
// Another service can read it: a fixed 32-byte little-endian header followed by a
// UTF-8 JSON object.
//
//   off size field
//   0   2    magic "TC"
//   2   1    envelope version (1)
//   3   1    payload type (1 = JSON object, UTF-8)
//   4   4    namespace generation (u32) at the time of the fill
//   8   8    entity version (i64): the row's `version` column in PostgreSQL
//   16  8    written at (i64, Unix ms)
//   24  4    payload length in bytes (u32)
//   28  4    CRC-32 (IEEE) of the payload
//   32  n    payload
//
// decode() never trusts its input: wrong size, magic, version, type, length,
// checksum, or a payload over the limit is a clean "no value" plus a reason.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tier::codec {

inline constexpr std::size_t kEnvelopeHeaderBytes = 32;
inline constexpr std::uint8_t kEnvelopeVersion = 1;
inline constexpr std::size_t kDefaultMaxValueBytes = 8u * 1024 * 1024;

// The payload of a version fence: an L2 value that reads as a miss but, through
// the version-guarded SET, keeps out any fill older than its entity_version.
// Written where a write's new value could not be stored in L2 (repairs after a
// Redis outage), so another instance's fill of a row loaded before that write
// cannot land in the empty key.
inline constexpr std::string_view kFencePayload = "\"tc:fence\"";

struct Envelope {
  std::uint32_t ns_generation = 0;
  std::int64_t entity_version = 0;
  std::int64_t written_at_ms = 0;
  std::string payload;  // JSON object text
};

std::string encode(const Envelope& e);

enum class DecodeError { None, TooShort, TooLarge, BadMagic, BadVersion, BadType, BadLength, BadChecksum };
const char* toString(DecodeError e) noexcept;

struct Decoded {
  std::optional<Envelope> envelope;
  DecodeError error = DecodeError::None;
};
// verifyChecksum=false is for values this process wrote itself (L1).
Decoded decode(std::string_view bytes, std::size_t maxBytes = kDefaultMaxValueBytes, bool verifyChecksum = true);

std::uint32_t crc32(std::string_view data) noexcept;

}  // namespace tier::codec
