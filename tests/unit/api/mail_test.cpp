#include "api/mail_templates.h"

#include <gtest/gtest.h>

#include "api/mail_sender.h"

namespace slipway::api {
namespace {

TEST(MailTemplates, EachMailCarriesItsLinkAndAOneLineSubject) {
  for (const MailText& m : {verification_mail("blog", "https://a.example/verify-email?token=T"),
                            reset_mail("blog", "https://a.example/reset-password?token=T", 30),
                            change_mail("blog", "https://a.example/confirm-email?token=T", "new@example.com")}) {
    EXPECT_NE(m.text.find("?token=T"), std::string::npos) << m.subject;
    EXPECT_EQ(m.subject.find('\n'), std::string::npos);
  }
  EXPECT_NE(reset_mail("blog", "L", 30).text.find("30 minutes"), std::string::npos);
  const MailText notice = change_notice_mail("blog", "new@example.com");
  EXPECT_NE(notice.text.find("new@example.com"), std::string::npos);
  EXPECT_EQ(notice.text.find("token"), std::string::npos);  // the old address never gets the link
}

TEST(MailTemplates, ASealedMailOpensOnlyAsTheMailItWasSealedFor) {
  const auth::DataKeys keys = auth::DataKeys::generate();
  const MailText m = reset_mail("blog", "https://a.example/reset-password?token=SECRET", 30);
  const std::string sealed = seal_mail(keys, "mail-1", m);
  EXPECT_EQ(sealed.find("SECRET"), std::string::npos);
  auto opened = open_mail(keys, "mail-1", sealed);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->subject, m.subject);
  EXPECT_EQ(opened->text, m.text);
  EXPECT_FALSE(open_mail(keys, "mail-2", sealed).has_value());  // moved to another row
  EXPECT_FALSE(open_mail(auth::DataKeys::generate(), "mail-1", sealed).has_value());
}

TEST(MailSender, BackoffDoublesFromOneSecondUpToTenMinutes) {
  EXPECT_EQ(MailSender::backoff_ms(1), 1000);
  EXPECT_EQ(MailSender::backoff_ms(2), 2000);
  EXPECT_EQ(MailSender::backoff_ms(5), 16000);
  EXPECT_EQ(MailSender::backoff_ms(10), 512000);
  EXPECT_EQ(MailSender::backoff_ms(11), MailSender::kMaxBackoffMs);
  EXPECT_EQ(MailSender::backoff_ms(MailSender::kMaxAttempts), MailSender::kMaxBackoffMs);
}

}  // namespace
}  // namespace slipway::api
