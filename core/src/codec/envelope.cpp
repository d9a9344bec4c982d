#include "tier/codec/envelope.h"

#include <array>
#include <cstring>

namespace tier::codec {
namespace {

// Slicing-by-8 tables: t[0] is the classic byte table; t[k][i] advances t[k-1][i] by one more zero byte.
constexpr std::array<std::array<std::uint32_t, 256>, 8> makeCrcTables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  return t;
}
constexpr auto kCrcTables = makeCrcTables();

template <typename T>
void putLe(char* out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff);
}
template <typename T>
T getLe(const char* in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return static_cast<T>(v);
}

}  // namespace

// CRC-32 (IEEE), eight bytes per step: every L2 hit verifies one and every fill computes one.
std::uint32_t crc32(std::string_view data) noexcept {
  const auto& t = kCrcTables;
  std::uint32_t c = 0xFFFFFFFFu;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = c ^ (static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                                  static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string encode(const Envelope& e) {
  std::string out(kEnvelopeHeaderBytes + e.payload.size(), '\0');
  char* h = out.data();
  h[0] = 'T';
  h[1] = 'C';
  h[2] = static_cast<char>(kEnvelopeVersion);
  h[3] = 1;  // JSON
  putLe<std::uint32_t>(h + 4, e.ns_generation);
  putLe<std::int64_t>(h + 8, e.entity_version);
  putLe<std::int64_t>(h + 16, e.written_at_ms);
  putLe<std::uint32_t>(h + 24, static_cast<std::uint32_t>(e.payload.size()));
  putLe<std::uint32_t>(h + 28, crc32(e.payload));
  std::memcpy(h + kEnvelopeHeaderBytes, e.payload.data(), e.payload.size());
  return out;
}

const char* toString(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::None: return "ok";
    case DecodeError::TooShort: return "shorter than the envelope header";
    case DecodeError::TooLarge: return "larger than the value size limit";
    case DecodeError::BadMagic: return "not a Tier Console envelope";
    case DecodeError::BadVersion: return "unsupported envelope version";
    case DecodeError::BadType: return "unsupported payload type";
    case DecodeError::BadLength: return "payload length does not match";
    case DecodeError::BadChecksum: return "payload checksum mismatch";
  }
  return "?";
}

Decoded decode(std::string_view b, std::size_t maxBytes, bool verifyChecksum) {
  Decoded d;
  if (b.size() > maxBytes) {
    d.error = DecodeError::TooLarge;
    return d;
  }
  if (b.size() < kEnvelopeHeaderBytes) {
    d.error = DecodeError::TooShort;
    return d;
  }
  if (b[0] != 'T' || b[1] != 'C') {
    d.error = DecodeError::BadMagic;
    return d;
  }
  if (static_cast<std::uint8_t>(b[2]) != kEnvelopeVersion) {
    d.error = DecodeError::BadVersion;
    return d;
  }
  if (b[3] != 1) {
    d.error = DecodeError::BadType;
    return d;
  }
  auto len = getLe<std::uint32_t>(b.data() + 24);
  if (len != b.size() - kEnvelopeHeaderBytes) {
    d.error = DecodeError::BadLength;
    return d;
  }
  std::string_view payload = b.substr(kEnvelopeHeaderBytes);
  if (verifyChecksum && getLe<std::uint32_t>(b.data() + 28) != crc32(payload)) {
    d.error = DecodeError::BadChecksum;
    return d;
  }
  Envelope e;
  e.ns_generation = getLe<std::uint32_t>(b.data() + 4);
  e.entity_version = getLe<std::int64_t>(b.data() + 8);
  e.written_at_ms = getLe<std::int64_t>(b.data() + 16);
  e.payload.assign(payload);
  d.envelope = std::move(e);
  return d;
}

}  // namespace tier::codec
