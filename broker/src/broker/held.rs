//! The router's lock guard, which holds back task wake-ups until the lock is released.
//!
//! A PUBLISH routed under the lock notifies every subscriber it reached. Waking a task on a
//! multi-threaded runtime may wake a sleeping worker thread with a futex call, several
//! microseconds that the lock would otherwise be held for while the woken task (and every
//! other connection) waits for it. Measured on two cores, the fan-in's profile spent its time
//! in `futex_wait` under `drain_packets` and in `try_to_wake_up` (docs/PERFORMANCE.md). So
//! while a [`RouterGuard`] is alive on a thread, [`Wake`](super::Wake) hands the task's waker
//! here, and the guard wakes them all once the lock is free. The flags a connection acts on are
//! set at once; only the wake-up itself waits, and the woken task would have blocked on the
//! lock anyway.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};
use std::sync::MutexGuard;
use std::task::Waker;

use super::Router;

thread_local! {
    /// How many router guards this thread holds (a guard is never sent to another thread:
    /// `MutexGuard` is not `Send`).
    static HELD: Cell<u32> = const { Cell::new(0) };
    /// Wakers handed over while a guard was held, woken when the last one is dropped.
    static DEFERRED: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

/// Wakes `waker` now, or once this thread releases the router if it holds it.
pub(crate) fn wake(waker: Waker) {
    if HELD.get() == 0 {
        waker.wake();
    } else {
        DEFERRED.with_borrow_mut(|d| d.push(waker));
    }
}

/// The router locked at its first use and kept until released or dropped: the packets of one
/// read are handled under one lock. On two cores a lock per PUBLISH and per PUBACK made the
/// router's mutex change hands (a futex call each side) about once per ten messages in the
/// fan-in; a batch of them pays that once.
pub(crate) struct Batch<'a> {
    lock: &'a std::sync::Mutex<Router>,
    guard: Option<RouterGuard<'a>>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(lock: &'a std::sync::Mutex<Router>) -> Self {
        Self { lock, guard: None }
    }

    /// The router, locked now if it was not yet.
    pub(crate) fn router(&mut self) -> &mut Router {
        let lock = self.lock;
        self.guard.get_or_insert_with(|| {
            let mut guard = RouterGuard::lock(lock);
            guard.seal_at_release();
            guard
        })
    }

    /// Unlocks it, before work that locks it on its own (or should not hold it).
    pub(crate) fn release(&mut self) {
        self.guard = None;
    }
}

/// The router, locked; wake-ups raised meanwhile go out when it is dropped.
pub(crate) struct RouterGuard<'a> {
    /// `None` only inside `drop`, which unlocks before it wakes anyone.
    guard: Option<MutexGuard<'a, Router>>,
}

impl<'a> RouterGuard<'a> {
    /// Locks the router, spinning a while first if it is held ([`SPIN_PAUSES`]). A panic while
    /// it was held leaves consistent maps (each operation is completed or not started), so a
    /// poisoned lock is taken over rather than propagated.
    pub(crate) fn lock(lock: &'a std::sync::Mutex<Router>) -> Self {
        let guard = spin_then_lock(lock);
        HELD.set(HELD.get() + 1);
        Self { guard: Some(guard) }
    }
}

/// How long a thread that finds the router locked spins before it sleeps on the lock, in pause
/// instructions (about 30 us on the bench's machine). The lock is held for tens of
/// microseconds (a batch of 32 packets); sleeping on it took a futex call each side and a
/// context switch, which on two cores cost more than the wait. Measured in docs/PERFORMANCE.md
/// ("Every core: the sixth session"). With one core there is no one to wait for: no spin.
const SPIN_PAUSES: u32 = 1024;

fn spin_then_lock(lock: &std::sync::Mutex<Router>) -> MutexGuard<'_, Router> {
    use std::sync::{OnceLock, PoisonError, TryLockError};
    static BUDGET: OnceLock<u32> = OnceLock::new();
    let budget = *BUDGET.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        if cores > 1 { SPIN_PAUSES } else { 0 }
    });
    let mut spun = 0;
    loop {
        match lock.try_lock() {
            Ok(guard) => return guard,
            Err(TryLockError::Poisoned(p)) => return p.into_inner(),
            Err(TryLockError::WouldBlock) if spun < budget => {
                for _ in 0..16 {
                    std::hint::spin_loop();
                }
                spun += 16;
            }
            Err(TryLockError::WouldBlock) => return lock.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }
}

impl Deref for RouterGuard<'_> {
    type Target = Router;

    fn deref(&self) -> &Router {
        // Some until drop.
        self.guard.as_deref().unwrap_or_else(|| unreachable!("router guard used after drop"))
    }
}

impl DerefMut for RouterGuard<'_> {
    fn deref_mut(&mut self) -> &mut Router {
        self.guard.as_deref_mut().unwrap_or_else(|| unreachable!("router guard used after drop"))
    }
}

impl Drop for RouterGuard<'_> {
    fn drop(&mut self) {
        if let Some(router) = self.guard.as_deref_mut() {
            // What was routed under the lock is shared before anyone else takes it.
            router.seal_encoded();
        }
        drop(self.guard.take());
        let held = HELD.get() - 1;
        HELD.set(held);
        if held == 0 {
            // Taken out first: a waker's `wake` may run code that locks the router again.
            let wakers = DEFERRED.with_borrow_mut(std::mem::take);
            for waker in wakers {
                waker.wake();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake as TaskWake;

    use super::*;

    struct Count(AtomicUsize);
    impl TaskWake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn router() -> std::sync::Mutex<Router> {
        std::sync::Mutex::new(Router::new(crate::broker::Limits::from_config(&crate::config::Config::default()), None))
    }

    #[test]
    fn a_wake_under_the_lock_waits_for_its_release_and_then_goes_out() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let lock = router();
        let guard = RouterGuard::lock(&lock);
        wake(Waker::from(count.clone()));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "woken while the router was held");
        drop(guard);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(lock.try_lock().is_ok());
    }

    #[test]
    fn without_the_lock_a_wake_goes_out_at_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        wake(Waker::from(count.clone()));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_wake_up_runs_after_the_lock_is_free() {
        // A waker that locks the router itself would deadlock if woken under the guard.
        struct Relock(Arc<std::sync::Mutex<Router>>, AtomicUsize);
        impl TaskWake for Relock {
            fn wake(self: Arc<Self>) {
                assert!(self.0.try_lock().is_ok(), "the router was still locked");
                self.1.fetch_add(1, Ordering::SeqCst);
            }
        }
        let lock = Arc::new(router());
        let relock = Arc::new(Relock(lock.clone(), AtomicUsize::new(0)));
        {
            let _guard = RouterGuard::lock(&lock);
            wake(Waker::from(relock.clone()));
        }
        assert_eq!(relock.1.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_poisoned_router_is_taken_over() {
        let lock = Arc::new(router());
        let holder = lock.clone();
        let panicked = std::thread::spawn(move || {
            let _guard = RouterGuard::lock(&holder);
            panic!("a panic while the router is held");
        })
        .join();
        assert!(panicked.is_err());
        assert!(lock.is_poisoned());
        drop(RouterGuard::lock(&lock));
    }

    #[test]
    fn threads_that_spin_and_then_sleep_on_the_lock_still_hold_it_one_at_a_time() {
        let lock = Arc::new(router());
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (lock, inside) = (lock.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        let _guard = RouterGuard::lock(&lock);
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders at once");
                        // Held long enough that the others spin out and sleep now and then.
                        for _ in 0..200 {
                            std::hint::spin_loop();
                        }
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
