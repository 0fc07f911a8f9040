#include "core/concept/yaml_guard.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <sstream>
#include <string>

namespace slipway::model {
namespace {

// Thrown from inside the event handler to abort the parse at once (before deep recursion or expansion).
struct GuardStop {
  YAML::Mark mark;
  std::string message;
};

Diagnostic at(const YAML::Mark& mark, std::string message) {
  Diagnostic d;
  d.line = mark.line < 0 ? 0 : mark.line + 1;
  d.column = mark.column < 0 ? 0 : mark.column + 1;
  d.message = std::move(message);
  return d;
}

class GuardHandler final : public YAML::EventHandler {
 public:
  GuardHandler(const GuardLimits& limits, std::vector<Diagnostic>& out) : limits_(limits), out_(out) {}

  int documents() const { return documents_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) throw GuardStop{mark, "only one YAML document is allowed in the concept file"};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { leaf(mark, "~"); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    throw GuardStop{mark, "YAML aliases ('*') are not supported in the concept file: write the value out"};
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string& value) override {
    leaf(mark, value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    open(mark, false);
  }
  void OnSequenceEnd() override { frames_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    open(mark, true);
  }
  void OnMapEnd() override { frames_.pop_back(); }

 private:
  struct Frame {
    bool is_map = false;
    bool expect_key = true;
    std::map<std::string, YAML::Mark, std::less<>> keys;
  };

  void count(const YAML::Mark& mark) {
    if (++nodes_ > limits_.max_nodes) {
      throw GuardStop{mark, "the concept file has more than " + std::to_string(limits_.max_nodes) + " YAML nodes"};
    }
  }

  // A completed node in its parent: flips the parent map between key and value.
  void child_done() {
    if (!frames_.empty() && frames_.back().is_map) frames_.back().expect_key = !frames_.back().expect_key;
  }

  void leaf(const YAML::Mark& mark, const std::string& value) {
    count(mark);
    if (!frames_.empty() && frames_.back().is_map && frames_.back().expect_key) {
      auto [it, inserted] = frames_.back().keys.emplace(value, mark);
      if (!inserted) {
        out_.push_back(at(
            mark, "duplicate key '" + value + "' (first defined at line " + std::to_string(it->second.line + 1) + ")"));
      }
    }
    child_done();
  }

  void open(const YAML::Mark& mark, bool is_map) {
    count(mark);
    if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
      throw GuardStop{mark, "YAML nesting is deeper than " + std::to_string(limits_.max_depth) + " levels"};
    }
    child_done();
    frames_.push_back(Frame{is_map, true, {}});
  }

  const GuardLimits& limits_;
  std::vector<Diagnostic>& out_;
  std::vector<Frame> frames_;
  std::size_t nodes_ = 0;
  int documents_ = 0;
};

}  // namespace

GuardResult guard_yaml(std::string_view text, const GuardLimits& limits) {
  GuardResult result;
  std::istringstream in{std::string(text)};
  GuardHandler handler(limits, result.diagnostics);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(handler)) {
    }
  } catch (const GuardStop& stop) {
    result.diagnostics.push_back(at(stop.mark, stop.message));
    result.fatal = true;
  } catch (const YAML::ParserException& e) {
    result.diagnostics.push_back(at(e.mark, "YAML syntax error: " + e.msg));
    result.fatal = true;
  } catch (const YAML::Exception& e) {
    result.diagnostics.push_back(at(e.mark, "YAML error: " + e.msg));
    result.fatal = true;
  }
  return result;
}

}  // namespace slipway::model
