// SSE fan-out (docs/benchmarks.md): events appended to the journal at a fixed rate, delivered
// over loopback to many subscribers of GET /v1/events/stream. Every subscriber must see every
// sequence number, in order. The daemon's own event routes (RegisterEventRoutes) on its own
// HTTP server over a real store in a temp dir; the generator appends through the journal, so
// events take the path real ones take: group commit, then each stream's follow of the journal.
//
//   sse_bench [--subscribers 50] [--rate 10000] [--seconds 5] [--dir DIR]

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "api/event_routes.h"
#include "api/http_server.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
  int subscribers = 50;
  int rate = 10000;  // events per second
  double seconds = 5;
  std::string dir;
};

// One subscriber's view of the stream: what it saw and when.
struct Subscriber {
  std::atomic<bool> connected{false};
  std::atomic<bool> done{false};
  int64_t received = 0;
  int64_t out_of_order = 0;  // an id other than the previous + 1
  int64_t last_seq = 0;
  Clock::time_point finished;
};

// Reads "id: N" lines straight from the stream (each event's first line): the cheapest
// parse, so that the subscribers' side costs the shared 2 cores as little as possible.
class IdScanner {
 public:
  explicit IdScanner(Subscriber& subscriber, int64_t final_seq)
      : subscriber_(subscriber), final_seq_(final_seq) {}

  bool Feed(std::string_view bytes) {
    buffer_.append(bytes);
    size_t start = 0;
    size_t end = 0;
    while ((end = buffer_.find('\n', start)) != std::string::npos) {
      Line(std::string_view(buffer_).substr(start, end - start));
      start = end + 1;
    }
    buffer_.erase(0, start);
    return subscriber_.last_seq < final_seq_;
  }

 private:
  void Line(std::string_view line) {
    if (!line.starts_with("id: ")) {
      return;
    }
    int64_t seq = 0;
    std::from_chars(line.data() + 4, line.data() + line.size(), seq);
    if (!subscriber_.connected) {  // the stream's first block: where it starts
      subscriber_.last_seq = seq;
      subscriber_.connected = true;
      return;
    }
    if (seq != subscriber_.last_seq + 1) {
      ++subscriber_.out_of_order;
    }
    ++subscriber_.received;
    subscriber_.last_seq = seq;
    if (seq >= final_seq_) {
      subscriber_.finished = Clock::now();
    }
  }

  Subscriber& subscriber_;
  const int64_t final_seq_;
  std::string buffer_;
};

void Subscribe(int port, Subscriber& subscriber, int64_t final_seq) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30s);
  IdScanner scanner(subscriber, final_seq);
  client.Get("/v1/events/stream", [&](const char* data, size_t length) {
    return scanner.Feed(std::string_view(data, length));
  });
  subscriber.done = true;
}

// Appends `total` events at `rate` per second (paced every millisecond); returns when the
// last was committed.
double Generate(rebound::store::EventJournal& journal, int64_t total, int rate) {
  std::vector<std::future<rebound::Result<int64_t>>> appended;
  appended.reserve(static_cast<size_t>(total));
  const Clock::time_point start = Clock::now();
  for (int64_t n = 0; n < total;) {
    const auto due =
        static_cast<int64_t>(std::chrono::duration<double>(Clock::now() - start).count() * rate) +
        1;
    for (; n < std::min(due, total); ++n) {
      appended.push_back(journal.Append(
          {.category = "bench", .kind = "tick", .subject = "gen", .data = {{"n", n}}}));
    }
    std::this_thread::sleep_for(1ms);
  }
  for (auto& result : appended) {
    if (!result.get().ok()) {
      std::fprintf(stderr, "sse_bench: an append failed\n");
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--subscribers") options.subscribers = std::stoi(value);
    if (flag == "--rate") options.rate = std::stoi(value);
    if (flag == "--seconds") options.seconds = std::stod(value);
    if (flag == "--dir") options.dir = value;
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  const std::string dir =
      options.dir.empty() ? (std::filesystem::temp_directory_path() / "rebound-sse-bench").string()
                          : options.dir;
  std::filesystem::remove_all(dir);
  auto store = rebound::store::Store::Open(dir);
  if (!store.ok()) {
    std::fprintf(stderr, "sse_bench: %s\n", store.error().message().c_str());
    return 1;
  }
  rebound::store::EventJournal& journal = (*store)->journal();
  rebound::api::HttpServer server({.worker_threads = options.subscribers + 8});
  rebound::api::RegisterEventRoutes(server, journal, rebound::DefaultClock());
  if (!server.Start("127.0.0.1", 0, std::string(64, 't')).ok()) {
    std::fprintf(stderr, "sse_bench: cannot listen\n");
    return 1;
  }
  const int64_t total = static_cast<int64_t>(options.rate * options.seconds);
  const int64_t final_seq = journal.LastCommittedSeq() + total;
  std::vector<Subscriber> subscribers(static_cast<size_t>(options.subscribers));
  std::vector<std::thread> threads;
  for (Subscriber& subscriber : subscribers) {
    threads.emplace_back(Subscribe, server.port(), std::ref(subscriber), final_seq);
  }
  while (!std::all_of(subscribers.begin(), subscribers.end(),
                      [](const Subscriber& s) { return s.connected.load(); })) {
    std::this_thread::sleep_for(10ms);
  }
  const Clock::time_point start = Clock::now();
  const double generated_in = Generate(journal, total, options.rate);
  const Clock::time_point generated = Clock::now();
  for (std::thread& thread : threads) {
    thread.join();  // each ends at the last event, or after 30 s without one
  }
  int64_t lost = 0;
  int64_t out_of_order = 0;
  double slowest = 0;
  double max_lag = 0;
  for (const Subscriber& s : subscribers) {
    lost += total - s.received;
    out_of_order += s.out_of_order;
    const double took = std::chrono::duration<double>(s.finished - start).count();
    slowest = std::max(slowest, s.received == total ? took : 1e9);
    if (s.received == total) {
      max_lag = std::max(max_lag, std::chrono::duration<double>(s.finished - generated).count());
    }
  }
  std::printf(
      "SSE fan-out: %d subscribers, %lld events offered at %d/s (appended in %.2f s: "
      "%.0f/s)\n",
      options.subscribers, static_cast<long long>(total), options.rate, generated_in,
      static_cast<double>(total) / generated_in);
  std::printf(
      "  delivered per subscriber: %.0f events/s (slowest subscriber, first event to "
      "last); all subscribers: %.0f events/s\n",
      static_cast<double>(total) / slowest,
      static_cast<double>(total) * options.subscribers / slowest);
  std::printf(
      "  lost: %lld, out of order: %lld, last event reached every subscriber %.0f ms "
      "after it was committed\n",
      static_cast<long long>(lost), static_cast<long long>(out_of_order), max_lag * 1000);
  server.Stop();
  (*store)->Close();
  std::filesystem::remove_all(dir);
  return lost == 0 && out_of_order == 0 ? 0 : 1;
}
