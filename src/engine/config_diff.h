#pragma once

// What a configuration reload changes, service by service.
//
//   ReloadOutcome diff = DiffServices(running_config, reloaded_config);
//   // diff.added {"worker"}, diff.removed {"legacy"}, diff.changed {"api"}, diff.unchanged {"db"}
//
// A service is changed when anything that affects how it runs (supervise::SameServiceSpec)
// or how it is watched and recovered (SameReliability) differs; moving its block in the file
// is not a change. Only a change of how it runs restarts it. Pure function.

#include "engine/config.h"
#include "engine/daemon_controller.h"

namespace rebound::engine {

ReloadOutcome DiffServices(const Config& before, const Config& after);

}  // namespace rebound::engine
