// MailMessage: one plain-text e-mail as RFC 5322 text (CRLF line ends), built only from checked parts, so what
// OutboundClient::send_mail() hands to the SMTP server cannot carry a header the caller did not write.
//
// What build() writes:
//   From: ["Display Name" | =?UTF-8?B?...?=] <from>   (the bare addr-spec when there is no display name)
//   To: <to>, <to>...                                 (folded at 78 columns)
//   Subject: text as is when it is printable ASCII and fits one 78-column line; otherwise RFC 2047 encoded-words
//            (=?UTF-8?B?...?=, at most 75 characters each, never splitting a UTF-8 sequence), folded
//   Date: RFC 5322 date-time in UTC, from the injected clock
//   Message-ID: <uuid7@domain of From>
//   MIME-Version: 1.0
//   Content-Type: text/plain; charset=utf-8
//   Content-Transfer-Encoding: quoted-printable
//
// Why quoted-printable rather than 8bit: 8bit needs every relay on the way to offer 8BITMIME and every line to
// stay under 998 octets, neither of which a caller's text promises; quoted-printable is 7-bit clean, folds long
// lines with soft breaks, and leaves ASCII text readable in the raw message. A line-leading '.' is also encoded
// (=2E), so no relay's dot-stuffing can change the text.
//
// Refused (build() returns kBadRequest naming the part):
//  - CR or LF anywhere in a header value (subject, display name, address): header injection;
//  - other control characters in the subject or display name, and text that is not valid UTF-8;
//  - an address that is not a plain ASCII addr-spec (dot-atom "@" domain of letter-digit-hyphen labels, at most
//    64 + 1 + 253 octets): no display names, comments, quoted local parts, address literals or internationalised
//    addresses, which a receiving system may parse differently from us;
//  - no recipient, more than kMaxRecipients, or a body over kMaxBodyBytes.
// Thread safety: build() is a pure function (the Clock is read once); a MailMessage is an immutable value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace slipway {
class Clock;
}

namespace slipway::outbound {

inline constexpr std::size_t kMaxRecipients = 50;
inline constexpr std::size_t kMaxBodyBytes = 1u << 20;     // 1 MiB of text: a notification, not an attachment
inline constexpr std::size_t kMaxDisplayNameBytes = 200;
inline constexpr std::size_t kMaxSubjectBytes = 500;

struct MailDraft {
  std::string from;                 // addr-spec, also the envelope sender (MAIL FROM)
  std::string from_name;            // optional display name, UTF-8
  std::vector<std::string> to;      // addr-specs, also the envelope recipients (RCPT TO)
  std::string subject;              // UTF-8, one line
  std::string text;                 // UTF-8 body; line ends LF, CRLF or CR (all written as CRLF)
};

class MailMessage {
 public:
  [[nodiscard]] static Result<MailMessage> build(const MailDraft& draft, const Clock& clock);

  const std::string& envelope_from() const { return envelope_from_; }
  const std::vector<std::string>& recipients() const { return recipients_; }
  const std::string& message_id() const { return message_id_; }  // with its angle brackets, for the log
  const std::string& data() const { return data_; }               // the whole message: headers, blank line, body

 private:
  MailMessage() = default;

  std::string envelope_from_;
  std::vector<std::string> recipients_;
  std::string message_id_;
  std::string data_;
};

// A plain ASCII addr-spec as described above.
bool is_plain_addr_spec(std::string_view address);

// The building blocks, exposed for their tests.
// RFC 2047 "B" encoded-words of `text` (UTF-8), each at most 75 characters, joined by "\r\n " (folding whitespace).
std::string encode_words(std::string_view text);
// RFC 2045 §6.7 quoted-printable of `text` (UTF-8), line ends normalised to CRLF, output lines ≤ 76 characters.
std::string quoted_printable(std::string_view text);
// RFC 5322 date-time in UTC: "Sun, 29 Nov 2026 14:41:50 +0000".
std::string rfc5322_date(std::int64_t epoch_ms);

}  // namespace slipway::outbound
