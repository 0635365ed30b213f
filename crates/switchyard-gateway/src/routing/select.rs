//! Picking a target within a group.

use super::query::Facts;
use super::tree::{Group, Node};

/// Weighted random pick: `r` is uniform in `[0, 1)`. Targets with weight 0 are never picked.
/// `None` only if every weight is 0 (refused when the config is validated).
pub fn pick_weighted(targets: &[Node], r: f64) -> Option<usize> {
    pick_by_weight(targets.len(), |i| targets[i].weight, r).map(|(i, _)| i)
}

/// A weighted pick that avoids ejected targets (see [`pick_weighted_available`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailablePick {
    pub index: usize,
    /// The target the plain weighted pick would have chosen, when it was ejected and another
    /// was picked in its place.
    pub displaced: Option<usize>,
    /// Every target with a weight was ejected: `index` is the plain weighted pick.
    pub failed_open: bool,
}

/// Weighted random pick among the targets for which `available(i)` holds: an ejected target's
/// weight counts as 0, so the others keep their relative shares. When no target with a weight
/// is available, fails open to the plain [`pick_weighted`]. `None` only if every weight is 0.
pub fn pick_weighted_available(
    targets: &[Node],
    r: f64,
    available: impl Fn(usize) -> bool,
) -> Option<AvailablePick> {
    let (natural, rest) = pick_by_weight(targets.len(), |i| targets[i].weight, r)?;
    if available(natural) {
        return Some(AvailablePick {
            index: natural,
            displaced: None,
            failed_open: false,
        });
    }
    let weight = |i: usize| {
        if available(i) {
            targets[i].weight
        } else {
            0.0
        }
    };
    // Picking again with `rest` (not `r`, which is known to have landed on `natural`) gives
    // each available target exactly its share of the available weight.
    Some(match pick_by_weight(targets.len(), weight, rest) {
        Some((index, _)) => AvailablePick {
            index,
            displaced: Some(natural),
            failed_open: false,
        },
        None => AvailablePick {
            index: natural,
            displaced: None,
            failed_open: true,
        },
    })
}

/// The index picked by `r`, and where `r` fell within that target's share, rescaled to
/// `[0, 1)`: a fresh uniform number, independent of which target was picked.
fn pick_by_weight(n: usize, weight: impl Fn(usize) -> f64, r: f64) -> Option<(usize, f64)> {
    let total: f64 = (0..n).map(&weight).filter(|w| *w > 0.0).sum();
    if total <= 0.0 {
        return None;
    }
    // Weights so large their sum overflows keep their shares, scaled down.
    let scale = if total.is_finite() {
        1.0
    } else {
        1.0 / (0..n).map(&weight).fold(0.0_f64, f64::max)
    };
    let weight = |i: usize| weight(i) * scale;
    let total: f64 = if scale == 1.0 {
        total
    } else {
        (0..n).map(weight).filter(|w| *w > 0.0).sum()
    };
    let mut x = r * total;
    for i in 0..n {
        let w = weight(i);
        if w <= 0.0 {
            continue;
        }
        if x < w {
            return Some((i, (x / w).clamp(0.0, 1.0 - f64::EPSILON)));
        }
        x -= w;
    }
    // Float rounding at the top end: the last target with a weight.
    (0..n)
        .rev()
        .find(|i| weight(*i) > 0.0)
        .map(|i| (i, 1.0 - f64::EPSILON))
}

/// The target of the first matching condition, else the default.
pub fn pick_conditional(group: &Group, facts: &Facts<'_>) -> Option<usize> {
    group
        .conditions
        .iter()
        .find(|c| c.query.matches(facts))
        .map(|c| c.then)
        .or(group.default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::tree::{Mode, NodeKind};

    fn group_node(weights: &[f64]) -> Vec<Node> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| Node {
                path: format!("config.targets[{i}]").into(),
                name: None,
                weight: *w,
                total_timeout: None,
                kind: NodeKind::Group(Group {
                    mode: Mode::Single,
                    targets: vec![],
                    on_status_codes: None,
                    conditions: vec![],
                    default: None,
                }),
            })
            .collect()
    }

    #[test]
    fn weights_split_the_unit_interval() {
        let t = group_node(&[1.0, 3.0]);
        assert_eq!(pick_weighted(&t, 0.0), Some(0));
        assert_eq!(pick_weighted(&t, 0.24), Some(0));
        assert_eq!(pick_weighted(&t, 0.26), Some(1));
        assert_eq!(pick_weighted(&t, 0.999_999), Some(1));
    }

    #[test]
    fn zero_weight_is_never_picked() {
        let t = group_node(&[0.0, 1.0, 0.0]);
        for i in 0..1000 {
            assert_eq!(pick_weighted(&t, i as f64 / 1000.0), Some(1));
        }
        assert_eq!(pick_weighted(&group_node(&[0.0, 0.0]), 0.5), None);
    }

    #[test]
    fn weighted_pick_distribution_follows_weights() {
        let t = group_node(&[1.0, 2.0, 7.0]);
        let mut counts = [0u32; 3];
        let n = 10_000;
        for i in 0..n {
            counts[pick_weighted(&t, (i as f64 + 0.5) / n as f64).unwrap()] += 1;
        }
        assert_eq!(counts, [1000, 2000, 7000]);
    }

    #[test]
    fn an_ejected_targets_weight_counts_as_zero() {
        let t = group_node(&[1.0, 2.0, 7.0]);
        let n = 10_000;
        let mut counts = [0u32; 3];
        let mut displaced = 0;
        for i in 0..n {
            let p = pick_weighted_available(&t, (i as f64 + 0.5) / n as f64, |i| i != 2).unwrap();
            assert!(!p.failed_open);
            counts[p.index] += 1;
            if let Some(d) = p.displaced {
                assert_eq!(d, 2, "only the ejected target is ever displaced");
                displaced += 1;
            }
        }
        assert_eq!(counts, [3333, 6667, 0], "the others keep their 1:2 shares");
        assert_eq!(
            displaced, 7000,
            "the plain pick would have chosen it 70% of the time"
        );
    }

    #[test]
    fn an_available_pick_is_the_plain_pick() {
        let t = group_node(&[1.0, 3.0]);
        for i in 0..100 {
            let r = i as f64 / 100.0;
            let p = pick_weighted_available(&t, r, |_| true).unwrap();
            assert_eq!(Some(p.index), pick_weighted(&t, r));
            assert_eq!((p.displaced, p.failed_open), (None, false));
        }
    }

    #[test]
    fn all_ejected_fails_open_to_the_plain_pick() {
        let t = group_node(&[1.0, 3.0, 0.0]);
        for i in 0..100 {
            let r = i as f64 / 100.0;
            let p = pick_weighted_available(&t, r, |_| false).unwrap();
            assert!(p.failed_open);
            assert_eq!(p.displaced, None);
            assert_eq!(Some(p.index), pick_weighted(&t, r));
        }
        // Only weightless targets available: still fail open among the weighted ones.
        let p = pick_weighted_available(&t, 0.9, |i| i == 2).unwrap();
        assert!(p.failed_open);
        assert_eq!(p.index, 1);
        assert_eq!(
            pick_weighted_available(&group_node(&[0.0]), 0.5, |_| true),
            None
        );
    }
}
