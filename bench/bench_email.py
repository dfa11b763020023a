"""Email throughput: one SMTP connection per batch against a connection per message.

Both senders talk to a real aiosmtpd on 127.0.0.1 configured like a provincial mail
server (STARTTLS required, AUTH), running in its own process as a mail server would,
with the same rendered reminders. The naive sender is
aiosmtplib's one-shot `send()`, which, as any sender that opens a connection per message,
also builds its TLS context (the system trust store) per message. A third line separates
the pure connection cost: a connection per message, TLS context reused.
Target (issue 6): the batch sender ≥ 20× the naive one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import aiosmtplib
from pydantic import SecretStr

from bench.sample import rendered_reminders
from config.settings import SmtpSettings
from notifiers.email import EmailChannel, build_email
from tests.fakes.smtp import SmtpSink

BATCH = 300
NAIVE = 30
TARGET = 20.0
USER, PASSWORD = "dondoc", "mat-khau-bench"
NOW = datetime(2022, 11, 27, 2, 0, tzinfo=UTC)


def _certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A self-signed certificate and a trust bundle = the system's + that certificate."""
    cert, key, bundle = folder / "cert.pem", folder / "key.pem", folder / "bundle.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    system = Path(ssl.get_default_verify_paths().cafile or "")
    bundle.write_bytes((system.read_bytes() if system.is_file() else b"") + cert.read_bytes())
    return cert, key, bundle


def _serve(pipe: Connection, cert: str, key: str) -> None:
    """The mail server process: reports its port, serves until told to stop."""
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    with SmtpSink(users={USER: PASSWORD}, tls_context=server_tls, starttls=True) as sink:
        pipe.send(sink.port)
        pipe.recv()
        pipe.send((len(sink.messages), sink.connections))


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


async def _run(folder: Path) -> None:
    cert, key, bundle = _certificate(folder)
    # The process trust store, as in production, plus the test server's certificate.
    os.environ["SSL_CERT_FILE"] = str(bundle)
    rendered = rendered_reminders(BATCH)
    pipe, child_end = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(child_end, str(cert), str(key)), daemon=True
    )
    server.start()
    host, port = "127.0.0.1", pipe.recv()
    try:
        settings = SmtpSettings(
            host=host, port=port, username=USER, password=SecretStr(PASSWORD),
            security="starttls", sender="dondoc@vp-ubnd.tinhmau.example", timeout=30,
        )  # fmt: skip
        messages = [
            r.message(channel="email", address=f"co-quan-{n}@tinhmau.example",
                      message_key=f"bench:{n}", reply_to="vp-ubnd@tinhmau.example")
            for n, r in enumerate(rendered)
        ]  # fmt: skip

        channel = EmailChannel(settings)
        started = time.perf_counter()
        await channel.open()
        for message in messages:
            await channel.send(message)
        await channel.close()
        batch_rate = _rate(BATCH, time.perf_counter() - started)

        started = time.perf_counter()
        for n, message in enumerate(messages[:NAIVE]):
            email = build_email(
                message, sender=settings.sender, message_id=f"<naive.{n}@bench>", now=NOW
            )
            await aiosmtplib.send(
                email, hostname=host, port=port, start_tls=True,
                username=USER, password=PASSWORD, timeout=30,
            )  # fmt: skip
        naive_rate = _rate(NAIVE, time.perf_counter() - started)

        shared = ssl.create_default_context()
        started = time.perf_counter()
        for message in messages[:NAIVE]:
            await EmailChannel(settings, tls_context=shared).send(message)
        reconnect_rate = _rate(NAIVE, time.perf_counter() - started)
        pipe.send("stop")
        received, connections = pipe.recv()
    finally:
        server.join(10)
        if server.is_alive():
            server.terminate()

    ratio = batch_rate / naive_rate
    print("Email: reminders to aiosmtpd on 127.0.0.1 (STARTTLS + AUTH)")
    print(f"  EmailChannel, one connection per batch ({BATCH})  {batch_rate:8.1f} msg/s")
    print(f"  aiosmtplib.send(), a connection per message ({NAIVE})  {naive_rate:8.1f} msg/s")
    print(f"  a connection per message, TLS context reused ({NAIVE})  {reconnect_rate:8.1f} msg/s")
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"  batch / naive = {ratio:.1f}× (target ≥ {TARGET:.0f}×: {verdict})")
    print(
        f"  batch / TLS-context-reused = {batch_rate / reconnect_rate:.1f}× (pure connection cost)"
    )
    print(f"  delivered {received} emails over {connections} connections")


def main() -> None:
    if shutil.which("openssl") is None:
        print("Email benchmark skipped: openssl is needed for the STARTTLS certificate.")
        return
    previous = os.environ.get("SSL_CERT_FILE")
    try:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(_run(Path(folder)))
    finally:
        if previous is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous


if __name__ == "__main__":
    main()
