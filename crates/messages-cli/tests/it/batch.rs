use crate::{custom_ids, emulator, msgs, output, stderr, stdout, temp_dir, write_job};

#[tokio::test(flavor = "multi_thread")]
async fn batch_submit_wait_results() {
    let emu = emulator().await;
    let url = emu.base_url();
    let dir = temp_dir("batch");
    let job = dir.join("job.jsonl");
    write_job(&job, 5);

    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "submit"]).arg(&job);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let ids: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 1, "one batch: {ids:?}");
    let id = &ids[0];

    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "wait", id]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("5/5 done"), "{}", stderr(&out));

    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "status", id, "--json"]);
    let out = output(cmd).await;
    let status: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(status["processing_status"], "ended");

    let results = dir.join("out.jsonl");
    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "results", id, "-o"]).arg(&results);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let mut got = custom_ids(&results);
    got.sort();
    assert_eq!(got, ["q-0", "q-1", "q-2", "q-3", "q-4"]);

    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "list"]);
    let out = output(cmd).await;
    assert!(stdout(&out).contains(id.as_str()));

    // Delete it: the answer names it, and it is gone from the list.
    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "delete", id, "--json"]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let deleted: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(deleted["type"], "message_batch_deleted");
    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "list"]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(!stdout(&out).contains(id.as_str()), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_batch_submit_wait_in_one_invocation() {
    let dir = temp_dir("embedded-batch");
    let job = dir.join("job.jsonl");
    write_job(&job, 3);
    let results = dir.join("out.jsonl");
    let mut cmd = msgs(None);
    cmd.args(["batch", "submit", "--wait"])
        .arg(&job)
        .arg("-o")
        .arg(&results);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let mut got = custom_ids(&results);
    got.sort();
    assert_eq!(got, ["q-0", "q-1", "q-2"]);

    // A batch id cannot be used across embedded emulators: a clear error.
    let mut cmd = msgs(None);
    cmd.args(["batch", "wait", "msgbatch_123"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("msgs emulator --data-dir"),
        "{}",
        stderr(&out)
    );
}
