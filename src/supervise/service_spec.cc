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

namespace {

bool SameBackoff(const resilience::BackoffConfig& a, const resilience::BackoffConfig& b) {
  // A custom function cannot be compared: treat it as a change (configs never set one).
  return a.strategy == b.strategy && a.initial == b.initial && a.increment == b.increment &&
         a.factor == b.factor && a.max == b.max && a.jitter == b.jitter && !a.custom && !b.custom;
}

}  // namespace

bool SameServiceSpec(const ServiceSpec& a, const ServiceSpec& b) {
  // `line` is where it was written, not what it is: moving a block is not a change.
  return a.name == b.name && a.command == b.command && a.cwd == b.cwd && a.env == b.env &&
         a.restart == b.restart && SameBackoff(a.backoff, b.backoff) &&
         a.intensity.max_restarts == b.intensity.max_restarts &&
         a.intensity.within == b.intensity.within && a.stop_signal == b.stop_signal &&
         a.stop_timeout == b.stop_timeout && a.depends_on == b.depends_on &&
         a.cascade == b.cascade && a.log.max_bytes == b.log.max_bytes && a.log.keep == b.log.keep;
}

}  // namespace rebound::supervise
