//! The routes, the key check every route but `/healthz` goes through, and the handlers.
//!
//! A handler reads what the caller's key may see, masks it for a masked key, and hands it to
//! `Caller::answer`, which writes the audit entry and only then lets the response go.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Local, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::audit::{AuditEntry, AuditLog};
use super::changes::{self, Change};
use super::error::{ApiError, ErrorBody};
use super::keys::{ApiKey, KeyCache, RegionCode, Scope};
use super::masking::mask_row;
use super::metrics::{EndpointLabels, Metrics, RequestLabels};
use super::rate::RateLimiter;
use super::views::{self, HouseholdFilter, Masking};
use crate::registry::Registry;
use crate::risk::cases::{self, Status};

/// Limits of the API.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Largest page a list answers.
    pub max_limit: i64,
    /// Largest page of the change feed and snapshots.
    pub max_feed_limit: i64,
    /// How old the key cache may get before it is read again (how soon a revoked key is
    /// refused).
    pub key_refresh: std::time::Duration,
}

impl Default for ApiOptions {
    fn default() -> ApiOptions {
        ApiOptions {
            max_limit: 500,
            max_feed_limit: 5_000,
            key_refresh: super::keys::KEY_REFRESH,
        }
    }
}

/// What every request can reach.
#[derive(Debug)]
pub struct ApiState {
    /// The registry read (and, for case actions, written).
    pub registry: Registry,
    /// The keys.
    pub keys: KeyCache,
    /// The read audit.
    pub audit: AuditLog,
    /// Limits.
    pub options: ApiOptions,
    metrics: Metrics,
    limiter: RateLimiter,
}

impl ApiState {
    /// The state of a server over `registry`.
    pub fn new(
        registry: Registry,
        keys: KeyCache,
        audit: AuditLog,
        options: ApiOptions,
    ) -> ApiState {
        ApiState {
            registry,
            keys,
            audit,
            options,
            metrics: Metrics::default(),
            limiter: RateLimiter::default(),
        }
    }
}

type Shared = Arc<ApiState>;

/// Why the API cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The keys cannot be read.
    #[error("cannot read the API keys: {0}")]
    Keys(#[from] super::keys::KeyError),
    /// The audit log cannot be opened.
    #[error(transparent)]
    Audit(#[from] super::audit::AuditError),
    /// The address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
}

impl ApiState {
    /// Opens the keys and the audit log at `audit_url` and starts the audit writer.
    pub async fn open(
        registry: &Registry,
        audit_url: &str,
        options: ApiOptions,
    ) -> Result<ApiState, StartError> {
        let keys = KeyCache::load(registry, options.key_refresh).await?;
        let store = super::audit::AuditStore::open(audit_url).await?;
        Ok(ApiState::new(
            registry.clone(),
            keys,
            AuditLog::start(store),
            options,
        ))
    }
}

/// Answers on `listener` until `shutdown` is asked for, then finishes the requests in flight.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: crate::shutdown::Shutdown,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.requested().await })
        .await
}

/// Binds `address` (`127.0.0.1:8080`).
pub async fn bind(address: &str) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| StartError::Listen {
            address: address.to_string(),
            source,
        })
}

/// The API's routes over `state`.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/api/v1/households", get(households))
        .route("/api/v1/households/{id}", get(household))
        .route("/api/v1/persons", get(persons_by_id_number))
        .route("/api/v1/persons/{id}", get(person))
        .route("/api/v1/flags", get(flags))
        .route("/api/v1/changes", get(changes_feed))
        .route("/api/v1/changes/head", get(changes_head))
        .route("/api/v1/snapshot/{entity}", get(snapshot))
        .route("/api/v1/cases/{id}/transitions", post(transition))
        .fallback(|| async { ApiError::not_found("such endpoint") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Counts every answer by route and status and times it.
async fn observe(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let mut response = next.run(request).await;
    let status = response.status().as_u16();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            endpoint: endpoint.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&EndpointLabels { endpoint })
        .observe(started.elapsed().as_secs_f64());
    // personal data is not for caches or other sites' pages
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, "no-store".parse().expect("constant"));
    headers.insert(
        "x-content-type-options",
        "nosniff".parse().expect("constant"),
    );
    response
}

/// The caller of a request, its key checked: known, not expired, not revoked, within its rate.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key.
    pub key: ApiKey,
    endpoint: String,
    query: String,
    purpose: Option<String>,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Caller, ApiError> {
        let Some(secret) = bearer(&parts.headers) else {
            return Err(ApiError::unauthorized(
                "send an API key as \"Authorization: Bearer KEY\"",
            ));
        };
        let key = match state.keys.find(secret).await {
            Ok(Some(key)) => key,
            Ok(None) => {
                tracing::warn!(endpoint = %parts.uri.path(), "request with an unknown API key");
                return Err(ApiError::unauthorized("unknown API key"));
            }
            Err(error) => {
                tracing::error!(%error, "API keys cannot be read");
                return Err(ApiError::unavailable(
                    "keys cannot be checked right now; retry later",
                ));
            }
        };
        if let Some(why) = key.refusal(Utc::now()) {
            tracing::warn!(key = %key.name, why, "API key refused");
            return Err(ApiError::unauthorized(why));
        }
        if !state
            .limiter
            .allow(&key.name, key.rate_per_second, Instant::now())
        {
            return Err(ApiError::rate_limited(key.rate_per_second));
        }
        let endpoint = format!(
            "{} {}",
            parts.method,
            parts
                .extensions
                .get::<MatchedPath>()
                .map(|m| m.as_str())
                .unwrap_or_else(|| parts.uri.path())
        );
        let query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let purpose = parts.headers.get("x-purpose").map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(200)
                .collect()
        });
        Ok(Caller {
            key,
            endpoint,
            query,
            purpose,
        })
    }
}

/// What a handler found: the body and the IDs of the records in it.
struct Answer {
    body: Value,
    record_ids: Vec<String>,
}

impl Answer {
    fn new(body: impl Serialize, record_ids: Vec<String>) -> Answer {
        Answer {
            body: serde_json::to_value(body).unwrap_or(Value::Null),
            record_ids,
        }
    }
}

impl Caller {
    fn masks(&self) -> bool {
        self.key.scope.masks()
    }

    fn region(&self) -> Option<&RegionCode> {
        self.key.region.as_ref()
    }

    /// Writes the audit entry of this request, then answers; 503 when the entry cannot be
    /// written (nothing of the answer is sent then).
    async fn answer(self, state: &ApiState, result: Result<Answer, ApiError>) -> Response {
        let (status, ids) = match &result {
            Ok(answer) => (StatusCode::OK, answer.record_ids.clone()),
            Err(error) => (error.status, Vec::new()),
        };
        let entry = AuditEntry {
            at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            key_name: Some(self.key.name.clone()),
            endpoint: self.endpoint,
            query: self.query,
            purpose: self.purpose,
            record_ids: ids,
            status: status.as_u16(),
        };
        if let Err(error) = state.audit.record(entry).await {
            state.metrics.audit_failed.inc();
            tracing::error!(%error, "audit entry not written: request refused");
            return ApiError::unavailable(
                "the read cannot be audited right now, so nothing is returned; retry later",
            )
            .into_response();
        }
        state.metrics.audit_written.inc();
        match result {
            Ok(answer) => (StatusCode::OK, Json(answer.body)).into_response(),
            Err(error) => error.into_response(),
        }
    }
}

/// The query's parameters, refusing unknown and repeated ones (a typo must not silently
/// widen a filter).
fn params(raw: Option<&str>, allowed: &[&str]) -> Result<HashMap<String, String>, ApiError> {
    let mut out = HashMap::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !allowed.contains(&name.as_ref()) {
            return Err(ApiError::invalid(format!(
                "unknown parameter \"{}\" (this endpoint takes: {})",
                name.chars().take(40).collect::<String>(),
                allowed.join(", ")
            )));
        }
        if out.insert(name.to_string(), value.to_string()).is_some() {
            return Err(ApiError::invalid(format!(
                "parameter \"{name}\" given twice"
            )));
        }
    }
    Ok(out)
}

fn limit(params: &HashMap<String, String>, default: i64, max: i64) -> Result<i64, ApiError> {
    match params.get("limit") {
        None => Ok(default),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(format!(
                "limit \"{}\": give a whole number from 1 to {max}",
                text.chars().take(40).collect::<String>()
            ))),
        },
    }
}

/// The key's region narrowed by a `region` parameter; `None` when they do not overlap (the
/// answer is then empty, as for a region with no households).
fn effective_region(
    caller: &Caller,
    params: &HashMap<String, String>,
) -> Result<Option<Option<RegionCode>>, ApiError> {
    let asked = params
        .get("region")
        .map(|r| RegionCode::parse(r).map_err(ApiError::invalid))
        .transpose()?;
    Ok(RegionCode::narrowest(caller.region(), asked.as_ref()))
}

/// A stored ID of ours (`H000123`, `P000123`): anything else names nothing.
fn plausible_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn today() -> NaiveDate {
    Local::now().date_naive()
}

#[utoipa::path(get, path = "/healthz", responses(
    (status = 200, description = "the registry answers"),
    (status = 503, description = "the registry does not answer", body = ErrorBody)))]
async fn healthz(State(state): State<Shared>) -> Response {
    match sqlx::query("SELECT 1").execute(state.registry.pool()).await {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: the registry does not answer");
            ApiError::unavailable("the registry does not answer").into_response()
        }
    }
}

#[utoipa::path(get, path = "/metrics", security(("bearer" = [])), responses(
    (status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
async fn metrics(State(state): State<Shared>, _caller: Caller) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn openapi(_caller: Caller) -> Response {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi()).into_response()
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/households", security(("bearer" = [])),
    params(
        ("region" = Option<String>, Query, description = "GB/T 2260 code prefix (2, 4, 6, 9 or 12 digits)"),
        ("level" = Option<String>, Query, description = "flag level: high, medium, low"),
        ("covered" = Option<bool>, Query, description = "flagged households a programme covers (true) or not (false)"),
        ("status" = Option<String>, Query, description = "case status: new, verifying, assisting, closed, dismissed"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("limit" = Option<i64>, Query, description = "1 to 500, default 100")),
    responses(
        (status = 200, description = "a page of households", body = Page<views::HouseholdSummary>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn households(
    State(state): State<Shared>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Response {
    let result = async {
        let p = params(
            raw.as_deref(),
            &["region", "level", "covered", "status", "cursor", "limit"],
        )?;
        let limit = limit(&p, 100, state.options.max_limit)?;
        let level = match p.get("level").map(String::as_str) {
            None => None,
            Some(l @ ("high" | "medium" | "low")) => Some(l.to_string()),
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "level \"{}\": use high, medium or low",
                    other.chars().take(40).collect::<String>()
                )));
            }
        };
        let covered = match p.get("covered").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(ApiError::invalid("covered: use true or false")),
        };
        let status = p
            .get("status")
            .map(|s| {
                Status::parse(s)
                    .map(|s| s.as_str().to_string())
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "status: use new, verifying, assisting, closed or dismissed",
                        )
                    })
            })
            .transpose()?;
        let after = match p.get("cursor") {
            Some(c) if plausible_id(c) => Some(c.clone()),
            Some(_) => {
                return Err(ApiError::invalid(
                    "cursor: pass next_cursor as it was given",
                ));
            }
            None => None,
        };
        let Some(region) = effective_region(&caller, &p)? else {
            return Ok(Answer::new(
                Page::<views::HouseholdSummary> {
                    items: Vec::new(),
                    next_cursor: None,
                },
                Vec::new(),
            ));
        };
        let filter = HouseholdFilter {
            region,
            level,
            covered,
            status,
            after,
            limit,
        };
        let mut items = views::list_households(&state.registry, &filter, today()).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|h| h.household_id.clone())
        } else {
            None
        };
        let ids = items.iter().map(|h| h.household_id.clone()).collect();
        let items = if caller.masks() {
            items.masked()
        } else {
            items
        };
        Ok(Answer::new(Page { items, next_cursor }, ids))
    }
    .await;
    caller.answer(&state, result).await
}

#[utoipa::path(get, path = "/api/v1/households/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "household ID")),
    responses(
        (status = 200, description = "the household, its members, flag and case", body = views::HouseholdDetail),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no such household, or none this key may see", body = ErrorBody)))]
async fn household(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        if !plausible_id(&id) {
            return Err(ApiError::not_found("such household"));
        }
        let detail = views::household_detail(&state.registry, &id, caller.region(), today())
            .await?
            .ok_or_else(|| ApiError::not_found("such household"))?;
        let mut ids = vec![detail.household.household_id.clone()];
        ids.extend(detail.members.iter().map(|m| m.person_id.clone()));
        let detail = if caller.masks() {
            detail.masked()
        } else {
            detail
        };
        Ok(Answer::new(detail, ids))
    }
    .await;
    caller.answer(&state, result).await
}

#[utoipa::path(get, path = "/api/v1/persons/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "person ID")),
    responses(
        (status = 200, description = "the person and the source rows naming them", body = views::PersonDetail),
        (status = 404, description = "no such person, or none this key may see", body = ErrorBody)))]
async fn person(State(state): State<Shared>, caller: Caller, Path(id): Path<String>) -> Response {
    let result = async {
        if !plausible_id(&id) {
            return Err(ApiError::not_found("such person"));
        }
        let detail = views::person_detail(&state.registry, &id, caller.region())
            .await?
            .ok_or_else(|| ApiError::not_found("such person"))?;
        let ids = vec![detail.person.person_id.clone()];
        let detail = if caller.masks() {
            detail.masked()
        } else {
            detail
        };
        Ok(Answer::new(detail, ids))
    }
    .await;
    caller.answer(&state, result).await
}

#[utoipa::path(get, path = "/api/v1/persons", security(("bearer" = [])),
    params(("id_number" = String, Query, description = "an 18-character resident ID number")),
    responses(
        (status = 200, description = "persons holding it (full scope only)", body = Page<views::PersonView>),
        (status = 403, description = "the key's scope is not full", body = ErrorBody)))]
async fn persons_by_id_number(
    State(state): State<Shared>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Response {
    let result = async {
        if caller.key.scope != Scope::Full {
            return Err(ApiError::forbidden(
                "looking people up by ID number needs a key of scope full",
            ));
        }
        let p = params(raw.as_deref(), &["id_number"])?;
        let Some(id_number) = p.get("id_number") else {
            return Err(ApiError::invalid("give id_number"));
        };
        let id_number = id_number.trim().to_ascii_uppercase();
        let well_formed = id_number.len() == 18
            && id_number[..17].bytes().all(|b| b.is_ascii_digit())
            && id_number[17..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'X');
        if !well_formed {
            return Err(ApiError::invalid(
                "id_number: give the 18-character resident ID number",
            ));
        }
        let items =
            views::persons_by_id_number(&state.registry, &id_number, caller.region()).await?;
        let ids = items.iter().map(|p| p.person_id.clone()).collect();
        Ok(Answer::new(
            Page {
                items,
                next_cursor: None,
            },
            ids,
        ))
    }
    .await;
    caller.answer(&state, result).await
}

/// A flag in the list of changed flags.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagItem {
    /// Household.
    pub household_id: String,
    /// The flag.
    #[serde(flatten)]
    pub flag: views::FlagSummary,
}

/// `since` as the registry's time text: RFC 3339 in the server's offset, or a date.
fn since_text(text: &str) -> Result<String, ApiError> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.to_string());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| {
            t.with_timezone(&Local)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .map_err(|_| ApiError::invalid("since: give a date (2026-12-01) or an RFC 3339 time"))
}

#[utoipa::path(get, path = "/api/v1/flags", security(("bearer" = [])),
    params(
        ("since" = Option<String>, Query, description = "flags changed at or after this date or RFC 3339 time"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("limit" = Option<i64>, Query, description = "1 to 500, default 100")),
    responses((status = 200, description = "flags changed since, oldest change first", body = Page<FlagItem>)))]
async fn flags(State(state): State<Shared>, caller: Caller, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let p = params(raw.as_deref(), &["since", "cursor", "limit"])?;
        let limit = limit(&p, 100, state.options.max_limit)?;
        let since = match p.get("since") {
            Some(text) => since_text(text)?,
            None => String::new(),
        };
        let after =
            match p.get("cursor") {
                None => None,
                Some(c) => {
                    let parsed = c.rsplit_once(',').and_then(|(t, id)| {
                        DateTime::parse_from_rfc3339(t).ok()?;
                        Some((t.to_string(), id.parse::<i64>().ok()?))
                    });
                    Some(parsed.ok_or_else(|| {
                        ApiError::invalid("cursor: pass next_cursor as it was given")
                    })?)
                }
            };
        let mut rows = views::flags_since(
            &state.registry,
            &since,
            after,
            caller.region(),
            limit,
            today(),
        )
        .await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last()
                .map(|(f, _)| format!("{},{}", f.updated_at, f.flag_id))
        } else {
            None
        };
        let ids = rows.iter().map(|(f, _)| f.flag_id.to_string()).collect();
        let items: Vec<FlagItem> = rows
            .into_iter()
            .map(|(flag, household_id)| FlagItem { household_id, flag })
            .collect();
        Ok(Answer::new(Page { items, next_cursor }, ids))
    }
    .await;
    caller.answer(&state, result).await
}

/// A page of the change feed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangesPage {
    /// Changes in commit order.
    pub items: Vec<Change>,
    /// The seq of the last change of this page (pass it as `after`); the same `after` when
    /// nothing is new.
    pub next_cursor: String,
    /// Whether more changes wait after this page.
    pub more: bool,
}

#[utoipa::path(get, path = "/api/v1/changes", security(("bearer" = [])),
    params(
        ("after" = Option<String>, Query, description = "the last seq applied (0 or absent: from the start)"),
        ("limit" = Option<i64>, Query, description = "1 to 5000, default 1000")),
    responses(
        (status = 200, description = "changes after the cursor, in commit order", body = ChangesPage),
        (status = 400, description = "a cursor older than the feed keeps (cursor_expired) or beyond its head (cursor_unknown)", body = ErrorBody)))]
async fn changes_feed(
    State(state): State<Shared>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Response {
    let result = async {
        let p = params(raw.as_deref(), &["after", "limit"])?;
        let limit = limit(&p, 1_000, state.options.max_feed_limit)?;
        let after = match p.get("after") {
            None => 0,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::invalid("after: give the seq of the last change applied")
                })?,
        };
        let head = changes::head(&state.registry).await?;
        if after > head {
            return Err(ApiError::bad_request(
                "cursor_unknown",
                format!(
                    "cursor {after} is beyond the newest change ({head}): this registry was \
                     restored or is another one; take a new snapshot"
                ),
            ));
        }
        let pruned = changes::pruned_through(&state.registry).await?;
        if after < pruned {
            return Err(ApiError::bad_request(
                "cursor_expired",
                format!(
                    "changes up to {pruned} are no longer kept: take a new snapshot and follow \
                     the feed from its head"
                ),
            ));
        }
        let mut items =
            changes::changes_after(&state.registry, after, limit + 1, caller.region()).await?;
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        let next_cursor = items.last().map(|c| c.seq).unwrap_or(after).to_string();
        let ids = items
            .iter()
            .map(|c| format!("{}:{}", c.entity, c.id))
            .collect();
        if caller.masks() {
            for item in &mut items {
                if let Some(data) = &item.data {
                    item.data = Some(mask_row(&item.entity, data));
                }
            }
        }
        Ok(Answer::new(
            ChangesPage {
                items,
                next_cursor,
                more,
            },
            ids,
        ))
    }
    .await;
    caller.answer(&state, result).await
}

#[utoipa::path(get, path = "/api/v1/changes/head", security(("bearer" = [])),
    responses((status = 200, description = "{\"cursor\": \"SEQ\"}: the newest change now")))]
async fn changes_head(State(state): State<Shared>, _caller: Caller) -> Response {
    match changes::head(&state.registry).await {
        Ok(head) => Json(json!({"cursor": head.to_string()})).into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// A page of a snapshot.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SnapshotPage {
    /// Rows, as the feed carries them.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Map<String, Value>>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/snapshot/{entity}", security(("bearer" = [])),
    params(
        ("entity" = String, Path, description = "person, household, flag, evidence, case_event or identity"),
        ("after" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("limit" = Option<i64>, Query, description = "1 to 5000, default 1000")),
    responses((status = 200, description = "rows of the entity, by ID", body = SnapshotPage)))]
async fn snapshot(
    State(state): State<Shared>,
    caller: Caller,
    Path(entity): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let result = async {
        let Some((_, key)) = changes::entity_table(&entity) else {
            return Err(ApiError::not_found(
                "such entity (use person, household, flag, evidence, case_event or identity)",
            ));
        };
        let p = params(raw.as_deref(), &["after", "limit"])?;
        let limit = limit(&p, 1_000, state.options.max_feed_limit)?;
        let after: Option<Vec<String>> = match p.get("after") {
            None => None,
            Some(text) => {
                let parts: Vec<String> = text.splitn(key.len(), ':').map(str::to_string).collect();
                if parts.len() != key.len() || text.len() > 200 {
                    return Err(ApiError::invalid("after: pass next_cursor as it was given"));
                }
                Some(parts)
            }
        };
        let mut rows = changes::snapshot(
            &state.registry,
            &entity,
            after.as_deref(),
            limit + 1,
            caller.region(),
        )
        .await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| changes::row_id(&entity, r))
        } else {
            None
        };
        let ids = rows
            .iter()
            .map(|r| format!("{entity}:{}", changes::row_id(&entity, r)))
            .collect();
        let items = if caller.masks() {
            rows.iter().map(|r| mask_row(&entity, r)).collect()
        } else {
            rows
        };
        Ok(Answer::new(SnapshotPage { items, next_cursor }, ids))
    }
    .await;
    caller.answer(&state, result).await
}

/// A case action.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// `transition` (default), `assign` or `refer` (转介).
    #[serde(default)]
    pub action: Option<String>,
    /// For `transition`: the new status.
    #[serde(default)]
    pub to: Option<String>,
    /// For `assign`: the officer.
    #[serde(default)]
    pub assignee: Option<String>,
    /// For `refer`: the unit the case goes to.
    #[serde(default)]
    pub unit: Option<String>,
    /// A note (needed to dismiss).
    #[serde(default)]
    pub note: Option<String>,
    /// Who acts (a person's name): recorded with the key's name.
    pub actor: String,
    /// The business date of the action (default: today).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub on: Option<NaiveDate>,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/transitions", security(("bearer" = [])),
    params(("id" = i64, Path, description = "case (flag) ID")),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "the case after the action", body = views::CaseView),
        (status = 400, description = "not allowed from the case's status, or a bad request", body = ErrorBody),
        (status = 403, description = "the key's scope is not cases", body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn transition(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        if caller.key.scope != Scope::Cases {
            return Err(ApiError::forbidden(
                "case actions need a key of scope cases",
            ));
        }
        let flag_id: i64 = id.parse().map_err(|_| ApiError::not_found("such case"))?;
        let request: TransitionRequest = serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid(format!("request body: {e}")))?;
        let actor = request.actor.trim();
        if actor.is_empty() || actor.chars().count() > 64 {
            return Err(ApiError::invalid(
                "actor: give who acts, 1 to 64 characters",
            ));
        }
        let visible = match views::flag_region(&state.registry, flag_id).await? {
            None => false,
            Some(region) => caller
                .region()
                .is_none_or(|r| r.contains(region.as_deref())),
        };
        if !visible {
            return Err(ApiError::not_found("such case"));
        }
        let actor = format!("{actor} (key {})", caller.key.name);
        let on = request.on.unwrap_or_else(today);
        let note = request.note.as_deref();
        let done = match request.action.as_deref().unwrap_or("transition") {
            "transition" => {
                let to = request
                    .to
                    .as_deref()
                    .and_then(Status::parse)
                    .ok_or_else(|| {
                        ApiError::invalid("to: give new, verifying, assisting, closed or dismissed")
                    })?;
                cases::transition_case(&state.registry, flag_id, to, note, &actor, on).await
            }
            "assign" => {
                let assignee = request
                    .assignee
                    .as_deref()
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| ApiError::invalid("assignee: give the officer"))?;
                cases::assign_case(&state.registry, flag_id, assignee, &actor, on).await
            }
            "refer" => {
                let unit = request
                    .unit
                    .as_deref()
                    .ok_or_else(|| ApiError::invalid("unit: give the unit to refer to"))?;
                cases::refer_case(&state.registry, flag_id, unit, note, &actor, on).await
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "action \"{}\": use transition, assign or refer",
                    other.chars().take(40).collect::<String>()
                )));
            }
        };
        match done {
            Ok(()) => {}
            Err(crate::risk::RiskError::NoSuchFlag(_)) => {
                return Err(ApiError::not_found("such case"));
            }
            Err(crate::risk::RiskError::Registry(e)) => return Err(ApiError::from(e)),
            Err(changed @ crate::risk::RiskError::Changed(_)) => {
                return Err(ApiError::conflict(changed.to_string()));
            }
            Err(other) => {
                return Err(ApiError::bad_request(
                    "invalid_transition",
                    other.to_string(),
                ));
            }
        }
        let household = sqlx::query_scalar::<_, String>(
            "SELECT household_id FROM risk_flags WHERE flag_id = $1",
        )
        .bind(flag_id)
        .fetch_one(state.registry.pool())
        .await?;
        let detail = views::household_detail(&state.registry, &household, caller.region(), today())
            .await?
            .ok_or_else(|| ApiError::not_found("such case"))?;
        Ok(Answer::new(detail.case, vec![flag_id.to_string()]))
    }
    .await;
    caller.answer(&state, result).await
}

/// The OpenAPI document of the routes above.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "lifeline registry API", description = "Households at risk, persons, flags, cases and the change feed of a lifeline registry. Every call but /healthz needs `Authorization: Bearer KEY`; masked keys get masked data; every read of personal data is audited."),
    paths(healthz, metrics, households, household, person, persons_by_id_number, flags,
          changes_feed, changes_head, snapshot, transition),
    components(schemas(ErrorBody, views::HouseholdSummary, views::HouseholdDetail,
        views::PersonView, views::PersonDetail, views::FlagSummary, views::FlagDetail,
        views::CaseView, FlagItem, ChangesPage, Change, SnapshotPage, TransitionRequest)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
