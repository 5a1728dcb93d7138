#pragma once
// A small work-sharing loop: fetching many small attachments from a registry at once, copying
// blobs, hashing layers (oci/inspect, with one thread per core).

#include <cstddef>
#include <functional>

namespace trust::detail {

// Runs fn(i) for every i in [0, count) on up to `threads` threads, the caller's among them. After
// the first exception no new item starts; it is rethrown once every thread has stopped.
void for_each_index(std::size_t count, std::size_t threads,
                    const std::function<void(std::size_t)>& fn);

}  // namespace trust::detail
