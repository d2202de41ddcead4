//! `dit serve`: who may be signed in, and where it listens (127.0.0.1 only). The pages themselves
//! are tested in `shared/portal/tests` and in a real browser (`tests/browser/`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use crate::common::command as dit;

#[test]
fn serve_takes_a_configured_trust_or_operator_and_listens_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let status = dit(&data)
        .args(["process", "events/files/"])
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(3),
        "the samples include quarantined files"
    );

    for (who, reason) in [
        ("trust:777", "not in"),
        ("admin", "trust:<VPD>"),
        ("trust:5", "trust:<VPD>"),
    ] {
        let output = dit(&data)
            .args(["serve", "--as", who, "--port", "0"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{who}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(reason),
            "{who}"
        );
    }

    let mut child = dit(&data)
        .args(["serve", "--as", "trust:504", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{line}");
    // One request through a plain socket: the page answers, signed in as trust 504.
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /inbox HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Signed in: Trust 504"));
    assert!(answer
        .to_ascii_lowercase()
        .contains("content-security-policy:"));
}
