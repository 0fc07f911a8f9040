// Reading `smtp:` and `outbound:`. A mail server is named by host and port as a person would write them; a
// password never appears here (a key `password` is an error that says where it goes).
#include "core/concept/mail_parser.h"

#include "core/did_you_mean.h"
#include "core/text_formats.h"

namespace slipway::model {
namespace {

const std::vector<std::string_view> kSmtpKeys = {"host", "port", "tls", "username", "from", "from_name"};
const std::vector<std::string_view> kTlsValues = {"starttls", "implicit", "none"};
const std::vector<std::string_view> kOutboundKeys = {"connect_timeout", "timeout", "circuit"};
const std::vector<std::string_view> kCircuitKeys = {"failures", "window", "open_for"};

bool is_host(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == ':' || c == '[' || c == ']'))
      return false;
  return true;
}

bool has_control(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

void read_seconds(ParseContext& ctx, const Entry& e, std::int64_t min, std::int64_t max, std::int64_t& out) {
  auto s = ctx.read_duration(e);
  if (!s) return;
  if (*s < min || *s > max) {
    ctx.error(ParseContext::value_loc(e), e.key + " must be from " + format_duration(min) + " to " +
                                              format_duration(max) + ", got " + format_duration(*s));
    return;
  }
  out = *s;
}

}  // namespace

void parse_smtp(ParseContext& ctx, const Entry& entry, std::string_view app, std::optional<SmtpSettings>& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "smtp");
  if (!all) return;
  SmtpSettings s;
  s.loc = ParseContext::loc_of(entry.key_node);
  bool ok = true;
  for (const Entry& e : *all) {
    if (e.key == "password") {
      ctx.error(ParseContext::loc_of(e.key_node),
                "the SMTP password is a secret: set SLIPWAY_SMTP_PASSWORD or SLIPWAY_SMTP_PASSWORD_FILE, not the file");
      ok = false;
    }
  }
  std::vector<Entry> rest;
  for (const Entry& e : *all)
    if (e.key != "password") rest.push_back(e);
  bool has_host = false, has_from = false;
  for (const Entry& e : ctx.known_entries(rest, kSmtpKeys, "in 'smtp'")) {
    const SourceLoc at = ParseContext::value_loc(e);
    if (e.key == "port") {
      auto p = ctx.read_integer(e);
      if (!p) { ok = false; continue; }
      if (*p < 1 || *p > 65535) {
        ctx.error(at, "port must be from 1 to 65535, got " + std::to_string(*p));
        ok = false;
        continue;
      }
      s.port = static_cast<int>(*p);
      continue;
    }
    auto v = ctx.read_string(e);
    if (!v) { ok = false; continue; }
    if (e.key == "host") {
      has_host = true;
      if (!is_host(*v)) {
        ctx.error(at, "host must be a host name or an IP address (like mail.example.com), got '" + *v + "'");
        ok = false;
      }
      s.host = *v;
    } else if (e.key == "tls") {
      if (*v == "starttls") s.tls = SmtpSettings::Tls::kStartTls;
      else if (*v == "implicit") s.tls = SmtpSettings::Tls::kImplicit;
      else if (*v == "none") s.tls = SmtpSettings::Tls::kNone;
      else {
        const std::string hint = did_you_mean(*v, kTlsValues);
        ctx.error(at, "unknown tls '" + *v + "'" + (hint.empty() ? ": expected starttls, implicit or none" : hint));
        ok = false;
      }
    } else if (e.key == "username") {
      if (v->empty() || has_control(*v)) {
        ctx.error(at, "username must be non-empty text on one line (leave it out for no login)");
        ok = false;
      }
      s.username = *v;
    } else if (e.key == "from") {
      has_from = true;
      if (!valid_email(*v)) {
        ctx.error(at, "from must be an e-mail address (like no-reply@example.com), got '" + *v + "'");
        ok = false;
      }
      s.from = *v;
    } else if (e.key == "from_name") {
      if (has_control(*v) || v->size() > 200) {
        ctx.error(at, "from_name must be one line of at most 200 bytes");
        ok = false;
      }
      s.from_name = *v;
    }
  }
  for (auto [present, key] : {std::pair{has_host, "host"}, std::pair{has_from, "from"}}) {
    if (!present && !ParseContext::misspelled(rest, kSmtpKeys, key)) {
      ctx.error(ParseContext::value_loc(entry), std::string("missing required key '") + key + "' in 'smtp'");
      ok = false;
    }
  }
  if (s.from_name.empty()) s.from_name = std::string(app);
  if (ok) out = std::move(s);
}

void parse_outbound(ParseContext& ctx, const Entry& entry, OutboundSettings& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "outbound");
  if (!all) return;
  for (const Entry& e : ctx.known_entries(*all, kOutboundKeys, "in 'outbound'")) {
    if (e.key == "connect_timeout") {
      read_seconds(ctx, e, 1, 60, out.connect_timeout_s);
    } else if (e.key == "timeout") {
      read_seconds(ctx, e, 1, 300, out.timeout_s);
    } else if (e.key == "circuit") {
      auto c = ctx.map_entries(e.value, ParseContext::value_loc(e), "outbound.circuit");
      if (!c) continue;
      for (const Entry& ce : ctx.known_entries(*c, kCircuitKeys, "in 'outbound.circuit'")) {
        if (ce.key == "failures") {
          auto n = ctx.read_integer(ce);
          if (!n) continue;
          if (*n < 1 || *n > 1000) {
            ctx.error(ParseContext::value_loc(ce), "failures must be from 1 to 1000, got " + std::to_string(*n));
            continue;
          }
          out.circuit_failures = static_cast<int>(*n);
        } else if (ce.key == "window") {
          read_seconds(ctx, ce, 1, 3600, out.circuit_window_s);
        } else if (ce.key == "open_for") {
          read_seconds(ctx, ce, 1, 3600, out.circuit_open_s);
        }
      }
    }
  }
  if (out.timeout_s < out.connect_timeout_s)
    ctx.error(ParseContext::value_loc(entry), "outbound timeout (" + format_duration(out.timeout_s) +
                                                  ") must not be shorter than connect_timeout (" +
                                                  format_duration(out.connect_timeout_s) + ")");
}

}  // namespace slipway::model
