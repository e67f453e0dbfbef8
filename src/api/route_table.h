#pragma once

// RouteTable: method + path pattern -> handler, with "/v1/services/:name/start"-style
// segments. Matching is by segment, not regex, so it costs a few string compares per route.
//
//   RouteTable routes;
//   routes.Add("GET", "/v1/services/:name", handler);
//   RouteMatch match = routes.Find("POST", "/v1/services/api");
//   // match.handler == nullptr, match.allowed_methods == {"GET"}  -> answer 405
//
// Not thread-safe for Add; Find is safe to call concurrently once routes are added.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "api/http_message.h"

namespace rebound::api {

using RouteHandler = std::function<HttpResponse(const HttpRequest&)>;

struct RouteMatch {
  const RouteHandler* handler = nullptr;  // null: no route for this method and path
  bool accepts_json_body = false;
  const std::string* pattern = nullptr;  // the matched route's pattern (a metrics label)
  std::map<std::string, std::string> path_params;
  // Methods that do route this path: non-empty with a null handler means 405, not 404.
  std::vector<std::string> allowed_methods;
};

class RouteTable {
 public:
  // A ":name" segment matches any one non-empty segment and is captured under "name".
  // accepts_json_body: a request body, when present, must be JSON (else 415 / 400).
  void Add(std::string method, const std::string& pattern, RouteHandler handler,
           bool accepts_json_body);

  // HEAD is served by GET routes.
  RouteMatch Find(const std::string& method, const std::string& path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    RouteHandler handler;
    bool accepts_json_body;
  };

  std::vector<Route> routes_;
};

}  // namespace rebound::api
