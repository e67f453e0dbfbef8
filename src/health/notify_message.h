#pragma once

// NotifyMessage: one datagram of the sd_notify protocol (man sd_notify), as a service
// written for systemd's Type=notify sends it to $NOTIFY_SOCKET: newline-separated
// VARIABLE=value assignments.
//
//   NotifyMessage m = ParseNotifyMessage("READY=1\nSTATUS=Loading model\n");
//   m.ready == true; m.status == "Loading model"
//
// Unknown variables (MAINPID=, RELOADING=, EXTEND_TIMEOUT_USEC=, ...) are ignored, as systemd
// ignores what it does not act on. Pure; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::health {

struct NotifyMessage {
  bool ready = false;             // READY=1
  bool stopping = false;          // STOPPING=1
  bool watchdog = false;          // WATCHDOG=1: a keep-alive ping
  bool watchdog_trigger = false;  // WATCHDOG=trigger: the service asks to be treated as hung
  std::optional<int64_t> watchdog_usec = {};  // WATCHDOG_USEC=N: a new watchdog period
  std::optional<std::string> status = {};     // STATUS=...: free text shown in status
};

NotifyMessage ParseNotifyMessage(std::string_view datagram);

}  // namespace rebound::health
