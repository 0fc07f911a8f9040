// The audit log's data: what a write (or an event without one) records, and how entries are chained.
//
// The log is append-only and hash-chained: entry n holds the hash of entry n-1 and its own hash over every field
// and that link (docs/formats.md#audit-chain). Editing, removing or reordering rows breaks the chain at the first
// entry touched, which verify names. Removing the newest entries leaves a shorter valid chain: operators who need
// that detected keep the head that `slipway audit verify` prints somewhere else and compare (docs/security.md).
// Thread safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::storage {

// What happened, as the api layer describes it. Storage adds the sequence number, the time and the chain hashes
// when the entry commits, in the same transaction as the change it describes.
struct AuditEntry {
  std::string action;      // "record.create", "auth.login.failure", "access.denied", "migration.apply", ...
  std::string actor_kind;  // "anonymous", "user", "api_key", "admin" or "system"
  std::string actor_id;    // the user's or key's id, "admin", or empty
  std::string reason;      // a reason code (e.g. "bad_password"); never a secret
  std::string collection;  // the record's collection, when the entry is about one
  std::string record_id;   // filled in by storage for a create's new record
  std::string address;     // the client's address
  std::string request_id;
  std::string detail = "{}";  // a compact JSON object (before/after with hidden fields redacted, versions, ...)
};

struct AuditRow {
  std::int64_t seq = 0;  // 1, 2, 3, ... without gaps
  std::string at;        // RFC 3339 UTC with milliseconds
  AuditEntry entry;
  std::string prev_hash;  // hex SHA-256 of the previous row; kAuditGenesis for the first
  std::string hash;       // audit_hash(this row)
};

inline constexpr std::string_view kAuditGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Hex SHA-256 over the row's sequence number, time, every entry field and prev_hash, each length-prefixed so no
// two different rows encode alike.
std::string audit_hash(const AuditRow& row);

// Walks a chain in sequence order, one row at a time (verify streams, whatever the log's size).
class AuditVerifier {
 public:
  // nullopt while the chain holds; otherwise why `row` is the first bad entry.
  std::optional<std::string> next(const AuditRow& row);
  std::int64_t entries() const { return entries_; }
  const std::string& head_hash() const { return prev_; }
  std::int64_t head_seq() const { return seq_; }

 private:
  std::int64_t entries_ = 0;
  std::int64_t seq_ = 0;
  std::string prev_{kAuditGenesis};
};

}  // namespace slipway::storage
