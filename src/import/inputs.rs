//! The inputs named on the command line, checked before anything is read:
//! `-` for standard input (once), quoted glob patterns expanded here in
//! sorted order (a pattern that matches nothing stops the run), and no
//! file named twice.

use std::path::{Path, PathBuf};

use crate::failure::Failure;

use super::source::is_stdin;

/// The files to read, in the order they are read.
pub fn expand(arguments: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut inputs = Vec::new();
    for argument in arguments {
        match pattern(argument) {
            Some(pattern) => inputs.extend(matches(pattern)?),
            None => inputs.push(argument.clone()),
        }
    }
    refuse_repeats(&inputs)?;
    Ok(inputs)
}

/// The argument as a glob pattern, when it is one: it holds `*`, `?` or
/// `[` and no file has that very name.
fn pattern(argument: &Path) -> Option<&str> {
    let text = argument.to_str()?;
    let wild = text.contains(['*', '?', '[']);
    (wild && !argument.exists()).then_some(text)
}

fn matches(pattern: &str) -> Result<Vec<PathBuf>, Failure> {
    let paths = glob::glob(pattern)
        .map_err(|e| Failure::before_sending(format!("`{pattern}` is not a valid pattern: {e}")))?;
    let mut found = Vec::new();
    for path in paths {
        let path =
            path.map_err(|e| Failure::before_sending(format!("cannot list `{pattern}`: {e}")))?;
        if !path.is_dir() {
            found.push(path);
        }
    }
    if found.is_empty() {
        return Err(
            Failure::before_sending(format!("no file matches `{pattern}`")).with_hint(
                "check the pattern; quote it so that the tool, not the shell, expands it",
            ),
        );
    }
    found.sort();
    Ok(found)
}

/// Refuses a second `-` and a file named twice: its dead letters would
/// overwrite each other.
fn refuse_repeats(inputs: &[PathBuf]) -> Result<(), Failure> {
    if inputs.iter().filter(|path| is_stdin(path)).count() > 1 {
        return Err(Failure::before_sending(
            "standard input (`-`) is named more than once",
        ));
    }
    for (i, path) in inputs.iter().enumerate() {
        if is_stdin(path) {
            continue;
        }
        let same = |other: &PathBuf| super::outputs::same_file(path, other);
        if inputs[..i].iter().any(same) {
            return Err(Failure::before_sending(format!(
                "{} is named more than once among the inputs",
                path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_expand_sorted_and_plain_names_stay_in_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["b.csv", "a.csv", "c.tsv"] {
            std::fs::write(dir.path().join(name), "email\n").expect("write");
        }
        let pattern = dir.path().join("*.csv");
        let first = dir.path().join("c.tsv");
        let found = expand(&[first.clone(), pattern]).expect("matches");
        let expected = [first, dir.path().join("a.csv"), dir.path().join("b.csv")];
        assert_eq!(found, expected);
    }

    #[test]
    fn an_unmatched_pattern_a_repeat_and_a_second_stdin_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let none = dir.path().join("*.ndjson");
        let error = expand(std::slice::from_ref(&none)).expect_err("no match");
        assert_eq!(
            error.message,
            format!("no file matches `{}`", none.display())
        );
        let file = dir.path().join("a.csv");
        std::fs::write(&file, "email\n").expect("write");
        let pattern = dir.path().join("a.*");
        assert!(expand(&[file, pattern]).is_err());
        let dash = PathBuf::from("-");
        assert!(expand(&[dash.clone(), dash]).is_err());
    }
}
