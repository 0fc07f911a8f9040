// MailSender: sends the durable mail queue (storage/system/email_store.h) through the outbound client's SMTP
// (outbound/outbound_client.h), on its own thread — never an event loop, never a request's time.
//
//   loop: claim one due mail (leased for longer than its send can take) ─► open the sealed text ─► send
//           sent ─► row deleted                         transient failure ─► due again after a backoff
//           permanent refusal, or attempts exhausted ─► dead (kept a week, counted, logged)
//         then wait until woken (mail queued here) or 1 s passes (mail queued by another instance, retries due)
//
// An SMTP outage costs no request anything: requests only queue. Mail survives a restart (it is in the database)
// and is sent at least once (a sender that dies mid-send loses its lease; the mail goes again when it ends).
// Metrics: slipway_mail_sent_total{outcome="sent"|"retry"|"dead"}, slipway_mail_queue_pending,
// slipway_mail_queue_dead, slipway_mail_queue_oldest_seconds. Logs name a mail's id and kind, never its address.
// Thread safety: wake() from any thread; start()/stop() from the owner's.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "auth/data_keys.h"
#include "core/clock.h"
#include "core/concept/model.h"
#include "obs/logger.h"
#include "obs/metrics.h"
#include "outbound/outbound_client.h"
#include "storage/system/email_store.h"

namespace slipway::api {

class MailSender {
 public:
  static constexpr int kMaxAttempts = 30;                // then the mail is dead (about five hours of retrying)
  static constexpr std::int64_t kMaxBackoffMs = 600'000;  // between two attempts, at most 10 minutes

  MailSender(storage::EmailStore& queue, const auth::DataKeys& keys, outbound::OutboundClient& client,
             const model::SmtpSettings& smtp, std::string smtp_password, obs::Metrics& metrics, obs::Logger& logger,
             const Clock& clock, std::int64_t lease_ms);
  ~MailSender();  // stop()
  MailSender(const MailSender&) = delete;
  MailSender& operator=(const MailSender&) = delete;

  void start();
  void stop();  // finishes the send in progress, then returns; what is queued stays queued
  void wake();  // mail was queued: look now rather than at the next tick

  // The delay before attempt `attempts + 1` after a transient failure: 2^(attempts-1) s, at most kMaxBackoffMs.
  static std::int64_t backoff_ms(int attempts);

 private:
  void run();
  bool cycle();  // one claim and its sends; true when it found mail (look again at once)
  void send_one(const storage::QueuedMail& mail);
  void update_gauges();

  storage::EmailStore& queue_;
  const auth::DataKeys& keys_;
  outbound::OutboundClient& client_;
  outbound::SmtpSettings smtp_;
  std::string from_, from_name_;
  obs::Logger& logger_;
  const Clock& clock_;
  const std::int64_t lease_ms_;  // longer than one send with its retries: no other instance takes it meanwhile
  obs::Counter sent_, retried_, dead_;
  obs::Gauge pending_, dead_total_, oldest_seconds_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool woken_ = false;     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace slipway::api
