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
