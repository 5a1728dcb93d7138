#pragma once
// The one place the CLI writes. Machine output (JSON, and a command's one-line result such as a
// digest) goes to stdout; text for people (reports, progress, warnings, errors) goes to stderr.
// Every string from outside (an image, a registry, a file) reaches the terminal escaped:
//  - a text line is passed whole through trust::printable, so nothing inside it can end the line,
//    move the cursor, erase what was printed before or forge another line of the report;
//  - JSON is dumped as ASCII (every non-ASCII character and control character \u-escaped) with
//    invalid UTF-8 replaced by U+FFFD, so it is always a valid document and never a terminal
//    sequence.

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sigil::cli {

// Every JSON document the CLI prints carries "schemaVersion" first; the shapes are documented in
// docs/formats.md. Bumped when a member changes meaning or is removed (adding one is compatible).
inline constexpr int kJsonSchemaVersion = 1;

// The program's name in messages ("sigil", "sigil-verify"); set once by run().
void set_program_name(std::string_view name);
const std::string& program_name();

// A JSON document for machines on stdout: `document` (an object) with "schemaVersion" first.
void print_json(const nlohmann::ordered_json& document);
// JSON in a shape another tool defines (verify --output cosign): printed as given.
void print_foreign_json(const nlohmann::ordered_json& document);
// JSON text as print_json writes it (tests of the shapes use the executables).
std::string dump_json(const nlohmann::ordered_json& document);

// One line for people on stderr (the line is escaped whole; "\n" is added).
void say(std::string_view line);
// The command's one-line result on stdout (a digest, a key id, a reference), for $(…).
void result(std::string_view line);
// Text the command produced itself (a PEM public key) on stdout, as it is.
void result_block(std::string_view text);
// "<program>: warning: <line>" on stderr.
void warn(std::string_view line);
// "<program>: error: <line>" on stderr.
void error_line(std::string_view line);

// Something drawn live at the bottom of stderr (the progress display on a terminal): every line
// written above is preceded by clear() and followed by redraw(), under console_mutex().
class LiveArea {
 public:
  virtual ~LiveArea() = default;
  virtual void clear() = 0;   // erase what is drawn; the cursor ends where it began
  virtual void redraw() = 0;  // draw it again below the last line written
};
void set_live_area(LiveArea* area);
void release_live_area(LiveArea* area);  // if `area` is the one set
std::mutex& console_mutex();

}  // namespace sigil::cli
