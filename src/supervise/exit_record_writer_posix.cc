#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iostream>
#include <system_error>

#include "base/atomic_file.h"
#include "supervise/exit_record_writer.h"

namespace rebound::supervise {
namespace {

void WriterSay(const std::string& text) { std::cerr << "rebound runner: " << text << "\n"; }

// fdatasync of every file at once, one thread each (at most kMaxSyncThreads at a time): the
// file system joins flushes that wait together into one journal commit, as it did for the
// shims, one process per job; one flush after the other cost a device flush each.
void SyncInParallel(const std::vector<int>& files, std::vector<bool>& ok) {
  constexpr size_t kMaxSyncThreads = 16;
  for (size_t first = 0; first < files.size(); first += kMaxSyncThreads) {
    const size_t end = std::min(files.size(), first + kMaxSyncThreads);
    std::vector<std::thread> threads;
    std::vector<int> synced(end - first, 0);  // not vector<bool>: written from threads
    for (size_t i = first; i < end; ++i) {
      if (!ok[i]) {
        continue;
      }
      try {
        threads.emplace_back([&, i] { synced[i - first] = ::fdatasync(files[i]) == 0 ? 1 : 0; });
      } catch (const std::system_error&) {
        // No thread to be had (EAGAIN): this file's flush runs here, one after the other.
        synced[i - first] = ::fdatasync(files[i]) == 0 ? 1 : 0;
      }
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    for (size_t i = first; i < end; ++i) {
      ok[i] = ok[i] && synced[i - first] == 1;
    }
  }
}

// Temp files first, then their fdatasyncs together, each rename, and one fsync of the
// directory.
void WriteBatch(const std::string& run_dir, const std::vector<ExitRecord>& records) {
  std::vector<int> files(records.size(), -1);
  std::vector<bool> ok(records.size(), false);
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string temp = ExitRecordPath(run_dir, records[i].name) + ".runner-tmp";
    files[i] = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const std::string data = FrameWithChecksum(records[i].ToJson().dump() + "\n");
    ok[i] = files[i] >= 0 &&
            ::write(files[i], data.data(), data.size()) == static_cast<ssize_t>(data.size());
  }
  SyncInParallel(files, ok);
  for (size_t i = 0; i < records.size(); ++i) {
    if (files[i] >= 0) {
      ::close(files[i]);
    }
    const std::string path = ExitRecordPath(run_dir, records[i].name);
    ok[i] = ok[i] && ::rename((path + ".runner-tmp").c_str(), path.c_str()) == 0;
    if (!ok[i]) {
      WriterSay("cannot write " + path + ": " + ::strerror(errno));
      (void)::unlink((path + ".runner-tmp").c_str());
    }
  }
  const int dir = ::open(run_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || ::fsync(dir) != 0) {
    WriterSay("cannot sync " + run_dir + ": " + ::strerror(errno));
  }
  if (dir >= 0) {
    ::close(dir);
  }
}

}  // namespace

ExitRecordWriter::ExitRecordWriter(std::string run_dir)
    : run_dir_(std::move(run_dir)), ready_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { Run(); });
}

ExitRecordWriter::~ExitRecordWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  if (ready_fd_ >= 0) {
    ::close(ready_fd_);
  }
}

void ExitRecordWriter::Submit(ExitRecord record) {
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(record));
  }
  changed_.notify_all();
}

std::vector<ExitRecord> ExitRecordWriter::TakeWritten() {
  uint64_t count = 0;
  (void)::read(ready_fd_, &count, sizeof(count));
  std::lock_guard lock(mutex_);
  return std::exchange(written_, {});
}

void ExitRecordWriter::WaitUntilIdle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return queued_.empty() && writing_ == 0; });
}

void ExitRecordWriter::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
    if (queued_.empty()) {
      return;  // stopping, nothing left
    }
    std::vector<ExitRecord> batch = std::exchange(queued_, {});
    writing_ = batch.size();
    lock.unlock();
    WriteBatch(run_dir_, batch);
    lock.lock();
    writing_ = 0;
    written_.insert(written_.end(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
    const uint64_t one = 1;
    (void)::write(ready_fd_, &one, sizeof(one));
    changed_.notify_all();
  }
}

}  // namespace rebound::supervise
