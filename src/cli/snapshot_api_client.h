#pragma once

// SnapshotApiClient: the snapshot routes of a running daemon's HTTP API, seen through the
// same SnapshotController interface the daemon implements, so the CLI prints the same
// answers whether it went through the daemon or worked on the data directory itself.
//
//   SnapshotApiClient client(options);
//   Result<nlohmann::json> list = client.ListSnapshots();   // GET /v1/snapshots
//
// Errors: network (daemon unreachable, with the one-line hint), permission (401: where the
// token was looked for), else the category and message of the daemon's JSON error.
// Stateless apart from the options; thread-safe.

#include "cli/client_options.h"
#include "engine/snapshot_controller.h"

namespace rebound::cli {

class SnapshotApiClient final : public engine::SnapshotController {
 public:
  explicit SnapshotApiClient(ClientOptions options) : options_(std::move(options)) {}

  Result<nlohmann::json> ListSnapshots() override;
  Result<nlohmann::json> CaptureSnapshot(const std::string& message) override;
  Status TagSnapshot(const std::string& revision, const std::string& name) override;
  Result<nlohmann::json> RecoverSnapshot(const engine::RecoverRequest& request) override;
  Result<nlohmann::json> PruneSnapshots(std::optional<int> keep) override;  // POST .../prune
  Result<nlohmann::json> PushSnapshots() override;                          // POST .../push
  Result<nlohmann::json> SnapshotRemoteStatus() override;                   // GET .../remote

 private:
  Result<nlohmann::json> Send(const std::string& method, const std::string& path,
                              const nlohmann::json& body);

  ClientOptions options_;
};

// The recover body for `request`: {"commit"|"tag"|"at", "dry_run"}.
nlohmann::json RecoverRequestToJson(const engine::RecoverRequest& request);

}  // namespace rebound::cli
