// Read-only access to a weights file without copying it: the file mapped into memory and handed to
// JavaScript as one external ArrayBuffer whose finalizer unmaps it once V8 collects the buffer,
// i.e. once the last typed-array view over it is gone.
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#include <cerrno>
#define LLM2VEC_HAVE_MMAP 1
#endif

#include "addon_glue.h"

namespace llm {
namespace napi_glue {

namespace {

napi_value reason(napi_env env, const std::string& why) {
  napi_value s;
  napi_create_string_utf8(env, why.c_str(), why.size(), &s);
  return s;
}

#ifdef LLM2VEC_HAVE_MMAP
void unmap(napi_env, void* data, void* hint) { munmap(data, static_cast<size_t>(reinterpret_cast<uintptr_t>(hint))); }
#endif

}  // namespace

// mapFile(fd, length) → ArrayBuffer over bytes [0, length) of the open file, or a string saying why
// not (the caller then reads the file instead).
//
// MAP_PRIVATE with PROT_READ|PROT_WRITE: pages nobody writes are the page cache's, shared by every
// process and worker mapping the same file; a write into a view copies that one page for this
// process only (copy-on-write), so the file and other processes never see it — the same semantics
// as a buffer read from the file, without a read-only fault that would kill the process.
napi_value MapFile(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t fd = -1, length = 0;
  if (argc < 2 || napi_get_value_int64(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "mapFile: expected (fd, length) numbers");
    return nullptr;
  }
  if (fd < 0 || length <= 0) return reason(env, "nothing to map (empty file or bad descriptor)");
#ifdef LLM2VEC_HAVE_MMAP
  if (static_cast<uint64_t>(length) > SIZE_MAX) return reason(env, "file larger than the address space");
  const size_t n = static_cast<size_t>(length);
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, static_cast<int>(fd), 0);
  if (p == MAP_FAILED) return reason(env, std::string("mmap failed: ") + std::strerror(errno));
  napi_value ab;
  // Fails where V8's sandbox forbids memory from outside its cage (Electron; not Node's own builds).
  const napi_status s = napi_create_external_arraybuffer(env, p, n, unmap, reinterpret_cast<void*>(static_cast<uintptr_t>(n)), &ab);
  if (s != napi_ok) {
    munmap(p, n);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return reason(env, "external ArrayBuffers are not allowed in this runtime (napi status " + std::to_string(static_cast<int>(s)) + ")");
  }
  return ab;
#else
  return reason(env, "memory mapping is not supported on this platform");
#endif
}

// releasePages(arrayBuffer, byteOffset, byteLength) → bytes handed back: the whole pages inside the
// range are dropped from this process (madvise MADV_DONTNEED), so a weight that was only read to be
// quantized stops counting in the resident set while the rest of the file stays mapped. On a
// private file mapping a dropped page reads back from the file on the next access: callers pass
// only ranges they will not read again and never wrote.
napi_value ReleasePages(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  size_t total = 0;
  int64_t off = 0, len = 0;
  if (argc < 3 || napi_get_arraybuffer_info(env, argv[0], &data, &total) != napi_ok || napi_get_value_int64(env, argv[1], &off) != napi_ok ||
      napi_get_value_int64(env, argv[2], &len) != napi_ok || off < 0 || len < 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(len) > total) {
    napi_throw_type_error(env, nullptr, "releasePages: expected (ArrayBuffer, byteOffset, byteLength) inside the buffer");
    return nullptr;
  }
  double released = 0;
#ifdef LLM2VEC_HAVE_MMAP
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t a = reinterpret_cast<uintptr_t>(data) + static_cast<uintptr_t>(off);
  const uintptr_t start = (a + page - 1) / page * page, end = (a + static_cast<uintptr_t>(len)) / page * page;
  if (end > start && madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) released = static_cast<double>(end - start);
#endif
  napi_value r;
  napi_create_double(env, released, &r);
  return r;
}

}  // namespace napi_glue
}  // namespace llm
