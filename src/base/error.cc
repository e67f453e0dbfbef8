#include "base/error.h"

#include <array>
#include <cerrno>
#include <cstring>

namespace rebound {
namespace {

constexpr std::array<std::pair<ErrorCategory, std::string_view>, 9> kCategoryNames = {{
    {ErrorCategory::kNetwork, "network"},
    {ErrorCategory::kTimeout, "timeout"},
    {ErrorCategory::kValidation, "validation"},
    {ErrorCategory::kPermission, "permission"},
    {ErrorCategory::kResource, "resource"},
    {ErrorCategory::kNotFound, "not_found"},
    {ErrorCategory::kConflict, "conflict"},
    {ErrorCategory::kCorruption, "corruption"},
    {ErrorCategory::kUnknown, "unknown"},
}};

ErrorCategory CategoryOfErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCategory::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorCategory::kPermission;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN:
    case EBUSY:
      return ErrorCategory::kResource;
    case ETIMEDOUT:
      return ErrorCategory::kTimeout;
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EPIPE:
      return ErrorCategory::kNetwork;
    case EEXIST:
      return ErrorCategory::kConflict;
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
      return ErrorCategory::kValidation;
    default:
      return ErrorCategory::kUnknown;
  }
}

}  // namespace

std::string_view CategoryName(ErrorCategory category) {
  for (const auto& [value, name] : kCategoryNames) {
    if (value == category) {
      return name;
    }
  }
  return "unknown";
}

std::optional<ErrorCategory> CategoryFromName(std::string_view name) {
  for (const auto& [value, known] : kCategoryNames) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

bool IsRetryableByDefault(ErrorCategory category) {
  return category == ErrorCategory::kNetwork || category == ErrorCategory::kTimeout ||
         category == ErrorCategory::kResource;
}

Error Error::WithContext(std::string_view context) const {
  Error out = *this;
  out.message_ = std::string(context) + ": " + message_;
  return out;
}

Error Error::WithRetryable(bool retryable) const {
  Error out = *this;
  out.retryable_ = retryable;
  return out;
}

std::string Error::ToString() const {
  return std::string(CategoryName(category_)) + ": " + message_;
}

Error NetworkError(std::string message) { return {ErrorCategory::kNetwork, std::move(message)}; }
Error TimeoutError(std::string message) { return {ErrorCategory::kTimeout, std::move(message)}; }
Error ValidationError(std::string message) {
  return {ErrorCategory::kValidation, std::move(message)};
}
Error PermissionError(std::string message) {
  return {ErrorCategory::kPermission, std::move(message)};
}
Error ResourceError(std::string message) { return {ErrorCategory::kResource, std::move(message)}; }
Error NotFoundError(std::string message) { return {ErrorCategory::kNotFound, std::move(message)}; }
Error ConflictError(std::string message) { return {ErrorCategory::kConflict, std::move(message)}; }
Error CorruptionError(std::string message) {
  return {ErrorCategory::kCorruption, std::move(message)};
}
Error UnknownError(std::string message) { return {ErrorCategory::kUnknown, std::move(message)}; }

Error ErrnoError(int err, std::string_view context) {
  return Error(CategoryOfErrno(err), std::string(context) + ": " + std::strerror(err));
}

}  // namespace rebound
