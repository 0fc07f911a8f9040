#include "storage/sql/schema_sql.h"

#include <algorithm>

#include "core/json_writer.h"
#include "core/sha256.h"

namespace slipway::sql {

namespace {

// PostgreSQL cuts identifiers at 63 bytes: two long index names sharing their first 63 bytes would collide, and a
// unique index's field could not be read back from its name. A longer name keeps its ending (for a unique index,
// "__unique__<field>", which the PostgreSQL driver reads the field from) behind a shortened collection name and a
// hash of the whole name, so it stays unique and within 63 bytes. Names that fit are unchanged.
std::string index_name(const std::string& collection, const std::string& ending) {
  constexpr std::size_t kMax = 63;
  std::string name = collection + ending;
  if (name.size() <= kMax) return name;
  const std::string tag = "_" + sha256_hex(name).substr(0, 12);
  if (ending.size() + tag.size() + 1 <= kMax)
    return collection.substr(0, kMax - ending.size() - tag.size()) + tag + ending;
  return collection.substr(0, std::min<std::size_t>(collection.size(), 30)) + tag;  // the field is lost: see pg_connection
}

}  // namespace

std::vector<IndexSpec> index_specs(const model::Collection& c) {
  std::vector<IndexSpec> out;
  for (const auto& f : c.fields) {
    if (f.unique) out.push_back({index_name(c.name, "__unique__" + f.name), {f.name}, true});
    else if (f.type == model::FieldType::kRelation) out.push_back({index_name(c.name, "__rel__" + f.name), {f.name}, false});
  }
  for (const auto& idx : c.indexes) {
    std::string ending = "__idx";
    for (const auto& col : idx.fields) ending += "__" + col;
    std::string name = index_name(c.name, ending);
    // Every declared index ends with id, the keyset tie-breaker, so a sorted page is read straight off the index
    // (ORDER BY created DESC, id DESC) with no sorter, and stops after `limit` rows.
    std::vector<std::string> columns = idx.fields;
    if (std::find(columns.begin(), columns.end(), "id") == columns.end()) columns.emplace_back("id");
    out.push_back({std::move(name), std::move(columns), false});
  }
  return out;
}

std::string sql_literal(const Value& v, const Dialect& d) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return std::get<bool>(v) ? d.true_literal() : d.false_literal();
    case 2: return std::to_string(std::get<std::int64_t>(v));
    case 3: {
      std::string s;
      append_json_double(s, std::get<double>(v));
      return s;
    }
    default: {
      const std::string& text = v.index() == 4 ? std::get<std::string>(v) : std::get<JsonText>(v).text;
      std::string out = "'";
      for (char ch : text) {
        if (ch == '\'') out.push_back('\'');
        if (ch == '\0') continue;  // never part of a literal
        out.push_back(ch);
      }
      out.push_back('\'');
      return out;
    }
  }
}

namespace {
std::string references(const model::Field& f, const Dialect& d) {
  std::string s = "REFERENCES " + d.quote_ident(f.to) + "(" + d.quote_ident("id") + ") ON DELETE ";
  switch (f.on_delete) {
    case model::OnDelete::kCascade: s += "CASCADE"; break;
    case model::OnDelete::kSetNull: s += "SET NULL"; break;
    case model::OnDelete::kRestrict: s += "RESTRICT"; break;
  }
  return s;
}
}  // namespace

std::string column_definition(const model::Field& f, const Dialect& d) {
  std::string s = d.quote_ident(f.name) + " " + d.column_type(f.type);
  if (f.type == model::FieldType::kRelation) s += " " + references(f, d);
  return s;
}

std::string foreign_key_sql(const model::Field& f, const Dialect& d) {
  return "FOREIGN KEY (" + d.quote_ident(f.name) + ") " + references(f, d);
}

std::string create_table_sql(const model::Collection& c, const Dialect& d, const std::vector<std::string>& without_keys) {
  const std::string text = d.column_type(model::FieldType::kText);
  std::string s = "CREATE TABLE " + d.quote_ident(c.name) + " (" + d.quote_ident("id") + " " + text +
                  " PRIMARY KEY NOT NULL, " + d.quote_ident("created") + " " +
                  d.column_type(model::FieldType::kDatetime) + " NOT NULL, " + d.quote_ident("updated") + " " +
                  d.column_type(model::FieldType::kDatetime) + " NOT NULL, " + d.quote_ident("version") + " " +
                  d.column_type(model::FieldType::kInt) + " NOT NULL";
  for (const auto& f : c.fields) {
    const bool plain = std::find(without_keys.begin(), without_keys.end(), f.name) != without_keys.end();
    s += ", " + (plain ? d.quote_ident(f.name) + " " + d.column_type(f.type) : column_definition(f, d));
  }
  s += ")";
  return s;
}

std::string create_index_sql(const std::string& table, const IndexSpec& index, const Dialect& d) {
  std::string s = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  s += d.quote_ident(index.name) + " ON " + d.quote_ident(table) + " (";
  for (std::size_t i = 0; i < index.columns.size(); ++i) {
    if (i) s += ", ";
    s += d.index_column(index.columns[i]);  // ordered as the ORDER BY the select builder writes
  }
  return s + ")";
}

std::string drop_index_sql(const IndexSpec& index, const Dialect& d) { return "DROP INDEX " + d.quote_ident(index.name); }

}  // namespace slipway::sql
