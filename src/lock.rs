//! Locking that survives a poisoned mutex.
//!
//! A thread that panicked while holding one of this crate's mutexes left data that is still
//! whole (settings, statistics, the frame path's buffers: every update is a plain assignment or
//! a complete frame), and the streaming thread must never panic across the FFI boundary, so
//! the poison is ignored rather than propagated.

use std::sync::{LockResult, Mutex, MutexGuard};

/// Locks `mutex`, ignoring poison.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    unpoisoned(mutex.lock())
}

/// The guard of a lock or condition-variable wait, ignoring poison.
pub fn unpoisoned<G>(result: LockResult<G>) -> G {
    result.unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_mutex_still_gives_its_data() {
        let m = Mutex::new(5);
        let _ = std::panic::catch_unwind(|| {
            let _guard = m.lock().unwrap();
            panic!("poison it");
        });
        assert!(m.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 6);
    }
}
