// SocketProber on a real reactor with real loopback sockets: tcp and http probes answered,
// refused, wrong and hung; names and exec go to the fallback.

#include "health/socket_prober.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <thread>

#include "engine/reactor.h"
#include "health/prober_posix.h"

namespace rebound::health {
namespace {

using namespace std::chrono_literals;

// A loopback listener that answers every connection with `reply` (or nothing).
class FakeServer {
 public:
  explicit FakeServer(std::string reply, bool answer = true)
      : reply_(std::move(reply)), answer_(answer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)},
                        .sin_zero = {}};
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(fd_, 16);
    socklen_t size = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int held : held_) {
      ::close(held);
    }
  }
  int port() const { return port_; }

 private:
  void Serve() {
    for (;;) {
      const int connection = ::accept(fd_, nullptr, nullptr);
      if (connection < 0) {
        return;
      }
      if (!answer_) {
        held_.push_back(connection);  // a hung server: accepts, reads nothing, says nothing
        continue;
      }
      char buffer[1024];
      (void)!::recv(connection, buffer, sizeof(buffer), 0);
      (void)!::send(connection, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      ::close(connection);
    }
  }

  std::string reply_;
  bool answer_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<int> held_;
};

// Records what it was asked to do and answers at once.
class RecordingProber final : public Prober {
 public:
  void Run(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override {
    asked.push_back(spec.type == ProbeType::kExec ? "exec" : spec.url + spec.host);
    done({.ok = true});
  }
  std::vector<std::string> asked;
};

class SocketProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reactor_ = std::move(*engine::Reactor::Create());
    loop_ = std::thread([this] { reactor_->Run(); });
  }
  void TearDown() override {
    reactor_->Call([this] { prober_.reset(); });
    reactor_->Stop();
    loop_.join();
  }
  ProbeResult Probe(const ProbeSpec& spec) {
    std::promise<ProbeResult> result;
    reactor_->Post([&] {
      if (!prober_) {
        prober_ = std::make_unique<SocketProber>(*reactor_, *reactor_, DefaultClock(), fallback_);
      }
      prober_->Run(spec, [&](ProbeResult r) { result.set_value(std::move(r)); });
    });
    return result.get_future().get();
  }
  static ProbeSpec Http(int port, Duration timeout = 2s) {
    return {.type = ProbeType::kHttp,
            .url = "http://127.0.0.1:" + std::to_string(port) + "/health",
            .timeout = timeout};
  }

  std::unique_ptr<engine::Reactor> reactor_;
  std::thread loop_;
  RecordingProber fallback_;
  std::unique_ptr<SocketProber> prober_;
};

TEST_F(SocketProberTest, TcpConnectsOrIsRefused) {
  FakeServer server("");
  EXPECT_TRUE(Probe({.type = ProbeType::kTcp, .host = "127.0.0.1", .port = server.port()}).ok);
  const int closed_port = [] {
    FakeServer gone("");
    return gone.port();
  }();
  const ProbeResult refused =
      Probe({.type = ProbeType::kTcp, .host = "127.0.0.1", .port = closed_port});
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.reason,
            "connect 127.0.0.1:" + std::to_string(closed_port) + ": Connection refused");
}

TEST_F(SocketProberTest, HttpJudgesTheAnswer) {
  FakeServer ok("HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}");
  const ProbeResult good = Probe(Http(ok.port()));
  EXPECT_TRUE(good.ok) << good.reason;
  EXPECT_GT(good.latency, Duration::zero());
  FakeServer failing("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(Probe(Http(failing.port())).reason,
            "GET http://127.0.0.1:" + std::to_string(failing.port()) +
                "/health: status 500, expected 200-399");
}

TEST_F(SocketProberTest, AHungServerIsCutOffAtTheTimeout) {
  FakeServer hung("", /*answer=*/false);
  const auto start = std::chrono::steady_clock::now();
  const ProbeResult result = Probe(Http(hung.port(), 200ms));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.reason, "GET http://127.0.0.1:" + std::to_string(hung.port()) +
                               "/health: no complete response within 200ms");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_EQ(reactor_->Call([this] { return prober_->in_flight(); }), 0u);
}

TEST_F(SocketProberTest, NamesAndExecGoToTheFallback) {
  EXPECT_TRUE(Probe({.type = ProbeType::kHttp, .url = "http://localhost:1/x"}).ok);
  EXPECT_TRUE(Probe({.type = ProbeType::kExec, .command = {"true"}}).ok);
  EXPECT_EQ(fallback_.asked, (std::vector<std::string>{"http://localhost:1/x", "exec"}));
}

TEST(ExecProbeTest, ACommandThatClosesItsOutputAndHangsIsStillCutOff) {
  const auto start = std::chrono::steady_clock::now();
  const ProbeResult result = ProbeExec({.type = ProbeType::kExec,
                                        .command = {"sh", "-c", "exec >/dev/null 2>&1; sleep 5"},
                                        .timeout = 200ms});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.reason, "exec sh: timed out after 200ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(ExecProbeTest, CommandsGetDefaultSignalsNotTheDaemonsBlockedOnes) {
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &blocked, nullptr);  // as the daemon's threads have it
  const ProbeResult result =
      ProbeExec({.type = ProbeType::kExec,
                 .command = {"sh", "-c", "kill -TERM $$; sleep 5"},
                 .timeout = 3s});
  ::pthread_sigmask(SIG_UNBLOCK, &blocked, nullptr);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.reason, "exec sh: killed by signal Terminated");
}

TEST(ExecProbeTest, ExitCodeAndLastOutputLineExplainAFailure) {
  const ProbeResult result = ProbeExec(
      {.type = ProbeType::kExec,
       .command = {"sh", "-c", "echo checking; echo 'connection refused' >&2; exit 3"},
       .timeout = 3s});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.reason, "exec sh: exited with code 3: connection refused");
  EXPECT_TRUE(ProbeExec({.type = ProbeType::kExec, .command = {"true"}, .timeout = 3s}).ok);
}

}  // namespace
}  // namespace rebound::health
