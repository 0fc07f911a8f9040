# Writes a C++ source file that holds the bytes of a data file, so the data ships inside the binary: no download at
# build time, no file to find at run time. Run by add_custom_command at build time (so an edited input rebuilds):
#   cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DNAMESPACE=<a::b> -DSYMBOL=<kName> -P embed_file.cmake
# The output defines, in NAMESPACE:
#   extern const unsigned char <SYMBOL>[];      the bytes, followed by one NUL not counted in the size
#   extern const std::size_t <SYMBOL>Size;      the number of bytes in INPUT
foreach(v INPUT OUTPUT NAMESPACE SYMBOL)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "embed_file.cmake: -D${v}=... is required")
  endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
# Hex digits as array elements, 24 per line: a byte array rather than a string literal, so no escaping is needed and
# no compiler limit on literal length applies (-Wpedantic warns past 65,536 characters).
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPEAT "0x..," 24 line_pattern)  # CMake's regular expressions have no {n}
string(REGEX REPLACE "(${line_pattern})" "\\1\n    " bytes "${bytes}")
file(RELATIVE_PATH input_name "${CMAKE_CURRENT_LIST_DIR}/.." "${INPUT}")

file(WRITE "${OUTPUT}" "// Generated from ${input_name} by cmake/embed_file.cmake. Do not edit.
#include <cstddef>

namespace ${NAMESPACE} {

extern const unsigned char ${SYMBOL}[];
extern const std::size_t ${SYMBOL}Size;

const unsigned char ${SYMBOL}[] = {
    ${bytes}0x00};
const std::size_t ${SYMBOL}Size = ${size};

}  // namespace ${NAMESPACE}
")
