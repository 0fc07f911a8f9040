// The PostgreSQL driver's pure parts: placeholders rewritten outside quotes, SQLSTATEs classified into faults, and
// the change encoding other instances decode (a NOTIFY payload is input from the network: hostile text is refused).
#include "storage/postgres/pg_connection.h"

#include <gtest/gtest.h>

namespace slipway::storage::postgres {
namespace {

TEST(PgPlaceholders, AreRewrittenOutsideQuotesOnly) {
  EXPECT_EQ(to_dollar_placeholders("SELECT ?1, ?12 FROM t WHERE a = ?2"), "SELECT $1, $12 FROM t WHERE a = $2");
  EXPECT_EQ(to_dollar_placeholders("SELECT '?1', \"?2\", ?3"), "SELECT '?1', \"?2\", $3");
  EXPECT_EQ(to_dollar_placeholders("SELECT 'it''s ?1', ?2"), "SELECT 'it''s ?1', $2");
  EXPECT_EQ(to_dollar_placeholders("SELECT ? FROM t"), "SELECT ? FROM t");  // not a numbered placeholder
}

TEST(PgFaults, SqlstatesBecomeFaultsNotMessages) {
  EXPECT_EQ(fault_of_sqlstate("23505"), Fault::kUnique);
  EXPECT_EQ(fault_of_sqlstate("23503"), Fault::kForeignKey);
  EXPECT_EQ(fault_of_sqlstate("40001"), Fault::kSerialization);
  EXPECT_EQ(fault_of_sqlstate("40P01"), Fault::kSerialization);
  EXPECT_EQ(fault_of_sqlstate("57014"), Fault::kTimeout);
  EXPECT_EQ(fault_of_sqlstate("08006"), Fault::kConnectionLost);
  EXPECT_EQ(fault_of_sqlstate("57P01"), Fault::kConnectionLost);
  EXPECT_EQ(fault_of_sqlstate("42601"), Fault::kNone);  // a syntax error is ours: 500
}

TEST(ChangeEncoding, RoundTripsAndRefusesAnythingElse) {
  Change c;
  c.kind = Change::Kind::kUserRevoked;
  c.op = Change::Op::kDelete;
  c.collection = "users";
  c.id = "01a22a30-db2d-7036-aca3-8a9927104198";
  c.version = 7;
  c.at_ms = 1764466000123;
  Change back;
  std::string origin;
  ASSERT_TRUE(decode_change(encode_change(c, "abc123"), back, origin));
  EXPECT_EQ(origin, "abc123");
  EXPECT_EQ(back.kind, c.kind);
  EXPECT_EQ(back.op, c.op);
  EXPECT_EQ(back.collection, c.collection);
  EXPECT_EQ(back.id, c.id);
  EXPECT_EQ(back.version, c.version);
  EXPECT_EQ(back.at_ms, c.at_ms);
  for (const char* bad : {"", "abc", "o|9|0|0|0|c|id", "o|0|7|0|0|c|id", "o|0|0|x|0|c|id", "o|0|0|0|1e3|c|id",
                          "o|-1|0|0|0|c|id", "o|0|0|0|0"}) {
    EXPECT_FALSE(decode_change(bad, back, origin)) << bad;
  }
}

}  // namespace
}  // namespace slipway::storage::postgres
