// Strict YAML into a tree (yaml_tree.h).
#include "verify/yaml_tree.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <optional>
#include <set>
#include <sstream>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

namespace trust::detail {
namespace {

using verify::SourcePosition;
using Value = YamlValue;

// Longest outside name (a field, a tag) quoted in a message.
constexpr std::size_t kQuotedNameBytes = 64;

SourcePosition position_of(const YAML::Mark& mark) {
  // yaml-cpp counts from 0; people (and editors) from 1.
  auto one_based = [](int v) { return v < 0 ? std::size_t{0} : static_cast<std::size_t>(v) + 1; };
  return {.line = one_based(mark.line), .column = one_based(mark.column)};
}

Value make(Value::Kind kind, const SourcePosition& at) {
  Value v;
  v.kind = kind;
  v.at = at;
  return v;
}

// Builds the tree from yaml-cpp's events, refusing what is not allowed as soon as it is seen (so
// the position is the offending one), and hands each document on as it ends.
class TreeBuilder : public YAML::EventHandler {
 public:
  using OnDocument = std::function<void(Value&&, std::size_t, const SourcePosition&)>;
  TreeBuilder(const YamlReadOptions& options, const OnDocument& on_document)
      : options_(options), on_document_(on_document) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    document_at_ = position_of(mark);
    ++documents_;
    if (documents_ > 1 && !options_.one_document.empty()) {
      fail(document_at_, "", std::string(options_.one_document));
    }
    limits::check(documents_, options_.max_documents, position_text(options_.source, document_at_),
                  "YAML documents");
    values_ = 0;
    root_.reset();
  }
  void OnDocumentEnd() override {
    Value root = root_ ? std::move(*root_) : make(Value::Kind::kNull, document_at_);
    root_.reset();
    on_document_(std::move(root), documents_, document_at_);
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Value v = make(Value::Kind::kNull, position_of(mark));
    // yaml-cpp marks an empty value where the next token starts (often the next line): name the
    // field it belongs to instead.
    if (!stack_.empty() && stack_.back().key) v.at = stack_.back().key_at;
    refuse_anchor(v.at, anchor);
    add(std::move(v));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    fail(position_of(mark), path_here(),
         "aliases (*name) are not allowed: write each value where it applies");
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Value v = make(Value::Kind::kScalar, position_of(mark));
    v.text = value;
    refuse_anchor(v.at, anchor);
    refuse_tag(v.at, tag);
    v.quoted = tag == "!";
    add(std::move(v));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(Value::Kind::kList, mark, tag, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(Value::Kind::kMap, mark, tag, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    Value value;
    std::string path;                // the field path of this list or mapping
    std::set<std::string> keys;      // a mapping's keys so far
    std::optional<std::string> key;  // a mapping's key whose value comes next
    SourcePosition key_at;
  };

  [[noreturn]] void fail(const SourcePosition& at, const std::string& field,
                         const std::string& what) const {
    throw InputError(position_text(options_.source, at) + ": " +
                     (field.empty() ? std::string(options_.root_name) : field) + ": " + what);
  }

  // The field path of the value about to be added.
  std::string path_here() const {
    if (stack_.empty()) return "";
    const auto& top = stack_.back();
    if (top.value.kind == Value::Kind::kList) {
      return top.path + "[" + std::to_string(top.value.items.size()) + "]";
    }
    if (!top.key) return top.path;
    return top.path.empty() ? *top.key : top.path + "." + *top.key;
  }

  void refuse_anchor(const SourcePosition& at, YAML::anchor_t anchor) const {
    if (anchor != YAML::NullAnchor) {
      fail(at, path_here(), "anchors (&name) are not allowed: write each value where it applies");
    }
  }
  void refuse_tag(const SourcePosition& at, const std::string& tag) const {
    // yaml-cpp gives "?" for a plain value and "!" for a quoted one; anything else was written.
    if (tag != "?" && tag != "!") {
      fail(at, path_here(),
           "explicit tags ('" + excerpt(tag, kQuotedNameBytes) + "') are not allowed");
    }
  }

  void count(const SourcePosition& at) {
    limits::check(++values_, options_.max_values, position_text(options_.source, at),
                  options_.values_noun);
  }

  void open(Value::Kind kind, const YAML::Mark& mark, const std::string& tag,
            YAML::anchor_t anchor) {
    const auto at = position_of(mark);
    refuse_anchor(at, anchor);
    refuse_tag(at, tag);
    if (!stack_.empty() && stack_.back().value.kind == Value::Kind::kMap && !stack_.back().key) {
      fail(at, path_here(), "a mapping key must be a name, not a list or mapping");
    }
    count(at);
    limits::check(stack_.size() + 1, options_.max_nesting, position_text(options_.source, at),
                  "levels of nesting");
    auto path = path_here();
    Open o;
    o.value = make(kind, at);
    o.path = std::move(path);
    stack_.push_back(std::move(o));
  }

  void close() {
    auto done = std::move(stack_.back());
    stack_.pop_back();
    attach(std::move(done.value));
  }

  void add(Value v) {
    count(v.at);
    if (!stack_.empty() && stack_.back().value.kind == Value::Kind::kMap && !stack_.back().key) {
      auto& top = stack_.back();
      if (v.kind != Value::Kind::kScalar) {
        fail(v.at, top.path, "a mapping key must be a name, not " + yaml_kind_name(v));
      }
      const auto field = top.path.empty() ? v.text : top.path + "." + v.text;
      if (v.text == "<<" && !v.quoted) {
        fail(v.at, top.path.empty() ? "<<" : top.path + ".<<",
             "merge keys (<<) are not allowed: write each field where it applies");
      }
      if (!top.keys.insert(v.text).second) {
        fail(v.at, excerpt(field, kMaxQuotedBytes),
             "'" + excerpt(v.text, kQuotedNameBytes) +
                 "' is given twice in one mapping (which one applies would be a guess)");
      }
      top.key = v.text;
      top.key_at = v.at;
      top.value.items.push_back(std::move(v));
      return;
    }
    attach(std::move(v));
  }

  void attach(Value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    auto& top = stack_.back();
    top.value.items.push_back(std::move(v));
    if (top.value.kind == Value::Kind::kMap) top.key.reset();
  }

  const YamlReadOptions& options_;
  const OnDocument& on_document_;
  std::vector<Open> stack_;
  std::optional<Value> root_;
  SourcePosition document_at_;
  std::size_t documents_ = 0;
  std::size_t values_ = 0;
};

}  // namespace

std::string position_text(std::string_view source, const SourcePosition& at) {
  return std::string(source) + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

std::string yaml_kind_name(const YamlValue& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "nothing";
    case Value::Kind::kScalar:
      return v.quoted ? "the string '" + excerpt(v.text, kQuotedNameBytes) + "'"
                      : "'" + excerpt(v.text, kQuotedNameBytes) + "'";
    case Value::Kind::kList:
      return "a list";
    case Value::Kind::kMap:
      return "a mapping";
  }
  return "nothing";
}

void read_yaml(
    std::string_view text, const YamlReadOptions& options,
    const std::function<void(YamlValue&&, std::size_t, const SourcePosition&)>& on_document) {
  TreeBuilder tree(options, on_document);
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  try {
    while (parser.HandleNextDocument(tree)) {
    }
  } catch (const YAML::Exception& e) {
    throw InputError(position_text(options.source, position_of(e.mark)) +
                     ": not valid YAML: " + e.msg);
  }
}

}  // namespace trust::detail
