#include "auth/common_passwords.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/ascii.h"

namespace slipway::auth {
namespace detail {
// Defined in the .cpp that cmake/embed_file.cmake generates from data/common-passwords.txt.
extern const unsigned char kCommonPasswords[];
extern const std::size_t kCommonPasswordsSize;
}  // namespace detail

namespace {

struct Table {
  std::vector<std::string_view> sorted;  // views into the embedded bytes, which live as long as the program
  std::size_t longest = 0;
};

const Table& table() {
  static const Table t = [] {
    Table t;
    const std::string_view text(reinterpret_cast<const char*>(detail::kCommonPasswords), detail::kCommonPasswordsSize);
    for (std::size_t pos = 0; pos < text.size();) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a checkout with CRLF line ends
      if (!line.empty()) {
        t.sorted.push_back(line);
        t.longest = std::max(t.longest, line.size());
      }
      pos = end + 1;
    }
    std::sort(t.sorted.begin(), t.sorted.end());
    t.sorted.erase(std::unique(t.sorted.begin(), t.sorted.end()), t.sorted.end());
    return t;
  }();
  return t;
}

}  // namespace

bool is_common_password(std::string_view password) {
  const Table& t = table();
  if (password.empty() || password.size() > t.longest) return false;
  std::string lower(password);
  ascii_to_lower(lower);
  return std::binary_search(t.sorted.begin(), t.sorted.end(), std::string_view(lower));
}

std::size_t common_password_count() { return table().sorted.size(); }

}  // namespace slipway::auth
