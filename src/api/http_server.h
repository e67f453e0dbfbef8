#pragma once

// HttpServer: the daemon's HTTP API endpoint. JSON in, JSON out, bearer-token security,
// errors as {"error": {"code": ..., "message": ...}} with the right status.
//
//   HttpServer server;
//   server.Get("/v1/services/:name", [&](const HttpRequest& request) {
//     return JsonResponse(200, {{"name", request.PathParam("name")}});
//   });
//   server.Post("/v1/services/:name/restart", restart_handler);
//   REBOUND_RETURN_IF_ERROR(server.Start("127.0.0.1", 0, token));   // 0: ephemeral port
//   int port = server.port();
//   ...
//   server.Stop();
//
// Before a handler runs, the server answers by itself:
//   404 not_found           no route for the path
//   405 method_not_allowed  the path exists for other methods (Allow header lists them)
//   401 unauthorized        a non-GET request without `Authorization: Bearer TOKEN` or with
//                           a wrong token; GETs too when not listening on a loopback address
//                           (or when options.require_token_for_reads)
//   413 payload_too_large   body over max_body_bytes (1 MiB)
//   415 unsupported_media_type  a body that is not application/json on a POST or PUT route
//   400 malformed           unparseable request line, headers or JSON body
//   500 internal            a handler threw (the exception never escapes the server)
// A POST without Content-Length or Transfer-Encoding has an empty body (RFC 9112); httplib
// 0.11 would wait for EOF instead, so the server dispatches such requests before httplib
// tries to read a body.
//
// Throughput: httplib's defaults (Nagle on, backlog 5, keep-alive of 5 requests) give ~300
// requests/s on loopback; this server opens its own socket (ListeningSocket: backlog 1024,
// TCP_NODELAY), keeps connections alive for many requests and serves ~64 of them at once.
//
// Thread-safety: register routes, then Start; handlers run concurrently on the worker
// threads and must be thread-safe. Stop() may be called from any thread except a handler.
// Handlers (and what they capture) must outlive Stop(). The destructor stops the server.

#include <chrono>
#include <memory>
#include <string>

#include "api/http_message.h"
#include "api/route_table.h"
#include "base/error.h"
#include "base/metrics.h"

namespace rebound::api {

struct HttpServerOptions {
  size_t max_body_bytes = 1 << 20;
  int worker_threads = 64;  // concurrent connections served; more wait in the queue
  int listen_backlog = 1024;
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
  // An idle keep-alive connection is closed after this; Stop() waits at most this long
  // for idle connections to go.
  std::chrono::seconds keep_alive_timeout{2};
  int keep_alive_max_requests = 100000;
  // GETs need the token even on loopback (a host whose local users must not read status).
  bool require_token_for_reads = false;
  // When set, every routed request counts in rebound_http_requests_total{method,route,code}
  // and rebound_http_request_duration_seconds{method,route} (registered by the server; the
  // registry must outlive it). A streamed response counts when its stream begins.
  MetricsRegistry* metrics = nullptr;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // REQUIRES: not started. Patterns are paths with ":name" segments.
  void Get(const std::string& pattern, RouteHandler handler);
  // A POST body is optional; when present it must be JSON (parsed into request.json).
  void Post(const std::string& pattern, RouteHandler handler);
  // A PUT body, when present, must be JSON too.
  void Put(const std::string& pattern, RouteHandler handler);

  // Binds host:port (0: ephemeral) and serves on background threads. Errors: validation
  // (empty token, bad host or port), conflict (address in use, or already started),
  // permission (privileged port), network.
  Status Start(const std::string& host, int port, std::string token);
  // Start in two steps, for a caller that must know the address is free before it starts
  // anything but would rather not have the worker threads created yet: Bind takes the
  // address (same errors as Start; connections wait in the listen backlog), Serve starts the
  // threads that answer them. Serve without a successful Bind does nothing.
  Status Bind(const std::string& host, int port, std::string token);
  void Serve();
  // Stops accepting, lets in-flight requests finish, joins the threads. Idempotent.
  void Stop();

  // The bound port (the kernel's pick when started with 0); 0 before the first Start.
  int port() const;
  bool IsRunning() const;
  // True when GET routes need the token too (the server listens beyond loopback).
  bool ReadsRequireToken() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebound::api
