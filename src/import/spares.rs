//! Spare jobs: the buffers of records whose outcome is recorded, handed
//! back to the reader for the next records, so a live import allocates no
//! key, body or raw-bytes buffer per row once it has warmed up.

use std::sync::Mutex;

use crate::deliver::Job;

/// Spare jobs kept at most: more than can be queued and in flight at once
/// (the channel's 1,024 plus what delivery holds), so none is dropped in
/// a steady run.
const KEPT: usize = 4096;

/// A buffer larger than this (a huge row) is not kept: one such row must
/// not pin its memory for the rest of the run.
const LARGEST_KEPT: usize = 64 * 1024;

#[derive(Debug, Default)]
pub struct Spares {
    jobs: Mutex<Vec<Job>>,
}

impl Spares {
    /// A job to fill: a spare one, or a new one.
    pub fn take(&self) -> Job {
        let spare = self.lock().pop();
        spare.unwrap_or_default()
    }

    /// Keeps `job`'s buffers for a later record.
    pub fn give(&self, job: Job) {
        let largest = job.body.capacity().max(job.raw.capacity());
        if largest > LARGEST_KEPT {
            return;
        }
        let mut jobs = self.lock();
        if jobs.len() < KEPT {
            jobs.push(job);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        // A panic elsewhere cannot leave a Vec of jobs half-changed.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `job` refilled with one record's line, key, body and raw bytes, its
/// buffers reused; the caller sets the other fields.
pub fn refill(mut job: Job, line: u64, key: &str, body: &[u8], raw: &[u8]) -> Job {
    job.line = line;
    job.key.clear();
    job.key.push_str(key);
    job.body.clear();
    job.body.extend_from_slice(body);
    job.raw.clear();
    job.raw.extend_from_slice(raw);
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_job_comes_back_refilled_with_its_buffers() {
        let spares = Spares::default();
        let first = refill(spares.take(), 2, "a@x.io", b"{\"a\":1}", b"a@x.io,1");
        let capacity = first.body.capacity();
        spares.give(first);
        let second = refill(spares.take(), 3, "b", b"{}", b"b");
        assert_eq!(
            (second.line, &*second.key, &second.body[..], &second.raw[..]),
            (3, "b", &b"{}"[..], &b"b"[..])
        );
        assert_eq!(second.body.capacity(), capacity);
    }

    #[test]
    fn huge_buffers_are_not_kept() {
        let spares = Spares::default();
        let huge = vec![b'x'; LARGEST_KEPT + 1];
        spares.give(refill(spares.take(), 2, "k", &huge, b"k"));
        assert_eq!(spares.take().body.capacity(), 0);
    }
}
