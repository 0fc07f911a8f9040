#include "storage/sql/migration_planner.h"

#include <boost/json.hpp>
#include <algorithm>
#include <map>
#include <set>

#include "core/json_writer.h"
#include "core/sha256.h"
#include "storage/sql/schema_sql.h"

namespace slipway::sql {
namespace {

namespace json = boost::json;

// The schema as a snapshot sees it: enough to rebuild DDL and describe every change.
struct SnapField {
  std::string name, type, to, on_delete, options;  // options: canonical JSON of validation-only options
  bool required = false, unique = false, has_default = false;
  std::string default_json;
  std::optional<double> min, max;
  std::string pattern;  // empty: none
  std::vector<std::string> values;
};
struct SnapCollection {
  std::string name;
  std::vector<SnapField> fields;
  std::vector<std::vector<std::string>> indexes;
};

void write_field(JsonWriter& w, const model::Field& f) {
  w.begin_object();
  w.key("name").string(f.name).key("type").string(model::field_type_name(f.type));
  w.key("required").boolean(f.required).key("unique").boolean(f.unique);
  w.key("hidden").boolean(f.hidden).key("immutable").boolean(f.immutable).key("sensitive").boolean(f.sensitive);
  w.key("default");
  if (f.default_value) w.value(*f.default_value); else w.null();
  w.key("min");
  if (f.min) w.number(*f.min); else w.null();
  w.key("max");
  if (f.max) w.number(*f.max); else w.null();
  w.key("pattern");
  if (f.pattern) w.string(f.pattern->source()); else w.null();
  w.key("values").begin_array();
  for (const auto& v : f.values) w.string(v);
  w.end_array();
  if (f.type == model::FieldType::kRelation) {
    w.key("to").string(f.to).key("on_delete").string(model::on_delete_name(f.on_delete));
  }
  w.end_object();
}

std::optional<std::vector<SnapCollection>> parse_snapshot(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* cols = v.as_object().if_contains("collections");
  if (!cols || !cols->is_array()) return std::nullopt;
  std::vector<SnapCollection> out;
  try {
    for (const auto& cv : cols->as_array()) {
      const auto& co = cv.as_object();
      SnapCollection c;
      c.name = co.at("name").as_string();
      for (const auto& fv : co.at("fields").as_array()) {
        const auto& fo = fv.as_object();
        SnapField f;
        f.name = fo.at("name").as_string();
        f.type = fo.at("type").as_string();
        f.required = fo.at("required").as_bool();
        f.unique = fo.at("unique").as_bool();
        f.has_default = !fo.at("default").is_null();
        f.default_json = json::serialize(fo.at("default"));
        if (const auto& v = fo.at("min"); !v.is_null()) f.min = v.to_number<double>();
        if (const auto& v = fo.at("max"); !v.is_null()) f.max = v.to_number<double>();
        if (const auto& v = fo.at("pattern"); !v.is_null()) f.pattern = v.as_string();
        for (const auto& v : fo.at("values").as_array()) f.values.emplace_back(v.as_string());
        if (const auto* to = fo.if_contains("to")) f.to = to->as_string();
        if (const auto* od = fo.if_contains("on_delete")) f.on_delete = od->as_string();
        json::object options = fo;  // what a change of only these means: type and relation changes are apart
        options.erase("type");
        options.erase("to");
        options.erase("on_delete");
        f.options = json::serialize(options);
        c.fields.push_back(std::move(f));
      }
      for (const auto& iv : co.at("indexes").as_array()) {
        std::vector<std::string> cols_;
        for (const auto& n : iv.as_array()) cols_.emplace_back(n.as_string());
        c.indexes.push_back(std::move(cols_));
      }
      out.push_back(std::move(c));
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return out;
}

SnapCollection snap_of(const model::Collection& c) {
  // Round-trip through the same JSON as the snapshot so both sides compare identically.
  std::string text = "{\"collections\":[";
  std::string one;
  JsonWriter cw(one);
  cw.begin_object().key("name").string(c.name).key("fields").begin_array();
  for (const auto& f : c.fields) write_field(cw, f);
  cw.end_array().key("indexes").begin_array();
  for (const auto& idx : c.indexes) {
    cw.begin_array();
    for (const auto& n : idx.fields) cw.string(n);
    cw.end_array();
  }
  cw.end_array().end_object();
  text += one + "]}";
  return parse_snapshot(text)->front();
}

// The rows in which a required field counts as missing, as request validation sees it: null, or '' for text.
std::string missing_value_sql(const model::Field& f, const Dialect& d) {
  const std::string column = d.quote_ident(f.name);
  if (f.type == model::FieldType::kText) return column + " IS NULL OR " + column + " = ''";
  return column + " IS NULL";
}

// "1 record has", "3 records have": counts in plan text read as sentences.
std::string records(std::int64_t n, std::string_view one_verb, std::string_view many_verb) {
  return std::to_string(n) + (n == 1 ? " record " : " records ") + std::string(n == 1 ? one_verb : many_verb);
}

// A limit the target sets that the old field did not, or sets tighter: existing values may break it.
bool narrows(const SnapField& old, const SnapField& now) {
  if (now.min && (!old.min || *now.min > *old.min)) return true;
  if (now.max && (!old.max || *now.max < *old.max)) return true;
  if (!now.pattern.empty() && now.pattern != old.pattern) return true;
  if (!now.values.empty())
    for (const auto& v : old.values)
      if (std::find(now.values.begin(), now.values.end(), v) == now.values.end()) return true;
  return false;
}

bool widens(const std::string& from, const std::string& to) {
  if (from == "int" && to == "float") return true;
  if (to == "text" && (from == "email" || from == "url" || from == "enum")) return true;
  return false;
}

const SnapField* find(const SnapCollection& c, const std::string& name) {
  for (const auto& f : c.fields)
    if (f.name == name) return &f;
  return nullptr;
}

// SQLite cannot alter a column's type or foreign key: rebuild the table (the documented 12-step procedure; the
// runner turns foreign_keys off around the transaction and runs foreign_key_check before COMMIT).
std::vector<std::string> rebuild_table(const model::Collection& target, const SnapCollection& before,
                                       const Dialect& d) {
  const std::string tmp = "_slipway_new_" + target.name;
  model::Collection renamed = target;
  renamed.name = tmp;
  std::vector<std::string> sql;
  sql.push_back(create_table_sql(renamed, d));
  std::string cols = "\"id\", \"created\", \"updated\", \"version\"";
  std::string sel = cols;
  for (const auto& f : target.fields) {
    const SnapField* old = find(before, f.name);
    if (!old) {  // a new column: existing rows get its default, as ADD COLUMN ... DEFAULT does
      if (f.default_value && f.type != model::FieldType::kRelation) {
        cols += ", " + d.quote_ident(f.name);
        sel += ", " + sql_literal(*f.default_value, d);
      }
      continue;
    }
    cols += ", " + d.quote_ident(f.name);
    sel += old->type == model::field_type_name(f.type)
               ? ", " + d.quote_ident(f.name)
               : ", CAST(" + d.quote_ident(f.name) + " AS " + d.column_type(f.type) + ")";
  }
  sql.push_back("INSERT INTO " + d.quote_ident(tmp) + " (" + cols + ") SELECT " + sel + " FROM " +
                d.quote_ident(target.name));
  sql.push_back("DROP TABLE " + d.quote_ident(target.name));
  sql.push_back("ALTER TABLE " + d.quote_ident(tmp) + " RENAME TO " + d.quote_ident(target.name));
  for (const auto& idx : index_specs(target)) sql.push_back(create_index_sql(target.name, idx, d));
  return sql;
}

}  // namespace

bool MigrationPlan::has_blocked() const {
  for (const auto& s : steps)
    if (s.blocked) return true;
  return false;
}

bool MigrationPlan::has_destructive() const {
  for (const auto& s : steps)
    if (s.destructive) return true;
  return false;
}

std::string MigrationPlan::to_text() const {
  if (steps.empty()) return "-- the database matches the concept file: nothing to do\n";
  std::string out;
  for (const auto& s : steps) {
    out += s.blocked ? "-- [BLOCKED] " : s.destructive ? "-- [DESTRUCTIVE] " : "-- [safe] ";
    out += s.description + "\n";
    if (s.sql.empty()) out += "--   (no SQL of its own)\n";
    for (const auto& q : s.sql) out += q + ";\n";
  }
  return out;
}

std::string schema_snapshot(const model::Concept& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("format").integer(1).key("collections").begin_array();
  for (const auto& col : c.collections) {
    w.begin_object().key("name").string(col.name).key("fields").begin_array();
    for (const auto& f : col.fields) write_field(w, f);
    w.end_array().key("indexes").begin_array();
    for (const auto& idx : col.indexes) {
      w.begin_array();
      for (const auto& n : idx.fields) w.string(n);
      w.end_array();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string snapshot_checksum(const std::string& snapshot) { return sha256_hex(snapshot); }

namespace {
// The file's collections, each after the collections its relations reference (a stable topological order: the
// file's order wherever it already agrees; a cycle keeps the file's order for its members).
std::vector<const model::Collection*> creation_order(const model::Concept& target) {
  std::vector<const model::Collection*> out;
  std::set<std::string> placed;
  std::vector<const model::Collection*> left;
  for (const auto& c : target.collections) left.push_back(&c);
  while (!left.empty()) {
    auto ready = std::find_if(left.begin(), left.end(), [&](const model::Collection* c) {
      for (const auto& f : c->fields)
        if (f.type == model::FieldType::kRelation && f.to != c->name && !placed.contains(f.to) &&
            target.find_collection(f.to))
          return false;
      return true;
    });
    if (ready == left.end()) ready = left.begin();  // a cycle: its first member goes first
    placed.insert((*ready)->name);
    out.push_back(*ready);
    left.erase(ready);
  }
  return out;
}
}  // namespace

Result<MigrationPlan> plan_migration(const std::optional<std::string>& previous, const model::Concept& target,
                                     const Dialect& d) {
  MigrationPlan plan;
  plan.base = previous;
  plan.snapshot = schema_snapshot(target);
  plan.checksum = snapshot_checksum(plan.snapshot);
  std::vector<SnapCollection> before;
  if (previous) {
    auto parsed = parse_snapshot(*previous);
    if (!parsed)
      return Problem::make(ProblemCode::kInternal, "The migration history holds a snapshot that does not parse.",
                           "corrupted snapshot in _slipway_migrations");
    before = std::move(*parsed);
  }
  std::map<std::string, const SnapCollection*> old_by_name;
  for (const auto& c : before) old_by_name[c.name] = &c;
  std::set<std::string> target_names;

  // PostgreSQL checks that a REFERENCES target exists when the table or column is created: relations between
  // collections that are created in this plan and reference each other in a cycle get their foreign key in a
  // step of their own after every table exists.
  std::vector<MigrationStep> deferred_keys;
  std::set<std::string> exists_now;
  for (const auto& c : before) exists_now.insert(c.name);
  for (const model::Collection* colp : creation_order(target)) {
    const model::Collection& col = *colp;
    target_names.insert(col.name);
    auto it = old_by_name.find(col.name);
    if (it == old_by_name.end()) {
      std::vector<std::string> later;  // relation fields whose target does not exist yet
      if (d.kind() == DialectKind::kPostgres) {
        for (const auto& f : col.fields)
          if (f.type == model::FieldType::kRelation && f.to != col.name && !exists_now.contains(f.to))
            later.push_back(f.name);
      }
      MigrationStep s{"create collection " + col.name, {create_table_sql(col, d, later)}, false};
      for (const auto& idx : index_specs(col)) s.sql.push_back(create_index_sql(col.name, idx, d));
      plan.steps.push_back(std::move(s));
      exists_now.insert(col.name);
      for (const auto& name : later) {
        const model::Field& f = *col.find_field(name);
        deferred_keys.push_back({"link relation " + col.name + "." + f.name + " to " + f.to,
                                 {"ALTER TABLE " + d.quote_ident(col.name) + " ADD " + foreign_key_sql(f, d)},
                                 false});
      }
      continue;
    }
    const SnapCollection& old = *it->second;
    const SnapCollection now = snap_of(col);

    // Fields whose column definition changed need a rebuild (SQLite) or ALTER COLUMN (PostgreSQL).
    bool rebuild = false;
    bool rebuild_destructive = false;
    std::string rebuild_why;
    for (const auto& f : now.fields) {
      const SnapField* o = find(old, f.name);
      if (!o) continue;
      if (o->type != f.type) {
        rebuild = true;
        const bool widen = widens(o->type, f.type);
        rebuild_destructive |= !widen;
        rebuild_why += (rebuild_why.empty() ? "" : ", ") + f.name + " " + o->type + " → " + f.type +
                       (widen ? " (widens)" : " (narrows: values that do not convert are lost)");
      } else if (o->to != f.to || o->on_delete != f.on_delete) {
        rebuild = true;
        rebuild_destructive |= o->to != f.to;
        rebuild_why += (rebuild_why.empty() ? "" : ", ") + f.name + " relation " + o->to + "/" + o->on_delete +
                       " → " + f.to + "/" + f.on_delete;
      }
    }
    // Indexes before: derived the same way as for the target.
    std::vector<IndexSpec> old_specs;
    std::set<std::string> old_index_names;
    {
      model::Collection old_model;
      old_model.name = old.name;
      for (const auto& f : old.fields) {
        model::Field mf;
        mf.name = f.name;
        mf.unique = f.unique;
        mf.type = model::parse_field_type(f.type).value_or(model::FieldType::kText);
        old_model.fields.push_back(std::move(mf));
      }
      for (const auto& idx : old.indexes) old_model.indexes.push_back({idx, {}});
      old_specs = index_specs(old_model);
      for (const auto& spec : old_specs) old_index_names.insert(spec.name);
    }
    std::set<std::string> new_index_names;
    for (const auto& spec : index_specs(col)) new_index_names.insert(spec.name);

    // Dropped fields (their indexes first).
    for (const auto& o : old.fields) {
      if (find(now, o.name)) continue;
      MigrationStep s{"drop field " + col.name + "." + o.name + " (its data is lost)", {}, true};
      for (const auto& spec : old_specs)
        for (const auto& column : spec.columns)
          if (column == o.name && old_index_names.erase(spec.name)) s.sql.push_back(drop_index_sql(spec, d));
      s.sql.push_back("ALTER TABLE " + d.quote_ident(col.name) + " DROP COLUMN " + d.quote_ident(o.name));
      plan.steps.push_back(std::move(s));
    }
    const bool rebuilt = rebuild && d.kind() == DialectKind::kSqlite;
    if (rebuilt) {  // the rebuild also adds new fields (with their defaults) and recreates every index
      plan.steps.push_back({"rebuild collection " + col.name + ": " + rebuild_why, rebuild_table(col, old, d),
                            rebuild_destructive});
    }
    for (const auto& f : col.fields) {
      const SnapField* o = find(old, f.name);
      const SnapField* n = find(now, f.name);
      if (!o) {
        MigrationStep s{"add field " + col.name + "." + f.name + " (" + model::field_type_name(f.type) + ")", {}, false};
        if (!rebuilt) {
          std::string sql = "ALTER TABLE " + d.quote_ident(col.name) + " ADD COLUMN " + column_definition(f, d);
          if (f.default_value && f.type != model::FieldType::kRelation)
            sql += " DEFAULT " + sql_literal(*f.default_value, d);  // existing rows get it too
          s.sql.push_back(std::move(sql));
        } else {
          s.description += " (added by the rebuild above)";
        }
        if (f.default_value && f.type != model::FieldType::kRelation) {
          s.description += ": existing records get the default " + sql_literal(*f.default_value, d);
        } else if (f.required) {  // existing rows would hold null in a required field
          s.description += ", required without a default";
          s.destructive = true;
          s.check = DataCheck{DataCheck::Kind::kMissing, col.name, f.name, true};
        }
        plan.steps.push_back(std::move(s));
        continue;
      }
      if (!rebuilt && o->type != model::field_type_name(f.type)) {  // PostgreSQL: alter in place
        plan.steps.push_back({"change type of " + col.name + "." + f.name + " " + o->type + " → " +
                                  model::field_type_name(f.type),
                              {"ALTER TABLE " + d.quote_ident(col.name) + " ALTER COLUMN " + d.quote_ident(f.name) +
                               " TYPE " + d.column_type(f.type) + " USING " + d.quote_ident(f.name) + "::" +
                               d.column_type(f.type)},
                              !widens(o->type, model::field_type_name(f.type))});
      }
      if (!n || n->options == o->options) continue;
      const std::string name = col.name + "." + f.name;
      bool data_step = false;
      if (f.required && !o->required) {
        data_step = true;
        MigrationStep s{"make " + name + " required", {}, true};
        s.check = DataCheck{DataCheck::Kind::kMissing, col.name, f.name, false};
        if (f.default_value && f.type != model::FieldType::kRelation) {
          // Backfill: rows without a value get the default, so none of them fails its next update.
          s.sql.push_back("UPDATE " + d.quote_ident(col.name) + " SET " + d.quote_ident(f.name) + " = " +
                          sql_literal(*f.default_value, d) + " WHERE " + missing_value_sql(f, d));
          s.check->backfill = true;
          s.description += "; records without a value get the default " + sql_literal(*f.default_value, d);
          s.destructive = false;
        }
        plan.steps.push_back(std::move(s));
      }
      if (narrows(*o, *n)) {
        data_step = true;
        MigrationStep s{"narrow " + name + " (min/max/pattern/values)", {}, true};
        s.check = DataCheck{DataCheck::Kind::kViolations, col.name, f.name, false};
        plan.steps.push_back(std::move(s));
      }
      if (!data_step) plan.steps.push_back({"change options of " + name + " (validation only)", {}, false});
    }
    if (!rebuilt) {  // a rebuild dropped the old indexes with the old table
      for (const auto& name : old_index_names)
        if (!new_index_names.contains(name))
          plan.steps.push_back({"drop index " + name, {"DROP INDEX IF EXISTS " + d.quote_ident(name)}, false});
    }
    for (const auto& spec : index_specs(col)) {
      if (old_index_names.contains(spec.name)) continue;
      if (rebuilt && !spec.unique) continue;  // recreated by the rebuild; only a new unique one needs a data check
      MigrationStep s{"add index " + spec.name, {}, false};
      if (rebuilt) s.description += " (created by the rebuild above)";
      else s.sql.push_back(create_index_sql(col.name, spec, d));
      if (spec.unique) {
        // A new column is all NULL (no conflict) or all its default (a conflict as soon as two rows exist).
        const bool is_new = !find(old, spec.columns.front());
        const model::Field* f = col.find_field(spec.columns.front());
        if (!is_new || (f && f->default_value))
          s.check = DataCheck{DataCheck::Kind::kDuplicates, col.name, spec.columns.front(), is_new};
      }
      plan.steps.push_back(std::move(s));
    }
  }
  for (const auto& old : before) {
    if (target_names.contains(old.name)) continue;
    plan.steps.push_back({"drop collection " + old.name + " (all its records are lost)",
                          {"DROP TABLE " + d.quote_ident(old.name)}, true});
  }
  for (auto& step : deferred_keys) plan.steps.push_back(std::move(step));
  return plan;
}

void settle_step(MigrationStep& step, std::int64_t affected) {
  step.affected = affected;
  if (!step.check) return;
  switch (step.check->kind) {
    case DataCheck::Kind::kMissing:
      if (step.check->backfill) {  // always safe
        step.description += " (" + std::to_string(affected) + (affected == 1 ? " record)" : " records)");
        step.destructive = false;
      } else if (affected > 0) {
        step.description += ": " + records(affected, "has", "have") +
                            " no value and would fail every later update until given one";
        step.destructive = true;
      } else {
        step.description += ": no record lacks a value";
        step.destructive = false;
      }
      break;
    case DataCheck::Kind::kDuplicates:
      if (affected > 0) {
        step.description += ": " + std::to_string(affected) + (affected == 1 ? " value is" : " values are") +
                            " shared by several records; make them unique before applying";
        step.blocked = true;
      }
      break;
    case DataCheck::Kind::kViolations:
      if (affected > 0) {
        step.description += ": " + records(affected, "holds", "hold") +
                            " values the new limits refuse (they keep them until edited)";
        step.destructive = true;
      } else {
        step.description += ": every record already complies";
        step.destructive = false;
      }
      break;
  }
}

std::string data_check_count_sql(const DataCheck& check, const model::Field& target, const Dialect& d) {
  const std::string table = d.quote_ident(check.collection);
  const std::string column = d.quote_ident(check.field);
  switch (check.kind) {
    case DataCheck::Kind::kMissing:
      if (check.new_field) return "SELECT COUNT(*) FROM " + table;
      return "SELECT COUNT(*) FROM " + table + " WHERE " + missing_value_sql(target, d);
    case DataCheck::Kind::kDuplicates:
      if (check.new_field) return "SELECT CASE WHEN COUNT(*) > 1 THEN 1 ELSE 0 END FROM " + table;
      return "SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " WHERE " + column + " IS NOT NULL GROUP BY " + column +
             " HAVING COUNT(*) > 1) AS dup";
    case DataCheck::Kind::kViolations:
      break;
  }
  return {};
}

std::string violation_scan_sql(const DataCheck& check, const Dialect& d) {
  const std::string column = d.quote_ident(check.field);
  return "SELECT " + column + " FROM " + d.quote_ident(check.collection) + " WHERE " + column + " IS NOT NULL";
}

}  // namespace slipway::sql
