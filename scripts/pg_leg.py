"""Run a command against a throwaway PostgreSQL cluster, then remove the cluster.

    python scripts/pg_leg.py -- python -m pytest

Looks for `initdb` and `pg_ctl` on PATH and in /usr/lib/postgresql/*/bin. Without them it prints a
notice and exits 0, unless REQUIRE_POSTGRES=1 (CI), where it fails. The command gets
TEST_DATABASE_URL (a superuser URL over a Unix socket) and TEST_PG_BIN / TEST_PG_DATA / TEST_PG_USER so
fault tests can restart the server.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def find_bin() -> Path | None:
    candidates = [os.path.dirname(p) for p in (shutil.which("pg_ctl"),) if p]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        print("usage: pg_leg.py -- COMMAND...", file=sys.stderr)
        return 2
    bindir = find_bin()
    if bindir is None:
        msg = "PostgreSQL server binaries (initdb, pg_ctl) not found: PostgreSQL leg skipped"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            print(f"error: {msg} but REQUIRE_POSTGRES=1", file=sys.stderr)
            return 1
        print(f"notice: {msg}", file=sys.stderr)
        return 0

    # initdb refuses to run as root; run the server as the `postgres` user then.
    run_as: list[str] = []
    user = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        user = "postgres"
        run_as = ["runuser", "-u", user, "--"]
    tmp = Path(tempfile.mkdtemp(prefix="pgleg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if run_as:
        pw = pwd.getpwnam(user)
        for path in (tmp, sock):
            os.chown(path, pw.pw_uid, pw.pw_gid)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    try:
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--auth=trust",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        options = (
            f"-k {sock} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(tmp / "log"),
                "-w",
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        print(f"PostgreSQL leg: throwaway cluster in {tmp} on port {port}", file=sys.stderr)
        child_env = {
            **os.environ,
            "TEST_DATABASE_URL": url,
            "TEST_PG_BIN": str(bindir),
            "TEST_PG_DATA": str(data),
            "TEST_PG_OPTIONS": options,
            "TEST_PG_LOG": str(tmp / "log"),
            "TEST_PG_RUN_AS": " ".join(run_as),
        }
        started = time.monotonic()
        code = subprocess.run(command, env=child_env).returncode
        print(
            f"PostgreSQL leg finished in {time.monotonic() - started:.0f}s with exit code {code}",
            file=sys.stderr,
        )
        return code
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
