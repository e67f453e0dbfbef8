#include "snapshot/module_endpoint.h"

namespace rebound::snapshot {

namespace {

// A URL without what may carry a credential: "user:password@" and the query string.
std::string UrlWithoutCredentials(const std::string& url) {
  std::string shown = url;
  const size_t scheme = shown.find("://");
  const size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t path = shown.find_first_of("/?#", host);
  const size_t at = shown.rfind('@', path == std::string::npos ? shown.size() : path);
  if (at != std::string::npos && at >= host) {
    shown.replace(host, at + 1 - host, "…@");
  }
  const size_t query = shown.find('?');
  if (query != std::string::npos) {
    shown.replace(query, std::string::npos, "?…");
  }
  return shown;
}

}  // namespace

// Descriptions go into snapshots (module_sources), errors and events, which are kept and pushed
// to remotes: so no userinfo, query string or command arguments, where secrets are passed.
std::string DescribeEndpoint(const ModuleEndpoint& endpoint) {
  switch (endpoint.kind) {
    case EndpointKind::kUrl:
      return "url " + UrlWithoutCredentials(endpoint.location);
    case EndpointKind::kFile:
      return "file " + endpoint.location;
    case EndpointKind::kCommand:
      return "command " + (endpoint.command.empty() ? std::string() : endpoint.command.front()) +
             (endpoint.command.size() > 1 ? " …" : "");
  }
  return "unknown endpoint";
}

Result<nlohmann::json> PullModuleState(EndpointTransport& transport, const ModuleEndpoint& source) {
  auto body = transport.Read(source);
  if (!body.ok()) {
    return body.error().WithContext(DescribeEndpoint(source));
  }
  nlohmann::json document = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return ValidationError(DescribeEndpoint(source) + ": the state is not valid JSON (" +
                           std::to_string(body->size()) + " bytes)");
  }
  return document;
}

}  // namespace rebound::snapshot
