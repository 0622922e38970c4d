//! `laudspeaker-import mapping init FILE`: writes a complete mapping for an
//! export from its header and a sample of its rows.
//!
//! The stages: [`sample`] reads the file as the import would (deciding
//! delimiter and encoding when not given), [`infer`] chooses each column's
//! type by the import's own conversion rules, [`naming`] derives attribute
//! names, [`key`] picks the primary key, and [`write`] prints the TOML with
//! a comment explaining every choice. The result loads and binds as it
//! stands; a person reviews it, then runs `check` and `import --dry-run`.

mod infer;
mod key;
mod naming;
mod sample;
mod write;

use std::io::Write as _;
use std::path::Path;

use crate::cli::{InitArgs, InputFormat};
use crate::failure::Failure;
use crate::mapping::Format;

pub use infer::{infer, ColumnStats, Inferred};
pub use naming::{attribute_names, snake_case};

/// Runs `mapping init`; returns the exit code.
pub fn run(args: &InitArgs) -> Result<u8, Failure> {
    let output = args.output.as_deref();
    if let Some(path) = output {
        refuse_to_overwrite(path, &args.input, args.force)?;
    }
    let encoding = match &args.encoding {
        Some(label) => Some(encoding_for(label)?),
        None => None,
    };
    let asked = sample::Asked {
        format: args.format.map(|format| match format {
            InputFormat::Csv => Format::Csv,
            InputFormat::Ndjson => Format::Ndjson,
        }),
        delimiter: args.delimiter,
        encoding,
        limit: if args.whole_file {
            u64::MAX
        } else {
            args.sample
        },
    };
    let sample = sample::read(&args.input, asked)?;
    let text = write::mapping_text(&args.input, &sample, args.primary_key.as_deref())?;
    match output {
        Some(path) => write_file(path, &text, args.force)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| Failure::before_sending(format!("writing the mapping: {e}")))?;
        }
    }
    if let Some(path) = output {
        crate::say!(
            "wrote {}: review it, then `laudspeaker-import check {} --mapping {}`",
            path.display(),
            args.input.display(),
            path.display()
        );
    }
    Ok(crate::failure::code::OK)
}

/// Any WHATWG label, as `[source] encoding` accepts.
fn encoding_for(label: &str) -> Result<&'static encoding_rs::Encoding, Failure> {
    crate::mapping::encoding_for_label(label.trim()).map_err(|message| {
        let message = message.replacen("`encoding = ", "`--encoding ", 1);
        Failure::before_sending(message)
    })
}

/// The output may not be the input, nor an existing file without --force.
fn refuse_to_overwrite(output: &Path, input: &Path, force: bool) -> Result<(), Failure> {
    let same = match (output.canonicalize(), input.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Failure::before_sending(format!(
            "-o {} is the input file itself",
            output.display()
        )));
    }
    if output.exists() && !force {
        return Err(
            Failure::before_sending(format!("{} already exists", output.display()))
                .with_hint("pass --force to replace it, or choose another -o"),
        );
    }
    Ok(())
}

fn write_file(path: &Path, text: &str, force: bool) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // Created here or not at all: a file that appeared since the check
        // is not replaced.
        options.create_new(true);
    }
    let written = options.open(path).and_then(|mut file| {
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
    });
    written.map_err(|e| Failure::before_sending(format!("cannot write {}: {e}", path.display())))
}
