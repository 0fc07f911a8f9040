// RetryPolicy: how often, and after how long, a failed outgoing call is tried again; and the one rule for WHICH
// failures may be tried again at all.
//
// What is safe to retry (is_safe_to_retry):
//  - A failure before any byte of the request left: connection refused, name not resolved, connect timeout, TLS
//    handshake failure. The peer cannot have acted on a request it never saw.
//  - A failure after the request (maybe) left — a timeout while waiting for the answer, a connection reset — only
//    when the request is idempotent: the peer may have acted on it, and doing a GET twice is harmless where a POST
//    (an OIDC token redemption: the code is single-use; a webhook delivery) is not. A POST is idempotent only when
//    its caller says so.
//  - HTTP 429, 502, 503 and 504 answers, for idempotent requests only: the peer says it did not handle it now, but a
//    502 or 504 comes from a gateway that may have passed the request on before giving up. Other statuses are
//    answers, not failures, and are handed back unretried.
//  - SMTP: failures to connect, and 4xx transient replies (421 service not available, 450/451/452): the server
//    says the message was not taken and may be offered again. Never 5xx permanent replies (550 no such user, 554
//    rejected): the same message fails the same way. A connection that breaks after the message was handed over
//    is not retried here (the server may have queued it); it is reported as transient to the caller's durable
//    queue, which may offer it again later (SMTP delivery is at-least-once).
//
// Backoff: exponential with full jitter (the "Full Jitter" of AWS's "Exponential Backoff and Jitter"): before
// attempt n+1 wait a uniformly random time in [0, min(max_delay_ms, base_delay_ms * 2^(n-1))]. Random spreading
// keeps many workers that failed together from retrying together.
// Thread safety: a plain value type; the functions are pure.
#pragma once

#include <cstdint>

namespace slipway::outbound {

// What went wrong with one attempt, as the client classified it (protocol-neutral, so the rule above lives here).
enum class AttemptFailure : std::uint8_t {
  kNotSent,         // nothing of the request left: refused, unresolved, connect timeout, TLS handshake
  kMaybeReceived,   // the request (partly) left, then a timeout or broken connection: outcome unknown
  kRetryableReply,  // HTTP 429/502/503/504: declined for now, but a gateway (502/504) may have passed it on
  kRefused,         // SMTP 4xx transient reply: the server says it did not take the message
  kPermanent,       // anything else (bad certificate, 5xx SMTP reply, response too large): retrying cannot help
};

// True when another attempt is allowed by the rule above. `idempotent`: the caller's word that doing the request
// twice has the effect of doing it once (GET, HEAD; a POST only when its caller says so; SMTP: false).
bool is_safe_to_retry(AttemptFailure failure, bool idempotent);
// 429, 502, 503, 504.
bool is_retryable_http_status(int status);
// 4xx: RFC 5321 §4.2.1 "transient negative completion".
bool is_transient_smtp_reply(long code);

struct RetryPolicy {
  int max_attempts = 3;              // attempts in all, the first included; 1 = never retry
  std::int64_t base_delay_ms = 200;  // ceiling of the first wait
  std::int64_t max_delay_ms = 2000;  // no wait is longer (a worker thread sleeps through it)

  // The ceiling of the wait after `attempt` (1-based) failed: min(max_delay_ms, base_delay_ms * 2^(attempt-1)).
  std::int64_t ceiling_ms(int attempt) const;
  // The wait after `attempt` failed: `random` (any 64-bit value, uniformly distributed: the caller's generator)
  // scaled onto [0, ceiling_ms(attempt)]. Taking the random value, not a generator, keeps this pure for tests.
  std::int64_t delay_ms(int attempt, std::uint64_t random) const;
};

}  // namespace slipway::outbound
