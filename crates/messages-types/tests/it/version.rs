//! API versions and the model catalog.

use messages_types::catalog::{Lifecycle, ModelCatalog, civil_date};
use messages_types::{
    ApiVersion, Citation, ContentBlock, DocumentBlock, DocumentSource, MessageRequest, TextBlock,
    ThinkingConfig,
};
use serde_json::json;

fn base() -> MessageRequest {
    MessageRequest::new("claude-opus-4-6", 64).user("Hi")
}

#[test]
fn sampling_parameters_are_rejected_by_2026_10_21_even_at_defaults() {
    for (req, field) in [
        (base().temperature(1.0), "temperature"),
        (base().top_p(0.99), "top_p"),
        (base().top_k(40), "top_k"),
        (base().extra("temperature", json!(1.0)), "temperature"),
    ] {
        assert!(req.check_version(ApiVersion::V2023_06_01).is_ok());
        let e = req.check_version(ApiVersion::V2026_10_21).unwrap_err();
        assert_eq!(e.field(), field);
        assert_eq!(e.version(), ApiVersion::V2026_10_21);
        assert!(e.to_string().contains("2026-10-21"), "{e}");
        assert!(e.to_string().contains(field), "{e}");
    }
    assert!(base().check_version(ApiVersion::LATEST).is_ok());
    // Token counting follows the same rules.
    let mut count = messages_types::CountTokensRequest::new("claude-opus-4-6").user("hi");
    assert!(count.check_version(ApiVersion::LATEST).is_ok());
    count.extra.insert("top_k".into(), json!(3));
    assert_eq!(
        count.check_version(ApiVersion::LATEST).unwrap_err().field(),
        "top_k"
    );
    assert!(count.check_version(ApiVersion::V2023_06_01).is_ok());
}

#[test]
fn assistant_documents_and_user_citations_are_rejected_by_2026_10_21() {
    let doc = ContentBlock::Document(DocumentBlock::new(DocumentSource::Text {
        media_type: "text/plain".into(),
        data: "x".into(),
    }));
    let req = base().assistant(vec![ContentBlock::text("a"), doc.clone()]);
    let e = req.check_version(ApiVersion::V2026_10_21).unwrap_err();
    assert_eq!(e.field(), "messages.1.content.1");
    assert!(req.check_version(ApiVersion::V2023_06_01).is_ok());
    // A document in a user turn is fine.
    assert!(
        base()
            .user(vec![doc])
            .check_version(ApiVersion::LATEST)
            .is_ok()
    );

    let mut cited = TextBlock::new("quoted");
    cited.citations = Some(vec![Citation::Unknown(json!({"type": "x"}))]);
    let req = MessageRequest::new("m", 8).user(vec![ContentBlock::Text(cited.clone())]);
    let e = req.check_version(ApiVersion::V2026_10_21).unwrap_err();
    assert_eq!(e.field(), "messages.0.content.0.citations");
    // Empty citations are accepted, and citations on assistant text too.
    cited.citations = Some(Vec::new());
    let ok = MessageRequest::new("m", 8).user(vec![ContentBlock::Text(cited)]);
    assert!(ok.check_version(ApiVersion::V2026_10_21).is_ok());
}

#[test]
fn adaptive_thinking_and_output_config_serialize_as_the_api_expects() {
    let req = base()
        .adaptive_thinking()
        .effort("high")
        .json_schema(json!({"type": "object"}))
        .inference_geo("us");
    let v = serde_json::to_value(&req).unwrap();
    assert_eq!(v["thinking"], json!({"type": "adaptive"}));
    assert_eq!(
        v["output_config"],
        json!({"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}})
    );
    assert_eq!(v["inference_geo"], "us");
    let back: MessageRequest = serde_json::from_value(v).unwrap();
    assert_eq!(back, req);
    let omitted: ThinkingConfig =
        serde_json::from_value(json!({"type": "adaptive", "display": "omitted"})).unwrap();
    assert_eq!(
        omitted,
        ThinkingConfig::Adaptive {
            display: Some("omitted".into())
        }
    );
}

#[test]
fn builtin_catalog_parses_and_knows_current_models() {
    let c = ModelCatalog::builtin();
    assert!(!c.as_of.is_empty());
    for id in [
        "claude-opus-4-6",
        "claude-sonnet-4-6",
        "claude-opus-5",
        "claude-opus-4-7",
    ] {
        let m = c.find(id).unwrap_or_else(|| panic!("{id}"));
        assert!(m.adaptive_thinking, "{id}");
        assert!(
            m.context_window >= 200_000 && m.max_output_tokens >= 64_000,
            "{id}"
        );
    }
    assert_eq!(
        c.lifecycle("claude-opus-4-5", "2026-11-30"),
        Some(Lifecycle::Deprecated { retires_on: None })
    );
    assert_eq!(
        c.lifecycle("claude-sonnet-4-5-20250929", "2026-11-29"),
        Some(Lifecycle::Deprecated {
            retires_on: Some("2026-11-30".into())
        })
    );
    assert_eq!(
        c.lifecycle("claude-sonnet-4-5", "2026-11-30"),
        Some(Lifecycle::Retired {
            on: "2026-11-30".into()
        })
    );
    assert_eq!(
        c.lifecycle("claude-opus-5", "2026-11-30"),
        Some(Lifecycle::Active)
    );
    assert_eq!(c.lifecycle("nope", "2026-11-30"), None);
}

#[test]
fn models_files_extend_the_catalog() {
    let mut c = ModelCatalog::builtin();
    let n = c.models.len();
    let extra = ModelCatalog::from_json(
        r#"[{"id": "claude-future-9", "aliases": ["future"], "context_window": 5, "max_output_tokens": 2}]"#,
    )
    .unwrap();
    c.extend(extra);
    assert_eq!(c.models.len(), n + 1);
    assert_eq!(c.find("future").unwrap().id, "claude-future-9");
    let err = ModelCatalog::from_json("{\"models\": 3}").unwrap_err();
    assert!(err.to_string().contains("invalid models file"), "{err}");
}

#[test]
fn civil_dates() {
    assert_eq!(civil_date(0), "1970-01-01");
    assert_eq!(civil_date(20_787), "2026-11-30");
    assert_eq!(civil_date(11_016), "2000-02-29");
}

#[test]
fn count_tokens_requests_carry_every_field_the_endpoint_accepts() {
    use messages_types::{CountTokensRequest, McpServer, OutputConfig, Tool, ToolChoice};
    let output: OutputConfig = serde_json::from_value(json!({"effort": "low"})).unwrap();
    let count = CountTokensRequest::new("claude-opus-4-6")
        .system("Be brief")
        .user("Search for Rust news")
        .tool(Tool::web_search())
        .tool(Tool::custom("get_weather", json!({"type": "object"})))
        .tool_choice(ToolChoice::auto())
        .thinking(ThinkingConfig::Adaptive {
            display: Some("omitted".into()),
        })
        .output_config(output)
        .mcp_server(McpServer::url("docs", "https://mcp.example.com/sse"))
        .context_management(json!({"edits": [{"type": "clear_tool_uses_20250919"}]}));
    let body = serde_json::to_value(&count).unwrap();
    assert_eq!(
        body["thinking"],
        json!({"type": "adaptive", "display": "omitted"})
    );
    assert_eq!(body["output_config"]["effort"], "low");
    assert_eq!(
        body["tools"][0]["type"]
            .as_str()
            .map(|t| t.starts_with("web_search")),
        Some(true)
    );
    assert_eq!(body["tools"][1]["name"], "get_weather");
    assert_eq!(body["tool_choice"]["type"], "auto");
    assert_eq!(body["mcp_servers"][0]["name"], "docs");
    assert_eq!(
        body["context_management"]["edits"][0]["type"],
        "clear_tool_uses_20250919"
    );
    assert!(body.get("max_tokens").is_none() && body.get("stream").is_none());
    // The typed fields round-trip, and nothing lands in `extra`.
    let back: CountTokensRequest = serde_json::from_value(body).unwrap();
    assert_eq!(back, count);
    assert!(back.extra.is_empty());

    // From a MessageRequest: the fields count tokens accepts, nothing else.
    let req = base()
        .adaptive_thinking()
        .effort("high")
        .json_schema(json!({"type": "object"}))
        .mcp_server(McpServer::url("docs", "https://mcp.example.com/sse"))
        .service_tier("auto")
        .stop_sequence("END");
    let count = CountTokensRequest::from(&req);
    assert_eq!(count.output_config, req.output_config);
    assert_eq!(count.mcp_servers, req.mcp_servers);
    assert_eq!(count.thinking, req.thinking);
    let body = serde_json::to_value(&count).unwrap();
    for absent in [
        "max_tokens",
        "service_tier",
        "stop_sequences",
        "temperature",
    ] {
        assert!(body.get(absent).is_none(), "{absent}: {body}");
    }
}

#[test]
fn count_tokens_requests_follow_the_version_rules_of_message_requests() {
    use messages_types::CountTokensRequest;
    let doc = ContentBlock::Document(DocumentBlock::new(DocumentSource::Text {
        media_type: "text/plain".into(),
        data: "x".into(),
    }));
    // Each rule, on a MessageRequest and on the count request made from it:
    // the same field, the same version.
    let cases = [
        base().extra("temperature", json!(0.5)),
        base().assistant(vec![ContentBlock::text("a"), doc]),
    ];
    for req in cases {
        let count = CountTokensRequest::from(&req);
        let mut count = count;
        count.extra = req.extra.clone();
        let a = req.check_version(ApiVersion::V2026_10_21).unwrap_err();
        let b = count.check_version(ApiVersion::V2026_10_21).unwrap_err();
        assert_eq!((a.field(), a.version()), (b.field(), b.version()));
        assert!(count.check_version(ApiVersion::V2023_06_01).is_ok());
    }
    // Adaptive thinking and output_config are accepted by both versions.
    let count = CountTokensRequest::from(&base().adaptive_thinking().effort("low"));
    for v in ApiVersion::ALL {
        assert!(count.check_version(v).is_ok(), "{v}");
    }
}
