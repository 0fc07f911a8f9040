// OidcStore: sign-ins in flight and linked identities (storage/oidc.h; tables of system version 6) over the driver
// seam. A state is taken — read and deleted in one statement — by the callback, so it completes at most one
// sign-in. Linking and the session it opens are one transaction (IdentityStore::open_session with a proof).
// Thread safety: as the record store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/audit.h"
#include "storage/driver.h"
#include "storage/identity.h"
#include "storage/oidc.h"

namespace slipway::storage {

class IdentityStore;

class OidcStore {
 public:
  using Reader = std::function<Result<ReadLease>()>;
  using Submit = std::function<void(WriteOp)>;

  OidcStore(IdentityStore& identity, Reader reader, Submit submit);

  void save_state(OidcState state, std::function<void(Status)> done);
  // The live state with this digest, deleted in the same statement; nullopt when unknown, used or expired.
  void take_state(std::string digest, std::int64_t now_ms, std::function<void(Result<std::optional<OidcState>>)> done);
  // The user linked to (provider, subject), or nullopt.
  Result<std::optional<std::string>> find_identity(std::string_view provider, std::string_view subject);

  struct Linked {
    Account account;
    std::vector<std::string> ended;  // sessions a take-over ended
  };
  // Links (provider, subject) to `user_id` — the user of an address the provider verified, which counts as verified
  // from now — and, with `session`, opens it (as IdentityStore::open_session), all in one transaction.
  // `take_over`: the account's own address was never verified, so nothing set up on it before this proof survives
  // (forget_unproven in identity_store.h: password, sessions, factor, identities, e-mail tokens).
  void link(LinkedIdentity identity, bool take_over, std::optional<NewSession> session, std::int64_t now_ms,
            std::vector<AuditEntry> audit, std::function<void(Result<Linked>)> done);

  // Inside a transaction (a new user's create effects): the identity row — replacing one left by a user deleted
  // without its identities (a relation's cascade) — and the address marked verified.
  static Status insert_identity(Connection& conn, const LinkedIdentity& identity, bool email_verified,
                                std::int64_t now_ms);

  void purge(std::int64_t now_ms);  // expired states

 private:
  IdentityStore& identity_;
  Reader reader_;
  Submit submit_;
};

// Deletes a user's linked identities, in the transaction deleting the user.
Status delete_oidc_rows(Connection& conn, const std::string& user_id);

}  // namespace slipway::storage
