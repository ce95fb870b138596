//! Bar charts drawn as inline SVG by the templates: the coordinates are computed here, so
//! pages need no script, print on paper, and each chart sits beside a table of the same
//! figures (for screen readers and for copying).

/// Height of the drawing area and width of one bar, in SVG units.
pub const HEIGHT: u32 = 120;
pub const BAR: u32 = 14;

/// One bar.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    /// Drawn in the alarm colour.
    pub alarm: bool,
    /// The tooltip (`<title>`): what the bar stands for and its value.
    pub label: String,
}

pub struct Chart {
    pub bars: Vec<Bar>,
    /// The largest value (at least 1), the top of the scale.
    pub max: u32,
    pub width: u32,
}

/// A chart of `(label, value, alarm)` points, left to right.
pub fn bars(points: &[(String, u32, bool)]) -> Chart {
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let bars = (0u32..)
        .zip(points)
        .map(|(i, (label, value, alarm))| {
            let height = value * HEIGHT / max;
            Bar {
                x: i * (BAR + 2),
                y: HEIGHT - height,
                height,
                alarm: *alarm,
                label: format!("{label} · {value}"),
            }
        })
        .collect::<Vec<_>>();
    let width = u32::try_from(bars.len()).unwrap_or(0) * (BAR + 2);
    Chart { bars, max, width }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let c = bars(&[
            ("a".into(), 10, false),
            ("b".into(), 5, true),
            ("c".into(), 0, false),
        ]);
        assert_eq!(c.max, 10);
        assert_eq!(c.width, 3 * (BAR + 2));
        assert_eq!((c.bars[0].height, c.bars[0].y), (HEIGHT, 0));
        assert_eq!(
            (c.bars[1].height, c.bars[1].y, c.bars[1].x),
            (HEIGHT / 2, HEIGHT / 2, BAR + 2)
        );
        assert!(c.bars[1].alarm);
        assert_eq!(c.bars[2].height, 0);
        assert_eq!(c.bars[1].label, "b · 5");
        assert_eq!(bars(&[]).max, 1);
    }
}
