#include "base/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace rebound {
namespace {

TEST(MetricsTest, CounterRendersHelpTypeAndLabelledSeries) {
  MetricsRegistry registry;
  CounterFamily& requests =
      registry.AddCounter("rebound_http_requests_total", "HTTP requests", {"method", "code"});
  requests.WithLabels({"GET", "200"}).Increment();
  requests.WithLabels({"GET", "200"}).Increment(2);
  requests.WithLabels({"POST", "401"}).Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP rebound_http_requests_total HTTP requests\n"
            "# TYPE rebound_http_requests_total counter\n"
            "rebound_http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "rebound_http_requests_total{method=\"POST\",code=\"401\"} 1\n");
}

TEST(MetricsTest, WithLabelsReturnsTheSameSeriesEachTime) {
  MetricsRegistry registry;
  GaugeFamily& gauge = registry.AddGauge("rebound_things", "things", {"kind"});
  EXPECT_EQ(&gauge.WithLabels({"a"}), &gauge.WithLabels({"a"}));
  EXPECT_NE(&gauge.WithLabels({"a"}), &gauge.WithLabels({"b"}));
}

TEST(MetricsTest, GaugeWithoutLabelsHasNoBraces) {
  MetricsRegistry registry;
  Gauge& gauge = registry.AddGauge("rebound_up", "up").WithLabels({});
  gauge.Set(5);
  gauge.Add(-1.5);
  EXPECT_NE(registry.Render().find("\nrebound_up 3.5\n"), std::string::npos) << registry.Render();
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  Histogram& latency = registry.AddHistogram("rebound_x_seconds", "x", {}, {0.1, 1}).WithLabels({});
  latency.Observe(0.05);
  latency.Observe(0.1);  // le is inclusive
  latency.Observe(0.5);
  latency.Observe(7);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE rebound_x_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("rebound_x_seconds_bucket{le=\"0.1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rebound_x_seconds_bucket{le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rebound_x_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rebound_x_seconds_sum 7.65\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rebound_x_seconds_count 4\n"), std::string::npos) << text;
}

TEST(MetricsTest, HistogramLabelsComeBeforeLe) {
  MetricsRegistry registry;
  registry.AddHistogram("rebound_y_seconds", "y", {"route"}, {1}).WithLabels({"/a"}).Observe(2);
  EXPECT_NE(registry.Render().find("rebound_y_seconds_bucket{route=\"/a\",le=\"1\"} 0\n"),
            std::string::npos);
}

TEST(MetricsTest, CollectorsRunAtRenderTimeWithSuffixes) {
  MetricsRegistry registry;
  int calls = 0;
  registry.AddCollector("rebound_commit_seconds", "commits", MetricType::kSummary, {}, [&] {
    ++calls;
    return std::vector<MetricSample>{{.label_values = {}, .value = 0.25, .suffix = "_sum"},
                                     {.label_values = {}, .value = 10, .suffix = "_count"}};
  });
  const std::string text = registry.Render();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(text.find("# TYPE rebound_commit_seconds summary\n"), std::string::npos);
  EXPECT_NE(text.find("rebound_commit_seconds_sum 0.25\nrebound_commit_seconds_count 10\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.AddCounter("rebound_e_total", "a \\ b\nc", {"name"})
      .WithLabels({"q\"u\\o\nte"})
      .Increment();
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# HELP rebound_e_total a \\\\ b\\nc\n"), std::string::npos) << text;
  EXPECT_NE(text.find("{name=\"q\\\"u\\\\o\\nte\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsTest, ValuesUsePrometheusNumberSyntax) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(12), "12");
  EXPECT_EQ(FormatMetricValue(0.001), "0.001");
  EXPECT_EQ(FormatMetricValue(0.0001), "0.0001");
  EXPECT_EQ(FormatMetricValue(1e-9), "1e-09");
  EXPECT_EQ(FormatMetricValue(-2.5), "-2.5");
  EXPECT_EQ(FormatMetricValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatMetricValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatMetricValue(NAN), "NaN");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  CounterFamily& family = registry.AddCounter("rebound_c_total", "c", {"t"});
  Histogram& histogram = registry.AddHistogram("rebound_h_seconds", "h", {}, {1}).WithLabels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        family.WithLabels({"x"}).Increment();
        histogram.Observe(0.5);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(family.WithLabels({"x"}).Value(), 40000);
  EXPECT_EQ(histogram.Read().count, 40000u);
}

TEST(MetricsDeathTest, DuplicateOrInvalidNamesAbort) {
  MetricsRegistry registry;
  registry.AddCounter("rebound_a_total", "a");
  EXPECT_DEATH(registry.AddCounter("rebound_a_total", "again"), "registered twice");
  EXPECT_DEATH(registry.AddGauge("9bad", "bad"), "invalid metric name");
  EXPECT_DEATH(registry.AddGauge("rebound_b", "b", {"le"}), "invalid label name");
  GaugeFamily& family = registry.AddGauge("rebound_c", "c", {"one"});
  EXPECT_DEATH(family.WithLabels({"1", "2"}), "2 label values for 1 label names");
}

}  // namespace
}  // namespace rebound
