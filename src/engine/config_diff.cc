#include "engine/config_diff.h"

#include <algorithm>

namespace rebound::engine {

ReloadOutcome DiffServices(const Config& before, const Config& after) {
  ReloadOutcome outcome{.config_digest = after.digest};
  for (const supervise::ServiceSpec& spec : after.services) {
    const supervise::ServiceSpec* old = before.FindService(spec.name);
    if (old == nullptr) {
      outcome.added.push_back(spec.name);
    } else if (supervise::SameServiceSpec(*old, spec) &&
               SameReliability(*before.FindReliability(spec.name),
                               *after.FindReliability(spec.name))) {
      outcome.unchanged.push_back(spec.name);
    } else {
      outcome.changed.push_back(spec.name);
    }
  }
  for (const supervise::ServiceSpec& spec : before.services) {
    if (after.FindService(spec.name) == nullptr) {
      outcome.removed.push_back(spec.name);
    }
  }
  for (auto* names : {&outcome.added, &outcome.removed, &outcome.changed, &outcome.unchanged}) {
    std::sort(names->begin(), names->end());
  }
  return outcome;
}

}  // namespace rebound::engine
