// Name resolution shared by the binder and by parse_sort/parse_fields: columns of a collection (system fields
// first), their type category, and "did you mean" suggestions. Only plain data members of the model are read,
// so core/expr does not depend on the concept library's object code (which itself depends on core/expr).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/concept/model.h"

namespace slipway::expr::names {

enum class Category : std::uint8_t { kString, kNumber, kBool, kDatetime, kJson };

struct Column {
  std::string name;
  const model::Field* field = nullptr;  // nullptr for system fields
  Category category = Category::kString;
  const char* type = "text";            // the type as written in the file ("int", "relation", ...); "id" for id
};

const char* type_name(model::FieldType t);
Category category_of(model::FieldType t);
bool is_text_like(model::FieldType t);  // text, email, url, enum: what `~` accepts

const model::Collection* find_collection(const model::Concept& c, std::string_view name);
const model::Field* find_field(const model::Collection& c, std::string_view name);

// A system field or a field of `c`; hidden fields only when `allow_hidden`. nullopt when absent (or hidden).
std::optional<Column> lookup(const model::Collection& c, std::string_view name, bool allow_hidden);

// True when the collection's view rule is literally `true`: every caller may view every record, so the id in a
// relation pointing at it reveals nothing. Otherwise a client that is not the admin may not read such ids
// (storage masks them) nor filter or sort on them directly (the binder and parse_sort refuse it).
bool visible_to_everyone(const model::Collection& c);

// "unknown field 'titel' (did you mean 'title'?)"; the suggestion never names a hidden field unless allowed.
// With `in_collection`: "unknown field 'nme' in 'users' (did you mean 'name'?)" (for relation paths).
std::string unknown_field(const model::Collection& c, std::string_view name, bool allow_hidden,
                          bool in_collection = false);

}  // namespace slipway::expr::names
