#include "snapshot/module_endpoint.h"

namespace rebound::snapshot {

std::string DescribeEndpoint(const ModuleEndpoint& endpoint) {
  switch (endpoint.kind) {
    case EndpointKind::kUrl:
      return "url " + endpoint.location;
    case EndpointKind::kFile:
      return "file " + endpoint.location;
    case EndpointKind::kCommand: {
      std::string text = "command";
      for (const std::string& arg : endpoint.command) {
        text += " " + arg;
      }
      return text;
    }
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
