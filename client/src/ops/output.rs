//! Human output: aligned plain-text tables, truncation, sparklines.

/// Cuts `text` to at most `max` characters (adding `…`), on one line.
pub fn truncate(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Which side a column is aligned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Renders a table: a header row, then rows, columns separated by two spaces, no trailing
/// spaces.
pub fn table(headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|(h, _)| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, ((cell, width), (_, align))) in cells.iter().zip(&widths).zip(headers).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = width.saturating_sub(cell.chars().count());
            match align {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
        }
        line.trim_end().to_string()
    };
    let mut out = render(headers.iter().map(|(h, _)| *h).collect());
    for row in rows {
        out.push('\n');
        out.push_str(&render(row.iter().map(String::as_str).collect()));
    }
    out
}

/// A one-line bar chart of `values` (`▁▂▃▄▅▆▇█`), scaled to the largest.
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| BARS[(v * 7 + max / 2).checked_div(max).unwrap_or(0).min(7) as usize])
        .collect()
}

/// Prints a JSON value, pretty, on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let rendered = table(
            &[("ID", Align::Right), ("LABEL", Align::Left)],
            &[vec!["7".into(), "card declined".into()], vec!["12".into(), "pin".into()]],
        );
        assert_eq!(rendered, "ID  LABEL\n 7  card declined\n12  pin");
    }

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("héllo   wörld", 20), "héllo wörld");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn sparklines_scale_to_the_maximum() {
        assert_eq!(sparkline(&[0, 4, 8]), "▁▅█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }
}
