#include "supervise/dependency_graph.h"

#include <gtest/gtest.h>

namespace rebound::supervise {
namespace {

using Names = std::vector<std::string>;

DependencyGraph Graph(const std::vector<std::pair<std::string, Names>>& services) {
  DependencyGraph graph;
  for (const auto& [name, depends_on] : services) {
    EXPECT_TRUE(graph.AddService(name, depends_on).ok()) << name;
  }
  return graph;
}

TEST(DependencyGraphTest, StartsDependenciesFirstAndStopsInReverse) {
  const DependencyGraph graph = Graph({{"worker", {"api"}}, {"api", {"db"}}, {"db", {}}});
  EXPECT_EQ(*graph.StartOrder(), (Names{"db", "api", "worker"}));
  EXPECT_EQ(*graph.StopOrder(), (Names{"worker", "api", "db"}));
}

TEST(DependencyGraphTest, BreaksTiesByTheOrderServicesWereAdded) {
  const DependencyGraph graph =
      Graph({{"web", {"cache", "db"}}, {"db", {}}, {"metrics", {}}, {"cache", {}}});
  EXPECT_EQ(*graph.StartOrder(), (Names{"db", "metrics", "cache", "web"}));
  const DependencyGraph independent = Graph({{"c", {}}, {"a", {}}, {"b", {}}});
  EXPECT_EQ(*independent.StartOrder(), (Names{"c", "a", "b"}));
}

TEST(DependencyGraphTest, EmptyGraphHasEmptyOrders) {
  const DependencyGraph graph;
  EXPECT_TRUE(graph.StartOrder()->empty());
  EXPECT_TRUE(graph.StopOrder()->empty());
}

TEST(DependencyGraphTest, ReportsTwoServiceCycle) {
  const DependencyGraph graph = Graph({{"db", {}}, {"api", {"worker"}}, {"worker", {"api"}}});
  auto order = graph.StartOrder();
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.error().category(), ErrorCategory::kValidation);
  EXPECT_EQ(order.error().message(), "dependency cycle: api -> worker -> api");
  EXPECT_EQ(graph.StopOrder().error().message(), "dependency cycle: api -> worker -> api");
}

TEST(DependencyGraphTest, CycleStartsAtItsEarliestServiceWhateverTheWalk) {
  // The walk begins at "entry", which only leads into the cycle; the cycle itself is b->c->d->b
  // and "b" was added first among them.
  const DependencyGraph graph = Graph({{"entry", {"c"}}, {"b", {"c"}}, {"c", {"d"}}, {"d", {"b"}}});
  EXPECT_EQ(graph.StartOrder().error().message(), "dependency cycle: b -> c -> d -> b");
}

TEST(DependencyGraphTest, ReportsSelfDependencyAsCycle) {
  const DependencyGraph graph = Graph({{"api", {"api"}}});
  EXPECT_EQ(graph.StartOrder().error().message(), "dependency cycle: api -> api");
}

TEST(DependencyGraphTest, IgnoresUnknownDependencies) {
  const DependencyGraph graph = Graph({{"api", {"ghost", "db"}}, {"db", {"phantom"}}});
  EXPECT_EQ(*graph.StartOrder(), (Names{"db", "api"}));
  EXPECT_EQ(*graph.Dependents("db"), (Names{"api"}));
  EXPECT_FALSE(graph.Contains("ghost"));
}

TEST(DependencyGraphTest, RejectsServiceAddedTwice) {
  DependencyGraph graph;
  ASSERT_TRUE(graph.AddService("db", {}).ok());
  auto again = graph.AddService("db", {"x"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().category(), ErrorCategory::kValidation);
  EXPECT_EQ(again.error().message(), "service \"db\" is defined twice");
  EXPECT_EQ(graph.Services(), (Names{"db"}));
}

TEST(DependencyGraphTest, DependentsAreTransitiveAndInStartOrder) {
  const DependencyGraph graph = Graph({{"worker", {"api"}},
                                       {"api", {"db"}},
                                       {"db", {}},
                                       {"cache", {}},
                                       {"report", {"worker", "cache"}}});
  EXPECT_EQ(*graph.Dependents("db"), (Names{"api", "worker", "report"}));
  EXPECT_EQ(*graph.Dependents("cache"), (Names{"report"}));
  EXPECT_TRUE(graph.Dependents("report")->empty());
}

TEST(DependencyGraphTest, DependentsOfUnknownServiceIsNotFound) {
  const DependencyGraph graph = Graph({{"db", {}}});
  auto dependents = graph.Dependents("nope");
  ASSERT_FALSE(dependents.ok());
  EXPECT_EQ(dependents.error().category(), ErrorCategory::kNotFound);
}

TEST(DependencyGraphTest, DependentsFailOnCycle) {
  const DependencyGraph graph = Graph({{"a", {"b"}}, {"b", {"a"}}, {"c", {}}});
  auto dependents = graph.Dependents("c");
  ASSERT_FALSE(dependents.ok());
  EXPECT_EQ(dependents.error().message(), "dependency cycle: a -> b -> a");
}

TEST(DependencyGraphTest, DuplicateDependencyEntriesDoNotBreakTheOrder) {
  const DependencyGraph graph = Graph({{"api", {"db", "db"}}, {"db", {}}});
  EXPECT_EQ(*graph.StartOrder(), (Names{"db", "api"}));
}

}  // namespace
}  // namespace rebound::supervise
