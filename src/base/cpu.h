#pragma once

// The CPU the calling thread runs on, for spreading hot counters across cache lines
// (as per-CPU counters do). Only a hint: the thread may move right after the call.

namespace rebound {

// 0 when the system cannot tell.
int CurrentCpu();

}  // namespace rebound
