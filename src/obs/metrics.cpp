#include "obs/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace slipway::obs {
namespace {

enum Type { kCounter, kGauge, kHistogram };

constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view n) {
  if (n.empty() || n.starts_with("__")) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void append_escaped(std::string& out, std::string_view s, bool quotes) {
  for (const char c : s) {
    if (c == '\\') out.append("\\\\");
    else if (c == '\n') out.append("\\n");
    else if (quotes && c == '"') out.append("\\\"");
    else out.push_back(c);
  }
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) out.append("NaN");
  else if (std::isinf(v)) out.append(v > 0 ? "+Inf" : "-Inf");
  else fmt::format_to(std::back_inserter(out), "{}", v);
}

void add_double(std::atomic<double>& a, double d) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

std::atomic<std::size_t> g_next_shard{0};

}  // namespace

namespace detail {

std::size_t shard_index() {
  thread_local const std::size_t index = g_next_shard.fetch_add(1, std::memory_order_relaxed) % kShards;
  return index;
}

std::uint64_t CounterSeries::total() const {
  std::uint64_t t = 0;
  for (const auto& s : slots) t += s.value.load(std::memory_order_relaxed);
  return t;
}

double GaugeSeries::total() const {
  double t = 0;
  for (const auto& s : slots) t += s.value.load(std::memory_order_relaxed);
  return t;
}

HistogramSeries::HistogramSeries(const std::vector<double>& b)
    : bounds(b), lines_per_shard((b.size() + 1 + 7) / 8),
      counts(std::make_unique<CacheLine[]>(lines_per_shard * kShards)) {}

}  // namespace detail

void Gauge::add(double d) {
  if (s_) add_double(s_->slots[detail::shard_index()].value, d);
}

void Gauge::set(double v) {
  if (!s_) return;
  const std::size_t mine = detail::shard_index();
  for (std::size_t i = 0; i < detail::kShards; ++i) {
    s_->slots[i].value.store(i == mine ? v : 0.0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double v) {
  if (!s_) return;
  const std::size_t shard = detail::shard_index();
  const auto& bounds = s_->bounds;
  std::size_t i = 0;
  while (i < bounds.size() && v > bounds[i]) ++i;  // le: a value on a bound belongs to that bucket
  s_->count(shard, i).fetch_add(1, std::memory_order_relaxed);
  add_double(s_->sums[shard].value, v);
}

std::uint64_t Histogram::count() const {
  if (!s_) return 0;
  std::uint64_t n = 0;
  for (std::size_t s = 0; s < detail::kShards; ++s)
    for (std::size_t b = 0; b <= s_->bounds.size(); ++b) n += s_->count(s, b).load(std::memory_order_relaxed);
  return n;
}

double Histogram::sum() const {
  if (!s_) return 0;
  double t = 0;
  for (const auto& s : s_->sums) t += s.value.load(std::memory_order_relaxed);
  return t;
}

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

struct Metrics::Family {
  std::string name;
  std::string help;
  int type = kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms
  // Keyed by the label values in label_names order.
  std::map<std::vector<std::string>, std::unique_ptr<detail::CounterSeries>> counters;
  std::map<std::vector<std::string>, std::unique_ptr<detail::GaugeSeries>> gauges;
  std::map<std::vector<std::string>, std::function<double()>> callbacks;
  std::map<std::vector<std::string>, std::unique_ptr<detail::HistogramSeries>> histograms;
};

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

Metrics::Family& Metrics::family(std::string_view name, std::string_view help, int type, Labels labels,
                                 const std::vector<double>* buckets) {
  auto fail = [&](std::string_view why) {
    throw std::invalid_argument(fmt::format("metric {}: {}", name, why));
  };
  if (!valid_metric_name(name)) fail("invalid metric name");
  if (type == kCounter && !name.ends_with("_total")) fail("a counter's name must end in _total");
  if (type != kCounter && name.ends_with("_total")) fail("only counters end in _total");
  if (type == kHistogram && (name.ends_with("_bucket") || name.ends_with("_sum") || name.ends_with("_count")))
    fail("a histogram's name must not end in _bucket, _sum or _count");
  if (help.empty()) fail("help text is required");
  for (const auto& [k, v] : labels) {
    if (!valid_label_name(k)) fail(fmt::format("invalid label name '{}'", k));
    if (type == kHistogram && k == "le") fail("'le' is reserved in histograms");
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->name = name;
    f->help = help;
    f->type = type;
    for (const auto& [k, v] : labels) f->label_names.emplace_back(k);
    if (buckets) {
      if (buckets->empty()) fail("a histogram needs at least one bucket");
      for (std::size_t i = 0; i < buckets->size(); ++i) {
        if (!std::isfinite((*buckets)[i]) || (i > 0 && (*buckets)[i] <= (*buckets)[i - 1]))
          fail("buckets must be finite and strictly increasing");
      }
      f->bounds = *buckets;
    }
    it = families_.emplace(f->name, std::move(f)).first;
    return *it->second;
  }
  Family& f = *it->second;
  if (f.type != type) fail("registered before with another type");
  if (f.help != help) fail("registered before with another help text");
  bool same = f.label_names.size() == labels.size();
  std::size_t i = 0;
  for (const auto& [k, v] : labels) same = same && f.label_names[i++] == k;
  if (!same) fail("registered before with other label names");
  if (buckets && *buckets != f.bounds) fail("registered before with other buckets");
  return f;
}

namespace {
std::vector<std::string> values_of(Labels labels) {
  std::vector<std::string> v;
  v.reserve(labels.size());
  for (const auto& [k, val] : labels) v.emplace_back(val);
  return v;
}
}  // namespace

Counter Metrics::counter(std::string_view name, std::string_view help, Labels labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, kCounter, labels, nullptr);
  auto& slot = f.counters[values_of(labels)];
  if (!slot) slot = std::make_unique<detail::CounterSeries>();
  return Counter(slot.get());
}

Gauge Metrics::gauge(std::string_view name, std::string_view help, Labels labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, kGauge, labels, nullptr);
  auto values = values_of(labels);
  if (f.callbacks.contains(values)) throw std::invalid_argument(fmt::format("metric {}: series is a callback", name));
  auto& slot = f.gauges[std::move(values)];
  if (!slot) slot = std::make_unique<detail::GaugeSeries>();
  return Gauge(slot.get());
}

Histogram Metrics::histogram(std::string_view name, std::string_view help, Labels labels,
                             const std::vector<double>& buckets) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, kHistogram, labels, &buckets);
  auto& slot = f.histograms[values_of(labels)];
  if (!slot) slot = std::make_unique<detail::HistogramSeries>(f.bounds);
  return Histogram(slot.get());
}

void Metrics::gauge_callback(std::string_view name, std::string_view help, Labels labels,
                             std::function<double()> fn) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, kGauge, labels, nullptr);
  auto values = values_of(labels);
  if (f.gauges.contains(values)) throw std::invalid_argument(fmt::format("metric {}: series is not a callback", name));
  f.callbacks[std::move(values)] = std::move(fn);
}

void Metrics::build_info(std::string_view version) {
  gauge("slipway_build_info", "Build information: always 1, with the version as a label", {{"version", version}})
      .set(1);
}

namespace {

// name{a="x",b="y"[,le="..."]} — `extra` is the histogram's le label, empty otherwise.
void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra_le) {
  out.append(name);
  out.append(suffix);
  if (!names.empty() || !extra_le.empty()) {
    out.push_back('{');
    bool first = true;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!first) out.push_back(',');
      first = false;
      out.append(names[i]);
      out.append("=\"");
      append_escaped(out, values[i], true);
      out.push_back('"');
    }
    if (!extra_le.empty()) {
      if (!first) out.push_back(',');
      out.append("le=\"");
      out.append(extra_le);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
}

}  // namespace

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, fp] : families_) {
    const Family& f = *fp;
    out.append("# HELP ");
    out.append(f.name);
    out.push_back(' ');
    append_escaped(out, f.help, false);
    out.append("\n# TYPE ");
    out.append(f.name);
    out.push_back(' ');
    out.append(kTypeNames[f.type]);
    out.push_back('\n');
    switch (f.type) {
      case kCounter:
        for (const auto& [values, s] : f.counters) {
          append_series(out, f.name, "", f.label_names, values, "");
          fmt::format_to(std::back_inserter(out), "{}\n", s->total());
        }
        break;
      case kGauge: {
        for (const auto& [values, s] : f.gauges) {
          append_series(out, f.name, "", f.label_names, values, "");
          append_value(out, s->total());
          out.push_back('\n');
        }
        for (const auto& [values, fn] : f.callbacks) {
          append_series(out, f.name, "", f.label_names, values, "");
          append_value(out, fn ? fn() : 0.0);
          out.push_back('\n');
        }
        break;
      }
      case kHistogram:
        for (const auto& [values, sp] : f.histograms) {
          auto& s = *sp;
          std::uint64_t cumulative = 0;
          for (std::size_t b = 0; b <= f.bounds.size(); ++b) {
            for (std::size_t sh = 0; sh < detail::kShards; ++sh)
              cumulative += s.count(sh, b).load(std::memory_order_relaxed);
            std::string le;
            if (b < f.bounds.size()) append_value(le, f.bounds[b]);
            else le = "+Inf";
            append_series(out, f.name, "_bucket", f.label_names, values, le);
            fmt::format_to(std::back_inserter(out), "{}\n", cumulative);
          }
          double sum = 0;
          for (const auto& slot : s.sums) sum += slot.value.load(std::memory_order_relaxed);
          append_series(out, f.name, "_sum", f.label_names, values, "");
          append_value(out, sum);
          out.push_back('\n');
          append_series(out, f.name, "_count", f.label_names, values, "");
          fmt::format_to(std::back_inserter(out), "{}\n", cumulative);
        }
        break;
    }
  }
  return out;
}

}  // namespace slipway::obs
