//! Compressed inputs: gzip and zstd, recognised by the file's extension or
//! its magic bytes, decoded as a stream so memory stays flat whatever the
//! size of the file.
//!
//! gzip goes through `flate2` (pure-Rust `miniz_oxide` backend); zstd
//! through `ruzstd`, a pure-Rust decoder, so the build needs no C compiler.
//! Both read every member or frame of a file, not only the first: files
//! joined with `cat` are valid and must not be cut silently.

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;
use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

const GZIP_MAGIC: &[u8] = &[0x1F, 0x8B];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xB5, 0x2F, 0xFD];

/// How an input file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression of a file whose first bytes are `head`. The magic
    /// bytes decide: a `.gz` file whose bytes are plain text (a download
    /// already unpacked on the way) is read as it is.
    pub fn detect(head: &[u8]) -> Option<Self> {
        if head.starts_with(GZIP_MAGIC) {
            Some(Compression::Gzip)
        } else if head.starts_with(ZSTD_MAGIC) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The decompressed stream of `source`. `compressed` counts the bytes
    /// taken from the file so far; an error says both counts.
    pub fn decoder<R: BufRead + Send + 'static>(
        self,
        source: R,
        compressed: Arc<AtomicU64>,
    ) -> Box<dyn Read + Send> {
        let inner: Box<dyn Read + Send> = match self {
            Compression::Gzip => Box::new(MultiGzDecoder::new(source)),
            Compression::Zstd => Box::new(ZstdFrames::new(source)),
        };
        Box::new(Explained {
            inner,
            kind: self,
            compressed,
            decompressed: 0,
        })
    }
}

/// `path` without a trailing `.gz` or `.zst`: the name that tells the
/// format (`contacts.tsv.gz` is a TSV file) and names the outputs.
pub fn without_extension(path: &Path) -> PathBuf {
    let is_compressed = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gz") || ext.eq_ignore_ascii_case("zst"));
    if is_compressed {
        path.with_extension("")
    } else {
        path.to_path_buf()
    }
}

/// Counts the bytes read through it, for progress over compressed input.
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Counted { inner, count }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Gives a decoding error its place: how far it got.
struct Explained {
    inner: Box<dyn Read + Send>,
    kind: Compression,
    compressed: Arc<AtomicU64>,
    decompressed: u64,
}

impl Read for Explained {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.decompressed += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!(
                    "the {} data is cut short or damaged after {} compressed bytes \
                     ({} bytes decompressed): {e}",
                    self.kind.name(),
                    self.compressed.load(Ordering::Relaxed),
                    self.decompressed
                ),
            )),
        }
    }
}

/// Every zstd frame of a stream, one after another; skippable frames
/// (metadata some tools write) are passed over. A skippable frame whose
/// header is split across two buffer fills is not recognised (a known
/// shortcoming: the buffer holds 8 KiB, and such frames are rare).
struct ZstdFrames<R: BufRead> {
    state: Frames<R>,
}

enum Frames<R: BufRead> {
    /// Between frames (or before the first).
    Between(R, FrameDecoder),
    /// Inside a frame.
    In(StreamingDecoder<R, FrameDecoder>),
    /// The stream ended, or failed.
    Done,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> Self {
        ZstdFrames {
            state: Frames::Between(source, FrameDecoder::new()),
        }
    }

    /// Starts the next frame; `Ok(false)` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        let Frames::Between(mut source, frames) = std::mem::replace(&mut self.state, Frames::Done)
        else {
            return Ok(false);
        };
        while let Some(length) = skippable_frame(&mut source)? {
            skip(&mut source, length)?;
        }
        if source.fill_buf()?.is_empty() {
            return Ok(false);
        }
        let decoder = StreamingDecoder::new_with_decoder(source, frames)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.state = Frames::In(decoder);
        Ok(true)
    }
}

/// The length of what follows the 8-byte header of a skippable frame
/// (magic 0x184D2A50 to 0x184D2A5F) starting at the stream's position,
/// header included; `None` when no skippable frame starts there.
fn skippable_frame<R: BufRead>(source: &mut R) -> io::Result<Option<u64>> {
    let head = source.fill_buf()?;
    let Some(header) = head.get(..8) else {
        return Ok(None);
    };
    let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    if magic & 0xFFFF_FFF0 != 0x184D_2A50 {
        return Ok(None);
    }
    let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    Ok(Some(8 + u64::from(length)))
}

fn skip<R: BufRead>(source: &mut R, length: u64) -> io::Result<()> {
    let skipped = io::copy(&mut source.take(length), &mut io::sink())?;
    if skipped < length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "a skippable frame is cut short",
        ));
    }
    Ok(())
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.state {
                Frames::Done => return Ok(0),
                Frames::Between(..) => {
                    if !self.next_frame()? {
                        return Ok(0);
                    }
                }
                Frames::In(decoder) => {
                    let n = decoder.read(buf)?;
                    if n > 0 {
                        return Ok(n);
                    }
                    let Frames::In(decoder) = std::mem::replace(&mut self.state, Frames::Done)
                    else {
                        unreachable!("matched In above");
                    };
                    let (source, frames) = decoder.into_parts();
                    self.state = Frames::Between(source, frames);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("in memory");
        encoder.finish().expect("in memory")
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn decode(kind: Compression, bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let count = Arc::new(AtomicU64::new(0));
        let source = io::BufReader::new(Counted::new(io::Cursor::new(bytes), count.clone()));
        let mut out = Vec::new();
        kind.decoder(source, count).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(Compression::detect(&gzip(b"a")), Some(Compression::Gzip));
        assert_eq!(Compression::detect(&zstd(b"a")), Some(Compression::Zstd));
        assert_eq!(Compression::detect(b"email\n"), None);
        assert_eq!(Compression::detect(b""), None);
    }

    #[test]
    fn every_member_and_frame_is_read() {
        let mut joined = gzip(b"email\na@x.io\n");
        joined.extend(gzip(b"b@x.io\n"));
        let out = decode(Compression::Gzip, joined).expect("valid");
        assert_eq!(out, b"email\na@x.io\nb@x.io\n");
        let mut joined = zstd(b"email\na@x.io\n");
        // A skippable frame of 3 bytes between the two.
        joined.extend([0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        joined.extend(zstd(b"b@x.io\n"));
        let out = decode(Compression::Zstd, joined).expect("valid");
        assert_eq!(out, b"email\na@x.io\nb@x.io\n");
    }

    #[test]
    fn a_cut_stream_is_an_error_naming_the_file_and_the_counts() {
        let whole = gzip(&b"email\nsomeone@example.com\n".repeat(100));
        let cut = whole[..whole.len() / 2].to_vec();
        let error = decode(Compression::Gzip, cut.clone()).expect_err("cut short");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "the gzip data is cut short or damaged after {} compressed bytes",
                cut.len()
            )),
            "{message}"
        );
        let whole = zstd(&b"email\nsomeone@example.com\n".repeat(100));
        let cut = whole[..whole.len() - 4].to_vec();
        assert!(decode(Compression::Zstd, cut).is_err());
    }

    #[test]
    fn only_compression_extensions_are_removed() {
        let plain = |p: &str| without_extension(Path::new(p));
        assert_eq!(plain("a/x.tsv.gz"), Path::new("a/x.tsv"));
        assert_eq!(plain("x.csv.ZST"), Path::new("x.csv"));
        assert_eq!(plain("x.csv"), Path::new("x.csv"));
    }
}
