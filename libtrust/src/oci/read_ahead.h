#pragma once
// Private to libtrust/oci: reading a blob from a local file as fast as it can be hashed.
//
// Measured (bench/run.sh, and a minimal C++ loop): hashing a warm 1 GiB file with read() costs
// the hash itself (SHA-NI, about 2 GB/s per core) plus the kernel's copy into user space, 15-40 %
// more depending on the machine; read sizes from 64 KiB to 1 MiB change little where L2 holds
// the buffer, and mmap costs more than it saves (page faults; and a file that shrinks under it
// raises SIGBUS). So when a core is idle, a second thread does the reads, a small ring of
// L2-sized buffers ahead, while the caller's thread hashes: the copy then costs the hashing core
// nothing. The two hand slots over by polling briefly before they sleep (waking a sleeping vCPU
// per slot cost 20 % on a VM). When every core is busy (layers hashed in parallel) the caller
// reads itself.

#include <cstdint>
#include <functional>
#include <string>

#include "libtrust/core/bytes.h"

namespace trust::oci::detail {

// Size of each read, small enough to stay in L2 between the copy and the hash.
inline constexpr std::size_t kReadBytes = 256u << 10;
// Below this a second thread is not worth starting.
inline constexpr std::uint64_t kReadAheadMinBytes = 4u << 20;

// Reads `fd` from `offset` until end of file or `limit` bytes, handing the bytes to `emit` in
// order, and returns how many there were. `size_hint`: what the caller expects (decides whether
// to read ahead). Throws IoError naming `what` if a read fails; whatever `emit` throws stops the
// reading and is rethrown.
std::uint64_t read_file(int fd, std::uint64_t offset, std::uint64_t limit, std::uint64_t size_hint,
                        const std::function<void(ByteView)>& emit, const std::string& what);

}  // namespace trust::oci::detail
