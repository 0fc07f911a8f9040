#include "outbound/mail_message.h"

#include <cstdio>
#include <ctime>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/utf8.h"
#include "core/uuid7.h"

namespace slipway::outbound {
namespace {

constexpr std::size_t kFoldColumn = 78;        // RFC 5322 §2.1.1: lines SHOULD stay within 78 characters
constexpr std::size_t kWordPayloadBytes = 42;  // 56 base64 chars + 12 of "=?UTF-8?B?" "?=" = 68: fits after "Subject: "
constexpr std::size_t kQpLineLimit = 76;       // RFC 2045 §6.7 rule 5

bool is_atext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_label_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_printable_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// Header text: valid UTF-8, no CR/LF (injection) and no other controls but TAB.
Status check_header_text(std::string_view what, std::string_view value) {
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n')
      return Problem::make(ProblemCode::kBadRequest, std::string(what) + " must not contain CR or LF");
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return Problem::make(ProblemCode::kBadRequest, std::string(what) + " must not contain control characters");
  }
  if (!valid_utf8(value)) return Problem::make(ProblemCode::kBadRequest, std::string(what) + " is not valid UTF-8");
  return {};
}

Status check_address(std::string_view what, std::string_view address) {
  if (address.find_first_of("\r\n") != std::string_view::npos)
    return Problem::make(ProblemCode::kBadRequest, std::string(what) + " must not contain CR or LF");
  if (!is_plain_addr_spec(address))
    return Problem::make(ProblemCode::kBadRequest,
                         std::string(what) + " is not a plain address (local@domain, ASCII, no name or comment)");
  return {};
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    auto n = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A display name as a quoted-string (printable ASCII) or encoded-words (anything else).
std::string display_name(std::string_view name) {
  if (!is_printable_ascii(name) || name.find("=?") != std::string_view::npos) return encode_words(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string domain_of(std::string_view address) { return std::string(address.substr(address.rfind('@') + 1)); }

}  // namespace

bool is_plain_addr_spec(std::string_view address) {
  const auto at = address.find('@');
  if (at == std::string_view::npos || address.size() > 64 + 1 + 253) return false;
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  // dot-atom: atext runs separated by single dots (an '@' in the domain is not atext/label: refused below)
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  for (std::size_t i = 0; i < local.size(); ++i) {
    const auto c = static_cast<unsigned char>(local[i]);
    if (c == '.') {
      if (local[i - 1] == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
  }
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label)
      if (!is_label_char(c)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string encode_words(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    // Take whole UTF-8 sequences up to the payload limit: a word must decode on its own (RFC 2047 §5 (3)).
    std::size_t end = i;
    while (end < text.size()) {
      std::size_t n = utf8_sequence_length(text, end);
      if (n == 0) n = 1;  // callers pass valid UTF-8; never loop on a bad byte
      if (end + n - i > kWordPayloadBytes) break;
      end += n;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?";
    out += base64(text.substr(i, end - i));
    out += "?=";
    i = end;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t column = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' || c == '\n') {  // a hard line break, whichever convention the caller used
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
      column = 0;
      continue;
    }
    const bool line_ends = i + 1 == text.size() || text[i + 1] == '\r' || text[i + 1] == '\n';
    const auto token_for = [&](std::size_t col) {
      const bool literal = (c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0)) ||
                           ((c == ' ' || c == '\t') && !line_ends);  // trailing whitespace would be stripped
      return literal ? std::string(1, static_cast<char>(c))
                     : std::string{'=', kHex[c >> 4], kHex[c & 0x0f]};
    };
    std::string token = token_for(column);
    // Keep room for the soft break's '=' unless this token ends the line.
    const std::size_t room = line_ends ? kQpLineLimit : kQpLineLimit - 1;
    if (column + token.size() > room) {
      out += "=\r\n";
      column = 0;
      token = token_for(column);
    }
    out += token;
    column += token.size();
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string rfc5322_date(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000 - (epoch_ms % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  // The day and month names are fixed by RFC 5322 §3.3, so not strftime's locale-dependent %a/%b.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Result<MailMessage> MailMessage::build(const MailDraft& draft, const Clock& clock) {
  if (auto s = check_address("from", draft.from); !s) return std::move(s).error();
  if (draft.to.empty()) return Problem::make(ProblemCode::kBadRequest, "a mail needs at least one recipient");
  if (draft.to.size() > kMaxRecipients)
    return Problem::make(ProblemCode::kBadRequest, "a mail may have at most " + std::to_string(kMaxRecipients) +
                                                       " recipients");
  for (const auto& to : draft.to)
    if (auto s = check_address("to", to); !s) return std::move(s).error();
  if (auto s = check_header_text("subject", draft.subject); !s) return std::move(s).error();
  if (draft.subject.size() > kMaxSubjectBytes)
    return Problem::make(ProblemCode::kBadRequest, "subject longer than " + std::to_string(kMaxSubjectBytes) + " bytes");
  if (auto s = check_header_text("display name", draft.from_name); !s) return std::move(s).error();
  if (draft.from_name.size() > kMaxDisplayNameBytes)
    return Problem::make(ProblemCode::kBadRequest,
                         "display name longer than " + std::to_string(kMaxDisplayNameBytes) + " bytes");
  if (draft.text.size() > kMaxBodyBytes)
    return Problem::make(ProblemCode::kBadRequest, "mail text longer than " + std::to_string(kMaxBodyBytes) + " bytes");
  if (!valid_utf8(draft.text)) return Problem::make(ProblemCode::kBadRequest, "mail text is not valid UTF-8");

  MailMessage m;
  m.envelope_from_ = draft.from;
  m.recipients_ = draft.to;
  m.message_id_ = "<" + Uuid7Generator(clock).generate() + "@" + domain_of(draft.from) + ">";

  std::string& d = m.data_;
  d.reserve(512 + draft.text.size() * 11 / 10);
  d += "From: ";
  if (draft.from_name.empty()) {
    d += draft.from;
  } else {
    d += display_name(draft.from_name);
    d += " <" + draft.from + ">";
  }
  d += "\r\nTo: ";
  std::size_t column = 4;
  for (std::size_t i = 0; i < draft.to.size(); ++i) {
    if (i > 0) {
      d += ',';
      if (column + 2 + draft.to[i].size() > kFoldColumn) {
        d += "\r\n";
        column = 0;
      }
      d += ' ';
      ++column;
    }
    d += draft.to[i];
    column += draft.to[i].size() + 1;
  }
  d += "\r\nSubject: ";
  const bool subject_as_is = is_printable_ascii(draft.subject) && draft.subject.find("=?") == std::string::npos &&
                             9 + draft.subject.size() <= kFoldColumn;
  d += subject_as_is ? draft.subject : encode_words(draft.subject);
  d += "\r\nDate: " + rfc5322_date(clock.now_ms());
  d += "\r\nMessage-ID: " + m.message_id_;
  d += "\r\nMIME-Version: 1.0"
       "\r\nContent-Type: text/plain; charset=utf-8"
       "\r\nContent-Transfer-Encoding: quoted-printable"
       "\r\n\r\n";
  d += quoted_printable(draft.text);
  return m;
}

}  // namespace slipway::outbound
