// Logger: JSON lines (one object per line) written OFF the request path.
// Producers format a line on their own thread (thread-local scratch, no lock), then append it to a shared pending
// buffer under a short mutex; one background thread swaps that buffer out and writes it in one batch. A blocked
// sink (a full stdout pipe) never blocks a request: past `max_pending` bytes, lines are dropped and counted, and a
// "log lines dropped" line is written once the sink catches up.
// Never pass header values, tokens or bodies to it: it writes what it is given.
// Thread safety: every method may be called from any thread; the destructor drains and joins the writer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace slipway {
class Clock;
}

namespace slipway::obs {

enum class Level : std::uint8_t { kDebug, kInfo, kWarn, kError };

// "debug" | "info" | "warn" | "error"; nullopt for anything else (an unknown value is an error, not a default).
std::optional<Level> parse_level(std::string_view text);
std::string_view level_name(Level level);

// One access-log line. The string_views only need to live for the call (the line is formatted inside access()).
struct AccessRecord {
  std::int64_t time_ms = 0;      // epoch ms when the request started
  std::string_view method;
  std::string_view route;        // the route template, never the raw path (no ids or query strings in logs)
  int status = 0;
  double duration_ms = 0;
  std::uint64_t bytes = 0;       // response body bytes
  std::string_view request_id;
  std::string_view trace_id;
  std::string_view user_id;      // omitted when empty
  std::string_view remote;       // omitted when empty
};

using LogField = std::pair<std::string_view, std::string_view>;

struct LoggerOptions {
  int fd = 1;                                         // where lines go when no sink is set (stdout)
  std::function<void(std::string_view)> sink;         // tests: receives batches of whole lines (background thread)
  const Clock* clock = nullptr;                       // time of log() lines; nullptr: the system clock
  std::size_t max_pending = 8u << 20;                 // bytes buffered before lines are dropped
};

class Logger {
 public:
  Logger();
  explicit Logger(LoggerOptions options);
  ~Logger();  // writes everything pending, then joins the writer thread
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_level(Level level) { level_.store(static_cast<std::uint8_t>(level), std::memory_order_relaxed); }
  Level level() const { return static_cast<Level>(level_.load(std::memory_order_relaxed)); }
  bool enabled(Level level) const { return static_cast<std::uint8_t>(level) >= level_.load(std::memory_order_relaxed); }

  // {"time":..,"level":"info","msg":"request","request_id":..,"trace_id":..,"method":..,"route":..,"status":..,
  //  "duration_ms":1.234,"bytes":..,"user_id":..,"remote":..}; written when the level is info or lower.
  void access(const AccessRecord& record);
  // {"time":..,"level":..,"msg":..,<fields>...}. Field keys are escaped like values.
  void log(Level level, std::string_view msg, std::initializer_list<LogField> fields = {});
  // Blocks until every line appended before the call has been handed to the sink/fd.
  void flush();
  std::uint64_t dropped() const { return dropped_total_.load(std::memory_order_relaxed); }

 private:
  void append_line(const std::string& line);
  void writer_loop();
  void write_out(std::string_view data);

  LoggerOptions options_;
  std::atomic<std::uint8_t> level_{static_cast<std::uint8_t>(Level::kInfo)};
  std::atomic<std::uint64_t> dropped_total_{0};

  std::mutex mu_;
  std::condition_variable wake_;     // writer: work or stop
  std::condition_variable flushed_;  // flush(): written_seq_ advanced
  std::string pending_;              // GUARDED_BY(mu_)
  std::uint64_t appended_seq_ = 0;   // GUARDED_BY(mu_): batches appended
  std::uint64_t written_seq_ = 0;    // GUARDED_BY(mu_): appended_seq_ value covered by the last write
  std::uint64_t dropped_ = 0;        // GUARDED_BY(mu_): dropped since the last report
  bool stop_ = false;                // GUARDED_BY(mu_)
  std::thread writer_;
};

}  // namespace slipway::obs
