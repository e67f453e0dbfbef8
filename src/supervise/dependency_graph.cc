#include "supervise/dependency_graph.h"

#include <algorithm>
#include <set>

namespace rebound::supervise {

Status DependencyGraph::AddService(const std::string& name,
                                   const std::vector<std::string>& depends_on) {
  if (Contains(name)) {
    return ValidationError("service \"" + name + "\" is defined twice");
  }
  nodes_.push_back({name, depends_on});
  return OkStatus();
}

std::vector<std::string> DependencyGraph::Services() const {
  std::vector<std::string> names;
  for (const Node& node : nodes_) {
    names.push_back(node.name);
  }
  return names;
}

int DependencyGraph::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::vector<std::vector<int>> DependencyGraph::KnownDependencies() const {
  std::vector<std::vector<int>> dependencies(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (const std::string& dependency : nodes_[i].depends_on) {
      const int index = IndexOf(dependency);
      if (index >= 0) {
        dependencies[i].push_back(index);
      }
    }
  }
  return dependencies;
}

// Kahn's algorithm; the ready set is ordered by insertion index, so ties go to the service
// added first and the order never depends on hashing or map order.
Result<std::vector<int>> DependencyGraph::StartOrderIndices() const {
  const std::vector<std::vector<int>> dependencies = KnownDependencies();
  std::vector<int> unmet(nodes_.size(), 0);
  std::vector<std::vector<int>> dependents(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (int dependency : dependencies[i]) {
      ++unmet[i];
      dependents[dependency].push_back(static_cast<int>(i));
    }
  }
  std::set<int> ready;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (unmet[i] == 0) {
      ready.insert(static_cast<int>(i));
    }
  }
  std::vector<int> order;
  std::vector<bool> placed(nodes_.size(), false);
  while (!ready.empty()) {
    const int next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    placed[next] = true;
    for (int dependent : dependents[next]) {
      if (--unmet[dependent] == 0) {
        ready.insert(dependent);
      }
    }
  }
  if (order.size() != nodes_.size()) {
    return CycleError(dependencies, placed);
  }
  return order;
}

// Every unplaced node lies on a cycle or depends on one. Walking unplaced dependencies from
// the first unplaced node must therefore revisit a node; the walk from that node is a cycle.
Error DependencyGraph::CycleError(const std::vector<std::vector<int>>& dependencies,
                                  const std::vector<bool>& placed) const {
  const int start =
      static_cast<int>(std::find(placed.begin(), placed.end(), false) - placed.begin());
  std::vector<int> walk;
  int current = start;
  while (std::find(walk.begin(), walk.end(), current) == walk.end()) {
    walk.push_back(current);
    for (int dependency : dependencies[current]) {
      if (!placed[dependency]) {
        current = dependency;
        break;
      }
    }
  }
  std::vector<int> cycle(std::find(walk.begin(), walk.end(), current), walk.end());
  // Start the cycle at its earliest service so the message does not depend on the walk.
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  std::string text;
  for (int index : cycle) {
    text += nodes_[index].name + " -> ";
  }
  return ValidationError("dependency cycle: " + text + nodes_[cycle.front()].name);
}

Result<std::vector<std::string>> DependencyGraph::StartOrder() const {
  auto indices = StartOrderIndices();
  if (!indices.ok()) {
    return indices.error();
  }
  std::vector<std::string> names;
  for (int index : *indices) {
    names.push_back(nodes_[index].name);
  }
  return names;
}

Result<std::vector<std::string>> DependencyGraph::StopOrder() const {
  auto order = StartOrder();
  if (order.ok()) {
    std::reverse(order->begin(), order->end());
  }
  return order;
}

Result<std::vector<std::string>> DependencyGraph::Dependents(const std::string& name) const {
  const int root = IndexOf(name);
  if (root < 0) {
    return NotFoundError("no service named \"" + name + "\" in the dependency graph");
  }
  auto order = StartOrderIndices();
  if (!order.ok()) {
    return order.error();
  }
  // In start order every dependency comes before its dependents, so one pass marks them all.
  const std::vector<std::vector<int>> dependencies = KnownDependencies();
  std::vector<bool> affected(nodes_.size(), false);
  affected[root] = true;
  std::vector<std::string> dependents;
  for (int index : *order) {
    const bool depends_on_affected =
        std::any_of(dependencies[index].begin(), dependencies[index].end(),
                    [&](int dependency) { return affected[dependency]; });
    if (index != root && depends_on_affected) {
      affected[index] = true;
      dependents.push_back(nodes_[index].name);
    }
  }
  return dependents;
}

}  // namespace rebound::supervise
