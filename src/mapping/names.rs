//! Rules for names: which Laudspeaker attribute names are usable (see
//! `shared/laudspeaker-api.md`), and how an NDJSON key path is written.

/// Names Laudspeaker keeps for its own fields and refuses as attributes.
pub const RESERVED: [&str; 14] = [
    "id",
    "_id",
    "__v",
    "ownerId",
    "workspaceId",
    "verified",
    "journeys",
    "journeyEnrollmentsDates",
    "isAnonymous",
    "customComponents",
    "createdAt",
    "workflows",
    "posthogId",
    "slackTeamId",
];

/// Checks that `name` can be sent as a Laudspeaker attribute name.
///
/// The error is a full sentence that names the attribute, every reason it
/// is refused, and a usable replacement when one can be derived, e.g.
/// `attribute name "address.city" contains "." (Laudspeaker would store
/// "city" inside an object "address"); rename it, e.g. to "addressCity"`.
pub fn check_attribute_name(name: &str) -> Result<(), String> {
    let reasons = faults(name);
    if reasons.is_empty() {
        return Ok(());
    }
    let mut message = format!("attribute name {name:?} {}", reasons.join(" and "));
    match suggestion(name) {
        Some(better) => message.push_str(&format!("; rename it, e.g. to {better:?}")),
        None => message.push_str("; choose another name"),
    }
    Err(message)
}

/// Every reason `name` is refused, each worded to follow the name.
fn faults(name: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    if name.is_empty() {
        reasons.push("is empty".to_string());
    }
    if RESERVED.contains(&name) {
        reasons.push("is reserved by Laudspeaker for its own field".to_string());
    } else if let Some(first @ ('$' | '_')) = name.chars().next() {
        reasons.push(format!("starts with {first:?}, which Laudspeaker refuses"));
    }
    if let Some((parent, child)) = name.split_once('.') {
        reasons.push(format!(
            "contains \".\" (Laudspeaker would store {child:?} inside an object {parent:?})"
        ));
    }
    if name.contains('\0') {
        reasons.push("contains a NUL character, which MongoDB refuses".to_string());
    }
    reasons
}

/// A valid name close to `name`: leading `$`/`_` and NUL dropped, dotted
/// parts joined in camel case, a reserved name prefixed with `source`.
fn suggestion(name: &str) -> Option<String> {
    let trimmed = name.trim_start_matches(['$', '_']).replace('\0', "");
    let mut better = String::with_capacity(trimmed.len());
    for (i, part) in trimmed
        .split('.')
        .filter(|part| !part.is_empty())
        .enumerate()
    {
        if i == 0 {
            better.push_str(part);
        } else {
            better.push_str(&capitalised(part));
        }
    }
    if RESERVED.contains(&better.as_str()) {
        better = format!("source{}", capitalised(&better));
    }
    (!better.is_empty() && faults(&better).is_empty()).then_some(better)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Splits an NDJSON key path: `a.b` is key `b` inside the object at key
/// `a`. Keys that themselves contain a `.` cannot be addressed.
pub fn split_path(from: &str) -> Vec<&str> {
    from.split('.').collect()
}

/// Checks that `from` is a usable NDJSON key path (no empty part).
pub fn check_path(from: &str) -> Result<(), String> {
    if split_path(from).iter().all(|part| !part.is_empty()) {
        return Ok(());
    }
    Err(format!(
        "{from:?} is not a usable NDJSON key path: it has an empty part; \
         write key names joined by \".\" (\"a.b\" = key \"b\" inside object \"a\")"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for name in ["email", "firstName", "plan_tier", "a$b", "Straße", "ID"] {
            assert_eq!(check_attribute_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn empty_name_is_refused() {
        assert_eq!(
            check_attribute_name(""),
            Err("attribute name \"\" is empty; choose another name".to_string())
        );
    }

    #[test]
    fn dotted_name_is_refused_with_camel_case_hint() {
        assert_eq!(
            check_attribute_name("address.city"),
            Err(
                "attribute name \"address.city\" contains \".\" (Laudspeaker would store \
                 \"city\" inside an object \"address\"); rename it, e.g. to \"addressCity\""
                    .to_string()
            )
        );
    }

    #[test]
    fn leading_dollar_and_underscore_are_refused() {
        assert_eq!(
            check_attribute_name("$source"),
            Err(
                "attribute name \"$source\" starts with '$', which Laudspeaker refuses; \
                 rename it, e.g. to \"source\""
                    .to_string()
            )
        );
        assert_eq!(
            check_attribute_name("_score"),
            Err(
                "attribute name \"_score\" starts with '_', which Laudspeaker refuses; \
                 rename it, e.g. to \"score\""
                    .to_string()
            )
        );
    }

    #[test]
    fn reserved_names_are_refused_with_prefixed_hint() {
        assert_eq!(
            check_attribute_name("createdAt"),
            Err(
                "attribute name \"createdAt\" is reserved by Laudspeaker for its own field; \
                 rename it, e.g. to \"sourceCreatedAt\""
                    .to_string()
            )
        );
        assert_eq!(
            check_attribute_name("__v"),
            Err(
                "attribute name \"__v\" is reserved by Laudspeaker for its own field; \
                 rename it, e.g. to \"v\""
                    .to_string()
            )
        );
    }

    #[test]
    fn every_fault_is_named_once() {
        assert_eq!(
            check_attribute_name("$user.id"),
            Err(
                "attribute name \"$user.id\" starts with '$', which Laudspeaker refuses and \
                 contains \".\" (Laudspeaker would store \"id\" inside an object \"$user\"); \
                 rename it, e.g. to \"userId\""
                    .to_string()
            )
        );
    }

    #[test]
    fn nul_is_refused() {
        assert_eq!(
            check_attribute_name("a\0b"),
            Err(
                "attribute name \"a\\0b\" contains a NUL character, which MongoDB refuses; \
                 rename it, e.g. to \"ab\""
                    .to_string()
            )
        );
    }

    #[test]
    fn paths_split_on_dots() {
        assert_eq!(split_path("email"), vec!["email"]);
        assert_eq!(split_path("contact.email"), vec!["contact", "email"]);
    }

    #[test]
    fn paths_with_empty_parts_are_refused() {
        assert_eq!(check_path("a.b"), Ok(()));
        for bad in ["", "a..b", ".a", "a."] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            check_path("a..b"),
            Err(
                "\"a..b\" is not a usable NDJSON key path: it has an empty part; write key \
                 names joined by \".\" (\"a.b\" = key \"b\" inside object \"a\")"
                    .to_string()
            )
        );
    }
}
