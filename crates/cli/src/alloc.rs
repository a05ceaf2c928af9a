//! The process allocator: mimalloc, called through its plain entry points.
//!
//! The `mimalloc` crate routes every allocation through `mi_malloc_aligned`;
//! almost all of the evaluator's allocations need no more than 16-byte
//! alignment, which plain `mi_malloc` guarantees on a shorter path.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// Alignment `mi_malloc` guarantees.
const MIN_ALIGN: usize = 16;

/// mimalloc with a fast path for ordinary alignments.
pub struct Allocator;

unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            // SAFETY: mi_malloc returns memory aligned to at least MIN_ALIGN.
            unsafe { libmimalloc_sys::mi_malloc(layout.size()) as *mut u8 }
        } else {
            // SAFETY: forwarded with the caller's layout.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            // SAFETY: as for `alloc`.
            unsafe { libmimalloc_sys::mi_zalloc(layout.size()) as *mut u8 }
        } else {
            // SAFETY: forwarded with the caller's layout.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: every pointer came from mimalloc, which frees any alignment.
        unsafe { libmimalloc_sys::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            // SAFETY: `ptr` came from mimalloc; the alignment is preserved.
            unsafe { libmimalloc_sys::mi_realloc(ptr as *mut c_void, new_size) as *mut u8 }
        } else {
            // SAFETY: forwarded with the caller's layout.
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

/// `mi_option_purge_delay` in the `mi_option_t` enum of the mimalloc the
/// locked `libmimalloc-sys` builds (its Rust bindings predate the name).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

unsafe extern "C" {
    /// mimalloc's `mi_option_set` (linked in by `libmimalloc-sys`).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Sets mimalloc's options for an evaluator's allocation pattern, unless
/// the environment sets them (`MIMALLOC_PURGE_DELAY`).
///
/// mimalloc gives freed memory back to the system 10 ms after it is freed
/// by default; an evaluation frees and allocates in waves, and every page
/// given back is zeroed by the kernel again when it is used next. That was
/// most of the system time of a large evaluation (N=5000 synthetic fleet:
/// 1.3 s of system time, 0.1 s with a one-second delay).
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: setting an option is allowed at any time.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    }
}
