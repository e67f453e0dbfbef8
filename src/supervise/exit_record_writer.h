#pragma once

// ExitRecordWriter: makes the job runner's exit records durable on a thread of its own, in
// batches, so that the runner's loop goes on starting and reaping jobs while a disk flush
// (milliseconds, tens of them on a busy disk) is under way. A shim did this in a process of
// its own per job; one loop that waited for every flush made each job wait for the others'.
//
//   ExitRecordWriter writer(run_dir);
//   epoll add writer.ready_fd();           // readable once records are on disk
//   writer.Submit(record);                 // loop thread
//   for (ExitRecord& done : writer.TakeWritten()) tell_the_daemon(done);
//
// A batch is every record submitted while the previous batch was being flushed: each is
// written to a temp file, all are fdatasynced at once (a thread each, so the file system
// can join the flushes), each renamed, and the directory fsynced once.
// Thread-safe; the loop thread submits and takes, the writer thread writes.

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "supervise/exit_record.h"

namespace rebound::supervise {

class ExitRecordWriter {
 public:
  explicit ExitRecordWriter(std::string run_dir);
  ~ExitRecordWriter();  // writes what is queued, then joins the thread
  ExitRecordWriter(const ExitRecordWriter&) = delete;
  ExitRecordWriter& operator=(const ExitRecordWriter&) = delete;

  // An eventfd, readable while TakeWritten has something to return; -1 if none could be made.
  int ready_fd() const { return ready_fd_; }
  void Submit(ExitRecord record);
  // The records made durable (or that failed: the failure went to stderr) since the last call.
  std::vector<ExitRecord> TakeWritten();
  // Blocks until every submitted record has been written.
  void WaitUntilIdle();

 private:
  void Run();

  const std::string run_dir_;
  int ready_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ExitRecord> queued_;   // GUARDED_BY(mutex_)
  std::vector<ExitRecord> written_;  // GUARDED_BY(mutex_)
  size_t writing_ = 0;               // GUARDED_BY(mutex_)
  bool stopping_ = false;            // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace rebound::supervise
