//! Evaluation: the rules run over each household of a [`HouseholdView`] in memory, giving its
//! score, level, coverage and the rules that fired with a plain-language reason and the events
//! that prove it.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};

use super::rules::{Level, Piece, ReasonTemplate, RiskRule, RuleSet};
use super::view::{Event, HouseholdView};

/// A rule that fired for a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiredRule {
    /// The rule's name.
    pub rule: String,
    /// The rule's title.
    pub title: String,
    /// The sentence a caseworker reads.
    pub reason: String,
    /// Points it added.
    pub weight: u32,
    /// Indices of the events proving it (empty for combinations).
    pub evidence: Vec<u32>,
    /// Members concerned (indices into [`HouseholdView::members`]).
    pub persons: Vec<u32>,
}

/// What the rules found for one household that reached a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Index of the household in [`HouseholdView::households`].
    pub household: u32,
    /// Sum of the weights of the rules that fired.
    pub score: u32,
    /// Level of the score.
    pub level: Level,
    /// Whether a member is on the assistance roster.
    pub covered: bool,
    /// Rules that fired, in the order of the rules file.
    pub fired: Vec<FiredRule>,
}

impl Assessment {
    /// Every event index proving the assessment, without repeats.
    pub fn evidence(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self
            .fired
            .iter()
            .flat_map(|f| f.evidence.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Every member concerned, without repeats.
    pub fn persons(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self
            .fired
            .iter()
            .flat_map(|f| f.persons.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// A member's total under a sum rule: the total, the distinct (date, amount) events counted
/// and every matching event (duplicates included, as evidence).
type MemberTotal = (f64, Vec<(Option<NaiveDate>, u64)>, Vec<u32>);

/// A rule resolved against a view's indices.
struct Compiled<'a> {
    rule: &'a RiskRule,
    kind: Option<u16>,
    roles: Vec<u16>,
    window_start: Option<NaiveDate>,
    condition_fields: Vec<Option<u16>>,
    sum_field: Option<u16>,
}

/// The rules ready to run over one view at one evaluation date.
pub struct Evaluator<'a> {
    view: &'a HouseholdView,
    rules: &'a RuleSet,
    as_of: NaiveDate,
    compiled: Vec<Compiled<'a>>,
    coverage_kind: Option<u16>,
    coverage_field: Option<u16>,
}

impl<'a> Evaluator<'a> {
    /// Resolves `rules` against `view` for evaluation on `as_of`.
    pub fn new(view: &'a HouseholdView, rules: &'a RuleSet, as_of: NaiveDate) -> Evaluator<'a> {
        let compiled = rules
            .rules
            .iter()
            .map(|rule| Compiled {
                rule,
                kind: view.kind_index(&rule.event_kind),
                roles: rule
                    .households_of
                    .iter()
                    .filter_map(|r| view.role_index(r))
                    .collect(),
                window_start: rule
                    .within_months
                    .map(|m| as_of.checked_sub_months(Months::new(m)).unwrap_or(as_of)),
                condition_fields: rule
                    .conditions
                    .iter()
                    .map(|c| view.field_index(&c.field))
                    .collect(),
                sum_field: rule.sum.as_ref().and_then(|s| view.field_index(&s.field)),
            })
            .collect();
        Evaluator {
            view,
            rules,
            as_of,
            compiled,
            coverage_kind: view.kind_index(&rules.coverage.event_kind),
            coverage_field: view.field_index(&rules.coverage.field),
        }
    }

    /// Every household that reaches a level, in household order.
    pub fn evaluate_all(&self) -> Vec<Assessment> {
        (0..self.view.households.len() as u32)
            .filter_map(|h| self.evaluate(h))
            .collect()
    }

    /// Whether a member of the household is on the assistance roster.
    pub fn covered(&self, household: u32) -> bool {
        let Some(kind) = self.coverage_kind else {
            return false;
        };
        self.view.household_events[household as usize]
            .iter()
            .map(|&e| &self.view.events[e as usize])
            .any(|event| {
                event.kind == kind
                    && self
                        .view
                        .attribute(event, self.coverage_field)
                        .and_then(|v| v.as_str())
                        .is_some_and(|v| self.rules.coverage.values.iter().any(|c| c == v))
            })
    }

    /// The household's assessment, if its score reaches a level.
    pub fn evaluate(&self, household: u32) -> Option<Assessment> {
        let events = &self.view.household_events[household as usize];
        if events.is_empty() {
            return None;
        }
        let mut fired = Vec::new();
        let mut fired_rules = Vec::new();
        for (index, compiled) in self.compiled.iter().enumerate() {
            if let Some(f) = self.run_rule(compiled, household, events) {
                fired.push(f);
                fired_rules.push(index);
            }
        }
        if fired.is_empty() {
            return None;
        }
        for combination in &self.rules.combinations {
            let counted: Vec<usize> = fired_rules
                .iter()
                .copied()
                .filter(|r| combination.of.contains(r))
                .collect();
            if counted.len() >= combination.at_least {
                let titles: Vec<&str> = counted
                    .iter()
                    .map(|&r| short_title(&self.rules.rules[r].title))
                    .collect();
                let reason = render(&combination.reason, |piece| match piece {
                    Piece::Count => Some(counted.len().to_string()),
                    Piece::Rules => Some(titles.join("、")),
                    _ => None,
                });
                fired.push(FiredRule {
                    rule: combination.name.clone(),
                    title: combination.title.clone(),
                    reason,
                    weight: combination.weight,
                    evidence: Vec::new(),
                    persons: Vec::new(),
                });
            }
        }
        let score: u32 = fired.iter().map(|f| f.weight).sum();
        let level = self.rules.level_of(score)?;
        Some(Assessment {
            household,
            score,
            level,
            covered: self.covered(household),
            fired,
        })
    }

    fn matches(&self, compiled: &Compiled<'_>, household: u32, event: &Event) -> bool {
        let view = self.view;
        if Some(event.kind) != compiled.kind {
            return false;
        }
        if !event
            .links
            .iter()
            .any(|&(h, role)| h == household && compiled.roles.contains(&role))
        {
            return false;
        }
        if let Some(date) = event.date {
            if date > self.as_of {
                return false;
            }
            if let Some(start) = compiled.window_start
                && date < start
            {
                return false;
            }
        }
        for (condition, field) in compiled
            .rule
            .conditions
            .iter()
            .zip(&compiled.condition_fields)
        {
            if !condition.holds(view.attribute(event, *field)) {
                return false;
            }
        }
        if let Some((min, max)) = compiled.rule.age {
            match view.subject_age(event, event.date.unwrap_or(self.as_of)) {
                Some(age) if age >= min && age <= max => {}
                _ => return false,
            }
        }
        if !compiled.rule.member_roles.is_empty() {
            let role = event
                .subject
                .map(|p| view.members[p as usize].household_role.as_str());
            if !role.is_some_and(|r| compiled.rule.member_roles.iter().any(|m| m == r)) {
                return false;
            }
        }
        true
    }

    fn run_rule(
        &self,
        compiled: &Compiled<'_>,
        household: u32,
        events: &[u32],
    ) -> Option<FiredRule> {
        let view = self.view;
        let matching: Vec<u32> = events
            .iter()
            .copied()
            .filter(|&e| self.matches(compiled, household, &view.events[e as usize]))
            .collect();
        if matching.is_empty() {
            return None;
        }
        let subject_in_household = |e: u32| {
            view.events[e as usize]
                .subject
                .filter(|&p| view.members[p as usize].household == household)
        };
        let rule = compiled.rule;
        if let Some(sum) = &rule.sum {
            // per member (a subject not linked to a person counts alone), each distinct stay
            // once: the same member, date and amount exported twice is one stay
            let mut groups: HashMap<i64, MemberTotal> = HashMap::new();
            for &e in &matching {
                let event = &view.events[e as usize];
                let key = event.subject.map(i64::from).unwrap_or(-event.record_id);
                let amount = view
                    .attribute(event, compiled.sum_field)
                    .and_then(number)
                    .unwrap_or(0.0);
                let group = groups.entry(key).or_default();
                group.2.push(e);
                let identity = (event.date, amount.to_bits());
                if !group.1.contains(&identity) {
                    group.1.push(identity);
                    group.0 += amount;
                }
            }
            let mut reached: Vec<(f64, usize, Vec<u32>)> = groups
                .into_values()
                .filter(|(total, _, _)| *total >= sum.at_least)
                .map(|(total, stays, evidence)| (total, stays.len(), evidence))
                .collect();
            if reached.is_empty() {
                return None;
            }
            reached.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (total, stays, best_events) = &reached[0];
            let latest = latest_event(view, best_events);
            let reason = render(&rule.reason, |piece| match piece {
                Piece::Sum => Some(money(*total)),
                Piece::Threshold => Some(money(sum.at_least)),
                Piece::Count => Some(stays.to_string()),
                other => self.event_piece(other, &view.events[latest as usize]),
            });
            let mut evidence: Vec<u32> = reached.iter().flat_map(|r| r.2.clone()).collect();
            evidence.sort_unstable();
            let mut persons: Vec<u32> = evidence
                .iter()
                .filter_map(|&e| subject_in_household(e))
                .collect();
            persons.sort_unstable();
            persons.dedup();
            return Some(FiredRule {
                rule: rule.name.clone(),
                title: rule.title.clone(),
                reason,
                weight: rule.weight,
                evidence,
                persons,
            });
        }
        let latest = latest_event(view, &matching);
        let reason = render(&rule.reason, |piece| match piece {
            Piece::Count => Some(matching.len().to_string()),
            other => self.event_piece(other, &view.events[latest as usize]),
        });
        let mut persons: Vec<u32> = matching
            .iter()
            .filter_map(|&e| subject_in_household(e))
            .collect();
        persons.sort_unstable();
        persons.dedup();
        Some(FiredRule {
            rule: rule.name.clone(),
            title: rule.title.clone(),
            reason,
            weight: rule.weight,
            evidence: matching,
            persons,
        })
    }

    fn event_piece(&self, piece: &Piece, event: &Event) -> Option<String> {
        let view = self.view;
        Some(match piece {
            Piece::Name => view
                .subject_name(event)
                .unwrap_or("（未具名成员）")
                .to_string(),
            Piece::Date => event
                .date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "（日期未填）".into()),
            Piece::Age => view
                .subject_age(event, event.date.unwrap_or(self.as_of))
                .map(|a| a.to_string())
                .unwrap_or_else(|| "?".into()),
            Piece::Attribute(field) => match view.attribute(event, view.field_index(field)) {
                Some(serde_json::Value::String(code)) => self.rules.label(field, code).to_string(),
                Some(serde_json::Value::Number(n)) => {
                    n.as_f64().map(money).unwrap_or_else(|| n.to_string())
                }
                Some(other) => other.to_string(),
                None => "（未注明）".into(),
            },
            _ => return None,
        })
    }
}

/// The Chinese part of a bilingual title (`大额医疗支出 major medical costs` → `大额医疗支出`).
pub fn short_title(title: &str) -> &str {
    match title.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) if i > 0 => title[..i].trim_end(),
        _ => title,
    }
}

fn latest_event(view: &HouseholdView, events: &[u32]) -> u32 {
    events
        .iter()
        .copied()
        .max_by_key(|&e| (view.events[e as usize].date, std::cmp::Reverse(e)))
        .unwrap_or(0)
}

fn number(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Money as officers write it: `62,300` or `1,234.50`.
pub fn money(amount: f64) -> String {
    let cents = (amount * 100.0).round() as i64;
    let (sign, cents) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if cents % 100 == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{:02}", cents % 100)
    }
}

fn render(template: &ReasonTemplate, mut value: impl FnMut(&Piece) -> Option<String>) -> String {
    let mut out = String::new();
    for piece in &template.pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            other => out.push_str(&value(other).unwrap_or_default()),
        }
    }
    out
}

/// Evaluates every household of `view` on `as_of`.
pub fn evaluate(view: &HouseholdView, rules: &RuleSet, as_of: NaiveDate) -> Vec<Assessment> {
    Evaluator::new(view, rules, as_of).evaluate_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_by_thousands() {
        assert_eq!(money(62_300.0), "62,300");
        assert_eq!(money(1_234.5), "1,234.50");
        assert_eq!(money(999.0), "999");
        assert_eq!(money(1_000_000.0), "1,000,000");
    }

    #[test]
    fn short_titles_keep_the_chinese_part() {
        assert_eq!(
            short_title("大额医疗支出 major medical costs"),
            "大额医疗支出"
        );
        assert_eq!(short_title("危房 dangerous housing (C/D)"), "危房");
        assert_eq!(short_title("only english"), "only english");
    }
}
