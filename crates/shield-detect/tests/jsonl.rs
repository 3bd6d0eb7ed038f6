//! The JSON-lines interface.
use shield_detect::{DetectError, Detector, jsonl};

fn run(input: &str) -> (Result<usize, DetectError>, Vec<serde_json::Value>) {
    let mut out = Vec::new();
    let r = jsonl::run(input.as_bytes(), &mut out, &Detector::rules_only());
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (r, lines)
}

#[test]
fn round_trip() {
    let input = concat!(
        "{\"id\": \"a1\", \"text\": \"🙂 I'm going to kill you\"}\n",
        "\n",
        "{\"id\": 7, \"text\": \"Thanks for the leaflet\"}\n",
        "{\"id\": \"c\", \"text\": \"She lives at 4 Mill Lane, HX7 8AA. Pay her a visit.\"}\n",
    );
    let (r, out) = run(input);
    assert_eq!(r.unwrap(), 3);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["id"], "a1");
    assert_eq!(out[0]["labels"][0], "threat_violence");
    for key in ["threat_violence", "threat_sexual", "doxxing", "abuse"] {
        assert!(out[0]["scores"][key].is_number(), "missing score {key}");
    }
    let span = &out[0]["spans"][0];
    assert_eq!(span["label"], "threat_violence");
    assert_eq!(span["start"], 2, "char offset after the emoji and space");
    assert_eq!(span["end"], 23);
    assert_eq!(out[1]["id"], 7);
    assert_eq!(out[1]["labels"].as_array().unwrap().len(), 0);
    assert!(
        out[2]["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "doxxing")
    );
}

#[test]
fn malformed_line_names_the_line() {
    let input = "{\"id\": \"1\", \"text\": \"hello\"}\n{\"id\": \"2\", \"txt\": \"oops\"}\n{\"id\": \"3\", \"text\": \"x\"}\n";
    let (r, out) = run(input);
    let err = r.unwrap_err();
    assert!(matches!(err, DetectError::Line { line: 2, .. }), "{err}");
    assert!(err.to_string().starts_with("line 2:"), "{err}");
    assert_eq!(out.len(), 1, "lines before the bad one are still written");
}

#[test]
fn invalid_json_names_the_line() {
    let (r, _) = run("{\"id\": \"1\", \"text\": \"ok\"}\n\nnot json\n");
    assert!(r.unwrap_err().to_string().contains("line 3"));
}
