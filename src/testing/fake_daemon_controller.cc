#include "testing/fake_daemon_controller.h"

namespace rebound::testing {

void FakeDaemonController::SetInfo(engine::DaemonInfo info) {
  std::lock_guard lock(mutex_);
  info_ = std::move(info);
}

void FakeDaemonController::SetReloadResult(Result<engine::ReloadOutcome> result) {
  std::lock_guard lock(mutex_);
  reload_result_ = std::move(result);
}

int FakeDaemonController::reload_calls() const {
  std::lock_guard lock(mutex_);
  return reload_calls_;
}

engine::DaemonInfo FakeDaemonController::Info() {
  std::lock_guard lock(mutex_);
  return info_;
}

Result<engine::ReloadOutcome> FakeDaemonController::Reload() {
  std::lock_guard lock(mutex_);
  ++reload_calls_;
  return reload_result_;
}

}  // namespace rebound::testing
