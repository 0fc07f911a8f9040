#include "obs/logger.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "core/clock.h"
#include "core/json_writer.h"

namespace slipway::obs {
namespace {

// Appends "2026-11-24T14:41:50.123Z". The part up to the seconds is cached per thread for the current second.
void append_time(std::string& out, std::int64_t epoch_ms) {
  struct Cache {
    std::int64_t second = -1;
    char text[24] = {};  // "YYYY-MM-DDTHH:MM:SS."
  };
  thread_local Cache cache;
  std::int64_t sec = epoch_ms / 1000;
  std::int64_t ms = epoch_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --sec;
  }
  if (sec != cache.second) {
    const std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::strftime(cache.text, sizeof cache.text, "%Y-%m-%dT%H:%M:%S.", &tm);
    cache.second = sec;
  }
  out.push_back('"');
  out.append(cache.text);
  out.push_back(static_cast<char>('0' + ms / 100));
  out.push_back(static_cast<char>('0' + ms / 10 % 10));
  out.push_back(static_cast<char>('0' + ms % 10));
  out.append("Z\"");
}

void key(std::string& out, std::string_view k) {
  out.push_back(',');
  append_json_string(out, k);
  out.push_back(':');
}

std::string& scratch() {
  thread_local std::string s;
  s.clear();
  return s;
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn") return Level::kWarn;
  if (text == "error") return Level::kError;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "error";
}

Logger::Logger() : Logger(LoggerOptions{}) {}

Logger::Logger(LoggerOptions options) : options_(std::move(options)) {
  writer_ = std::thread([this] { writer_loop(); });
}

Logger::~Logger() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void Logger::access(const AccessRecord& r) {
  if (!enabled(Level::kInfo)) return;
  std::string& out = scratch();
  out.append("{\"time\":");
  append_time(out, r.time_ms);
  out.append(",\"level\":\"info\",\"msg\":\"request\"");
  key(out, "request_id");
  append_json_string(out, r.request_id);
  key(out, "trace_id");
  append_json_string(out, r.trace_id);
  key(out, "method");
  append_json_string(out, r.method);
  key(out, "route");
  append_json_string(out, r.route);
  fmt::format_to(std::back_inserter(out), ",\"status\":{},\"duration_ms\":{:.3f},\"bytes\":{}", r.status,
                 r.duration_ms < 0 ? 0.0 : r.duration_ms, r.bytes);
  if (!r.user_id.empty()) {
    key(out, "user_id");
    append_json_string(out, r.user_id);
  }
  if (!r.remote.empty()) {
    key(out, "remote");
    append_json_string(out, r.remote);
  }
  out.append("}\n");
  append_line(out);
}

void Logger::log(Level level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  std::string& out = scratch();
  out.append("{\"time\":");
  append_time(out, options_.clock ? options_.clock->now_ms() : system_now_ms());
  out.append(",\"level\":\"");
  out.append(level_name(level));
  out.append("\",\"msg\":");
  append_json_string(out, msg);
  for (const auto& [k, v] : fields) {
    // The fixed keys stay unique so every line parses the same way in log pipelines.
    if (k == "time" || k == "level" || k == "msg") continue;
    key(out, k);
    append_json_string(out, v);
  }
  out.append("}\n");
  append_line(out);
}

void Logger::append_line(const std::string& line) {
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() + line.size() > options_.max_pending) {
      ++dropped_;
      dropped_total_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = pending_.empty();
    pending_.append(line);
    ++appended_seq_;
  }
  // Only the empty → non-empty transition needs a wake-up: otherwise the writer is busy and will look again.
  if (was_empty) wake_.notify_one();
}

void Logger::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = appended_seq_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return written_seq_ >= target || stop_; });
}

void Logger::writer_loop() {
  std::string batch;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !pending_.empty() || dropped_ > 0; });
    if (pending_.empty() && dropped_ == 0) {  // stop_ with nothing left
      written_seq_ = appended_seq_;
      flushed_.notify_all();
      return;
    }
    batch.clear();
    batch.swap(pending_);  // the producers get the old batch's capacity back
    const std::uint64_t seq = appended_seq_;
    const std::uint64_t dropped = std::exchange(dropped_, 0);
    lock.unlock();
    if (dropped > 0) {
      std::string line = "{\"time\":";
      append_time(line, options_.clock ? options_.clock->now_ms() : system_now_ms());
      fmt::format_to(std::back_inserter(line), ",\"level\":\"warn\",\"msg\":\"log lines dropped\",\"count\":{}}}\n",
                     dropped);
      batch.append(line);
    }
    write_out(batch);
    lock.lock();
    written_seq_ = seq;
    flushed_.notify_all();
  }
}

void Logger::write_out(std::string_view data) {
  if (data.empty()) return;
  if (options_.sink) {
    options_.sink(data);
    return;
  }
  while (!data.empty()) {
    const ssize_t n = ::write(options_.fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report to; the process keeps serving
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace slipway::obs
