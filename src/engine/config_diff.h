#pragma once

// What a configuration reload changes, service by service.
//
//   ReloadOutcome diff = DiffServices(running_config, reloaded_config);
//   // diff.added {"worker"}, diff.removed {"legacy"}, diff.changed {"api"}, diff.unchanged {"db"}
//
// A service is changed when anything that affects how it runs differs
// (supervise::SameServiceSpec); moving its block in the file is not a change. Pure function.

#include "engine/config.h"
#include "engine/daemon_controller.h"

namespace rebound::engine {

ReloadOutcome DiffServices(const Config& before, const Config& after);

}  // namespace rebound::engine
