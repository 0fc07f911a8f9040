// The limit server's three prepared statements, their parameters, and connections that have them prepared.
// Used from any thread: a connection (PGconn) by one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace pg_limit {

constexpr std::size_t kListLimit = 20;

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "pg_limit_server: %s\n", what.c_str());
  std::exit(1);
}

enum class Stmt { kGet, kList, kCreate };

// The columns of every answer, in slipway's order; row_json() reads them by position.
#define PG_LIMIT_POST_COLUMNS "id, created, updated, version, title, body, views, published, author, tags, status"
enum Column { kId, kCreated, kUpdated, kVersion, kTitle, kBody, kViews, kPublished, kAuthor, kTags, kStatus };

struct StatementText {
  const char* name;
  const char* sql;
};

// LIST orders as slipway's select builder does (DESC NULLS LAST, SQLite's null order; id plain): slipway's PostgreSQL
// indexes list their columns NULLS FIRST so a backward scan serves exactly this order (sql::Dialect::index_column).
constexpr std::array<StatementText, 3> kStatements{{
    {"get", "SELECT " PG_LIMIT_POST_COLUMNS " FROM posts WHERE id = $1 AND published = true"},
    {"list", "SELECT " PG_LIMIT_POST_COLUMNS
             " FROM posts WHERE published = true ORDER BY created DESC NULLS LAST, id DESC LIMIT 21"},  // kListLimit + 1
    {"create",
     "INSERT INTO posts (id, created, updated, version, title, body, views, published, author, tags, status) "
     "VALUES ($1, $2, $2, 1, $3, $4, $5, $6, NULL, NULL, 'draft') RETURNING " PG_LIMIT_POST_COLUMNS},
}};

inline const StatementText& statement(Stmt s) { return kStatements[static_cast<std::size_t>(s)]; }

// The parameters of one query, pointing into the request that owns them.
struct Params {
  int count = 0;
  std::array<const char*, 6> values{};
  std::array<int, 6> lengths{};
  std::array<int, 6> formats{};  // 0 text, 1 binary

  void add(const char* v, int length, int format) {
    values[count] = v;
    lengths[count] = length;
    formats[count] = format;
    ++count;
  }
};

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// A blocking connection to `url`; throws std::runtime_error with libpq's message.
inline PgConnPtr open_connection(const std::string& url) {
  PgConnPtr c(PQconnectdb(url.c_str()));
  if (PQstatus(c.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect: " + std::string(PQerrorMessage(c.get())));
  return c;
}

// A blocking connection with the statements prepared and durable commits.
inline PgConnPtr connect(const std::string& url) {
  PgConnPtr c = open_connection(url);
  // Whatever the database's default: a create is answered only once its commit is on disk.
  PgResultPtr set(PQexec(c.get(), "SET synchronous_commit = on"));
  if (PQresultStatus(set.get()) != PGRES_COMMAND_OK)
    throw std::runtime_error("SET synchronous_commit: " + std::string(PQerrorMessage(c.get())));
  for (const auto& s : kStatements) {
    PgResultPtr r(PQprepare(c.get(), s.name, s.sql, 0, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      throw std::runtime_error(std::string("prepare ") + s.name + ": " + PQerrorMessage(c.get()));
  }
  return c;
}

}  // namespace pg_limit
