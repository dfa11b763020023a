"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fakes.smtp import SmtpSink
from pydantic import SecretStr

from config.settings import SmtpSettings, load_settings
from dondoc.clock import ManualClock
from notifiers.base import Attachment, ChannelError, OutgoingMessage
from notifiers.email import EmailChannel
from notifiers.registry import build_channels

if TYPE_CHECKING:
    from fakes.fixtures import TlsFiles, TlsPair

pytest_plugins = ["fakes.fixtures"]

SENDER = "dondoc@vp-ubnd.tinhmau.example"


def settings_for(sink: SmtpSink, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": sink.host,
        "port": sink.port,
        "sender": SENDER,
        "timeout": 5,
    }
    values.update(overrides)
    return SmtpSettings.model_validate(values)


def reminder(
    address: str = "so-noi-vu@tinhmau.example", key: str = "a12:before:-:0"
) -> OutgoingMessage:
    return OutgoingMessage(
        channel="email",
        address=address,
        subject="[Nhắc việc] STT 5 sắp đến hạn (còn 3 ngày) – nq131",
        text="Kính gửi: Sở Nội vụ\nTrả lời qua Telegram: https://t.me/dondoc_bot\n",
        html="<p>Kính gửi: Sở Nội vụ</p><p><a href='https://t.me/dondoc_bot'>Telegram</a></p>",
        message_key=key,
        reply_to="vp-ubnd@tinhmau.example",
    )


async def test_a_reminder_arrives_as_text_and_html_with_reply_to_the_office(
    smtp_sink: SmtpSink,
) -> None:
    clock = ManualClock(datetime(2022, 11, 25, 2, 0, tzinfo=UTC))
    channel = EmailChannel(settings_for(smtp_sink), clock=clock)
    await channel.open()
    provider_id = await channel.send(reminder())
    await channel.close()

    (mail,) = smtp_sink.wait_for(1)
    assert mail.recipients == ["so-noi-vu@tinhmau.example"]
    assert mail.sender == SENDER
    assert mail.subject == "[Nhắc việc] STT 5 sắp đến hạn (còn 3 ngày) – nq131"
    assert "https://t.me/dondoc_bot" in mail.text
    assert mail.html is not None and "Kính gửi: Sở Nội vụ" in mail.html
    assert mail.header("Reply-To") == "vp-ubnd@tinhmau.example"
    assert mail.header("Message-ID") == provider_id == "<a12-before---0@vp-ubnd.tinhmau.example>"
    assert mail.header("Auto-Submitted") == "auto-generated"
    assert mail.header("Date") == "Fri, 25 Nov 2022 02:00:00 +0000"


async def test_one_connection_carries_a_whole_batch(smtp_sink: SmtpSink) -> None:
    channel = EmailChannel(settings_for(smtp_sink))
    await channel.open()
    for n in range(5):
        await channel.send(reminder(key=f"k{n}"))
    await channel.close()

    assert len(smtp_sink.wait_for(5)) == 5
    assert smtp_sink.connections == 1
    assert channel.connections_opened == 1


async def test_a_connection_the_server_dropped_between_sends_is_reopened(
    smtp_sink: SmtpSink,
) -> None:
    channel = EmailChannel(settings_for(smtp_sink))
    await channel.open()
    await channel.send(reminder(key="first"))
    smtp_sink.drop_connections()
    await channel.send(reminder(key="second"))
    await channel.close()

    assert [m.header("Message-ID") for m in smtp_sink.wait_for(2)] == [
        "<first@vp-ubnd.tinhmau.example>",
        "<second@vp-ubnd.tinhmau.example>",
    ]
    assert smtp_sink.connections == 2


async def test_a_connection_dropped_in_the_middle_of_a_send_is_retried_once(
    smtp_sink: SmtpSink,
) -> None:
    channel = EmailChannel(settings_for(smtp_sink))
    await channel.open()
    smtp_sink.drop_on_next_mail()
    await channel.send(reminder())
    await channel.close()

    assert len(smtp_sink.wait_for(1)) == 1


async def test_a_server_that_keeps_dropping_gives_a_retryable_error(smtp_sink: SmtpSink) -> None:
    channel = EmailChannel(settings_for(smtp_sink))
    smtp_sink.drop_on_next_mail(times=2)
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder())
    assert not caught.value.permanent
    assert smtp_sink.messages == []


async def test_a_refused_recipient_is_a_permanent_error_for_that_address_only(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.refuse("khong-ton-tai@tinhmau.example")
    channel = EmailChannel(settings_for(smtp_sink))
    await channel.open()
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder("khong-ton-tai@tinhmau.example"))
    await channel.send(reminder("so-noi-vu@tinhmau.example"))
    await channel.close()

    assert caught.value.permanent
    assert "khong-ton-tai@tinhmau.example" in caught.value.message
    assert "550" in caught.value.message
    assert [m.recipients for m in smtp_sink.wait_for(1)] == [["so-noi-vu@tinhmau.example"]]
    assert smtp_sink.connections == 1


async def test_a_temporarily_refused_recipient_is_retried_later(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse("ban@tinhmau.example", code=450)
    with pytest.raises(ChannelError) as caught:
        await EmailChannel(settings_for(smtp_sink)).send(reminder("ban@tinhmau.example"))
    assert not caught.value.permanent


async def test_a_mail_server_that_is_down_gives_a_retryable_error_naming_it(
    smtp_sink: SmtpSink,
) -> None:
    settings = settings_for(smtp_sink, timeout=2)
    smtp_sink.stop()
    channel = EmailChannel(settings)
    await channel.open()  # opening a batch never fails: the sends report the problem
    with pytest.raises(ChannelError) as caught:
        await channel.send(reminder())
    assert not caught.value.permanent
    assert f"127.0.0.1:{settings.port}" in caught.value.message

    smtp_sink.start()
    await channel.send(reminder())
    await channel.close()
    assert len(smtp_sink.wait_for(1)) == 1


async def test_a_line_break_in_the_address_is_refused_before_sending(smtp_sink: SmtpSink) -> None:
    with pytest.raises(ChannelError) as caught:
        await EmailChannel(settings_for(smtp_sink)).send(
            reminder("a@tinhmau.example\r\nBcc: spy@evil.example")
        )
    assert caught.value.permanent
    assert smtp_sink.connections == 0


async def test_starttls_then_login_with_the_configured_account(tls_pair: TlsPair) -> None:
    users = {"dondoc": "mat-khau-bi-mat"}
    with SmtpSink(users=users, tls_context=tls_pair.server, starttls=True) as sink:
        settings = settings_for(
            sink, username="dondoc", password=SecretStr("mat-khau-bi-mat"), security="starttls"
        )
        await EmailChannel(settings, tls_context=tls_pair.client).send(reminder())
        assert sink.logins == [("dondoc", "mat-khau-bi-mat")]
        assert len(sink.wait_for(1)) == 1


async def test_a_login_on_a_plain_connection_is_refused_by_the_server_as_in_real_life(
    tls_pair: TlsPair,
) -> None:
    # The operator explicitly allowed it; a real server (and the fake) still says no.
    users = {"dondoc": "mat-khau-bi-mat"}
    with SmtpSink(users=users, tls_context=tls_pair.server) as sink:
        settings = settings_for(
            sink,
            username="dondoc",
            password=SecretStr("mat-khau-bi-mat"),
            allow_insecure_auth=True,
        )
        with pytest.raises(ChannelError) as caught:
            await EmailChannel(settings).send(reminder())
        assert sink.logins == [] and sink.messages == []
    assert not caught.value.permanent
    assert "mat-khau-bi-mat" not in caught.value.message


async def test_the_channel_never_sends_a_password_in_clear_unless_allowed(
    smtp_sink: SmtpSink,
) -> None:
    # Settings built without validation (a caller of the library) meet the same refusal.
    settings = SmtpSettings.model_construct(
        host=smtp_sink.host,
        port=smtp_sink.port,
        username="dondoc",
        password=SecretStr("mat-khau-bi-mat"),
        security="none",
        allow_insecure_auth=False,
        sender=SENDER,
        timeout=5,
    )
    with pytest.raises(ChannelError, match="DONDOC_SMTP__SECURITY"):
        await EmailChannel(settings).send(reminder())
    assert smtp_sink.messages == []


async def test_a_wrong_password_is_reported_without_the_password(tls_pair: TlsPair) -> None:
    with SmtpSink(users={"dondoc": "dung"}, tls_context=tls_pair.server, starttls=True) as sink:
        settings = settings_for(
            sink, username="dondoc", password=SecretStr("sai-mat-khau"), security="starttls"
        )
        with pytest.raises(ChannelError) as caught:
            await EmailChannel(settings, tls_context=tls_pair.client).send(reminder())
    assert not caught.value.permanent  # fix the settings and the queue drains
    assert "DONDOC_SMTP__PASSWORD" in caught.value.message
    assert "sai-mat-khau" not in caught.value.message
    assert "sai-mat-khau" not in repr(caught.value)


async def test_implicit_tls_with_login(tls_pair: TlsPair) -> None:
    users = {"dondoc": "mat-khau-bi-mat"}
    with SmtpSink(users=users, tls_context=tls_pair.server, implicit_tls=True) as sink:
        settings = settings_for(
            sink, username="dondoc", password=SecretStr("mat-khau-bi-mat"), security="tls"
        )
        await EmailChannel(settings, tls_context=tls_pair.client).send(reminder())
        assert sink.logins == [("dondoc", "mat-khau-bi-mat")]


def _client_context(tls: TlsFiles) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls.cert))


def _server_context(tls: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls.cert), str(tls.key))
    return context


async def test_starttls_upgrades_the_connection_before_sending(tls_files: TlsFiles) -> None:
    with SmtpSink(tls_context=_server_context(tls_files), starttls=True) as sink:
        settings = settings_for(sink, security="starttls")
        channel = EmailChannel(settings, tls_context=_client_context(tls_files))
        await channel.send(reminder())
        assert len(sink.wait_for(1)) == 1


async def test_a_server_that_requires_starttls_refuses_a_plain_sender(
    tls_files: TlsFiles,
) -> None:
    with SmtpSink(tls_context=_server_context(tls_files), starttls=True) as sink:
        with pytest.raises(ChannelError) as caught:
            await EmailChannel(settings_for(sink, security="none")).send(reminder())
        assert sink.messages == []
    assert not caught.value.permanent


async def test_implicit_tls_connects_encrypted_from_the_start(tls_files: TlsFiles) -> None:
    with SmtpSink(tls_context=_server_context(tls_files), implicit_tls=True) as sink:
        settings = settings_for(sink, security="tls")
        channel = EmailChannel(settings, tls_context=_client_context(tls_files))
        await channel.send(reminder())
        assert len(sink.wait_for(1)) == 1


async def test_attachments_travel_with_the_text_and_html(smtp_sink: SmtpSink) -> None:
    message = OutgoingMessage(
        channel="email",
        address="vp-ubnd@tinhmau.example",
        subject="[Báo cáo] Danh sách nhiệm vụ chậm tháng 03/2023",
        text="Kính gửi: Văn phòng UBND tỉnh",
        html="<p>Kính gửi: Văn phòng UBND tỉnh</p>",
        attachments=(
            Attachment("bao-cao-cham-2023-03.csv", "STT,Nhiệm vụ\n1,Ví dụ\n".encode(), "text/csv"),
        ),
        message_key="report:late:2023-03",
    )
    await EmailChannel(settings_for(smtp_sink)).send(message)

    (mail,) = smtp_sink.wait_for(1)
    assert mail.text.strip() == "Kính gửi: Văn phòng UBND tỉnh"
    assert mail.attachments() == [("bao-cao-cham-2023-03.csv", "STT,Nhiệm vụ\n1,Ví dụ\n".encode())]


async def test_the_date_header_is_in_the_offices_zone_whatever_the_clock_says(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    # The system clock (and a simulation after a store round trip) stands in UTC.
    settings = load_settings(
        data_dir=tmp_path, smtp={"host": smtp_sink.host, "port": smtp_sink.port, "sender": SENDER}
    )
    clock = ManualClock(datetime(2022, 11, 25, 2, 0, tzinfo=UTC))
    channel = build_channels(settings, clock=clock)["email"]
    await channel.send(reminder())
    (mail,) = smtp_sink.wait_for(1)
    assert mail.header("Date") == "Fri, 25 Nov 2022 09:00:00 +0700"
