// The mails of the e-mail flows (docs/security.md#e-mail-flows): plain text, one link each, no tracking. A queued
// mail's subject and text are sealed with a data key (they carry a link's token), bound to the mail's id.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/data_keys.h"

namespace slipway::api {

struct MailText {
  std::string subject;  // one line
  std::string text;
};

MailText verification_mail(std::string_view app, std::string_view link);
MailText reset_mail(std::string_view app, std::string_view link, int minutes);
MailText change_mail(std::string_view app, std::string_view link, std::string_view new_email);
MailText change_notice_mail(std::string_view app, std::string_view new_email);

std::string seal_mail(const auth::DataKeys& keys, std::string_view mail_id, const MailText& mail);
std::optional<MailText> open_mail(const auth::DataKeys& keys, std::string_view mail_id, std::string_view sealed);

}  // namespace slipway::api
