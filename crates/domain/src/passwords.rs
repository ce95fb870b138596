//! Password policy for staff accounts.
//!
//! [`check`] accepts a password when it is [`MIN_LENGTH`] to [`MAX_LENGTH`] characters long,
//! is not one of the commonly leaked passwords bundled in `common-passwords.txt` (worldwide
//! lists plus those common in China, pinyin ones included), does not contain the username
//! and is not trivially simple. Length is counted in characters, not bytes, so a Chinese
//! passphrase is measured the way its owner sees it.
//!
//! Rejections are a [`FieldError`] on field `password`; the rules run in this order and the
//! first failure is returned:
//!
//! | code                | rule                                                          |
//! |---------------------|---------------------------------------------------------------|
//! | `password.short`    | fewer than [`MIN_LENGTH`] characters                          |
//! | `password.long`     | more than [`MAX_LENGTH`] characters                           |
//! | `password.common`   | [`is_common`]                                                 |
//! | `password.username` | contains the username (3 or more characters), any letter case |
//! | `password.simple`   | fewer than 4 distinct characters, or one run of consecutive digits, letters or keys (`1234567890`, `9876543210`, `abcdefghij`, `qwertyuiop`, `1qaz2wsx3edc`) |

use crate::FieldError;

/// Fewest characters in an acceptable password.
pub const MIN_LENGTH: usize = 10;
/// Most characters in an acceptable password.
pub const MAX_LENGTH: usize = 128;

/// The bundled list: one lower-case password a line.
const COMMON: &str = include_str!("common-passwords.txt");

/// A stem left after stripping trailing digits and punctuation must be at least this long to
/// count, so that short list entries do not condemn every password starting with them.
const MIN_STEM_CHARS: usize = 4;

/// Fewest distinct characters a password must use.
const MIN_DISTINCT_CHARS: usize = 4;

/// Sequences whose every substring (forwards or backwards) is a "simple" password: the
/// alphabet and the rows and columns of a US keyboard, which Chinese keyboards share.
const RUNS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "`1234567890-=",
    "~!@#$%^&*()_+",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]",
    "!qaz@wsx#edc$rfv%tgb^yhn&ujm*ik<(ol>)p:?",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
];

fn in_list(p: &str) -> bool {
    COMMON.lines().any(|line| line == p)
}

/// Whether `p` is a commonly used password: it is in the bundled list (ignoring letter
/// case), or it is a listed word of at least 4 characters followed by digits and/or ASCII
/// punctuation (`Password123!` → `password`, `woaini1314520` → `woaini`).
pub fn is_common(p: &str) -> bool {
    let lower = p.to_lowercase();
    if in_list(&lower) {
        return true;
    }
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    stem.len() < lower.len() && stem.chars().count() >= MIN_STEM_CHARS && in_list(stem)
}

/// Whether every step between neighbouring digits is +1 (or every step is -1), wrapping
/// from 9 to 0 as the keyboard's number row does (`7890123456`, `3210987654`).
fn is_digit_run(p: &str) -> bool {
    let digits: Vec<u8> = p.bytes().collect();
    if digits.len() < 2 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let step_all = |step: u8| {
        digits
            .windows(2)
            .all(|w| (w[0] - b'0' + step) % 10 == w[1] - b'0')
    };
    step_all(1) || step_all(9)
}

/// Whether `lower` (already lower-case) is one run along [`RUNS`], forwards or backwards.
fn is_keyboard_run(lower: &str) -> bool {
    let backwards: String = lower.chars().rev().collect();
    RUNS.iter()
        .any(|run| run.contains(lower) || run.contains(backwards.as_str()))
}

/// Whether a password is trivially simple (the `password.simple` rule). Letter case is
/// ignored: `AaAaBbBbAa` uses two distinct characters.
fn is_simple(password: &str) -> bool {
    let lower = password.to_lowercase();
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() < MIN_DISTINCT_CHARS || is_digit_run(&lower) || is_keyboard_run(&lower)
}

/// Checks a new password for the account `username` (see the module docs for the rules).
pub fn check(password: &str, username: &str) -> Result<(), FieldError> {
    let fail = |code| {
        Err(FieldError {
            field: "password",
            code,
        })
    };
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return fail("password.short");
    }
    if chars > MAX_LENGTH {
        return fail("password.long");
    }
    if is_common(password) {
        return fail("password.common");
    }
    let user = username.trim().to_lowercase();
    if user.chars().count() >= 3 && password.to_lowercase().contains(&user) {
        return fail("password.username");
    }
    if is_simple(password) {
        return fail("password.simple");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(password: &str, username: &str) -> &'static str {
        check(password, username).unwrap_err().code
    }

    #[test]
    fn good_passwords_pass() {
        for ok in [
            "correct horse battery staple",
            "Tr0ub4dor&3x",
            "我的密码是长城永不倒",
            "zhang-wei's bike 42",
            "9f3k2LmQ-x",
        ] {
            assert_eq!(check(ok, "zhangwei"), Ok(()), "{ok}");
        }
        assert_eq!(check("woaini-beijing-tiananmen", "admin"), Ok(()));
    }

    #[test]
    fn errors_are_on_the_password_field() {
        assert_eq!(
            check("short", "bob"),
            Err(FieldError::new("password", "password.short"))
        );
    }

    #[test]
    fn short() {
        assert_eq!(code("", "bob"), "password.short");
        assert_eq!(code("a8#kQ2!zP", "bob"), "password.short"); // 9 characters
        assert!(check("a8#kQ2!zPw", "bob").is_ok()); // 10 characters
        // Characters, not bytes: 9 Chinese characters are 27 bytes but still too short.
        assert_eq!(code("我的密码是长城永不", "bob"), "password.short");
        assert!(check("我的密码是长城永不倒", "bob").is_ok());
        // A common password that is also short reports the length first.
        assert_eq!(code("123456", "bob"), "password.short");
    }

    #[test]
    fn long() {
        let at_max: String = "a8#kQ2!zPw".repeat(12) + "Xy7$Lm3@";
        assert_eq!(at_max.chars().count(), MAX_LENGTH);
        assert!(check(&at_max, "bob").is_ok());
        let over = at_max.clone() + "z";
        assert_eq!(code(&over, "bob"), "password.long");
        assert_eq!(code(&"长".repeat(129), "bob"), "password.long");
    }

    #[test]
    fn common_exact_and_case_insensitive() {
        for p in [
            "1234567890",
            "qwertyuiop",
            "woaini1314",
            "1qaz2wsx3edc",
            "5201314520",
            "Password123",
            "PASSWORD1234",
            "zhang123456",
            "administrator",
            "1314520520",
        ] {
            assert_eq!(code(p, "bob"), "password.common", "{p}");
        }
    }

    #[test]
    fn common_after_stripping_trailing_digits_and_punctuation() {
        for p in [
            "password123!",
            "Password2024!!",
            "iloveyou.1314",
            "woaini1314520!",
            "wangwei19900101",
            "qwerty!@#$%^",
            "Sunshine-2024",
            "admin@2024#",
        ] {
            assert_eq!(code(p, "bob"), "password.common", "{p}");
        }
        // Only trailing: a listed word inside a longer one is not enough.
        assert!(check("mypasswordisgood", "bob").is_ok());
        // Stems shorter than 4 characters do not count ("abc" is listed).
        assert!(is_common("abc"));
        assert!(!is_common("abc9382710"));
        assert!(check("abc9382710", "bob").is_ok());
    }

    #[test]
    fn is_common_examples() {
        for p in [
            "123456",
            "123456789",
            "111111",
            "5201314",
            "woaini1314",
            "iloveyou",
            "qq123456",
            "a123456",
            "abc123456",
            "1qaz2wsx",
            "zxcvbnm",
            "password",
            "admin123",
            "88888888",
            "147258369",
            "aa123456",
            "woaini",
            "wangwei",
            "zhang123",
            "P@ssw0rd",
            "WoAiNi520",
        ] {
            assert!(is_common(p), "{p}");
        }
        assert!(!is_common(""));
        assert!(!is_common("9f3k2LmQ-x"));
        assert!(!is_common("123!"));
    }

    #[test]
    fn bundled_list_is_well_formed() {
        let lines: Vec<&str> = COMMON.lines().collect();
        assert!(lines.len() >= 500, "only {} entries", lines.len());
        let mut seen = std::collections::HashSet::new();
        for line in &lines {
            assert!(!line.is_empty());
            assert_eq!(line.trim(), *line, "{line:?}");
            assert_eq!(line.to_lowercase(), *line, "{line:?}");
            assert!(seen.insert(*line), "duplicate {line:?}");
        }
        assert!(COMMON.ends_with('\n'));
        assert!(!COMMON.contains('\r'));
    }

    #[test]
    fn username() {
        assert_eq!(code("zhangsan-2024-xyz", "zhangsan"), "password.username");
        assert_eq!(code("My-ZhangSan-key!", "ZHANGSAN"), "password.username");
        assert_eq!(code("kQ2!zP-bob-x", " Bob "), "password.username");
        assert_eq!(code("值班员张三的钥匙串", "张三的"), "password.short");
        assert_eq!(code("值班员张三的钥匙串儿", "张三的"), "password.username");
        // Usernames under 3 characters are not checked.
        assert!(check("kQ2!zP-li-x", "li").is_ok());
        assert!(check("kQ2!zP-li-x", "").is_ok());
        // A username that is not inside the password is fine.
        assert!(check("kQ2!zP-bo-b", "bob").is_ok());
    }

    #[test]
    fn simple_few_distinct_characters() {
        for p in [
            "zzzzzzzzzz",
            "abababababab",
            "abcabcabcabc",
            "AaAaBbBbCcCc",
            "!!!!!!!!!!",
        ] {
            assert_eq!(code(p, "bob"), "password.simple", "{p}");
        }
        // Four distinct characters are enough for this rule.
        assert!(check("abcdabcdabcd", "bob").is_ok());
    }

    #[test]
    fn simple_digit_runs() {
        for p in [
            "2345678901",
            "0123456789",
            "3456789012345",
            "8765432109",
            "0987654321",
            "5432109876543",
        ] {
            assert!(!is_common(p), "{p} should reach the simple rule");
            assert_eq!(code(p, "bob"), "password.simple", "{p}");
        }
        assert!(check("1234567809", "bob").is_ok());
        assert!(check("2468013579", "bob").is_ok());
    }

    #[test]
    fn simple_keyboard_and_alphabet_runs() {
        for p in [
            "bcdefghijk",
            "KJIHGFEDCBA",
            "wertyuiop[",
            "LKJHGFDSAPOIU",
            "sdfghjkl;'",
            "uiopasdfghjk",
            "2wsx3edc4rfv",
            "qazwsxedcrfv",
            "3e4r5t6y7u8i",
            "vfr4cde3xsw2",
            "!qaz@wsx#edc",
            "`1234567890-=",
        ] {
            assert!(!is_common(p), "{p} should reach the simple rule");
            assert_eq!(code(p, "bob"), "password.simple", "{p}");
        }
        // Two runs glued together are not one run.
        assert!(check("qwertasdfg", "bob").is_err()); // listed as common
        assert!(check("abcdeqwert", "bob").is_ok());
    }

    #[test]
    fn rules_apply_in_order() {
        // Common beats username and simple.
        assert_eq!(code("1234567890", "12345"), "password.common");
        // Username beats simple.
        assert_eq!(code("bcdefghijk", "defg"), "password.username");
    }
}
