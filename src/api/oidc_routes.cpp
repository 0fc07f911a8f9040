// Sign-in with OpenID Connect (docs/security.md#openid-connect): authorization code flow with PKCE (S256), state
// and nonce kept server-side, the state bound to the browser by a cookie, the ID token fully validated
// (auth/id_token.h), and the provider's user linked to ours by rule. Calls to the provider block, so both routes
// run their work on the outbound pool; a sign-in's storage steps are waited for there too.
#include <future>

#include "api/auth_common.h"
#include "api/auth_routes.h"
#include "api/problem_json.h"
#include "api/query_string.h"
#include "api/record_input.h"
#include "api/record_json.h"
#include "auth/base64url.h"
#include "auth/opaque_token.h"
#include "core/ascii.h"
#include "core/json_writer.h"
#include "core/sha256.h"
#include "core/text_formats.h"
#include "core/utf8.h"
#include "runtime/worker_pool.h"
#include "storage/system/oidc_store.h"

namespace slipway::api {
namespace {

constexpr std::int64_t kStateTtlMs = 10 * 60'000;  // from the redirect to the provider to its callback
constexpr std::size_t kMaxParamBytes = 2048;
constexpr std::string_view kBusy = "Too many sign-ins are waiting for identity providers; try again.";

// At most `max` code points of `s` (valid UTF-8 from the provider's JSON), never a cut sequence.
std::string utf8_prefix(std::string_view s, std::size_t max) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < s.size() && n < max; ++n) i += std::max<std::size_t>(1, utf8_sequence_length(s, i));
  return std::string(s.substr(0, std::min(i, s.size())));
}

std::string cookie_name(std::string_view provider) { return "slipway_oidc_" + std::string(provider); }

// One cookie's value from the Cookie header, or empty.
std::string cookie(const http::Request& req, const std::string& name) {
  std::string_view all = req.header("Cookie");
  while (!all.empty()) {
    const std::size_t semi = all.find(';');
    std::string_view pair = all.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (semi == std::string_view::npos) break;
    all.remove_prefix(semi + 1);
  }
  return "";
}

// The callback's parameters. Providers add their own (session_state, scope, ...): unknown names are ignored, a
// known one given twice is refused.
struct CallbackParams {
  std::optional<std::string> code, state, error, iss;
};
Result<CallbackParams> callback_params(std::string_view query) {
  CallbackParams out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    std::string name, value;
    if (!percent_decode(pair.substr(0, eq), name, true) ||
        !percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), value, true) ||
        value.size() > kMaxParamBytes)
      return Problem::make(ProblemCode::kBadRequest, "The callback's query string is malformed.");
    std::optional<std::string>* slot = name == "code" ? &out.code : name == "state" ? &out.state
                                     : name == "error" ? &out.error : name == "iss" ? &out.iss : nullptr;
    if (slot == nullptr) continue;
    if (slot->has_value()) return Problem::make(ProblemCode::kBadRequest, "The parameter '" + name + "' is repeated.");
    *slot = std::move(value);
  }
  return out;
}

Problem sign_in_over() {
  return Problem::make(ProblemCode::kUnauthorized,
                       "The sign-in could not be completed: it expired, was used already, or did not start in this "
                       "browser. Start again.");
}

template <typename T>
T await(const std::function<void(std::function<void(T)>)>& call) {
  std::promise<T> p;
  call([&p](T r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

}  // namespace

void App::Auth::oidc_start(http::Request& req, std::string_view name, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/oidc/{provider}";
  const model::OidcProvider* p = settings.find_oidc(name);
  if (p == nullptr || !oidc)
    return app.fail(req.request_id, {}, Problem::make(ProblemCode::kNotFound, "No such sign-in provider."), respond,
                    route);
  auto params = QueryParams::parse(req.query, {"login_hint"});
  if (!params) return app.fail(req.request_id, {}, params.error(), respond, route);
  std::string login_hint(params->get("login_hint").value_or(""));
  if (login_hint.size() > 256)
    return app.fail(req.request_id, {}, Problem::make(ProblemCode::kBadRequest, "login_hint is longer than 256 bytes."),
                    respond, route);
  submit_to(*outbound_pool, kBusy, req.request_id, {}, route, respond,
            [this, p, login_hint, request_id = req.request_id, respond]() mutable {
    auto endpoints = oidc->endpoints(*p);
    if (!endpoints) return app.fail(request_id, {}, endpoints.error(), respond, route);
    const std::string state = auth::random_token();
    const std::string binding = auth::random_token();
    storage::OidcState s;
    s.digest = auth::token_digest(state);
    s.provider = p->name;
    s.nonce = auth::random_token();
    s.verifier = auth::random_token();  // 43 characters of the base64url alphabet: a valid RFC 7636 verifier
    s.binding = auth::token_digest(binding);
    s.created_ms = clock.now_ms();
    s.expires_ms = s.created_ms + kStateTtlMs;
    std::string scopes;
    for (const auto& sc : p->scopes) scopes += (scopes.empty() ? "" : " ") + sc;
    std::string location = endpoints->authorization;
    location += location.find('?') == std::string::npos ? '?' : '&';
    location += "response_type=code&client_id=" + percent_encode(p->client_id) +
                "&redirect_uri=" + percent_encode(p->redirect_uri) + "&scope=" + percent_encode(scopes) +
                "&state=" + percent_encode(state) + "&nonce=" + percent_encode(s.nonce) +
                "&code_challenge=" + auth::base64url_encode(sha256_raw(s.verifier)) + "&code_challenge_method=S256";
    if (!login_hint.empty()) location += "&login_hint=" + percent_encode(login_hint);
    Status saved = await<Status>([&](auto done) { app.storage_.oidc()->save_state(std::move(s), std::move(done)); });
    if (!saved) return app.fail(request_id, {}, saved.error(), respond, route);
    http::Response r;
    r.status = 302;
    r.route = route;
    r.set_header("Location", location);
    r.set_header("Cache-Control", "no-store");
    // Binds the sign-in to this browser: a callback URL sent to someone else completes nothing (login CSRF).
    r.set_header("Set-Cookie", cookie_name(p->name) + "=" + binding + "; Path=/api/v1/auth/oidc/" + p->name +
                                   "; Max-Age=600; HttpOnly; Secure; SameSite=Lax");
    respond(std::move(r));
  });
}

void App::Auth::oidc_callback(http::Request& req, std::string_view name, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/oidc/{provider}/callback";
  const model::OidcProvider* p = settings.find_oidc(name);
  if (p == nullptr || !oidc)
    return app.fail(req.request_id, {}, Problem::make(ProblemCode::kNotFound, "No such sign-in provider."), respond,
                    route);
  auto params = callback_params(req.query);
  if (!params) return app.fail(req.request_id, {}, params.error(), respond, route);
  if (!params->state)
    return app.fail(req.request_id, {}, Problem::make(ProblemCode::kBadRequest, "The callback has no state."), respond,
                    route);
  const std::string binding = cookie(req, cookie_name(p->name));
  submit_to(*outbound_pool, kBusy, req.request_id, {}, route, respond,
            [this, p, params = std::move(*params), binding, request_id = req.request_id, address = req.remote_addr,
             user_agent = user_agent_of(req), loop = req.loop, respond]() mutable {
    auto fail = [&](const Problem& problem) { app.fail(request_id, {}, problem, respond, route); };
    const std::int64_t now = clock.now_ms();
    auto taken = await<Result<std::optional<storage::OidcState>>>(
        [&](auto done) { app.storage_.oidc()->take_state(auth::token_digest(*params.state), now, std::move(done)); });
    if (!taken) return fail(taken.error());
    if (!*taken || (*taken)->provider != p->name || binding.empty() ||
        !auth::constant_time_equal(auth::token_digest(binding), (*taken)->binding)) {
      logins_failed.inc();
      return fail(sign_in_over());
    }
    if (params.error) {
      std::string error = params.error->substr(0, 40);
      for (char& ch : error)
        if (!((ch >= 'a' && ch <= 'z') || ch == '_')) ch = '?';
      logins_failed.inc();
      return fail(Problem::make(ProblemCode::kUnauthorized, "The identity provider did not sign you in (" + error + ")."));
    }
    if (params.iss && *params.iss != p->issuer) {  // RFC 9207: the answer came from another provider (mix-up)
      logins_failed.inc();
      return fail(Problem::make(ProblemCode::kUnauthorized, "The answer did not come from this identity provider."));
    }
    if (!params.code) return fail(Problem::make(ProblemCode::kBadRequest, "The callback has no code."));
    auto endpoints = oidc->endpoints(*p);
    if (!endpoints) return fail(endpoints.error());
    auto id_token = oidc->exchange_code(*p, *endpoints, *params.code, (*taken)->verifier);
    if (!id_token) {
      if (id_token.error().code == ProblemCode::kUnauthorized) logins_failed.inc();
      return fail(id_token.error());
    }
    const auth::IdTokenCheck check{p->issuer, p->client_id, (*taken)->nonce, now / 1000};
    auto keys = oidc->keys(*p, false);
    if (!keys) return fail(keys.error());
    bool unknown_kid = false;
    auto claims = auth::verify_id_token(*id_token, **keys, check, &unknown_kid);
    if (!claims && unknown_kid) {  // the provider may have rotated its keys: fetch them once more
      keys = oidc->keys(*p, true);
      if (!keys) return fail(keys.error());
      claims = auth::verify_id_token(*id_token, **keys, check, nullptr);
    }
    if (!claims) {
      logins_failed.inc();
      return fail(claims.error());
    }

    // Who is this? A linked identity; else the user of the same address, if the provider verified it; else new.
    Principal who;
    who.kind = PrincipalKind::kUser;
    storage::NewSession session;
    session.id = session_ids.generate();
    session.auth_time_ms = now;
    session.expires_ms = now + settings.session_absolute_s * 1000;
    session.user_agent = user_agent;
    session.address = address;
    const std::string refresh = session.id + "." + auth::random_token();
    session.refresh_hash = auth::token_digest(refresh);
    std::string email = claims->email.value_or("");
    ascii_to_lower(email);
    auto linked = app.storage_.oidc()->find_identity(p->name, claims->sub);
    if (!linked) return fail(linked.error());
    std::optional<storage::Account> account;
    bool link = false, take_over = false;
    if (*linked) {
      auto a = app.storage_.find_account(**linked);
      if (!a) return fail(a.error());
      if (*a) account = **a;
    } else if (!email.empty()) {
      auto a = app.storage_.find_account_by_email(email);
      if (!a) return fail(a.error());
      if (*a) {
        if (!claims->email_verified) {
          logins_failed.inc();
          return fail(Problem::make(ProblemCode::kConflict,
                                    "An account with this e-mail address exists, and the identity provider has not "
                                    "verified the address, so the two cannot be linked."));
        }
        account = **a;
        link = true;
        take_over = !(*a)->email_verified;
      }
    }
    if (account && account->disabled) {
      logins_failed.inc();
      return fail(Problem::make(ProblemCode::kUnauthorized, "This account is disabled."));
    }
    storage::LinkedIdentity identity{p->name, claims->sub, account ? account->user_id : "", email};
    auto detail = [&](std::string_view action) {
      std::string d;
      JsonWriter(d).begin_object().key("provider").string(p->name).key("action").string(action).end_object();
      return d;
    };

    auto answer = [this, p, request_id, respond, refresh, sid = session.id](const storage::Account& a,
                                                                             const storage::Record& user) mutable {
      logins_ok.inc();
      std::string body;
      JsonWriter w(body);
      w.begin_object();
      write_tokens(w, access_token(a.user_id, sid, a.roles, 1), refresh);
      w.key("user");
      write_record(w, user, users, app.concept_, {});
      w.end_object();
      http::Response r = json_response(200, std::move(body), route, a.user_id);
      // The binding did its work: the browser forgets it.
      r.set_header("Set-Cookie", cookie_name(p->name) + "=; Path=/api/v1/auth/oidc/" + p->name + "; Max-Age=0");
      respond(std::move(r));
    };

    if (!account) {  // a new user, made from the ID token
      if (settings.signup == model::AuthSettings::Signup::kInviteOnly)
        return fail(Problem::make(ProblemCode::kForbidden, "Sign-up is by invitation only: an admin creates accounts."));
      if (email.empty())
        return fail(Problem::make(ProblemCode::kUnprocessable,
                                  "The identity provider gave no e-mail address: ask for the email scope."));
      // An address the provider has not verified makes no account: it would hold someone else's address for
      // whoever signs in with it (pre-hijacking), whatever `verification` says.
      if (!claims->email_verified) {
        logins_failed.inc();
        return fail(Problem::make(ProblemCode::kForbidden,
                                  "The identity provider has not verified this e-mail address, so no account can be "
                                  "made from it."));
      }
      std::string body;
      JsonWriter w(body);
      w.begin_object().key("email").string(email);
      const int name_index = users.field_index("name");
      if (claims->name && name_index >= 0 && users.fields[static_cast<std::size_t>(name_index)].type == model::FieldType::kText)
        w.key("name").string(utf8_prefix(*claims->name, 100));
      w.end_object();
      auto values = parse_create_body(body, users);
      if (!values) return fail(values.error());
      storage::CreateCommand cmd;
      cmd.collection = &users;
      cmd.values = std::move(*values);
      storage::NewAccount new_account;
      if (settings.default_role) new_account.roles = {*settings.default_role};
      cmd.account = new_account;
      cmd.session = session;
      const bool verified = claims->email_verified;
      cmd.effects = [identity, verified, now](storage::Connection& conn, const std::string& id) mutable {
        identity.user_id = id;
        return storage::OidcStore::insert_identity(conn, identity, verified, now);
      };
      storage::AuditEntry e = App::audit_entry(request_id, address, Principal{}, "auth.signup");
      e.collection = users.name;
      e.detail = detail("created");
      cmd.audit.push_back(std::move(e));
      auto created = await<Result<storage::CreateResult>>(
          [&](auto done) { app.storage_.create(std::move(cmd), Principal::bootstrap_admin(), std::move(done)); });
      if (!created) return fail(created.error());
      signups.inc();
      storage::Account a;
      a.user_id = created->record.id;
      a.roles = new_account.roles;
      return answer(a, created->record);
    }

    who.id = account->user_id;
    auto user = app.storage_.get(users, account->user_id, Principal::bootstrap_admin(), {});
    if (!user) return fail(user.error());
    std::vector<storage::AuditEntry> audit;
    if (link) {
      storage::AuditEntry e = App::audit_entry(request_id, address, who, "auth.oidc.link");
      e.detail = detail(take_over ? "linked_unverified_account" : "linked");
      audit.push_back(std::move(e));
    }
    // A take-over deletes any factor of the pre-registered account: then there is no second factor to ask for.
    if (account->mfa && !take_over) {  // slipway's own second factor is still asked for
      if (link) {
        auto done = await<Result<storage::OidcStore::Linked>>([&](auto d) {
          app.storage_.oidc()->link(identity, false, std::nullopt, now, std::move(audit), std::move(d));
        });
        if (!done) return fail(done.error());
      }
      return issue_mfa_challenge(account->user_id, request_id, address, loop, respond);
    }
    session.user_id = account->user_id;
    storage::AuditEntry ok = App::audit_entry(request_id, address, who, "auth.login.success");
    ok.detail.clear();
    JsonWriter(ok.detail).begin_object().key("session").string(session.id).key("provider").string(p->name).end_object();
    audit.push_back(std::move(ok));
    Result<storage::Account> opened = Problem::make(ProblemCode::kInternal, "not opened");
    if (link) {
      auto linked = await<Result<storage::OidcStore::Linked>>([&](auto d) {
        app.storage_.oidc()->link(identity, take_over, session, now, std::move(audit), std::move(d));
      });
      if (!linked) return fail(linked.error());
      for (const auto& sid : linked->ended) app.revocations_.revoke_session(sid, now);
      opened = std::move(linked->account);
    } else {
      opened = await<Result<storage::Account>>(
          [&](auto d) { app.storage_.open_session(session, std::nullopt, std::move(audit), std::move(d)); });
    }
    if (!opened) return fail(opened.error());
    answer(*opened, *user);
  });
}

}  // namespace slipway::api
