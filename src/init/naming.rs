//! Attribute names for `mapping init`: every header (or NDJSON key path)
//! becomes a snake_case ASCII name that Laudspeaker accepts, the same way
//! for every column, with clashes and reserved names resolved.

use std::collections::HashSet;

use crate::mapping::{check_attribute_name, RESERVED};

/// How one source name became its attribute name, for the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub attribute: String,
    /// Why the name differs from the plain snake_case form, if it does.
    pub note: Option<String>,
}

/// Names for `sources` in order: `snake_case(source)`, renamed when it is
/// reserved by Laudspeaker, and suffixed `_2`, `_3`... when an earlier
/// column (or a name in `taken`) already has it.
pub fn attribute_names(sources: &[&str], taken: &[&str]) -> Vec<Named> {
    let mut used: HashSet<String> = taken.iter().map(|name| name.to_string()).collect();
    let mut named = Vec::with_capacity(sources.len());
    for (index, source) in sources.iter().enumerate() {
        let mut base = snake_case(source);
        let mut note = None;
        if base.is_empty() {
            base = format!("column_{}", index + 1);
            note = Some("the header has no letters or digits: named by its position".into());
        }
        if RESERVED.contains(&base.as_str()) {
            note = Some(format!(
                "`{base}` is reserved by Laudspeaker for its own field: renamed"
            ));
            base = format!("source_{base}");
        }
        let mut attribute = base.clone();
        let mut n = 2;
        while used.contains(&attribute) || check_attribute_name(&attribute).is_err() {
            attribute = format!("{base}_{n}");
            n += 1;
        }
        if attribute != base {
            note = Some(format!(
                "`{base}` is already the name of an earlier attribute: numbered"
            ));
        }
        used.insert(attribute.clone());
        named.push(Named { attribute, note });
    }
    named
}

/// `First Name` -> `first_name`, `customerEmail` -> `customer_email`,
/// `Straße` -> `strasse`, `_id.$oid` -> `id_oid`: ASCII letters and digits
/// lowercased, every other run of characters one `_`, a lowercase-to-
/// uppercase step a word break; accents transliterated, other letters
/// dropped.
pub fn snake_case(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut previous_lower = false;
    let mut pending_break = false;
    for c in source.chars() {
        let ascii = transliterated(c);
        if ascii.is_empty() {
            // A separator, or a letter with no Latin spelling.
            pending_break |= !c.is_alphanumeric();
            previous_lower = false;
            continue;
        }
        for a in ascii.chars() {
            let upper = a.is_ascii_uppercase();
            if (pending_break || (upper && previous_lower)) && !out.is_empty() {
                out.push('_');
            }
            pending_break = false;
            out.push(a.to_ascii_lowercase());
            previous_lower = a.is_ascii_lowercase() || a.is_ascii_digit();
        }
    }
    out
}

/// The ASCII spelling of one character: itself for ASCII letters and
/// digits, the base letter(s) for accented Latin letters, nothing else.
fn transliterated(c: char) -> &'static str {
    const TABLE: &[(&str, &str)] = &[
        ("ÀÁÂÃÄÅĀĂĄ", "A"),
        ("àáâãäåāăą", "a"),
        ("ÇĆĈĊČ", "C"),
        ("çćĉċč", "c"),
        ("ĎĐ", "D"),
        ("ďđð", "d"),
        ("ÈÉÊËĒĔĖĘĚ", "E"),
        ("èéêëēĕėęě", "e"),
        ("ĜĞĠĢ", "G"),
        ("ĝğġģ", "g"),
        ("ÌÍÎÏĨĪĬĮİ", "I"),
        ("ìíîïĩīĭįı", "i"),
        ("ĹĻĽĿŁ", "L"),
        ("ĺļľŀł", "l"),
        ("ÑŃŅŇ", "N"),
        ("ñńņň", "n"),
        ("ÒÓÔÕÖØŌŎŐ", "O"),
        ("òóôõöøōŏő", "o"),
        ("ŔŖŘ", "R"),
        ("ŕŗř", "r"),
        ("ŚŜŞŠ", "S"),
        ("śŝşš", "s"),
        ("ŢŤ", "T"),
        ("ţť", "t"),
        ("ÙÚÛÜŨŪŬŮŰŲ", "U"),
        ("ùúûüũūŭůűų", "u"),
        ("ÝŸ", "Y"),
        ("ýÿ", "y"),
        ("ŹŻŽ", "Z"),
        ("źżž", "z"),
        ("ß", "ss"),
        ("Æ", "AE"),
        ("æ", "ae"),
        ("Œ", "OE"),
        ("œ", "oe"),
        ("Þ", "Th"),
        ("þ", "th"),
    ];
    const ASCII: &str = "0123456789\
                         ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if c.is_ascii_alphanumeric() {
        let at = ASCII
            .find(c)
            .expect("an ASCII letter or digit is in the list");
        return &ASCII[at..at + 1];
    }
    TABLE
        .iter()
        .find(|(from, _)| from.contains(c))
        .map_or("", |(_, to)| to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sources: &[&str]) -> Vec<String> {
        attribute_names(sources, &[])
            .into_iter()
            .map(|named| named.attribute)
            .collect()
    }

    #[test]
    fn headers_become_snake_case_ascii() {
        assert_eq!(snake_case("First Name"), "first_name");
        assert_eq!(snake_case("customerEmail"), "customer_email");
        assert_eq!(snake_case("MEMBER_RATING"), "member_rating");
        assert_eq!(snake_case("State/Region"), "state_region");
        assert_eq!(snake_case("Contact: Email"), "contact_email");
        assert_eq!(snake_case("  Phone 1 "), "phone_1");
        assert_eq!(snake_case("ORACLE_ID__C"), "oracle_id_c");
        assert_eq!(
            snake_case("customer.customerEmail"),
            "customer_customer_email"
        );
        assert_eq!(snake_case("_id.$oid"), "id_oid");
    }

    #[test]
    fn accents_are_transliterated_and_other_scripts_dropped() {
        assert_eq!(snake_case("Straße Nº"), "strasse_n");
        assert_eq!(snake_case("Prénom"), "prenom");
        assert_eq!(snake_case("Ødegård"), "odegard");
        assert_eq!(snake_case("名前 name"), "name");
    }

    #[test]
    fn clashes_are_numbered_and_reserved_names_renamed() {
        assert_eq!(
            names(&[
                "Email",
                "email",
                "E-mail",
                "id",
                "_id",
                "createdAt",
                "",
                "v"
            ]),
            vec![
                "email",
                "email_2",
                "e_mail",
                "source_id",
                "source_id_2",
                "created_at",
                "column_7",
                "v"
            ]
        );
    }

    #[test]
    fn names_taken_by_the_key_are_avoided() {
        let named = attribute_names(&["Email"], &["email"]);
        assert_eq!(named[0].attribute, "email_2");
        assert!(named[0].note.is_some());
    }

    #[test]
    fn every_name_is_accepted_by_laudspeaker() {
        let sources = ["$source", "__v", "a.b", "Ωmega", "123", "journeys"];
        for named in attribute_names(&sources, &[]) {
            assert_eq!(check_attribute_name(&named.attribute), Ok(()));
        }
    }
}
