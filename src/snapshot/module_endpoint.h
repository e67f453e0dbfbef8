#pragma once

// ModuleEndpoint: where an application module's state is pulled from at capture time (its
// "source") or pushed back to on recovery (its "restore" target), and the transport that
// reaches it. The daemon's configuration ([snapshots.modules.NAME], docs/configuration.md)
// declares one binding per module:
//
//   ModuleBinding binding{
//       .source = ModuleEndpoint{.kind = EndpointKind::kUrl, .location = "http://127.0.0.1:8080/state"},
//       .restore = ModuleEndpoint{.kind = EndpointKind::kCommand, .command = {"app", "--load"}},
//       .required = true};
//   Result<std::string> body = transport.Read(*binding.source);     // GET / read / stdout
//   Status pushed = transport.Write(*binding.restore, document.dump());  // PUT / write / stdin
//
// Errors carry retry meaning (timeout, network, not_found, ...) classified once, in the
// transport. Values are plain; a transport is thread-safe.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"

namespace rebound::snapshot {

enum class EndpointKind { kUrl, kFile, kCommand };

struct ModuleEndpoint {
  EndpointKind kind = EndpointKind::kUrl;
  std::string location = {};             // the URL (kUrl) or the file path (kFile)
  std::vector<std::string> command = {};  // kCommand: program and arguments, no shell
  Duration timeout = std::chrono::seconds(5);
};

struct ModuleBinding {
  std::optional<ModuleEndpoint> source = {};
  std::optional<ModuleEndpoint> restore = {};
  // A capture fails (and commits nothing) when a required module's source fails.
  bool required = false;
};

// "url http://...", "file /path", "command prog arg": what reports and logs show.
// "url http://host/path" (no user:password@, query shown as "?…"), "file PATH", "command PROG …"
// (no arguments): what snapshots, errors and events may show.
std::string DescribeEndpoint(const ModuleEndpoint& endpoint);

// The I/O behind module sources and restore targets. Read: an HTTP GET's 2xx body, a file's
// contents or a command's stdout (exit 0); Write: an HTTP PUT answered 2xx, a file replaced
// atomically, or a command fed `body` on stdin that exits 0. Both give up at the endpoint's
// timeout (a command is then killed, with its process group) with a timeout Error.
class EndpointTransport {
 public:
  virtual ~EndpointTransport() = default;
  virtual Result<std::string> Read(const ModuleEndpoint& endpoint) = 0;
  virtual Status Write(const ModuleEndpoint& endpoint, const std::string& body) = 0;
};

// The real transport (module_endpoint_posix.cc): cpp-httplib, the file system, posix_spawn.
EndpointTransport& DefaultEndpointTransport();

// Reads `binding`'s source and parses it as JSON. The Error names the endpoint.
Result<nlohmann::json> PullModuleState(EndpointTransport& transport, const ModuleEndpoint& source);

}  // namespace rebound::snapshot
