//! Reading a date or time by a declared strftime-style format, exactly.
//!
//! chrono splits the format into items and checks the calendar, but its own
//! parser is lenient (white space skipped before every number, `%Y` taking
//! one to four digits), so the text is matched here, item by item, and only
//! the field values are handed to chrono's [`Parsed`]:
//!
//! - literal text and white space in the format must appear exactly;
//! - `%Y` is exactly four digits, `%y` exactly two (chrono puts 00-68 in the
//!   2000s and 69-99 in the 1900s);
//! - `%m %d %H %I %M %S` take one or two digits (`%e` and other space-padded
//!   forms also a single leading space); `%j` one to three;
//! - `%f` and `%.f` are fractions of a second (`.5` is half a second), `%.3f`
//!   `%.6f` `%.9f` need exactly that many digits;
//! - `%b %B %a %A %p` read English names and AM/PM in any letter case;
//! - `%z` and its colon forms read `Z` or `+HH:MM` / `+HHMM`; `%s` reads
//!   seconds since 1970-01-01 UTC.
//!
//! Any other specifier is refused as unsupported rather than half-read.

use std::cell::RefCell;

use chrono::format::{Fixed, Item, Numeric, Pad, Parsed, StrftimeItems};
use chrono::Weekday;

/// Why a text could not be read by a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormatFault {
    /// The text does not follow the format.
    Mismatch,
    /// A field holds a value no calendar or clock has (the words say which).
    OutOfRange(String),
    /// The format itself cannot be used.
    BadFormat,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("Monday", Weekday::Mon),
    ("Tuesday", Weekday::Tue),
    ("Wednesday", Weekday::Wed),
    ("Thursday", Weekday::Thu),
    ("Friday", Weekday::Fri),
    ("Saturday", Weekday::Sat),
    ("Sunday", Weekday::Sun),
];

/// The English name of month `number` (1-12).
pub(crate) fn month_name(number: u32) -> &'static str {
    let index = number.clamp(1, 12) as usize - 1;
    MONTHS[index]
}

/// Formats kept split into items, per thread.
const SPLIT_FORMATS_KEPT: usize = 8;

thread_local! {
    /// The items of the formats read lately. Splitting the format again for
    /// every value was 40% of reading a formatted date; a mapping uses a
    /// handful of formats, so a short list, searched by equality, is enough.
    /// A cache and not a field of the conversion rule, because the rule's
    /// `format` is a public field any code may set.
    static SPLIT_FORMATS: RefCell<Vec<(Box<str>, Vec<Item<'static>>)>> =
        const { RefCell::new(Vec::new()) };
}

/// Calls `read` with the items of `format`, split once per thread.
fn with_items<T>(format: &str, read: impl FnOnce(&[Item<'static>]) -> T) -> T {
    SPLIT_FORMATS.with(|split| {
        let mut split = split.borrow_mut();
        let index = match split.iter().position(|(known, _)| **known == *format) {
            Some(index) => index,
            None => {
                if split.len() == SPLIT_FORMATS_KEPT {
                    split.remove(0);
                }
                let items = StrftimeItems::new(format).map(Item::to_owned).collect();
                split.push((format.into(), items));
                split.len() - 1
            }
        };
        read(&split[index].1)
    })
}

/// Reads all of `text` by `format` into chrono's field set.
pub(crate) fn read_by_format(text: &str, format: &str) -> Result<Parsed, FormatFault> {
    with_items(format, |items| read_by_items(text, items))
}

fn read_by_items(text: &str, items: &[Item<'static>]) -> Result<Parsed, FormatFault> {
    let mut parsed = Parsed::new();
    let mut rest = text;
    // A field out of range is reported only once the whole text is known to
    // follow the format: `003/04/2021` is not in `%d/%m/%Y`, whatever day
    // `00` would be.
    let mut out_of_range = None;
    for item in items {
        let read = match item {
            Item::Literal(expected) | Item::Space(expected) => literal(&mut rest, expected),
            Item::OwnedLiteral(expected) | Item::OwnedSpace(expected) => {
                literal(&mut rest, expected)
            }
            Item::Numeric(numeric, pad) => read_numeric(&mut rest, numeric, *pad, &mut parsed),
            Item::Fixed(fixed) => read_fixed(&mut rest, fixed, &mut parsed),
            Item::Error => Err(FormatFault::BadFormat),
        };
        match read {
            Ok(()) => {}
            Err(FormatFault::OutOfRange(words)) => {
                out_of_range.get_or_insert(FormatFault::OutOfRange(words));
            }
            Err(fault) => return Err(fault),
        }
    }
    if !rest.is_empty() {
        return Err(FormatFault::Mismatch);
    }
    out_of_range.map_or(Ok(parsed), Err)
}

/// Says whether `format` can be used at all: every specifier is one that
/// [`read_by_format`] reads.
pub(crate) fn format_is_supported(format: &str) -> bool {
    StrftimeItems::new(format).all(|item| match item {
        Item::Numeric(numeric, _) => numeric_width(&numeric).is_some(),
        Item::Fixed(fixed) => fixed_is_supported(&fixed),
        Item::Error => false,
        _ => true,
    })
}

/// Says whether a format gives a whole calendar date (year, month and
/// day, or a day of the year), or an instant when `instant_counts`.
pub(crate) fn format_has_full_date(format: &str, instant_counts: bool) -> bool {
    let (mut year, mut month, mut day) = (false, false, false);
    for item in StrftimeItems::new(format) {
        match item {
            Item::Numeric(Numeric::Timestamp, _) if instant_counts => return true,
            Item::Numeric(Numeric::Year | Numeric::YearMod100, _) => year = true,
            Item::Numeric(Numeric::Month, _)
            | Item::Fixed(Fixed::ShortMonthName | Fixed::LongMonthName) => month = true,
            Item::Numeric(Numeric::Day, _) => day = true,
            Item::Numeric(Numeric::Ordinal, _) => (month, day) = (true, true),
            _ => {}
        }
    }
    year && month && day
}

/// Says whether a format gives the time of day (hours and minutes, a
/// 12-hour clock only with its AM/PM) or an instant.
pub(crate) fn format_has_time(format: &str) -> bool {
    let (mut hour, mut hour12, mut am_pm, mut minute) = (false, false, false, false);
    for item in StrftimeItems::new(format) {
        match item {
            Item::Numeric(Numeric::Timestamp, _) => return true,
            Item::Numeric(Numeric::Hour, _) => hour = true,
            Item::Numeric(Numeric::Hour12, _) => hour12 = true,
            Item::Fixed(Fixed::UpperAmPm | Fixed::LowerAmPm) => am_pm = true,
            Item::Numeric(Numeric::Minute, _) => minute = true,
            _ => {}
        }
    }
    (hour || (hour12 && am_pm)) && minute
}

fn literal(rest: &mut &str, expected: &str) -> Result<(), FormatFault> {
    *rest = rest.strip_prefix(expected).ok_or(FormatFault::Mismatch)?;
    Ok(())
}

/// The fewest and most digits a numeric field takes, if it is supported.
fn numeric_width(numeric: &Numeric) -> Option<(usize, usize)> {
    Some(match numeric {
        Numeric::Year => (4, 4),
        Numeric::YearMod100 => (2, 2),
        Numeric::Month
        | Numeric::Day
        | Numeric::Hour
        | Numeric::Hour12
        | Numeric::Minute
        | Numeric::Second => (1, 2),
        Numeric::Ordinal => (1, 3),
        Numeric::Nanosecond => (1, 9),
        Numeric::Timestamp => (1, 18),
        _ => return None,
    })
}

fn read_numeric(
    rest: &mut &str,
    numeric: &Numeric,
    pad: Pad,
    parsed: &mut Parsed,
) -> Result<(), FormatFault> {
    let (min, max) = numeric_width(numeric).ok_or(FormatFault::BadFormat)?;
    if *numeric == Numeric::Nanosecond {
        return read_fraction(rest, min, max, parsed);
    }
    let negative = *numeric == Numeric::Timestamp && rest.starts_with('-');
    if negative {
        *rest = &rest[1..];
    } else if pad == Pad::Space && max == 2 && rest.len() > 1 && rest.starts_with(' ') {
        *rest = &rest[1..];
        return set_field(numeric, digits(rest, 1, 1)?, parsed);
    }
    let value = digits(rest, min, max)?;
    set_field(numeric, if negative { -value } else { value }, parsed)
}

/// Takes `min` to `max` ASCII digits from the front of `rest`.
fn digits(rest: &mut &str, min: usize, max: usize) -> Result<i64, FormatFault> {
    let count = rest
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if count < min {
        return Err(FormatFault::Mismatch);
    }
    let value = rest.as_bytes()[..count]
        .iter()
        .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
    *rest = &rest[count..];
    Ok(value)
}

/// Takes `min` to `max` fraction digits and sets the nanoseconds they mean.
fn read_fraction(
    rest: &mut &str,
    min: usize,
    max: usize,
    parsed: &mut Parsed,
) -> Result<(), FormatFault> {
    let before = rest.len();
    let value = digits(rest, min, max)?;
    let count = before - rest.len();
    let nanos = value * 10i64.pow(9 - count as u32);
    parsed
        .set_nanosecond(nanos)
        .map_err(|_| FormatFault::Mismatch)
}

/// Checks a numeric field's range, naming the fault, and stores it.
fn set_field(numeric: &Numeric, value: i64, parsed: &mut Parsed) -> Result<(), FormatFault> {
    let out_of_range = |words: String| Err(FormatFault::OutOfRange(words));
    let stored = match numeric {
        Numeric::Year => parsed.set_year(value),
        Numeric::YearMod100 => parsed.set_year_mod_100(value),
        Numeric::Month if !(1..=12).contains(&value) => {
            return out_of_range(format!("no such date: there is no month {value}"));
        }
        Numeric::Month => parsed.set_month(value),
        Numeric::Day if !(1..=31).contains(&value) => {
            return out_of_range(format!("no such date: there is no day {value}"));
        }
        Numeric::Day => parsed.set_day(value),
        Numeric::Ordinal if !(1..=366).contains(&value) => {
            return out_of_range(format!("no such date: there is no day {value} of a year"));
        }
        Numeric::Ordinal => parsed.set_ordinal(value),
        Numeric::Hour if value > 23 => {
            return out_of_range(format!("no such time: there is no hour {value}"));
        }
        Numeric::Hour => parsed.set_hour(value),
        Numeric::Hour12 if !(1..=12).contains(&value) => {
            return out_of_range(format!(
                "no such time: there is no hour {value} on a 12-hour clock"
            ));
        }
        Numeric::Hour12 => parsed.set_hour12(value),
        Numeric::Minute if value > 59 => {
            return out_of_range(format!("no such time: there is no minute {value}"));
        }
        Numeric::Minute => parsed.set_minute(value),
        Numeric::Second if value > 59 => {
            return out_of_range(format!("no such time: there is no second {value}"));
        }
        Numeric::Second => parsed.set_second(value),
        Numeric::Timestamp => parsed.set_timestamp(value),
        _ => return Err(FormatFault::BadFormat),
    };
    stored.map_err(|_| FormatFault::OutOfRange("fields of the value contradict each other".into()))
}

fn fixed_is_supported(fixed: &Fixed) -> bool {
    matches!(
        fixed,
        Fixed::ShortMonthName
            | Fixed::LongMonthName
            | Fixed::ShortWeekdayName
            | Fixed::LongWeekdayName
            | Fixed::LowerAmPm
            | Fixed::UpperAmPm
            | Fixed::Nanosecond
            | Fixed::Nanosecond3
            | Fixed::Nanosecond6
            | Fixed::Nanosecond9
            | Fixed::TimezoneOffset
            | Fixed::TimezoneOffsetColon
            | Fixed::TimezoneOffsetZ
            | Fixed::TimezoneOffsetColonZ
    )
}

fn read_fixed(rest: &mut &str, fixed: &Fixed, parsed: &mut Parsed) -> Result<(), FormatFault> {
    let contradiction =
        |_| FormatFault::OutOfRange("fields of the value contradict each other".into());
    match fixed {
        Fixed::ShortMonthName => {
            let month = name(rest, MONTHS.iter().map(|m| &m[..3]))?;
            parsed.set_month(month as i64 + 1).map_err(contradiction)
        }
        Fixed::LongMonthName => {
            let month = name(rest, MONTHS.iter().copied())?;
            parsed.set_month(month as i64 + 1).map_err(contradiction)
        }
        Fixed::ShortWeekdayName => {
            let day = name(rest, WEEKDAYS.iter().map(|(n, _)| &n[..3]))?;
            parsed.set_weekday(WEEKDAYS[day].1).map_err(contradiction)
        }
        Fixed::LongWeekdayName => {
            let day = name(rest, WEEKDAYS.iter().map(|(n, _)| *n))?;
            parsed.set_weekday(WEEKDAYS[day].1).map_err(contradiction)
        }
        Fixed::LowerAmPm | Fixed::UpperAmPm => {
            let half = name(rest, ["AM", "PM"].into_iter())?;
            parsed.set_ampm(half == 1).map_err(contradiction)
        }
        Fixed::Nanosecond => match rest.strip_prefix('.') {
            Some(after) => {
                *rest = after;
                read_fraction(rest, 1, 9, parsed)
            }
            None => Ok(()),
        },
        Fixed::Nanosecond3 => dot_fraction(rest, 3, parsed),
        Fixed::Nanosecond6 => dot_fraction(rest, 6, parsed),
        Fixed::Nanosecond9 => dot_fraction(rest, 9, parsed),
        Fixed::TimezoneOffset
        | Fixed::TimezoneOffsetColon
        | Fixed::TimezoneOffsetZ
        | Fixed::TimezoneOffsetColonZ => {
            let seconds = read_offset(rest)?;
            parsed.set_offset(i64::from(seconds)).map_err(contradiction)
        }
        _ => Err(FormatFault::BadFormat),
    }
}

/// Takes a `.` and exactly `count` fraction digits.
fn dot_fraction(rest: &mut &str, count: usize, parsed: &mut Parsed) -> Result<(), FormatFault> {
    *rest = rest.strip_prefix('.').ok_or(FormatFault::Mismatch)?;
    read_fraction(rest, count, count, parsed)
}

/// Takes one of `names` (any letter case) and returns its index.
fn name<'n>(rest: &mut &str, names: impl Iterator<Item = &'n str>) -> Result<usize, FormatFault> {
    for (index, candidate) in names.enumerate() {
        let head = rest.get(..candidate.len());
        if head.is_some_and(|head| head.eq_ignore_ascii_case(candidate)) {
            *rest = &rest[candidate.len()..];
            return Ok(index);
        }
    }
    Err(FormatFault::Mismatch)
}

/// Reads `Z`, `+HH:MM` or `+HHMM` (either sign) and returns seconds east
/// of UTC.
pub(crate) fn read_offset(rest: &mut &str) -> Result<i32, FormatFault> {
    if let Some(after) = rest.strip_prefix(['Z', 'z']) {
        *rest = after;
        return Ok(0);
    }
    let sign = match rest.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(FormatFault::Mismatch),
    };
    *rest = &rest[1..];
    let hours = digits(rest, 2, 2)?;
    if let Some(after) = rest.strip_prefix(':') {
        *rest = after;
    }
    let minutes = digits(rest, 2, 2)?;
    if hours > 23 || minutes > 59 {
        return Err(FormatFault::OutOfRange(format!(
            "no such UTC offset: {hours:02}:{minutes:02}"
        )));
    }
    Ok(sign * (hours as i32 * 3600 + minutes as i32 * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn date(text: &str, format: &str) -> Result<NaiveDate, FormatFault> {
        let parsed = read_by_format(text, format)?;
        parsed
            .to_naive_date()
            .map_err(|_| FormatFault::OutOfRange("calendar".into()))
    }

    fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("test dates exist")
    }

    #[test]
    fn day_first_dates_read_exactly() {
        assert_eq!(date("03/04/2021", "%d/%m/%Y"), Ok(ymd(2021, 4, 3)));
        assert_eq!(date("15/04/2021", "%d/%m/%Y"), Ok(ymd(2021, 4, 15)));
        assert_eq!(date("1/2/2021", "%d/%m/%Y"), Ok(ymd(2021, 2, 1)));
    }

    #[test]
    fn formats_split_once_read_the_same_when_many_formats_alternate() {
        let formats: Vec<String> = (0..SPLIT_FORMATS_KEPT + 3)
            .map(|n| format!("%d/%m/%Y{}", "x".repeat(n)))
            .collect();
        for round in 0..2 {
            for (n, format) in formats.iter().enumerate() {
                let text = format!("03/04/2021{}", "x".repeat(n));
                assert_eq!(date(&text, format), Ok(ymd(2021, 4, 3)), "{round} {format}");
                assert_eq!(date("03/04/2021", format).is_ok(), n == 0, "{format}");
            }
        }
        SPLIT_FORMATS.with(|split| assert_eq!(split.borrow().len(), SPLIT_FORMATS_KEPT));
        assert_eq!(date("1/2/2021", "%d/%m/%Y %Q"), Err(FormatFault::Mismatch));
        assert_eq!(
            date("1/2/2021 ", "%d/%m/%Y %Q"),
            Err(FormatFault::BadFormat)
        );
    }

    #[test]
    fn text_not_following_the_format_is_a_mismatch() {
        assert_eq!(date("2021-04-03", "%d/%m/%Y"), Err(FormatFault::Mismatch));
        assert_eq!(date("03/04/21", "%d/%m/%Y"), Err(FormatFault::Mismatch));
        assert_eq!(date("03/04/20210", "%d/%m/%Y"), Err(FormatFault::Mismatch));
        assert_eq!(date("03/ 04/2021", "%d/%m/%Y"), Err(FormatFault::Mismatch));
        assert_eq!(date("03/04/2021 ", "%d/%m/%Y"), Err(FormatFault::Mismatch));
        assert_eq!(date("003/04/2021", "%d/%m/%Y"), Err(FormatFault::Mismatch));
        assert_eq!(date("+2021-04-03", "%Y-%m-%d"), Err(FormatFault::Mismatch));
        assert_eq!(date("03.04.2021", "%d/%m/%Y"), Err(FormatFault::Mismatch));
        assert_eq!(date("", "%d/%m/%Y"), Err(FormatFault::Mismatch));
    }

    #[test]
    fn impossible_fields_name_themselves() {
        let month = FormatFault::OutOfRange("no such date: there is no month 15".into());
        assert_eq!(date("04/15/2021", "%d/%m/%Y"), Err(month));
        let day = FormatFault::OutOfRange("no such date: there is no day 0".into());
        assert_eq!(date("00/12/2021", "%d/%m/%Y"), Err(day));
        let hour = FormatFault::OutOfRange("no such time: there is no hour 24".into());
        assert_eq!(read_by_format("24:00", "%H:%M").map(|_| ()), Err(hour));
    }

    #[test]
    fn month_and_weekday_names_read_in_any_case() {
        assert_eq!(date("3 APR 2021", "%d %b %Y"), Ok(ymd(2021, 4, 3)));
        assert_eq!(date("3 april 2021", "%d %B %Y"), Ok(ymd(2021, 4, 3)));
        assert_eq!(date("Sat, 3 Apr 2021", "%a, %d %b %Y"), Ok(ymd(2021, 4, 3)));
        assert_eq!(
            date("saturday 3 Apr 2021", "%A %d %b %Y"),
            Ok(ymd(2021, 4, 3))
        );
        assert!(date("Sun, 3 Apr 2021", "%a, %d %b %Y").is_err());
        assert_eq!(date("3 Sept 2021", "%d %b %Y"), Err(FormatFault::Mismatch));
    }

    #[test]
    fn space_padded_and_two_digit_years_follow_chrono() {
        assert_eq!(date(" 3/04/2021", "%e/%m/%Y"), Ok(ymd(2021, 4, 3)));
        assert_eq!(date("13/04/2021", "%e/%m/%Y"), Ok(ymd(2021, 4, 13)));
        assert_eq!(date("03/04/21", "%d/%m/%y"), Ok(ymd(2021, 4, 3)));
        assert_eq!(date("03/04/85", "%d/%m/%y"), Ok(ymd(1985, 4, 3)));
        assert_eq!(date("2021-093", "%Y-%j"), Ok(ymd(2021, 4, 3)));
        assert_eq!(date("2021-04-03", "%F"), Ok(ymd(2021, 4, 3)));
    }

    #[test]
    fn fractions_and_offsets_are_read() {
        let parsed = read_by_format("10:11:12.5 +02:00", "%H:%M:%S%.f %z").expect("valid");
        assert_eq!(parsed.nanosecond(), Some(500_000_000));
        assert_eq!(parsed.offset(), Some(7200));
        let parsed = read_by_format("12.000250", "%S.%f").expect("valid");
        assert_eq!(parsed.nanosecond(), Some(250_000));
        let parsed = read_by_format("12.250", "%S%.3f").expect("valid");
        assert_eq!(parsed.nanosecond(), Some(250_000_000));
        assert_eq!(
            read_by_format("12.25", "%S%.3f").map(|_| ()),
            Err(FormatFault::Mismatch)
        );
        let parsed = read_by_format("-0530", "%z").expect("valid");
        assert_eq!(parsed.offset(), Some(-19800));
        let parsed = read_by_format("Z", "%:z").expect("valid");
        assert_eq!(parsed.offset(), Some(0));
        let parsed = read_by_format("07:05 PM", "%I:%M %p").expect("valid");
        assert_eq!(parsed.hour_div_12(), Some(1));
    }

    #[test]
    fn unsupported_specifiers_are_refused() {
        assert!(!format_is_supported("%d/%m/%Y %Z"));
        assert!(!format_is_supported("%U"));
        assert!(!format_is_supported("%Q"));
        assert!(!format_is_supported("%3f"));
        assert!(format_is_supported("%d/%m/%Y %H:%M:%S%.3f %:z"));
        assert!(format_is_supported("%F %T"));
        assert_eq!(
            read_by_format("x", "%Q").map(|_| ()),
            Err(FormatFault::BadFormat)
        );
        assert_eq!(
            read_by_format("01", "%U").map(|_| ()),
            Err(FormatFault::BadFormat)
        );
    }

    #[test]
    fn a_full_date_needs_year_month_and_day() {
        assert!(format_has_full_date("%d/%m/%Y", false));
        assert!(format_has_full_date("%F", false));
        assert!(format_has_full_date("%d %b %y", false));
        assert!(format_has_full_date("%s", true));
        assert!(!format_has_full_date("%s", false));
        assert!(!format_has_full_date("%H:%M", true));
        assert!(!format_has_full_date("%m/%d", false));
        assert!(format_has_time("%F %H:%M"));
        assert!(format_has_time("%F %I:%M %p"));
        assert!(!format_has_time("%F %H"));
        assert!(!format_has_time("%F %I:%M"));
    }

    #[test]
    fn format_has_time_looks_for_a_clock() {
        assert!(format_has_time("%d/%m/%Y %H:%M"));
        assert!(format_has_time("%I:%M %p"));
        assert!(format_has_time("%s"));
        assert!(!format_has_time("%d/%m/%Y"));
    }

    #[test]
    fn offsets_out_of_range_are_refused() {
        let mut rest = "+24:00";
        let fault = FormatFault::OutOfRange("no such UTC offset: 24:00".into());
        assert_eq!(read_offset(&mut rest), Err(fault));
        let mut rest = "+0200rest";
        assert_eq!(read_offset(&mut rest), Ok(7200));
        assert_eq!(rest, "rest");
    }
}
