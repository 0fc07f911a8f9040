// A small concept for expression tests, shaped like SPEC §2: users, posts (relation to users), comments
// (relation to posts), and nodes (a self-relation whose view rule reaches back to its own collection). It has an
// `auth:` section declaring the roles admin, editor and member (users is its built-in collection);
// blog_concept_without_auth() is the same without it, so no role is declared.
// Built once; rules are bound like the concept loader binds them (Purpose::kRule).
#pragma once

#include <stdexcept>
#include <string>

#include "core/concept/model.h"
#include "core/expr/bound_expr.h"
#include "core/expr/expr.h"

namespace slipway::testing {

inline model::Field make_field(std::string name, model::FieldType type) {
  model::Field f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

inline model::Field make_relation(std::string name, std::string to) {
  model::Field f = make_field(std::move(name), model::FieldType::kRelation);
  f.to = std::move(to);
  return f;
}

inline model::Rule bind_rule(const model::Concept& c, const model::Collection& col, const std::string& text) {
  expr::BindOptions o;
  o.purpose = expr::Purpose::kRule;
  auto b = expr::parse_and_bind(text, col, c, o);
  if (!b) throw std::runtime_error("fixture rule '" + text + "': " + b.error().detail);
  model::Rule r;
  r.source = text;
  r.bound = *b;
  return r;
}

inline model::Concept make_blog_concept(bool with_auth) {
  using T = model::FieldType;
  model::Concept c;
  c.app = "blog";
  if (with_auth) {
    model::AuthSettings auth;
    auth.roles = {"admin", "editor", "member"};  // as the loader gives `roles: [editor, member]`: admin first
    c.auth = std::move(auth);
  }

  model::Collection users;
  users.name = "users";
  users.auth = with_auth;
  users.fields.push_back(make_field("name", T::kText));
  users.fields.push_back(make_field("email", T::kEmail));
  model::Field role = make_field("role", T::kEnum);
  role.values = {"admin", "editor", "member"};
  users.fields.push_back(role);
  users.fields.push_back(make_field("verified", T::kBool));
  model::Field hash = make_field("password_hash", T::kText);
  hash.hidden = true;
  users.fields.push_back(hash);

  model::Collection posts;
  posts.name = "posts";
  posts.fields.push_back(make_field("title", T::kText));
  posts.fields.push_back(make_field("body", T::kText));
  posts.fields.push_back(make_field("views", T::kInt));
  posts.fields.push_back(make_field("score", T::kFloat));
  posts.fields.push_back(make_field("published", T::kBool));
  posts.fields.push_back(make_field("draft", T::kBool));
  posts.fields.push_back(make_relation("author", "users"));
  posts.fields.push_back(make_field("tags", T::kJson));
  model::Field secret = make_field("secret", T::kText);
  secret.hidden = true;
  posts.fields.push_back(secret);
  model::Field status = make_field("status", T::kEnum);
  status.values = {"draft", "live", "archived"};
  posts.fields.push_back(status);
  posts.fields.push_back(make_field("publish_at", T::kDatetime));
  posts.fields.push_back(make_field("url", T::kUrl));

  model::Collection comments;
  comments.name = "comments";
  comments.fields.push_back(make_relation("post", "posts"));
  comments.fields.push_back(make_field("text", T::kText));

  model::Collection nodes;
  nodes.name = "nodes";
  nodes.fields.push_back(make_relation("parent", "nodes"));
  nodes.fields.push_back(make_field("public", T::kBool));

  model::Collection secrets;  // no view rule: only the admin may see it
  secrets.name = "secrets";
  secrets.fields.push_back(make_field("code", T::kText));
  posts.fields.push_back(make_relation("vault", "secrets"));

  c.collections = {users, posts, comments, nodes, secrets};
  // Bind rules only now: the collections have their final addresses.
  c.collections[0].rules.view = bind_rule(c, c.collections[0], "id = @auth.id || verified");
  c.collections[1].rules.view = bind_rule(c, c.collections[1], "published = true || author = @auth.id");
  c.collections[1].rules.list = c.collections[1].rules.view;
  c.collections[2].rules.view = bind_rule(c, c.collections[2], "post.published = true");
  c.collections[3].rules.view = bind_rule(c, c.collections[3], "public || parent.public = true");
  return c;  // moving the vector keeps its elements (and the rules' pointers into them) where they are
}

inline const model::Concept& blog_concept() {
  static const model::Concept concept_file = make_blog_concept(true);
  return concept_file;
}

inline const model::Concept& blog_concept_without_auth() {
  static const model::Concept concept_file = make_blog_concept(false);
  return concept_file;
}

inline const model::Collection& collection(const std::string& name) {
  for (const model::Collection& c : blog_concept().collections) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no collection " + name);
}

inline const model::Collection& posts() { return collection("posts"); }
inline const model::Collection& users() { return collection("users"); }

}  // namespace slipway::testing
