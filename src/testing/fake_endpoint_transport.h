#pragma once

// FakeEndpointTransport: module sources and restore targets without I/O. Tests script what
// each endpoint answers (keyed by its description, "url http://...") and read back what was
// written, in order.
//
//   FakeEndpointTransport transport;
//   transport.SetBody("url http://app/state", R"({"model": "gpt-4"})");
//   transport.Fail("file /app/state.json", TimeoutError("killed after 2s"));
//   ... transport.writes()[0].body ...
//
// Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "snapshot/module_endpoint.h"

namespace rebound::testing {

class FakeEndpointTransport final : public snapshot::EndpointTransport {
 public:
  struct Written {
    std::string endpoint;
    std::string body;
  };

  // Read of `endpoint` answers `body`; a write to it succeeds.
  void SetBody(const std::string& endpoint, std::string body);
  // Reads of and writes to `endpoint` fail with `error`.
  void Fail(const std::string& endpoint, Error error);

  Result<std::string> Read(const snapshot::ModuleEndpoint& endpoint) override;
  Status Write(const snapshot::ModuleEndpoint& endpoint, const std::string& body) override;

  std::vector<Written> writes() const;
  int reads() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> bodies_;
  std::map<std::string, Error> failures_;
  std::vector<Written> writes_;
  int reads_ = 0;
};

}  // namespace rebound::testing
