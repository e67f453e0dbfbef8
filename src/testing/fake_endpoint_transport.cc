#include "testing/fake_endpoint_transport.h"

namespace rebound::testing {

void FakeEndpointTransport::SetBody(const std::string& endpoint, std::string body) {
  std::lock_guard lock(mutex_);
  failures_.erase(endpoint);
  bodies_[endpoint] = std::move(body);
}

void FakeEndpointTransport::Fail(const std::string& endpoint, Error error) {
  std::lock_guard lock(mutex_);
  failures_.insert_or_assign(endpoint, std::move(error));
}

Result<std::string> FakeEndpointTransport::Read(const snapshot::ModuleEndpoint& endpoint) {
  std::lock_guard lock(mutex_);
  ++reads_;
  const std::string name = snapshot::DescribeEndpoint(endpoint);
  if (auto failure = failures_.find(name); failure != failures_.end()) {
    return failure->second;
  }
  if (auto body = bodies_.find(name); body != bodies_.end()) {
    return body->second;
  }
  return NotFoundError("nothing scripted for " + name);
}

Status FakeEndpointTransport::Write(const snapshot::ModuleEndpoint& endpoint,
                                    const std::string& body) {
  std::lock_guard lock(mutex_);
  const std::string name = snapshot::DescribeEndpoint(endpoint);
  if (auto failure = failures_.find(name); failure != failures_.end()) {
    return failure->second;
  }
  writes_.push_back({name, body});
  return OkStatus();
}

std::vector<FakeEndpointTransport::Written> FakeEndpointTransport::writes() const {
  std::lock_guard lock(mutex_);
  return writes_;
}

int FakeEndpointTransport::reads() const {
  std::lock_guard lock(mutex_);
  return reads_;
}

}  // namespace rebound::testing
