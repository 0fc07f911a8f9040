// The identity part of Storage: forwarded to the IdentityStore (storage/system/identity_store.h), which exists only
// when the concept has the built-in users collection; API keys need no users collection.
#include "storage/record_store.h"

#include "storage/record_store_impl.h"
#include "storage/system/identity_store.h"

namespace slipway::storage {

namespace {
std::function<void(WriteOp)> submitter(RecordStore::Impl& impl) {
  return [&impl](WriteOp op) { impl.submit(std::move(op)); };
}

Problem no_identity() {
  return Problem::make(ProblemCode::kNotFound, "Identity is not enabled: the concept file has no `auth:` section.");
}
}  // namespace

Result<std::optional<Account>> RecordStore::find_account_by_email(std::string_view email) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->find_account_by_email(email);
}

Result<std::optional<Account>> RecordStore::find_account(std::string_view user_id) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->find_account(user_id);
}

void RecordStore::open_session(NewSession session, std::optional<std::string> rehash, std::vector<AuditEntry> audit,
                                 std::function<void(Result<Account>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->open_session(std::move(session), std::move(rehash), std::move(audit), impl_->clock.now_ms(),
                                std::move(done));
}

Result<std::optional<RefreshPeek>> RecordStore::peek_refresh_token(std::string_view session_id) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->peek_refresh_token(session_id);
}

void RecordStore::refresh_session(RefreshCommand command, std::function<void(Result<RefreshOutcome>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->refresh_session(std::move(command), std::move(done));
}

void RecordStore::revoke_sessions(RevokeCommand command, std::vector<AuditEntry> audit,
                                    std::function<void(Result<std::vector<std::string>>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->revoke_sessions(std::move(command), std::move(audit), std::move(done));
}

Result<std::vector<SessionInfo>> RecordStore::list_sessions(std::string_view user_id) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->list_sessions(user_id, impl_->clock.now_ms());
}

void RecordStore::change_password(std::string user_id, std::string new_hash, std::string keep_session,
                                    std::vector<AuditEntry> audit,
                                    std::function<void(Result<std::vector<std::string>>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->change_password(std::move(user_id), std::move(new_hash), std::move(keep_session),
                                   impl_->clock.now_ms(), std::move(audit), std::move(done));
}

Result<std::vector<std::string>> RecordStore::sessions_revoked_since(std::int64_t since_ms) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->sessions_revoked_since(since_ms);
}

void RecordStore::update_account(AccountUpdate update, std::vector<AuditEntry> audit,
                                   std::function<void(Result<Account>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->update_account(std::move(update), std::move(audit), std::move(done));
}

void RecordStore::create_api_key(ApiKey key, std::vector<AuditEntry> audit, std::function<void(Status)> done) {
  IdentityStore::create_api_key(submitter(*impl_), std::move(key), std::move(audit), std::move(done));
}

Result<std::vector<ApiKey>> RecordStore::list_api_keys() {
  if (!impl_->engine->exists()) return std::vector<ApiKey>{};
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  return IdentityStore::list_api_keys(**conn);
}

void RecordStore::revoke_api_key(std::string id, std::int64_t now_ms, std::vector<AuditEntry> audit,
                                   std::function<void(Status)> done) {
  IdentityStore::revoke_api_key(submitter(*impl_), std::move(id), now_ms, std::move(audit), std::move(done));
}

void RecordStore::touch_api_keys(std::vector<std::pair<std::string, std::int64_t>> last_used,
                                   std::vector<AuditEntry> audit) {
  IdentityStore::touch_api_keys(submitter(*impl_), std::move(last_used), std::move(audit));
}

Result<std::vector<std::pair<std::string, std::int64_t>>> RecordStore::users_revoked_since(std::int64_t since_ms) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->users_revoked_since(since_ms);
}

void RecordStore::purge_identity(std::int64_t successor_before_ms, std::int64_t revocation_before_ms) {
  if (!impl_->identity) return;
  impl_->identity->purge(successor_before_ms, revocation_before_ms);
  const std::int64_t now = impl_->clock.now_ms();
  impl_->mfa->purge(now);
  impl_->email->purge(now, now - 7 * 86'400'000);  // dead mail is kept a week for operators
  impl_->oidc->purge(now);
}

MfaStore* RecordStore::mfa() { return impl_->mfa.get(); }
EmailStore* RecordStore::email() { return impl_->email.get(); }
OidcStore* RecordStore::oidc() { return impl_->oidc.get(); }

void RecordStore::save_throttles(std::vector<ThrottleRow> rows) {
  if (!impl_->identity) return;
  impl_->identity->save_throttles(std::move(rows));
}

Result<std::vector<ThrottleRow>> RecordStore::load_throttles() {
  if (!impl_->identity) return no_identity();
  return impl_->identity->load_throttles();
}

}  // namespace slipway::storage
