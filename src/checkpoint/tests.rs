//! Reading back what an interrupted run left: the records it finished, and
//! how much of its dead-letter file belongs to them.

use super::*;

fn header(dead_letter_preamble: &str) -> Header {
    Header {
        version: VERSION,
        input: "in.csv".into(),
        mapping: "m.toml".into(),
        dead_letter: "in.dead-letter.ndjson".into(),
        dead_letter_preamble: dead_letter_preamble.into(),
        dead_letter_kept: 0,
        dead_letter_kept_entries: 0,
        created: "2026-12-04T18:00:00Z".into(),
        tool: "test".into(),
        identity: Identity {
            input_size: 10,
            input_modified_ns: 1,
            input_head: "0".into(),
            mapping_hash: "0".into(),
        },
    }
}

/// A checkpoint holding `header` and the entry lines `entries`.
fn checkpoint(dir: &Path, header: &Header, entries: &[Outcome]) -> (std::path::PathBuf, u64) {
    let path = dir.join("in.checkpoint");
    let journal = Journal::create(&path, header, &Done::default()).expect("create");
    for (seq, &outcome) in (1..).zip(entries) {
        journal.record(seq, outcome);
    }
    journal.finish(false).expect("sync");
    let (_, header_len) = read_header(&path).expect("readable").expect("a header");
    (path, header_len)
}

#[test]
fn dead_lettered_records_count_only_while_their_entries_are_in_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dead_letter = dir.path().join("dl.ndjson");
    let preamble = b"{\"dead_letter\":{}}\n";
    let first = b"{\"line\":2}\n";
    let second = b"{\"line\":3}\n";
    let mut text = [&preamble[..], first, second].concat();
    // A third entry written, not yet journaled when the run died, and torn.
    text.extend_from_slice(b"{\"line\":4");
    std::fs::write(&dead_letter, &text).expect("write");
    let found = inspect_dead_letter(&dead_letter).expect("a dead-letter file");
    let end_of = |entries: usize| (preamble.len() + entries * first.len()) as u64;
    assert_eq!(found.preamble_end, end_of(0));
    assert_eq!(found.whole, end_of(2));
    let outcomes = [
        Outcome::Upserted,
        Outcome::DeadLettered {
            dead_letter_end: end_of(1),
        },
        Outcome::Blank,
        Outcome::DeadLettered {
            dead_letter_end: end_of(2),
        },
        // Its entry was lost (power cut): the record is done again.
        Outcome::DeadLettered {
            dead_letter_end: end_of(3),
        },
    ];
    let header = header(&found.preamble_hash);
    let (path, header_len) = checkpoint(dir.path(), &header, &outcomes);
    let resumed = load(&path, &header, header_len, Some(&found)).expect("load");
    assert_eq!((resumed.done.mark(), resumed.done.count()), (4, 4));
    assert_eq!(resumed.dead_letter_keep, Some(end_of(2)));
    assert_eq!(
        count_lines(&dead_letter, end_of(0), end_of(2)).expect("count"),
        2
    );
}

#[test]
fn another_dead_letter_file_makes_its_records_be_done_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outcomes = [
        Outcome::DeadLettered {
            dead_letter_end: 30,
        },
        Outcome::Upserted,
    ];
    let header = header("not the file's hash");
    let (path, header_len) = checkpoint(dir.path(), &header, &outcomes);
    let found = DeadLetterFile {
        preamble_hash: "0123".into(),
        preamble_end: 20,
        whole: 40,
    };
    let resumed = load(&path, &header, header_len, Some(&found)).expect("load");
    assert_eq!(resumed.dead_letter_keep, None);
    assert!(!resumed.done.contains(1) && resumed.done.contains(2));
}

#[test]
fn a_rewritten_checkpoint_keeps_the_finished_records_as_ranges() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("in.checkpoint");
    let mut done = Done::default();
    done.insert_range(1, 500);
    done.insert_range(503, 900);
    let header = header("");
    let journal = Journal::create(&path, &header, &done).expect("create");
    journal.record(502, Outcome::Upserted);
    journal.finish(false).expect("sync");
    let (read, header_len) = read_header(&path).expect("readable").expect("a header");
    assert_eq!(read.identity, header.identity);
    let resumed = load(&path, &read, header_len, None).expect("load");
    assert_eq!(
        resumed.done.ranges().collect::<Vec<_>>(),
        [(1, 500), (502, 900)]
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(!dir.path().join("in.checkpoint.new").exists());
}

#[test]
fn a_header_cut_short_is_no_checkpoint_and_a_foreign_version_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("in.checkpoint");
    std::fs::write(&path, "{\"checkpoint\":{\"vers").expect("write");
    assert!(read_header(&path).expect("readable").is_none());
    let mut later = header("");
    later.version = 9;
    std::fs::write(&path, later.to_line().expect("json")).expect("write");
    assert_eq!(
        read_header(&path).expect_err("refused"),
        "it is of format version 9, this tool writes version 1"
    );
}

#[test]
fn entries_counted_in_ranges_are_kept_and_their_loss_is_told() {
    let dir = tempfile::tempdir().expect("temp dir");
    let found = DeadLetterFile {
        preamble_hash: "0123".into(),
        preamble_end: 20,
        whole: 90,
    };
    let mut header = header("0123");
    // A resumed run kept two entries (bytes 20..60) for its `r` entries.
    header.dead_letter_kept = 60;
    header.dead_letter_kept_entries = 2;
    let path = dir.path().join("in.checkpoint");
    let mut done = Done::default();
    done.insert_range(1, 10);
    Journal::create(&path, &header, &done)
        .expect("create")
        .finish(false)
        .expect("sync");
    let (read, header_len) = read_header(&path).expect("readable").expect("a header");
    let resumed = load(&path, &read, header_len, Some(&found)).expect("load");
    assert_eq!(
        resumed.dead_letter_keep,
        Some(60),
        "not cut back to the preamble"
    );
    assert!(!loses_dead_letters(&read, Some(&found)));
    let cut = DeadLetterFile {
        whole: 40,
        ..found.clone()
    };
    let other = DeadLetterFile {
        preamble_hash: "4567".into(),
        ..found
    };
    for file in [None, Some(&cut), Some(&other)] {
        assert!(loses_dead_letters(&read, file), "{file:?}");
    }
    header.dead_letter_kept_entries = 0;
    assert!(!loses_dead_letters(&header, None));
}
