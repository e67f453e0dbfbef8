#include <gtest/gtest.h>

#include "health/socket_prober.h"

namespace rebound::health {
namespace {

const ProbeSpec kSpec{.type = ProbeType::kHttp, .url = "http://127.0.0.1:1/health"};

TEST(HttpResponseTest, CompleteOnceContentLengthBytesHaveCome) {
  const std::string headers = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 2\r\n\r\n";
  EXPECT_FALSE(HttpResponseComplete("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"));
  EXPECT_FALSE(HttpResponseComplete(headers + "o"));
  EXPECT_TRUE(HttpResponseComplete(headers + "ok"));
  // Without a length, only the server closing the connection ends the response.
  EXPECT_FALSE(HttpResponseComplete("HTTP/1.1 200 OK\r\n\r\nok"));
}

TEST(HttpResponseTest, JudgesStatusAndBody) {
  EXPECT_EQ(JudgeHttpResponse("HTTP/1.1 204 No Content\r\n\r\n", kSpec), "");
  EXPECT_EQ(JudgeHttpResponse("HTTP/1.0 503 Service Unavailable\r\n\r\n", kSpec),
            "status 503, expected 200-399");
  ProbeSpec wants_ok = kSpec;
  wants_ok.body_contains = "\"status\":\"ok\"";
  EXPECT_EQ(JudgeHttpResponse("HTTP/1.1 200 OK\r\n\r\n{\"status\":\"ok\"}", wants_ok), "");
  EXPECT_EQ(JudgeHttpResponse("HTTP/1.1 200 OK\r\n\r\n{\"status\":\"degraded\"}", wants_ok),
            "body does not contain \"\"status\":\"ok\"\"");
  // The text must be in the body, not in a header.
  EXPECT_NE(JudgeHttpResponse("HTTP/1.1 200 OK\r\nX: \"status\":\"ok\"\r\n\r\n", wants_ok), "");
}

TEST(HttpResponseTest, NamesWhatIsNotHttp) {
  EXPECT_EQ(JudgeHttpResponse("", kSpec), "the server closed the connection without answering");
  EXPECT_EQ(JudgeHttpResponse("SSH-2.0-OpenSSH_9.2\r\n", kSpec), "not an HTTP response");
  EXPECT_EQ(JudgeHttpResponse("HTTP/1.1 200 OK\r\nContent-Le", kSpec),
            "incomplete response headers");
}

}  // namespace
}  // namespace rebound::health
