#pragma once

// DependencyGraph: which service must be up before which, and so in what order to start,
// stop and cascade restarts.
//
//   DependencyGraph graph;
//   REBOUND_RETURN_IF_ERROR(graph.AddService("api", {"db"}));
//   REBOUND_RETURN_IF_ERROR(graph.AddService("db", {}));
//   REBOUND_RETURN_IF_ERROR(graph.AddService("worker", {"api"}));
//   auto start = graph.StartOrder();    // db, api, worker
//   auto stop = graph.StopOrder();      // worker, api, db
//   auto hit = graph.Dependents("db");  // api, worker: what rest_for_one restarts with db
//
// Orders are deterministic: among services whose dependencies are all placed, the one added
// first (its place in the config file) goes first. A cycle makes every order an Error that
// spells the cycle out: "dependency cycle: api -> worker -> api". Dependencies on names never
// added are ignored here (the config layer reports them with file and line).
//
// Not thread-safe: build it, then read it from one thread (or share it read-only). A value
// type; it owns copies of the names.

#include <string>
#include <vector>

#include "base/error.h"

namespace rebound::supervise {

class DependencyGraph {
 public:
  // Adds `name`, which depends on `depends_on` (in the order given). A validation Error if
  // `name` was already added.
  Status AddService(const std::string& name, const std::vector<std::string>& depends_on);

  bool Contains(const std::string& name) const { return IndexOf(name) >= 0; }
  // Services in the order they were added.
  std::vector<std::string> Services() const;

  // Every service after all of its dependencies.
  Result<std::vector<std::string>> StartOrder() const;
  // The reverse of StartOrder: dependents stop before what they depend on.
  Result<std::vector<std::string>> StopOrder() const;
  // Services that depend on `name` directly or transitively, in start order, without `name`.
  // A not_found Error if `name` was never added.
  Result<std::vector<std::string>> Dependents(const std::string& name) const;

 private:
  struct Node {
    std::string name;
    std::vector<std::string> depends_on;
  };

  int IndexOf(const std::string& name) const;
  // For each node, the indices of the known nodes it depends on.
  std::vector<std::vector<int>> KnownDependencies() const;
  Result<std::vector<int>> StartOrderIndices() const;
  Error CycleError(const std::vector<std::vector<int>>& dependencies,
                   const std::vector<bool>& placed) const;

  std::vector<Node> nodes_;
};

}  // namespace rebound::supervise
