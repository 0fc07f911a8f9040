#include "obs/logger.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "support/temp_dir.h"

namespace slipway::obs {
namespace {

class FixedClock : public Clock {
 public:
  std::int64_t now_ms() const override { return 1795963310123; }  // 2026-11-29T14:41:50.123Z
};

struct Capture {
  std::mutex mu;
  std::string text;
  LoggerOptions options(const Clock* clock = nullptr) {
    LoggerOptions o;
    o.sink = [this](std::string_view s) {
      std::lock_guard lock(mu);
      text.append(s);
    };
    o.clock = clock;
    return o;
  }
  std::vector<boost::json::object> lines() {
    std::lock_guard lock(mu);
    std::vector<boost::json::object> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(boost::json::parse(line).as_object());
    return out;
  }
};

TEST(Logger, ParsesLevelsAndRejectsTheRest) {
  EXPECT_EQ(parse_level("debug"), Level::kDebug);
  EXPECT_EQ(parse_level("info"), Level::kInfo);
  EXPECT_EQ(parse_level("warn"), Level::kWarn);
  EXPECT_EQ(parse_level("error"), Level::kError);
  EXPECT_EQ(parse_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_level("warning"), std::nullopt);
  EXPECT_EQ(parse_level(""), std::nullopt);
}

TEST(Logger, AccessLinesAreJsonWithEveryField) {
  Capture cap;
  {
    Logger logger(cap.options());
    AccessRecord r;
    r.time_ms = 1795963310123;
    r.method = "GET";
    r.route = "/api/v1/{collection}";
    r.status = 200;
    r.duration_ms = 1.23456;
    r.bytes = 42;
    r.request_id = "req-1";
    r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    r.user_id = "u1";
    r.remote = "127.0.0.1";
    logger.access(r);
    r.user_id = {};
    logger.access(r);
  }
  auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 2u);
  auto& l = lines[0];
  EXPECT_EQ(l["time"], "2026-11-29T14:41:50.123Z");
  EXPECT_EQ(l["level"], "info");
  EXPECT_EQ(l["msg"], "request");
  EXPECT_EQ(l["request_id"], "req-1");
  EXPECT_EQ(l["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(l["method"], "GET");
  EXPECT_EQ(l["route"], "/api/v1/{collection}");
  EXPECT_EQ(l["status"].as_int64(), 200);
  EXPECT_DOUBLE_EQ(l["duration_ms"].as_double(), 1.235);
  EXPECT_EQ(l["bytes"].as_int64(), 42);
  EXPECT_EQ(l["user_id"], "u1");
  EXPECT_EQ(l["remote"], "127.0.0.1");
  EXPECT_FALSE(lines[1].contains("user_id"));
}

TEST(Logger, HostileStringsAreEscaped) {
  Capture cap;
  FixedClock clock;
  const std::string hostile = std::string("quote\" back\\ nl\n cr\r tab\t nul") + '\0' + "\x01 bad\xff\xfe utf8 \xc3\xa9";
  {
    Logger logger(cap.options(&clock));
    logger.log(Level::kWarn, hostile, {{"field\"key", hostile}, {"msg", "must not duplicate msg"}});
  }
  auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["time"], "2026-11-29T14:41:50.123Z");
  EXPECT_EQ(lines[0]["level"], "warn");
  const std::string expected = std::string("quote\" back\\ nl\n cr\r tab\t nul") + '\0' +
                               "\x01 bad\xef\xbf\xbd\xef\xbf\xbd utf8 \xc3\xa9";
  EXPECT_EQ(lines[0]["msg"].as_string(), expected);
  EXPECT_EQ(lines[0]["field\"key"].as_string(), expected);
  std::lock_guard lock(cap.mu);
  EXPECT_EQ(std::count(cap.text.begin(), cap.text.end(), '\n'), 1);  // one line, whatever the input
}

TEST(Logger, LevelFiltersLines) {
  Capture cap;
  {
    Logger logger(cap.options());
    logger.set_level(Level::kWarn);
    logger.log(Level::kDebug, "no");
    logger.log(Level::kInfo, "no");
    logger.access(AccessRecord{});
    logger.log(Level::kError, "yes");
  }
  auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["msg"], "yes");
}

TEST(Logger, FlushHandsEverythingToTheSink) {
  Capture cap;
  Logger logger(cap.options());
  for (int i = 0; i < 100; ++i) logger.log(Level::kInfo, "line", {{"i", std::to_string(i)}});
  logger.flush();
  EXPECT_EQ(cap.lines().size(), 100u);
}

TEST(Logger, DestructionDrainsEveryThreadsLinesToTheFd) {
  testing::TempDir dir;
  const std::string path = dir.file("log.jsonl");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  {
    LoggerOptions o;
    o.fd = fd;
    Logger logger(o);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&logger, t] {
        for (int i = 0; i < 1000; ++i) logger.log(Level::kInfo, "x", {{"t", std::to_string(t)}});
      });
    }
    for (auto& t : threads) t.join();
  }  // no flush(): the destructor must write everything
  ::close(fd);
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) ASSERT_NO_THROW(boost::json::parse(line)) << line;
  EXPECT_EQ(n, 4000);
}

TEST(Logger, AFullBufferDropsAndReportsInsteadOfBlocking) {
  std::mutex gate;
  std::unique_lock hold(gate);  // the sink blocks until released, like a full stdout pipe
  std::string written;
  LoggerOptions o;
  o.max_pending = 1024;
  o.sink = [&](std::string_view s) {
    std::lock_guard wait(gate);
    written.append(s);
  };
  {
    Logger logger(o);
    for (int i = 0; i < 1000; ++i) logger.log(Level::kInfo, "a line of some length to fill the buffer");
    EXPECT_GT(logger.dropped(), 0u);
    hold.unlock();
  }
  EXPECT_NE(written.find("\"msg\":\"log lines dropped\""), std::string::npos);
}

}  // namespace
}  // namespace slipway::obs
