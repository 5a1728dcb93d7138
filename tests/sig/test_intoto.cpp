// in-toto statements: cosign 3's image-signature statement byte for byte, strict parsing, subjects.
#include <catch2/catch.hpp>

#include "libtrust/core/error.h"
#include "libtrust/sig/intoto.h"
#include "sig/sig_test_util.h"

using namespace trust;
using sig::Statement;
using sigil::test::code_of;

namespace {

const Digest kImage =
    Digest::parse("sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d");
const Digest kOther =
    Digest::parse("sha256:66c830d110ac1430deed2d03171fb4814980a1c9e46fde9e9157f10bb49e5ca0");

Statement parse_text(const std::string& s) {
  return Statement::parse(as_bytes(s), "statement");
}
ErrorCode parse_code(const std::string& s) {
  return code_of([&] { (void)parse_text(s); });
}

std::string statement(const std::string& subject, const std::string& tail = "") {
  return "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[" + subject +
         "],\"predicateType\":\"https://example.com/p\",\"predicate\":{}" + tail + "}";
}
const std::string kSubject = "{\"digest\":{\"sha256\":\"" + kImage.hex() + "\"}}";

}  // namespace

TEST_CASE("cosign sign statement: the exact bytes cosign 3 signs", "[intoto]") {
  CHECK(sig::cosign_sign_statement(kImage, {}).serialize() ==
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"" +
            kImage.hex() +
            "\"},\"annotations\":{}}],\"predicateType\":\"https://sigstore.dev/cosign/sign/v1\","
            "\"predicate\":{}}");
  CHECK(sig::cosign_sign_statement(kImage, {{"env", "prod"}, {"a", "1"}}).serialize() ==
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"" +
            kImage.hex() +
            "\"},\"annotations\":{\"a\":\"1\",\"env\":\"prod\"}}],\"predicateType\":\"https://"
            "sigstore.dev/cosign/sign/v1\",\"predicate\":{}}");
}

TEST_CASE("in-toto statement round trip: subjects, names, annotations, predicate", "[intoto]") {
  Statement st;
  st.predicate_type = "https://slsa.dev/provenance/v1";
  st.predicate_json = "{\"buildType\":\"x\",\"n\":[1,2]}";
  sig::StatementSubject a;
  a.name = "registry.example/app";
  a.digest = {{"sha256", kOther.hex()}, {"gitCommit", "abc"}};
  sig::StatementSubject b;
  b.digest = {{"sha256", kImage.hex()}};
  b.annotations = {{"env", "prod"}};
  st.subjects = {a, b};
  auto parsed = parse_text(st.serialize());
  CHECK(parsed.type == sig::kInTotoStatementV1);
  CHECK(parsed.predicate_type == "https://slsa.dev/provenance/v1");
  CHECK(parsed.predicate_json == "{\"buildType\":\"x\",\"n\":[1,2]}");
  REQUIRE(parsed.subjects.size() == 2);
  CHECK(parsed.subjects[0].name == "registry.example/app");
  CHECK(parsed.subjects[0].digest.at("gitCommit") == "abc");
  const auto* s = parsed.find_subject(kImage);
  REQUIRE(s != nullptr);
  CHECK(s->name.empty());
  CHECK(s->has_annotations({{"env", "prod"}}));
  CHECK_FALSE(s->has_annotations({{"env", "dev"}}));
  CHECK(s->missing_annotations({{"env", "dev"}, {"team", "x"}}) == "env=dev, team=x");
  CHECK(parsed.find_subject(kOther) == &parsed.subjects[0]);
  CHECK(parsed.find_subject(Digest::of(as_bytes("nothing"))) == nullptr);
  CHECK(parsed.serialize() == st.serialize());
}

TEST_CASE("in-toto v0.1 statements are read: v0.1 requires a predicate, v1 does not", "[intoto]") {
  auto v01 = parse_text("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[" +
                        kSubject + "],\"predicateType\":\"p\",\"predicate\":{\"x\":1}}");
  CHECK(v01.type == sig::kInTotoStatementV01);
  CHECK(v01.has_subject(kImage));
  CHECK(parse_code("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[" + kSubject +
                   "],\"predicateType\":\"p\"}") == ErrorCode::kInput);
  auto v1 = parse_text("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[" + kSubject +
                       "],\"predicateType\":\"p\"}");
  CHECK(v1.predicate_json == "{}");
}

TEST_CASE("a non-string subject annotation never satisfies a requirement", "[intoto]") {
  auto st = parse_text(statement("{\"digest\":{\"sha256\":\"" + kImage.hex() +
                                 "\"},\"annotations\":{\"n\":1,\"s\":\"1\"}}"));
  const auto* s = st.find_subject(kImage);
  REQUIRE(s != nullptr);
  CHECK(s->annotations.at("n") == "1");
  CHECK_FALSE(s->has_annotations({{"n", "1"}}));
  CHECK(s->has_annotations({{"s", "1"}}));
}

TEST_CASE("in-toto parsing is strict: exact error codes", "[intoto]") {
  CHECK(parse_text(statement(kSubject)).has_subject(kImage));
  // Other ResourceDescriptor fields are allowed.
  auto other_fields =
      parse_text(statement("{\"name\":\"n\",\"uri\":\"u\",\"mediaType\":\"m\","
                           "\"digest\":{\"sha256\":\"" +
                           kImage.hex() + "\"}}"));
  REQUIRE(other_fields.find_subject(kImage) != nullptr);
  CHECK(other_fields.find_subject(kImage)->name == "n");
  CHECK(parse_code("[]") == ErrorCode::kInput);
  CHECK(parse_code("{\"_type\":\"https://in-toto.io/Statement/v2\",\"subject\":[" + kSubject +
                   "],\"predicateType\":\"p\",\"predicate\":{}}") == ErrorCode::kUnsupported);
  CHECK(parse_code(statement("")) == ErrorCode::kInput);                  // no subject
  CHECK(parse_code(statement("{\"digest\":{}}")) == ErrorCode::kInput);   // empty set
  CHECK(parse_code(statement("{\"name\":\"x\"}")) == ErrorCode::kInput);  // no digest
  CHECK(parse_code(statement("{\"digest\":{\"sha256\":\"" +               // uppercase
                             std::string(64, 'A') + "\"}}")) == ErrorCode::kInput);
  CHECK(parse_code(statement("{\"digest\":{\"sha256\":\"abc\"}}")) == ErrorCode::kInput);
  CHECK(parse_code(statement("{\"digest\":{\"sha256\":1}}")) == ErrorCode::kInput);
  CHECK(parse_code(statement("{\"digest\":{\"sha256\":\"" + kImage.hex() + "\"},\"x\":1}")) ==
        ErrorCode::kInput);
  CHECK(parse_code(statement(kSubject, ",\"extra\":1")) == ErrorCode::kInput);
  CHECK(parse_code("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[" + kSubject +
                   "],\"predicateType\":\"\",\"predicate\":{}}") == ErrorCode::kInput);
  CHECK(parse_code("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[" + kSubject +
                   "],\"predicateType\":\"p\",\"predicate\":[]}") == ErrorCode::kInput);
  CHECK(parse_code("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":" + kSubject +
                   ",\"predicateType\":\"p\"}") == ErrorCode::kInput);  // subject not an array
}

TEST_CASE("in-toto subjects: at the limit parsed, past it LimitError", "[intoto]") {
  auto with = [&](std::size_t n) {
    std::string subjects;
    for (std::size_t i = 0; i < n; ++i) subjects += (i ? "," : "") + kSubject;
    return statement(subjects);
  };
  CHECK(parse_text(with(sig::kMaxStatementSubjects)).subjects.size() == sig::kMaxStatementSubjects);
  CHECK(parse_code(with(sig::kMaxStatementSubjects + 1)) == ErrorCode::kLimit);
}

TEST_CASE("serialize refuses statements parse would refuse", "[intoto]") {
  Statement st;
  st.predicate_type = "p";
  CHECK(code_of([&] { (void)st.serialize(); }) == ErrorCode::kUsage);  // no subject
  st.subjects.push_back(sig::StatementSubject{});
  CHECK(code_of([&] { (void)st.serialize(); }) == ErrorCode::kUsage);  // empty digest
  st.subjects[0].digest["sha256"] = kImage.hex();
  st.predicate_json = "[1]";
  CHECK(code_of([&] { (void)st.serialize(); }) == ErrorCode::kUsage);
}
