//! The emulator as a separate process on 127.0.0.1, and what it can tell
//! about a run: its CPU time, and the arrival times of the upserts it got.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::KEY;

pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Emulator {
    /// Starts `laudspeaker-import emulator` with `extra` arguments; the
    /// error is what it said if it would not start (an unknown flag).
    pub fn start(bin: &Path, extra: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(bin)
            .args(["emulator", "--listen", "127.0.0.1:0", "--api-key", KEY])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the emulator: {e}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let mut said = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut said);
            }
            let _ = child.kill();
            let _ = child.wait();
            return Err(said.lines().next().unwrap_or("no answer").to_string());
        };
        // Nobody reads its warnings; a full pipe must not block it.
        drop(child.stderr.take());
        Ok(Emulator {
            url: url.to_string(),
            child,
        })
    }

    /// CPU time used so far.
    pub fn cpu(&self) -> Option<Duration> {
        super::measure::cpu_of(self.child.id())
    }

    /// Arrival times (ms since the emulator started) of every upsert, in
    /// arrival order, from `GET /emulator/requests`.
    pub fn upsert_arrivals(&self) -> Result<Vec<f64>, String> {
        let url = format!("{}/emulator/requests", self.url);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let text = runtime.block_on(async {
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?;
            let answer = client.get(&url).send().await.map_err(|e| e.to_string())?;
            answer.text().await.map_err(|e| e.to_string())
        })?;
        let log: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| format!("request log: {e}"))?;
        let arrivals = log
            .iter()
            .filter(|entry| entry["path"] == "/customers/upsert")
            .filter_map(|entry| entry["received_ms"].as_f64())
            .collect();
        Ok(arrivals)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
