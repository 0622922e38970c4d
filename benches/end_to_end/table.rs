//! The one table the benchmark prints: each figure, its target, and
//! whether the target was met.

use super::measure::Usage;

/// What a figure is held to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
    /// Within a fraction of a value: `Within(500.0, 0.01)` is 500 ± 1%.
    Within(f64, f64),
    /// Shown for comparison; no target.
    Reference,
}

/// A target with its verdict.
pub struct Judged {
    target: String,
    verdict: &'static str,
}

impl Target {
    /// The verdict for `value`; a run that did not succeed misses.
    pub fn judge(self, value: f64, run_ok: bool) -> Judged {
        let (target, met) = match self {
            Target::AtLeast(limit) => (format!(">= {}", shown(limit)), value >= limit),
            Target::AtMost(limit) => (format!("<= {}", shown(limit)), value <= limit),
            Target::Within(center, fraction) => (
                format!("{} ± {}%", shown(center), fraction * 100.0),
                (value - center).abs() <= center * fraction,
            ),
            Target::Reference => return Target::Reference.into(),
        };
        let verdict = match (run_ok, met) {
            (false, _) => "MISS (run failed)",
            (true, true) => "PASS",
            (true, false) => "MISS",
        };
        Judged { target, verdict }
    }
}

impl From<Target> for Judged {
    fn from(_: Target) -> Self {
        Judged {
            target: "(reference)".to_string(),
            verdict: "",
        }
    }
}

/// A limit as a person reads it: 3040 as "3,040", 0.01 as "0.01".
fn shown(limit: f64) -> String {
    if limit >= 1000.0 {
        super::count(limit)
    } else {
        format!("{limit}")
    }
}

#[derive(Default)]
pub struct Table {
    rows: Vec<[String; 5]>,
    /// Lines with no figure (a skipped scenario, a missing tool), printed
    /// under the table.
    notes: Vec<String>,
}

impl Table {
    pub fn row(&mut self, scenario: &str, figure: &str, value: String, judged: impl Into<Judged>) {
        let judged = judged.into();
        self.rows.push([
            scenario.to_string(),
            figure.to_string(),
            value,
            judged.target,
            judged.verdict.to_string(),
        ]);
    }

    /// A line with no figure (a skipped scenario, a missing tool).
    pub fn note(&mut self, scenario: &str, text: &str) {
        self.notes.push(format!("{scenario}: {text}"));
    }

    /// Wall time, CPU time and peak memory of one measured run.
    pub fn usage_rows(&mut self, scenario: &str, usage: &Usage, rows: usize) {
        let wall = format!("{:.2} s", usage.wall.as_secs_f64());
        self.row(scenario, "wall time", wall, Target::Reference);
        if let Some(cpu) = usage.cpu {
            let per_row = cpu.as_secs_f64() * 1e9 / rows as f64;
            let shown = format!("{:.2} s ({per_row:.0} ns/row)", cpu.as_secs_f64());
            self.row(scenario, "CPU time (user+sys)", shown, Target::Reference);
        }
        if let Some(rss) = usage.peak_rss {
            let shown = format!("{:.1} MB", rss as f64 / 1e6);
            self.row(scenario, "peak RSS", shown, Target::Reference);
        }
    }

    pub fn print(&self) {
        let header = ["scenario", "figure", "value", "target", "verdict"].map(String::from);
        let mut widths = [0; 5];
        for row in std::iter::once(&header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        println!();
        for row in std::iter::once(&header).chain(&self.rows) {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:>w2$}  {:<w3$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
            );
            println!("{}", line.trim_end());
        }
        for note in &self.notes {
            println!("{note}");
        }
        let missed = self
            .rows
            .iter()
            .filter(|r| r[4].starts_with("MISS"))
            .count();
        println!("\n{missed} target(s) missed");
    }
}
