#include "cli/http_client.h"

#include <httplib.h>

#include <cctype>

#include "cli/connect_probe.h"

namespace rebound::cli {
namespace {

// httplib reports only "connection failed"; a second, bounded attempt finds the cause the
// operator needs ("connection refused", "no route to host").
std::string DescribeTransportError(httplib::Error error, const DaemonAddress& address,
                                   const ClientOptions& options) {
  switch (error) {
    case httplib::Error::Connection:
      return ConnectFailureReason(address.host, address.port, options.connect_timeout);
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer before the timeout";
    case httplib::Error::Write:
      return "could not send the request";
    default:
      return httplib::to_string(error);
  }
}

std::string Unreachable(const ClientOptions& options, const std::string& reason) {
  return "rebound: cannot reach the daemon at " + options.url + " (" + reason +
         "); is \"rebound serve\" running?";
}

std::string Unauthorized(const ClientOptions& options) {
  if (options.token.empty()) {
    return "rebound: not authorized (HTTP 401): no token; the CLI reads it from --token, "
           "REBOUND_TOKEN, or " +
           options.token_source;
  }
  return "rebound: not authorized (HTTP 401): the daemon rejected the token from " +
         options.token_source +
         "; it must equal the daemon's DATA_DIR/token (pass --data-dir, --token or set "
         "REBOUND_TOKEN)";
}

httplib::Headers Headers(const ClientOptions& options,
                         const std::map<std::string, std::string>& extra) {
  httplib::Headers headers(extra.begin(), extra.end());
  if (!options.token.empty()) {
    headers.emplace("Authorization", "Bearer " + options.token);
  }
  return headers;
}

Reply ToReply(const httplib::Response& response) {
  Reply reply{.status = response.status, .body = response.body};
  reply.json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  for (const auto& [name, value] : response.headers) {
    reply.headers.emplace(name, value);
  }
  return reply;
}

}  // namespace

Result<Reply> SendRequest(const ClientOptions& options, const Request& request) {
  Result<DaemonAddress> address = ParseDaemonUrl(options.url);
  if (!address.ok()) {
    return ValidationError("rebound: " + address.error().message());
  }
  httplib::Client client(address->host, address->port);
  client.set_connection_timeout(options.connect_timeout);
  client.set_read_timeout(options.request_timeout);
  client.set_write_timeout(options.request_timeout);
  const httplib::Headers headers = Headers(options, request.headers);
  httplib::Result result = request.method == "POST" ? client.Post(request.path, headers,
                                                                  request.body, "application/json")
                           : request.method == "PUT"
                               ? client.Put(request.path, headers, request.body, "application/json")
                               : client.Get(request.path, headers);
  if (!result) {
    return NetworkError(
        Unreachable(options, DescribeTransportError(result.error(), *address, options)));
  }
  return ToReply(*result);
}

Result<Reply> StreamRequest(const ClientOptions& options, const std::string& path,
                            const std::map<std::string, std::string>& headers,
                            const std::function<bool(std::string_view)>& on_data) {
  Result<DaemonAddress> address = ParseDaemonUrl(options.url);
  if (!address.ok()) {
    return ValidationError("rebound: " + address.error().message());
  }
  httplib::Client client(address->host, address->port);
  client.set_connection_timeout(options.connect_timeout);
  // A quiet stream is not a dead one: the daemon sends a comment every 15 s.
  client.set_read_timeout(std::chrono::seconds(60));
  int status = 0;
  std::string error_body;
  bool stopped_by_caller = false;
  httplib::Result result = client.Get(
      path, Headers(options, headers),
      [&](const httplib::Response& response) {
        status = response.status;
        return true;
      },
      [&](const char* data, size_t length) {
        if (status != 200) {
          error_body.append(data, length);
          return true;
        }
        stopped_by_caller = !on_data(std::string_view(data, length));
        return !stopped_by_caller;
      });
  // A stream that was open and then broke is an ending like any other: the caller resumes.
  if (!result && !stopped_by_caller && status == 0) {
    return NetworkError(
        Unreachable(options, DescribeTransportError(result.error(), *address, options)));
  }
  Reply reply{.status = status, .body = error_body};
  reply.json = nlohmann::json::parse(error_body, nullptr, /*allow_exceptions=*/false);
  return reply;
}

std::string ErrorField(const Reply& reply, const char* key) {
  if (!reply.json.is_object()) {
    return "";
  }
  const nlohmann::json error = reply.json.value("error", nlohmann::json::object());
  if (!error.is_object() || !error.contains(key) || !error[key].is_string()) {
    return "";
  }
  return error[key].get<std::string>();
}

std::string Refusal(const ClientOptions& options, const std::string& what, const Reply& reply) {
  if (reply.status == 401) {
    return Unauthorized(options);
  }
  if (reply.status == 503 && ErrorField(reply, "code") == "shutting_down") {
    return "rebound: the daemon is shutting down; try again once it is back";
  }
  std::string message = ErrorField(reply, "message");
  if (message.empty()) {
    message = reply.body.empty() ? "no details" : reply.body.substr(0, 200);
  }
  return "rebound: " + what + " failed: HTTP " + std::to_string(reply.status) + " " +
         ErrorField(reply, "code") + ": " + message;
}

std::string EncodeComponent(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += {'%', kHex[c >> 4], kHex[c & 0x0f]};
    }
  }
  return encoded;
}

}  // namespace rebound::cli
