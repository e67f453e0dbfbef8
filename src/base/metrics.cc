#include "base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <variant>

namespace rebound {
namespace {

// Registration mistakes are programming errors, found by the first test that registers.
[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

bool IsValidName(const std::string& name, bool allow_colon) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [allow_colon](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (allow_colon && c == ':');
  });
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline.
std::string EscapeHelp(const std::string& help) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// {a="1",b="2"}, with `extra` (e.g. le="0.5") last; "" when there are no labels at all.
std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     const std::string& extra = "") {
  std::string text;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    text += (text.empty() ? "" : ",") + names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) {
    text += (text.empty() ? "" : ",") + extra;
  }
  return text.empty() ? "" : "{" + text + "}";
}

void AppendSample(std::string& out, const std::string& name, const std::string& labels,
                  double value) {
  out += name;
  out += labels;
  out += ' ';
  out += FormatMetricValue(value);
  out += '\n';
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // Fixed notation where it stays short ("0.0001", not "1e-04"): easier to read and to grep.
  const double magnitude = std::fabs(value);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  char buffer[64];
  auto [end, error] =
      fixed ? std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed)
            : std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

std::string EscapeLabelValue(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      escaped += '\\';
      escaped += c;
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::Observe(double value) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

template <typename Series>
Series& Family<Series>::WithLabels(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    Die(name_ + ": " + std::to_string(label_values.size()) + " label values for " +
        std::to_string(label_names_.size()) + " label names");
  }
  std::lock_guard lock(mutex_);
  std::unique_ptr<Series>& series = series_[label_values];
  if (series == nullptr) {
    series = make_();
  }
  return *series;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

struct MetricsRegistry::Entry {
  std::string name;
  std::string help;
  MetricType type;
  std::vector<std::string> label_names;
  std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>,
               std::unique_ptr<HistogramFamily>, std::function<std::vector<MetricSample>()>>
      source;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::Register(std::unique_ptr<Entry> entry) {
  if (!IsValidName(entry->name, /*allow_colon=*/true)) {
    Die("invalid metric name \"" + entry->name + "\"");
  }
  for (const std::string& label : entry->label_names) {
    if (!IsValidName(label, /*allow_colon=*/false) || label.starts_with("__") || label == "le") {
      Die(entry->name + ": invalid label name \"" + label + "\"");
    }
  }
  std::lock_guard lock(mutex_);
  for (const auto& existing : entries_) {
    if (existing->name == entry->name) {
      Die("metric \"" + entry->name + "\" registered twice");
    }
  }
  entries_.push_back(std::move(entry));
}

CounterFamily& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                           std::vector<std::string> label_names) {
  auto family = std::unique_ptr<CounterFamily>(
      new CounterFamily(name, label_names, [] { return std::make_unique<Counter>(); }));
  CounterFamily& ref = *family;
  Register(std::make_unique<Entry>(
      Entry{name, help, MetricType::kCounter, std::move(label_names), std::move(family)}));
  return ref;
}

GaugeFamily& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names) {
  auto family = std::unique_ptr<GaugeFamily>(
      new GaugeFamily(name, label_names, [] { return std::make_unique<Gauge>(); }));
  GaugeFamily& ref = *family;
  Register(std::make_unique<Entry>(
      Entry{name, help, MetricType::kGauge, std::move(label_names), std::move(family)}));
  return ref;
}

HistogramFamily& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
    Die(name + ": histogram bounds must be non-empty and strictly ascending");
  }
  auto family = std::unique_ptr<HistogramFamily>(new HistogramFamily(
      name, label_names, [bounds] { return std::make_unique<Histogram>(bounds); }));
  HistogramFamily& ref = *family;
  Register(std::make_unique<Entry>(
      Entry{name, help, MetricType::kHistogram, std::move(label_names), std::move(family)}));
  return ref;
}

void MetricsRegistry::AddCollector(const std::string& name, const std::string& help,
                                   MetricType type, std::vector<std::string> label_names,
                                   std::function<std::vector<MetricSample>()> collect) {
  Register(
      std::make_unique<Entry>(Entry{name, help, type, std::move(label_names), std::move(collect)}));
}

void MetricsRegistry::RenderEntry(const Entry& entry, std::string& out) {
  const auto& names = entry.label_names;
  if (const auto* counters = std::get_if<std::unique_ptr<CounterFamily>>(&entry.source)) {
    (*counters)->ForEach([&](const auto& labels, const Counter& counter) {
      AppendSample(out, entry.name, LabelSet(names, labels), counter.Value());
    });
  } else if (const auto* gauges = std::get_if<std::unique_ptr<GaugeFamily>>(&entry.source)) {
    (*gauges)->ForEach([&](const auto& labels, const Gauge& gauge) {
      AppendSample(out, entry.name, LabelSet(names, labels), gauge.Value());
    });
  } else if (const auto* histograms =
                 std::get_if<std::unique_ptr<HistogramFamily>>(&entry.source)) {
    (*histograms)->ForEach([&](const auto& labels, const Histogram& histogram) {
      const Histogram::Snapshot snapshot = histogram.Read();
      for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
        const double bound = i < histogram.bounds().size() ? histogram.bounds()[i] : INFINITY;
        const std::string le = "le=\"" + FormatMetricValue(bound) + "\"";
        AppendSample(out, entry.name + "_bucket", LabelSet(names, labels, le),
                     static_cast<double>(snapshot.cumulative_counts[i]));
      }
      AppendSample(out, entry.name + "_sum", LabelSet(names, labels), snapshot.sum);
      AppendSample(out, entry.name + "_count", LabelSet(names, labels),
                   static_cast<double>(snapshot.count));
    });
  } else if (const auto* collect =
                 std::get_if<std::function<std::vector<MetricSample>()>>(&entry.source)) {
    for (const MetricSample& sample : (*collect)()) {
      AppendSample(out, entry.name + sample.suffix, LabelSet(names, sample.label_values),
                   sample.value);
    }
  }
}

std::string MetricsRegistry::Render() const {
  std::vector<const Entry*> entries;
  {
    std::lock_guard lock(mutex_);
    for (const auto& entry : entries_) {
      entries.push_back(entry.get());
    }
  }
  std::string out;
  for (const Entry* entry : entries) {
    out += "# HELP " + entry->name + " " + EscapeHelp(entry->help) + "\n";
    out += "# TYPE " + entry->name + " " + std::string(TypeName(entry->type)) + "\n";
    RenderEntry(*entry, out);
  }
  return out;
}

}  // namespace rebound
