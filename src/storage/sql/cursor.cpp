#include "storage/sql/cursor.h"

#include <sodium.h>

#include <boost/json.hpp>

#include "core/fnv.h"
#include "core/json_writer.h"

namespace slipway::sql {
namespace {

constexpr std::size_t kMaxCursor = 4096;

Problem invalid_cursor() {
  Problem p = Problem::make(ProblemCode::kBadRequest, "The cursor is invalid; request the first page again.");
  p.parameter = "cursor";
  return p;
}

}  // namespace

static_assert(std::tuple_size_v<CursorKey> == crypto_secretbox_KEYBYTES);

std::uint32_t sort_signature(std::string_view s) { return fnv1a(s); }

CursorKey new_cursor_key() {
  CursorKey k;
  crypto_secretbox_keygen(k.data());
  return k;
}

std::string encode_cursor(const CursorKey& key, std::uint32_t signature, const std::vector<Value>& keys,
                          std::string_view id) {
  std::string json;
  JsonWriter w(json);
  w.begin_array().integer(signature);
  for (const auto& k : keys) {
    if (std::holds_alternative<JsonText>(k)) w.null();  // json fields are not sortable; never happens
    else w.value(k);
  }
  w.string(id).end_array();
  std::string sealed(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + json.size(), '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(bytes, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(bytes + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(json.data()),
                        json.size(), bytes, key.data());
  std::string out(sodium_base64_encoded_len(sealed.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, sealed.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<DecodedCursor> decode_cursor(const CursorKey& key, std::string_view text, std::uint32_t signature,
                                    std::size_t key_count) {
  if (text.empty() || text.size() > kMaxCursor) return invalid_cursor();
  std::string sealed(text.size(), '\0');
  std::size_t sealed_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(sealed.data()), sealed.size(), text.data(), text.size(),
                        nullptr, &sealed_len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return invalid_cursor();
  constexpr std::size_t kOverhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed_len <= kOverhead) return invalid_cursor();
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string bin(sealed_len - kOverhead, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(bin.data()), bytes + crypto_secretbox_NONCEBYTES,
                                 sealed_len - crypto_secretbox_NONCEBYTES, bytes, key.data()) != 0)
    return invalid_cursor();  // forged, altered, or sealed with another database's key
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(bin, ec);
  if (ec || !v.is_array()) return invalid_cursor();
  const auto& a = v.as_array();
  if (a.size() != key_count + 2 || !a[0].is_int64() || a[0].as_int64() != static_cast<std::int64_t>(signature) ||
      !a.back().is_string())
    return invalid_cursor();
  DecodedCursor out;
  for (std::size_t i = 1; i <= key_count; ++i) {
    const auto& e = a[i];
    if (e.is_null()) out.keys.emplace_back(Null{});
    else if (e.is_bool()) out.keys.emplace_back(e.as_bool());
    else if (e.is_int64()) out.keys.emplace_back(e.as_int64());
    else if (e.is_uint64()) return invalid_cursor();
    else if (e.is_double()) out.keys.emplace_back(e.as_double());
    else if (e.is_string()) out.keys.emplace_back(std::string(e.as_string()));
    else return invalid_cursor();
  }
  out.id = std::string(a.back().as_string());
  if (out.id.size() > 64) return invalid_cursor();
  return out;
}

}  // namespace slipway::sql
