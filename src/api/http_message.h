#pragma once

// What route handlers see and return: a parsed request and a JSON response. Only api/ turns
// an Error into an HTTP status (HttpStatusFor), in one place.
//
//   HttpResponse GetService(const HttpRequest& request) {
//     Result<ServiceStatus> status = controller.GetService(request.PathParam("name"));
//     if (!status.ok()) return ErrorResponse(status.error());   // not_found -> 404
//     return JsonResponse(200, ToJson(*status));
//   }
//
// Error bodies: {"error": {"code": "not_found", "message": "no service named \"x\""}}.
// Plain values; no shared state.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace rebound::api {

// validation->422, not_found->404, conflict->409, permission->403, resource->503,
// timeout->504, anything else->500.
int HttpStatusFor(ErrorCategory category);

struct HttpRequest {
  std::string method;                                   // "GET", "POST", ...
  std::string path;                                     // decoded, without the query string
  std::map<std::string, std::string> path_params = {};  // from ":name" pattern segments
  std::multimap<std::string, std::string> query = {};
  std::string body = {};
  nlohmann::json json = nullptr;  // the parsed body on POST/PUT routes; null when there was none
  std::map<std::string, std::string> headers = {};  // names lowercased

  // REQUIRES: the route's pattern has the segment ":name".
  const std::string& PathParam(const std::string& name) const { return path_params.at(name); }
  std::optional<std::string> QueryParam(const std::string& name) const;
  // Case-insensitive, as HTTP header names are.
  std::optional<std::string> Header(std::string_view name) const;
};

// Where a streamed response (Server-Sent Events) writes. Write returns false once the client
// has gone. IsOpen turns false when the client has gone or the server is stopping: the
// stream function should then write what it still owes (e.g. events already committed) and
// return promptly.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool Write(std::string_view data) = 0;
  virtual bool IsOpen() const = 0;
};

struct HttpResponse {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers = {};
  // A non-JSON body (e.g. /metrics text): sent instead of `body` when set.
  std::optional<std::string> text = {};
  std::string content_type = "application/json";
  // A streamed body, written on the worker thread until it returns (then the response ends).
  std::function<void(StreamSink&)> stream = {};
};

// A text/plain (or other `content_type`) response.
HttpResponse TextResponse(int status, std::string text, std::string content_type);

HttpResponse JsonResponse(int status, nlohmann::json body);
// `code` is a stable machine name ("unauthorized", "not_found", ...), API like metric names.
HttpResponse ErrorResponse(int status, std::string_view code, std::string message);
// Status from HttpStatusFor, code from CategoryName ("validation", "not_found", ...).
HttpResponse ErrorResponse(const Error& error);

// The version in an If-Match header: `"3"`, `W/"3"` or `3` -> 3 (versions start at 1).
// Errors (validation) name the header and what it must hold.
Result<int64_t> ParseIfMatch(const std::string& value);

// The wire form: compact, invalid UTF-8 replaced rather than thrown on (names in messages
// come from URLs, which a client controls).
std::string SerializeJson(const nlohmann::json& value);

// The error code httplib-level failures get ("malformed" for 400, "payload_too_large" for
// 413, ...), for responses the server writes before any route runs.
std::string_view ErrorCodeForStatus(int status);

}  // namespace rebound::api
