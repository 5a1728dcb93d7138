// core/text.h: how strings from outside reach a terminal; core/limits.h: the one limit check;
// core/json_util: what counts as one JSON document.
#include <catch2/catch.hpp>

#include "core/json_util.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "support/errors.h"

using sigil::test::code_of;
using sigil::test::thrown_by;

TEST_CASE("printable escapes what a terminal would act on and keeps the rest") {
  CHECK(trust::printable("sha256:abc application/vnd.oci.image.manifest.v1+json") ==
        "sha256:abc application/vnd.oci.image.manifest.v1+json");
  CHECK(trust::printable("über ✓ 署名") == "über ✓ 署名");
  CHECK(trust::printable("a\rVERIFIED") == "a\\rVERIFIED");
  CHECK(trust::printable("x\nOK: forged") == "x\\nOK: forged");
  CHECK(trust::printable("\x1b[2K\x1b[1AVERIFIED") == "\\x1b[2K\\x1b[1AVERIFIED");
  CHECK(trust::printable("tab\there") == "tab\\there");
  CHECK(trust::printable(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(trust::printable("del\x7f") == "del\\x7f");
  // C1 controls (U+009B is a one-character CSI on some terminals) and bidi overrides.
  CHECK(trust::printable("\xc2\x9b"
                         "2K") == "\\u{009b}2K");
  CHECK(trust::printable("abc\xe2\x80\xae"
                         "fed") == "abc\\u{202e}fed");
  CHECK(trust::printable("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u{2066}x\\u{2069}");
  // Bytes that are not UTF-8: stray continuation, truncated, overlong, surrogate.
  CHECK(trust::printable("\x80") == "\\x80");
  CHECK(trust::printable("ab\xe2\x82") == "ab\\xe2\\x82");
  CHECK(trust::printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(trust::printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
}

TEST_CASE("printable is idempotent, so escaping twice changes nothing") {
  for (std::string s : {"a\rb", "\x1b[31m", "plain", "\xff\xfe", "back\\slash"}) {
    const auto once = trust::printable(s);
    CHECK(trust::printable(once) == once);
  }
}

TEST_CASE("excerpt cuts at a UTF-8 character boundary and says so") {
  CHECK(trust::excerpt("short", 10) == "short");
  CHECK(trust::excerpt("exactly10!", 10) == "exactly10!");
  CHECK(trust::excerpt("abcdefghijk", 10) == "abcdefghij…");
  // "é" is two bytes: a cut inside it drops the whole character.
  CHECK(trust::excerpt("aaaaaaaaaé", 10) == "aaaaaaaaa…");
  // "✓" is three bytes, "😀" four.
  CHECK(trust::excerpt("aaaaaaaa✓", 10) == "aaaaaaaa…");
  CHECK(trust::excerpt("aaaaaaa😀", 10) == "aaaaaaa…");
  CHECK(trust::excerpt("aaaaaa😀", 10) == "aaaaaa😀");
}

TEST_CASE("human_size uses binary units") {
  CHECK(trust::human_size(0) == "0 B");
  CHECK(trust::human_size(1023) == "1023 B");
  CHECK(trust::human_size(1536) == "1.5 KiB");
  CHECK(trust::human_size(300ull << 20) == "300.0 MiB");
  CHECK(trust::human_size(5ull << 20) == "5.00 MiB");
  CHECK(trust::human_size(1ull << 30) == "1.00 GiB");
}

TEST_CASE("limits::check refuses only past the limit and names what was counted") {
  trust::limits::check(100, 100, "x", "signatures");
  auto t = thrown_by([] { trust::limits::check(101, 100, "reg/repo@sha256:ab", "signatures"); });
  CHECK(t.code == trust::ErrorCode::kLimit);
  CHECK(t.message == "reg/repo@sha256:ab: 101 signatures is over the limit of 100");
}

TEST_CASE("JSON input with a NUL byte or a byte order mark is refused, as Go refuses it") {
  using trust::detail::parse_json;
  CHECK(parse_json(std::string_view(R"({"a":1})"), "doc").at("a") == 1);
  auto nul = thrown_by([] { parse_json(std::string_view("{\"a\":1}\0{\"a\":2}", 15), "doc"); });
  CHECK(nul.code == trust::ErrorCode::kInput);
  CHECK(nul.message == "doc: malformed JSON: NUL byte at offset 7");
  auto trailing = thrown_by([] { parse_json(std::string_view("{\"a\":1}\0junk", 12), "doc"); });
  CHECK(trailing.code == trust::ErrorCode::kInput);
  auto bom = thrown_by([] { parse_json(std::string_view("\xef\xbb\xbf{\"a\":1}"), "doc"); });
  CHECK(bom.code == trust::ErrorCode::kInput);
  CHECK(bom.message == "doc: malformed JSON: starts with a UTF-8 byte order mark");
  // An escaped NUL inside a string is valid JSON.
  CHECK(parse_json(std::string_view(R"({"a":"x\u0000y"})"), "doc")
            .at("a")
            .get<std::string>()
            .size() == 3);
}

TEST_CASE("duplicate JSON keys are refused inside nested objects too") {
  using trust::detail::parse_json;
  for (std::string_view doc : {R"({"a":{"b":1,"b":2}})", R"({"x":[{"k":1},{"k":1,"k":2}]})",
                               R"({"a":{"b":{"c":{"d":1,"d":1}}}})"}) {
    auto t = thrown_by([&] { parse_json(doc, "doc"); });
    CHECK(t.code == trust::ErrorCode::kInput);
    CHECK(t.message.find("duplicate JSON key") != std::string::npos);
  }
  // The same key in sibling objects is fine.
  auto siblings = parse_json(std::string_view(R"({"a":{"k":1},"b":{"k":2}})"), "doc");
  CHECK(siblings["a"]["k"] == 1);
  CHECK(siblings["b"]["k"] == 2);
}

TEST_CASE("writing JSON with invalid UTF-8 is an input error, not an internal one") {
  trust::detail::Json j{{"a", std::string("\xff")}};
  auto t = thrown_by([&] { (void)trust::detail::dump_compact(j); });
  CHECK(t.code == trust::ErrorCode::kInput);
}

TEST_CASE("a JSON document of tiny values is refused past its value budget, not parsed in full") {
  using trust::detail::parse_json;
  const std::size_t max_bytes = 64 << 10;  // 64 KiB: 64 * 32 = 2048 values at most
  auto array_of = [](std::size_t n) {
    std::string doc = "[";
    for (std::size_t i = 0; i < n; ++i) doc += i == 0 ? "0" : ",0";
    return doc + "]";
  };
  // The array itself is a value: 2047 zeros fit, 2048 do not.
  CHECK(parse_json(std::string_view(array_of(2047)), "doc", max_bytes).size() == 2047);
  auto t = thrown_by([&] { parse_json(std::string_view(array_of(2048)), "doc", max_bytes); });
  CHECK(t.code == trust::ErrorCode::kLimit);
  CHECK(t.message ==
        "doc: more than 2048 JSON values (at most 32 per KiB of its 65536-byte limit)");
  // Object members count the same way.
  std::string obj = "{";
  for (int i = 0; i < 3000; ++i) obj += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  obj += "}";
  CHECK(code_of([&] { parse_json(std::string_view(obj), "doc", max_bytes); }) ==
        trust::ErrorCode::kLimit);
}
