// EmailStore: e-mail tokens and the mail queue (storage/email.h; tables of system version 5) over the driver
// seam. Reads run on the caller's read connection; writes are ops of the writer, each with its audit entries.
//
// A token is spent by `DELETE ... WHERE digest = d AND purpose = p AND expires_ms > now RETURNING ...` inside the
// transaction that acts on it (verify, reset, change of address): one row, so it works once across instances.
//
// Mail queue lifecycle (one row per mail):
//   enqueue ──► pending (next_attempt_ms = now)
//   claim: next_attempt_ms ≤ now ──► leased (next_attempt_ms = now + lease, attempts + 1; a conditional UPDATE, so
//          of two instances claiming at once one gets it; a sender that dies loses its lease, and the mail is due
//          again when the lease ends — at-least-once)
//   sent ──► row deleted            failed, retry ──► pending at retry time            failed, final ──► dead
// Thread safety: as the record store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/audit.h"
#include "storage/driver.h"
#include "storage/email.h"

namespace slipway::storage {

class EmailStore {
 public:
  using Reader = std::function<Result<ReadLease>()>;
  using Submit = std::function<void(WriteOp)>;

  // `users_table`: the quoted name of the built-in users collection's table.
  EmailStore(std::string users_table, Reader reader, Submit submit);

  // --- inside a transaction (a command's effects) ---
  // Inserts `token`, first deleting the user's unspent tokens of the same purpose (a new link replaces the old).
  static Status insert_token(Connection& conn, const EmailToken& token);
  static Status enqueue(Connection& conn, const QueuedMail& mail);
  // Spends a "change" token for `user_id` and `new_email`, and marks the account's address verified (the link
  // proved it). kUnauthorized when no such live token exists.
  static Status spend_change_token(Connection& conn, const std::string& digest, const std::string& user_id,
                                   const std::string& new_email, std::int64_t now_ms);

  // --- reads ---
  // The live token with this digest and purpose (not spent, not expired), or nullopt.
  Result<std::optional<EmailToken>> find_token(std::string_view digest, std::string_view purpose, std::int64_t now_ms);
  Result<MailQueueStats> stats();

  // --- writes ---
  // A token (optional) and mails, with audit entries. With `min_interval_ms`, when the user was given a token of
  // the same purpose less than that long ago nothing is written and the result is false (no mail bombing). A
  // "verify" token for an account already verified writes nothing either (false).
  void issue(std::optional<EmailToken> token, std::vector<QueuedMail> mail, std::int64_t min_interval_ms,
             std::vector<AuditEntry> audit, std::function<void(Result<bool>)> done);
  // Spends a "verify" token and marks the address verified — if it is still the user's address. The user id.
  void verify_email(std::string digest, std::int64_t now_ms, std::vector<AuditEntry> audit,
                    std::function<void(Result<std::string>)> done);
  struct ResetOutcome {
    std::string user_id;
    std::vector<std::string> revoked;  // every session of the user
  };
  // Spends a "reset" token: the new password hash, every session revoked, the address marked verified (the mail
  // reached it). `audit` entries get the user as actor.
  void reset_password(std::string digest, std::string new_hash, std::int64_t now_ms, std::vector<AuditEntry> audit,
                      std::function<void(Result<ResetOutcome>)> done);

  // Mail due now, leased to the caller for `lease_ms` (at most `limit` mails).
  void claim(std::int64_t now_ms, std::int64_t lease_ms, int limit, std::function<void(Result<std::vector<QueuedMail>>)> done);
  void sent(std::string id, std::function<void(Status)> done);
  // A failed send: due again at `retry_at_ms`, or dead (nullopt), with the error kept for operators.
  void failed(std::string id, std::string error, std::optional<std::int64_t> retry_at_ms, std::int64_t now_ms,
              std::function<void(Status)> done);

  // Housekeeping: expired tokens, and dead mail older than `dead_before_ms`.
  void purge(std::int64_t now_ms, std::int64_t dead_before_ms);

 private:
  std::string users_table_;
  Reader reader_;
  Submit submit_;
};

}  // namespace slipway::storage
