#include "storage/postgres/pg_connection.h"

#include <atomic>
#include <charconv>
#include <cstdlib>

#include "core/json_writer.h"

namespace slipway::storage::postgres {
namespace {

std::atomic<std::uint64_t> g_evictions{0};

// Type OIDs (server/catalog/pg_type_d.h), stable across PostgreSQL versions.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700, kFloat8 = 701,
              kNumeric = 1700, kTimestampTz = 1184;

void quiet_notices(void*, const char*) {}

// libpq's messages span lines ("…failed: Connection refused\n\tIs the server running…"): a cause is one line.
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n') out += "; ";
    else if (c != '\t') out.push_back(c);
  }
  return out;
}  // "relation already exists, skipping" and the like: not for stderr

}  // namespace

std::uint64_t pg_statement_evictions() { return g_evictions.load(std::memory_order_relaxed); }
void count_statement_eviction() { g_evictions.fetch_add(1, std::memory_order_relaxed); }

Fault fault_of_sqlstate(std::string_view s) {
  if (s == "23505") return Fault::kUnique;
  if (s == "23503") return Fault::kForeignKey;
  if (s == "40001" || s == "40P01") return Fault::kSerialization;
  if (s == "57014") return Fault::kTimeout;  // query_canceled: statement_timeout
  if (s == "55P03") return Fault::kBusy;     // lock_not_available
  if (s == "53100" || s == "53200") return Fault::kFull;
  if (s == "25006") return Fault::kConnectionLost;  // read-only transaction: the URL now reaches a standby
  // connection exceptions, and the server shutting down or starting up
  if (s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03") return Fault::kConnectionLost;
  return Fault::kNone;
}

namespace {
// A PostgreSQL text[] literal of `items`, each quoted and escaped: {"a","b \\"c\\""}.
std::string text_array(const std::vector<std::string>& items) {
  std::string array = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) array.push_back(',');
    array.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') array.push_back('\\');
      array.push_back(c);
    }
    array.push_back('"');
  }
  array.push_back('}');
  return array;
}
}  // namespace

std::string to_dollar_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      out.push_back(c);
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    if (c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('$');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

Problem PgConnection::problem(const PGresult* res, std::string_view what) const {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  std::string cause = one_line(std::string(what) + ": " + (message && *message ? message : PQerrorMessage(conn_)));
  Fault fault = state ? fault_of_sqlstate(state) : Fault::kNone;
  if (PQstatus(conn_) != CONNECTION_OK) fault = Fault::kConnectionLost;
  Problem p;
  switch (fault) {
    case Fault::kUnique: {
      p = Problem::make(ProblemCode::kConflict, "A record with this value already exists.", std::move(cause));
      // The unique index is "<collection>__unique__<field>" (sql/schema_sql.h): the field, without reading text.
      const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
      const std::string_view name = constraint ? constraint : "";
      constexpr std::string_view kMark = "__unique__";
      if (const std::size_t at = name.find(kMark); at != std::string_view::npos) {
        const std::string field(name.substr(at + kMark.size()));
        p.detail = "Another record already has this value of '" + field + "'.";
        p.errors.push_back({field, "unique", "is already taken by another record"});
      }
      break;
    }
    case Fault::kForeignKey:
      p = Problem::make(ProblemCode::kConflict, "The record is referenced by other records.", std::move(cause));
      break;
    case Fault::kSerialization:
    case Fault::kBusy:
      p = Problem::make(ProblemCode::kUnavailable, "The database is busy; retry later.", std::move(cause));
      break;
    case Fault::kTimeout:
      p = Problem::make(ProblemCode::kUnavailable, "The database took too long to answer; retry later.",
                        std::move(cause));
      break;
    case Fault::kFull:
      p = Problem::make(ProblemCode::kUnavailable, "The database cannot write right now.", std::move(cause));
      break;
    case Fault::kConnectionLost:
      p = Problem::make(ProblemCode::kUnavailable, "The database is unavailable; retry later.", std::move(cause));
      break;
    case Fault::kNone:
      p = Problem::make(ProblemCode::kInternal, "An unexpected error occurred.", std::move(cause));
      break;
  }
  p.fault = fault;
  return p;
}

void encode_param(const Value& v, std::string& out, bool& null) {
  null = false;
  out.clear();
  switch (v.index()) {
    case 0: null = true; break;
    case 1: out = std::get<bool>(v) ? "true" : "false"; break;
    case 2: out = std::to_string(std::get<std::int64_t>(v)); break;
    case 3: append_json_double(out, std::get<double>(v)); break;
    case 4: out = std::get<std::string>(v); break;
    case 5: out = std::get<JsonText>(v).text; break;
  }
}

void encode_params(const std::vector<Value>& params, std::vector<std::string>& text, std::vector<const char*>& values) {
  text.resize(params.size());
  values.resize(params.size());
  for (std::size_t k = 0; k < params.size(); ++k) {
    bool null = false;
    encode_param(params[k], text[k], null);
    values[k] = null ? nullptr : text[k].c_str();
  }
}

void PgStatement::bind(int index, const Value& v) {
  const std::size_t i = static_cast<std::size_t>(index - 1);
  if (params_.size() <= i) {
    params_.resize(i + 1);
    null_.resize(i + 1, true);
  }
  bool null = false;
  encode_param(v, params_[i], null);
  null_[i] = null;
}

Result<bool> PgStatement::step() {
  if (!executed_) {
    executed_ = true;
    std::vector<const char*> values(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) values[i] = null_[i] ? nullptr : params_[i].c_str();
    const int n = static_cast<int>(values.size());
    reset(name_.empty() ? PQexecParams(conn_.raw(), sql_.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)
                        : PQexecPrepared(conn_.raw(), name_.c_str(), n, values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = res_ ? PQresultStatus(res_) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK) {
      const char* affected = PQcmdTuples(res_);
      conn_.set_changes(affected && *affected ? std::atoll(affected) : 0);
    } else if (status != PGRES_TUPLES_OK) {
      return conn_.problem(res_, "step");
    }
  }
  return PgRows::step();
}

void PgStatement::release() {
  clear();
  executed_ = false;
  params_.clear();
  null_.clear();
}

void PgRows::reset(PGresult* res) {
  clear();
  res_ = res;
  rows_ = res && PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
}

void PgRows::clear() {
  if (res_) PQclear(res_);
  res_ = nullptr;
  rows_ = 0;
  row_ = -1;
}

Result<bool> PgRows::step() {
  if (row_ + 1 >= rows_) return false;
  ++row_;
  return true;
}

std::int64_t PgRows::column_int(int i) const {
  const char* v = PQgetvalue(res_, row_, i);
  if (PQftype(res_, i) == kBool) return v[0] == 't' ? 1 : 0;
  std::int64_t n = 0;
  std::from_chars(v, v + PQgetlength(res_, row_, i), n);
  return n;
}

double PgRows::column_double(int i) const {
  if (PQftype(res_, i) == kBool) return column_int(i);
  return std::strtod(PQgetvalue(res_, row_, i), nullptr);
}

std::string_view PgRows::column_text(int i) const {
  const char* v = PQgetvalue(res_, row_, i);
  const std::string_view text(v, static_cast<std::size_t>(PQgetlength(res_, row_, i)));
  if (PQftype(res_, i) != kTimestampTz || text.size() < 19) return text;
  // "2026-11-30 01:37:00.12+00" (ISO DateStyle, UTC) → "2026-11-30T01:37:00.120Z", kept per column so two
  // columns read one after the other stay valid together.
  if (text_.size() <= static_cast<std::size_t>(i)) text_.resize(static_cast<std::size_t>(i) + 1);
  std::string& out = text_[static_cast<std::size_t>(i)];
  out.assign(text.substr(0, 10));
  out.push_back('T');
  out.append(text.substr(11, 8));
  out.push_back('.');
  std::size_t p = 19;
  int digits = 0;
  if (p < text.size() && text[p] == '.') {
    for (++p; p < text.size() && text[p] >= '0' && text[p] <= '9'; ++p)
      if (digits < 3) out.push_back(text[p]), ++digits;
  }
  for (; digits < 3; ++digits) out.push_back('0');
  out.push_back('Z');
  return out;
}

ColumnKind PgRows::column_kind(int i) const {
  if (PQgetisnull(res_, row_, i)) return ColumnKind::kNull;
  switch (PQftype(res_, i)) {
    case kBool:
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: return ColumnKind::kInt;
    case kFloat4:
    case kFloat8:
    case kNumeric: return ColumnKind::kFloat;
    default: return ColumnKind::kText;
  }
}

Result<std::unique_ptr<PgConnection>> PgConnection::connect(const PgConnectOptions& o) {
  const std::string timeout = std::to_string(o.connect_timeout_s);
  std::string options = "-c TimeZone=UTC -c DateStyle=ISO,YMD";
  if (o.statement_timeout_ms > 0) options += " -c statement_timeout=" + std::to_string(o.statement_timeout_ms);
  // The URL is expanded first; the keywords after it override what it says about them.
  const char* keys[] = {"dbname", "connect_timeout", "options", "application_name", "client_encoding",
                        "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", nullptr};
  const char* values[] = {o.url.c_str(), timeout.c_str(), options.c_str(), o.application_name.c_str(), "UTF8",
                          "1", "10", "5", "3", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    std::string why = one_line(conn ? PQerrorMessage(conn) : "out of memory");
    // libpq quotes a URL it cannot parse, password included: keep only messages about a server it reached.
    const PGPing reached = conn ? PQping(o.url.c_str()) : PQPING_NO_ATTEMPT;
    if (reached == PQPING_NO_ATTEMPT) why = "the database URL is not valid (libpq could not parse it)";
    if (conn) PQfinish(conn);
    Problem p = Problem::make(ProblemCode::kUnavailable, "The database is unavailable; retry later.",
                              "connect: " + why);
    p.fault = Fault::kConnectionLost;
    return p;
  }
  PQsetNoticeProcessor(conn, quiet_notices, nullptr);
  // Error messages without DETAIL lines ("Failing row contains (…)", "Key (email)=(…)"): row values never reach
  // the log through a cause.
  PQsetErrorVerbosity(conn, PQERRORS_TERSE);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, o.max_statements));
}

PgConnection::~PgConnection() {
  index_.clear();
  lru_.clear();
  PQfinish(conn_);
}

Status PgConnection::exec(std::string_view sql) {
  const std::string text = to_dollar_placeholders(sql);
  PGresult* res = PQexec(conn_, text.c_str());
  const ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Problem p = problem(res, "exec");
    PQclear(res);
    return p;
  }
  PQclear(res);
  return {};
}

Result<StatementLease> PgConnection::prepare(const std::string& sql) {
  if (auto it = index_.find(std::string_view(sql)); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return StatementLease(lru_.front().statement.get());
  }
  std::string name = "s" + std::to_string(++next_name_);
  const std::string text = to_dollar_placeholders(sql);
  PGresult* res = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
  if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
    Problem p = problem(res, "prepare");
    PQclear(res);
    return p;
  }
  PQclear(res);
  lru_.push_front(Cached{sql, std::make_unique<PgStatement>(*this, std::move(name), std::string())});
  index_.emplace(std::string_view(lru_.front().sql), lru_.begin());
  StatementLease lease(lru_.front().statement.get());  // leased before evicting: never evicts itself
  evict_to_fit();
  return lease;
}

void PgConnection::evict_to_fit() {
  auto it = lru_.end();
  while (lru_.size() > max_statements_ && it != lru_.begin()) {
    --it;
    if (it->statement->leased()) continue;
    const std::string deallocate = "DEALLOCATE " + it->statement->name();
    PQclear(PQexec(conn_, deallocate.c_str()));  // a failure leaves a prepared statement on a connection we drop
    index_.erase(std::string_view(it->sql));
    it = lru_.erase(it);
    g_evictions.fetch_add(1, std::memory_order_relaxed);
  }
}

Result<std::unique_ptr<storage::Statement>> PgConnection::prepare_uncached(std::string_view sql) {
  return std::unique_ptr<storage::Statement>(
      std::make_unique<PgStatement>(*this, std::string(), to_dollar_placeholders(sql)));
}

Result<bool> PgConnection::has_table(std::string_view name) {
  auto lease = prepare("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(name)));
  return (*lease)->step();
}

Status PgConnection::lock_across_processes(LockKey key) {
  auto lease = prepare("SELECT pg_advisory_xact_lock(CAST(?1 AS bigint))");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(static_cast<std::int64_t>(key)));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  return {};
}

Status PgConnection::announce(const Change& change) {
  if (buffering_) {
    pending_.push_back(encode_change(change, origin_));
    return {};
  }
  auto lease = prepare("SELECT pg_notify(?1, ?2)");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(kChangesChannel)));
  (*lease)->bind(2, Value(encode_change(change, origin_)));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  return {};
}

void PgConnection::buffer_announcements(bool on) {
  buffering_ = on;
  pending_.clear();
}

Status PgConnection::flush_announcements() {
  if (pending_.empty()) return {};
  std::string array = text_array(pending_);  // one statement for the batch
  pending_.clear();
  auto lease = prepare("SELECT count(pg_notify(?1, x)) FROM unnest(CAST(?2 AS text[])) AS x");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(kChangesChannel)));
  (*lease)->bind(2, Value(std::move(array)));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  return {};
}

}  // namespace slipway::storage::postgres
