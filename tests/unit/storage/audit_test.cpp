// The audit chain's verifier: every way a stored chain can be tampered with names the first bad entry.
#include "storage/audit.h"

#include <gtest/gtest.h>

#include <vector>

namespace slipway::storage {
namespace {

std::vector<AuditRow> chain(int n) {
  std::vector<AuditRow> rows;
  std::string prev(kAuditGenesis);
  for (int i = 1; i <= n; ++i) {
    AuditRow r;
    r.seq = i;
    r.at = "2026-11-29T12:00:00.00" + std::to_string(i % 10) + "Z";
    r.entry.action = i % 2 ? "auth.login.success" : "record.update";
    r.entry.actor_kind = "user";
    r.entry.actor_id = "u" + std::to_string(i);
    r.entry.detail = "{\"n\":" + std::to_string(i) + "}";
    r.prev_hash = prev;
    r.hash = audit_hash(r);
    prev = r.hash;
    rows.push_back(r);
  }
  return rows;
}

// The seq of the first bad row, or 0 when the whole chain verifies.
std::int64_t first_bad(const std::vector<AuditRow>& rows) {
  AuditVerifier v;
  for (const auto& r : rows)
    if (v.next(r)) return r.seq;
  return 0;
}

TEST(AuditChain, AnUntouchedChainVerifiesAndReportsItsHead) {
  auto rows = chain(5);
  AuditVerifier v;
  for (const auto& r : rows) EXPECT_FALSE(v.next(r));
  EXPECT_EQ(v.entries(), 5);
  EXPECT_EQ(v.head_seq(), 5);
  EXPECT_EQ(v.head_hash(), rows.back().hash);
}

TEST(AuditChain, AnEditedFieldIsTheFirstBadEntry) {
  for (int field = 0; field < 10; ++field) {
    auto rows = chain(5);
    AuditEntry& e = rows[2].entry;
    std::string* targets[] = {&rows[2].at,  &e.action,  &e.actor_kind, &e.actor_id, &e.reason,
                              &e.collection, &e.record_id, &e.address, &e.request_id, &e.detail};
    targets[field]->append("x");
    EXPECT_EQ(first_bad(rows), 3) << "field " << field;
  }
}

TEST(AuditChain, ARehashedEditBreaksTheLinkOfTheNextEntry) {
  auto rows = chain(5);
  rows[1].entry.actor_id = "mallory";
  rows[1].hash = audit_hash(rows[1]);  // the attacker recomputes this row's hash but not the rest of the chain
  EXPECT_EQ(first_bad(rows), 3);
}

TEST(AuditChain, ARemovedEntryIsNamedByTheGap) {
  auto rows = chain(5);
  rows.erase(rows.begin() + 2);
  EXPECT_EQ(first_bad(rows), 4);
  auto first_gone = chain(3);
  first_gone.erase(first_gone.begin());
  EXPECT_EQ(first_bad(first_gone), 2);
}

TEST(AuditChain, ReorderedEntriesAreFound) {
  auto swapped_rows = chain(5);
  std::swap(swapped_rows[1], swapped_rows[3]);  // rows read in stored order: 1, 4, 3, 2, 5
  EXPECT_EQ(first_bad(swapped_rows), 4);
  auto swapped_seqs = chain(5);  // or the sequence numbers swapped so they still read 1..5
  std::swap(swapped_seqs[1].seq, swapped_seqs[3].seq);
  std::swap(swapped_seqs[1], swapped_seqs[3]);
  EXPECT_EQ(first_bad(swapped_seqs), 2);
}

TEST(AuditChain, FieldsCannotBeShiftedIntoTheirNeighbours) {
  AuditRow a = chain(1)[0];
  AuditRow b = a;
  a.entry.actor_id = "ab";
  a.entry.reason = "c";
  b.entry.actor_id = "a";
  b.entry.reason = "bc";
  EXPECT_NE(audit_hash(a), audit_hash(b));
}

}  // namespace
}  // namespace slipway::storage
