#include "crypto/pem.h"

#include <openssl/evp.h>

#include <optional>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"

namespace trust::detail {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kEnd = "-----END ";
constexpr std::string_view kDashes = "-----";
constexpr std::size_t kPemLineWidth = 64;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_label_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
         c == '-' || c == '_' || c == '.';
}

bool at_line_start(std::string_view text, std::size_t pos) {
  return pos == 0 || text[pos - 1] == '\n';
}

// Finds `needle` at the start of a line, from `from`.
std::size_t find_at_line_start(std::string_view text, std::string_view needle, std::size_t from) {
  for (auto pos = text.find(needle, from); pos != std::string_view::npos;
       pos = text.find(needle, pos + 1)) {
    if (at_line_start(text, pos)) return pos;
  }
  return std::string_view::npos;
}

// Reads "<label>-----" followed by end of line at `pos`; returns the label and moves `pos` past the
// line break.
std::optional<std::string> read_label_line(std::string_view text, std::size_t& pos) {
  auto end = text.find(kDashes, pos);
  if (end == std::string_view::npos || end == pos) return std::nullopt;
  std::string label(text.substr(pos, end - pos));
  for (char c : label) {
    if (!is_label_char(c)) return std::nullopt;
  }
  pos = end + kDashes.size();
  if (pos < text.size() && text[pos] == '\r') ++pos;
  if (pos < text.size()) {
    if (text[pos] != '\n') return std::nullopt;
    ++pos;
  }
  return label;
}

// The whole parser; returns an error description or nullopt on success.
std::optional<std::string> parse(std::string_view text, PemBlock& out) {
  auto begin = find_at_line_start(text, kBegin, 0);
  if (begin == std::string_view::npos) return "no PEM block found";
  std::size_t pos = begin + kBegin.size();
  auto label = read_label_line(text, pos);
  if (!label) return "malformed PEM BEGIN line";
  auto body_start = pos;
  auto end = find_at_line_start(text, kEnd, body_start);
  if (end == std::string_view::npos) return "PEM block '" + *label + "' has no END line";
  auto body = text.substr(body_start, end - body_start);
  if (body.find(kBegin) != std::string_view::npos) return "nested PEM BEGIN line";
  if (body.find(':') != std::string_view::npos) {
    return "PEM headers are not supported (a legacy encrypted key? decrypt it first)";
  }
  pos = end + kEnd.size();
  auto end_label = read_label_line(text, pos);
  if (!end_label || *end_label != *label) return "PEM END line does not match '" + *label + "'";
  for (auto i = pos; i < text.size(); ++i) {
    if (!is_space(text[i])) {
      if (text.substr(i).find(kBegin) != std::string_view::npos) {
        return "more than one PEM block (expected exactly one)";
      }
      return "unexpected text after the PEM block";
    }
  }
  out.type = std::move(*label);
  out.body = body;
  return std::nullopt;
}

bool is_b64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

PemBlock parse_pem(std::string_view text, std::string_view what) {
  PemBlock block;
  if (auto err = parse(text, block)) throw InputError(std::string(what) + ": " + *err);
  return block;
}

bool try_parse_pem(std::string_view text, PemBlock& out) {
  return !parse(text, out).has_value();
}

Bytes decode_pem_body(const PemBlock& block, std::string_view what) {
  return base64_decode_lines(block.body, std::string(what) + ": PEM body");
}

SecretBytes decode_pem_body_secret(const PemBlock& block, std::string_view what) {
  auto bad = [&](const char* why) {
    return InputError(std::string(what) + ": PEM body: invalid base64 (" + why + ")");
  };
  SecretBytes joined;
  joined.resize(block.body.size());
  std::size_t n = 0;
  for (char c : block.body) {
    if (c == '\n' || c == '\r') continue;
    joined.data()[n++] = static_cast<std::uint8_t>(c);
  }
  joined.resize(n);
  if (n == 0) throw bad("empty");
  if (n % 4 != 0) throw bad("length is not a multiple of 4");
  std::size_t pad = 0;
  if (joined.data()[n - 1] == '=') pad = joined.data()[n - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < n - pad; ++i) {
    if (!is_b64_char(static_cast<char>(joined.data()[i]))) throw bad("unexpected character");
  }
  SecretBytes out(n / 4 * 3);
  int decoded = EVP_DecodeBlock(out.data(), joined.data(), static_cast<int>(n));
  if (decoded < 0) throw bad("decoder rejected it");
  out.resize(static_cast<std::size_t>(decoded) - pad);
  return out;
}

std::string encode_pem(std::string_view type, ByteView der) {
  auto b64 = base64_encode(der);
  std::string out;
  out.reserve(b64.size() + b64.size() / kPemLineWidth + 2 * type.size() + 40);
  out.append(kBegin).append(type).append(kDashes).push_back('\n');
  for (std::size_t i = 0; i < b64.size(); i += kPemLineWidth) {
    out.append(b64, i, kPemLineWidth).push_back('\n');
  }
  out.append(kEnd).append(type).append(kDashes).push_back('\n');
  return out;
}

}  // namespace trust::detail
