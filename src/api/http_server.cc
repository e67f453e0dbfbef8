#include "api/http_server.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <thread>

#include "api/listen_socket.h"
#include "api/token.h"
#include "base/clock.h"
#include "base/duration.h"

namespace rebound::api {
namespace {

// httplib::Server keeps its listening socket in a protected member; this lets the server
// accept on a socket opened by ListeningSocket (large backlog, no SO_REUSEPORT).
class AdoptingServer final : public httplib::Server {
 public:
  void AdoptListeningSocket(int fd) { svr_sock_ = fd; }
};

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// "application/json; charset=utf-8" -> "application/json".
std::string MediaType(std::string_view content_type) {
  return Lowercase(Trim(content_type.substr(0, content_type.find(';'))));
}

std::optional<std::string> BearerToken(const httplib::Request& request) {
  const std::string value = request.get_header_value("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || Lowercase(value.substr(0, kScheme.size())) != kScheme) {
    return std::nullopt;
  }
  return std::string(Trim(std::string_view(value).substr(kScheme.size())));
}

// Methods whose body httplib reads before routing (its detail::expect_content).
bool HttplibReadsBody(const httplib::Request& request) {
  const std::string& method = request.method;
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE" ||
         method == "PRI";
}

bool HasBodyFraming(const httplib::Request& request) {
  return request.has_header("Content-Length") || request.has_header("Transfer-Encoding");
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string joined;
  for (const std::string& part : parts) {
    joined += (joined.empty() ? "" : std::string(separator)) + part;
  }
  return joined;
}

// A StreamSink over httplib's chunked DataSink; closed when the client goes or the server
// stops (`running` false). Writes go through until the client goes, so that a stream can
// flush what it owes while the server stops.
class ChunkSink final : public StreamSink {
 public:
  ChunkSink(httplib::DataSink& sink, const std::atomic<bool>& running)
      : sink_(sink), running_(running) {}
  bool Write(std::string_view data) override {
    return sink_.is_writable() && sink_.write(data.data(), data.size());
  }
  bool IsOpen() const override { return running_ && sink_.is_writable(); }

 private:
  httplib::DataSink& sink_;
  const std::atomic<bool>& running_;
};

void WriteResponse(const HttpResponse& response, httplib::Response& out,
                   const std::atomic<bool>* running = nullptr) {
  out.status = response.status;
  for (const auto& [name, value] : response.headers) {
    out.set_header(name, value);
  }
  if (response.stream && running != nullptr) {
    out.set_chunked_content_provider(response.content_type, [stream = response.stream, running](
                                                                size_t, httplib::DataSink& sink) {
      ChunkSink chunks(sink, *running);
      stream(chunks);
      sink.done();
      return true;
    });
  } else if (response.text) {
    out.set_content(*response.text, response.content_type);
  } else {
    out.set_content(SerializeJson(response.body), "application/json");
  }
}

std::map<std::string, std::string> LowercaseHeaders(const httplib::Headers& headers) {
  std::map<std::string, std::string> lower;
  for (const auto& [name, value] : headers) {
    lower.emplace(Lowercase(name), value);
  }
  return lower;
}

std::string DescribeStatus(int status, size_t max_body_bytes) {
  switch (status) {
    case 413:
      return "request body exceeds " + std::to_string(max_body_bytes) + " bytes";
    case 414:
      return "request URI too long";
    case 400:
      return "malformed HTTP request";
    default:
      return "request failed with HTTP status " + std::to_string(status);
  }
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions server_options) : options(server_options) {}

  void Configure();
  void RegisterMetrics();
  // Dispatch with every exception caught: nothing a handler throws reaches httplib.
  void Handle(const httplib::Request& request, httplib::Response& response) const;
  HttpResponse Dispatch(const httplib::Request& request, const std::string*& pattern) const;
  void Record(const std::string& method, const std::string* pattern, int status,
              Duration elapsed) const;
  std::optional<HttpResponse> CheckAuthorization(const httplib::Request& request) const;
  std::optional<HttpResponse> ParseBody(const httplib::Request& request, bool accepts_json_body,
                                        HttpRequest& parsed) const;

  HttpServerOptions options;
  RouteTable routes;
  AdoptingServer server;
  std::optional<ListeningSocket> socket;
  std::thread thread;
  std::atomic<bool> running{false};  // bound: from Bind until Stop
  int unserved_fd = -1;              // httplib's duplicate of the socket, between Bind and Serve
  std::string token;
  bool reads_require_token = false;
  int port = 0;
  CounterFamily* requests_total = nullptr;
  HistogramFamily* request_seconds = nullptr;
};

void HttpServer::Impl::RegisterMetrics() {
  if (options.metrics == nullptr) {
    return;
  }
  requests_total = &options.metrics->AddCounter(
      "rebound_http_requests_total", "HTTP requests answered, by method, route and status code",
      {"method", "route", "code"});
  request_seconds = &options.metrics->AddHistogram(
      "rebound_http_request_duration_seconds",
      "Time from routing an HTTP request to having its response ready", {"method", "route"},
      kLatencyBuckets);
}

void HttpServer::Impl::Record(const std::string& method, const std::string* pattern, int status,
                              Duration elapsed) const {
  if (requests_total == nullptr) {
    return;
  }
  // Routes, not paths, label the series: a path carries client-chosen names.
  const std::string& route = pattern != nullptr ? *pattern : std::string("unmatched");
  requests_total->WithLabels({method, route, std::to_string(status)}).Increment();
  request_seconds->WithLabels({method, route}).Observe(ToSeconds(elapsed));
}

void HttpServer::Impl::Configure() {
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(static_cast<size_t>(options.keep_alive_max_requests));
  server.set_keep_alive_timeout(options.keep_alive_timeout.count());
  server.set_read_timeout(options.read_timeout);
  server.set_write_timeout(options.write_timeout);
  server.set_payload_max_length(options.max_body_bytes);
  const size_t threads = static_cast<size_t>(std::max(options.worker_threads, 1));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Requests without a body are answered before httplib would try to read one.
  server.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        if (HttplibReadsBody(request) && HasBodyFraming(request)) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        Handle(request, response);
        return httplib::Server::HandlerResponse::Handled;
      });
  auto with_body = [this](const httplib::Request& request, httplib::Response& response) {
    Handle(request, response);
  };
  server.Post(".*", with_body).Put(".*", with_body).Patch(".*", with_body);
  server.Delete(".*", with_body);
  // Errors httplib produces itself (400, 413, 414) get the JSON error shape too; responses
  // from Handle already carry a body and are left alone.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [max = options.max_body_bytes](const httplib::Request&, httplib::Response& response) {
        if (!response.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        WriteResponse(ErrorResponse(response.status, ErrorCodeForStatus(response.status),
                                    DescribeStatus(response.status, max)),
                      response);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
        WriteResponse(ErrorResponse(500, "internal", "internal error"), response);
      });
}

void HttpServer::Impl::Handle(const httplib::Request& request, httplib::Response& response) const {
  const MonoTime start = DefaultClock().MonotonicNow();
  const std::string* pattern = nullptr;
  HttpResponse result;
  try {
    result = Dispatch(request, pattern);
  } catch (const std::exception& error) {
    result = ErrorResponse(500, "internal", std::string("internal error: ") + error.what());
  } catch (...) {
    result = ErrorResponse(500, "internal", "internal error");
  }
  WriteResponse(result, response, &running);
  Record(request.method, pattern, result.status, DefaultClock().MonotonicNow() - start);
}

HttpResponse HttpServer::Impl::Dispatch(const httplib::Request& request,
                                        const std::string*& pattern) const {
  RouteMatch match = routes.Find(request.method, request.path);
  pattern = match.pattern;
  if (match.handler == nullptr) {
    if (match.allowed_methods.empty()) {
      return ErrorResponse(404, "not_found", "no route for " + request.method + " " + request.path);
    }
    HttpResponse response =
        ErrorResponse(405, "method_not_allowed",
                      request.method + " is not allowed on " + request.path +
                          " (allowed: " + Join(match.allowed_methods, ", ") + ")");
    response.headers.emplace_back("Allow", Join(match.allowed_methods, ", "));
    return response;
  }
  if (auto denied = CheckAuthorization(request)) {
    return *denied;
  }
  HttpRequest parsed{.method = request.method,
                     .path = request.path,
                     .path_params = std::move(match.path_params),
                     .query = {request.params.begin(), request.params.end()},
                     .body = request.body,
                     .headers = LowercaseHeaders(request.headers)};
  if (auto rejected = ParseBody(request, match.accepts_json_body, parsed)) {
    return *rejected;
  }
  return (*match.handler)(parsed);
}

std::optional<HttpResponse> HttpServer::Impl::CheckAuthorization(
    const httplib::Request& request) const {
  const bool is_read = request.method == "GET" || request.method == "HEAD";
  if (is_read && !reads_require_token) {
    return std::nullopt;
  }
  std::optional<std::string> presented = BearerToken(request);
  std::optional<HttpResponse> denied;
  if (!presented) {
    denied = ErrorResponse(401, "unauthorized",
                           "missing bearer token: send `Authorization: Bearer TOKEN` with the "
                           "token from the daemon's DATA_DIR/token");
  } else if (!ConstantTimeEquals(*presented, token)) {
    denied = ErrorResponse(401, "unauthorized",
                           "invalid bearer token: use the token in the daemon's DATA_DIR/token");
  }
  if (denied) {
    denied->headers.emplace_back("WWW-Authenticate", "Bearer realm=\"rebound\"");
  }
  return denied;
}

std::optional<HttpResponse> HttpServer::Impl::ParseBody(const httplib::Request& request,
                                                        bool accepts_json_body,
                                                        HttpRequest& parsed) const {
  if (request.body.empty() || !accepts_json_body) {
    return std::nullopt;
  }
  const std::string media_type = MediaType(request.get_header_value("Content-Type"));
  if (media_type != "application/json") {
    return ErrorResponse(415, "unsupported_media_type",
                         "request body must be application/json, got \"" +
                             (media_type.empty() ? std::string("none") : media_type) + "\"");
  }
  try {
    parsed.json = nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::exception& error) {
    return ErrorResponse(400, "malformed", std::string("malformed JSON body: ") + error.what());
  }
  return std::nullopt;
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(options)) {
  impl_->Configure();
  impl_->RegisterMetrics();
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& pattern, RouteHandler handler) {
  impl_->routes.Add("GET", pattern, std::move(handler), /*accepts_json_body=*/false);
}

void HttpServer::Post(const std::string& pattern, RouteHandler handler) {
  impl_->routes.Add("POST", pattern, std::move(handler), /*accepts_json_body=*/true);
}

void HttpServer::Put(const std::string& pattern, RouteHandler handler) {
  impl_->routes.Add("PUT", pattern, std::move(handler), /*accepts_json_body=*/true);
}

Status HttpServer::Start(const std::string& host, int port, std::string token) {
  REBOUND_RETURN_IF_ERROR(Bind(host, port, std::move(token)));
  Serve();
  return OkStatus();
}

Status HttpServer::Bind(const std::string& host, int port, std::string token) {
  if (impl_->running) {
    return ConflictError("http server already started on port " + std::to_string(this->port()));
  }
  if (token.empty()) {
    return ValidationError("http server: the API token must not be empty");
  }
  Result<ListeningSocket> socket = ListeningSocket::Open(host, port, impl_->options.listen_backlog);
  if (!socket.ok()) {
    return socket.error().WithContext("http server");
  }
  // httplib closes the descriptor it accepts on; it gets a duplicate so that this object
  // keeps one it can always shut down, even before httplib's accept loop has started.
  Result<int> httplib_fd = socket->Duplicate();
  if (!httplib_fd.ok()) {
    return httplib_fd.error().WithContext("http server");
  }
  impl_->port = socket->port();
  impl_->socket.emplace(std::move(socket).value());
  impl_->token = std::move(token);
  impl_->reads_require_token = impl_->options.require_token_for_reads || !IsLoopbackHost(host);
  impl_->unserved_fd = *httplib_fd;
  impl_->running = true;
  return OkStatus();
}

void HttpServer::Serve() {
  if (!impl_->running || impl_->unserved_fd < 0) {
    return;
  }
  impl_->server.AdoptListeningSocket(impl_->unserved_fd);
  impl_->unserved_fd = -1;
  impl_->thread = std::thread([impl = impl_.get()] { impl->server.listen_after_bind(); });
}

void HttpServer::Stop() {
  if (!impl_->running.exchange(false)) {
    return;
  }
  if (impl_->thread.joinable()) {
    impl_->server.stop();       // closes httplib's duplicate if its loop is running
    impl_->socket->Shutdown();  // wakes accept() in case the loop had not started yet
    impl_->thread.join();
  } else {
    ::close(impl_->unserved_fd);  // bound, never served: httplib never took it
    impl_->unserved_fd = -1;
  }
  impl_->socket.reset();
}

int HttpServer::port() const { return impl_->port; }

bool HttpServer::IsRunning() const { return impl_->running; }

bool HttpServer::ReadsRequireToken() const { return impl_->reads_require_token; }

}  // namespace rebound::api
