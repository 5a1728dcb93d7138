// What the Docker plugin test's images run: one static program (the image has nothing else), so
// that `docker run` of a signed image can be seen to run.
#include <cstdio>

int main() {
  std::puts("hello from a sigil test image");
  return 0;
}
