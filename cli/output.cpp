#include "output.h"

#include <iostream>
#include <stdexcept>

#include "libtrust/core/text.h"

namespace sigil::cli {
namespace {

std::string& name_storage() {
  static std::string name = "sigil";
  return name;
}

LiveArea* live_area = nullptr;  // guarded by console_mutex()

// Writes `text` to `stream` with the live area (if any) moved out of the way.
void write_console(std::ostream& stream, std::string_view text) {
  std::lock_guard lock(console_mutex());
  if (live_area != nullptr) live_area->clear();
  stream << text << std::flush;
  if (live_area != nullptr) live_area->redraw();
}

}  // namespace

void set_program_name(std::string_view name) {
  name_storage() = std::string(name);
}
const std::string& program_name() {
  return name_storage();
}

std::mutex& console_mutex() {
  static std::mutex m;
  return m;
}

void set_live_area(LiveArea* area) {
  std::lock_guard lock(console_mutex());
  live_area = area;
}

void release_live_area(LiveArea* area) {
  std::lock_guard lock(console_mutex());
  if (live_area == area) live_area = nullptr;
}

std::string dump_json(const nlohmann::ordered_json& document) {
  return document.dump(2, ' ', /*ensure_ascii=*/true,
                       nlohmann::ordered_json::error_handler_t::replace);
}

void print_json(const nlohmann::ordered_json& document) {
  if (!document.is_object()) throw std::logic_error("print_json: a document is an object");
  nlohmann::ordered_json out{{"schemaVersion", kJsonSchemaVersion}};
  for (const auto& [key, value] : document.items()) out[key] = value;
  write_console(std::cout, dump_json(out) + "\n");
}

void print_foreign_json(const nlohmann::ordered_json& document) {
  write_console(std::cout, dump_json(document) + "\n");
}

void say(std::string_view line) {
  write_console(std::cerr, trust::printable(line) + "\n");
}

void result(std::string_view line) {
  write_console(std::cout, trust::printable(line) + "\n");
}

void result_block(std::string_view text) {
  write_console(std::cout, text);
}

void warn(std::string_view line) {
  write_console(std::cerr, program_name() + ": warning: " + trust::printable(line) + "\n");
}

void error_line(std::string_view line) {
  write_console(std::cerr, program_name() + ": error: " + trust::printable(line) + "\n");
}

}  // namespace sigil::cli
