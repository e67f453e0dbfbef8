#include "resilience/error_classifier.h"

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>
#include <system_error>

namespace rebound::resilience {
namespace {

using C = ErrorCategory;

TEST(ErrorClassifierTest, CategoriesCarryTheirDefaultRetryMeaning) {
  ErrorClassifier classifier;
  EXPECT_TRUE(classifier.Classify(NetworkError("x")).retryable);
  EXPECT_TRUE(classifier.Classify(TimeoutError("x")).retryable);
  EXPECT_TRUE(classifier.Classify(ResourceError("x")).retryable);
  EXPECT_FALSE(classifier.Classify(ValidationError("x")).retryable);
  EXPECT_FALSE(classifier.Classify(PermissionError("x")).retryable);
  EXPECT_FALSE(classifier.Classify(CorruptionError("x")).retryable);
}

TEST(ErrorClassifierTest, ExitCodesFollowSysexits) {
  ErrorClassifier classifier;
  EXPECT_EQ(classifier.ClassifyExit(75), (Classification{C::kResource, true}));     // TEMPFAIL
  EXPECT_EQ(classifier.ClassifyExit(69), (Classification{C::kResource, true}));     // UNAVAILABLE
  EXPECT_EQ(classifier.ClassifyExit(64), (Classification{C::kValidation, false}));  // USAGE
  EXPECT_EQ(classifier.ClassifyExit(78), (Classification{C::kValidation, false}));  // CONFIG
  EXPECT_EQ(classifier.ClassifyExit(77), (Classification{C::kPermission, false}));  // NOPERM
  EXPECT_EQ(classifier.ClassifyExit(66), (Classification{C::kNotFound, false}));    // NOINPUT
  EXPECT_EQ(classifier.ClassifyExit(1), (Classification{C::kUnknown, false}));
}

TEST(ErrorClassifierTest, SigkillFromTheOomKillerIsRetryable) {
  ErrorClassifier classifier;
  EXPECT_EQ(classifier.ClassifySignal(SIGKILL), (Classification{C::kResource, true}));
  EXPECT_EQ(classifier.ClassifySignal(SIGSEGV), (Classification{C::kUnknown, false}));
}

TEST(ErrorClassifierTest, HttpStatuses) {
  ErrorClassifier classifier;
  for (int status : {408, 425, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(classifier.ClassifyHttpStatus(status).retryable) << status;
  }
  for (int status : {400, 401, 403, 404, 409, 422}) {
    EXPECT_FALSE(classifier.ClassifyHttpStatus(status).retryable) << status;
  }
  EXPECT_EQ(classifier.ClassifyHttpStatus(408).category, C::kTimeout);
  EXPECT_EQ(classifier.ClassifyHttpStatus(429).category, C::kResource);
  EXPECT_EQ(classifier.ClassifyHttpStatus(401).category, C::kPermission);
  EXPECT_EQ(classifier.ClassifyHttpStatus(409).category, C::kConflict);
}

TEST(ErrorClassifierTest, UserRulesTakePrecedenceOverBuiltIns) {
  ErrorClassifier classifier;
  classifier.OnExitCode(75, {C::kValidation, false})
      .OnExitCode(1, {C::kUnknown, true})
      .OnSignal(SIGKILL, {C::kUnknown, false})
      .OnHttpStatus(404, {C::kNotFound, true})
      .OnCategory(C::kNetwork, false);
  EXPECT_FALSE(classifier.ClassifyExit(75).retryable);
  EXPECT_TRUE(classifier.ClassifyExit(1).retryable);
  EXPECT_FALSE(classifier.ClassifySignal(SIGKILL).retryable);
  EXPECT_TRUE(classifier.ClassifyHttpStatus(404).retryable);
  EXPECT_FALSE(classifier.Classify(NetworkError("reset")).retryable);
}

TEST(ErrorClassifierTest, UserMessageRulesBeatCategoriesAndEarlierRulesWin) {
  ErrorClassifier classifier;
  ASSERT_TRUE(classifier.OnMessage("quota exceeded", {C::kResource, true}).ok());
  ASSERT_TRUE(classifier.OnMessage("quota", {C::kValidation, false}).ok());
  EXPECT_EQ(classifier.Classify(ValidationError("monthly QUOTA EXCEEDED")),
            (Classification{C::kResource, true}));
  EXPECT_EQ(classifier.Classify(ValidationError("quota missing")),
            (Classification{C::kValidation, false}));
}

TEST(ErrorClassifierTest, InvalidPatternIsAValidationError) {
  ErrorClassifier classifier;
  Status status = classifier.OnMessage("([unclosed", {C::kNetwork, true});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().category(), C::kValidation);
}

TEST(ErrorClassifierTest, BuiltInMessagePatternsOnlyForUnknownErrors) {
  ErrorClassifier classifier;
  EXPECT_EQ(classifier.Classify(UnknownError("read timed out after 5s")),
            (Classification{C::kTimeout, true}));
  EXPECT_EQ(classifier.Classify(UnknownError("Connection refused")),
            (Classification{C::kNetwork, true}));
  // A known category is never reinterpreted from its text.
  EXPECT_EQ(classifier.Classify(ValidationError("field timeout: must be positive")),
            (Classification{C::kValidation, false}));
}

TEST(ErrorClassifierTest, AdapterHintIsHonouredAndCategoryRulesOverrideIt) {
  ErrorClassifier classifier;
  const Error exit_one =
      ErrorClassifier::ToError(Classification{C::kUnknown, true}, "exited with code 1");
  EXPECT_TRUE(classifier.Classify(exit_one).retryable);
  const Error plain = ErrorClassifier::ToError(Classification{C::kNetwork, true}, "x");
  EXPECT_FALSE(plain.retryable_hint().has_value());
  classifier.OnCategory(C::kUnknown, false);
  EXPECT_FALSE(classifier.Classify(exit_one).retryable);
}

struct QuotaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(ErrorClassifierTest, ExceptionsByTypeThenSystemErrorThenMessage) {
  ErrorClassifier classifier;
  auto classify = [&](auto exception) {
    return classifier.ClassifyException(std::make_exception_ptr(exception));
  };
  EXPECT_EQ(classify(std::bad_alloc()), (Classification{C::kResource, true}));
  EXPECT_EQ(classify(std::invalid_argument("x")), (Classification{C::kValidation, false}));
  EXPECT_EQ(classify(std::system_error(std::make_error_code(std::errc::connection_refused))),
            (Classification{C::kNetwork, true}));
  EXPECT_EQ(classify(std::runtime_error("upstream timed out")),
            (Classification{C::kTimeout, true}));
  EXPECT_EQ(classify(std::runtime_error("boom")), (Classification{C::kUnknown, false}));
  EXPECT_EQ(classify(QuotaError("boom")), (Classification{C::kUnknown, false}));
  classifier.OnException<QuotaError>({C::kResource, true});
  EXPECT_EQ(classify(QuotaError("boom")), (Classification{C::kResource, true}));
  classifier.OnException<std::invalid_argument>({C::kNetwork, true});  // user beats built-in
  EXPECT_EQ(classify(std::invalid_argument("x")), (Classification{C::kNetwork, true}));
  EXPECT_EQ(classifier.ClassifyException(std::make_exception_ptr(42)),
            (Classification{C::kUnknown, false}));
}

}  // namespace
}  // namespace rebound::resilience
