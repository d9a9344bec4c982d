// Fuzzes the value decoder (tier/codec/envelope.h) with bytes as they might sit
// in Redis: truncated, garbage, or a real envelope with bits flipped.
// Invariants: decode never crashes and never throws; an accepted value
// re-encodes to exactly the same bytes; any value built from the input
// round-trips; one corrupted byte outside the unchecksummed header fields is always caught.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "tier/codec/envelope.h"

using namespace tier::codec;
using tier::fuzz::show;

namespace {

template <typename T>
T take(std::string_view& in) {
  T v{};
  const std::size_t n = std::min(sizeof(T), in.size());
  std::memcpy(&v, in.data(), n);
  in.remove_prefix(n);
  return v;
}

void checkDecoded(std::string_view bytes) {
  const Decoded d = decode(bytes);
  FUZZ_CHECK(d.envelope.has_value() == (d.error == DecodeError::None), show(bytes));
  FUZZ_CHECK(toString(d.error) != nullptr, "no text for a decode error");
  // Without the checksum the decoder accepts a superset, never less.
  const Decoded unchecked = decode(bytes, kDefaultMaxValueBytes, false);
  if (d.envelope) FUZZ_CHECK(unchecked.envelope.has_value(), show(bytes));
  if (!bytes.empty()) {
    const Decoded tight = decode(bytes, bytes.size() - 1);
    FUZZ_CHECK(tight.error == DecodeError::TooLarge, "a value over the size limit was accepted");
  }
  if (!d.envelope) return;
  const Envelope& e = *d.envelope;
  FUZZ_CHECK(bytes.size() == kEnvelopeHeaderBytes + e.payload.size(), show(bytes));
  FUZZ_CHECK(encode(e) == bytes, "an accepted value does not re-encode to the same bytes: " + show(bytes));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    checkDecoded(bytes);

    // The same bytes read as the fields of a fresh envelope.
    std::string_view in = bytes;
    Envelope e;
    e.ns_generation = take<std::uint32_t>(in);
    e.entity_version = take<std::int64_t>(in);
    e.written_at_ms = take<std::int64_t>(in);
    const auto flipAt = take<std::uint16_t>(in);
    const auto flipMask = static_cast<std::uint8_t>(take<std::uint8_t>(in) | 1u);  // never zero
    e.payload.assign(in);
    std::string wire = encode(e);
    const Decoded back = decode(wire);
    FUZZ_CHECK(back.error == DecodeError::None, toString(back.error));
    FUZZ_CHECK(back.envelope->ns_generation == e.ns_generation && back.envelope->entity_version == e.entity_version &&
                   back.envelope->written_at_ms == e.written_at_ms && back.envelope->payload == e.payload,
               "fields changed in a round trip");

    // One corrupted byte: caught, except in the header fields the format leaves
    // unchecksummed (generation, version, write time: bytes 4..23), which then
    // decode to a different value over the same payload.
    const std::size_t at = flipAt % wire.size();
    wire[at] = static_cast<char>(wire[at] ^ flipMask);
    const Decoded bad = decode(wire);
    if (at >= 4 && at < 24) {
      FUZZ_CHECK(bad.envelope && bad.envelope->payload == e.payload, "offset " + std::to_string(at));
    } else {
      FUZZ_CHECK(!bad.envelope.has_value(), "a corrupted value at offset " + std::to_string(at) + " decoded");
      if (at >= kEnvelopeHeaderBytes) FUZZ_CHECK(bad.error == DecodeError::BadChecksum, toString(bad.error));
    }
    checkDecoded(wire);
  } catch (const std::exception& ex) {
    tier::fuzz::unexpectedException(ex);  // decode promises not to throw
  }
  return 0;
}
