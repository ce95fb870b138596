//! Hot issues: terms and near-duplicate clusters whose daily count bursts against their own
//! baseline of the 7 to 14 days before (the C1 method of EARS, REFERENCES.md, with a floor
//! on the standard deviation for sparse counts).

use std::collections::HashMap;

/// The longest baseline, in days before the day looked at.
pub const BASELINE_DAYS: usize = 14;
/// Fewer days of history than this: a term counts as new (its baseline is zero).
pub const MIN_BASELINE_DAYS: usize = 7;
/// The floor of the baseline's standard deviation (a flat baseline gives zero).
pub const SD_FLOOR: f64 = 1.0;
/// A burst scores above this many standard deviations.
pub const THRESHOLD: f64 = 3.0;

/// How a count stands against its baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    pub today: u32,
    pub mean: f64,
    pub sd: f64,
    /// (today − mean) / max(sd, floor).
    pub score: f64,
}

/// Whether `today` bursts against `baseline` (oldest first, at most [`BASELINE_DAYS`]
/// used, the most recent ones): at least `min_count` today and a score above
/// [`THRESHOLD`].
pub fn burst(today: u32, baseline: &[u32], min_count: u32) -> Option<Burst> {
    if today < min_count {
        return None;
    }
    let b = &baseline[baseline.len().saturating_sub(BASELINE_DAYS)..];
    let n = b.len() as f64;
    let (mean, sd) = if b.is_empty() {
        (0.0, 0.0)
    } else {
        let mean = b.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = if b.len() > 1 {
            b.iter()
                .map(|&x| (f64::from(x) - mean).powi(2))
                .sum::<f64>()
                / (n - 1.0)
        } else {
            0.0
        };
        (mean, var.sqrt())
    };
    let score = (f64::from(today) - mean) / sd.max(SD_FLOOR);
    (score > THRESHOLD).then_some(Burst {
        today,
        mean,
        sd,
        score,
    })
}

/// Whether two texts' MinHash band keys (as [`crate::hotline::text::band_keys`] makes them)
/// share a band: the near-duplicate test of candidates, day counts and baselines alike.
pub fn share_band(a: &[i64], b: &[i64]) -> bool {
    a.iter().zip(b).any(|(x, y)| x == y)
}

/// Groups items that share a MinHash band key (union-find); clusters of at least
/// `min_size`, largest first, each listed by item index in input order.
pub fn clusters(keys: &[Vec<i64>], min_size: usize) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first: HashMap<(usize, i64), usize> = HashMap::new();
    for (i, ks) in keys.iter().enumerate() {
        for (band, &k) in ks.iter().enumerate() {
            match first.get(&(band, k)) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
                None => {
                    first.insert((band, k), i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..keys.len() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups
        .into_values()
        .filter(|g| g.len() >= min_size)
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hotline::text::band_keys;

    #[test]
    fn a_burst_stands_out_of_its_own_baseline() {
        let quiet = [2, 3, 2, 1, 2, 3, 2, 2, 1, 2];
        let b = burst(30, &quiet, 3).unwrap();
        assert!(b.score > 20.0, "{b:?}");
        assert!((b.mean - 2.0).abs() < 1e-9);
        assert!(burst(4, &quiet, 3).is_none(), "within the noise");
        // A term always frequent is not hot, however large.
        let busy = [100, 120, 90, 110, 105, 95, 100];
        assert!(burst(115, &busy, 3).is_none());
        // A flat zero baseline uses the floor: 4 today scores 4.
        assert_eq!(burst(4, &[0; 7], 3).unwrap().score, 4.0);
        assert!(burst(2, &[0; 7], 3).is_none(), "below the minimum count");
        // Only the 14 most recent days count.
        let mut long = vec![1000; 10];
        long.extend([1; 14]);
        assert!(burst(10, &long, 3).is_some());
    }

    #[test]
    fn near_duplicates_cluster_and_strangers_stay_apart() {
        let texts = [
            "曲溪街道XX大药房口罩卖50元一个，明显哄抬物价",
            "我想咨询从湖北返乡需要居家隔离多少天",
            "曲溪街道XX大药房口罩50元一个，哄抬物价",
            "XX大药房口罩卖50元一个哄抬物价，曲溪街道",
            "独居老人生活物资不够，请求帮助配送",
        ];
        let keys: Vec<_> = texts.iter().map(|t| band_keys(t)).collect();
        let c = clusters(&keys, 2);
        assert_eq!(c, vec![vec![0, 2, 3]]);
        assert!(share_band(&keys[0], &keys[2]));
        assert!(!share_band(&keys[0], &keys[1]));
        assert_eq!(clusters(&keys, 1).len(), 3);
        assert!(clusters(&[], 1).is_empty());
    }
}
