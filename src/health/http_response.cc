// JudgeHttpResponse and HttpResponseComplete (socket_prober.h): just enough HTTP/1.x to
// judge a health endpoint's answer.

#include <algorithm>
#include <cctype>
#include <charconv>

#include "health/socket_prober.h"

namespace rebound::health {
namespace {

constexpr std::string_view kHeaderEnd = "\r\n\r\n";

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// The Content-Length of `headers`, if one is given.
std::optional<size_t> ContentLength(std::string_view headers) {
  const std::string lower = Lower(headers);
  const size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  size_t start = at + 17;
  while (start < lower.size() && lower[start] == ' ') {
    ++start;
  }
  size_t length = 0;
  auto [end, ec] = std::from_chars(lower.data() + start, lower.data() + lower.size(), length);
  return ec == std::errc() ? std::optional(length) : std::nullopt;
}

}  // namespace

bool HttpResponseComplete(const std::string& response) {
  const size_t header_end = response.find(kHeaderEnd);
  if (header_end == std::string::npos) {
    return false;
  }
  const auto length = ContentLength(std::string_view(response).substr(0, header_end));
  return length && response.size() - header_end - kHeaderEnd.size() >= *length;
}

std::string JudgeHttpResponse(const std::string& response, const ProbeSpec& spec) {
  // "HTTP/1.1 200 OK"
  int status = 0;
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0 ||
      std::from_chars(response.data() + 9, response.data() + 12, status).ec != std::errc()) {
    return response.empty() ? "the server closed the connection without answering"
                            : "not an HTTP response";
  }
  if (status < spec.status_min || status > spec.status_max) {
    return "status " + std::to_string(status) + ", expected " + std::to_string(spec.status_min) +
           "-" + std::to_string(spec.status_max);
  }
  const size_t header_end = response.find(kHeaderEnd);
  if (header_end == std::string::npos) {
    return "incomplete response headers";
  }
  if (!spec.body_contains.empty() &&
      response.find(spec.body_contains, header_end) == std::string::npos) {
    return "body does not contain \"" + spec.body_contains + "\"";
  }
  return "";
}

}  // namespace rebound::health
