#include "supervise/service_spec.h"

namespace rebound::supervise {

std::string_view RestartPolicyName(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::kAlways:
      return "always";
    case RestartPolicy::kOnFailure:
      return "on-failure";
    case RestartPolicy::kNever:
      return "never";
  }
  return "always";
}

std::string_view CascadeName(Cascade cascade) {
  switch (cascade) {
    case Cascade::kOneForOne:
      return "one_for_one";
    case Cascade::kRestForOne:
      return "rest_for_one";
    case Cascade::kOneForAll:
      return "one_for_all";
  }
  return "one_for_one";
}

std::string_view DependencyConditionName(DependencyCondition condition) {
  return condition == DependencyCondition::kHealthy ? "healthy" : "started";
}

}  // namespace rebound::supervise
