#include "base/error.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace rebound {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) {
    return ValidationError("odd value " + std::to_string(value));
  }
  return value / 2;
}

Status CheckBoth(int a, int b) {
  REBOUND_RETURN_IF_ERROR(Status(Half(a).ok() ? Status() : Half(a).error()));
  if (!Half(b).ok()) {
    return Half(b).error().WithContext("second");
  }
  return OkStatus();
}

TEST(ErrorTest, ResultHoldsValueOrError) {
  Result<int> good = Half(8);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  Result<int> bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().category(), ErrorCategory::kValidation);
  EXPECT_EQ(bad.error().message(), "odd value 3");
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(ErrorTest, ContextIsPrefixedAndCategoryKept) {
  Status status = CheckBoth(2, 5);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().ToString(), "validation: second: odd value 5");
  EXPECT_FALSE(CheckBoth(3, 2).ok());
  EXPECT_TRUE(CheckBoth(2, 2).ok());
}

TEST(ErrorTest, CategoryNamesRoundTrip) {
  for (ErrorCategory category :
       {ErrorCategory::kNetwork, ErrorCategory::kTimeout, ErrorCategory::kValidation,
        ErrorCategory::kPermission, ErrorCategory::kResource, ErrorCategory::kNotFound,
        ErrorCategory::kConflict, ErrorCategory::kCorruption, ErrorCategory::kUnknown}) {
    EXPECT_EQ(CategoryFromName(CategoryName(category)), category);
  }
  EXPECT_FALSE(CategoryFromName("bogus").has_value());
}

TEST(ErrorTest, OnlyTransientCategoriesAreRetryableByDefault) {
  EXPECT_TRUE(IsRetryableByDefault(ErrorCategory::kNetwork));
  EXPECT_TRUE(IsRetryableByDefault(ErrorCategory::kTimeout));
  EXPECT_TRUE(IsRetryableByDefault(ErrorCategory::kResource));
  EXPECT_FALSE(IsRetryableByDefault(ErrorCategory::kValidation));
  EXPECT_FALSE(IsRetryableByDefault(ErrorCategory::kPermission));
  EXPECT_FALSE(IsRetryableByDefault(ErrorCategory::kNotFound));
  EXPECT_FALSE(IsRetryableByDefault(ErrorCategory::kConflict));
  EXPECT_FALSE(IsRetryableByDefault(ErrorCategory::kCorruption));
  EXPECT_FALSE(IsRetryableByDefault(ErrorCategory::kUnknown));
}

TEST(ErrorTest, ErrnoMapsToCategories) {
  EXPECT_EQ(ErrnoError(ENOSPC, "write x").category(), ErrorCategory::kResource);
  EXPECT_EQ(ErrnoError(ENOENT, "open x").category(), ErrorCategory::kNotFound);
  EXPECT_EQ(ErrnoError(EACCES, "open x").category(), ErrorCategory::kPermission);
  EXPECT_EQ(ErrnoError(EROFS, "open x").category(), ErrorCategory::kPermission);
  EXPECT_EQ(ErrnoError(ECONNREFUSED, "connect").category(), ErrorCategory::kNetwork);
  EXPECT_EQ(ErrnoError(ETIMEDOUT, "connect").category(), ErrorCategory::kTimeout);
  EXPECT_EQ(ErrnoError(ENOSPC, "write x").message(), "write x: No space left on device");
}

TEST(ErrorTest, RetryableHintSurvivesContext) {
  Error error = UnknownError("exit 1").WithRetryable(true).WithContext("job 7");
  EXPECT_EQ(error.retryable_hint(), true);
  EXPECT_EQ(error.message(), "job 7: exit 1");
}

}  // namespace
}  // namespace rebound
