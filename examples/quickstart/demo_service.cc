// demo_service: the small HTTP service the quickstart puts under rebound. It can be told to
// fail the ways real services fail, so that detection and recovery can be watched.
//
//   demo_service 8080          (or PORT=8080 demo_service; port 0 picks a free port)
//
//   GET  /health      200 {"status":"ok"}
//   GET  /work        200 {"result": N}   (N counts the work done since start)
//   POST /crash       200 {"status":"crashing"}, then the process exits with code 1
//   POST /hang        200 {"status":"hanging"}; from then on /health and /work never answer
//   POST /slow?ms=N   200 {"delay_ms":N}; every later response takes N ms longer (0: none)
//   SIGTERM, SIGINT   logs a line and exits 0, also while hanging
//
// Every request and event is logged as one line on stdout; the first line is
// "demo_service: listening on 127.0.0.1:PORT".

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace {

// What the failure knobs have set; shared by the server's worker threads.
class DemoState {
 public:
  void Hang() {
    std::lock_guard lock(mutex_);
    hung_ = true;
  }
  void Stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  // Blocks while hung, until Stop(); returns false when the request must not be served.
  bool WaitUnlessHung() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !hung_ || stopping_; });
    return !stopping_;
  }
  // The configured delay, cut short by Stop().
  void Delay() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(delay_ms_), [this] { return stopping_; });
  }
  void SetDelay(int delay_ms) {
    std::lock_guard lock(mutex_);
    delay_ms_ = delay_ms;
  }
  long NextWorkResult() { return ++work_done_; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hung_ = false;
  bool stopping_ = false;
  int delay_ms_ = 0;
  std::atomic<long> work_done_{0};
};

void Log(const std::string& line) { std::printf("demo_service: %s\n", line.c_str()); }

std::optional<int> ParseNonNegative(const std::string& text, int max) {
  int value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

void Json(httplib::Response& response, int status, const std::string& body) {
  response.status = status;
  response.set_content(body, "application/json");
}

void AddRoutes(httplib::Server& server, DemoState& state) {
  auto served = [&state](auto body) {
    return [&state, body](const httplib::Request&, httplib::Response& response) {
      if (!state.WaitUnlessHung()) {
        Json(response, 503, R"({"status":"stopping"})");
        return;
      }
      body(response);
    };
  };
  server.Get("/health", served([](httplib::Response& response) {
               Json(response, 200, R"({"status":"ok"})");
             }));
  server.Get("/work", served([&state](httplib::Response& response) {
               Json(response, 200, R"({"result":)" + std::to_string(state.NextWorkResult()) + "}");
             }));
  server.Post("/crash", [](const httplib::Request&, httplib::Response& response) {
    Json(response, 200, R"({"status":"crashing"})");  // the logger exits once it is sent
  });
  server.Post("/hang", [&state](const httplib::Request&, httplib::Response& response) {
    state.Hang();
    Json(response, 200, R"({"status":"hanging"})");
  });
  server.Post("/slow", [&state](const httplib::Request& request, httplib::Response& response) {
    std::optional<int> delay_ms = ParseNonNegative(request.get_param_value("ms"), 600000);
    if (!delay_ms) {
      Json(response, 400, R"({"error":{"code":"validation","message":"ms must be 0..600000"}})");
      return;
    }
    state.SetDelay(*delay_ms);
    Json(response, 200, R"({"delay_ms":)" + std::to_string(*delay_ms) + "}");
  });
}

void Configure(httplib::Server& server, DemoState& state) {
  server.set_keep_alive_timeout(1);  // idle connections must not hold up a SIGTERM exit
  server.set_pre_routing_handler([&state](const httplib::Request&, httplib::Response&) {
    state.Delay();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Runs after the response is written, so /crash answers before the process dies.
  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    Log(request.method + " " + request.path + " " + std::to_string(response.status));
    if (request.method == "POST" && request.path == "/crash") {
      Log("crashing on request, exit code 1");
      std::fflush(stdout);
      std::_Exit(1);
    }
  });
  AddRoutes(server, state);
}

std::optional<int> PortFromArgs(int argc, char** argv) {
  const char* text = argc > 1 ? argv[1] : std::getenv("PORT");
  if (text == nullptr) {
    return std::nullopt;
  }
  return ParseNonNegative(text, 65535);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::optional<int> port = PortFromArgs(argc, argv);
  if (!port) {
    std::fprintf(stderr, "usage: demo_service PORT   (or PORT=... demo_service; 0..65535)\n");
    return 2;
  }
  // Signals go to the waiting thread below, never to a worker in the middle of a request.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  DemoState state;
  httplib::Server server;
  Configure(server, state);
  const int bound_port = *port == 0 ? server.bind_to_any_port("127.0.0.1")
                                    : (server.bind_to_port("127.0.0.1", *port) ? *port : -1);
  if (bound_port < 0) {
    std::fprintf(stderr, "demo_service: cannot listen on 127.0.0.1:%d\n", *port);
    return 1;
  }
  Log("listening on 127.0.0.1:" + std::to_string(bound_port));
  std::atomic<bool> signalled{false};
  std::thread signal_waiter([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    signalled = true;
    Log(std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
        ", shutting down");
    state.Stop();
    while (!server.is_running()) {  // stop() is a no-op until the accept loop runs
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    server.stop();
  });
  server.listen_after_bind();
  if (!signalled) {
    Log("accept loop failed; exiting with code 1");
    std::fflush(stdout);
    std::_Exit(1);  // the signal waiter is still blocked in sigwait
  }
  signal_waiter.join();
  Log("stopped");
  return 0;
}
