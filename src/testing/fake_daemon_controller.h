#pragma once

// FakeDaemonController: an in-memory DaemonController for API and CLI tests. Info() returns
// what was set; Reload() returns the scripted outcome or error and counts calls.
//
//   FakeDaemonController daemon;
//   daemon.SetInfo({.version = "0.1.0", .config_digest = "abc"});
//   daemon.SetReloadResult(ValidationError("rebound.toml:3: services.api.command: ..."));
//   RegisterDaemonRoutes(server, daemon);
//
// Thread-safe (the HTTP server calls it from its worker threads).

#include <mutex>

#include "engine/daemon_controller.h"

namespace rebound::testing {

class FakeDaemonController final : public engine::DaemonController {
 public:
  void SetInfo(engine::DaemonInfo info);
  void SetReloadResult(Result<engine::ReloadOutcome> result);
  int reload_calls() const;

  engine::DaemonInfo Info() override;
  Result<engine::ReloadOutcome> Reload() override;

 private:
  mutable std::mutex mutex_;
  engine::DaemonInfo info_;
  Result<engine::ReloadOutcome> reload_result_ = engine::ReloadOutcome{};
  int reload_calls_ = 0;
};

}  // namespace rebound::testing
