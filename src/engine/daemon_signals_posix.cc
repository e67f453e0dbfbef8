#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "engine/daemon.h"

namespace rebound::engine {

// SIGTERM and SIGINT stop the daemon gracefully (a second one forcefully); SIGHUP reloads
// the configuration (so closing the terminal does not stop the daemon either).
Status Daemon::WatchSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) {
    sigaddset(&signals, signal);
  }
  if (::pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return ErrnoError(errno, "block signals");
  }
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    return ErrnoError(errno, "signalfd");
  }
  return OkStatus();
}

void Daemon::OnSignal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
    const int signal = static_cast<int>(info.ssi_signo);
    if (signal == SIGHUP) {
      OnReloadSignal();
      continue;
    }
    if (!shutting_down_) {
      BeginShutdown(std::string("received ") + ::strsignal(signal));
      continue;
    }
    spdlog::warn("second signal: killing every service now");
    for (const auto& view : supervisor_->Views()) {
      if (view.state == supervise::ServiceState::kRunning ||
          view.state == supervise::ServiceState::kStopping) {
        (void)launcher_->Kill(view.name);
      }
    }
  }
}

}  // namespace rebound::engine
