#include "libtrust/core/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/openssl_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"

namespace trust {

std::string_view to_string(DigestAlgorithm alg) {
  return alg == DigestAlgorithm::kSha256 ? "sha256" : "sha512";
}

std::size_t digest_size(DigestAlgorithm alg) {
  return alg == DigestAlgorithm::kSha256 ? 32 : 64;
}

Digest::Digest()
    : alg_(DigestAlgorithm::kSha256),
      hex_("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") {}

Digest Digest::parse(std::string_view text, std::string_view what) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    throw InputError(std::string(what) + ": '" + std::string(text.substr(0, 80)) +
                     "' is not a digest (expected sha256:<hex>)");
  }
  auto name = text.substr(0, colon);
  auto hex = text.substr(colon + 1);
  DigestAlgorithm alg;
  if (name == "sha256") {
    alg = DigestAlgorithm::kSha256;
  } else if (name == "sha512") {
    alg = DigestAlgorithm::kSha512;
  } else {
    throw InputError(std::string(what) + ": unsupported digest algorithm '" +
                     std::string(name.substr(0, 32)) + "'");
  }
  if (hex.size() != 2 * digest_size(alg) || !is_lower_hex(hex)) {
    throw InputError(std::string(what) + ": '" + std::string(text.substr(0, 140)) +
                     "' is not a valid " + std::string(name) + " digest (expected " +
                     std::to_string(2 * digest_size(alg)) + " lowercase hex digits)");
  }
  return Digest(alg, std::string(hex));
}

Digest Digest::from_raw(DigestAlgorithm alg, ByteView raw) {
  if (raw.size() != digest_size(alg)) throw InputError("raw digest has the wrong length");
  return Digest(alg, hex_encode(raw));
}

Digest Digest::of(ByteView data, DigestAlgorithm alg) {
  Hasher h(alg);
  h.update(data);
  return h.finish();
}

Bytes Digest::raw() const {
  // hex_ is canonical lowercase hex (checked by parse, written by hex_encode).
  auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  Bytes out(hex_.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(nibble(hex_[2 * i]) << 4 | nibble(hex_[2 * i + 1]));
  }
  return out;
}

std::string Digest::str() const {
  return std::string(to_string(alg_)) + ":" + hex_;
}

bool operator==(const Digest& a, const Digest& b) {
  if (a.alg_ != b.alg_ || a.hex_.size() != b.hex_.size()) return false;
  return CRYPTO_memcmp(a.hex_.data(), b.hex_.data(), a.hex_.size()) == 0;
}

struct Hasher::Impl {
  detail::EvpMdCtxPtr ctx;
};

Hasher::Hasher(DigestAlgorithm alg) : impl_(std::make_unique<Impl>()), alg_(alg) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  if (!impl_->ctx) throw detail::openssl_error("EVP_MD_CTX_new");
  const EVP_MD* md = alg == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
  if (EVP_DigestInit_ex(impl_->ctx.get(), md, nullptr) != 1) {
    throw detail::openssl_error("EVP_DigestInit_ex");
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(ByteView data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) {
    throw detail::openssl_error("EVP_DigestUpdate");
  }
  count_ += data.size();
}

Digest Hasher::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out, &len) != 1) {
    throw detail::openssl_error("EVP_DigestFinal_ex");
  }
  return Digest::from_raw(alg_, ByteView(out, len));
}

}  // namespace trust
