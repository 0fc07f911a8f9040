// The body of POST /api/v1/posts: a flat JSON object read into NewPost, with the checks slipway would make first
// (title required; views an integer >= 0; published a boolean). Not thread-safe; one reader per body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pg_limit {

struct NewPost {
  std::string title;
  std::optional<std::string> body;
  std::int64_t views = 0;  // the field's default
  bool published = false;  // the field's default
};

// A flat JSON object reader for POST bodies: strings, integers, booleans, null; other keys are skipped.
class BodyReader {
 public:
  explicit BodyReader(std::string_view s) : s_(s) {}

  // Returns an error text, or "" when `out` was filled.
  std::string read(NewPost& out) {
    bool has_title = false;
    ws();
    if (!eat('{')) return "expected an object";
    ws();
    if (eat('}')) return "title is required";
    do {
      ws();
      std::string key;
      if (!string(key)) return "expected a key";
      ws();
      if (!eat(':')) return "expected ':'";
      ws();
      if (key == "title") {
        if (!string(out.title)) return "title must be text";
        has_title = true;
      } else if (key == "body") {
        if (literal("null")) {
          out.body.reset();
        } else if (!string(out.body.emplace())) {
          return "body must be text";
        }
      } else if (key == "views") {
        if (!integer(out.views) || out.views < 0) return "views must be an integer >= 0";
      } else if (key == "published") {
        if (literal("true"))
          out.published = true;
        else if (literal("false"))
          out.published = false;
        else
          return "published must be true or false";
      } else if (!skip_value()) {
        return "malformed value";
      }
      ws();
    } while (eat(','));
    if (!eat('}')) return "expected '}'";
    ws();
    if (i_ != s_.size()) return "trailing characters";
    return has_title ? "" : "title is required";
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool integer(std::int64_t& v) {
    const bool negative = eat('-');
    const std::size_t start = i_;
    v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - start < 18) v = v * 10 + (s_[i_++] - '0');
    if (negative) v = -v;
    return i_ > start &&
           (i_ == s_.size() || (s_[i_] != '.' && s_[i_] != 'e' && s_[i_] != 'E' && !(s_[i_] >= '0' && s_[i_] <= '9')));
  }
  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  bool hex4(std::uint32_t& cp) {
    if (i_ + 4 > s_.size()) return false;
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  bool string(std::string& out) {
    out.clear();
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      switch (const char e = s_[i_++]) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {  // a surrogate pair
            std::uint32_t low = 0;
            if (!literal("\\u") || !hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  // Any value: strings, numbers, literals, and nested arrays or objects (bracket-matched, strings respected).
  bool skip_value() {
    std::string scratch;
    if (i_ < s_.size() && s_[i_] == '"') return string(scratch);
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        if (!string(scratch)) return false;
        continue;
      }
      if (c == '{' || c == '[')
        ++depth;
      else if (c == '}' || c == ']') {
        if (depth == 0) return true;
        --depth;
      } else if (c == ',' && depth == 0) {
        return true;
      }
      ++i_;
    }
    return depth == 0;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace pg_limit
