//! Semantic sharing: which semantic tokens go once to several users (public stream) and
//! which to one user only (private streams).
//!
//! 1. Users with identical content (the same image file bytes or the same sentence) form
//!    one *content*; its tokens are needed by all of them.
//! 2. Across different contents of one modality, token position `i` is shared by a
//!    cluster of contents when their tokens there have cosine similarity at least
//!    `similarity_threshold` with the cluster's first member (greedy clustering in user
//!    order). The public token is the mean of the cluster's tokens. Positions whose
//!    clusters have the same set of contents go together in one partial public message,
//!    kept only when it saves airtime: `(k - 1) * positions * symbols_per_token` for `k`
//!    contents must exceed the cost of its partial sharing map plus, for each of its
//!    contents with several users, the larger map the rest of that content then needs,
//!    plus the fixed overhead of the extra frame a partial message adds (preamble,
//!    SIGNAL and header; a message that covers whole contents removes their frames
//!    instead) ([`SharingCosts`]).
//! 3. What is left of each content goes to its users: to all of them in one public
//!    message when several users have it, else in the user's private message.
//!
//! A public message serves every user named in its members; a private message one user.
//! Contents of different lengths (sentences) share only the positions both have.

/// One user's content as tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct UserTokens {
    /// Identity of the content (same key: identical content, shared whole).
    pub key: String,
    pub modality: super::sharing_map::Modality,
    /// (n_tokens, d_model) rows.
    pub tokens: Vec<Vec<f32>>,
}

/// What a message carries.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMessage {
    /// Users it serves, ascending; one user for a private message.
    pub members: Vec<usize>,
    pub public: bool,
    pub modality: super::sharing_map::Modality,
    /// Tokens in each member's whole content.
    pub n_positions: usize,
    /// Positions carried, ascending; all of `0..n_positions` for a whole content.
    pub positions: Vec<usize>,
    /// The tokens at those positions, (positions.len(), d_model).
    pub tokens: Vec<Vec<f32>>,
}

impl PlannedMessage {
    /// Whether it carries every position of its content.
    pub fn is_whole(&self) -> bool {
        self.positions.len() == self.n_positions
    }
}

/// The sharing decision for a set of users.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SharingPlan {
    pub messages: Vec<PlannedMessage>,
}

impl SharingPlan {
    /// Messages user `u` must receive.
    pub fn messages_for(&self, user: usize) -> impl Iterator<Item = &PlannedMessage> {
        self.messages
            .iter()
            .filter(move |m| m.members.contains(&user))
    }
}

/// What sharing costs, in channel symbols, for deciding whether it pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharingCosts {
    pub symbols_per_token: usize,
    /// Map of a partial public message.
    pub partial_map_symbols: usize,
    /// Map of a whole-content public message.
    pub whole_map_symbols: usize,
    /// Airtime of a frame's preamble, SIGNAL and header, in channel symbols (48 per
    /// OFDM symbol).
    pub frame_overhead_symbols: usize,
}

/// Preamble (4 OFDM-symbol durations), SIGNAL and the 4 header symbols of a semantic
/// frame: 9 OFDM symbols, i.e. the airtime of 432 channel symbols.
pub const FRAME_OVERHEAD_SYMBOLS: usize = (crate::phy::tx::PREAMBLE_LEN
    / crate::phy::subcarriers::SYMBOL_LEN
    + 1
    + crate::phy::semantic_header::HEADER_OFDM_SYMBOLS)
    * crate::phy::subcarriers::N_DATA;

impl SharingCosts {
    /// The costs of this system's maps with `symbols_per_token` symbols per token.
    pub fn with_maps(symbols_per_token: usize) -> Self {
        Self {
            symbols_per_token,
            partial_map_symbols: super::sharing_map::PARTIAL_MAP_SYMBOLS,
            whole_map_symbols: super::sharing_map::WHOLE_MAP_SYMBOLS,
            frame_overhead_symbols: FRAME_OVERHEAD_SYMBOLS,
        }
    }
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        ab += f64::from(x) * f64::from(y);
        aa += f64::from(x) * f64::from(x);
        bb += f64::from(y) * f64::from(y);
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        (ab / (aa.sqrt() * bb.sqrt())) as f32
    }
}

/// Plans public and private messages for `users` (see the module docs). A threshold
/// above 1 turns partial sharing off (identical contents are still sent once).
pub fn plan_sharing(
    users: &[UserTokens],
    similarity_threshold: f32,
    costs: SharingCosts,
) -> SharingPlan {
    // 1. Contents: users with the same key, in order of first appearance.
    let mut contents: Vec<(usize, Vec<usize>)> = Vec::new(); // (representative user, members)
    for (u, t) in users.iter().enumerate() {
        match contents.iter_mut().find(|(r, _)| users[*r].key == t.key) {
            Some((_, members)) => members.push(u),
            None => contents.push((u, vec![u])),
        }
    }
    // 2. Per position, clusters of contents with similar tokens.
    // shared[c][i]: index into `groups` of the cluster content c belongs to at position i.
    let mut shared: Vec<Vec<Option<usize>>> = contents
        .iter()
        .map(|(r, _)| vec![None; users[*r].tokens.len()])
        .collect();
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new(); // (contents, positions)
    let max_len = shared.iter().map(Vec::len).max().unwrap_or(0);
    // Positions index several tables (tokens, shared) of several contents.
    #[allow(clippy::needless_range_loop)]
    for i in 0..max_len {
        let mut taken = vec![false; contents.len()];
        for a in 0..contents.len() {
            let ta = &users[contents[a].0];
            if taken[a] || i >= ta.tokens.len() {
                continue;
            }
            let mut cluster = vec![a];
            for b in a + 1..contents.len() {
                let tb = &users[contents[b].0];
                if !taken[b]
                    && tb.modality == ta.modality
                    && i < tb.tokens.len()
                    && cosine(&ta.tokens[i], &tb.tokens[i]) >= similarity_threshold
                {
                    cluster.push(b);
                    taken[b] = true;
                }
            }
            if cluster.len() < 2 {
                continue;
            }
            let g = match groups.iter().position(|(c, _)| *c == cluster) {
                Some(g) => g,
                None => {
                    groups.push((cluster.clone(), Vec::new()));
                    groups.len() - 1
                }
            };
            groups[g].1.push(i);
            for &c in &cluster {
                shared[c][i] = Some(g);
            }
        }
    }
    // Keep only the groups that pay for their maps.
    let mut kept = Vec::new();
    for (g, (cluster, positions)) in groups.iter().enumerate() {
        let saved = (cluster.len() - 1) * positions.len() * costs.symbols_per_token;
        let extra_maps = cluster.iter().filter(|&&c| contents[c].1.len() > 1).count()
            * costs
                .partial_map_symbols
                .saturating_sub(costs.whole_map_symbols);
        // A content whose every position is in this group loses its own message.
        let covered = cluster
            .iter()
            .filter(|&&c| users[contents[c].0].tokens.len() == positions.len())
            .count();
        let frames = costs.frame_overhead_symbols as i64 * (1 - covered as i64);
        if saved as i64 > (costs.partial_map_symbols + extra_maps) as i64 + frames {
            kept.push(g);
        } else {
            for &c in cluster {
                for &i in positions {
                    shared[c][i] = None;
                }
            }
        }
    }
    let mut messages = Vec::new();
    for (cluster, positions) in kept.iter().map(|&g| &groups[g]) {
        let mut members: Vec<usize> = cluster
            .iter()
            .flat_map(|&c| contents[c].1.iter().copied())
            .collect();
        members.sort_unstable();
        let first = &users[contents[cluster[0]].0];
        let tokens = positions
            .iter()
            .map(|&i| mean(cluster.iter().map(|&c| &users[contents[c].0].tokens[i])))
            .collect();
        // Every member must know its own content's length from the map; a cluster may
        // join contents of different lengths (sentences), so each member group gets the
        // map of its content: split by length.
        let mut lengths: Vec<usize> = cluster
            .iter()
            .map(|&c| users[contents[c].0].tokens.len())
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        if lengths.len() == 1 {
            messages.push(PlannedMessage {
                members,
                public: true,
                modality: first.modality,
                n_positions: lengths[0],
                positions: positions.clone(),
                tokens,
            });
        } else {
            for len in lengths {
                let mut members: Vec<usize> = cluster
                    .iter()
                    .filter(|&&c| users[contents[c].0].tokens.len() == len)
                    .flat_map(|&c| contents[c].1.iter().copied())
                    .collect();
                members.sort_unstable();
                messages.push(PlannedMessage {
                    public: true,
                    members,
                    modality: first.modality,
                    n_positions: len,
                    positions: positions.clone(),
                    tokens: tokens.clone(),
                });
            }
        }
    }
    // 3. The rest of each content.
    for (c, (r, members)) in contents.iter().enumerate() {
        let t = &users[*r];
        let positions: Vec<usize> = (0..t.tokens.len())
            .filter(|&i| shared[c][i].is_none())
            .collect();
        if positions.is_empty() {
            continue;
        }
        messages.push(PlannedMessage {
            members: members.clone(),
            public: members.len() > 1,
            modality: t.modality,
            n_positions: t.tokens.len(),
            tokens: positions.iter().map(|&i| t.tokens[i].clone()).collect(),
            positions,
        });
    }
    SharingPlan { messages }
}

fn mean<'a>(rows: impl Iterator<Item = &'a Vec<f32>>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    let mut n = 0usize;
    for r in rows {
        if sum.is_empty() {
            sum = vec![0.0; r.len()];
        }
        for (s, x) in sum.iter_mut().zip(r) {
            *s += x;
        }
        n += 1;
    }
    sum.iter().map(|s| s / n.max(1) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::super::sharing_map::Modality;
    use super::*;

    /// Maps that cost nothing: every similar position is shared.
    const FREE: SharingCosts = SharingCosts {
        symbols_per_token: 16,
        partial_map_symbols: 0,
        whole_map_symbols: 0,
        frame_overhead_symbols: 0,
    };

    fn user(key: &str, tokens: Vec<Vec<f32>>) -> UserTokens {
        UserTokens {
            key: key.into(),
            modality: Modality::Image,
            tokens,
        }
    }

    /// Four tokens on orthogonal axes, scaled by `s`.
    fn basis(s: f32) -> Vec<Vec<f32>> {
        (0..4)
            .map(|i| (0..4).map(|j| if i == j { s } else { 0.0 }).collect())
            .collect()
    }

    /// Every user can rebuild its content exactly from the messages it receives.
    fn assert_covers(plan: &SharingPlan, users: &[UserTokens]) {
        for (u, t) in users.iter().enumerate() {
            let mut seen = vec![0; t.tokens.len()];
            for m in plan.messages_for(u) {
                assert_eq!(m.n_positions, t.tokens.len(), "user {u}: content length");
                for &i in &m.positions {
                    seen[i] += 1;
                }
            }
            assert!(
                seen.iter().all(|&s| s == 1),
                "user {u} must get every position exactly once: {seen:?}"
            );
        }
    }

    #[test]
    fn identical_contents_go_once_as_one_public_message() {
        let users = vec![
            user("a", basis(1.0)),
            user("a", basis(1.0)),
            user("a", basis(1.0)),
        ];
        let plan = plan_sharing(&users, 2.0, FREE);
        assert_eq!(plan.messages.len(), 1, "{plan:?}");
        let m = &plan.messages[0];
        assert!(m.public && m.is_whole());
        assert_eq!(m.members, vec![0, 1, 2]);
        assert_covers(&plan, &users);
    }

    #[test]
    fn different_contents_go_privately_when_nothing_is_similar() {
        let mut other = basis(1.0);
        other.reverse(); // same vectors at other positions: orthogonal position by position
        let users = vec![user("a", basis(1.0)), user("b", other)];
        let plan = plan_sharing(&users, 0.9, FREE);
        assert_eq!(plan.messages.len(), 2);
        assert!(plan.messages.iter().all(|m| !m.public && m.is_whole()));
        assert_covers(&plan, &users);
    }

    #[test]
    fn similar_positions_are_shared_and_the_rest_stays_private() {
        // b equals a scaled (cosine 1) at positions 0 and 1, orthogonal at 2 and 3.
        let a = basis(1.0);
        let mut b = basis(2.0);
        b[2] = vec![0.0, 0.0, 0.0, 1.0];
        b[3] = vec![0.0, 0.0, 1.0, 0.0];
        let users = vec![user("a", a.clone()), user("b", b.clone()), user("a", a)];
        let plan = plan_sharing(&users, 0.95, FREE);
        assert_covers(&plan, &users);
        let public: Vec<_> = plan.messages.iter().filter(|m| m.public).collect();
        let shared = public
            .iter()
            .find(|m| m.members == vec![0, 1, 2])
            .expect("positions 0 and 1 shared by all three users");
        assert_eq!(shared.positions, vec![0, 1]);
        assert_eq!(
            shared.tokens[0],
            vec![1.5, 0.0, 0.0, 0.0],
            "mean of the cluster"
        );
        let rest_a = public.iter().find(|m| m.members == vec![0, 2]).unwrap();
        assert_eq!(
            rest_a.positions,
            vec![2, 3],
            "the rest of the shared content"
        );
        let private: Vec<_> = plan.messages.iter().filter(|m| !m.public).collect();
        assert_eq!(private.len(), 1);
        assert_eq!(
            (private[0].members.clone(), private[0].positions.clone()),
            (vec![1], vec![2, 3])
        );
        // A threshold above 1 turns partial sharing off.
        let plan = plan_sharing(&users, 1.01, FREE);
        assert_eq!(plan.messages.len(), 2);
        assert_covers(&plan, &users);
    }

    #[test]
    fn contents_of_different_lengths_share_only_common_positions() {
        let mut t = user("long", basis(1.0));
        t.modality = Modality::Text;
        let mut s = user("short", basis(1.0)[..2].to_vec());
        s.modality = Modality::Text;
        let img = user("img", basis(1.0));
        let users = vec![t, s, img];
        let plan = plan_sharing(&users, 0.95, FREE);
        assert_covers(&plan, &users);
        assert!(
            plan.messages_for(2).all(|m| m.members == vec![2]),
            "an image never shares with text: {plan:?}"
        );
    }

    #[test]
    fn sharing_that_costs_more_than_it_saves_is_not_done() {
        // Two contents sharing 2 positions save 2 x 16 symbols, less than a 102-symbol
        // map; sharing 8 of 8 positions saves 128, more.
        let a: Vec<Vec<f32>> = (0..8).map(|i| vec![1.0, i as f32]).collect();
        let mut b = a.clone();
        for row in &mut b[2..] {
            row[0] = -row[0];
            row[1] = -row[1] - 1.0;
        }
        let users = vec![user("a", a.clone()), user("b", b)];
        let costs = SharingCosts::with_maps(16);
        let plan = plan_sharing(&users, 0.99, costs);
        assert!(plan.messages.iter().all(|m| !m.public), "{plan:?}");
        let users = vec![
            user("a", a.clone()),
            user(
                "c",
                a.iter().map(|r| vec![r[0] * 2.0, r[1] * 2.0]).collect(),
            ),
        ];
        let plan = plan_sharing(&users, 0.99, costs);
        assert_eq!(plan.messages.len(), 1, "{plan:?}");
        assert!(plan.messages[0].public && plan.messages[0].positions.len() == 8);
    }

    #[test]
    fn a_partial_message_must_also_pay_for_its_frame() {
        // Two 16-token contents alike at 12 positions: sharing saves 12 x 16 = 192
        // symbols, more than the partial map (102) but less than the map plus the extra
        // frame's preamble, SIGNAL and header (432): airtime would grow.
        let a: Vec<Vec<f32>> = (0..16).map(|i| vec![1.0, i as f32]).collect();
        let mut b = a.clone();
        for row in &mut b[12..] {
            row[0] = -row[0];
            row[1] = -row[1] - 1.0;
        }
        let users = vec![user("a", a), user("b", b)];
        assert_eq!(FRAME_OVERHEAD_SYMBOLS, 432);
        let symbols_only = SharingCosts {
            frame_overhead_symbols: 0,
            ..SharingCosts::with_maps(16)
        };
        let plan = plan_sharing(&users, 0.99, symbols_only);
        assert!(plan.messages.iter().any(|m| m.public), "{plan:?}");
        let plan = plan_sharing(&users, 0.99, SharingCosts::with_maps(16));
        assert!(plan.messages.iter().all(|m| !m.public), "{plan:?}");
        assert_covers(&plan, &users);
    }

    #[test]
    fn cosine_is_scale_free_and_zero_safe() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }
}
