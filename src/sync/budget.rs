//! The error budget (`--max-errors N` or `N%`): how many dead-lettered
//! records a run may have before it stops, exit 3.

use std::fmt;
use std::str::FromStr;

/// Records read before a percentage budget applies: one bad row among the
/// first few must not stop a run at 1%.
pub const PERCENT_AFTER: u64 = 100;

/// A limit on dead-lettered records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxErrors {
    /// More than this many dead letters stop the run.
    Count(u64),
    /// More than this percentage of the records read so far stops the
    /// run, once at least [`PERCENT_AFTER`] records were read.
    Percent(f64),
}

impl MaxErrors {
    /// Whether `dead_lettered` out of `read` records so far spends the budget.
    pub fn exceeded(self, dead_lettered: u64, read: u64) -> bool {
        match self {
            MaxErrors::Count(limit) => dead_lettered > limit,
            MaxErrors::Percent(percent) => {
                read >= PERCENT_AFTER && dead_lettered as f64 * 100.0 > percent * read as f64
            }
        }
    }
}

impl FromStr for MaxErrors {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Some(number) = text.strip_suffix('%') {
            let percent: f64 = number
                .trim()
                .parse()
                .map_err(|_| format!("`{text}` is not a percentage: write e.g. 1% or 0.5%"))?;
            if !(0.0..=100.0).contains(&percent) {
                return Err("a percentage must be between 0% and 100%".into());
            }
            return Ok(MaxErrors::Percent(percent));
        }
        let count = text.parse().map_err(|_| {
            format!("`{text}` is not a count or a percentage: write e.g. 100 or 1%")
        })?;
        Ok(MaxErrors::Count(count))
    }
}

impl fmt::Display for MaxErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxErrors::Count(count) => write!(f, "{count}"),
            MaxErrors::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_allows_exactly_that_many() {
        let budget: MaxErrors = "2".parse().expect("valid");
        assert_eq!(budget, MaxErrors::Count(2));
        assert!(!budget.exceeded(2, 3));
        assert!(budget.exceeded(3, 3));
        assert!("0".parse::<MaxErrors>().expect("valid").exceeded(1, 1));
    }

    #[test]
    fn a_percentage_waits_for_a_hundred_rows() {
        let budget: MaxErrors = "1%".parse().expect("valid");
        assert_eq!(budget, MaxErrors::Percent(1.0));
        assert!(!budget.exceeded(1, 2));
        assert!(!budget.exceeded(1, 100));
        assert!(budget.exceeded(2, 100));
        assert!(!budget.exceeded(2, 200));
        assert!("0.5%".parse::<MaxErrors>().expect("valid").exceeded(2, 300));
    }

    #[test]
    fn nonsense_is_refused() {
        for text in ["", "ten", "-1", "5 %x", "101%", "-1%"] {
            assert!(text.parse::<MaxErrors>().is_err(), "{text}");
        }
        assert_eq!(
            "2.5%".parse::<MaxErrors>().expect("valid").to_string(),
            "2.5%"
        );
    }
}
