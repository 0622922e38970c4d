//! The `date` and `datetime` rules: calendar values read exactly, never
//! guessed or rolled over, and sent in one fixed ISO shape.
//!
//! - date: with a format, exactly that format (see [`super::format`]);
//!   without one, only ISO `YYYY-MM-DD`. Sent as `"YYYY-MM-DD"`.
//! - datetime: with a format, exactly that format; an offset in the value
//!   (`%z`) decides the instant, otherwise the time is read in `timezone`,
//!   and in UTC when no timezone is declared. Local times that a
//!   daylight-saving change skips or repeats are refused. Without a format,
//!   only RFC 3339 with an offset (`Z` or `+HH:MM`; `T`, `t` or a space
//!   between date and time). Sent as `"YYYY-MM-DDTHH:MM:SSZ"` in UTC, the
//!   form the import rules fix: a fraction of a second is read, and cut off.
//!
//! Leap seconds (`:60`) and years outside 0000-9999 are refused.

use chrono::format::{ParseErrorKind, Parsed};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::format::{month_name, read_by_format, read_offset, FormatFault};
use super::ConvertError;

/// Reads a value of type `date`; `Ok(None)` when empty.
pub(crate) fn read_date(
    text: &str,
    format: Option<&str>,
) -> Result<Option<NaiveDate>, ConvertError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = match format {
        Some(format) => {
            let parsed = read_by_format(text, format).map_err(|f| explain(f, format))?;
            parsed
                .to_naive_date()
                .map_err(|e| calendar_fault(e.kind(), &parsed, format, "date"))?
        }
        None => read_iso_date(text)?,
    };
    Ok(Some(date))
}

/// Reads a value of type `datetime` as an instant; `Ok(None)` when empty.
pub(crate) fn read_datetime(
    text: &str,
    format: Option<&str>,
    timezone: Option<Tz>,
) -> Result<Option<DateTime<Utc>>, ConvertError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let instant = match format {
        Some(format) => read_formatted_datetime(text, format, timezone)?,
        None => read_rfc3339(text)?,
    };
    Ok(Some(instant))
}

/// Appends `"YYYY-MM-DD"`.
pub(crate) fn write_date(date: NaiveDate, out: &mut Vec<u8>) -> Result<(), ConvertError> {
    check_year(date.year())?;
    out.push(b'"');
    push_ymd(date, out);
    out.push(b'"');
    Ok(())
}

/// Appends `"YYYY-MM-DDTHH:MM:SSZ"`; any fraction of the second is cut off.
pub(crate) fn write_datetime(
    instant: DateTime<Utc>,
    out: &mut Vec<u8>,
) -> Result<(), ConvertError> {
    check_year(instant.year())?;
    out.push(b'"');
    push_ymd(instant.date_naive(), out);
    out.push(b'T');
    push_digits(instant.hour(), 2, out);
    out.push(b':');
    push_digits(instant.minute(), 2, out);
    out.push(b':');
    push_digits(instant.second(), 2, out);
    out.extend_from_slice(b"Z\"");
    Ok(())
}

fn check_year(year: i32) -> Result<(), ConvertError> {
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        Err(ConvertError(format!("year {year} is outside 0000-9999")))
    }
}

fn push_ymd(date: NaiveDate, out: &mut Vec<u8>) {
    push_digits(date.year() as u32, 4, out);
    out.push(b'-');
    push_digits(date.month(), 2, out);
    out.push(b'-');
    push_digits(date.day(), 2, out);
}

/// Appends the last `width` (at most 10) decimal digits of `value`,
/// zero-padded.
fn push_digits(value: u32, width: u32, out: &mut Vec<u8>) {
    let mut digits = [b'0'; 10];
    let digits = &mut digits[..width.min(10) as usize];
    let mut rest = value;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(digits);
}

fn read_formatted_datetime(
    text: &str,
    format: &str,
    timezone: Option<Tz>,
) -> Result<DateTime<Utc>, ConvertError> {
    let mut parsed = read_by_format(text, format).map_err(|f| explain(f, format))?;
    let calendar = |kind, parsed: &Parsed| calendar_fault(kind, parsed, format, "date and time");
    if parsed.timestamp().is_some() && parsed.offset().is_none() {
        // Seconds since the epoch name an instant: no zone applies.
        parsed
            .set_offset(0)
            .map_err(|e| calendar(e.kind(), &parsed))?;
    }
    if parsed.offset().is_some() {
        let instant = parsed
            .to_datetime()
            .map_err(|e| calendar(e.kind(), &parsed))?;
        return Ok(instant.with_timezone(&Utc));
    }
    let local = parsed
        .to_naive_datetime_with_offset(0)
        .map_err(|e| calendar(e.kind(), &parsed))?;
    match timezone {
        Some(zone) => in_zone(local, zone),
        None => Ok(local.and_utc()),
    }
}

/// The instant a local time names in `zone`, refusing skipped and repeated
/// local times.
fn in_zone(local: NaiveDateTime, zone: Tz) -> Result<DateTime<Utc>, ConvertError> {
    use chrono::LocalResult;
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => Ok(instant.with_timezone(&Utc)),
        LocalResult::Ambiguous(..) => Err(ConvertError(format!(
            "ambiguous local time: it occurs twice in {zone} (daylight-saving change)"
        ))),
        LocalResult::None => Err(ConvertError(format!(
            "no such local time: {zone} skips it (daylight-saving change)"
        ))),
    }
}

/// Words for a value that does not fit its declared format.
fn explain(fault: FormatFault, format: &str) -> ConvertError {
    ConvertError(match fault {
        FormatFault::Mismatch => format!("not in the declared format {format}"),
        FormatFault::OutOfRange(words) => words,
        FormatFault::BadFormat => format!("the declared format {format} is not supported"),
    })
}

/// Words for fields that chrono could not make into a date or time.
fn calendar_fault(kind: ParseErrorKind, parsed: &Parsed, format: &str, what: &str) -> ConvertError {
    if kind == ParseErrorKind::NotEnough {
        return ConvertError(format!(
            "the declared format {format} does not give a full {what}"
        ));
    }
    if let (Some(year), Some(month), Some(day)) = (parsed.year(), parsed.month(), parsed.day()) {
        if let Some(days) = days_in_month(year, month).filter(|days| day > *days) {
            return ConvertError(no_such_day(year, month, days));
        }
    }
    ConvertError(if kind == ParseErrorKind::OutOfRange {
        "no such date: out of range".to_string()
    } else {
        "no such date: the fields of the value contradict each other".to_string()
    })
}

/// Names the length of a month that a day number went past.
fn no_such_day(year: i32, month: u32, days: u32) -> String {
    format!("no such date: {} {year} has {days} days", month_name(month))
}

fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    u32::try_from(next.signed_duration_since(first).num_days()).ok()
}

/// Reads exactly `YYYY-MM-DD`.
fn read_iso_date(text: &str) -> Result<NaiveDate, ConvertError> {
    let not_iso = || ConvertError("not ISO YYYY-MM-DD and no format declared".to_string());
    let mut rest = text;
    let (year, month, day) = iso_ymd(&mut rest).ok_or_else(not_iso)?;
    if !rest.is_empty() {
        return Err(not_iso());
    }
    iso_date(year, month, day)
}

/// Takes `YYYY-MM-DD` from the front of `rest`, as numbers.
fn iso_ymd(rest: &mut &str) -> Option<(i32, u32, u32)> {
    let year = fixed_digits(rest, 4)?;
    *rest = rest.strip_prefix('-')?;
    let month = fixed_digits(rest, 2)?;
    *rest = rest.strip_prefix('-')?;
    let day = fixed_digits(rest, 2)?;
    Some((year as i32, month, day))
}

/// The date of ISO fields, or words naming the impossible field.
fn iso_date(year: i32, month: u32, day: u32) -> Result<NaiveDate, ConvertError> {
    if !(1..=12).contains(&month) {
        return Err(ConvertError(format!(
            "no such date: there is no month {month}"
        )));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        ConvertError(match days_in_month(year, month) {
            Some(days) if day > 0 => no_such_day(year, month, days),
            _ => format!("no such date: there is no day {day}"),
        })
    })
}

/// Takes exactly `count` ASCII digits from the front of `rest`.
fn fixed_digits(rest: &mut &str, count: usize) -> Option<u32> {
    let head = rest.get(..count)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    *rest = &rest[count..];
    Some(
        head.bytes()
            .fold(0, |value, digit| value * 10 + u32::from(digit - b'0')),
    )
}

/// Reads RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)`.
fn read_rfc3339(text: &str) -> Result<DateTime<Utc>, ConvertError> {
    let not_rfc = || {
        ConvertError(
            "not RFC 3339 (YYYY-MM-DDTHH:MM:SS with Z or +HH:MM) and no format declared"
                .to_string(),
        )
    };
    let mut rest = text;
    let (year, month, day) = iso_ymd(&mut rest).ok_or_else(not_rfc)?;
    if rest.is_empty() {
        return Err(ConvertError(
            "a date without a time: RFC 3339 needs a time and an offset (or declare a format)"
                .to_string(),
        ));
    }
    rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(not_rfc)?;
    let (hour, minute, second, nanos) = rfc3339_time(&mut rest).ok_or_else(not_rfc)?;
    if rest.is_empty() {
        return Err(ConvertError(
            "no UTC offset: RFC 3339 needs Z or +HH:MM (or declare a format and timezone)"
                .to_string(),
        ));
    }
    let offset_shape = rest.eq_ignore_ascii_case("z") || rest.as_bytes().get(3) == Some(&b':');
    if !offset_shape {
        return Err(not_rfc());
    }
    let offset = read_offset(&mut rest).map_err(|fault| match fault {
        FormatFault::OutOfRange(words) => ConvertError(words),
        _ => not_rfc(),
    })?;
    if !rest.is_empty() {
        return Err(not_rfc());
    }
    let date = iso_date(year, month, day)?;
    let time = clock(hour, minute, second, nanos)?;
    let local = NaiveDateTime::new(date, time);
    let utc = local.checked_sub_signed(chrono::TimeDelta::seconds(i64::from(offset)));
    utc.map(|utc| utc.and_utc())
        .ok_or_else(|| ConvertError("no such date: out of range".to_string()))
}

/// Takes `HH:MM:SS[.frac]` from the front of `rest`.
fn rfc3339_time(rest: &mut &str) -> Option<(u32, u32, u32, u32)> {
    let hour = fixed_digits(rest, 2)?;
    *rest = rest.strip_prefix(':')?;
    let minute = fixed_digits(rest, 2)?;
    *rest = rest.strip_prefix(':')?;
    let second = fixed_digits(rest, 2)?;
    let mut nanos = 0;
    if let Some(after) = rest.strip_prefix('.') {
        let count = after.bytes().take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return None;
        }
        // Digits past the ninth are below a nanosecond: dropped.
        let kept = &after[..count.min(9)];
        nanos = kept
            .bytes()
            .fold(0, |value, digit| value * 10 + u32::from(digit - b'0'));
        nanos *= 10u32.pow(9 - kept.len() as u32);
        *rest = &after[count..];
    }
    Some((hour, minute, second, nanos))
}

/// The time of day of the fields, or words naming the impossible field.
fn clock(hour: u32, minute: u32, second: u32, nanos: u32) -> Result<NaiveTime, ConvertError> {
    let fault = if hour > 23 {
        format!("no such time: there is no hour {hour}")
    } else if minute > 59 {
        format!("no such time: there is no minute {minute}")
    } else if second == 60 {
        "no such time: leap seconds (second 60) are not accepted".to_string()
    } else if second > 59 {
        format!("no such time: there is no second {second}")
    } else {
        return NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
            .ok_or_else(|| ConvertError("no such time".to_string()));
    };
    Err(ConvertError(fault))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DMY: Option<&str> = Some("%d/%m/%Y");
    const BERLIN: Option<Tz> = Some(chrono_tz::Europe::Berlin);

    fn date(text: &str, format: Option<&str>) -> Result<Option<String>, String> {
        let date = read_date(text, format).map_err(|e| e.0)?;
        Ok(date.map(|date| {
            let mut out = Vec::new();
            write_date(date, &mut out).expect("year in range");
            String::from_utf8(out).expect("ASCII")
        }))
    }

    fn datetime(text: &str, format: Option<&str>, zone: Option<Tz>) -> Result<String, String> {
        let instant = read_datetime(text, format, zone).map_err(|e| e.0)?;
        let mut out = Vec::new();
        write_datetime(instant.expect("not empty"), &mut out).map_err(|e| e.0)?;
        Ok(String::from_utf8(out).expect("ASCII"))
    }

    fn ok(json: &str) -> Result<Option<String>, String> {
        Ok(Some(json.to_string()))
    }

    #[test]
    fn case_day_first_dates() {
        assert_eq!(date("03/04/2021", DMY), ok(r#""2021-04-03""#));
        assert_eq!(date("15/04/2021", DMY), ok(r#""2021-04-15""#));
        assert_eq!(date("1/2/2021", DMY), ok(r#""2021-02-01""#));
        assert_eq!(date("10/10/2021", DMY), ok(r#""2021-10-10""#));
        assert_eq!(date("", DMY), Ok(None));
        assert_eq!(date("  ", DMY), Ok(None));
    }

    #[test]
    fn case_day_first_refusals_name_the_fault() {
        let not_format = "not in the declared format %d/%m/%Y".to_string();
        let no_month = "no such date: there is no month 15".to_string();
        assert_eq!(date("04/15/2021", DMY), Err(no_month));
        assert_eq!(date("2021-04-03", DMY), Err(not_format.clone()));
        let february = "no such date: February 2021 has 28 days".to_string();
        assert_eq!(date("31/02/2021", DMY), Err(february));
        assert_eq!(date("03/04/21", DMY), Err(not_format));
    }

    #[test]
    fn case_iso_dates_without_format() {
        assert_eq!(date("1990-12-01", None), ok(r#""1990-12-01""#));
        assert_eq!(date("1985-02-28", None), ok(r#""1985-02-28""#));
        assert_eq!(date("1970-01-01", None), ok(r#""1970-01-01""#));
        assert_eq!(date(" 2024-01-31 ", None), ok(r#""2024-01-31""#));
        let february = "no such date: February 1985 has 28 days".to_string();
        assert_eq!(date("1985-02-29", None), Err(february));
        let not_iso = "not ISO YYYY-MM-DD and no format declared".to_string();
        assert_eq!(date("12/01/1990", None), Err(not_iso.clone()));
        assert_eq!(date("2021-4-3", None), Err(not_iso.clone()));
        assert_eq!(date("2021-04-03T00:00:00Z", None), Err(not_iso.clone()));
        assert_eq!(date("20210403", None), Err(not_iso));
    }

    #[test]
    fn leap_days_exist_only_in_leap_years() {
        assert_eq!(date("2024-02-29", None), ok(r#""2024-02-29""#));
        assert_eq!(date("2000-02-29", None), ok(r#""2000-02-29""#));
        let century = "no such date: February 1900 has 28 days".to_string();
        assert_eq!(date("1900-02-29", None), Err(century));
        assert_eq!(date("29/2/2024", DMY), ok(r#""2024-02-29""#));
        let feb = "no such date: February 2023 has 28 days".to_string();
        assert_eq!(date("29/02/2023", DMY), Err(feb));
        let april = "no such date: April 2021 has 30 days".to_string();
        assert_eq!(date("2021-04-31", None), Err(april));
        assert_eq!(
            date("2021-13-01", None),
            Err("no such date: there is no month 13".into())
        );
        assert_eq!(
            date("2021-00-01", None),
            Err("no such date: there is no month 0".into())
        );
        assert_eq!(
            date("2021-01-00", None),
            Err("no such date: there is no day 0".into())
        );
        assert_eq!(
            date("2021-01-32", None),
            Err("no such date: January 2021 has 31 days".into())
        );
    }

    #[test]
    fn year_bounds_are_kept() {
        assert_eq!(date("0000-01-01", None), ok(r#""0000-01-01""#));
        assert_eq!(date("9999-12-31", None), ok(r#""9999-12-31""#));
        let late = datetime("9999-12-31T23:30:00-01:00", None, None);
        assert_eq!(late, Err("year 10000 is outside 0000-9999".into()));
    }

    #[test]
    fn date_formats_with_names_and_time_fields() {
        assert_eq!(
            date("Apr 3, 2021", Some("%b %d, %Y")),
            ok(r#""2021-04-03""#)
        );
        let with_time = date("03/04/2021 10:00", Some("%d/%m/%Y %H:%M"));
        assert_eq!(with_time, ok(r#""2021-04-03""#));
        let short = date("04/2021", Some("%m/%Y"));
        assert_eq!(
            short,
            Err("the declared format %m/%Y does not give a full date".into())
        );
        let bad = date("x", Some("%Q"));
        assert_eq!(bad, Err("the declared format %Q is not supported".into()));
    }

    #[test]
    fn rfc3339_values_are_sent_in_utc() {
        let utc = datetime("2024-03-01T10:11:12Z", None, None);
        assert_eq!(utc, Ok(r#""2024-03-01T10:11:12Z""#.into()));
        let offset = datetime("2024-03-01T10:11:12+02:00", None, None);
        assert_eq!(offset, Ok(r#""2024-03-01T08:11:12Z""#.into()));
        let west = datetime("2024-02-29T23:30:00-05:30", None, None);
        assert_eq!(west, Ok(r#""2024-03-01T05:00:00Z""#.into()));
        let lower = datetime(" 2024-03-01t10:11:12z ", None, None);
        assert_eq!(lower, Ok(r#""2024-03-01T10:11:12Z""#.into()));
        let space = datetime("2024-03-01 10:11:12-00:00", None, BERLIN);
        assert_eq!(space, Ok(r#""2024-03-01T10:11:12Z""#.into()));
    }

    #[test]
    fn fractions_of_a_second_are_read_and_cut_off() {
        let half = datetime("2024-03-01T10:11:12.5Z", None, None);
        assert_eq!(half, Ok(r#""2024-03-01T10:11:12Z""#.into()));
        let truncated = datetime("2024-03-01T10:11:12.999987654321+01:00", None, None);
        assert_eq!(truncated, Ok(r#""2024-03-01T09:11:12Z""#.into()));
        let zero = datetime("2024-03-01T10:11:12.000Z", None, None);
        assert_eq!(zero, Ok(r#""2024-03-01T10:11:12Z""#.into()));
        let tiny = datetime("2024-03-01T10:11:12.0004Z", None, None);
        assert_eq!(tiny, Ok(r#""2024-03-01T10:11:12Z""#.into()));
    }

    #[test]
    fn rfc3339_refusals_name_the_fault() {
        let no_offset =
            "no UTC offset: RFC 3339 needs Z or +HH:MM (or declare a format and timezone)";
        assert_eq!(
            datetime("2024-03-01T10:11:12", None, BERLIN),
            Err(no_offset.into())
        );
        let no_time =
            "a date without a time: RFC 3339 needs a time and an offset (or declare a format)";
        assert_eq!(datetime("2024-03-01", None, None), Err(no_time.into()));
        let not_rfc = "not RFC 3339 (YYYY-MM-DDTHH:MM:SS with Z or +HH:MM) and no format declared";
        for text in [
            "01/03/2024 10:00",
            "2024-03-01T10:11Z",
            "2024-03-01T10:11:12+0200x",
            "2024-03-01T10:11:12+0200",
            "2024-03-01T10:11:12+02:0a",
            "2024-03-01T10:11:12Zx",
            "2024-03-01T10:11:12.Z",
            "2024-03-01T10:11:12 Z",
            "2024-03-01T10:11:12+2",
        ] {
            assert_eq!(datetime(text, None, None), Err(not_rfc.into()), "{text}");
        }
        let hour = datetime("2024-03-01T24:00:00Z", None, None);
        assert_eq!(hour, Err("no such time: there is no hour 24".into()));
        let leap = datetime("2016-12-31T23:59:60Z", None, None);
        assert_eq!(
            leap,
            Err("no such time: leap seconds (second 60) are not accepted".into())
        );
        let feb = datetime("2023-02-29T10:00:00Z", None, None);
        assert_eq!(feb, Err("no such date: February 2023 has 28 days".into()));
        let offset = datetime("2023-02-01T10:00:00+24:00", None, None);
        assert_eq!(offset, Err("no such UTC offset: 24:00".into()));
    }

    #[test]
    fn formatted_local_times_are_read_in_the_timezone() {
        let format = Some("%d.%m.%Y %H:%M");
        let winter = datetime("15.01.2024 10:00", format, BERLIN);
        assert_eq!(winter, Ok(r#""2024-01-15T09:00:00Z""#.into()));
        let summer = datetime("15.07.2024 10:00", format, BERLIN);
        assert_eq!(summer, Ok(r#""2024-07-15T08:00:00Z""#.into()));
        let utc = datetime("15.07.2024 10:00", format, None);
        assert_eq!(utc, Ok(r#""2024-07-15T10:00:00Z""#.into()));
        let new_york = datetime(
            "15.07.2024 10:00",
            format,
            Some(chrono_tz::America::New_York),
        );
        assert_eq!(new_york, Ok(r#""2024-07-15T14:00:00Z""#.into()));
    }

    #[test]
    fn daylight_saving_gaps_and_overlaps_are_refused() {
        let format = Some("%Y-%m-%d %H:%M");
        let gap = datetime("2024-03-31 02:30", format, BERLIN);
        let skipped = "no such local time: Europe/Berlin skips it (daylight-saving change)";
        assert_eq!(gap, Err(skipped.into()));
        let overlap = datetime("2024-10-27 02:30", format, BERLIN);
        let twice =
            "ambiguous local time: it occurs twice in Europe/Berlin (daylight-saving change)";
        assert_eq!(overlap, Err(twice.into()));
        let before_gap = datetime("2024-03-31 01:59", format, BERLIN);
        assert_eq!(before_gap, Ok(r#""2024-03-31T00:59:00Z""#.into()));
        let after_gap = datetime("2024-03-31 03:00", format, BERLIN);
        assert_eq!(after_gap, Ok(r#""2024-03-31T01:00:00Z""#.into()));
        let after_overlap = datetime("2024-10-27 03:00", format, BERLIN);
        assert_eq!(after_overlap, Ok(r#""2024-10-27T02:00:00Z""#.into()));
    }

    #[test]
    fn an_offset_in_the_value_wins_over_the_timezone() {
        let format = Some("%Y-%m-%d %H:%M %z");
        let in_gap = datetime("2024-03-31 02:30 +0100", format, BERLIN);
        assert_eq!(in_gap, Ok(r#""2024-03-31T01:30:00Z""#.into()));
        let colon = datetime("2024-03-31 02:30 -01:30", format, BERLIN);
        assert_eq!(colon, Ok(r#""2024-03-31T04:00:00Z""#.into()));
    }

    #[test]
    fn formatted_datetimes_with_fractions_am_pm_and_timestamps() {
        let format = Some("%m/%d/%Y %I:%M:%S%.f %p");
        let pm = datetime("3/1/2024 1:05:09.25 PM", format, None);
        assert_eq!(pm, Ok(r#""2024-03-01T13:05:09Z""#.into()));
        let epoch = datetime("1700000000", Some("%s"), BERLIN);
        assert_eq!(epoch, Ok(r#""2023-11-14T22:13:20Z""#.into()));
        let before = datetime("-1", Some("%s"), None);
        assert_eq!(before, Ok(r#""1969-12-31T23:59:59Z""#.into()));
    }

    #[test]
    fn formatted_datetime_refusals_name_the_fault() {
        let format = Some("%d.%m.%Y %H:%M");
        let wrong = datetime("2024-01-15 10:00", format, BERLIN);
        assert_eq!(
            wrong,
            Err("not in the declared format %d.%m.%Y %H:%M".into())
        );
        let no_time = datetime("15.01.2024", Some("%d.%m.%Y"), None);
        let missing = "the declared format %d.%m.%Y does not give a full date and time";
        assert_eq!(no_time, Err(missing.into()));
        let bad_day = datetime("30.02.2024 10:00", format, None);
        assert_eq!(
            bad_day,
            Err("no such date: February 2024 has 29 days".into())
        );
        let bad_minute = datetime("15.01.2024 10:60", format, None);
        assert_eq!(
            bad_minute,
            Err("no such time: there is no minute 60".into())
        );
        assert_eq!(read_datetime(" ", format, BERLIN), Ok(None));
    }
}
