// DDL for a collection in a dialect: CREATE TABLE with typed columns, and its indexes (declared indexes, unique
// fields, relation columns). Used by the migration planner for new databases and for each step.
// Identifiers come from the validated concept file and are still quoted; default values become SQL literals
// rendered by sql_literal() (never user request input).
#pragma once

#include <string>
#include <vector>

#include "core/concept/model.h"
#include "storage/sql/dialect.h"

namespace slipway::sql {

// One index the schema needs, named deterministically so a diff can find it again.
struct IndexSpec {
  std::string name;                 // e.g. "posts__unique__email", "posts__idx__published__created"
  std::vector<std::string> columns;
  bool unique = false;
};

std::vector<IndexSpec> index_specs(const model::Collection& c);
std::string column_definition(const model::Field& f, const Dialect& d);   // "\"title\" TEXT"
// `without_keys`: relation fields created as plain columns (their foreign key is added later: foreign_key_sql).
std::string create_table_sql(const model::Collection& c, const Dialect& d,
                             const std::vector<std::string>& without_keys = {});
// "FOREIGN KEY ("f") REFERENCES "to"("id") ON DELETE ..." for a relation field.
std::string foreign_key_sql(const model::Field& f, const Dialect& d);
std::string create_index_sql(const std::string& table, const IndexSpec& index, const Dialect& d);
std::string drop_index_sql(const IndexSpec& index, const Dialect& d);
// A SQL literal for a default value: 'text' with quotes doubled, numbers, 1/0 or TRUE/FALSE, NULL.
std::string sql_literal(const Value& v, const Dialect& d);

}  // namespace slipway::sql
