// E-mail data behind the Storage facade (system version 5): single-use tokens of the e-mail flows (verification,
// password reset, change of address) and the durable mail queue. The auth layer decides and writes the mails;
// storage keeps the rows, spends each token in the transaction that relies on it, and hands queued mail to the
// sender (api/mail_sender.h) one lease at a time.
//
// Tokens are stored as SHA-256 digests; a queued mail's subject and text (which hold a token's link) are sealed
// with a data key by the auth layer, so neither a token nor a link is readable from the database.
// Thread safety: as Storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace slipway::storage {

struct EmailToken {
  std::string digest;   // hex SHA-256 of the token in the link
  std::string user_id;  // empty in a sign-up's effects: the new record's id
  std::string purpose;  // "verify", "reset", "change"
  std::string email;    // the address it was sent to (for "change": the new address)
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

struct QueuedMail {
  std::string id;         // UUIDv7
  std::string recipient;  // the address (plain: the sender needs it for the envelope)
  std::string kind;       // "verify", "reset", "change", "change_notice": for logs and metrics
  std::string sealed;     // subject and text, sealed by the auth layer
  std::int64_t created_ms = 0;
  int attempts = 0;       // sends tried so far (counting the one a claim starts)
};

struct MailQueueStats {
  std::int64_t pending = 0;  // waiting to be sent (or retried)
  std::int64_t dead = 0;     // given up: a permanent refusal, or every attempt failed
  std::optional<std::int64_t> oldest_pending_ms;  // created_ms of the oldest pending mail
};

}  // namespace slipway::storage
