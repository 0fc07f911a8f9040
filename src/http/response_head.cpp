#include "http/response_head.h"

#include "core/ascii.h"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <chrono>
#include <ctime>

#include "http/ids.h"

namespace slipway::http {
namespace {


bool token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool safe_name(std::string_view n) {
  if (n.empty()) return false;
  for (const char c : n) if (!token_char(c)) return false;
  return true;
}

bool safe_value(std::string_view v) {
  for (const char c : v) if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// Headers the session owns; a handler's copy would duplicate or contradict them.
bool reserved(std::string_view n) {
  return ascii_iequals(n, "content-length") || ascii_iequals(n, "transfer-encoding") ||
         ascii_iequals(n, "connection") || ascii_iequals(n, "date") || ascii_iequals(n, "x-request-id") ||
         ascii_iequals(n, "traceparent") || ascii_iequals(n, "x-content-type-options") ||
         ascii_iequals(n, "keep-alive") || ascii_iequals(n, "upgrade") || ascii_iequals(n, "strict-transport-security");
}

// "Sun, 06 Nov 1994 08:49:37 GMT", formatted once per second per thread.
std::string_view http_date() {
  struct Cache {
    std::time_t second = -1;
    char text[32] = {};
    std::size_t size = 0;
  };
  thread_local Cache cache;
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != cache.second) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    cache.size = std::strftime(cache.text, sizeof cache.text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cache.second = now;
  }
  return {cache.text, cache.size};
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

std::size_t append_response_head(std::string& out, const Response& r, const HeadOptions& o) {
  const int status = r.status;
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status)));
  out.append("\r\nDate: ");
  out.append(http_date());
  out.append("\r\n");
  if (!r.content_type.empty() && safe_value(r.content_type)) {
    out.append("Content-Type: ");
    out.append(r.content_type);
    out.append("\r\n");
  }
  if (status_has_body(status)) {
    out.append("Content-Length: ");
    append_number(out, r.body.size());
    out.append("\r\n");
  }
  out.append("X-Content-Type-Options: nosniff\r\n");
  if (!o.hsts.empty()) {
    out.append("Strict-Transport-Security: ");
    out.append(o.hsts);
    out.append("\r\n");
  }
  out.append("X-Request-Id: ");
  out.append(o.request_id);
  out.append("\r\ntraceparent: 00-");
  out.append(o.trace_id);
  out.push_back('-');
  char span[16];
  generate_span_id(span);
  out.append(span, sizeof span);
  out.push_back('-');
  out.append(o.trace_flags.size() == 2 ? o.trace_flags : std::string_view("01"));
  out.append("\r\n");
  std::size_t skipped = 0;
  for (const auto& [name, value] : r.headers) {
    if (!safe_name(name) || !safe_value(value) || reserved(name) ||
        (!r.content_type.empty() && ascii_iequals(name, "content-type"))) {
      ++skipped;
      continue;
    }
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  if (!o.keep_alive) out.append("Connection: close\r\n");
  else if (o.http10) out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
  return skipped;
}

}  // namespace slipway::http
