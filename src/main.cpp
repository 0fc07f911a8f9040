// slipway: entry point. Start-up exceptions are caught once here: one line on stderr and an exit code.
#include <cstdio>

int main() {
  std::puts("slipway " SLIPWAY_VERSION);
  return 0;
}
