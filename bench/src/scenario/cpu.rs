//! Processor time, of the broker (with `--pid`) and of the load generator itself, over a run:
//! on a machine whose cores the two share, how much of them each one took tells how far the
//! broker could go with every core to itself.
//!
//! Read from each process's CPU-time clock (`clock_getcpuclockid`), which counts nanoseconds
//! and every thread, living or ended; /proc's tick counts are 10 ms coarse, a tenth of a short
//! fan-out run.

use nix::time::{ClockId, clock_getcpuclockid, clock_gettime};
use nix::unistd::Pid;

/// Processor time of `pid` (or of this process, without one) in nanoseconds so far.
pub fn cpu_ns(pid: Option<u32>) -> Option<u64> {
    let clock = match pid {
        Some(pid) => clock_getcpuclockid(Pid::from_raw(i32::try_from(pid).ok()?)).ok()?,
        None => ClockId::CLOCK_PROCESS_CPUTIME_ID,
    };
    let t = clock_gettime(clock).ok()?;
    Some(u64::try_from(t.tv_sec()).ok()? * 1_000_000_000 + u64::try_from(t.tv_nsec()).ok()?)
}

/// Both processes' processor time at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    broker: Option<u64>,
    load: Option<u64>,
}

impl Mark {
    /// Reads both clocks now (the broker's only with a `pid`).
    pub fn now(pid: Option<u32>) -> Self {
        Self { broker: pid.and_then(|p| cpu_ns(Some(p))), load: cpu_ns(None) }
    }

    /// Microseconds of processor time per delivery from `start` to this mark: the broker's
    /// (with a pid) and the load generator's.
    pub fn per_delivery_us(&self, start: &Self, deliveries: u64) -> (Option<f64>, Option<f64>) {
        let per = |before: Option<u64>, after: Option<u64>| {
            let used = after?.checked_sub(before?)?;
            (deliveries > 0).then(|| used as f64 / 1000.0 / deliveries as f64)
        };
        (per(start.broker, self.broker), per(start.load, self.load))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_and_another_count_their_own_time() {
        let pid = Some(std::process::id());
        let mark = Mark::now(pid);
        // Busy until this process's own clock has counted 20 ms of work (however long that
        // takes on a loaded machine): the clock read through the pid, read after it, counts at
        // least as much, as it is this process's too.
        let own_start = cpu_ns(None).unwrap();
        let mut x = 0u64;
        while cpu_ns(None).unwrap() - own_start < 20_000_000 {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        let (broker, load) = Mark::now(pid).per_delivery_us(&mark, 1);
        let (broker, load) = (broker.unwrap(), load.unwrap());
        assert!(broker >= 20_000.0 && load >= 20_000.0, "{broker} {load} us");
        // A child that has ended and been reaped: its pid names no process.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        assert!(cpu_ns(Some(gone)).is_none(), "no such process");
    }
}
