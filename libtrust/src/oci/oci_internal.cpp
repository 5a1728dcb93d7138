#include "oci/oci_internal.h"

#include <sys/stat.h>

namespace trust::oci::detail {

std::string_view file_type_name(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFLNK:
      return "a symbolic link";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    default:
      return "a special file";
  }
}

OrderedJson parse_ordered_json(ByteView bytes, std::string_view what, std::size_t max_bytes) {
  (void)trust::detail::parse_json(bytes, what, max_bytes);  // every check, or the exact error
  try {
    return OrderedJson::parse(as_string_view(bytes));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string(what) + ": " + e.what());
  }
}

}  // namespace trust::oci::detail
