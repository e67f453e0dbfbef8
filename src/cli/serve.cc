#include "cli/serve.h"

#include "api/http_server.h"
#include "api/service_routes.h"
#include "api/token.h"
#include "engine/config.h"
#include "engine/daemon.h"

namespace rebound::cli {
namespace {

// The running binary itself, even if a package upgrade replaced the file meanwhile.
constexpr const char* kSelfExecutable = "/proc/self/exe";

}  // namespace

int RunServe(const std::string& config_path, std::ostream& err) {
  auto config = engine::LoadConfig(config_path, engine::ProcessEnvironment());
  if (!config.ok()) {
    err << "rebound: " << config.error().message() << "\n";
    return 1;
  }
  auto daemon = engine::Daemon::Create({.config = *config, .rebound_binary = kSelfExecutable});
  if (!daemon.ok()) {
    err << "rebound: " << daemon.error().message() << "\n";
    return 1;
  }
  auto token = api::LoadOrCreateToken(DefaultFileSystem(), config->daemon.data_dir);
  if (!token.ok()) {
    err << "rebound: " << token.error().message() << "\n";
    return 1;
  }
  api::HttpServer server;
  api::RegisterServiceRoutes(server, **daemon);
  Status listening = server.Start(config->daemon.listen_host, config->daemon.listen_port, *token);
  if (!listening.ok()) {
    err << "rebound: cannot listen on " << config->daemon.listen_host << ":"
        << config->daemon.listen_port << ": " << listening.error().message() << "\n";
    return 1;
  }
  (*daemon)->Run();
  server.Stop();
  return 0;
}

}  // namespace rebound::cli
