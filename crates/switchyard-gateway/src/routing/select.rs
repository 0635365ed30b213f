//! Picking a target within a group.

use super::query::Facts;
use super::tree::{Group, Node};

/// Weighted random pick: `r` is uniform in `[0, 1)`. Targets with weight 0 are never picked.
/// `None` only if every weight is 0 (refused when the config is validated).
pub fn pick_weighted(targets: &[Node], r: f64) -> Option<usize> {
    let total: f64 = targets.iter().map(|t| t.weight).sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = r * total;
    for (i, t) in targets.iter().enumerate() {
        if t.weight > 0.0 && x < t.weight {
            return Some(i);
        }
        x -= t.weight;
    }
    // Float rounding at the top end: the last target with a weight.
    targets.iter().rposition(|t| t.weight > 0.0)
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
}
