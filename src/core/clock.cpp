#include "core/clock.h"

#include <cstdio>

namespace slipway {
namespace {

// Days from civil (Howard Hinnant's algorithm): proleptic Gregorian date → days since 1970-01-01.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

unsigned days_in_month(int y, int m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::string format_rfc3339_ms(std::int64_t epoch_ms) {
  std::int64_t days = epoch_ms >= 0 ? epoch_ms / 86400000 : -((-epoch_ms + 86399999) / 86400000);
  std::int64_t rem = epoch_ms - days * 86400000;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const int h = static_cast<int>(rem / 3600000);
  const int mi = static_cast<int>(rem / 60000 % 60);
  const int s = static_cast<int>(rem / 1000 % 60);
  const int ms = static_cast<int>(rem % 1000);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(y), m, d, h, mi,
                s, ms);
  return buf;
}

bool parse_rfc3339(std::string_view s, std::int64_t& epoch_ms) {
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, mo)) return false;
  std::size_t p = 10;
  std::int64_t offset_min = 0;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return false;
    if (!digits(s, p + 1, 2, h) || s.size() < p + 9 || s[p + 3] != ':' || !digits(s, p + 4, 2, mi) ||
        s[p + 6] != ':' || !digits(s, p + 7, 2, sec))
      return false;
    if (h > 23 || mi > 59 || sec > 59) return false;
    p += 9;
    if (p < s.size() && s[p] == '.') {
      ++p;
      int n = 0;
      ms = 0;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        if (n < 3) ms = ms * 10 + (s[p] - '0');
        ++n;
        ++p;
      }
      if (n == 0 || n > 9) return false;
      for (int i = n; i < 3; ++i) ms *= 10;
    }
    if (p >= s.size()) return false;  // a time needs a zone
    if (s[p] == 'Z' || s[p] == 'z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh, om;
      if (!digits(s, p + 1, 2, oh) || s.size() < p + 6 || s[p + 3] != ':' || !digits(s, p + 4, 2, om)) return false;
      if (oh > 23 || om > 59) return false;
      offset_min = (oh * 60 + om) * (s[p] == '+' ? 1 : -1);
      p += 6;
    } else {
      return false;
    }
    if (p != s.size()) return false;
  }
  const std::int64_t t = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400000 +
                        (static_cast<std::int64_t>(h) * 3600 + mi * 60 + sec - offset_min * 60) * 1000 + ms;
  if (t < kMinEpochMs || t > kMaxEpochMs) return false;  // the offset moved it out of years 0001-9999
  epoch_ms = t;
  return true;
}

}  // namespace slipway
