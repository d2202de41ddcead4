#!/usr/bin/env python3
"""Start-up time and size of Lambda bootstrap binaries, against a local Lambda runtime API.

Start-up is the time from spawning a bootstrap to its first request for an event
(GET /2018-06-01/runtime/invocation/next) on a stub runtime API listening on loopback: what a
cold start costs beyond the download, before the first event is handled. The stub never answers,
so nothing is handled; the process is killed once the request has arrived.

The functions get the environment Lambda gives them plus the project's settings, with the
organisation configuration inline (ORGANISATIONS_TOML), so no network call is part of start-up.

    scripts/lambda-startup.py [--runs N] [--baseline] BOOTSTRAP...

--baseline also builds, in a temporary folder outside the repository, an empty function (a
lambda_runtime handler that returns at once) with the same lambda_runtime version and the same
`lambda` profile as the project, and measures it too: the floor the functions are compared to.
Binaries are started round-robin, so other load on the machine falls on all of them alike.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NEXT = b"GET /2018-06-01/runtime/invocation/next"

ORGANISATIONS = REPO / "events" / "files" / "organisations.toml"
ASSETS = REPO / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"


def environment(port: int) -> dict:
    return {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "startup-probe",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "probe",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/startup-probe",
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "probe",
        "AWS_SECRET_ACCESS_KEY": "probe",
        "AWS_SESSION_TOKEN": "probe",
        "TABLE_NAME": "dit-state",
        "INBOUND_BUCKET": "dit-inbound",
        "OUTBOUND_BUCKET": "dit-outbound",
        "ORGANISATIONS_TOML": ORGANISATIONS.read_text(),
        # The portal's own settings (a stand-in key; the styles as `npm ci` installs them, which
        # the portal reads at start-up as it reads its layer in Lambda; without them it logs
        # `no_styles` and starts all the same).
        "PORTAL_CSRF_SECRET": "startup-probe-key-of-at-least-32-characters",
        "PORTAL_ASSETS_DIR": str(ASSETS),
        "RUST_LOG": "info",
    }


def start_up_ms(binary: Path) -> float:
    """One cold start: spawn to the first byte of the request for the next event."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(binary)],
            env=environment(port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            connection = None
            waited = time.perf_counter()
            while connection is None:
                # Short waits, so that a binary that exits at start-up is reported at once.
                server.settimeout(0.1)
                try:
                    connection, _ = server.accept()
                except TimeoutError:
                    if process.poll() is not None:
                        error = process.stderr.read().decode(errors="replace").strip()
                        raise RuntimeError(f"{binary} exited at start-up: {error[-500:]}")
                    if time.perf_counter() - waited > 10:
                        raise
            with connection:
                connection.settimeout(10)
                received = b""
                while not received.startswith(NEXT) and len(received) < len(NEXT):
                    chunk = connection.recv(len(NEXT))
                    if not chunk:
                        break
                    received += chunk
                arrived = time.perf_counter()
            if not received.startswith(NEXT):
                raise RuntimeError(f"{binary}: first request was {received!r}")
        finally:
            process.kill()
            process.wait()
    return (arrived - started) * 1000


def measure(binaries: list, runs: int) -> list:
    """Start-up of each binary, `runs` times, round-robin so that other load on the machine
    falls on all of them alike; one unmeasured start each first (the page cache warm, as for a
    function whose package Lambda has already fetched)."""
    for binary in binaries:
        start_up_ms(binary)
    times = [[] for _ in binaries]
    for _ in range(runs):
        for index, binary in enumerate(binaries):
            times[index].append(start_up_ms(binary))
    results = []
    for binary, samples in zip(binaries, times):
        samples.sort()
        results.append(
            {
                "size": binary.stat().st_size,
                "median": statistics.median(samples),
                "min": samples[0],
                "p90": samples[max(0, int(len(samples) * 0.9) - 1)],
            }
        )
    return results


def build_baseline(folder: Path, target: Path) -> Path:
    """An empty lambda_runtime function built with the project's lambda profile."""
    lock = tomllib.loads((REPO / "Cargo.lock").read_text())
    versions = {p["name"]: p["version"] for p in lock["package"]}
    manifest = tomllib.loads((REPO / "Cargo.toml").read_text())
    profile = manifest["profile"]["lambda"]
    runtime = manifest["workspace"]["dependencies"]["lambda_runtime"]
    (folder / "src").mkdir(parents=True)
    profile_lines = "\n".join(
        f"{key} = {value!r}".replace("'", '"').replace("True", "true").replace("False", "false")
        for key, value in profile.items()
    )
    (folder / "Cargo.toml").write_text(
        f"""[package]
name = "empty-lambda"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
lambda_runtime = {{ version = "={versions['lambda_runtime']}", default-features = false, features = {runtime.get('features', [])!r} }}
tokio = {{ version = "={versions['tokio']}", features = ["macros"] }}
serde_json = "1"

[profile.lambda]
{profile_lines}
""".replace("'", '"')
    )
    (folder / "src" / "main.rs").write_text(
        """use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: LambdaEvent<serde_json::Value>| async {
        Ok::<_, Error>(())
    }))
    .await
}
"""
    )
    subprocess.run(
        ["cargo", "build", "--quiet", "--profile", "lambda"],
        cwd=folder,
        check=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
    )
    return target / "lambda" / "empty-lambda"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument(
        "--baseline-target",
        type=Path,
        help="cargo target folder for the empty function (kept, so a second run builds nothing)",
    )
    parser.add_argument("bootstraps", nargs="*", type=Path)
    args = parser.parse_args()
    names = []
    binaries = []
    scratch = None
    try:
        if args.baseline:
            scratch = Path(tempfile.mkdtemp(prefix="empty-lambda-"))
            target = args.baseline_target or scratch / "target"
            names.append("empty lambda_runtime")
            binaries.append(build_baseline(scratch, target.resolve()))
        for bootstrap in args.bootstraps:
            names.append(bootstrap.parent.name if bootstrap.name == "bootstrap" else bootstrap.name)
            binaries.append(bootstrap)
        rows = list(zip(names, measure(binaries, args.runs)))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"{'binary':<22} {'size':>9} {'median':>9} {'min':>8} {'p90':>8}   ({args.runs} runs)")
    for name, m in rows:
        print(
            f"{name:<22} {m['size'] / 1e6:>7.2f}MB {m['median']:>7.2f}ms {m['min']:>6.2f}ms {m['p90']:>6.2f}ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
