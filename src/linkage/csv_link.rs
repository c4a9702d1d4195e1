//! `lifeline link`: the linkage engine on any CSV — deduplicate one file or link two — as configured
//! by a spec file; with a truth column it scores itself (pairwise precision, recall, F1 and blocking
//! recall), which is how lifeline is measured beside other linkage tools on public labelled data.

use foldhash::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::clustering::Constraints;
use super::dataset::Dataset;
use super::evaluate::{PairwiseScores, pairwise};
use super::spec::LinkageSpec;
use super::{LinkageError, Resolution, on_threads, resolve, threads};

/// What `lifeline link` was asked to do.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    /// One input (deduplicate) or two (link).
    pub inputs: Vec<PathBuf>,
    /// Where to write linked pairs.
    pub pairs_out: Option<PathBuf>,
    /// Where to write cluster labels.
    pub clusters_out: Option<PathBuf>,
    /// Column with truth labels.
    pub truth: Option<String>,
}

/// What a link run found.
#[derive(Debug)]
pub struct LinkReport {
    /// Records read per input.
    pub records: Vec<usize>,
    /// The resolution.
    pub resolution: Resolution,
    /// Scores against the truth, when asked.
    pub scores: Option<PairwiseScores>,
    /// Seconds spent reading the inputs.
    pub reading: f64,
    /// Seconds from the start to the persons found (reading, training, linking): what another
    /// linkage tool's "load to links" is measured against.
    pub linking: f64,
    /// Seconds for everything (the above, scoring against the truth, writing).
    pub total: f64,
}

/// One input, read whole: the cells linkage needs, in the parts it was read in.
struct Input {
    /// The parts, in file order.
    parts: Vec<Part>,
    /// The first row of each part.
    first_rows: Vec<usize>,
    /// Cells per row: the columns of each field, then the id, then the truth.
    stride: usize,
    /// Per field of the spec, the cell numbers of its columns.
    field_cells: Vec<std::ops::Range<usize>>,
    /// The id column's cell, if the spec names one.
    id_cell: Option<usize>,
    /// The truth column's cell, if asked.
    truth_cell: Option<usize>,
}

impl Input {
    fn rows(&self) -> usize {
        let stride = self.stride.max(1);
        self.parts.iter().map(|p| p.ends.len() / stride).sum()
    }

    /// The part holding row `row`, and the row's number in it.
    fn locate(&self, row: usize) -> (&Part, usize) {
        let k = self.first_rows.partition_point(|&first| first <= row) - 1;
        (&self.parts[k], row - self.first_rows[k])
    }

    /// Cell `k` of row `row`, trimmed; `None` when empty.
    fn cell(&self, row: usize, k: usize) -> Option<&str> {
        let (part, row) = self.locate(row);
        let at = row * self.stride + k;
        let start = if at == 0 {
            0
        } else {
            part.ends[at - 1] as usize
        };
        let text = part.text[start..part.ends[at] as usize].trim();
        (!text.is_empty()).then_some(text)
    }

    fn id(&self, row: usize) -> &str {
        match self.id_cell {
            Some(k) => self.cell(row, k).unwrap_or(""),
            None => {
                let (part, row) = self.locate(row);
                &part.line_ids[row]
            }
        }
    }

    fn truth(&self, row: usize) -> &str {
        self.truth_cell
            .and_then(|k| self.cell(row, k))
            .unwrap_or("")
    }
}

/// The text of a CSV file, in the encoding ingest would read it with
/// ([`detect_encoding_in`](crate::read::text::detect_encoding_in)): a byte-order mark's, else
/// UTF-8, else GB18030/GBK. (UTF-8 without a mark is read as it is by [`read_input`].)
fn decode(path: &Path, bytes: &[u8]) -> Result<String, LinkageError> {
    let detected = crate::read::text::detect_encoding_in(bytes).map_err(|e| LinkageError::Csv {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    // the encoding came from the byte-order mark when there is one: it is removed
    Ok(detected
        .encoding
        .decode_with_bom_removal(bytes)
        .0
        .into_owned())
}

/// Why the cells of a file could not be read.
enum Unread {
    /// The bytes are not UTF-8: the file is decoded first.
    NotUtf8,
    Failed(LinkageError),
}

fn read_input(spec: &LinkageSpec, path: &Path, truth: Option<&str>) -> Result<Input, LinkageError> {
    let shown = path.display().to_string();
    let bytes = read_file(path).map_err(|source| LinkageError::Io {
        path: shown.clone(),
        source,
    })?;
    // UTF-8 without a byte-order mark (most files) is read as it is, each record validated as
    // it is read (on several threads); anything else is decoded first
    if encoding_rs::Encoding::for_bom(&bytes).is_none() {
        match read_cells(spec, path, &bytes, truth) {
            Ok(input) => return Ok(input),
            Err(Unread::Failed(e)) => return Err(e),
            Err(Unread::NotUtf8) => {}
        }
    }
    let content = decode(path, &bytes)?;
    tracing::debug!(bytes = content.len(), "decoded");
    match read_cells(spec, path, content.as_bytes(), truth) {
        Ok(input) => Ok(input),
        Err(Unread::Failed(e)) => Err(e),
        Err(Unread::NotUtf8) => Err(LinkageError::Csv {
            path: shown,
            message: "the decoded text is not UTF-8".into(),
        }),
    }
}

/// The bytes of the file at `path`, its halves read on two threads where the system reads at an
/// offset (the copy out of the page cache of a 100 MB file took a tenth of a second on one core).
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        if len >= 1 << 20 && threads() > 1 {
            let mut bytes = vec![0u8; len];
            let (first, second) = bytes.split_at_mut(len / 2);
            let (a, b) = std::thread::scope(|s| {
                let a = s.spawn(|| file.read_exact_at(first, 0));
                let b = file.read_exact_at(second, (len / 2) as u64);
                (a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), b)
            });
            a?;
            b?;
            // a file that grew while it was read is read again whole
            if file.metadata()?.len() == len as u64 {
                return Ok(bytes);
            }
        }
    }
    std::fs::read(path)
}

/// The cells the spec needs of the CSV `bytes`.
fn read_cells(
    spec: &LinkageSpec,
    path: &Path,
    bytes: &[u8],
    truth: Option<&str>,
) -> Result<Input, Unread> {
    let shown = path.display().to_string();
    let failed = |message: String| {
        Unread::Failed(LinkageError::Csv {
            path: shown.clone(),
            message,
        })
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|h| h.trim().to_string()).collect(),
        Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => return Err(Unread::NotUtf8),
        Err(e) => return Err(failed(e.to_string())),
    };
    let position = |name: &str| headers.iter().position(|h| h == name);
    let mut missing = Vec::new();
    // the CSV columns kept, in cell order
    let mut kept: Vec<usize> = Vec::new();
    let mut field_cells = Vec::new();
    for field in &spec.fields {
        let first = kept.len();
        for c in &field.columns {
            match position(c) {
                Some(p) => kept.push(p),
                None => missing.push(format!("`{c}` (field {})", field.name)),
            }
        }
        field_cells.push(first..kept.len());
    }
    let mut id_cell = None;
    if let Some(c) = spec.id_column.as_deref() {
        match position(c) {
            Some(p) => {
                id_cell = Some(kept.len());
                kept.push(p);
            }
            None => missing.push(format!("`{c}` (id_column)")),
        }
    }
    let mut truth_cell = None;
    if let Some(c) = truth {
        match position(c) {
            Some(p) => {
                truth_cell = Some(kept.len());
                kept.push(p);
            }
            None => missing.push(format!("`{c}` (--truth)")),
        }
    }
    if !missing.is_empty() {
        return Err(failed(format!(
            "missing column(s) {}; the header has {}",
            missing.join(", "),
            headers.join(", ")
        )));
    }
    let file_name = path
        .file_name()
        .map_or(shown.clone(), |n| n.to_string_lossy().into_owned());
    // the records after the header, read in parts on their own threads (see `parts`)
    let body_start = (reader.position().byte() as usize).min(bytes.len());
    let body = &bytes[body_start..];
    let header_lines = bytes[..body_start].iter().filter(|&&b| b == b'\n').count() as u64;
    let cells = Cells {
        kept: &kept,
        with_line_ids: id_cell.is_none(),
        file_name: &file_name,
    };
    let read: Vec<Result<Part, Unread>> =
        on_threads(parts(body, threads(), 1 << 20), |(part, lines_before)| {
            cells.read(part, header_lines + lines_before)
        });
    tracing::debug!(parts = read.len(), "records read");
    let mut input = Input {
        parts: Vec::with_capacity(read.len()),
        first_rows: Vec::with_capacity(read.len()),
        stride: kept.len(),
        field_cells,
        id_cell,
        truth_cell,
    };
    let mut rows = 0;
    for part in read {
        let part = part?;
        input.first_rows.push(rows);
        rows += part.ends.len() / input.stride.max(1);
        input.parts.push(part);
    }
    Ok(input)
}

/// `body` cut into at most `n` parts of whole records, each with the number of lines before it.
/// A cut falls after a line end; it is made only in a body without quote characters, where no
/// line end can lie inside a quoted cell (a body with quotes is read in one part).
/// Parts are at least `least` bytes (1 MiB: a smaller body is read faster than a thread starts).
fn parts(body: &[u8], n: usize, least: usize) -> Vec<(&[u8], u64)> {
    if n < 2 || body.len() < 2 * least || body.contains(&b'"') {
        return vec![(body, 0)];
    }
    let mut out = Vec::with_capacity(n);
    let (mut start, mut lines) = (0, 0u64);
    for k in 1..n {
        let target = (body.len() * k / n).max(start);
        let Some(cut) = body[target..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| target + p + 1)
        else {
            break;
        };
        let part = &body[start..cut];
        out.push((part, lines));
        lines += part.iter().filter(|&&b| b == b'\n').count() as u64;
        start = cut;
    }
    out.push((&body[start..], lines));
    out
}

/// The cells one part of a CSV body yields.
struct Part {
    /// The cells' text, one after another.
    text: String,
    /// Per row, `stride` cells: the end of each in `text` (a cell starts where the one before
    /// it ends).
    ends: Vec<u32>,
    /// `FILE:LINE` ids when the spec names no id column.
    line_ids: Vec<String>,
}

/// Which cells of a record are kept.
struct Cells<'a> {
    /// The CSV columns kept, in cell order.
    kept: &'a [usize],
    /// Whether records are named `FILE:LINE` (no id column).
    with_line_ids: bool,
    file_name: &'a str,
}

impl Cells<'_> {
    /// Reads the records of `part`, which starts after `lines_before` lines of the file.
    fn read(&self, part: &[u8], lines_before: u64) -> Result<Part, Unread> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(part);
        let mut out = Part {
            text: String::with_capacity(part.len()),
            ends: Vec::new(),
            line_ids: Vec::new(),
        };
        let mut record = csv::StringRecord::new();
        let mut line = lines_before + 1;
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                    return Err(Unread::NotUtf8);
                }
                Err(e) => {
                    return Err(Unread::Failed(LinkageError::Csv {
                        path: self.file_name.to_string(),
                        message: format!("after line {line}: {e}"),
                    }));
                }
            }
            line = record
                .position()
                .map_or(line + 1, |p| lines_before + p.line());
            for &k in self.kept {
                out.text.push_str(record.get(k).unwrap_or(""));
                let end = u32::try_from(out.text.len()).map_err(|_| {
                    Unread::Failed(LinkageError::Csv {
                        path: self.file_name.to_string(),
                        message: "the file is larger than 4 GiB".into(),
                    })
                })?;
                out.ends.push(end);
            }
            if self.with_line_ids {
                out.line_ids.push(format!("{}:{line}", self.file_name));
            }
        }
        Ok(out)
    }
}

/// The inputs' rows prepared for linkage, each field's column on its own thread.
fn dataset(spec: &LinkageSpec, inputs: &[Input]) -> Dataset {
    let rows: Vec<(&Input, usize)> = inputs
        .iter()
        .flat_map(|input| (0..input.rows()).map(move |row| (input, row)))
        .collect();
    let sources: Vec<u8> = inputs
        .iter()
        .enumerate()
        .flat_map(|(k, input)| std::iter::repeat_n(k as u8, input.rows()))
        .collect();
    let data = Dataset::from_fn(
        spec,
        rows.len(),
        vec![u32::MAX; rows.len()],
        |i, f, values| {
            let (input, row) = rows[i];
            values.extend(input.field_cells[f].clone().map(|k| input.cell(row, k)))
        },
    );
    data.with_sources(sources)
}

fn truth_label(value: &str, number: bool) -> &str {
    if !number {
        return value;
    }
    let start = value.find(|c: char| c.is_ascii_digit());
    match start {
        Some(s) => {
            let rest = &value[s..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            &rest[..end]
        }
        None => value,
    }
}

/// Runs `lifeline link`.
pub fn link(spec: &LinkageSpec, request: &LinkRequest) -> Result<LinkReport, LinkageError> {
    let started = Instant::now();
    if request.inputs.is_empty() || request.inputs.len() > 2 {
        return Err(LinkageError::Invalid(
            "give one CSV to deduplicate or two to link".into(),
        ));
    }
    let mut inputs = Vec::new();
    for path in &request.inputs {
        inputs.push(read_input(spec, path, request.truth.as_deref())?);
    }
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "inputs read");
    let data = dataset(spec, &inputs);
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "records prepared"
    );
    let reading = started.elapsed().as_secs_f64();
    let resolution = resolve(spec, &data, &Constraints::default());
    let linking = started.elapsed().as_secs_f64();
    let ids: Vec<&str> = inputs
        .iter()
        .flat_map(|input| (0..input.rows()).map(move |row| input.id(row)))
        .collect();
    let scores = request.truth.as_ref().map(|_| {
        let mut labels: HashMap<&str, u32> = HashMap::default();
        let truth: Vec<u32> = inputs
            .iter()
            .flat_map(|input| (0..input.rows()).map(move |row| input.truth(row)))
            .map(|v| {
                let v = truth_label(v, spec.truth_number);
                if v.is_empty() {
                    return u32::MAX;
                }
                let next = labels.len() as u32;
                *labels.entry(v).or_insert(next)
            })
            .collect();
        let source = (inputs.len() == 2).then_some(data.source.as_slice());
        pairwise(&resolution.clusters, &truth, source, &resolution.candidates)
    });
    if let Some(path) = &request.pairs_out {
        write_pairs(path, &resolution, &ids, &data)?;
    }
    if let Some(path) = &request.clusters_out {
        write_clusters(path, &resolution, &ids)?;
    }
    Ok(LinkReport {
        records: inputs.iter().map(Input::rows).collect(),
        resolution,
        scores,
        reading,
        linking,
        total: started.elapsed().as_secs_f64(),
    })
}

fn writer(path: &Path) -> Result<csv::Writer<File>, LinkageError> {
    csv::Writer::from_path(path).map_err(|e| csv_error(path, e))
}

fn csv_error(path: &Path, e: csv::Error) -> LinkageError {
    LinkageError::Csv {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn write_pairs(
    path: &Path,
    r: &Resolution,
    ids: &[&str],
    data: &Dataset,
) -> Result<(), LinkageError> {
    let mut out = writer(path)?;
    let fail = |e| csv_error(path, e);
    out.write_record(["id_a", "id_b", "weight", "probability"])
        .map_err(fail)?;
    // strongest first
    let mut links = r.links.clone();
    links.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    for (w, i, j) in links {
        let (i, j) = (i as usize, j as usize);
        if r.clusters[i] != r.clusters[j] || (data.is_link() && data.source[i] == data.source[j]) {
            continue;
        }
        let weight = format!("{w:.3}");
        let probability = format!("{:.6}", super::scoring::probability(w as f64));
        out.write_record([ids[i], ids[j], &weight, &probability])
            .map_err(fail)?;
    }
    out.flush().map_err(|e| LinkageError::Io {
        path: path.display().to_string(),
        source: e,
    })
}

fn write_clusters(path: &Path, r: &Resolution, ids: &[&str]) -> Result<(), LinkageError> {
    let mut out = writer(path)?;
    let fail = |e| csv_error(path, e);
    out.write_record(["id", "cluster"]).map_err(fail)?;
    for (i, c) in r.clusters.iter().enumerate() {
        out.write_record([ids[i], ids[*c as usize]]).map_err(fail)?;
    }
    out.flush().map_err(|e| LinkageError::Io {
        path: path.display().to_string(),
        source: e,
    })
}

impl std::fmt::Display for LinkReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.resolution;
        let records: Vec<String> = self.records.iter().map(|n| n.to_string()).collect();
        writeln!(f, "records: {}", records.join(" + "))?;
        for rule in &r.rules {
            write!(f, "blocking {:<40} {:>10} pairs", rule.label, rule.pairs)?;
            if rule.different_ids > 0 {
                write!(
                    f,
                    "  ({} of two different valid ID numbers not compared)",
                    rule.different_ids
                )?;
            }
            if rule.skipped_blocks > 0 {
                write!(
                    f,
                    "  ({} blocks of {} records too large, skipped)",
                    rule.skipped_blocks, rule.skipped_records
                )?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "compared {} pairs; model: λ = {:.5} after {} EM iterations, u from {} random pairs",
            r.candidates.len(),
            r.model.lambda,
            r.model.iterations,
            r.model.random_pairs
        )?;
        let clusters = {
            let mut c: Vec<u32> = r.clusters.clone();
            c.sort_unstable();
            c.dedup();
            c.len()
        };
        writeln!(
            f,
            "links {}  review band {}  clusters {}",
            r.links.len(),
            r.review.len(),
            clusters
        )?;
        let x = &r.refusals;
        if x.different_ids + x.guarded + x.same_row + x.cannot_link + x.one_to_one > 0 {
            writeln!(
                f,
                "merges refused: {} different valid IDs, {} guarded values apart, {} same source row, {} cannot-link, {} one-to-one",
                x.different_ids, x.guarded, x.same_row, x.cannot_link, x.one_to_one
            )?;
        }
        if let Some(s) = &self.scores {
            writeln!(f, "{s}")?;
        }
        let t = &r.timings;
        write!(
            f,
            "time: total {:.3} s, of which linkage {:.3} s (reading {:.3}, blocking {:.3}, comparing {:.3}, training {:.3}, clustering {:.3})",
            self.total,
            self.linking,
            self.reading,
            t.blocking,
            t.comparing,
            t.training,
            t.clustering
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_cut_after_line_ends_unless_it_holds_quotes() {
        let body: String = (0..1000)
            .map(|k| format!("{k},张{k},{}\n", k * 7))
            .collect();
        let cut = parts(body.as_bytes(), 3, 100);
        assert_eq!(cut.len(), 3);
        assert_eq!(
            cut.iter().map(|(p, _)| *p).collect::<Vec<_>>().concat(),
            body.as_bytes()
        );
        let mut lines = 0;
        for (part, before) in &cut {
            assert!(part.ends_with(b"\n"));
            assert_eq!(*before, lines);
            lines += part.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        // a quoted cell may hold a line end: such a body is one part
        let quoted = body.replacen("张1,", "\"张\n1\",", 1);
        assert_eq!(
            parts(quoted.as_bytes(), 3, 100),
            vec![(quoted.as_bytes(), 0)]
        );
        assert_eq!(
            parts(body.as_bytes(), 3, body.len()).len(),
            1,
            "too small to cut"
        );
    }

    #[test]
    fn records_read_in_parts_are_named_by_their_line_in_the_file() {
        let cells = Cells {
            kept: &[1],
            with_line_ids: true,
            file_name: "a.csv",
        };
        let Ok(part) = cells.read("7,王芳\n8,李娜\n".as_bytes(), 10) else {
            panic!("valid CSV");
        };
        assert_eq!(part.text, "王芳李娜");
        assert_eq!(part.ends, vec![6, 12]);
        assert_eq!(part.line_ids, vec!["a.csv:11", "a.csv:12"]);
    }
}
