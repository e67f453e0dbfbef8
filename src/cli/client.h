#pragma once

// The CLI commands that talk to a running daemon over its HTTP API.
//
//   ClientOptions options = ResolveClientOptions(inputs, DefaultFileSystem());
//   int code = RunStatus(options, std::cout, std::cerr);            // rebound status
//   int code = RunServiceAction(options, "restart", "api", std::cout, std::cerr);
//
// Exit codes:
//   RunStatus         0 healthy, 1 degraded (a required service is not running, or the
//                     daemon is shutting down), 2 no answer (daemon unreachable, refused,
//                     or a malformed reply)
//   RunServiceAction  0 accepted, 1 refused by the daemon (unknown service, bad token,
//   RunRecoveryAction conflict, shutting down), 2 daemon unreachable or bad arguments
// Failures print ONE line on `err`, starting "rebound: ", saying what to do, e.g.
//   rebound: cannot reach the daemon at http://127.0.0.1:7300 (connection refused); is "rebound
//   serve" running?
//
// Stateless; safe to call from several threads with their own streams.

#include <ostream>
#include <string>

#include "cli/client_options.h"

namespace rebound::cli {

int RunStatus(const ClientOptions& options, std::ostream& out, std::ostream& err);

// REQUIRES nothing of `action` or `name`: bad ones are reported, exit code 2.
int RunServiceAction(const ClientOptions& options, const std::string& action,
                     const std::string& name, std::ostream& out, std::ostream& err);

// `rebound trigger NAME` (POST /reliability/auto-recovery/NAME/trigger) and `rebound reset
// NAME` (POST /reliability/circuit-breaker/NAME/reset): prints the daemon's message.
int RunRecoveryAction(const ClientOptions& options, const std::string& action,
                      const std::string& name, std::ostream& out, std::ostream& err);

}  // namespace rebound::cli
