//! Chinese text of tickets: word segmentation with a domain dictionary (jieba), terms for
//! hot issues, MinHash signatures for near-duplicates, and highlighted snippets.

use jieba_rs::Jieba;
use std::collections::HashSet;
use std::sync::LazyLock;

/// Place names of the district and words of the epidemic that the general dictionary
/// splits or misses (`word frequency tag` per line).
const DICTIONARY: &str = include_str!("dict.txt");
/// Words too common to make an issue hot.
const STOPWORDS: &str = include_str!("stopwords.txt");

static SEGMENTER: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    for line in DICTIONARY.lines() {
        let mut parts = line.split_whitespace();
        if let Some(word) = parts.next() {
            let freq = parts.next().and_then(|f| f.parse().ok());
            jieba.add_word(word, freq, parts.next());
        }
    }
    jieba
});

/// Loads the dictionary now (a server calls this at start, so the first intake does not
/// wait for it).
pub fn warm() {
    LazyLock::force(&SEGMENTER);
    LazyLock::force(&STOP);
}

static STOP: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    STOPWORDS
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect()
});

/// A word of a text with its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Words for a search index: search mode (long words and the shorter words inside them),
/// punctuation and spaces dropped.
pub fn index_words(text: &str) -> Vec<Word<'_>> {
    SEGMENTER
        .cut_for_search(text, true)
        .into_iter()
        .filter(|t| t.word.chars().any(is_word_char))
        .map(|t| Word {
            text: t.word,
            start: t.byte_start,
            end: t.byte_end,
        })
        .collect()
}

/// The terms that may make an issue hot: words of two or more characters, no stopwords,
/// no bare numbers; each term once per text.
pub fn terms(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    SEGMENTER
        .cut(text, true)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| {
            w.chars().count() >= 2
                && w.chars().all(is_word_char)
                && !w.chars().all(|c| c.is_ascii_digit())
                && !STOP.contains(w)
        })
        .filter(|w| seen.insert(*w))
        .map(str::to_owned)
        .collect()
}

/// Letters and digits only, lower-cased: what shingles are made of.
fn normalized(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| is_word_char(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Character bigrams of a text (one unigram for a one-character text).
pub fn shingles(text: &str) -> HashSet<u64> {
    let chars = normalized(text);
    let mut set = HashSet::new();
    if chars.len() == 1 {
        set.insert(fnv(&[chars[0] as u32]));
    }
    for w in chars.windows(2) {
        set.insert(fnv(&[w[0] as u32, w[1] as u32]));
    }
    set
}

fn fnv(parts: &[u32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Exact Jaccard similarity of two texts' bigram sets.
pub fn similarity(a: &str, b: &str) -> f64 {
    jaccard(&shingles(a), &shingles(b))
}

/// Jaccard similarity of two bigram sets (zero when either is empty).
pub fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.intersection(b).count();
    common as f64 / (a.len() + b.len() - common) as f64
}

/// Two texts at or above this similarity are near-duplicates.
pub const DUPLICATE_SIMILARITY: f64 = 0.5;

/// MinHash: bands of rows. With 20 bands of 3 rows, two texts of similarity 0.5 share a
/// band with probability 0.93, of 0.6 with 0.99, of 0.2 with 0.15.
pub const BANDS: usize = 20;
const ROWS: usize = 3;

/// The MinHash band keys of a text: texts sharing a key are candidates, confirmed by
/// [`similarity`]. Empty for a text without letters or digits.
pub fn band_keys(text: &str) -> Vec<i64> {
    let set = shingles(text);
    if set.is_empty() {
        return Vec::new();
    }
    let mut signature = [u64::MAX; BANDS * ROWS];
    for s in set {
        for (i, slot) in signature.iter_mut().enumerate() {
            let h = mix(s ^ mix(i as u64 + 1));
            if h < *slot {
                *slot = h;
            }
        }
    }
    signature
        .chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let mut h = mix(band as u64 + 0x9e37_79b9);
            for r in rows {
                h = mix(h ^ r);
            }
            // Stored as a signed 64-bit integer in both databases.
            h as i64
        })
        .collect()
}

/// A piece of a snippet: plain text, or a match to highlight.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

/// A snippet of at most `width` characters around the first match of any of `needles`
/// (case-insensitive), with every match in it marked. Without a match, the text's start.
pub fn highlight(text: &str, needles: &[String], width: usize) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars
        .iter()
        .flat_map(|c| c.to_lowercase().take(1))
        .collect();
    let needles: Vec<Vec<char>> = needles
        .iter()
        .map(|n| {
            n.chars()
                .flat_map(|c| c.to_lowercase().take(1))
                .collect::<Vec<_>>()
        })
        .filter(|n| !n.is_empty())
        .collect();
    let mut hit = vec![false; chars.len()];
    for n in &needles {
        let mut i = 0;
        while i + n.len() <= lower.len() {
            if lower[i..i + n.len()] == n[..] {
                hit[i..i + n.len()].iter_mut().for_each(|h| *h = true);
                i += n.len();
            } else {
                i += 1;
            }
        }
    }
    let first = hit.iter().position(|h| *h).unwrap_or(0);
    let start = first.saturating_sub(width / 4);
    let end = (start + width).min(chars.len());
    let start = end.saturating_sub(width).min(start);
    let mut pieces: Vec<Piece> = Vec::new();
    if start > 0 {
        pieces.push(Piece {
            text: "…".to_owned(),
            hit: false,
        });
    }
    for i in start..end {
        match pieces.last_mut() {
            Some(p) if p.hit == hit[i] && p.text != "…" => p.text.push(chars[i]),
            _ => pieces.push(Piece {
                text: chars[i].to_string(),
                hit: hit[i],
            }),
        }
    }
    if end < chars.len() {
        pieces.push(Piece {
            text: "…".to_owned(),
            hit: false,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_dictionary_keeps_words_whole() {
        let words: Vec<_> = index_words("曲溪街道某药店口罩哄抬物价，84消毒液也涨价")
            .into_iter()
            .map(|w| w.text)
            .collect();
        for w in [
            "曲溪街道",
            "口罩",
            "哄抬物价",
            "哄抬",
            "消毒液",
            "涨价",
            "药店",
        ] {
            assert!(words.contains(&w), "{w} in {words:?}");
        }
        assert!(!words.contains(&"，"));
        let text = "口罩在哪买";
        let w = &index_words(text)[0];
        assert_eq!(&text[w.start..w.end], w.text);
    }

    #[test]
    fn terms_drop_stopwords_numbers_and_repeats() {
        let t = terms("请问在哪里可以买到口罩？口罩50元一个，我们想问一下价格");
        assert!(t.contains(&"口罩".to_owned()), "{t:?}");
        assert!(t.contains(&"价格".to_owned()));
        assert_eq!(t.iter().filter(|w| *w == "口罩").count(), 1);
        for stop in ["请问", "哪里", "可以", "我们", "一下", "50"] {
            assert!(!t.contains(&stop.to_owned()), "{stop} in {t:?}");
        }
    }

    #[test]
    fn near_duplicates_share_a_band_and_strangers_do_not() {
        let a = "揭东区曲溪街道XX大药房口罩卖50元一个，明显哄抬物价，请相关部门查处";
        let b = "曲溪街道XX大药房口罩50元一个，哄抬物价，请相关部门尽快查处";
        let c = "我想咨询一下从湖北返乡人员需要居家隔离多少天";
        assert!(
            similarity(a, b) >= DUPLICATE_SIMILARITY,
            "{}",
            similarity(a, b)
        );
        assert!(similarity(a, c) < 0.1);
        let (ka, kb, kc) = (band_keys(a), band_keys(b), band_keys(c));
        assert_eq!(ka.len(), BANDS);
        assert!(
            ka.iter().any(|k| kb.contains(k)),
            "near duplicates share a band"
        );
        assert!(!ka.iter().any(|k| kc.contains(k)));
        assert_eq!(band_keys(a), ka, "keys are stable");
        assert!(band_keys("，。！").is_empty());
        assert_eq!(similarity("口罩", "口罩"), 1.0);
        assert_eq!(similarity("", "口罩"), 0.0);
    }

    #[test]
    fn snippets_mark_every_match_around_the_first() {
        let pieces = highlight("某药店口罩涨价，口罩缺货", &["口罩".to_owned()], 40);
        let hits: Vec<_> = pieces
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(hits, ["口罩", "口罩"]);
        let joined: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, "某药店口罩涨价，口罩缺货");
        let long = format!("{}口罩{}", "啊".repeat(50), "哦".repeat(50));
        let pieces = highlight(&long, &["口罩".to_owned()], 20);
        assert_eq!(pieces.first().unwrap().text, "…");
        assert_eq!(pieces.last().unwrap().text, "…");
        assert!(pieces.iter().any(|p| p.hit && p.text == "口罩"));
        let plain = highlight("ABC abc", &["b".to_owned()], 10);
        assert_eq!(plain.iter().filter(|p| p.hit).count(), 2);
    }
}
