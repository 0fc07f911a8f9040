#include "core/concept/yaml_guard.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <optional>
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
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value style) override {
    open(mark, false, style == YAML::EmitterStyle::Flow);
  }
  void OnSequenceEnd() override { frames_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value style) override {
    open(mark, true, style == YAML::EmitterStyle::Flow);
  }
  void OnMapEnd() override { frames_.pop_back(); }

  struct OpenFlow {
    YAML::Mark mark;  // of the '{' or '['
    bool is_map = false;
  };
  // The innermost '{' or '[' still open when the parse stopped, for "missing '}'".
  std::optional<OpenFlow> innermost_open_flow() const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      if (it->is_flow) return OpenFlow{it->mark, it->is_map};
    }
    return std::nullopt;
  }

 private:
  struct Frame {
    bool is_map = false;
    bool is_flow = false;  // `{...}` / `[...]` rather than indented
    YAML::Mark mark;       // where it opened
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

  void open(const YAML::Mark& mark, bool is_map, bool is_flow) {
    count(mark);
    if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
      throw GuardStop{mark, "YAML nesting is deeper than " + std::to_string(limits_.max_depth) + " levels"};
    }
    child_done();
    frames_.push_back(Frame{is_map, is_flow, mark, true, {}});
  }

  const GuardLimits& limits_;
  std::vector<Diagnostic>& out_;
  std::vector<Frame> frames_;
  std::size_t nodes_ = 0;
  int documents_ = 0;
};

std::string line_col(const YAML::Mark& m) {
  return "line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1);
}

// The first tab in the indentation (the leading blanks) of 0-based line `line`, or nullopt.
std::optional<YAML::Mark> tab_in_indentation(std::string_view text, int line) {
  std::size_t start = 0;
  for (int l = 0; l < line; ++l) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return std::nullopt;
    ++start;
  }
  for (std::size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i) {
    if (text[i] == '\t') {
      YAML::Mark m;
      m.line = line;
      m.column = static_cast<int>(i - start);
      return m;
    }
  }
  return std::nullopt;
}

// yaml-cpp's messages for the mistakes people make most say little ("end of map not found" for a tab, "end of
// map flow not found" for a missing '}'). Rewrites those into what is wrong and where; others pass through.
Diagnostic explain(std::string_view text, const YAML::ParserException& e, const GuardHandler& handler) {
  if (const auto flow = handler.innermost_open_flow()) {
    const std::string close = flow->is_map ? "}" : "]";
    const std::string what =
        "'" + close + "' to close the '" + (flow->is_map ? "{" : "[") + "' opened at " + line_col(flow->mark);
    if (e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW || e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
      return at(e.mark, "missing " + what);
    }
    if (e.msg == YAML::ErrorMsg::FLOW_END && e.mark.pos >= 0 && static_cast<std::size_t>(e.mark.pos) < text.size()) {
      const char found = text[static_cast<std::size_t>(e.mark.pos)];
      if ((found == '}' || found == ']') && close[0] != found) {
        return at(e.mark, "expected " + what + ", found '" + found + "'");
      }
    }
    // Inside '{ }' or '[ ]' a tab at the start of a line separates, it does not indent: not the cause.
    return at(e.mark, "YAML syntax error: " + e.msg);
  }
  // A tab that indents is never valid YAML, and yaml-cpp reports it on the tab's line whatever it then calls it.
  if (e.mark.line >= 0) {
    if (auto tab = tab_in_indentation(text, e.mark.line)) {
      return at(*tab, "tabs are not allowed for indentation in YAML; use spaces");
    }
  }
  return at(e.mark, "YAML syntax error: " + e.msg);
}

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
    result.diagnostics.push_back(explain(text, e, handler));
    result.fatal = true;
  } catch (const YAML::Exception& e) {
    result.diagnostics.push_back(at(e.mark, "YAML error: " + e.msg));
    result.fatal = true;
  }
  return result;
}

}  // namespace slipway::model
