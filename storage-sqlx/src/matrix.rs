//! The matrix page (B2) in SQL: every filter is a bound parameter (never spliced), the
//! segment's rule is translated to a `WHERE` clause, and pages follow a keyset on the
//! sort column and the participant id, served by the `participants_by_*` indexes.

use punchlist::store::ParticipantState;
use punchlist::{Error, EventId, MatrixQuery, MatrixSort, Result, Rule};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::error::map_error;
use crate::participants::load_states;

/// Appends `rule` as a boolean SQL expression over the alias `p`; never NULL (a missing
/// value makes a leaf false, as in `Rule::matches`, so `NOT` stays exact).
fn push_rule(
    qb: &mut QueryBuilder<'_, Postgres>,
    rule: &Rule,
    default_language: &str,
    languages: &[String],
) -> Result<()> {
    let leaf = !matches!(rule, Rule::All { .. } | Rule::Any { .. } | Rule::Not { .. });
    if leaf {
        qb.push("COALESCE((");
    }
    push_rule_inner(qb, rule, default_language, languages)?;
    if leaf {
        qb.push("), FALSE)");
    }
    Ok(())
}

fn push_rule_inner(
    qb: &mut QueryBuilder<'_, Postgres>,
    rule: &Rule,
    default_language: &str,
    languages: &[String],
) -> Result<()> {
    let text = |v: &dyn erased::Json| -> Result<String> { v.as_text() };
    match rule {
        Rule::Everyone => {
            qb.push("TRUE");
        }
        Rule::All { rules } | Rule::Any { rules } => {
            let all = matches!(rule, Rule::All { .. });
            if rules.is_empty() {
                qb.push(if all { "TRUE" } else { "FALSE" });
                return Ok(());
            }
            qb.push("(");
            for (i, r) in rules.iter().enumerate() {
                if i > 0 {
                    qb.push(if all { " AND " } else { " OR " });
                }
                push_rule(qb, r, default_language, languages)?;
            }
            qb.push(")");
        }
        Rule::Not { rule } => {
            qb.push("NOT (");
            push_rule(qb, rule, default_language, languages)?;
            qb.push(")");
        }
        Rule::Category { category } => {
            qb.push_bind(category.clone()).push(" = ANY(p.categories)");
        }
        Rule::Registration { status } => {
            qb.push("p.record->'status'->>'registration' = ")
                .push_bind(text(status)?);
        }
        Rule::Participation { mode } => {
            qb.push("p.record->'status'->>'participation' = ")
                .push_bind(text(mode)?);
        }
        Rule::Attendance { attendance } => {
            qb.push("p.record->'status'->>'attendance' = ")
                .push_bind(text(attendance)?);
        }
        Rule::Networking { networking } => {
            qb.push("p.record->'status'->>'networking' = ")
                .push_bind(text(networking)?);
        }
        Rule::Language { language } => {
            // The participant's language if the event has it, else the event's default.
            qb.push("COALESCE(CASE WHEN p.record->'status'->>'language' = ANY(")
                .push_bind(languages.to_vec())
                .push(") THEN p.record->'status'->>'language' END, ")
                .push_bind(default_language.to_owned())
                .push(") = ")
                .push_bind(language.to_string());
        }
        Rule::CustomField { field, value: None } => {
            qb.push("btrim(COALESCE(p.record->'custom_fields'->>")
                .push_bind(field.clone())
                .push(", ''), E' \\t\\n\\r') <> ''");
        }
        Rule::CustomField {
            field,
            value: Some(v),
        } => {
            qb.push("p.record->'custom_fields'->>")
                .push_bind(field.clone())
                .push(" = ")
                .push_bind(v.clone());
        }
        Rule::Utm { field, value } => {
            qb.push("p.record->'utm'->>")
                .push_bind(text(field)?)
                .push(" = ")
                .push_bind(value.clone());
        }
        Rule::Members { members } => {
            let ids: Vec<Uuid> = members.iter().map(|m| m.as_uuid()).collect();
            qb.push("p.participant_id = ANY(").push_bind(ids).push(")");
        }
    }
    Ok(())
}

mod erased {
    use punchlist::{Error, Result};

    /// A value serialized as a JSON string (the enums' snake_case names).
    pub(super) trait Json {
        fn as_text(&self) -> Result<String>;
    }

    impl<T: serde::Serialize> Json for T {
        fn as_text(&self) -> Result<String> {
            match serde_json::to_value(self).map_err(Error::backend)? {
                serde_json::Value::String(s) => Ok(s),
                other => Err(Error::backend(format!("not a string: {other}"))),
            }
        }
    }
}

/// Escapes `%`, `_` and `!` for a `LIKE … ESCAPE '!'` pattern (`!` rather than a
/// backslash, which depends on `standard_conforming_strings`).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

/// Up to this many rows in the filtered status, a page is picked among them; above, it
/// walks the sort order (matches are then frequent enough to fill a page quickly).
const FEW: usize = 2_000;

/// How a page with a status filter finds its rows. Chosen from the number of rows in the
/// status (an index-only count, capped), not from the planner's statistics: right after a
/// large import, stale statistics made PostgreSQL sort every match of a common status to
/// return 50 (170 ms at 100,000 participants).
enum Strategy {
    /// No status filter.
    Plain,
    /// Among these participants (all of the status's rows).
    Among(Vec<Uuid>),
    /// Walking the sort order, checking each participant's row.
    Walk,
}

/// Makes the transaction's next query walk the sort index rather than sort: with
/// statistics that lag behind an import, PostgreSQL believes the event small, checks
/// every participant and sorts them (137 ms at 26,000), where walking the index stops after
/// a page of matches.
async fn walk_the_index(tx: &mut sqlx::Transaction<'_, Postgres>) -> Result<()> {
    sqlx::query("SET LOCAL enable_sort = off")
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    Ok(())
}

async fn strategy(pool: &PgPool, event: EventId, query: &MatrixQuery) -> Result<Strategy> {
    let Some((task, statuses)) = &query.progress else {
        return Ok(Strategy::Plain);
    };
    let statuses = status_texts(statuses)?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT participant_id FROM progress \
         WHERE event_id = $1 AND task_id = $2 AND targeted AND status = ANY($3) LIMIT $4",
    )
    .bind(event.as_uuid())
    .bind(task.as_uuid())
    .bind(&statuses)
    .bind(FEW as i64 + 1)
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    Ok(if ids.len() <= FEW {
        Strategy::Among(ids)
    } else {
        Strategy::Walk
    })
}

fn status_texts(statuses: &[punchlist::ProgressStatus]) -> Result<Vec<String>> {
    statuses
        .iter()
        .map(|s| {
            use erased::Json;
            s.as_text()
        })
        .collect()
}

/// One page of the matrix.
pub(crate) async fn page(
    pool: &PgPool,
    event: EventId,
    query: &MatrixQuery,
) -> Result<Vec<ParticipantState>> {
    let strategy = strategy(pool, event, query).await?;
    if matches!(&strategy, Strategy::Among(ids) if ids.is_empty()) {
        return Ok(Vec::new());
    }
    let walk = matches!(strategy, Strategy::Walk);
    let Some(mut qb) = build(pool, event, query, "", strategy).await? else {
        return Ok(Vec::new());
    };
    let mut tx = pool.begin().await.map_err(map_error)?;
    if walk {
        walk_the_index(&mut tx).await?;
    }
    let ids: Vec<Uuid> = qb
        .build_query_scalar()
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    let mut states = load_states(pool, event, &ids).await?;
    let order: std::collections::HashMap<Uuid, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    states.sort_by_key(|s| order.get(&s.participant.id.as_uuid()).copied());
    Ok(states)
}

/// The plan PostgreSQL chooses for a matrix page, as `EXPLAIN` prints it; with `generic`,
/// the generic plan a prepared statement may switch to (`plan_cache_mode`). For tests.
#[cfg(feature = "testkit")]
pub(crate) async fn explain(
    pool: &PgPool,
    event: EventId,
    query: &MatrixQuery,
    generic: bool,
) -> Result<String> {
    let strategy = strategy(pool, event, query).await?;
    let walk = matches!(strategy, Strategy::Walk);
    let Some(mut qb) = build(pool, event, query, "EXPLAIN ", strategy).await? else {
        return Ok(String::new());
    };
    let mut tx = pool.begin().await.map_err(map_error)?;
    let mode = if generic {
        "force_generic_plan"
    } else {
        "auto"
    };
    sqlx::query(&format!("SET LOCAL plan_cache_mode = {mode}"))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    if walk {
        walk_the_index(&mut tx).await?;
    }
    let lines: Vec<String> = qb
        .build_query_scalar()
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
    tx.rollback().await.map_err(map_error)?;
    Ok(lines.join("\n"))
}

/// The matrix query, prefixed with `prefix` (`""` or `"EXPLAIN "`); `None` when the event
/// does not exist.
async fn build(
    pool: &PgPool,
    event: EventId,
    query: &MatrixQuery,
    prefix: &str,
    strategy: Strategy,
) -> Result<Option<QueryBuilder<'static, Postgres>>> {
    let settings: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT body->'settings' FROM events WHERE event_id = $1")
            .bind(event.as_uuid())
            .fetch_optional(pool)
            .await
            .map_err(map_error)?;
    let Some(settings) = settings else {
        return Ok(None);
    };
    let settings: punchlist::EventSettings =
        serde_json::from_value(settings).map_err(Error::backend)?;
    let column = match query.sort {
        MatrixSort::Name => Some("p.sort_name"),
        MatrixSort::Company => Some("p.sort_company"),
        MatrixSort::Email => Some("p.sort_email"),
        MatrixSort::Registration => None,
    };
    let mut qb: QueryBuilder<'static, Postgres> = QueryBuilder::new(format!(
        "{prefix}SELECT p.participant_id FROM participants p "
    ));
    qb.push("WHERE p.event_id = ").push_bind(event.as_uuid());
    match (strategy, &query.progress) {
        (Strategy::Among(ids), _) => {
            qb.push(" AND p.participant_id IN (SELECT unnest(")
                .push_bind(ids)
                .push("::uuid[]))");
        }
        (Strategy::Walk, Some((task, statuses))) => {
            // A scalar subquery is not flattened into a join: PostgreSQL walks the sort
            // index and checks each participant's row, stopping once the page is full.
            qb.push(
                " AND (SELECT g.status FROM progress g WHERE g.event_id = p.event_id \
                 AND g.participant_id = p.participant_id AND g.targeted AND g.task_id = ",
            )
            .push_bind(task.as_uuid())
            .push(") = ANY(")
            .push_bind(status_texts(statuses)?)
            .push(")");
        }
        _ => {}
    }
    if let Some(c) = &query.category {
        qb.push(" AND ")
            .push_bind(c.clone())
            .push(" = ANY(p.categories)");
    }
    if let Some(s) = &query.search {
        qb.push(" AND p.search LIKE ")
            .push_bind(format!("%{}%", like_escape(s)))
            .push(" ESCAPE '!'");
    }
    if let Some(rule) = &query.rule {
        let languages: Vec<String> = settings.languages.iter().map(|l| l.to_string()).collect();
        qb.push(" AND ");
        push_rule(
            &mut qb,
            rule,
            settings.default_language.as_str(),
            &languages,
        )?;
    }
    let (cmp, dir) = if query.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    match (column, &query.after) {
        // Registration order is the id's order (UUID v7): the key is empty.
        (None, Some(after)) => {
            qb.push(format!(" AND p.participant_id {cmp} "))
                .push_bind(after.id.as_uuid());
        }
        (Some(column), Some(after)) => {
            qb.push(format!(" AND ({column}, p.participant_id) {cmp} ("))
                .push_bind(after.key.clone())
                .push(", ")
                .push_bind(after.id.as_uuid())
                .push(")");
        }
        (_, None) => {}
    }
    match column {
        Some(column) => qb.push(format!(
            " ORDER BY {column} {dir}, p.participant_id {dir} LIMIT "
        )),
        None => qb.push(format!(" ORDER BY p.participant_id {dir} LIMIT ")),
    };
    qb.push_bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
    Ok(Some(qb))
}
