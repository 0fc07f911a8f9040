#include "api/mail_sender.h"

#include <future>

#include "api/mail_templates.h"

namespace slipway::api {
namespace {

constexpr int kClaimLimit = 1;  // one mail per lease: a lease never covers mail still waiting behind a slow send

// Waits for a storage completion on this (the sender's own) thread.
template <typename T>
T wait(const std::function<void(std::function<void(T)>)>& call) {
  std::promise<T> p;
  call([&p](T r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

outbound::SmtpTls tls_of(model::SmtpSettings::Tls t) {
  switch (t) {
    case model::SmtpSettings::Tls::kImplicit: return outbound::SmtpTls::kImplicit;
    case model::SmtpSettings::Tls::kNone: return outbound::SmtpTls::kNone;
    case model::SmtpSettings::Tls::kStartTls: break;
  }
  return outbound::SmtpTls::kStartTls;
}

}  // namespace

MailSender::MailSender(storage::EmailStore& queue, const auth::DataKeys& keys, outbound::OutboundClient& client,
                       const model::SmtpSettings& smtp, std::string smtp_password, obs::Metrics& metrics,
                       obs::Logger& logger, const Clock& clock, std::int64_t lease_ms)
    : queue_(queue), keys_(keys), client_(client), from_(smtp.from), from_name_(smtp.from_name), logger_(logger),
      clock_(clock), lease_ms_(lease_ms) {
  smtp_.host = smtp.host;
  smtp_.port = smtp.port;
  smtp_.tls = tls_of(smtp.tls);
  smtp_.username = smtp.username;
  smtp_.password = std::move(smtp_password);
  const char* sent = "slipway_mail_sent_total";
  const char* help = "Mail send attempts by outcome (sent; retry: a transient failure, tried again later; dead: "
                     "refused for good or out of attempts)";
  sent_ = metrics.counter(sent, help, {{"outcome", "sent"}});
  retried_ = metrics.counter(sent, help, {{"outcome", "retry"}});
  dead_ = metrics.counter(sent, help, {{"outcome", "dead"}});
  pending_ = metrics.gauge("slipway_mail_queue_pending", "Mail waiting to be sent (or retried), every instance's");
  dead_total_ = metrics.gauge("slipway_mail_queue_dead", "Mail given up and kept for a week for operators");
  oldest_seconds_ = metrics.gauge("slipway_mail_queue_oldest_seconds", "Age of the oldest mail waiting to be sent");
}

MailSender::~MailSender() { stop(); }

void MailSender::start() { thread_ = std::thread([this] { run(); }); }

void MailSender::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MailSender::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

std::int64_t MailSender::backoff_ms(int attempts) {
  std::int64_t d = 1000;
  for (int i = 1; i < attempts && d < kMaxBackoffMs; ++i) d *= 2;
  return std::min(d, kMaxBackoffMs);
}

void MailSender::run() {
  for (;;) {
    bool more = false;
    try {
      more = cycle();
      update_gauges();
    } catch (const std::exception& e) {  // never let the sender die: log, and try again at the next tick
      logger_.log(obs::Level::kError, "mail sender cycle failed", {{"cause", e.what()}});
    }
    std::unique_lock lock(mu_);
    if (!more) cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

bool MailSender::cycle() {
  auto claimed = wait<Result<std::vector<storage::QueuedMail>>>(
      [this](auto done) { queue_.claim(clock_.now_ms(), lease_ms_, kClaimLimit, std::move(done)); });
  if (!claimed) {
    logger_.log(obs::Level::kWarn, "mail queue claim failed", {{"cause", claimed.error().cause}});
    return false;
  }
  for (const storage::QueuedMail& m : *claimed) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;  // the rest keep their lease and go after it ends
    }
    send_one(m);
  }
  return static_cast<int>(claimed->size()) == kClaimLimit;
}

void MailSender::send_one(const storage::QueuedMail& m) {
  auto give_up = [this, &m](const std::string& why) {
    dead_.inc();
    logger_.log(obs::Level::kWarn, "mail given up", {{"mail_id", m.id}, {"kind", m.kind}, {"cause", why}});
    (void)wait<Status>([&](auto done) { queue_.failed(m.id, why, std::nullopt, clock_.now_ms(), std::move(done)); });
  };
  auto text = open_mail(keys_, m.id, m.sealed);
  if (!text) return give_up("the mail does not open with the configured data keys");
  outbound::MailDraft draft;
  draft.from = from_;
  draft.from_name = from_name_;
  draft.to = {m.recipient};
  draft.subject = text->subject;
  draft.text = text->text;
  auto message = outbound::MailMessage::build(draft, clock_);
  if (!message) return give_up(message.error().detail);
  Status st = client_.send_mail(smtp_, *message);
  if (st) {
    sent_.inc();
    logger_.log(obs::Level::kInfo, "mail sent", {{"mail_id", m.id}, {"kind", m.kind}});
    (void)wait<Status>([&](auto done) { queue_.sent(m.id, std::move(done)); });
    return;
  }
  const Problem& p = st.error();
  if (p.code != ProblemCode::kUnavailable || m.attempts >= kMaxAttempts) return give_up(p.detail);
  retried_.inc();
  const std::int64_t at = clock_.now_ms() + backoff_ms(m.attempts);
  logger_.log(obs::Level::kInfo, "mail send failed, will retry",
              {{"mail_id", m.id}, {"kind", m.kind}, {"attempt", std::to_string(m.attempts)}, {"cause", p.detail}});
  (void)wait<Status>([&](auto done) { queue_.failed(m.id, p.detail, at, clock_.now_ms(), std::move(done)); });
}

void MailSender::update_gauges() {
  auto s = queue_.stats();
  if (!s) return;
  pending_.set(static_cast<double>(s->pending));
  dead_total_.set(static_cast<double>(s->dead));
  oldest_seconds_.set(s->oldest_pending_ms ? static_cast<double>(clock_.now_ms() - *s->oldest_pending_ms) / 1000.0 : 0.0);
}

}  // namespace slipway::api
