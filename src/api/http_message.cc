#include "api/http_message.h"

#include <cctype>
#include <charconv>

namespace rebound::api {

int HttpStatusFor(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kValidation:
      return 422;
    case ErrorCategory::kNotFound:
      return 404;
    case ErrorCategory::kConflict:
      return 409;
    case ErrorCategory::kPermission:
      return 403;
    case ErrorCategory::kResource:
      return 503;
    case ErrorCategory::kTimeout:
      return 504;
    case ErrorCategory::kNetwork:
    case ErrorCategory::kCorruption:
    case ErrorCategory::kUnknown:
      break;
  }
  return 500;
}

std::optional<std::string> HttpRequest::QueryParam(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<std::string> HttpRequest::Header(std::string_view name) const {
  std::string lower(name);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto it = headers.find(lower);
  if (it == headers.end()) {
    return std::nullopt;
  }
  return it->second;
}

HttpResponse TextResponse(int status, std::string text, std::string content_type) {
  return HttpResponse{
      .status = status, .text = std::move(text), .content_type = std::move(content_type)};
}

HttpResponse JsonResponse(int status, nlohmann::json body) {
  return HttpResponse{.status = status, .body = std::move(body)};
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string message) {
  return JsonResponse(status, {{"error", {{"code", code}, {"message", std::move(message)}}}});
}

HttpResponse ErrorResponse(const Error& error) {
  return ErrorResponse(HttpStatusFor(error.category()), CategoryName(error.category()),
                       error.message());
}

Result<int64_t> ParseIfMatch(const std::string& value) {
  std::string_view text = value;
  if (text.starts_with("W/")) {
    text.remove_prefix(2);
  }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  int64_t version = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || version < 1) {
    return ValidationError("header If-Match = " + value +
                           ": expected the ETag of the version to replace, e.g. \"3\"");
  }
  return version;
}

std::string SerializeJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view ErrorCodeForStatus(int status) {
  switch (status) {
    case 400:
      return "malformed";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 415:
      return "unsupported_media_type";
    case 416:
      return "range_not_satisfiable";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

}  // namespace rebound::api
