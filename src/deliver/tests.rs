//! Dispatcher tests on tokio's paused clock, with fake jobs instead of HTTP.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::time::{sleep, Instant};

use super::*;

const MS: Duration = Duration::from_millis(1);

fn job(line: u64, key: &str) -> Job {
    Job {
        line,
        seq: line,
        key: key.into(),
        body: Vec::new(),
        raw: Vec::new(),
        source_line: None,
        input: 0,
    }
}

fn limits(concurrency: usize, held: usize) -> Limits {
    Limits {
        concurrency,
        held,
        grace: STOP_GRACE,
    }
}

/// Fills a channel with `jobs` and closes it.
fn channel_of(jobs: Vec<Job>) -> mpsc::Receiver<Job> {
    let (tx, rx) = mpsc::channel(jobs.len().max(1));
    for job in jobs {
        tx.try_send(job)
            .expect("the channel has room for every job");
    }
    rx
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Start(u64),
    End(u64),
}

/// Per key, the events of its jobs in the order they happened.
type EventLog = Arc<Mutex<Vec<(Box<str>, Event)>>>;

fn events_of(log: &EventLog, key: &str) -> Vec<Event> {
    let log = log.lock().expect("no test task panicked");
    log.iter()
        .filter(|(k, _)| &**k == key)
        .map(|(_, e)| *e)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn same_key_jobs_run_one_at_a_time_in_order_received() {
    let keys = [
        "a", "b", "a", "c", "a", "a", "d", "b", "a", "e", "f", "a", "b", "g",
    ];
    let mut jobs: Vec<Job> = Vec::new();
    for round in 0..5 {
        for (i, key) in keys.iter().enumerate() {
            jobs.push(job((round * keys.len() + i + 1) as u64, key));
        }
    }
    let log: EventLog = Arc::default();
    let live = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let run = |job: Job| {
        let (log, live, most) = (log.clone(), live.clone(), most.clone());
        async move {
            let now_live = live.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now_live, Ordering::SeqCst);
            log.lock()
                .unwrap()
                .push((job.key.as_str().into(), Event::Start(job.line)));
            // The first job is by far the slowest, tempting later "a" jobs
            // to overtake it.
            let pause = if job.line == 1 { 500 } else { job.line % 7 * 5 };
            sleep(Duration::from_millis(pause)).await;
            log.lock()
                .unwrap()
                .push((job.key.as_str().into(), Event::End(job.line)));
            live.fetch_sub(1, Ordering::SeqCst);
            JobEnd::Reported
        }
    };
    let mut rx = channel_of(jobs);
    let not_sent = Dispatcher::new(limits(4, 64), run)
        .run(&mut rx, &CancellationToken::new())
        .await;

    assert_eq!(not_sent, 0);
    assert_eq!(most.load(Ordering::SeqCst), 4);
    for key in ["a", "b", "c", "d", "e", "f", "g"] {
        let lines: Vec<u64> = (1..=70u64)
            .filter(|l| keys[(*l as usize - 1) % 14] == key)
            .collect();
        let expected: Vec<Event> = lines
            .iter()
            .flat_map(|&l| [Event::Start(l), Event::End(l)])
            .collect();
        assert_eq!(events_of(&log, key), expected, "key {key}");
    }
}

#[tokio::test(start_paused = true)]
async fn reader_waits_while_the_held_jobs_are_at_their_bound() {
    let (tx, mut rx) = mpsc::channel(100);
    for line in 1..=20 {
        tx.send(job(line, &format!("k{line}"))).await.unwrap();
    }
    let gate = Arc::new(Semaphore::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let (gate_in, started_in) = (gate.clone(), started.clone());
    let run = move |_job: Job| {
        let (gate, started) = (gate_in.clone(), started_in.clone());
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            gate.acquire().await.expect("the gate stays open").forget();
            JobEnd::Reported
        }
    };
    let halt = CancellationToken::new();
    let dispatcher = tokio::spawn({
        let halt = halt.clone();
        async move { Dispatcher::new(limits(2, 5), run).run(&mut rx, &halt).await }
    });
    sleep(100 * MS).await;
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(
        tx.max_capacity() - tx.capacity(),
        15,
        "jobs left in the channel"
    );

    gate.add_permits(20);
    drop(tx);
    assert_eq!(dispatcher.await.unwrap(), 0);
    assert_eq!(started.load(Ordering::SeqCst), 20);
}

#[tokio::test(start_paused = true)]
async fn halt_counts_waiting_and_abandoned_jobs_as_not_sent() {
    let (tx, mut rx) = mpsc::channel(16);
    for line in 1..=10 {
        tx.send(job(line, &format!("k{line}"))).await.unwrap();
    }
    let run = |_job: Job| async { std::future::pending::<JobEnd>().await };
    let halt = CancellationToken::new();
    let start = Instant::now();
    let stopper = halt.clone();
    tokio::spawn(async move {
        sleep(10 * MS).await;
        stopper.cancel();
    });
    let not_sent = Dispatcher::new(limits(2, 4), run).run(&mut rx, &halt).await;

    assert_eq!(not_sent, 10);
    assert_eq!(Instant::now() - start, 10 * MS + STOP_GRACE);
    assert!(
        tx.send(job(11, "late")).await.is_err(),
        "the channel is closed"
    );
}

#[tokio::test(start_paused = true)]
async fn halt_lets_running_jobs_finish_within_the_grace_time() {
    let mut rx = channel_of(
        (1..=10)
            .map(|line| job(line, &format!("k{line}")))
            .collect(),
    );
    let run = |_job: Job| async {
        sleep(1000 * MS).await;
        JobEnd::Reported
    };
    let halt = CancellationToken::new();
    let stopper = halt.clone();
    tokio::spawn(async move {
        sleep(10 * MS).await;
        stopper.cancel();
    });
    let start = Instant::now();
    let not_sent = Dispatcher::new(limits(3, 64), run)
        .run(&mut rx, &halt)
        .await;

    assert_eq!(not_sent, 7);
    assert_eq!(Instant::now() - start, 1000 * MS);
}

#[tokio::test(start_paused = true)]
async fn dropped_jobs_count_as_not_sent_and_free_their_key() {
    let mut rx = channel_of(vec![job(1, "a"), job(2, "a"), job(3, "a")]);
    let ran = Arc::new(Mutex::new(Vec::new()));
    let run = |job: Job| {
        let ran = ran.clone();
        async move {
            ran.lock().unwrap().push(job.line);
            if job.line == 2 {
                JobEnd::Dropped
            } else {
                JobEnd::Reported
            }
        }
    };
    let not_sent = Dispatcher::new(limits(2, 64), run)
        .run(&mut rx, &CancellationToken::new())
        .await;

    assert_eq!(not_sent, 1);
    assert_eq!(*ran.lock().unwrap(), [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn empty_input_finishes_at_once() {
    let mut rx = channel_of(Vec::new());
    let run = |_job: Job| async { JobEnd::Reported };
    let not_sent = Dispatcher::new(limits(8, 64), run)
        .run(&mut rx, &CancellationToken::new())
        .await;
    assert_eq!(not_sent, 0);
}

#[test]
fn held_bound_is_four_per_request_and_at_least_64() {
    assert_eq!(Limits::for_concurrency(1).held, 64);
    assert_eq!(Limits::for_concurrency(16).held, 64);
    assert_eq!(Limits::for_concurrency(50).held, 200);
    assert_eq!(Limits::for_concurrency(0).concurrency, 1);
}
