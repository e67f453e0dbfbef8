#pragma once

// One request to the daemon, as the CLI commands make it, with failures already turned into
// the one line the user sees.
//
//   Result<Reply> reply = SendRequest(options, {.method = "GET", .path = "/v1/daemon"});
//   if (!reply.ok()) { err << reply.error().message() << "\n"; return kExitNoAnswer; }
//   if (reply->status != 200) { err << Refusal(options, "daemon", *reply) << "\n"; ... }
//   Status streamed = StreamRequest(options, "/v1/events/stream", {}, [&](std::string_view b) {
//     return Consume(b);                                 // false: stop reading
//   });
//
// Exit codes shared by every command (docs/operations.md): 0 done, 1 refused by the daemon
// (unknown name, bad token, conflict, invalid value, shutting down), 2 no answer (daemon
// unreachable, a malformed reply) or bad arguments.
//
// Stateless; safe from several threads.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/error.h"
#include "cli/client_options.h"

namespace rebound::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitNoAnswer = 2;

struct Request {
  std::string method = "GET";  // GET, POST or PUT
  std::string path;            // with its query string, already encoded
  std::string body = {};       // JSON; sent with PUT and POST
  std::map<std::string, std::string> headers = {};
};

struct Reply {
  int status = 0;
  std::string body = {};
  nlohmann::json json = nullptr;  // discarded when the body is not JSON
  std::map<std::string, std::string> headers = {};
};

// The error (network or validation) carries the whole line to print, "rebound: ..." included.
Result<Reply> SendRequest(const ClientOptions& options, const Request& request);

// GETs `path` and hands each chunk of the body to `on_data` until it returns false, the
// daemon ends the response, or the connection breaks. A non-200 answer is returned as the
// Reply (its body collected); a 200 stream that ends or breaks returns status 200. An error
// only when no answer came at all.
Result<Reply> StreamRequest(const ClientOptions& options, const std::string& path,
                            const std::map<std::string, std::string>& headers,
                            const std::function<bool(std::string_view)>& on_data);

// The one line for an answer that is not the expected one: 401 says where the token comes
// from, 503 shutting_down says so, anything else shows the status, code and message.
std::string Refusal(const ClientOptions& options, const std::string& what, const Reply& reply);

// A string member of the {"error": {...}} object, or "" when absent.
std::string ErrorField(const Reply& reply, const char* key);

// Percent-encodes everything but RFC 3986 unreserved characters (a path segment or a query
// value).
std::string EncodeComponent(const std::string& text);

}  // namespace rebound::cli
