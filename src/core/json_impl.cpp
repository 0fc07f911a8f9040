// The one translation unit that compiles Boost.JSON's implementation for the whole binary. Every other file
// includes <boost/json.hpp> (headers only). Boost.JSON is a plain parser/serializer: no Asio/Beast.
#include <boost/json/src.hpp>  // IWYU pragma: keep
