#include "storage/audit.h"

#include "core/sha256.h"

namespace slipway::storage {
namespace {

void field(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out += ':';
  out += v;
}

}  // namespace

std::string audit_hash(const AuditRow& row) {
  const AuditEntry& e = row.entry;
  std::string text = "slipway-audit-1;";
  field(text, std::to_string(row.seq));
  field(text, row.at);
  field(text, e.action);
  field(text, e.actor_kind);
  field(text, e.actor_id);
  field(text, e.reason);
  field(text, e.collection);
  field(text, e.record_id);
  field(text, e.address);
  field(text, e.request_id);
  field(text, e.detail);
  field(text, row.prev_hash);
  return sha256_hex(text);
}

std::optional<std::string> AuditVerifier::next(const AuditRow& row) {
  if (row.seq != seq_ + 1) {
    return row.seq <= seq_ ? "out of order (after entry " + std::to_string(seq_) + ")"
                           : "entries " + std::to_string(seq_ + 1) + " to " + std::to_string(row.seq - 1) +
                                 " are missing";
  }
  if (row.prev_hash != prev_) return "does not link to the entry before it (removed, reordered or edited)";
  if (audit_hash(row) != row.hash) return "its content does not match its hash (edited)";
  ++entries_;
  seq_ = row.seq;
  prev_ = row.hash;
  return std::nullopt;
}

}  // namespace slipway::storage
