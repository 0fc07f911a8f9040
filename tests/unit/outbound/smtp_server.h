// A real SMTP server for the tests: Debian's aiosmtpd (python3-aiosmtpd, scripts/install-deps) in a child process,
// storing what it accepts in a Maildir. Its handler (written next to the Maildir) refuses recipients whose local
// part starts with "reject" (550, permanent) and defers those starting with "defer" (451, transient), so both kinds
// of refusal come from a real server over a real SMTP dialogue.
// The child is killed (SIGTERM, then SIGKILL) in stop() and in the destructor, on every path out of a test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace slipway::outbound::testing {

class SmtpServer {
 public:
  // The interpreter that has aiosmtpd: Debian's own first (python3-aiosmtpd installs there, and a python3 earlier on
  // PATH, e.g. pyenv's, may not see it), then whatever python3 is on PATH. nullopt when neither has it.
  static std::optional<std::string> python() {
    for (const char* candidate : {"/usr/bin/python3", "python3"}) {
      const std::string command = std::string(candidate) + " -c 'import aiosmtpd' >/dev/null 2>&1";
      if (std::system(command.c_str()) == 0) return candidate;
    }
    return std::nullopt;
  }

  // Starts the server in `dir` (Maildir at dir/maildir, log at dir/smtpd.log) on a free loopback port.
  SmtpServer(const std::string& python, const std::string& dir) : dir_(dir) {
    std::ofstream(dir + "/slipway_test_smtp.py") << kHandler;
    port_ = free_port();
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    const std::string maildir = dir + "/maildir";
    std::vector<std::string> args = {python, "-m", "aiosmtpd", "-n", "-l", listen, "-c", "slipway_test_smtp.Handler",
                                     maildir};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = {"PYTHONPATH=" + dir, "PYTHONDONTWRITEBYTECODE=1"};
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string_view(*e).substr(0, 11) != "PYTHONPATH=") env_strings.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = dir + "/smtpd.log";
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
  }

  ~SmtpServer() { stop(); }
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  // Polls until the port accepts a connection; false if the child died or `timeout` passed first.
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      if (int status = 0; ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (accepts()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition, not synchronising by time
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string log() const { return read(dir_ + "/smtpd.log"); }

  // The messages delivered so far, as stored (aiosmtpd adds X-Peer, X-MailFrom and X-RcptTo).
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/maildir/new", ec))
      out.push_back(read(entry.path().string()));
    return out;
  }

 private:
  static constexpr const char* kHandler = R"(from aiosmtpd.handlers import Mailbox


class Handler(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user here"
        if address.startswith("defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"
)";

  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  bool accepts() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace slipway::outbound::testing
