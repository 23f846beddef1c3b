/// \file
/// floc's operator new and delete: small blocks (up to kMaxSmall bytes) come from size classes,
/// larger ones from malloc.
///
/// A check makes and frees tens of allocations per line (ANTLR's parse tree and terminal nodes,
/// the AST's words, the IR's vectors): with glibc's malloc and free they cost ~15 % of a check
/// (docs/benchmarks.md). Here each size class (16, 32, ... 1024 bytes) owns a range of one
/// reserved address span (reserved, not committed: a page costs memory once touched), so the
/// class of a block is its address and a block has no header. A thread takes blocks from its own
/// free list, else carves them from 64 KB runs of its class's range, each mapped in one go; a
/// freed block goes onto the free list of the thread that frees it (floc starts no threads of
/// its own; a thread's list ends with it). Blocks are never returned to the system (the free
/// lists reuse them), as with any size-class allocator; a class whose range is used up, or a
/// process where the span cannot be reserved (a small RLIMIT_AS), falls back to malloc.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <sys/mman.h>

namespace {

constexpr std::size_t kGrain = 16; ///< class sizes are multiples: new's alignment is kept
constexpr std::size_t kClasses = 64;
constexpr std::size_t kMaxSmall = kClasses * kGrain;
constexpr std::size_t kClassSpan = std::size_t(1) << 29; ///< addresses per class: 512 MB
constexpr std::size_t kRun = std::size_t(64) << 10;      ///< what a thread carves at a time

struct Span {
  char* base = nullptr;
  std::atomic<std::size_t> used[kClasses] = {};

  Span() {
    void* p = mmap(nullptr, kClasses * kClassSpan, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) base = static_cast<char*>(p);
  }
};

Span& span() {
  static Span s;
  return s;
}

/// Null until this file's static initialization: earlier blocks come from malloc.
char* const g_base = span().base;

struct Cache {
  void* free[kClasses] = {};
  char* next[kClasses] = {};
  char* end[kClasses] = {};
};
thread_local Cache t_cache;

bool small(const void* p) {
  auto* c = static_cast<const char*>(p);
  return g_base && c >= g_base && c < g_base + kClasses * kClassSpan;
}

void* carve(std::size_t c) {
  Cache& k = t_cache;
  std::size_t size = (c + 1) * kGrain;
  if (!k.next[c] || k.next[c] + size > k.end[c]) {
    std::size_t offset = span().used[c].fetch_add(kRun, std::memory_order_relaxed);
    if (offset + kRun > kClassSpan) return nullptr;
    k.next[c] = g_base + c * kClassSpan + offset;
    k.end[c] = k.next[c] + kRun;
#ifdef MADV_POPULATE_WRITE
    // One call maps the run's pages (Linux 5.14; before, it fails and they fault in one by
    // one): ~5 % of a check was faults of fresh pages, one per 4 KB.
    madvise(k.next[c], kRun, MADV_POPULATE_WRITE);
#endif
  }
  void* p = k.next[c];
  k.next[c] += size;
  return p;
}

void* allocate(std::size_t n) {
  if (n == 0) n = 1;
  if (n <= kMaxSmall && g_base) {
    std::size_t c = (n - 1) / kGrain;
    Cache& k = t_cache;
    if (void* p = k.free[c]) {
      k.free[c] = *static_cast<void**>(p);
      return p;
    }
    if (void* p = carve(c)) return p;
  }
  for (;;) {
    if (void* p = std::malloc(n)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void release(void* p) noexcept {
  if (!p) return;
  if (!small(p)) return std::free(p);
  std::size_t c = std::size_t(static_cast<char*>(p) - g_base) / kClassSpan;
  Cache& k = t_cache;
  *static_cast<void**>(p) = k.free[c];
  k.free[c] = p;
}

void* allocateNoThrow(std::size_t n) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}

} // namespace

void* operator new(std::size_t n) {
  return allocate(n);
}
void* operator new[](std::size_t n) {
  return allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return allocateNoThrow(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return allocateNoThrow(n);
}
void operator delete(void* p) noexcept {
  release(p);
}
void operator delete[](void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  release(p);
}
