//! `kind = "http"`: pulls JSON records from a department API.
//!
//! Each page of records is a sheet whose header is the records' field names (nested objects
//! flattened to `a.b`), read through the connector's mapping like a spreadsheet. Pages are
//! followed by page number, offset, cursor or the `Link` header; requests carry a bearer token
//! or an API key read from an environment variable; timeouts, 429 and 5xx are retried with
//! exponential backoff and jitter, honouring `Retry-After`; requests are rate-limited. A pull
//! is stored in one transaction with the new watermark; a pull that fails halfway (an expired
//! token, a page that repeats, JSON that does not parse) stores nothing and keeps the watermark.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::stage::Staging;
use super::{
    Connector, ConnectorError, Problems, SyncContext, SyncReport, deserialize_spec, field_changes,
    state,
};
use crate::config::is_env_name;
use crate::ingest::pull::PullRecord;
use crate::read::CellValue;

/// The file's keys for `kind = "http"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// Address of the records endpoint (`https://api.example.gov.cn/v1/houses`).
    pub url: String,
    /// Where the records are in a response, as dotted keys (`data.items`); leave out when the
    /// response is the array of records itself.
    #[serde(default)]
    pub records: Option<String>,
    /// Query parameters sent with every request.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// How requests authenticate; leave out for an open API.
    pub auth: Option<AuthSpec>,
    /// How pages are followed; leave out when one response holds every record.
    pub pagination: Option<PaginationSpec>,
    /// Incremental pulls: only records changed since the last pull that was stored.
    pub watermark: Option<WatermarkSpec>,
    /// Field names as the mapping knows them: `{ xm = "姓名", sfzh = "身份证号" }`.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Seconds before a request is given up and retried (default 30).
    pub timeout_seconds: Option<f64>,
    /// Retries of one request after a timeout, 429 or 5xx (default 5).
    pub max_retries: Option<u32>,
    /// First backoff in seconds, doubled on every retry, with jitter (default 1).
    pub backoff_seconds: Option<f64>,
    /// Longest wait between two tries, `Retry-After` included (default 300).
    pub max_backoff_seconds: Option<f64>,
    /// Most requests per second (default: no limit).
    pub requests_per_second: Option<f64>,
    /// Most pages in one pull, against runaway pagination (default 10000).
    pub max_pages: Option<u32>,
    /// Allow a plain `http://` URL to another machine (default false): records and
    /// credentials would cross the network unencrypted, so set it only for a department
    /// server inside a closed network that has no TLS yet. `http://` to this machine
    /// (127.0.0.1, localhost) is always allowed.
    #[serde(default)]
    pub insecure_http: bool,
}

/// `auth = { bearer_env = "…" }` or `auth = { api_key_env = "…", header = "X-API-Key" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// Environment variable holding a bearer token (`Authorization: Bearer …`).
    pub bearer_env: Option<String>,
    /// Environment variable holding an API key.
    pub api_key_env: Option<String>,
    /// Header carrying the API key (default `X-API-Key`).
    pub header: Option<String>,
    /// Query parameter carrying the API key instead of a header.
    pub query_param: Option<String>,
}

/// How pages are followed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaginationSpec {
    /// `page` (page numbers), `offset` (offset and limit), `cursor` (a cursor from each
    /// response) or `link` (the `Link: <…>; rel="next"` header).
    pub style: String,
    /// Query parameter of the page number, offset or cursor (default `page`, `offset`,
    /// `cursor`).
    pub param: Option<String>,
    /// Query parameter of the page size (default `page_size` for pages, `limit` for offsets).
    pub size_param: Option<String>,
    /// Records per page asked for (default 100); a shorter page is the last one.
    pub size: Option<u32>,
    /// Number of the first page (default 1).
    pub first_page: Option<u32>,
    /// For `cursor`: where the next cursor is in a response, as dotted keys (`meta.next`); no
    /// cursor, null or empty means the last page.
    pub cursor_field: Option<String>,
}

/// Incremental pulls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatermarkSpec {
    /// Query parameter carrying the watermark (`updated_since`).
    pub param: String,
    /// Record field whose greatest value becomes the next watermark (`updated_at`).
    pub field: String,
    /// Watermark of the very first pull; leave out to pull everything the first time.
    pub start: Option<String>,
}

/// How a request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer $VAR`.
    Bearer {
        /// Environment variable.
        env: String,
    },
    /// An API key from `$VAR` in a header or a query parameter.
    ApiKey {
        /// Environment variable.
        env: String,
        /// Header name, when sent as a header.
        header: Option<String>,
        /// Query parameter, when sent in the URL.
        query_param: Option<String>,
    },
}

/// How pages are followed, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// One response.
    None,
    /// Page numbers.
    Page {
        /// Page parameter.
        param: String,
        /// Size parameter.
        size_param: String,
        /// Page size.
        size: u32,
        /// First page number.
        first: u32,
    },
    /// Offset and limit.
    Offset {
        /// Offset parameter.
        param: String,
        /// Limit parameter.
        size_param: String,
        /// Page size.
        size: u32,
    },
    /// Cursor from each response.
    Cursor {
        /// Cursor parameter.
        param: String,
        /// Where the next cursor is.
        field: Vec<String>,
    },
    /// `Link` header.
    Link,
}

/// A validated http connector.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Records endpoint.
    pub url: reqwest::Url,
    /// Path to the records array.
    pub records: Vec<String>,
    /// Fixed query parameters.
    pub query: Vec<(String, String)>,
    /// Credentials.
    pub auth: Auth,
    /// Pages.
    pub pagination: Pagination,
    /// Watermark.
    pub watermark: Option<WatermarkSpec>,
    /// Field renames.
    pub rename: BTreeMap<String, String>,
    /// Request timeout.
    pub timeout: Duration,
    /// Retries per request.
    pub max_retries: u32,
    /// First backoff.
    pub backoff: Duration,
    /// Longest wait.
    pub max_backoff: Duration,
    /// Smallest interval between requests.
    pub min_interval: Option<Duration>,
    /// Most pages per pull.
    pub max_pages: u32,
}

fn positive_seconds(
    value: Option<f64>,
    default: f64,
    key: &str,
    problems: &mut Problems<'_>,
) -> Duration {
    let seconds = value.unwrap_or(default);
    if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e7) {
        problems.add(
            key,
            format!("{seconds} must be a positive number of seconds"),
        );
        return Duration::from_secs_f64(default);
    }
    Duration::from_secs_f64(seconds)
}

fn dotted(path: &str) -> Vec<String> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

impl HttpConfig {
    /// Validates the file's http keys.
    pub fn build(table: toml::Table, problems: &mut Problems<'_>) -> Option<HttpConfig> {
        let spec: HttpSpec = deserialize_spec(table, problems)?;
        let before = problems.count();
        let url = match reqwest::Url::parse(&spec.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            Ok(_) => {
                problems.add("url", "must start with http:// or https://");
                None
            }
            Err(error) => {
                problems.add("url", format!("\"{}\" is not a URL: {error}", spec.url));
                None
            }
        };
        if let Some(url) = &url
            && url.scheme() == "http"
            && !crate::config::is_loopback_url(url)
            && !spec.insecure_http
        {
            problems.add(
                "url",
                "is plain http:// to another machine: records and credentials would cross the \
                 network unencrypted; use https:// (or set insecure_http = true for a closed \
                 network without TLS)",
            );
        }
        if let Some(url) = &url
            && !url.password().unwrap_or("").is_empty()
        {
            problems.add(
                "url",
                "holds a password: put secrets in an environment variable named by auth",
            );
        }
        let auth = match &spec.auth {
            None => Auth::None,
            Some(auth) => {
                let mut check = |key: &str, name: &str| {
                    if !is_env_name(name) {
                        problems.add(
                            key,
                            format!(
                                "\"{name}\" is not an environment variable name: the file names \
                                 the variable holding the secret, never the secret itself"
                            ),
                        );
                    }
                };
                match (&auth.bearer_env, &auth.api_key_env) {
                    (Some(env), None) => {
                        check("auth.bearer_env", env);
                        Auth::Bearer { env: env.clone() }
                    }
                    (None, Some(env)) => {
                        check("auth.api_key_env", env);
                        if auth.header.is_some() && auth.query_param.is_some() {
                            problems.add("auth", "give header or query_param, not both");
                        }
                        Auth::ApiKey {
                            env: env.clone(),
                            header: if auth.query_param.is_some() {
                                None
                            } else {
                                Some(auth.header.clone().unwrap_or_else(|| "X-API-Key".into()))
                            },
                            query_param: auth.query_param.clone(),
                        }
                    }
                    _ => {
                        problems.add("auth", "give exactly one of bearer_env and api_key_env");
                        Auth::None
                    }
                }
            }
        };
        let pagination = match &spec.pagination {
            None => Pagination::None,
            Some(p) => {
                let size = p.size.unwrap_or(100);
                if size == 0 {
                    problems.add("pagination.size", "must be at least 1");
                }
                match p.style.as_str() {
                    "none" => Pagination::None,
                    "page" => Pagination::Page {
                        param: p.param.clone().unwrap_or_else(|| "page".into()),
                        size_param: p.size_param.clone().unwrap_or_else(|| "page_size".into()),
                        size,
                        first: p.first_page.unwrap_or(1),
                    },
                    "offset" => Pagination::Offset {
                        param: p.param.clone().unwrap_or_else(|| "offset".into()),
                        size_param: p.size_param.clone().unwrap_or_else(|| "limit".into()),
                        size,
                    },
                    "cursor" => {
                        let field = p.cursor_field.as_deref().map(dotted).unwrap_or_default();
                        if field.is_empty() {
                            problems.add(
                                "pagination.cursor_field",
                                "missing: where is the next cursor in a response?",
                            );
                        }
                        Pagination::Cursor {
                            param: p.param.clone().unwrap_or_else(|| "cursor".into()),
                            field,
                        }
                    }
                    "link" => Pagination::Link,
                    other => {
                        problems.add(
                            "pagination.style",
                            format!(
                                "unknown style \"{other}\" (known: page, offset, cursor, link, none)"
                            ),
                        );
                        Pagination::None
                    }
                }
            }
        };
        if let Some(watermark) = &spec.watermark {
            if watermark.param.trim().is_empty() {
                problems.add("watermark.param", "must name the query parameter");
            }
            if watermark.field.trim().is_empty() {
                problems.add("watermark.field", "must name the record field");
            }
        }
        let timeout = positive_seconds(spec.timeout_seconds, 30.0, "timeout_seconds", problems);
        let backoff = positive_seconds(spec.backoff_seconds, 1.0, "backoff_seconds", problems);
        let max_backoff = positive_seconds(
            spec.max_backoff_seconds,
            300.0,
            "max_backoff_seconds",
            problems,
        );
        let min_interval = match spec.requests_per_second {
            None => None,
            Some(rate) if rate.is_finite() && rate > 0.0 => {
                Some(Duration::from_secs_f64(1.0 / rate))
            }
            Some(rate) => {
                problems.add(
                    "requests_per_second",
                    format!("{rate} must be a positive number"),
                );
                None
            }
        };
        if spec.max_pages == Some(0) {
            problems.add("max_pages", "must be at least 1");
        }
        if problems.count() > before {
            return None;
        }
        Some(HttpConfig {
            url: url?,
            records: spec.records.as_deref().map(dotted).unwrap_or_default(),
            query: spec.query.into_iter().collect(),
            auth,
            pagination,
            watermark: spec.watermark,
            rename: spec.rename,
            timeout,
            max_retries: spec.max_retries.unwrap_or(5),
            backoff,
            max_backoff,
            min_interval,
            max_pages: spec.max_pages.unwrap_or(10_000),
        })
    }

    /// Pulls from the watermark and stores the pull.
    pub(super) async fn sync(
        &self,
        connector: &Connector,
        context: &SyncContext<'_>,
        report: &mut SyncReport,
    ) -> Result<(), ConnectorError> {
        let before = state::load(context.registry, &connector.name)
            .await?
            .unwrap_or_default();
        let watermark_before = before
            .watermark
            .clone()
            .or_else(|| self.watermark.as_ref().and_then(|w| w.start.clone()));
        let secret = self.secret()?;
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(30)))
            .redirect(same_origin_redirects())
            .user_agent(concat!("lifeline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ConnectorError::Http(format!("cannot start the HTTP client: {}", e.without_url()))
            })?;
        let mut puller = Puller {
            config: self,
            client,
            secret,
            last_request: None,
            shutdown: context.shutdown.clone(),
        };
        // the transfer goes to a staging file: the registry is not locked while the API is slow
        let mut staging = Staging::new()?;
        let mut fields: Vec<String> = Vec::new();
        let (pages, watermark_after) = puller
            .pull_all(&mut staging, watermark_before.as_deref(), &mut fields)
            .await?;
        let (_gate, ingestor, writer) = staging.into_pull("http", connector, context).await?;
        let record = PullRecord {
            connector: connector.name.clone(),
            kind: "http".into(),
            source: self.url.to_string(),
            watermark_before: watermark_before.clone(),
            watermark_after: watermark_after.clone().or(watermark_before.clone()),
            fields: fields.clone(),
            pages,
            ..PullRecord::default()
        };
        let outcome = writer.commit(&ingestor, "json", &record).await?;
        if matches!(outcome, crate::ingest::pull::PullOutcome::Empty) {
            state::touch(context.registry, &connector.name, false).await?;
        }
        for note in field_changes(&before.fields, &fields) {
            tracing::warn!(connector = %connector.name, "{note}");
            report.notes.push(note);
        }
        if watermark_after.is_some() && watermark_after != watermark_before {
            report.notes.push(format!(
                "watermark {} → {}",
                watermark_before.as_deref().unwrap_or("(none)"),
                watermark_after.as_deref().unwrap_or("(none)")
            ));
        }
        report.notes.push(format!("{pages} pages"));
        report.add_pull(outcome)
    }

    fn secret(&self) -> Result<Option<String>, ConnectorError> {
        let env = match &self.auth {
            Auth::None => return Ok(None),
            Auth::Bearer { env } | Auth::ApiKey { env, .. } => env,
        };
        match std::env::var(env) {
            Ok(value) if !value.is_empty() => Ok(Some(value)),
            _ => Err(ConnectorError::MissingSecret(env.clone())),
        }
    }
}

/// One response, parsed.
struct Page {
    body: Value,
    next_link: Option<String>,
}

struct Puller<'a> {
    config: &'a HttpConfig,
    client: reqwest::Client,
    secret: Option<String>,
    last_request: Option<tokio::time::Instant>,
    shutdown: crate::shutdown::Shutdown,
}

impl Puller<'_> {
    /// Follows every page; returns the pages read and the new watermark.
    async fn pull_all(
        &mut self,
        writer: &mut Staging,
        watermark: Option<&str>,
        fields: &mut Vec<String>,
    ) -> Result<(i64, Option<String>), ConnectorError> {
        let config = self.config;
        let mut seen_pages: HashSet<[u8; 32]> = HashSet::new();
        let mut seen_cursors: HashSet<String> = HashSet::new();
        let mut next_watermark: Option<String> = None;
        let mut pages = 0u32;
        let mut page_number = match &config.pagination {
            Pagination::Page { first, .. } => *first as u64,
            _ => 0,
        };
        let mut offset = 0u64;
        let mut cursor: Option<String> = None;
        let mut link: Option<reqwest::Url> = None;
        loop {
            if self.shutdown.is_requested() {
                return Err(ConnectorError::Interrupted);
            }
            if pages >= config.max_pages {
                return Err(ConnectorError::Http(format!(
                    "more than {} pages: stopped (raise max_pages if the API is that large)",
                    config.max_pages
                )));
            }
            let url = match &link {
                Some(url) => url.clone(),
                None => {
                    let mut url = config.url.clone();
                    {
                        let mut query = url.query_pairs_mut();
                        for (key, value) in &config.query {
                            query.append_pair(key, value);
                        }
                        if let (Some(spec), Some(mark)) = (&config.watermark, watermark) {
                            query.append_pair(&spec.param, mark);
                        }
                        match &config.pagination {
                            Pagination::Page {
                                param,
                                size_param,
                                size,
                                ..
                            } => {
                                query.append_pair(param, &page_number.to_string());
                                query.append_pair(size_param, &size.to_string());
                            }
                            Pagination::Offset {
                                param,
                                size_param,
                                size,
                            } => {
                                query.append_pair(param, &offset.to_string());
                                query.append_pair(size_param, &size.to_string());
                            }
                            Pagination::Cursor { param, .. } => {
                                if let Some(cursor) = &cursor {
                                    query.append_pair(param, cursor);
                                }
                            }
                            Pagination::None | Pagination::Link => {}
                        }
                        if let (
                            Auth::ApiKey {
                                query_param: Some(param),
                                ..
                            },
                            Some(secret),
                        ) = (&config.auth, &self.secret)
                        {
                            query.append_pair(param, secret);
                        }
                    }
                    if url.query() == Some("") {
                        url.set_query(None);
                    }
                    url
                }
            };
            pages += 1;
            let page = self.fetch(&url, pages).await?;
            let records = records_of(&page.body, &config.records).ok_or_else(|| {
                ConnectorError::Http(format!(
                    "page {pages}: no array of records at \"{}\" in the response",
                    config.records.join(".")
                ))
            })?;
            let count = records.len();
            if count > 0 {
                let digest: [u8; 32] = Sha256::digest(
                    serde_json::to_string(records)
                        .unwrap_or_default()
                        .as_bytes(),
                )
                .into();
                if !seen_pages.insert(digest) {
                    return Err(ConnectorError::Http(format!(
                        "page {pages} repeats an earlier page: the API's pagination is broken, \
                         nothing of this pull was stored"
                    )));
                }
                let flat: Vec<Vec<(String, CellValue)>> = records
                    .iter()
                    .map(|record| {
                        let mut out = Vec::new();
                        flatten("", record, &mut out);
                        out
                    })
                    .collect();
                let mut header: Vec<String> = Vec::new();
                for record in &flat {
                    for (key, _) in record {
                        if !header.contains(key) {
                            header.push(key.clone());
                        }
                    }
                }
                for key in &header {
                    if !fields.contains(key) {
                        fields.push(key.clone());
                    }
                }
                let labels: Vec<String> = header
                    .iter()
                    .map(|key| {
                        config
                            .rename
                            .get(key)
                            .cloned()
                            .unwrap_or_else(|| key.clone())
                    })
                    .collect();
                writer.sheet(&format!("page-{pages}"), labels)?;
                for record in flat {
                    let mut cells = vec![CellValue::Empty; header.len()];
                    for (key, value) in record {
                        if let Some(spec) = &config.watermark
                            && key == spec.field
                        {
                            let text = value.display();
                            if !text.is_empty()
                                && next_watermark.as_deref().is_none_or(|w| later(&text, w))
                            {
                                next_watermark = Some(text);
                            }
                        }
                        if let Some(index) = header.iter().position(|h| *h == key) {
                            cells[index] = value;
                        }
                    }
                    writer.row(cells)?;
                }
            }
            // where next
            match &config.pagination {
                Pagination::None => break,
                Pagination::Page { size, .. } => {
                    if count < *size as usize {
                        break;
                    }
                    page_number += 1;
                }
                Pagination::Offset { size, .. } => {
                    if count < *size as usize {
                        break;
                    }
                    offset += count as u64;
                }
                Pagination::Cursor { field, .. } => {
                    let next = lookup(&page.body, field).and_then(|v| match v {
                        Value::String(s) if !s.is_empty() => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    });
                    match next {
                        None => break,
                        Some(next) => {
                            if !seen_cursors.insert(next.clone()) {
                                return Err(ConnectorError::Http(format!(
                                    "page {pages}: the next cursor \"{next}\" was given before: \
                                     the API's pagination loops, nothing of this pull was stored"
                                )));
                            }
                            cursor = Some(next);
                        }
                    }
                }
                Pagination::Link => match &page.next_link {
                    None => break,
                    Some(next) => {
                        let next = url.join(next).map_err(|e| {
                            ConnectorError::Http(format!(
                                "page {pages}: bad Link header \"{next}\": {e}"
                            ))
                        })?;
                        if next.origin() != config.url.origin() {
                            return Err(ConnectorError::Http(format!(
                                "page {pages}: the Link header points to another server ({}); \
                                 lifeline does not send the connector's credentials there, \
                                 nothing of this pull was stored",
                                next.origin().ascii_serialization()
                            )));
                        }
                        if !seen_cursors.insert(next.to_string()) {
                            return Err(ConnectorError::Http(format!(
                                "page {pages}: the Link header points back to an earlier page: \
                                 nothing of this pull was stored"
                            )));
                        }
                        link = Some(next);
                    }
                },
            }
            if count == 0 {
                break;
            }
        }
        Ok((pages as i64, next_watermark))
    }

    async fn pace(&mut self) {
        if let (Some(interval), Some(last)) = (self.config.min_interval, self.last_request) {
            tokio::time::sleep_until(last + interval).await;
        }
        self.last_request = Some(tokio::time::Instant::now());
    }

    async fn wait(&self, delay: Duration) -> Result<(), ConnectorError> {
        tokio::select! {
            _ = tokio::time::sleep(delay) => Ok(()),
            _ = self.shutdown.requested() => Err(ConnectorError::Interrupted),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .config
            .backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.config.max_backoff);
        // equal jitter: half fixed, half random, so retrying clients spread out
        let half = exponential / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    /// One page, with retries.
    async fn fetch(&mut self, url: &reqwest::Url, page: u32) -> Result<Page, ConnectorError> {
        let shown = redacted(url, &self.config.auth);
        let mut attempt = 0u32;
        loop {
            self.pace().await;
            let mut request = self.client.get(url.clone());
            match (&self.config.auth, &self.secret) {
                (Auth::Bearer { .. }, Some(secret)) => request = request.bearer_auth(secret),
                (
                    Auth::ApiKey {
                        header: Some(header),
                        ..
                    },
                    Some(secret),
                ) => request = request.header(header.as_str(), secret.as_str()),
                _ => {}
            }
            let failure: String;
            let mut retry_after: Option<Duration> = None;
            let sent = tokio::select! {
                // reqwest's error texts carry the URL, API key and all: never shown
                sent = request.send() => sent.map_err(reqwest::Error::without_url),
                _ = self.shutdown.requested() => return Err(ConnectorError::Interrupted),
            };
            match sent {
                Err(error) if error.is_timeout() => {
                    failure = format!("no answer within {:?}", self.config.timeout)
                }
                Err(error) if error.is_redirect() => {
                    let reason = std::error::Error::source(&error)
                        .map(ToString::to_string)
                        .unwrap_or_else(|| error.to_string());
                    return Err(ConnectorError::Http(format!(
                        "page {page} ({shown}): {reason}; nothing of this pull was stored"
                    )));
                }
                Err(error) if error.is_connect() || error.is_request() => {
                    failure = format!("cannot connect: {error}")
                }
                Err(error) => {
                    return Err(ConnectorError::Http(format!(
                        "page {page} ({shown}): {error}"
                    )));
                }
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        let next_link = response
                            .headers()
                            .get_all(reqwest::header::LINK)
                            .iter()
                            .filter_map(|v| v.to_str().ok())
                            .find_map(next_link);
                        match response.text().await.map_err(reqwest::Error::without_url) {
                            Ok(text) => match serde_json::from_str::<Value>(&text) {
                                Ok(body) => return Ok(Page { body, next_link }),
                                Err(error) => {
                                    failure = format!("the response is not valid JSON ({error})")
                                }
                            },
                            Err(error) if error.is_timeout() => {
                                failure = "the response stopped coming (timeout)".into()
                            }
                            Err(error) => {
                                failure = format!("the response could not be read: {error}")
                            }
                        }
                    } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN
                    {
                        let variable = match &self.config.auth {
                            Auth::Bearer { env } | Auth::ApiKey { env, .. } => env.as_str(),
                            Auth::None => "(no credentials configured)",
                        };
                        return Err(ConnectorError::Http(format!(
                            "page {page} ({shown}): the API refused the credentials ({status}): \
                             the token or key in {variable} may have expired; nothing of this \
                             pull was stored"
                        )));
                    } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                        retry_after = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(parse_retry_after);
                        failure = format!("the API answered {status}");
                    } else {
                        let body = response.text().await.unwrap_or_default();
                        let body: String = body.chars().take(200).collect();
                        return Err(ConnectorError::Http(format!(
                            "page {page} ({shown}): the API answered {status}: {body}"
                        )));
                    }
                }
            }
            if attempt >= self.config.max_retries {
                return Err(ConnectorError::Http(format!(
                    "page {page} ({shown}): {failure}; gave up after {} tries, nothing of this \
                     pull was stored",
                    attempt + 1
                )));
            }
            let delay = match retry_after {
                Some(asked) if asked > self.config.max_backoff => {
                    return Err(ConnectorError::Http(format!(
                        "page {page} ({shown}): {failure} and asks to wait {}s, longer than \
                         max_backoff_seconds; nothing of this pull was stored",
                        asked.as_secs()
                    )));
                }
                Some(asked) => asked,
                None => self.backoff(attempt),
            };
            tracing::warn!(url = %shown, page, attempt = attempt + 1, ?delay, "{failure}; retrying");
            self.wait(delay).await?;
            attempt += 1;
        }
    }
}

/// Query parameters whose values are hidden in logs whatever the connector's auth says.
const SECRET_PARAMETERS: [&str; 12] = [
    "password",
    "passwd",
    "pwd",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "signature",
    "sig",
    "auth",
];

/// The URL as logged: a password in it, the API key's query parameter and every parameter
/// named like a secret (`password`, `token`, `key`, …) are shown as `***`.
pub fn redacted(url: &reqwest::Url, auth: &Auth) -> String {
    let own = match auth {
        Auth::ApiKey {
            query_param: Some(param),
            ..
        } => Some(param.as_str()),
        _ => None,
    };
    let mut shown = url.clone();
    if url.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret =
                    own == Some(&*k) || SECRET_PARAMETERS.iter().any(|s| k.eq_ignore_ascii_case(s));
                let v = if secret { "***".into() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// Redirects are followed on the same origin only (scheme, host and port): a token or API key
/// header must never reach another server, and reqwest strips only `Authorization` when the
/// host changes.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(reqwest::Url::origin);
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if first.is_some_and(|origin| origin != attempt.url().origin()) {
            let to = attempt.url().origin().ascii_serialization();
            attempt.error(format!(
                "the API redirects to another server ({to}); lifeline does not send the \
                 connector's credentials there"
            ))
        } else {
            attempt.follow()
        }
    })
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The `rel="next"` target of one `Link` header value.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn records_of<'v>(body: &'v Value, path: &[String]) -> Option<&'v Vec<Value>> {
    lookup(body, path)?.as_array()
}

/// Whether watermark `a` is later than `b`: numerically when both are numbers, else as text
/// (ISO dates sort as text).
fn later(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => a > b,
    }
}

/// Flattens a record into `(field, cell)` pairs: nested objects as `a.b`, arrays as JSON text.
pub fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, CellValue)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match value {
                    Value::Object(_) => flatten(&key, value, out),
                    _ => out.push((key, cell_of(value))),
                }
            }
        }
        _ => out.push((prefix.to_string(), cell_of(value))),
    }
}

fn cell_of(value: &Value) -> CellValue {
    match value {
        Value::Null => CellValue::Empty,
        Value::Bool(b) => CellValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => CellValue::Int(i),
            None => match n.as_f64() {
                Some(f) => CellValue::Float(f),
                None => CellValue::Text(n.to_string()),
            },
        },
        Value::String(s) => CellValue::Text(s.clone()),
        Value::Array(_) | Value::Object(_) => CellValue::Text(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_name_the_next_page() {
        assert_eq!(
            next_link(r#"<https://a/x?page=3>; rel="next", <https://a/x?page=9>; rel="last""#),
            Some("https://a/x?page=3".into())
        );
        assert_eq!(next_link(r#"<https://a/x?page=9>; rel="last""#), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn nested_records_flatten_to_dotted_fields() {
        let record: Value = serde_json::json!({
            "xm": "张三", "sfzh": 341125198504039000i64, "dz": { "xian": "肥西县" },
            "tags": ["a"], "fee": 12.5, "note": null
        });
        let mut out = Vec::new();
        flatten("", &record, &mut out);
        assert!(out.contains(&("dz.xian".into(), CellValue::Text("肥西县".into()))));
        assert!(out.contains(&("sfzh".into(), CellValue::Int(341125198504039000))));
        assert!(out.contains(&("tags".into(), CellValue::Text("[\"a\"]".into()))));
        assert!(out.contains(&("note".into(), CellValue::Empty)));
    }

    #[test]
    fn watermarks_compare_as_numbers_or_text() {
        assert!(later("10", "9"));
        assert!(later("2024-05-02T00:00:00", "2024-05-01T23:59:59"));
    }

    #[test]
    fn logged_urls_hide_passwords_keys_and_tokens() {
        let url = reqwest::Url::parse(
            "https://user:hunter2@api.example/x?page=2&password=pw&Token=t&appkey=k&q=ok",
        )
        .unwrap();
        let auth = Auth::ApiKey {
            env: "KEY".into(),
            header: None,
            query_param: Some("appkey".into()),
        };
        let shown = redacted(&url, &auth);
        for secret in ["hunter2", "=pw", "=t&", "=k&"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("page=2") && shown.contains("q=ok"),
            "{shown}"
        );
    }
}
