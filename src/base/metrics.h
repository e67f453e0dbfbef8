#pragma once

// MetricsRegistry: counters, gauges and histograms with labels, rendered in the Prometheus
// text exposition format (version 0.0.4) for GET /metrics.
//
//   MetricsRegistry registry;
//   CounterFamily& requests = registry.AddCounter(
//       "rebound_http_requests_total", "HTTP requests answered", {"method", "code"});
//   Counter& get_ok = requests.WithLabels({"GET", "200"});   // look up once, keep the reference
//   get_ok.Increment();                                       // hot path: one atomic add
//   HistogramFamily& latency = registry.AddHistogram(
//       "rebound_http_request_duration_seconds", "Time to answer", {"route"}, kLatencyBuckets);
//   latency.WithLabels({"/health"}).Observe(0.0004);
//   registry.AddCollector("rebound_service_up", "1 when running", MetricType::kGauge,
//                         {"service"}, [&] { return SamplesFromTheSupervisor(); });
//   std::string text = registry.Render();
//
// Names follow Prometheus conventions: counters end in _total, durations are in seconds
// (_seconds). A module adds its metrics by registering them once at startup (see the list in
// docs/operations.md); registering a name twice, or with invalid characters, is a bug and
// aborts. Collectors compute values at scrape time (for state owned elsewhere).
//
// Thread-safe: registration, WithLabels, updates and Render may run concurrently. Counter,
// Gauge and Histogram references stay valid as long as the registry.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rebound {

enum class MetricType { kCounter, kGauge, kHistogram, kSummary };

// Bucket upper bounds (seconds) for request and commit latencies: 100 µs to 10 s.
inline const std::vector<double> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

class Counter {
 public:
  // REQUIRES: amount >= 0 (a counter only goes up).
  void Increment(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // REQUIRES: bounds sorted ascending, finite.
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket (not cumulative), + overflow
  std::atomic<double> sum_{0};
};

// One metric name with its label names; each distinct set of label values is one series.
template <typename Series>
class Family {
 public:
  // REQUIRES: label_values.size() == the family's label names (else aborts: a bug).
  Series& WithLabels(const std::vector<std::string>& label_values);

  // Calls visit(label_values, series) for each series, in label order, under the family lock.
  template <typename Visit>
  void ForEach(Visit visit) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, series] : series_) {
      visit(labels, *series);
    }
  }

 private:
  friend class MetricsRegistry;
  Family(std::string name, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Series>()> make)
      : name_(std::move(name)), label_names_(std::move(label_names)), make_(std::move(make)) {}

  std::string name_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Series>()> make_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;  // GUARDED_BY(mutex_)
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// A value computed at scrape time. `suffix` is appended to the metric name ("_sum",
// "_count" for a summary).
struct MetricSample {
  std::vector<std::string> label_values;
  double value = 0;
  std::string suffix = {};
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily& AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names, std::vector<double> bounds);
  // `collect` runs on the scraping thread, without the registry's lock held.
  void AddCollector(const std::string& name, const std::string& help, MetricType type,
                    std::vector<std::string> label_names,
                    std::function<std::vector<MetricSample>()> collect);

  // The Prometheus text format, families in registration order.
  std::string Render() const;

 private:
  struct Entry;
  // Aborts on an invalid or duplicate name (a bug, found by the first test that registers).
  void Register(std::unique_ptr<Entry> entry);
  static void RenderEntry(const Entry& entry, std::string& out);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;  // GUARDED_BY(mutex_)
};

// Prometheus number syntax: shortest round-trip form, "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);
// Escapes \, " and newline for a label value.
std::string EscapeLabelValue(const std::string& value);

}  // namespace rebound
