//! Reading prompts and job files.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use messages::batch::BatchJob;
use messages::types::MessageRequest;

use crate::cli::JobInput;
use crate::error::CliError;

/// The prompt argument, or stdin for `-` or none.
pub(crate) fn prompt(arg: Option<&str>) -> Result<String, CliError> {
    match arg {
        Some(p) if p != "-" => Ok(p.to_owned()),
        _ => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| CliError::input(format!("reading the prompt from stdin: {e}")))?;
            if s.trim().is_empty() {
                return Err(CliError::input(
                    "the prompt is empty (pass it as an argument or on stdin)",
                ));
            }
            Ok(s)
        }
    }
}

fn open(path: &Path) -> Result<Box<dyn BufRead>, CliError> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let f = File::open(path)
        .map_err(|e| CliError::input(format!("cannot open {}: {e}", path.display())))?;
    Ok(Box::new(BufReader::new(f)))
}

/// Reads and validates the whole job before anything is sent.
pub(crate) fn read_job(input: &JobInput) -> Result<BatchJob, CliError> {
    let reader = open(&input.file)?;
    let name = input.file.display();
    let template = match &input.template {
        Some(t) => Some(template(t)?),
        None if input.prompts => {
            let mut r = MessageRequest::new(input.model.clone(), input.max_tokens);
            if let Some(s) = &input.system {
                r = r.system(s.clone());
            }
            Some(r)
        }
        None => None,
    };
    let mut reader = reader;
    let Some(template) = template else {
        // A file of plain prompts, given without --prompts: say so, rather
        // than that line 1 is not JSON.
        let first = reader
            .fill_buf()
            .map_err(|e| CliError::input(format!("cannot read {name}: {e}")))?
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .copied();
        if first.is_some_and(|b| b != b'{') {
            return Err(CliError::input(format!(
                "{name}: the first line is not a JSON object ({{\"custom_id\", \"params\"}}); for a file of plain prompts, one per line, add --prompts (with --model and --max-tokens) or --template"
            )));
        }
        let job = BatchJob::from_jsonl(reader)
            .map_err(|e| CliError::from(e).prefixed(&format!("{name}: ")))?;
        return non_empty(job, input);
    };
    let mut job = BatchJob::new();
    // The same line splitter as job files and results (LF, CRLF, lone CR).
    let mut lines = messages::batch::ResultsReader::new(reader);
    while let Some(line) = lines
        .next_raw()
        .map_err(|e| CliError::from(e).prefixed(&format!("{name}: ")))?
    {
        let n = line.number();
        let Ok(text) = std::str::from_utf8(line.bytes()) else {
            return Err(CliError::input(format!("{name}: line {n} is not UTF-8")));
        };
        let req = template.clone().user(text.to_owned());
        job.add(format!("line-{n}"), req)
            .map_err(|e| CliError::from(e).prefixed(&format!("{name}: line {n}: ")))?;
    }
    non_empty(job, input)
}

/// The same error for every command given a job without requests.
fn non_empty(job: BatchJob, input: &JobInput) -> Result<BatchJob, CliError> {
    if job.is_empty() {
        return Err(CliError::input(format!(
            "{}: no requests in the file",
            input.file.display()
        )));
    }
    Ok(job)
}

/// A `--template`: JSON request params, inline or `@FILE`.
fn template(t: &str) -> Result<MessageRequest, CliError> {
    let text = match t.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::input(format!("--template: cannot read {path}: {e}")))?,
        None => t.to_owned(),
    };
    let mut value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::input(format!("--template: not JSON: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        obj.entry("messages")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    }
    serde_json::from_value(value)
        .map_err(|e| CliError::input(format!("--template: not request params: {e}")))
}
