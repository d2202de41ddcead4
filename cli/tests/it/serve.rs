//! `dit serve`: who may be signed in, where it listens (127.0.0.1 only), the Host it answers and
//! its per-run sign-in link. The pages themselves
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
        // A trainee's GMC number is 7 digits, and a wrong one is not echoed.
        ("trainee:754415", "trainee:<GMC>"),
    ] {
        let output = dit(&data)
            .args(["serve", "--as", who, "--port", "0"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{who}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{who}: {stderr}");
        assert!(!stderr.contains("754415"), "{who}: {stderr}");
    }

    let mut child = dit(&data)
        .args(["serve", "--as", "trust:504", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{line}");
    let mut sign_in = String::new();
    out.read_line(&mut sign_in).unwrap();
    let sign_in_path = sign_in
        .split(&format!("http://{address}"))
        .nth(1)
        .unwrap_or_else(|| panic!("no sign-in URL in {sign_in:?}"))
        .trim()
        .to_string();
    assert!(sign_in_path.starts_with("/sign-in?token="), "{sign_in}");

    // One request through a plain socket each.
    let get = |host: &str, path: &str, cookie: &str| {
        let mut stream = TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    // A page reached by another name (DNS rebinding) is refused, even with the sign-in link.
    let port = address.split(':').nth(1).unwrap();
    let foreign = get(&format!("rebound.example:{port}"), &sign_in_path, "");
    assert!(foreign.starts_with("HTTP/1.1 421"), "{foreign}");
    // Without the session cookie: 401.
    let anonymous = get(&address, "/inbox", "");
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    assert!(!anonymous.contains("Trust 504"));
    // The printed link signs in once: a cookie, then a redirect.
    let signed_in = get(&address, &sign_in_path, "");
    assert!(signed_in.starts_with("HTTP/1.1 303"), "{signed_in}");
    let cookie = signed_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("no cookie in {signed_in}"));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let again = get(&address, &sign_in_path, "");
    assert!(
        again.starts_with("HTTP/1.1 401"),
        "the link works once: {again}"
    );
    // With the cookie, the page answers, signed in as trust 504 (by localhost too).
    let answer = get(&address, "/inbox", &format!("Cookie: {pair}\r\n"));
    let by_name = get(
        &format!("localhost:{port}"),
        "/inbox",
        &format!("Cookie: {pair}\r\n"),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(by_name.starts_with("HTTP/1.1 200"), "{by_name}");
    assert!(answer.contains("Signed in: Trust 504"));
    assert!(answer
        .to_ascii_lowercase()
        .contains("content-security-policy:"));
}
