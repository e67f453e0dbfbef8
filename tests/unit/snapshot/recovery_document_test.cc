#include "snapshot/recovery_document.h"

#include <gtest/gtest.h>

namespace rebound::snapshot {
namespace {

RecoveryDocument Example() {
  RecoveryDocument doc{.timestamp_ms = 1767225600123,
                       .rebound_version = "0.1.0",
                       .parent_commit = std::string(40, 'a')};
  doc.services["api"] = {.state = "running", .restarts = 2, .health = "healthy"};
  doc.module_states["llm"] = {{"current_model", "gpt-4"}};
  return doc;
}

TEST(RecoveryDocumentTest, RoundTripsThroughJson) {
  const RecoveryDocument doc = Example();
  auto back = ParseRecoveryDocument(SerializeRecoveryDocument(doc));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, doc);
}

TEST(RecoveryDocumentTest, WritesTheDocumentedFields) {
  const nlohmann::json json = RecoveryDocumentToJson(Example());
  EXPECT_EQ(json["schema_version"], 1);
  EXPECT_EQ(json["timestamp"], "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(json["system_status"]["services"]["api"]["state"], "running");
  EXPECT_EQ(json["module_states"]["llm"]["current_model"], "gpt-4");
  EXPECT_TRUE(RecoveryDocumentToJson(RecoveryDocument{})["parent_commit"].is_null());
}

TEST(RecoveryDocumentTest, SerializationIsDeterministic) {
  EXPECT_EQ(SerializeRecoveryDocument(Example()), SerializeRecoveryDocument(Example()));
}

TEST(RecoveryDocumentTest, RefusesAFutureSchemaVersionSayingToUpgrade) {
  nlohmann::json json = RecoveryDocumentToJson(Example());
  json["schema_version"] = 2;
  auto parsed = RecoveryDocumentFromJson(json);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().category(), ErrorCategory::kValidation);
  EXPECT_NE(parsed.error().message().find("schema_version 2 is newer"), std::string::npos);
  EXPECT_NE(parsed.error().message().find("upgrade rebound"), std::string::npos);
}

TEST(RecoveryDocumentTest, NamesTheBadField) {
  struct Case {
    const char* pointer;
    nlohmann::json value;
    const char* field;
  };
  for (const Case& c : std::vector<Case>{
           {"/system_status/services/api/restarts", "two", "system_status.services.api.restarts"},
           {"/system_status/services", nlohmann::json::array(), "system_status.services"},
           {"/module_states", 3, "module_states"},
           {"/rebound_version", 1, "rebound_version"},
           {"/schema_version", "1", "schema_version"},
       }) {
    nlohmann::json json = RecoveryDocumentToJson(Example());
    json[nlohmann::json::json_pointer(c.pointer)] = c.value;
    auto parsed = RecoveryDocumentFromJson(json);
    ASSERT_FALSE(parsed.ok()) << c.pointer;
    EXPECT_NE(parsed.error().message().find(std::string("\"") + c.field + "\""), std::string::npos)
        << parsed.error().message();
  }
}

RecoveryDocument WithJobs() {
  RecoveryDocument doc = Example();
  doc.jobs = JobsRecord{.by_state = {{"queued", 3}, {"running", 2}, {"succeeded", 40}},
                        .queues = {{"mail", {{"queued", 3}, {"running", 2}, {"retrying", 0}}}}};
  return doc;
}

TEST(RecoveryDocumentTest, RecordsJobCountsAndQueueLengthsInSystemStatus) {
  const nlohmann::json json = RecoveryDocumentToJson(WithJobs());
  EXPECT_EQ(json["system_status"]["jobs"]["by_state"]["succeeded"], 40);
  EXPECT_EQ(json["system_status"]["jobs"]["queues"]["mail"]["queued"], 3);
  auto back = RecoveryDocumentFromJson(json);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, WithJobs());
}

TEST(RecoveryDocumentTest, ADocumentWithoutJobsStillReads) {
  // Documents captured before jobs were recorded have no system_status.jobs.
  EXPECT_FALSE(RecoveryDocumentToJson(Example())["system_status"].contains("jobs"));
  auto back = RecoveryDocumentFromJson(RecoveryDocumentToJson(Example()));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_FALSE(back->jobs.has_value());
}

TEST(RecoveryDocumentTest, NamesTheBadJobsField) {
  struct Case {
    const char* pointer;
    nlohmann::json value;
    const char* field;
  };
  for (const Case& c : std::vector<Case>{
           {"/system_status/jobs", 3, "system_status.jobs"},
           {"/system_status/jobs/by_state/queued", -1, "system_status.jobs.by_state.queued"},
           {"/system_status/jobs/queues", "mail", "system_status.jobs.queues"},
           {"/system_status/jobs/queues/mail/running", "two",
            "system_status.jobs.queues.mail.running"},
       }) {
    nlohmann::json json = RecoveryDocumentToJson(WithJobs());
    json[nlohmann::json::json_pointer(c.pointer)] = c.value;
    auto parsed = RecoveryDocumentFromJson(json);
    ASSERT_FALSE(parsed.ok()) << c.pointer;
    EXPECT_NE(parsed.error().message().find(std::string("\"") + c.field + "\""), std::string::npos)
        << parsed.error().message();
  }
}

TEST(RecoveryDocumentTest, RefusesABadModuleNameAndNonJson) {
  nlohmann::json json = RecoveryDocumentToJson(Example());
  json["module_states"]["bad name!"] = 1;
  EXPECT_FALSE(RecoveryDocumentFromJson(json).ok());
  EXPECT_FALSE(ParseRecoveryDocument("{not json").ok());
}

}  // namespace
}  // namespace rebound::snapshot
