#include "engine/status_board.h"

#include "base/clock.h"

namespace rebound::engine {

bool StatusBoard::Publish(std::vector<ServiceStatus> services) {
  for (ServiceStatus& service : services) {
    service.uptime_seconds = 0;
  }
  std::shared_ptr<const ServicesSnapshot> current = Current();
  // Compared outside the lock: only this (publishing) thread ever replaces current_.
  if (current->version > 0 && current->services == services) {
    return false;
  }
  auto next = std::make_shared<const ServicesSnapshot>(
      ServicesSnapshot{.version = current->version + 1, .services = std::move(services)});
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
  return true;
}

std::shared_ptr<const ServicesSnapshot> StatusBoard::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::vector<ServiceStatus> WithUptimes(const ServicesSnapshot& snapshot, WallTime now) {
  std::vector<ServiceStatus> services = snapshot.services;
  for (ServiceStatus& service : services) {
    if (service.running_since) {
      service.uptime_seconds = ToSeconds(now - *service.running_since);
    }
  }
  return services;
}

}  // namespace rebound::engine
