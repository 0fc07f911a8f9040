#include "storage/system/audit_log.h"

#include "storage/driver.h"

namespace slipway::storage {

Status append_audit_rows(Connection& conn, std::span<const AuditEntry> entries, std::string_view at) {
  if (entries.empty()) return {};
  // One chain across instances: the head is read and extended by one transaction at a time.
  auto* memo = conn.audit_head_memo();
  AuditRow row;
  if (memo && *memo) {  // this transaction appended last, under the lock it still holds
    row.seq = (*memo)->first;
    row.hash = (*memo)->second;
  } else {
    if (Status st = conn.lock_across_processes(LockKey::kAuditChain); !st) return st;
    auto head = conn.prepare("SELECT seq, hash FROM _slipway_audit ORDER BY seq DESC LIMIT 1");
    if (!head) return std::move(head).error();
    auto found = (*head)->step();
    if (!found) return std::move(found).error();
    row.seq = *found ? (*head)->column_int(0) : 0;
    row.hash = *found ? std::string((*head)->column_text(1)) : std::string(kAuditGenesis);
  }
  auto ins = conn.prepare(
      "INSERT INTO _slipway_audit (seq, at, actor_kind, actor_id, action, reason, collection, record_id, address, "
      "request_id, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  if (!ins) return std::move(ins).error();
  for (const AuditEntry& e : entries) {
    row.prev_hash = std::move(row.hash);
    row.seq += 1;
    row.at = std::string(at);
    row.entry = e;
    row.hash = audit_hash(row);
    Statement& st = **ins;
    st.bind(1, Value(row.seq));
    st.bind(2, Value(row.at));
    st.bind(3, Value(e.actor_kind));
    st.bind(4, Value(e.actor_id));
    st.bind(5, Value(e.action));
    st.bind(6, Value(e.reason));
    st.bind(7, Value(e.collection));
    st.bind(8, Value(e.record_id));
    st.bind(9, Value(e.address));
    st.bind(10, Value(e.request_id));
    st.bind(11, Value(e.detail));
    st.bind(12, Value(row.prev_hash));
    st.bind(13, Value(row.hash));
    if (auto done = st.step(); !done) {
      if (memo) memo->reset();  // the transaction is aborted and will be rolled back
      return std::move(done).error();
    }
    st.release();
  }
  if (memo) *memo = std::make_pair(row.seq, row.hash);
  return {};
}

Result<AuditReport> verify_audit_chain(Connection& conn) {
  AuditReport report;
  {
    auto found = conn.has_table("_slipway_audit");
    if (!found) return std::move(found).error();
    if (!*found) return report;  // a database from before the audit log: nothing to verify
  }
  auto rows = conn.prepare_uncached(
      "SELECT seq, at, actor_kind, actor_id, action, reason, collection, record_id, address, request_id, detail, "
      "prev_hash, hash FROM _slipway_audit ORDER BY seq");
  if (!rows) return std::move(rows).error();
  AuditVerifier verifier;
  Statement& st = **rows;
  for (;;) {
    auto more = st.step();
    if (!more) return std::move(more).error();
    if (!*more) break;
    AuditRow r;
    r.seq = st.column_int(0);
    auto text = [&st](int i) { return std::string(st.column_text(i)); };
    r.at = text(1);
    r.entry = AuditEntry{text(4), text(2), text(3), text(5), text(6), text(7), text(8), text(9), text(10)};
    r.prev_hash = text(11);
    r.hash = text(12);
    if (auto why = verifier.next(r)) {
      report.first_bad = r.seq;
      report.why = std::move(*why);
      break;
    }
  }
  report.entries = verifier.entries();
  report.head_seq = verifier.head_seq();
  report.head_hash = verifier.head_hash();
  return report;
}

}  // namespace slipway::storage
