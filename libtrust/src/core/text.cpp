#include "libtrust/core/text.h"

#include <cstdio>
#include <optional>

namespace trust {
namespace {

// Decodes one UTF-8 character at `s[i]`; nullopt for a malformed, overlong or surrogate sequence.
// On success `len` is its length in bytes.
std::optional<char32_t> decode_utf8(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  std::size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2;
    cp = b0 & 0x1f;
    min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3;
    cp = b0 & 0x0f;
    min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (i + n > s.size()) return std::nullopt;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  len = n;
  return cp;
}

// Characters a terminal acts on or that change how the text around them reads.
bool is_hidden_or_control(char32_t cp) {
  if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return true;         // C0, DEL, C1
  if (cp == 0x061c || cp == 0x200b || cp == 0x200e || cp == 0x200f) return true;  // marks
  if (cp >= 0x2028 && cp <= 0x202e) return true;  // line/paragraph separators, bidi embeddings
  if (cp >= 0x2066 && cp <= 0x2069) return true;  // bidi isolates
  return cp == 0xfeff;                            // zero-width no-break space (BOM)
}

void append_hex(std::string& out, const char* format, unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, value);
  out += buf;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = 1;
    const auto cp = decode_utf8(text, i, len);
    if (!cp) {
      append_hex(out, "\\x%02x", static_cast<unsigned char>(text[i]));
      i += 1;
      continue;
    }
    if (!is_hidden_or_control(*cp)) {
      out.append(text.substr(i, len));
    } else if (*cp == '\n') {
      out += "\\n";
    } else if (*cp == '\r') {
      out += "\\r";
    } else if (*cp == '\t') {
      out += "\\t";
    } else if (*cp < 0x80) {
      append_hex(out, "\\x%02x", static_cast<unsigned>(*cp));
    } else {
      append_hex(out, "\\u{%04x}", static_cast<unsigned>(*cp));
    }
    i += len;
  }
  return out;
}

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes;
  // Step back over continuation bytes to the start of the character that does not fit.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80 && max_bytes - cut < 3) {
    --cut;
  }
  if ((static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) cut = max_bytes;  // not UTF-8 there
  return std::string(text.substr(0, cut)) + "…";
}

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit >= 1 && v < 10.0 ? "%.2f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace trust
