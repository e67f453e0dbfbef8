#pragma once

// Error and Result<T>: how every fallible call in rebound reports failure.
//
//   Result<int> ParsePort(std::string_view text);
//   auto port = ParsePort("7300");
//   if (!port.ok()) return port.error().WithContext("daemon.listen");
//   Use(*port);
//
// An Error's category carries its retry meaning (see IsRetryableByDefault); policies switch
// on the category, never on message text. Exceptions never cross a module boundary.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rebound {

enum class ErrorCategory {
  kNetwork,
  kTimeout,
  kValidation,
  kPermission,
  kResource,
  kNotFound,
  kConflict,
  kCorruption,
  kUnknown,
};

// "network", "timeout", ... : stable names used in events, JSON and logs.
std::string_view CategoryName(ErrorCategory category);
std::optional<ErrorCategory> CategoryFromName(std::string_view name);

// network, timeout and resource are transient; conflict is retried higher up (by re-reading),
// so not by a plain retry loop; the rest never succeed on a retry.
bool IsRetryableByDefault(ErrorCategory category);

class Error {
 public:
  Error(ErrorCategory category, std::string message)
      : category_(category), message_(std::move(message)) {}

  ErrorCategory category() const { return category_; }
  const std::string& message() const { return message_; }

  // "context: message", same category. Each layer adds what it was doing.
  Error WithContext(std::string_view context) const;
  // "category: message".
  std::string ToString() const;

  // Set by an adapter that classified a foreign error (an exit code, an HTTP status) with
  // rules that override the category's default retry meaning; unset otherwise.
  Error WithRetryable(bool retryable) const;
  std::optional<bool> retryable_hint() const { return retryable_; }

  bool operator==(const Error&) const = default;

 private:
  ErrorCategory category_;
  std::string message_;
  std::optional<bool> retryable_;
};

Error NetworkError(std::string message);
Error TimeoutError(std::string message);
Error ValidationError(std::string message);
Error PermissionError(std::string message);
Error ResourceError(std::string message);
Error NotFoundError(std::string message);
Error ConflictError(std::string message);
Error CorruptionError(std::string message);
Error UnknownError(std::string message);

// Maps an errno value to its category; the message is "context: strerror(err)".
Error ErrnoError(int err, std::string_view context);

// A value or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok(). On a temporary Result these return the value itself (moved out), so
  // `for (auto& e : *Query())` does not dangle.
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok().
  const Error& error() const { return std::get<Error>(data_); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  // REQUIRES: !ok().
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace rebound

// Returns the error of a Status-returning expression from the enclosing function.
#define REBOUND_RETURN_IF_ERROR(expr)           \
  do {                                          \
    if (auto _status = (expr); !_status.ok()) { \
      return _status.error();                   \
    }                                           \
  } while (false)
