#include "api/route_table.h"

#include <algorithm>

namespace rebound::api {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 1;  // paths begin with '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool MatchSegments(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) {
    return false;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].starts_with(':')) {
      if (path[i].empty()) {
        return false;
      }
      params[pattern[i].substr(1)] = path[i];
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void RouteTable::Add(std::string method, const std::string& pattern, RouteHandler handler,
                     bool accepts_json_body) {
  routes_.push_back(
      Route{std::move(method), pattern, SplitPath(pattern), std::move(handler), accepts_json_body});
}

RouteMatch RouteTable::Find(const std::string& method, const std::string& path) const {
  RouteMatch match;
  if (!path.starts_with('/')) {
    return match;
  }
  const std::string& wanted = method == "HEAD" ? std::string("GET") : method;
  const std::vector<std::string> segments = SplitPath(path);
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchSegments(route.segments, segments, params)) {
      continue;
    }
    if (route.method == wanted) {
      match.handler = &route.handler;
      match.accepts_json_body = route.accepts_json_body;
      match.pattern = &route.pattern;
      match.path_params = std::move(params);
      return match;
    }
    if (std::find(match.allowed_methods.begin(), match.allowed_methods.end(), route.method) ==
        match.allowed_methods.end()) {
      match.allowed_methods.push_back(route.method);
    }
  }
  return match;
}

}  // namespace rebound::api
