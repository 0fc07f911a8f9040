#include "outbound/mail_message.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "fake_clock.h"

namespace slipway::outbound {
namespace {

using testing::FakeClock;

// Decoders written apart from the encoders, so a round trip checks both against the RFCs' rules.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_qp(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && in.substr(i + 1, 2) == "\r\n") {
      i += 2;  // soft line break
    } else if (in[i] == '=') {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string decode_base64(std::string_view in) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    if (c == '=') break;
    bits = (bits << 6) | static_cast<unsigned>(kAlphabet.find(c));
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < s.size()) {
    auto end = s.find("\r\n", start);
    if (end == std::string_view::npos) end = s.size();
    lines.emplace_back(s.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// Decodes folded encoded-words back to text; checks each word's size on the way.
std::string decode_words(std::string_view words) {
  std::string out;
  for (std::string word : split_lines(words)) {
    if (word.starts_with(" ")) word.erase(0, 1);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    out += decode_base64(std::string_view(word).substr(10, word.size() - 12));
  }
  return out;
}

MailDraft draft() {
  MailDraft d;
  d.from = "noreply@example.com";
  d.to = {"ada@example.org"};
  d.subject = "Your sign-in code";
  d.text = "Hello Ada,\nyour code is 123456.\n";
  return d;
}

std::string header_block(const MailMessage& m) { return m.data().substr(0, m.data().find("\r\n\r\n") + 2); }

TEST(MailMessage, WritesTheHeadersOfAPlainTextMessage) {
  FakeClock clock;  // 2026-11-29T14:41:50Z, a Sunday
  auto m = MailMessage::build(draft(), clock);
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->envelope_from(), "noreply@example.com");
  EXPECT_EQ(m->recipients(), std::vector<std::string>{"ada@example.org"});
  EXPECT_TRUE(m->message_id().starts_with("<") && m->message_id().ends_with("@example.com>")) << m->message_id();
  EXPECT_EQ(header_block(*m),
            "From: noreply@example.com\r\n"
            "To: ada@example.org\r\n"
            "Subject: Your sign-in code\r\n"
            "Date: Sun, 29 Nov 2026 14:41:50 +0000\r\n"
            "Message-ID: " + m->message_id() + "\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n");
  EXPECT_TRUE(m->data().ends_with("\r\n\r\nHello Ada,\r\nyour code is 123456.\r\n")) << m->data();
}

TEST(MailMessage, EncodesANonAsciiSubjectAsEncodedWords) {
  FakeClock clock;
  auto d = draft();
  d.subject = "Grüße aus Köln";
  auto m = MailMessage::build(d, clock);
  ASSERT_TRUE(m);
  EXPECT_NE(m->data().find("\r\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"), std::string::npos) << m->data();
}

TEST(MailMessage, FoldsALongSubjectWithoutSplittingACharacter) {
  std::string subject;
  for (int i = 0; i < 20; ++i) subject += "Ünïcödé ✓ ";
  const std::string words = encode_words(subject);
  EXPECT_GT(split_lines(words).size(), 3u);
  EXPECT_EQ(decode_words(words), subject);  // each word decodes alone only if no sequence was split
  for (const auto& line : split_lines(words)) EXPECT_LE(line.size() + 9, 78u) << line;
}

TEST(MailMessage, QuotedPrintableRoundTripsAndKeepsLinesShort) {
  const std::vector<std::string> texts = {
      "plain ascii",
      "trailing space \nand tab\t\nend",
      ".leading dot\n..two\n",
      "equals = sign and =3D",
      "Grüße, naïve café — ✓ 😀",
      std::string(300, 'x') + "\n" + std::string(200, '=') + "\r\n" + std::string(90, ' ') + "y",
  };
  for (const auto& text : texts) {
    const std::string qp = quoted_printable(text);
    for (const auto& line : split_lines(qp)) {
      EXPECT_LE(line.size(), 76u) << line;
      EXPECT_FALSE(line.ends_with(" ") || line.ends_with("\t")) << line;
      EXPECT_FALSE(line.starts_with(".")) << line;
      for (unsigned char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << line;
    }
    std::string expected;  // line ends normalised to CRLF, one added at the end
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\r') continue;
      if (text[i] == '\n') expected += "\r\n";
      else expected += text[i];
    }
    if (!expected.ends_with("\r\n")) expected += "\r\n";
    EXPECT_EQ(decode_qp(qp), expected) << text;
  }
}

TEST(MailMessage, QuotesAnAsciiDisplayNameAndEncodesAnotherOne) {
  FakeClock clock;
  auto d = draft();
  d.from_name = "Slipway \"Ops\"";
  auto m = MailMessage::build(d, clock);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->data().starts_with("From: \"Slipway \\\"Ops\\\"\" <noreply@example.com>\r\n")) << m->data();
  d.from_name = "Zoë";
  m = MailMessage::build(d, clock);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->data().starts_with("From: =?UTF-8?B?Wm/Dqw==?= <noreply@example.com>\r\n")) << m->data();
}

TEST(MailMessage, FoldsAListOfRecipients) {
  FakeClock clock;
  auto d = draft();
  d.to.clear();
  for (int i = 0; i < 10; ++i) d.to.push_back("recipient" + std::to_string(i) + "@example.org");
  auto m = MailMessage::build(d, clock);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->recipients().size(), 10u);
  for (const auto& line : split_lines(header_block(*m))) EXPECT_LE(line.size(), 78u) << line;
  EXPECT_NE(m->data().find("recipient0@example.org, recipient1@example.org"), std::string::npos);
}

TEST(MailMessage, RefusesCrOrLfInAnyHeaderValue) {
  FakeClock clock;
  for (const char* evil : {"\r\nBcc: victim@example.net", "\nBcc: victim@example.net", "x\r"}) {
    auto d = draft();
    d.subject = std::string("Hi") + evil;
    auto m = MailMessage::build(d, clock);
    ASSERT_FALSE(m) << evil;
    EXPECT_EQ(m.error().code, ProblemCode::kBadRequest);
    EXPECT_EQ(m.error().detail, "subject must not contain CR or LF");

    d = draft();
    d.from_name = std::string("Ops") + evil;
    EXPECT_FALSE(MailMessage::build(d, clock));
    d = draft();
    d.to = {std::string("ada@example.org") + evil};
    EXPECT_FALSE(MailMessage::build(d, clock));
    d = draft();
    d.from = std::string("noreply@example.com") + evil;
    EXPECT_FALSE(MailMessage::build(d, clock));
  }
}

TEST(MailMessage, RefusesOtherControlsAndInvalidUtf8) {
  FakeClock clock;
  auto d = draft();
  d.subject = std::string("nul\0here", 8);
  EXPECT_FALSE(MailMessage::build(d, clock));
  d = draft();
  d.subject = "\xc3\x28";
  EXPECT_FALSE(MailMessage::build(d, clock));
  d = draft();
  d.text = "\xff";
  EXPECT_FALSE(MailMessage::build(d, clock));
}

TEST(MailMessage, AcceptsOnlyPlainAddrSpecs) {
  for (const char* ok : {"a@b", "ada.lovelace@example.com", "x+tag@sub.example.co.uk", "o'hara@example.ie",
                         "a-b_c!#$%&*/=?^`{|}~@x-1.example"})
    EXPECT_TRUE(is_plain_addr_spec(ok)) << ok;
  for (const char* bad :
       {"", "ada", "@example.com", "ada@", "Ada <ada@example.com>", "ada@example.com (Ada)", "\"ada\"@example.com",
        "ada@[127.0.0.1]", "a..b@example.com", ".ada@example.com", "ada.@example.com", "ada@example..com",
        "ada@-example.com", "ada@example-.com", "ada@example.com.", "a@b@c", "zoë@example.com", "ada@exämple.com",
        "ada @example.com", "ada@example.com,eve@example.net", "ada@ex_ample.com"})
    EXPECT_FALSE(is_plain_addr_spec(bad)) << bad;
  EXPECT_FALSE(is_plain_addr_spec(std::string(65, 'a') + "@example.com"));
  EXPECT_TRUE(is_plain_addr_spec(std::string(64, 'a') + "@example.com"));
}

TEST(MailMessage, RefusesABadAddressNamingTheField) {
  FakeClock clock;
  auto d = draft();
  d.to = {"Eve <eve@example.net>"};
  auto m = MailMessage::build(d, clock);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ProblemCode::kBadRequest);
  EXPECT_EQ(m.error().detail, "to is not a plain address (local@domain, ASCII, no name or comment)");
  d = draft();
  d.to.clear();
  EXPECT_FALSE(MailMessage::build(d, clock));
  d = draft();
  d.to.assign(kMaxRecipients + 1, "ada@example.org");
  EXPECT_FALSE(MailMessage::build(d, clock));
}

TEST(MailMessage, FormatsDatesInUtc) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1'795'963'310'999), "Sun, 29 Nov 2026 14:41:50 +0000");
}

}  // namespace
}  // namespace slipway::outbound
