#include "engine/sync_endpoints.h"

#include <gtest/gtest.h>

#include "testing/fake_endpoint_transport.h"

namespace rebound::engine {
namespace {

using nlohmann::json;

TEST(SyncEndpointsTest, UpdatedAtIsUnixMillisOrRfc3339OrAbsent) {
  EXPECT_EQ(*ApplicationUpdatedAtMs({{"n", 1}}), std::nullopt);
  EXPECT_EQ(*ApplicationUpdatedAtMs({{"updated_at", 1764127800123}}), 1764127800123);
  EXPECT_EQ(*ApplicationUpdatedAtMs({{"updated_at", "2025-11-26T03:30:00Z"}}), 1764127800000);
  EXPECT_EQ(*ApplicationUpdatedAtMs({{"updated_at", "2025-11-26T05:30:00+02:00"}}), 1764127800000);
  auto bad = ApplicationUpdatedAtMs({{"updated_at", "yesterday"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().category(), ErrorCategory::kValidation);
  EXPECT_FALSE(ApplicationUpdatedAtMs({{"updated_at", true}}).ok());
}

TEST(SyncEndpointsTest, ReadsTheSourceAndWritesTheRestoreTarget) {
  testing::FakeEndpointTransport transport;
  const snapshot::ModuleBinding binding{
      .source = snapshot::ModuleEndpoint{.location = "http://app/state"},
      .restore = snapshot::ModuleEndpoint{.kind = snapshot::EndpointKind::kFile,
                                          .location = "/app/state.json"}};
  transport.SetBody("url http://app/state", R"({"model": "gpt-4", "updated_at": 5})");
  store::SyncEndpoints endpoints = ApplicationSyncEndpoints(transport, binding);
  auto read = endpoints.read();
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->document["model"], "gpt-4");
  EXPECT_EQ(read->updated_at_ms, 5);
  ASSERT_TRUE(endpoints.write(json{{"model", "llama"}}).ok());
  ASSERT_EQ(transport.writes().size(), 1u);
  EXPECT_EQ(transport.writes()[0].endpoint, "file /app/state.json");
  EXPECT_EQ(json::parse(transport.writes()[0].body), json({{"model", "llama"}}));
}

TEST(SyncEndpointsTest, ErrorsNameTheEndpoint) {
  testing::FakeEndpointTransport transport;
  const snapshot::ModuleBinding binding{
      .source = snapshot::ModuleEndpoint{.location = "http://app/state"},
      .restore = snapshot::ModuleEndpoint{.location = "http://app/load"}};
  transport.SetBody("url http://app/state", R"({"updated_at": "soon"})");
  transport.Fail("url http://app/load", NetworkError("connection refused"));
  store::SyncEndpoints endpoints = ApplicationSyncEndpoints(transport, binding);
  auto read = endpoints.read();
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("url http://app/state"), std::string::npos)
      << read.error().message();
  Status written = endpoints.write(json::object());
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().category(), ErrorCategory::kNetwork);
  EXPECT_NE(written.error().message().find("url http://app/load"), std::string::npos);
}

}  // namespace
}  // namespace rebound::engine
