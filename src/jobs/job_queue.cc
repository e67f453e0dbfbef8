#include "jobs/job_queue.h"

namespace rebound::jobs {

JobQueues::JobQueues(std::vector<QueueSpec> specs) {
  for (QueueSpec& spec : specs) {
    const std::string name = spec.name;
    queues_[name] = Queue{.spec = std::move(spec)};
  }
  if (!queues_.contains("default")) {
    queues_["default"] = Queue{.spec = {.name = "default"}};
  }
}

std::vector<std::string> JobQueues::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, queue] : queues_) {
    names.push_back(name);
  }
  return names;
}

void JobQueues::Push(const std::string& queue, int priority, int64_t id) {
  queues_.at(queue).ready.emplace(-static_cast<int64_t>(priority), id);
}

bool JobQueues::Remove(const std::string& queue, int priority, int64_t id) {
  auto it = queues_.find(queue);
  return it != queues_.end() && it->second.ready.erase({-static_cast<int64_t>(priority), id}) > 0;
}

void JobQueues::Occupy(const std::string& queue) { ++queues_.at(queue).running; }

void JobQueues::Finished(const std::string& queue) {
  auto it = queues_.find(queue);
  if (it != queues_.end() && it->second.running > 0) {
    --it->second.running;
  }
}

std::optional<MonoTime> JobQueues::RateSlot(const Queue& queue) {
  if (queue.spec.rate_per_second <= 0 || !queue.last_start) {
    return std::nullopt;
  }
  const auto interval = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(1.0 / queue.spec.rate_per_second));
  return *queue.last_start + interval;
}

std::optional<ReadyJob> JobQueues::PopReady(MonoTime now) {
  for (auto& [name, queue] : queues_) {
    if (queue.ready.empty() || queue.running >= queue.spec.concurrency) {
      continue;
    }
    const std::optional<MonoTime> slot = RateSlot(queue);
    if (slot && *slot > now) {
      continue;
    }
    const int64_t id = queue.ready.begin()->second;
    queue.ready.erase(queue.ready.begin());
    ++queue.running;
    queue.last_start = now;
    return ReadyJob{.queue = name, .id = id};
  }
  return std::nullopt;
}

std::optional<MonoTime> JobQueues::NextRateSlot() const {
  std::optional<MonoTime> earliest;
  for (const auto& [name, queue] : queues_) {
    if (queue.ready.empty() || queue.running >= queue.spec.concurrency) {
      continue;
    }
    const std::optional<MonoTime> slot = RateSlot(queue);
    if (slot && (!earliest || *slot < *earliest)) {
      earliest = slot;
    }
  }
  return earliest;
}

std::map<std::string, QueueCounts> JobQueues::Counts() const {
  std::map<std::string, QueueCounts> counts;
  for (const auto& [name, queue] : queues_) {
    counts[name] = QueueCounts{.ready = static_cast<int64_t>(queue.ready.size()),
                               .running = queue.running,
                               .concurrency = queue.spec.concurrency};
  }
  return counts;
}

}  // namespace rebound::jobs
