#include <sched.h>

#include "base/cpu.h"

namespace rebound {

int CurrentCpu() {
  const int cpu = ::sched_getcpu();  // vDSO: no system call
  return cpu < 0 ? 0 : cpu;
}

}  // namespace rebound
