//! Non-streaming endpoints, auth, validation, headers and generation.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn creates_a_message_with_api_headers() {
    let emu = start().await;
    let r = post(
        emu.local_addr(),
        "/v1/messages",
        &request("Tell me about rivers", 200),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let rid = r.header("request-id").unwrap();
    assert!(rid.starts_with("req_") && rid.len() == 28, "{rid}");
    for h in [
        "anthropic-ratelimit-requests-limit",
        "anthropic-ratelimit-requests-remaining",
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-tokens-limit",
        "anthropic-ratelimit-input-tokens-remaining",
        "anthropic-ratelimit-output-tokens-reset",
    ] {
        assert!(r.header(h).is_some(), "missing {h}");
    }
    let m = r.json();
    assert_eq!(m["type"], "message");
    assert_eq!(m["role"], "assistant");
    assert_eq!(m["model"], MODEL);
    assert!(m["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(m["stop_reason"], "end_turn");
    assert_eq!(m["stop_sequence"], Value::Null);
    let text = m["content"][0]["text"].as_str().unwrap();
    assert!(!text.is_empty());
    // One word is one token.
    assert_eq!(
        m["usage"]["output_tokens"].as_u64().unwrap(),
        text.split(' ').count() as u64
    );
    assert!(m["usage"]["input_tokens"].as_u64().unwrap() > 0);
    // Request ids differ per response.
    let r2 = post(
        emu.local_addr(),
        "/v1/messages",
        &request("Tell me about rivers", 200),
    )
    .await;
    assert_ne!(r2.header("request-id"), Some(rid));
    emu.shutdown().await;
}

#[tokio::test]
async fn generation_is_deterministic_and_depends_on_the_prompt() {
    let emu = start().await;
    let a = post(
        emu.local_addr(),
        "/v1/messages",
        &request("alpha prompt", 300),
    )
    .await
    .json();
    let b = post(
        emu.local_addr(),
        "/v1/messages",
        &request("alpha prompt", 300),
    )
    .await
    .json();
    let c = post(
        emu.local_addr(),
        "/v1/messages",
        &request("beta prompt", 300),
    )
    .await
    .json();
    assert_eq!(a, b);
    assert_ne!(a["content"], c["content"]);
    // Key order in the request does not matter.
    let reordered: Value = serde_json::from_str(
        r#"{"messages":[{"content":"alpha prompt","role":"user"}],"max_tokens":300,"model":"claude-sonnet-4-6"}"#,
    )
    .unwrap();
    let d = post(emu.local_addr(), "/v1/messages", &reordered)
        .await
        .json();
    assert_eq!(a, d);
    // Generated text uses the prompt's words among its own: made-up words,
    // absent from the emulator's vocabulary, show up in the reply.
    let made_up: Vec<String> = (0..30).map(|i| format!("zqx{i}word")).collect();
    let m = post(
        emu.local_addr(),
        "/v1/messages",
        &request(&made_up.join(" "), 300),
    )
    .await
    .json();
    let text = m["content"][0]["text"].as_str().unwrap().to_lowercase();
    assert!(
        made_up.iter().any(|w| text.contains(w.as_str())),
        "no prompt word in {text:?}"
    );
    // Another server instance gives the same answer.
    let emu2 = start().await;
    let e = post(
        emu2.local_addr(),
        "/v1/messages",
        &request("alpha prompt", 300),
    )
    .await
    .json();
    assert_eq!(a, e, "same answer from another server instance");
}

#[tokio::test]
async fn max_tokens_cuts_the_text() {
    let emu = start().await;
    let m = post(emu.local_addr(), "/v1/messages", &request("short", 3))
        .await
        .json();
    assert_eq!(m["stop_reason"], "max_tokens");
    assert_eq!(m["usage"]["output_tokens"], 3);
    let text = m["content"][0]["text"].as_str().unwrap();
    assert_eq!(text.split(' ').count(), 3, "{text}");
}

#[tokio::test]
async fn stop_sequences_cut_before_the_sequence() {
    let emu = start().await;
    let full = post(emu.local_addr(), "/v1/messages", &request("stop test", 500))
        .await
        .json();
    let text = full["content"][0]["text"].as_str().unwrap().to_owned();
    let words: Vec<&str> = text.split(' ').collect();
    assert!(words.len() > 6);
    // A word from the middle of the text, with its leading space.
    let seq = format!(" {}", words[5]);
    let pos = text.find(&seq).unwrap();
    let mut req = request("stop test", 500);
    req["stop_sequences"] = json!(["never-occurs-zzz", seq]);
    let cut = post(emu.local_addr(), "/v1/messages", &req).await.json();
    assert_eq!(cut["stop_reason"], "stop_sequence");
    assert_eq!(cut["stop_sequence"], json!(seq));
    let cut_text = cut["content"][0]["text"].as_str().unwrap();
    assert_eq!(cut_text, &text[..pos]);
    assert!(
        cut["usage"]["output_tokens"].as_u64().unwrap()
            < full["usage"]["output_tokens"].as_u64().unwrap()
    );
}

fn weather_tool() -> Value {
    json!({
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2, "maxLength": 40},
                "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "detail": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "alerts": {"type": "boolean"},
                "where": {
                    "type": "object",
                    "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                    "required": ["lat", "lon"]
                },
                "mode": {"anyOf": [{"type": "string", "const": "fast"}, {"type": "null"}]}
            },
            "required": ["city", "units", "days", "where"]
        }
    })
}

#[tokio::test]
async fn forced_tool_use_has_schema_valid_input() {
    let emu = start().await;
    let tool = weather_tool();
    for i in 0..20 {
        let mut req = request(&format!("weather please {i}"), 400);
        req["tools"] = json!([tool, {"name": "other", "input_schema": {"type": "object"}}]);
        req["tool_choice"] = json!({"type": "tool", "name": "get_weather"});
        let m = post(emu.local_addr(), "/v1/messages", &req).await.json();
        assert_eq!(m["stop_reason"], "tool_use");
        let content = m["content"].as_array().unwrap();
        assert_eq!(content.len(), 1, "forced tool: no text before it");
        let block = &content[0];
        assert_eq!(block["type"], "tool_use");
        assert_eq!(block["name"], "get_weather");
        assert!(block["id"].as_str().unwrap().starts_with("toolu_"));
        validate_schema(&tool["input_schema"], &block["input"])
            .unwrap_or_else(|e| panic!("{e}: {}", block["input"]));
    }
}

#[tokio::test]
async fn auto_tool_choice_calls_a_tool_then_answers_a_tool_result() {
    let emu = start().await;
    let mut req = request("What is the weather in Paris?", 400);
    req["tools"] = json!([weather_tool()]);
    let m = post(emu.local_addr(), "/v1/messages", &req).await.json();
    assert_eq!(m["stop_reason"], "tool_use");
    assert_eq!(m["content"][0]["type"], "text");
    assert_eq!(m["content"][1]["type"], "tool_use");
    let id = m["content"][1]["id"].clone();
    req["messages"] = json!([
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": m["content"].clone()},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "18C"}]},
    ]);
    let answer = post(emu.local_addr(), "/v1/messages", &req).await.json();
    assert_eq!(answer["stop_reason"], "end_turn");
    assert!(
        answer["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] == "text")
    );
    // tool_choice none never calls a tool.
    let mut none = request("What is the weather in Paris?", 400);
    none["tools"] = json!([weather_tool()]);
    none["tool_choice"] = json!({"type": "none"});
    let n = post(emu.local_addr(), "/v1/messages", &none).await.json();
    assert_eq!(n["stop_reason"], "end_turn");
}

#[tokio::test]
async fn thinking_comes_first_with_a_signature() {
    let emu = start().await;
    let mut req = request("Think about it", 4000);
    req["thinking"] = json!({"type": "enabled", "budget_tokens": 2000});
    let m = post(emu.local_addr(), "/v1/messages", &req).await.json();
    assert_eq!(m["content"][0]["type"], "thinking");
    assert!(!m["content"][0]["thinking"].as_str().unwrap().is_empty());
    assert!(!m["content"][0]["signature"].as_str().unwrap().is_empty());
    assert_eq!(m["content"][1]["type"], "text");
    let words = |s: &str| s.split(' ').count() as u64;
    let expected = words(m["content"][0]["thinking"].as_str().unwrap())
        + words(m["content"][1]["text"].as_str().unwrap());
    assert_eq!(m["usage"]["output_tokens"].as_u64().unwrap(), expected);
}

#[tokio::test]
async fn count_tokens_matches_message_usage() {
    let emu = start().await;
    let req = request("Count these tokens please, all of them", 100);
    let m = post(emu.local_addr(), "/v1/messages", &req).await.json();
    let mut count_req = req.clone();
    count_req.as_object_mut().unwrap().remove("max_tokens");
    let c = post(emu.local_addr(), "/v1/messages/count_tokens", &count_req).await;
    assert_eq!(c.status, 200);
    assert_eq!(c.json()["input_tokens"], m["usage"]["input_tokens"]);
    let longer = post(
        emu.local_addr(),
        "/v1/messages/count_tokens",
        &request(&"many words here ".repeat(100), 1),
    )
    .await
    .json();
    assert!(
        longer["input_tokens"].as_u64().unwrap() > c.json()["input_tokens"].as_u64().unwrap() + 300
    );
}

#[tokio::test]
async fn models_list_retrieve_and_page() {
    let emu = start().await;
    let addr = emu.local_addr();
    let all = get(addr, "/v1/models").await.json();
    let data = all["data"].as_array().unwrap();
    assert!(data.len() >= 5);
    assert_eq!(all["has_more"], false);
    assert_eq!(all["first_id"], data[0]["id"]);
    let page1 = get(addr, "/v1/models?limit=2").await.json();
    assert_eq!(page1["data"].as_array().unwrap().len(), 2);
    assert_eq!(page1["has_more"], true);
    let after = page1["last_id"].as_str().unwrap();
    let page2 = get(addr, &format!("/v1/models?limit=2&after_id={after}"))
        .await
        .json();
    assert_eq!(page2["data"][0]["id"], data[2]["id"]);
    let before = get(
        addr,
        &format!(
            "/v1/models?limit=5&before_id={}",
            data[2]["id"].as_str().unwrap()
        ),
    )
    .await
    .json();
    assert_eq!(before["data"].as_array().unwrap().len(), 2);
    assert_eq!(before["has_more"], false);

    let one = get(addr, "/v1/models/claude-sonnet-4-5-20250929")
        .await
        .json();
    assert_eq!(one["type"], "model");
    assert_eq!(one["display_name"], "Claude Sonnet 4.5");
    let alias = get(addr, "/v1/models/claude-sonnet-4-5").await.json();
    assert_eq!(alias["id"], "claude-sonnet-4-5-20250929");
    get(addr, "/v1/models/claude-nope")
        .await
        .api_error(404, "not_found_error");
    let msg = get(addr, "/v1/models?limit=0")
        .await
        .api_error(400, "invalid_request_error");
    assert!(msg.starts_with("limit:"), "{msg}");
}

#[tokio::test]
async fn every_model_of_the_table_is_accepted_until_it_retires() {
    let catalog = messages_types::ModelCatalog::builtin();
    let today = "2026-11-30";
    let emu = builder()
        .model("my-custom-model")
        .today(today)
        .start()
        .await
        .unwrap();
    let mut names: Vec<(String, Option<String>)> = Vec::new();
    for m in &catalog.models {
        let retired = m.retires_on.clone().filter(|on| today >= on.as_str());
        names.push((m.id.clone(), retired.clone()));
        for a in &m.aliases {
            names.push((a.clone(), retired.clone()));
        }
    }
    names.push(("my-custom-model".into(), None));
    for required in ["claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-5"] {
        assert!(
            names.iter().any(|(n, r)| n == required && r.is_none()),
            "{required}"
        );
    }
    for (m, retired) in names {
        let mut req = request("hi", 5);
        req["model"] = json!(m);
        let r = post(emu.local_addr(), "/v1/messages", &req).await;
        match retired {
            None => {
                assert_eq!(r.status, 200, "{m}");
                assert_eq!(r.json()["model"], m);
            }
            Some(on) => {
                let msg = r.api_error(404, "not_found_error");
                assert!(msg.contains(&on) && msg.contains("retired"), "{m}: {msg}");
            }
        }
    }
    let mut req = request("hi", 5);
    req["model"] = json!("claude-9");
    let msg = post(emu.local_addr(), "/v1/messages", &req)
        .await
        .api_error(404, "not_found_error");
    assert_eq!(msg, "model: claude-9");
}

#[tokio::test]
async fn models_files_add_models_with_their_limits() {
    let emu = builder()
        .models_json(r#"[{"id": "claude-next-1", "aliases": ["next"], "max_output_tokens": 10}]"#)
        .start()
        .await
        .unwrap();
    let mut req = request("hi", 10);
    req["model"] = json!("next");
    assert_eq!(
        post(emu.local_addr(), "/v1/messages", &req).await.status,
        200
    );
    req["max_tokens"] = json!(11);
    let msg = post(emu.local_addr(), "/v1/messages", &req)
        .await
        .api_error(400, "invalid_request_error");
    assert!(msg.starts_with("max_tokens: 11 > 10"), "{msg}");
    let err = builder().models_json("{").start().await.unwrap_err();
    assert!(err.is_models_file(), "{err}");
}

#[tokio::test]
async fn adaptive_thinking_is_accepted_and_honoured() {
    let emu = start().await;
    let mut req = request("think about rivers", 400);
    req["model"] = json!("claude-opus-4-6");
    req["thinking"] = json!({"type": "adaptive"});
    let m = post(emu.local_addr(), "/v1/messages", &req).await.json();
    assert_eq!(m["content"][0]["type"], "thinking", "{m}");
    assert!(!m["content"][0]["thinking"].as_str().unwrap().is_empty());
    assert!(!m["content"][0]["signature"].as_str().unwrap().is_empty());
    assert_eq!(m["content"][1]["type"], "text");
    assert!(
        m["usage"]["output_tokens_details"]["thinking_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );

    // `display: omitted`: a signature, no thinking text, tokens still counted.
    req["thinking"] = json!({"type": "adaptive", "display": "omitted"});
    let m = post(emu.local_addr(), "/v1/messages", &req).await.json();
    assert_eq!(m["content"][0]["thinking"], "");
    assert!(!m["content"][0]["signature"].as_str().unwrap().is_empty());
    assert!(
        m["usage"]["output_tokens_details"]["thinking_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );

    // A budget is not part of adaptive thinking; older models lack it.
    req["thinking"] = json!({"type": "adaptive", "budget_tokens": 2000});
    let msg = post(emu.local_addr(), "/v1/messages", &req)
        .await
        .api_error(400, "invalid_request_error");
    assert_eq!(
        msg,
        "thinking.adaptive.budget_tokens: Extra inputs are not permitted"
    );
    req["thinking"] = json!({"type": "adaptive"});
    req["model"] = json!("claude-haiku-4-5");
    let msg = post(emu.local_addr(), "/v1/messages", &req)
        .await
        .api_error(400, "invalid_request_error");
    assert!(
        msg.starts_with("thinking.type: adaptive thinking is not supported"),
        "{msg}"
    );
}

#[tokio::test]
async fn output_config_json_schema_gives_valid_json() {
    let emu = start().await;
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}}
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": false
    });
    for prompt in ["one", "two", "three", "four"] {
        let mut req = request(prompt, 500);
        req["output_config"] =
            json!({"effort": "high", "format": {"type": "json_schema", "schema": schema}});
        let m = post(emu.local_addr(), "/v1/messages", &req).await.json();
        assert_eq!(m["stop_reason"], "end_turn", "{m}");
        let text = m["content"][0]["text"].as_str().unwrap();
        let value: Value = serde_json::from_str(text).expect("the text is JSON");
        validate_schema(&schema, &value).unwrap_or_else(|e| panic!("{e}: {text}"));
        // The stream gives the same text.
        let (events, _) = stream(emu.local_addr(), &streaming(req.clone()), &[]).await;
        assert_eq!(accumulate(&events)["content"][0]["text"], text);
    }
    let mut req = request("x", 50);
    req["output_config"] = json!({"effort": "extreme"});
    let msg = post(emu.local_addr(), "/v1/messages", &req)
        .await
        .api_error(400, "invalid_request_error");
    assert!(msg.starts_with("output_config.effort:"), "{msg}");
    req["output_config"] = json!({"format": {"type": "json_schema"}});
    let msg = post(emu.local_addr(), "/v1/messages", &req)
        .await
        .api_error(400, "invalid_request_error");
    assert_eq!(msg, "output_config.format.schema: Field required");
}

#[tokio::test]
async fn api_version_2026_10_21_rules() {
    let emu = start().await;
    let new = [("anthropic-version", "2026-10-21")];
    let old = [("anthropic-version", "2023-06-01")];
    for (key, value) in [
        ("temperature", json!(1.0)),
        ("top_p", json!(0.9)),
        ("top_k", json!(5)),
    ] {
        let mut req = request("hi", 5);
        req[key] = value;
        let body = req.to_string();
        let r = send(emu.local_addr(), "POST", "/v1/messages", &new, body.clone()).await;
        let msg = r.api_error(400, "invalid_request_error");
        assert_eq!(msg, format!("{key}: Extra inputs are not permitted"));
        let r = send(emu.local_addr(), "POST", "/v1/messages", &old, body).await;
        assert_eq!(r.status, 200);
    }
    let mut req = request("hi", 5);
    req["messages"] = json!([
        {"role": "user", "content": "read this"},
        {"role": "assistant", "content": [{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}]},
        {"role": "user", "content": "go on"}
    ]);
    let r = send(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &new,
        req.to_string(),
    )
    .await;
    let msg = r.api_error(400, "invalid_request_error");
    assert!(
        msg.starts_with("messages.1.content.0: document blocks"),
        "{msg}"
    );
    let mut req = request("hi", 5);
    req["messages"] = json!([{"role": "user", "content": [
        {"type": "text", "text": "q", "citations": [{"type": "char_location", "cited_text": "q", "document_index": 0, "start_char_index": 0, "end_char_index": 1}]}
    ]}]);
    let r = send(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &new,
        req.to_string(),
    )
    .await;
    let msg = r.api_error(400, "invalid_request_error");
    assert!(msg.starts_with("messages.0.content.0.citations:"), "{msg}");
    let r = send(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &old,
        req.to_string(),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[("anthropic-version", "2099-01-01")],
        request("hi", 5).to_string(),
    )
    .await;
    let msg = r.api_error(400, "invalid_request_error");
    assert!(
        msg.starts_with("anthropic-version: unknown API version"),
        "{msg}"
    );
}

#[tokio::test]
async fn auth_accepts_key_or_bearer_and_rejects_otherwise() {
    let emu = start().await;
    let addr = emu.local_addr();
    let body = request("hi", 5).to_string();
    let ct = ("content-type", "application/json");
    let none = send_raw(addr, "POST", "/v1/messages", &[ct], body.clone()).await;
    assert_eq!(none.status(), 401);
    let bearer = send_raw(
        addr,
        "POST",
        "/v1/messages",
        &[ct, ("authorization", "Bearer tok")],
        body.clone(),
    )
    .await;
    assert_eq!(bearer.status(), 200);
    let empty = send_raw(
        addr,
        "POST",
        "/v1/messages",
        &[ct, ("x-api-key", "")],
        body.clone(),
    )
    .await;
    assert_eq!(empty.status(), 401);

    let strict = builder().api_key("sk-right").start().await.unwrap();
    let a = strict.local_addr();
    let wrong = send(
        a,
        "POST",
        "/v1/messages",
        &[("x-api-key", "sk-wrong")],
        body.clone(),
    )
    .await;
    // `send` adds x-api-key: test-key first; both are wrong.
    let msg = wrong.api_error(401, "authentication_error");
    assert!(msg.contains("invalid x-api-key"));
    let right = send_raw(
        a,
        "POST",
        "/v1/messages",
        &[ct, ("x-api-key", "sk-right")],
        body.clone(),
    )
    .await;
    assert_eq!(right.status(), 200);
    let right_bearer = send_raw(
        a,
        "POST",
        "/v1/messages",
        &[ct, ("authorization", "Bearer sk-right")],
        body,
    )
    .await;
    assert_eq!(right_bearer.status(), 200);
    // With both headers the API uses `x-api-key` and ignores the token.
    let both_wrong_key = send_raw(
        a,
        "POST",
        "/v1/messages",
        &[
            ct,
            ("x-api-key", "sk-wrong"),
            ("authorization", "Bearer sk-right"),
        ],
        request("hi", 5).to_string(),
    )
    .await;
    assert_eq!(both_wrong_key.status(), 401);
    let both_right_key = send_raw(
        a,
        "POST",
        "/v1/messages",
        &[
            ct,
            ("x-api-key", "sk-right"),
            ("authorization", "Bearer sk-wrong"),
        ],
        request("hi", 5).to_string(),
    )
    .await;
    assert_eq!(both_right_key.status(), 200);
    let models = send_raw(a, "GET", "/v1/models", &[], "").await;
    assert_eq!(models.status(), 401);
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let emu = start().await;
    let ok = request("hi", 10);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = ok.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&|v| {
                v.as_object_mut().unwrap().remove("model");
            }),
            "model: Field required",
        ),
        (
            with(&|v| v["model"] = json!(5)),
            "model: Input should be a valid string",
        ),
        (
            with(&|v| {
                v.as_object_mut().unwrap().remove("max_tokens");
            }),
            "max_tokens: Field required",
        ),
        (
            with(&|v| v["max_tokens"] = json!(0)),
            "max_tokens: Input should be greater than or equal to 1",
        ),
        (
            with(&|v| v["max_tokens"] = json!("many")),
            "max_tokens: Input should be a valid integer",
        ),
        (
            with(&|v| v["max_tokens"] = json!(500_000)),
            "max_tokens: 500000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-6",
        ),
        (
            with(&|v| {
                v.as_object_mut().unwrap().remove("messages");
            }),
            "messages: Field required",
        ),
        (
            with(&|v| v["messages"] = json!([])),
            "messages: at least one message is required",
        ),
        (
            with(&|v| v["messages"] = json!("hi")),
            "messages: Input should be a valid list",
        ),
        (
            with(&|v| v["messages"][0]["role"] = json!("system")),
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (
            with(&|v| {
                v["messages"][0].as_object_mut().unwrap().remove("content");
            }),
            "messages.0.content: Field required",
        ),
        (
            with(&|v| v["messages"][0]["content"] = json!([{"text": "x"}])),
            "messages.0.content.0.type: Field required",
        ),
        (
            with(&|v| v["messages"][0]["content"] = json!([{"type": "text"}])),
            "messages.0.content.0.text: Field required",
        ),
        (
            with(&|v| v["system"] = json!(7)),
            "system: Input should be a valid string or a list of text blocks",
        ),
        (
            with(&|v| v["stop_sequences"] = json!([1])),
            "stop_sequences.0: Input should be a valid string",
        ),
        (
            with(&|v| v["temperature"] = json!(1.5)),
            "temperature: Input should be less than or equal to 1",
        ),
        (
            with(&|v| v["stream"] = json!("yes")),
            "stream: Input should be a valid boolean",
        ),
        (
            with(&|v| v["tools"] = json!([{"input_schema": {"type": "object"}}])),
            "tools.0.name: Field required",
        ),
        (
            with(&|v| v["tools"] = json!([{"name": "a b", "input_schema": {"type": "object"}}])),
            "tools.0.name: String should match pattern",
        ),
        (
            with(&|v| v["tools"] = json!([{"name": "t"}])),
            "tools.0.input_schema: Field required",
        ),
        (
            with(&|v| {
                v["tools"] = json!([{"name": "t", "input_schema": {"type": "object"}}]);
                v["tool_choice"] = json!({"type": "tool", "name": "u"});
            }),
            "tool_choice.name: Tool 'u' not found in provided tools",
        ),
        (
            with(&|v| v["tool_choice"] = json!({"type": "any"})),
            "tool_choice: tool_choice may only be specified while providing tools",
        ),
        (
            with(&|v| v["thinking"] = json!({"type": "enabled", "budget_tokens": 10})),
            "thinking.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (
            with(&|v| v["thinking"] = json!({"type": "enabled", "budget_tokens": 2048})),
            "max_tokens: `max_tokens` must be greater than `thinking.budget_tokens`",
        ),
    ];
    for (body, expected) in cases {
        let r = post(emu.local_addr(), "/v1/messages", &body).await;
        let msg = r.api_error(400, "invalid_request_error");
        assert!(
            msg.starts_with(expected),
            "expected `{expected}`, got `{msg}` for {body}"
        );
    }
}

#[tokio::test]
async fn latency_delays_every_response_head_without_serializing_requests() {
    let latency = std::time::Duration::from_millis(150);
    let emu = builder().latency(latency).start().await.unwrap();
    let addr = emu.local_addr();
    let started = std::time::Instant::now();
    let one = |i: usize| async move {
        let t = std::time::Instant::now();
        let r = post(addr, "/v1/messages", &request(&format!("latency {i}"), 20)).await;
        (r.status, t.elapsed())
    };
    let (a, b, c, d) = tokio::join!(one(0), one(1), one(2), one(3));
    for (status, elapsed) in [a, b, c, d] {
        assert_eq!(status, 200);
        assert!(elapsed >= latency, "answered after {elapsed:?}");
    }
    // Four requests at once take about one latency, not four.
    assert!(started.elapsed() < latency * 4, "{:?}", started.elapsed());
    emu.shutdown().await;
}
