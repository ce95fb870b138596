//! Personal data: resident ID numbers, mobile phone numbers and people's names.
//!
//! Each value is a newtype that can only be built through a checking `parse`, so code that
//! holds an [`IdNumber`], a [`Phone`] or a [`PersonName`] knows it is well formed and
//! normalised (upper-case `X`, bare 11-digit phone, trimmed name).
//!
//! Personal data must not leak into logs or screens that do not need it:
//!
//! * `Debug` prints the *masked* form (`IdNumber("440***********123X")`), so a stray
//!   `{:?}` or `tracing` field never writes the plain value. There is deliberately no
//!   `Display`; call `as_str` when the plain value is really wanted.
//! * `masked()` gives the form for lists and receipts; the free functions
//!   [`mask_id_number`], [`mask_phone`] and [`mask_name`] mask strings that were stored
//!   before validation (or come from elsewhere) the same way, and never panic.
//!
//! Masking rules:
//!
//! | value        | kept                      | example                                  |
//! |--------------|---------------------------|------------------------------------------|
//! | ID number    | first 3 and last 4 chars  | `440106199001011234` → `440***********1234` |
//! | phone        | first 3 and last 4 digits | `13812345678` → `138****5678`            |
//! | person name  | first character           | `欧阳娜娜` → `欧***`, `张` → `张*`       |
//!
//! The ID mask never shows a birth-date digit (positions 7 to 14). Strings shorter than
//! 8 characters passed to the ID or phone masks are masked completely.

use crate::FieldError;
use std::fmt;
use time::{Date, Month};

/// Keeps the first `head` and last `tail` characters and stars the rest; strings too short
/// to keep anything safely (fewer than `head + tail + 1` characters) become all stars.
fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= head + tail {
        return "*".repeat(n);
    }
    let mut out = String::with_capacity(s.len());
    out.extend(&chars[..head]);
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

// ---------------------------------------------------------------------------------------
// Resident ID number
// ---------------------------------------------------------------------------------------

/// Weights of the first 17 digits in the GB 11643-1999 check (2^(17-i) mod 11).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum mod 11.
const ID_CHECK_CHARS: &[u8; 11] = b"10X98765432";
/// Earliest accepted birth year.
const ID_MIN_YEAR: i32 = 1900;

/// The check character for 17 leading ASCII digits.
fn id_check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    // `sum % 11` is below 11, so the index is always in range.
    ID_CHECK_CHARS[(sum % 11) as usize]
}

/// Reads ASCII digits as a number (the caller has checked they are digits).
fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
}

/// The `YYYYMMDD` at bytes 6..14 of an all-ASCII ID number, if it is a calendar date.
fn id_birth(id: &[u8]) -> Option<Date> {
    let ymd = id.get(6..14)?;
    if !ymd.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = i32::try_from(digits_value(&ymd[..4])).ok()?;
    let month = Month::try_from(u8::try_from(digits_value(&ymd[4..6])).ok()?).ok()?;
    let day = u8::try_from(digits_value(&ymd[6..8])).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// A mainland Chinese resident identity number (GB 11643-1999), 18 characters.
///
/// Layout: 6-digit region code, birth date `YYYYMMDD`, 3-digit sequence (odd for men,
/// even for women), check character (`0`-`9` or `X`). Stored with an upper-case `X`.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    /// Checks and normalises an ID number typed by a person.
    ///
    /// Surrounding white space is trimmed and a final lower-case `x` becomes `X`. Errors
    /// (all on `field`), in the order they are checked:
    ///
    /// * `id_number.empty` — nothing but white space;
    /// * `id_number.length` — not 18 characters, or not 17 digits followed by a digit or `X`;
    /// * `id_number.checksum` — the check character does not match the first 17 digits;
    /// * `id_number.birth_date` — the birth date is not a real date, is before 1900, or
    ///   is after `today`.
    pub fn parse(s: &str, field: &'static str, today: Date) -> Result<IdNumber, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "id_number.empty"));
        }
        let mut id = s.to_owned();
        if id.ends_with('x') {
            id.pop();
            id.push('X');
        }
        let bytes = id.as_bytes();
        let well_formed = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !well_formed {
            return Err(FieldError::new(field, "id_number.length"));
        }
        if id_check_char(&bytes[..17]) != bytes[17] {
            return Err(FieldError::new(field, "id_number.checksum"));
        }
        match id_birth(bytes) {
            Some(birth) if birth.year() >= ID_MIN_YEAR && birth <= today => Ok(IdNumber(id)),
            _ => Err(FieldError::new(field, "id_number.birth_date")),
        }
    }

    /// Builds a valid number from its parts, computing the check character.
    ///
    /// `None` when `region` is not exactly 6 ASCII digits, `sequence` is above 999 or the
    /// birth year is outside 1900..=9999. The birth date is not compared with today.
    pub fn compose(region: &str, birth: Date, sequence: u16) -> Option<IdNumber> {
        let region_ok = region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit());
        if !region_ok || sequence > 999 || !(ID_MIN_YEAR..=9999).contains(&birth.year()) {
            return None;
        }
        let mut id = format!(
            "{region}{:04}{:02}{:02}{sequence:03}",
            birth.year(),
            u8::from(birth.month()),
            birth.day()
        );
        let check = id_check_char(id.as_bytes());
        id.push(char::from(check));
        Some(IdNumber(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The birth date encoded in characters 7 to 14.
    pub fn birth_date(&self) -> Date {
        // Both constructors only ever hold a number whose birth date was read successfully.
        id_birth(self.0.as_bytes()).expect("an IdNumber always holds a valid birth date")
    }

    /// First 3 and last 4 characters, 11 stars between: `440***********123X`.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

/// Masks any stored ID-number string like [`IdNumber::masked`]: trimmed, ASCII upper-cased,
/// first 3 and last 4 characters kept, the rest starred (11 stars for 18 characters).
/// Strings of fewer than 8 characters become all stars. Never panics.
pub fn mask_id_number(s: &str) -> String {
    mask_middle(&s.trim().to_ascii_uppercase(), 3, 4)
}

// ---------------------------------------------------------------------------------------
// Mobile phone
// ---------------------------------------------------------------------------------------

/// A mainland mobile number: 11 digits, `1` then `3`-`9`, stored without prefix or
/// separators (`13812345678`).
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Checks and normalises a phone number typed by a person.
    ///
    /// White space and hyphens anywhere are dropped, then a leading `+86`, or `86` in front
    /// of 11 more digits, is removed. Errors (on `field`): `phone.empty` for nothing but
    /// white space, `phone.invalid` for anything else that is not a mainland mobile number.
    pub fn parse(s: &str, field: &'static str) -> Result<Phone, FieldError> {
        if s.trim().is_empty() {
            return Err(FieldError::new(field, "phone.empty"));
        }
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let number = match compact.strip_prefix("+86") {
            Some(rest) => rest,
            None if compact.len() == 13 => compact.strip_prefix("86").unwrap_or(&compact),
            None => &compact,
        };
        let b = number.as_bytes();
        let ok = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1]);
        if ok {
            Ok(Phone(number.to_owned()))
        } else {
            Err(FieldError::new(field, "phone.invalid"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// First 3 and last 4 digits, 4 stars between: `138****5678`.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Phone").field(&self.masked()).finish()
    }
}

/// Masks any stored phone string like [`Phone::masked`].
///
/// A string that parses as a [`Phone`] is normalised first (`+86 138-1234-5678` →
/// `138****5678`); anything else is trimmed and keeps its first 3 and last 4 characters,
/// or becomes all stars below 8 characters. Never panics.
pub fn mask_phone(s: &str) -> String {
    match Phone::parse(s, "phone") {
        Ok(phone) => phone.masked(),
        Err(_) => mask_middle(s.trim(), 3, 4),
    }
}

// ---------------------------------------------------------------------------------------
// Person name
// ---------------------------------------------------------------------------------------

/// Longest accepted name, in characters.
const NAME_MAX_CHARS: usize = 30;

/// Characters a name may not contain: control characters, invisible bidirectional and
/// zero-width formatting (used to disguise text), and digits of any script. `〇` (U+3007)
/// is numeric in Unicode but written as a character in Chinese names, so it is allowed.
fn name_char_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        || (c.is_numeric() && c != '\u{3007}')
}

/// A person's name as written on their documents (`张三`, `阿依古丽·买买提`, `Li Ming`):
/// trimmed, 1 to 30 characters, no control or invisible formatting characters, no digits.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Errors (on `field`): `person_name.empty` for nothing but white space,
    /// `person_name.invalid` for more than 30 characters or a forbidden character.
    pub fn parse(s: &str, field: &'static str) -> Result<PersonName, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "person_name.empty"));
        }
        if s.chars().count() > NAME_MAX_CHARS || s.chars().any(name_char_forbidden) {
            return Err(FieldError::new(field, "person_name.invalid"));
        }
        Ok(PersonName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// First character, then one star per remaining character and at least one star:
    /// `张三` → `张*`, `欧阳娜娜` → `欧***`, `张` → `张*`.
    pub fn masked(&self) -> String {
        mask_name(&self.0)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersonName").field(&self.masked()).finish()
    }
}

/// Masks any name string like [`PersonName::masked`] after trimming it; an empty or
/// all-white-space string gives an empty string. Never panics.
pub fn mask_name(s: &str) -> String {
    let mut chars = s.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let stars = chars.count().max(1);
    let mut out = String::with_capacity(first.len_utf8() + stars);
    out.push(first);
    out.extend(std::iter::repeat_n('*', stars));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2025 - 06 - 15);

    /// Appends the correct check character to 17 digits.
    fn with_check(first17: &str) -> String {
        let mut s = first17.to_owned();
        s.push(char::from(id_check_char(first17.as_bytes())));
        s
    }

    fn id_err(s: &str) -> &'static str {
        IdNumber::parse(s, "id", TODAY).unwrap_err().code
    }

    // --- IdNumber ---------------------------------------------------------------------

    #[test]
    fn id_check_character_follows_the_standard() {
        // Published GB 11643-1999 example: 11010519491231002 → X.
        assert_eq!(with_check("11010519491231002"), "11010519491231002X");
        // Hand-computed: weights · digits of 44010619900101123 sum to 194, 194 % 11 = 7 → 5.
        assert_eq!(with_check("44010619900101123"), "440106199001011235");
        // Every remainder maps through "10X98765432".
        assert_eq!(ID_CHECK_CHARS, b"10X98765432");
        assert_eq!(ID_WEIGHTS.len(), 17);
    }

    #[test]
    fn id_accepts_valid_numbers_and_normalises() {
        let id = IdNumber::parse("11010519491231002X", "id", TODAY).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));

        let lower = IdNumber::parse("  11010519491231002x \t", "id", TODAY).unwrap();
        assert_eq!(lower, id);
        assert_eq!(lower.into_string(), "11010519491231002X");

        let digit_check = IdNumber::parse("440106199001011235", "id", TODAY).unwrap();
        assert_eq!(digit_check.birth_date(), date!(1990 - 01 - 01));
    }

    #[test]
    fn id_empty() {
        assert_eq!(id_err(""), "id_number.empty");
        assert_eq!(id_err("   \t "), "id_number.empty");
        let e = IdNumber::parse("", "applicant_id", TODAY).unwrap_err();
        assert_eq!(e, FieldError::new("applicant_id", "id_number.empty"));
    }

    #[test]
    fn id_length_and_characters() {
        for bad in [
            "11010519491231002",                   // 17
            "11010519491231002X1",                 // 19
            "110105194912310",                     // old 15-digit form
            "1101051949123100X2",                  // X not last
            "11010519491231002Y",                  // bad check char
            "1101051949 1231002X",                 // inner space
            "１１０１０５１９４９１２３１００２X", // full-width digits
            "X10105194912310021",
            "abcdefghijklmnopqr",
        ] {
            assert_eq!(id_err(bad), "id_number.length", "{bad}");
        }
    }

    #[test]
    fn id_checksum() {
        assert_eq!(id_err("110105194912310021"), "id_number.checksum");
        assert_eq!(id_err("440106199001011233"), "id_number.checksum");
        // One swapped digit in the body breaks the check.
        assert_eq!(id_err("11010519491231020X"), "id_number.checksum");
    }

    #[test]
    fn id_birth_date_must_be_real() {
        // Each has a correct check character, so only the date is wrong.
        for first17 in [
            "11010519490230002", // 30 February
            "11010519491332002", // month 13
            "11010519490000002", // month 0, day 0
            "11010519490100002", // day 0
            "11010519490431002", // 31 April
            "11010519010229002", // 1901 is not a leap year
            "11010518991231002", // before 1900
            "11010500001231002", // year 0
        ] {
            assert_eq!(
                id_err(&with_check(first17)),
                "id_number.birth_date",
                "{first17}"
            );
        }
        // Leap day and the 1900 boundary are fine.
        assert!(IdNumber::parse(&with_check("11010520000229002"), "id", TODAY).is_ok());
        assert!(IdNumber::parse(&with_check("11010519000101002"), "id", TODAY).is_ok());
    }

    #[test]
    fn id_birth_date_not_after_today() {
        let born_today = with_check("11010520250615002");
        let born_tomorrow = with_check("11010520250616002");
        assert!(IdNumber::parse(&born_today, "id", TODAY).is_ok());
        assert_eq!(id_err(&born_tomorrow), "id_number.birth_date");
        assert!(IdNumber::parse(&born_tomorrow, "id", date!(2025 - 06 - 16)).is_ok());
    }

    #[test]
    fn id_masked_hides_birth_date() {
        let id = IdNumber::parse("11010519491231002X", "id", TODAY).unwrap();
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(id.masked().chars().count(), 18);
        assert_eq!(id.masked().matches('*').count(), 11);
        // Positions 7..=14 (the birth date) are all starred.
        assert!(id.masked()[6..14].chars().all(|c| c == '*'));
        assert!(!id.masked().contains("1949"));
    }

    #[test]
    fn id_debug_is_masked() {
        let id = IdNumber::parse("11010519491231002X", "id", TODAY).unwrap();
        let debug = format!("{id:?}");
        assert_eq!(debug, r#"IdNumber("110***********002X")"#);
        assert!(!debug.contains("19491231"));
        assert!(!format!("{id:#?}").contains("19491231"));
    }

    #[test]
    fn id_compose_builds_parseable_numbers() {
        let id = IdNumber::compose("110105", date!(1949 - 12 - 31), 2).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");

        for (region, birth, seq) in [
            ("440106", date!(1990 - 01 - 01), 123),
            ("000000", date!(1900 - 01 - 01), 0),
            ("999999", date!(2024 - 02 - 29), 999),
            ("320102", date!(2025 - 06 - 15), 1),
        ] {
            let id = IdNumber::compose(region, birth, seq).unwrap();
            let parsed = IdNumber::parse(id.as_str(), "id", TODAY).unwrap();
            assert_eq!(parsed, id);
            assert_eq!(parsed.birth_date(), birth);
            assert!(parsed.as_str().starts_with(region));
            assert_eq!(&parsed.as_str()[14..17], format!("{seq:03}"));
        }
    }

    #[test]
    fn id_compose_rejects_bad_parts() {
        let birth = date!(1990 - 01 - 01);
        assert_eq!(IdNumber::compose("44010", birth, 1), None);
        assert_eq!(IdNumber::compose("4401066", birth, 1), None);
        assert_eq!(IdNumber::compose("44010a", birth, 1), None);
        assert_eq!(IdNumber::compose("４４０１０６", birth, 1), None);
        assert_eq!(IdNumber::compose("", birth, 1), None);
        assert_eq!(IdNumber::compose("440106", birth, 1000), None);
        assert_eq!(IdNumber::compose("440106", birth, u16::MAX), None);
        assert_eq!(IdNumber::compose("440106", date!(1899 - 12 - 31), 1), None);
        assert!(IdNumber::compose("440106", birth, 999).is_some());
    }

    #[test]
    fn mask_id_number_any_string() {
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_id_number(" 11010519491231002x "), "110***********002X");
        assert_eq!(mask_id_number("440106199001011235"), "440***********1235");
        // Other lengths keep 3 + 4 when there are at least 8 characters.
        assert_eq!(mask_id_number("110105491231002"), "110********1002");
        assert_eq!(mask_id_number("12345678"), "123*5678");
        // Short strings are masked completely; nothing panics.
        assert_eq!(mask_id_number("1234567"), "*******");
        assert_eq!(mask_id_number("12"), "**");
        assert_eq!(mask_id_number(""), "");
        assert_eq!(mask_id_number("身份证号码"), "*****");
        assert_eq!(mask_id_number("身份证号码不详请补"), "身份证**不详请补");
    }

    // --- Phone --------------------------------------------------------------------------

    #[test]
    fn phone_accepts_and_normalises() {
        for ok in [
            "13812345678",
            " 13812345678 ",
            "138 1234 5678",
            "138-1234-5678",
            "+8613812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "8613812345678",
            "86 138 1234 5678",
        ] {
            let p = Phone::parse(ok, "phone").unwrap();
            assert_eq!(p.as_str(), "13812345678", "{ok}");
        }
        for second in '3'..='9' {
            let s = format!("1{second}012345678");
            assert_eq!(Phone::parse(&s, "phone").unwrap().into_string(), s);
        }
    }

    #[test]
    fn phone_empty() {
        assert_eq!(
            Phone::parse("  ", "mobile").unwrap_err(),
            FieldError::new("mobile", "phone.empty")
        );
        assert_eq!(Phone::parse("", "phone").unwrap_err().code, "phone.empty");
    }

    #[test]
    fn phone_invalid() {
        for bad in [
            "1381234567",      // 10 digits
            "138123456789",    // 12 digits
            "23812345678",     // not starting with 1
            "12812345678",     // second digit 2
            "10812345678",     // second digit 0
            "11812345678",     // second digit 1
            "1381234567a",     // letter
            "138.1234.5678",   // dots are not separators
            "+8513812345678",  // other country
            "+86138123456",    // prefix, too short
            "008613812345678", // 0086 is not accepted
            "+86",
            "-",
            "１３８１２３４５６７８", // full-width digits
        ] {
            assert_eq!(
                Phone::parse(bad, "phone").unwrap_err().code,
                "phone.invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn phone_masked_and_debug() {
        let p = Phone::parse("+86 138-1234-5678", "phone").unwrap();
        assert_eq!(p.masked(), "138****5678");
        let debug = format!("{p:?}");
        assert_eq!(debug, r#"Phone("138****5678")"#);
        assert!(!debug.contains("1234"));
    }

    #[test]
    fn mask_phone_any_string() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138 1234 5678"), "138****5678");
        // Not a mobile number: masked as it stands.
        assert_eq!(mask_phone("010-12345678"), "010*****5678");
        assert_eq!(mask_phone("1234567"), "*******");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_phone("电话"), "**");
    }

    // --- PersonName ---------------------------------------------------------------------

    #[test]
    fn name_accepts_and_trims() {
        for (raw, want) in [
            ("张三", "张三"),
            ("  欧阳娜娜 ", "欧阳娜娜"),
            ("Li Ming", "Li Ming"),
            ("阿依古丽·买买提", "阿依古丽·买买提"),
            ("O'Brien", "O'Brien"),
            ("王〇", "王〇"),
            ("张", "张"),
        ] {
            let n = PersonName::parse(raw, "name").unwrap();
            assert_eq!(n.as_str(), want);
            assert_eq!(n.clone().into_string(), want);
        }
        let thirty = "名".repeat(30);
        assert!(PersonName::parse(&thirty, "name").is_ok());
    }

    #[test]
    fn name_empty() {
        assert_eq!(
            PersonName::parse(" \u{3000} ", "holder").unwrap_err(),
            FieldError::new("holder", "person_name.empty")
        );
        assert_eq!(
            PersonName::parse("", "name").unwrap_err().code,
            "person_name.empty"
        );
    }

    #[test]
    fn name_invalid() {
        let thirty_one = "名".repeat(31);
        for bad in [
            thirty_one.as_str(),
            "张三1",
            "张三１", // full-width digit
            "张三②",  // circled digit
            "张\n三",
            "张\t三",
            "张\u{0}三",
            "张\u{202E}三", // right-to-left override
            "张\u{200B}三", // zero-width space
        ] {
            assert_eq!(
                PersonName::parse(bad, "name").unwrap_err().code,
                "person_name.invalid",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn name_masked_and_debug() {
        for (raw, masked) in [
            ("张三", "张*"),
            ("欧阳娜娜", "欧***"),
            ("Li", "L*"),
            ("张", "张*"),
            ("Li Ming", "L******"),
        ] {
            let n = PersonName::parse(raw, "name").unwrap();
            assert_eq!(n.masked(), masked);
            assert_eq!(format!("{n:?}"), format!("PersonName({masked:?})"));
        }
        let n = PersonName::parse("欧阳娜娜", "name").unwrap();
        assert!(!format!("{n:?}").contains("娜"));
    }

    #[test]
    fn mask_name_any_string() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name(" 欧阳娜娜 "), "欧***");
        assert_eq!(mask_name("张"), "张*");
        assert_eq!(mask_name("x"), "x*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("   "), "");
        assert_eq!(mask_name("张三1"), "张**");
    }

    #[test]
    fn mask_middle_edges() {
        assert_eq!(mask_middle("", 3, 4), "");
        assert_eq!(mask_middle("abcdefg", 3, 4), "*******");
        assert_eq!(mask_middle("abcdefgh", 3, 4), "abc*efgh");
    }
}
