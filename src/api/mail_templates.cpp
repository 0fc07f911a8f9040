#include "api/mail_templates.h"

namespace slipway::api {
namespace {
std::string associated(std::string_view mail_id) { return "mail:" + std::string(mail_id); }
}  // namespace

MailText verification_mail(std::string_view app, std::string_view link) {
  return {"Confirm your e-mail address for " + std::string(app),
          "Hello,\n\nplease confirm that this is your e-mail address for " + std::string(app) +
              " by opening this link:\n\n" + std::string(link) +
              "\n\nThe link works once and for 24 hours. If you did not sign up, ignore this mail.\n"};
}

MailText reset_mail(std::string_view app, std::string_view link, int minutes) {
  return {"Reset your " + std::string(app) + " password",
          "Hello,\n\nsomeone asked to reset the password of your " + std::string(app) +
              " account. To choose a new one, open this link:\n\n" + std::string(link) + "\n\nThe link works once and for " +
              std::to_string(minutes) +
              " minutes. Resetting signs you out everywhere; a second factor, if you have one, is still asked for.\n"
              "If it was not you, ignore this mail: your password stays as it is.\n"};
}

MailText change_mail(std::string_view app, std::string_view link, std::string_view new_email) {
  return {"Confirm your new e-mail address for " + std::string(app),
          "Hello,\n\nto make " + std::string(new_email) + " the e-mail address of your " + std::string(app) +
              " account, open this link:\n\n" + std::string(link) +
              "\n\nThe link works once and for 24 hours. If you did not ask for this, ignore this mail.\n"};
}

MailText change_notice_mail(std::string_view app, std::string_view new_email) {
  return {"Your " + std::string(app) + " e-mail address is being changed",
          "Hello,\n\nsomeone signed in to your " + std::string(app) + " account asked to change its e-mail address to " +
              std::string(new_email) +
              ". The change takes effect when the link sent to that address is opened.\n\nIf it was not you, change "
              "your password now and end your other sessions.\n"};
}

std::string seal_mail(const auth::DataKeys& keys, std::string_view mail_id, const MailText& mail) {
  return keys.seal(mail.subject + "\n" + mail.text, associated(mail_id));
}

std::optional<MailText> open_mail(const auth::DataKeys& keys, std::string_view mail_id, std::string_view sealed) {
  auto plain = keys.open(sealed, associated(mail_id));
  if (!plain) return std::nullopt;
  const std::size_t nl = plain->find('\n');
  if (nl == std::string::npos) return std::nullopt;
  return MailText{plain->substr(0, nl), plain->substr(nl + 1)};
}

}  // namespace slipway::api
